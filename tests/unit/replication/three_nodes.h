// Three in-process nodes on 127.0.0.1 for the replication tests: each with its own RocksDB (temp
// dir), CommitPipeline wired to a ReplicatedWriter, ShardStateMachine and NodeRuntime, one group
// ("shared"). Included by one test file each (everything is in an anonymous namespace).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/node_runtime.h"
#include "cluster/shard_router.h"
#include "commit/commit_pipeline.h"
#include "replication/replicated_writer.h"
#include "replication/shard_snapshot.h"
#include "replication/shard_state_machine.h"
#include "table/keys.h"
#include "table/row_codec.h"

namespace kalam::replication {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using cluster::NodeId;

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

std::shared_ptr<const catalog::TableDef> MakeTable(catalog::TableId table_id = 7,
                                                   std::string name = "t") {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = table_id;
  d->namespace_id = "ns";
  d->table_name = std::move(name);
  d->type = catalog::TableType::kShared;
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

bool WaitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = Clock::now() + timeout;
  while (!cond()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// One published change as a listener saw it.
struct Seen {
  int64_t seq;
  int64_t id;
  table::ChangeKind kind;
  bool operator==(const Seen&) const = default;
};

// What one node's catalog knows, as its resolver sees it: tables by id, and ids it knows were
// dropped. A test changes it to make one node's meta replica lag (held entries) or drop a table.
struct NodeCatalog {
  std::mutex mu;
  std::map<catalog::TableId, std::shared_ptr<const catalog::TableDef>> tables;  // guarded by mu
  std::set<catalog::TableId> dropped;                                             // guarded by mu

  void Add(std::shared_ptr<const catalog::TableDef> def) {
    std::lock_guard lock(mu);
    tables[def->table_id] = std::move(def);
  }
  void Drop(catalog::TableId id) {
    std::lock_guard lock(mu);
    tables.erase(id);
    dropped.insert(id);
  }
  // The server's resolver contract (group_codec.h): kTableNotFound for a dropped table,
  // kUnavailable for one not known yet.
  Result<std::shared_ptr<const catalog::TableDef>> Resolve(catalog::TableId id, uint32_t version) {
    std::lock_guard lock(mu);
    if (dropped.count(id) != 0) {
      return Status::TableNotFound("Table id " + std::to_string(id) + " was dropped");
    }
    auto it = tables.find(id);
    if (it != tables.end() && it->second->schema_version == version) return it->second;
    return Status::Unavailable("Table id " + std::to_string(id) + " version " +
                               std::to_string(version) + " is not in this node's catalog yet");
  }
};

// One node: store, pipeline, state machine, runtime and writer, started and stopped together.
struct Node {
  NodeId id = 0;
  std::string dir;
  std::unique_ptr<storage::KvStore> kv;
  std::unique_ptr<SnowflakeGenerator> seqs;
  std::unique_ptr<commit::CommitPipeline> pipeline;
  std::unique_ptr<ShardStateMachine> machine;
  std::unique_ptr<cluster::NodeRuntime> runtime;
  std::unique_ptr<ReplicatedWriter> writer;
  std::mutex seen_mu;
  std::vector<Seen> seen;  // guarded by seen_mu

  std::vector<Seen> Published() {
    std::lock_guard lock(seen_mu);
    return seen;
  }
  // Dies as a killed process would (no orderly hand-over): Raft first, then the rest.
  void Stop() {
    if (runtime) runtime->Stop();
    if (pipeline) pipeline->Stop();
    writer.reset();
    runtime.reset();
    machine.reset();
    pipeline.reset();
    kv.reset();
  }
};

class ThreeNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/kalam_replicated_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (NodeId id = 1; id <= 3; ++id) peers_.push_back(cluster::Peer{id, "127.0.0.1", FreePort()});
    for (int n = 0; n < 3; ++n) nodes_.push_back(std::make_unique<Node>());
    for (int n = 0; n < 3; ++n) fetcher_.SetRoot(NodeId(n + 1), SnapshotDir(n));
    for (auto& cat : catalogs_) cat.Add(table_);
  }

  std::string NodeDir(int n) const {
    return (fs::path(dir_) / ("node" + std::to_string(n + 1))).string();
  }
  std::string SnapshotDir(int n) const { return NodeDir(n) + "/snap"; }

  void TearDown() override {
    for (auto& node : nodes_) node->Stop();
    fs::remove_all(dir_);
  }

  void StartNode(int n) {
    Node& node = *nodes_[n];
    node.id = static_cast<NodeId>(n + 1);
    node.dir = NodeDir(n);
    fs::create_directories(node.dir);
    auto kv = storage::OpenRocksStore(node.dir + "/db", storage::RocksOptions{});
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    node.kv = std::move(kv).value();
    node.seqs = std::make_unique<SnowflakeGenerator>(node.id, kalam::Clock::System());
    node.pipeline = std::make_unique<commit::CommitPipeline>(*node.kv, *node.seqs);
    {
      std::lock_guard lock(node.seen_mu);
      node.seen.clear();
    }
    if (configure_) configure_(n, *node.pipeline, *node.kv);
    node.pipeline->AddListener([&node](const std::vector<table::ChangeRecord>& records) {
      std::lock_guard lock(node.seen_mu);
      for (const auto& r : records) node.seen.push_back(Seen{r.seq, r.values[0].as_int(), r.kind});
    });
    ASSERT_TRUE(node.pipeline->Start().ok());
    NodeCatalog* cat = &catalogs_[n];
    node.machine = std::make_unique<ShardStateMachine>(
        "shared", *node.kv, *node.pipeline,
        [cat](catalog::TableId id, uint32_t version) { return cat->Resolve(id, version); });
    if (snapshots_) {
      ShardSnapshotOptions snap;
      snap.dir = SnapshotDir(n);
      snap.node = node.id;
      snap.fetcher = &fetcher_;
      node.machine->EnableSnapshots(std::move(snap));
    }
    ASSERT_TRUE(node.machine->Open().ok());
    cluster::GroupSpec spec;
    spec.options.id = node.id;
    spec.options.peers = peers_;
    spec.options.dir = node.dir + "/raft";
    if (snapshots_) {
      spec.options.snapshot_threshold = kSnapshotThreshold;
      spec.options.snapshot_trailing = kSnapshotTrailing;
      spec.options.segment_size_bytes = 32 << 10;  // small segments, so old ones get deleted
      spec.options.install_snapshot_timeout = std::chrono::milliseconds(1000);
    } else {
      spec.options.snapshot_threshold = 1u << 30;  // the log kept whole
    }
    spec.machine = node.machine.get();
    auto runtime = cluster::NodeRuntime::Start({spec});
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    node.runtime = std::move(runtime).value();
    node.writer = std::make_unique<ReplicatedWriter>(*node.runtime, 0, *node.machine);
    node.pipeline->SetGroupWriter(node.writer.get());
  }

  int StableLeader() {
    int leader = -1;
    for (int n = 0; n < 3; ++n) {
      if (nodes_[n]->runtime && nodes_[n]->runtime->View(0).leader) leader = n;
    }
    if (leader < 0) return -1;
    for (int n = 0; n < 3; ++n) {
      if (nodes_[n]->runtime && nodes_[n]->runtime->View(0).leader_id != NodeId(leader + 1)) {
        return -1;
      }
    }
    return leader;
  }

  int AwaitLeader() {
    int leader = -1;
    EXPECT_TRUE(WaitFor([&] { return (leader = StableLeader()) >= 0; }));
    return leader;
  }

  table::StagedRow Row(int64_t id, std::string v, int64_t base_seq = 0, bool base_live = false,
                       bool live = true, std::shared_ptr<const catalog::TableDef> table = nullptr) {
    if (!table) table = table_;
    table::StagedRow r;
    r.table = table;
    r.pk = Value::Int(id);
    r.pk_key = table::PkKey(table->table_id, "", r.pk);
    r.live = live;
    r.values = {Value::Int(id), Value::Text(std::move(v))};
    r.base_seq = base_seq;
    r.base_live = base_live;
    if (base_live) r.base_values = {Value::Int(id), Value::Text("before")};
    return r;
  }

  // Every KV pair of every partition of node n, hashed in key order.
  uint64_t Digest(int n) {
    std::string all;
    for (int p = 0; p < storage::kPartitionCount; ++p) {
      auto it = nodes_[n]->kv->NewIterator(static_cast<storage::Partition>(p));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        all += std::to_string(p) + ":" + std::string(it->key()) + "=" + std::string(it->value()) + ";";
      }
      EXPECT_TRUE(it->status().ok());
    }
    return cluster::Fnv1a64(all);
  }

  // The `_seq` of the newest version of row `id` on node n (0 when absent).
  int64_t SeqOf(int n, int64_t id) {
    auto entry = nodes_[n]->kv->Get(storage::Partition::kPk,
                                    table::PkKey(table_->table_id, "", Value::Int(id)));
    EXPECT_TRUE(entry.ok());
    if (!entry.ok() || !*entry) return 0;
    int64_t seq = 0;
    std::string_view bytes;
    EXPECT_TRUE(table::SplitPkEntry(**entry, &seq, &bytes));
    return seq;
  }

  // Every running node applied as far as node `leader`, and holds the same bytes and saw the
  // same published changes in the same order.
  // Whether every running node applied at least `target`.
  bool AllAppliedTo(cluster::LogIndex target) const {
    for (const auto& node : nodes_) {
      if (node->runtime && node->machine->applied_index() < target) return false;
    }
    return true;
  }

  void ExpectConverged(int leader) {
    const cluster::LogIndex target = nodes_[leader]->machine->applied_index();
    ASSERT_TRUE(WaitFor([&] { return AllAppliedTo(target); }));
    for (int n = 0; n < 3; ++n) {
      if (!nodes_[n]->runtime) continue;
      EXPECT_EQ(nodes_[n]->machine->applied_index(), target) << "node " << n;
      EXPECT_EQ(Digest(n), Digest(leader)) << "node " << n;
    }
  }

  // Snapshots on (set before StartNode): libraft snapshots every kSnapshotThreshold entries and
  // keeps kSnapshotTrailing behind, so a node more than that behind needs a snapshot.
  static constexpr unsigned kSnapshotThreshold = 64;
  static constexpr unsigned kSnapshotTrailing = 32;
  bool snapshots_ = false;
  // Called by StartNode with each node's new pipeline and store, before the pipeline starts (set
  // before StartNode): e.g. to give it a cold store.
  std::function<void(int n, commit::CommitPipeline&, storage::KvStore&)> configure_;
  DirectorySnapshotFetcher fetcher_;  // roots set in SetUp, read from the loop threads after

  std::string dir_;
  std::vector<cluster::Peer> peers_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::shared_ptr<const catalog::TableDef> table_ = MakeTable();
  NodeCatalog catalogs_[3];  // node n's resolver reads catalogs_[n]; every one knows table_
};

}  // namespace
}  // namespace kalam::replication
