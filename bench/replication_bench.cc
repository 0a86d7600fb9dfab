// replication_bench: commit throughput and latency of the commit pipeline on one node (RocksDB,
// the direct write) against the same pipeline replicated through Raft by three in-process nodes
// on 127.0.0.1 (each with its own RocksDB and Raft log; ReplicatedWriter + ShardStateMachine).
// Usage: replication_bench [threads=8] [seconds=5]. Prints one line per mode.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/node_runtime.h"
#include "commit/commit_pipeline.h"
#include "replication/replicated_writer.h"
#include "replication/shard_state_machine.h"
#include "table/keys.h"

namespace {

namespace fs = std::filesystem;
using namespace kalam;
using Clock = std::chrono::steady_clock;

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) std::abort();
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) std::abort();
  close(fd);
  return ntohs(addr.sin_port);
}

std::shared_ptr<const catalog::TableDef> MakeTable() {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = 7;
  d->namespace_id = "ns";
  d->table_name = "t";
  catalog::ColumnDef id;
  id.column_id = 1;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  catalog::ColumnDef v;
  v.column_id = 2;
  v.name = "v";
  v.type = DataType{TypeKind::kText};
  d->columns = {id, v};
  return d;
}

struct Node {
  std::unique_ptr<storage::KvStore> kv;
  std::unique_ptr<SnowflakeGenerator> seqs;
  std::unique_ptr<commit::CommitPipeline> pipeline;
  std::unique_ptr<replication::ShardStateMachine> machine;
  std::unique_ptr<cluster::NodeRuntime> runtime;
  std::unique_ptr<replication::ReplicatedWriter> writer;
  void Stop() {
    if (pipeline) pipeline->Stop();
    if (runtime) runtime->Stop();
  }
};

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

Node OpenNode(const std::string& dir, uint32_t id,
              const std::shared_ptr<const catalog::TableDef>& table) {
  Node node;
  fs::create_directories(dir);
  auto kv = storage::OpenRocksStore(dir + "/db", storage::RocksOptions{});
  Check(kv.status(), "open");
  node.kv = std::move(kv).value();
  node.seqs = std::make_unique<SnowflakeGenerator>(id, kalam::Clock::System());
  node.pipeline = std::make_unique<commit::CommitPipeline>(*node.kv, *node.seqs);
  Check(node.pipeline->Start(), "start");
  node.machine = std::make_unique<replication::ShardStateMachine>(
      "shared", *node.kv, *node.pipeline,
      [table](catalog::TableId, uint32_t) -> Result<std::shared_ptr<const catalog::TableDef>> {
        return table;
      });
  Check(node.machine->Open(), "machine");
  return node;
}

// Runs `threads` committers on `pipeline` for `seconds`; prints commits/s and latency.
void Drive(const char* mode, commit::CommitPipeline& pipeline,
           const std::shared_ptr<const catalog::TableDef>& table, int threads, int seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(threads);
  std::atomic<uint64_t> failed{0};
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int64_t i = 0; !stop.load(); ++i) {
        table::StagedRow r;
        r.table = table;
        r.pk = Value::Int(int64_t{t} * 100000000 + i);
        r.pk_key = table::PkKey(table->table_id, "", r.pk);
        r.live = true;
        r.values = {r.pk, Value::Text("message body of a typical chat row")};
        table::WriteSet ws;
        ws.Stage(std::move(r));
        const auto begin = Clock::now();
        auto seqs = pipeline.Commit(ws);
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - begin).count());
        if (!seqs.ok()) ++failed;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
  const auto stats = pipeline.stats();
  std::printf("%-22s threads=%d commits=%zu (%.0f/s) failed=%llu groups=%llu p50=%.0fus p99=%.0fus\n",
              mode, threads, all.size(), all.size() / elapsed,
              static_cast<unsigned long long>(failed.load()),
              static_cast<unsigned long long>(stats.groups), pct(0.5), pct(0.99));
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const int threads = argc > 1 ? std::atoi(argv[1]) : 8;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  char tmpl[] = "/tmp/kalam_replication_bench_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return 1;
  const std::string dir = tmpl;
  auto table = MakeTable();
  {
    Node single = OpenNode(dir + "/single", 1, table);
    Drive("single node", *single.pipeline, table, threads, seconds);
    single.Stop();
  }
  std::vector<cluster::Peer> peers;
  for (cluster::NodeId id = 1; id <= 3; ++id) peers.push_back({id, "127.0.0.1", FreePort()});
  std::vector<Node> nodes;
  for (uint32_t id = 1; id <= 3; ++id) {
    Node node = OpenNode(dir + "/node" + std::to_string(id), id, table);
    cluster::GroupSpec spec;
    spec.options.id = id;
    spec.options.peers = peers;
    spec.options.dir = dir + "/node" + std::to_string(id) + "/raft";
    spec.options.snapshot_threshold = 1u << 30;
    spec.machine = node.machine.get();
    auto runtime = cluster::NodeRuntime::Start({spec});
    Check(runtime.status(), "runtime");
    node.runtime = std::move(runtime).value();
    node.writer = std::make_unique<replication::ReplicatedWriter>(*node.runtime, 0, *node.machine);
    node.pipeline->SetGroupWriter(node.writer.get());
    nodes.push_back(std::move(node));
  }
  int leader = -1;
  for (int wait = 0; wait < 2000 && leader < 0; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (int n = 0; n < 3; ++n) {
      if (nodes[n].runtime->View(0).leader) leader = n;
    }
  }
  if (leader < 0) {
    std::fprintf(stderr, "no leader elected\n");
    return 1;
  }
  Drive("3 replicas (loopback)", *nodes[leader].pipeline, table, threads, seconds);
  for (auto& node : nodes) node.Stop();
  nodes.clear();
  fs::remove_all(dir);
  return 0;
}
