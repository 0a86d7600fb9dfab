// The replicated commit path end to end, in one process: three nodes on 127.0.0.1, each with its
// own RocksDB (temp dir), its own CommitPipeline wired to a ReplicatedWriter, a ShardStateMachine
// and a NodeRuntime. Commits from many threads on the leader; identical KV contents and identical
// published `_seq` order on every node; the leader stopped under load with every acknowledged
// commit on both survivors; the stopped node restarted, replaying and converging.
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
#include <thread>

#include "cluster/node_runtime.h"
#include "cluster/shard_router.h"
#include "commit/commit_pipeline.h"
#include "replication/replicated_writer.h"
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

std::shared_ptr<const catalog::TableDef> MakeTable() {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = 7;
  d->namespace_id = "ns";
  d->table_name = "t";
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

class ReplicatedCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/kalam_replicated_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (NodeId id = 1; id <= 3; ++id) peers_.push_back(cluster::Peer{id, "127.0.0.1", FreePort()});
    for (int n = 0; n < 3; ++n) nodes_.push_back(std::make_unique<Node>());
  }

  void TearDown() override {
    for (auto& node : nodes_) node->Stop();
    fs::remove_all(dir_);
  }

  void StartNode(int n) {
    Node& node = *nodes_[n];
    node.id = static_cast<NodeId>(n + 1);
    node.dir = (fs::path(dir_) / ("node" + std::to_string(n + 1))).string();
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
    node.pipeline->AddListener([&node](const std::vector<table::ChangeRecord>& records) {
      std::lock_guard lock(node.seen_mu);
      for (const auto& r : records) node.seen.push_back(Seen{r.seq, r.values[0].as_int(), r.kind});
    });
    ASSERT_TRUE(node.pipeline->Start().ok());
    auto table = table_;
    node.machine = std::make_unique<ShardStateMachine>(
        "shared", *node.kv, *node.pipeline,
        [table](catalog::TableId id,
                uint32_t version) -> Result<std::shared_ptr<const catalog::TableDef>> {
          if (id == table->table_id && version == table->schema_version) return table;
          return Status::NotFound("unknown table");
        });
    ASSERT_TRUE(node.machine->Open().ok());
    cluster::GroupSpec spec;
    spec.options.id = node.id;
    spec.options.peers = peers_;
    spec.options.dir = node.dir + "/raft";
    spec.options.snapshot_threshold = 1u << 30;  // ShardStateMachine has no snapshots yet
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
                       bool live = true) {
    table::StagedRow r;
    r.table = table_;
    r.pk = Value::Int(id);
    r.pk_key = table::PkKey(table_->table_id, "", r.pk);
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
  void ExpectConverged(int leader) {
    const cluster::LogIndex target = nodes_[leader]->machine->applied_index();
    ASSERT_TRUE(WaitFor([&] {
      for (auto& node : nodes_) {
        if (node->runtime && node->machine->applied_index() < target) return false;
      }
      return true;
    }));
    for (int n = 0; n < 3; ++n) {
      if (!nodes_[n]->runtime) continue;
      EXPECT_EQ(nodes_[n]->machine->applied_index(), target) << "node " << n;
      EXPECT_EQ(Digest(n), Digest(leader)) << "node " << n;
    }
  }

  std::string dir_;
  std::vector<cluster::Peer> peers_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::shared_ptr<const catalog::TableDef> table_ = MakeTable();
};

TEST_F(ReplicatedCommitTest, ReplicatesFailsOverAndReplays) {
  for (int n = 0; n < 3; ++n) StartNode(n);
  int leader = AwaitLeader();
  ASSERT_GE(leader, 0);

  // 1. Eight threads commit on the leader: inserts of two rows, then an update and a delete.
  constexpr int kThreads = 8, kPerThread = 30;
  std::mutex acked_mu;
  std::map<int64_t, int64_t> acked;  // row id → acknowledged `_seq` (0: deleted)
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t a = t * 100000 + i * 2, b = a + 1;
        table::WriteSet ws;
        ws.Stage(Row(a, "a"));
        ws.Stage(Row(b, "b"));
        auto seqs = nodes_[leader]->pipeline->Commit(ws);
        if (!seqs.ok()) {
          ++failures;
          continue;
        }
        table::WriteSet change;
        change.Stage(Row(a, "a2", (*seqs)[0], true));
        change.Stage(Row(b, "", (*seqs)[1], true, false));
        auto changed = nodes_[leader]->pipeline->Commit(change);
        if (!changed.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(acked_mu);
        acked[a] = (*changed)[0];
        acked[b] = 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(acked.size(), size_t{kThreads * kPerThread * 2});

  // A follower refuses, naming the leader, and writes nothing.
  const int follower = (leader + 1) % 3;
  table::WriteSet refused;
  refused.Stage(Row(-1, "x"));
  auto no = nodes_[follower]->pipeline->Commit(refused);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(no.status().message(), "Not leader for shard. Leader: " + peers_[leader].address());

  ExpectConverged(leader);
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(SeqOf(n, -1), 0) << "node " << n;
    for (const auto& [id, seq] : acked) {
      if (seq != 0) {
        ASSERT_EQ(SeqOf(n, id), seq) << "node " << n << " row " << id;
      }
    }
  }
  // Every node's listener saw the same changes, in strictly increasing `_seq` order: 2 inserts,
  // an update and a delete per commit pair.
  const auto reference = nodes_[leader]->Published();
  ASSERT_EQ(reference.size(), size_t{kThreads * kPerThread * 4});
  for (size_t i = 1; i < reference.size(); ++i) ASSERT_LT(reference[i - 1].seq, reference[i].seq);
  for (int n = 0; n < 3; ++n) {
    EXPECT_TRUE(WaitFor([&] { return nodes_[n]->Published().size() == reference.size(); }));
    EXPECT_EQ(nodes_[n]->Published(), reference) << "node " << n;
  }

  // 2. Stop the leader under load: four threads insert fresh rows until their node is gone.
  std::map<int64_t, int64_t> acked_inserts;
  std::vector<Status> errors;
  std::atomic<bool> stop_load{false};
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop_load.load(); ++i) {
        const int64_t id = 1000000 + t * 100000 + i;
        table::WriteSet ws;
        ws.Stage(Row(id, "load"));
        auto seqs = nodes_[leader]->pipeline->Commit(ws);
        std::lock_guard lock(acked_mu);
        if (seqs.ok()) {
          acked_inserts[id] = (*seqs)[0];
        } else {
          errors.push_back(seqs.status());
          return;
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(acked_mu);
    return acked_inserts.size() >= 40;
  }));
  const auto stopped_at = Clock::now();
  nodes_[leader]->runtime->Stop();  // Raft gone: in-flight commits end in doubt
  stop_load = true;
  for (auto& th : threads) th.join();
  nodes_[leader]->Stop();
  const int old_leader = leader;
  // Each failed commit failed as unavailable: in doubt, or refused before it was appended.
  for (const Status& s : errors) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    const bool in_doubt = s.message().rfind("The commit's outcome is unknown (", 0) == 0;
    const bool refused = s.message() == "The node is shutting down" ||
                         s.message() == "Server is shutting down";
    EXPECT_TRUE(in_doubt || refused) << s.message();
  }

  std::printf("under load: %zu commits acknowledged, %zu failed when the leader stopped\n",
              acked_inserts.size(), errors.size());
  leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  ASSERT_NE(leader, old_leader);
  std::printf("replicated commit failover ms (election_timeout 1000): %.0f\n",
              std::chrono::duration<double, std::milli>(Clock::now() - stopped_at).count());
  for (int i = 0; i < 50; ++i) {
    table::WriteSet ws;
    ws.Stage(Row(5000000 + i, "after"));
    auto seqs = nodes_[leader]->pipeline->Commit(ws);
    ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
    acked_inserts[5000000 + i] = (*seqs)[0];
  }
  ExpectConverged(leader);
  for (int n = 0; n < 3; ++n) {
    if (!nodes_[n]->runtime) continue;
    for (const auto& [id, seq] : acked_inserts) {
      ASSERT_EQ(SeqOf(n, id), seq) << "node " << n << " row " << id;
    }
    for (const auto& [id, seq] : acked) {
      if (seq != 0) {
        ASSERT_EQ(SeqOf(n, id), seq) << "node " << n << " row " << id;
      }
    }
  }
  // The survivors published the same changes in the same order, `_seq` still increasing across
  // the change of leader.
  const int other = 3 - leader - old_leader;
  EXPECT_TRUE(WaitFor([&] {
    return nodes_[other]->Published().size() == nodes_[leader]->Published().size();
  }));
  const auto after = nodes_[leader]->Published();
  EXPECT_EQ(nodes_[other]->Published(), after);
  for (size_t i = 1; i < after.size(); ++i) ASSERT_LT(after[i - 1].seq, after[i].seq);

  // 3. The stopped node restarts from its RocksDB and Raft log: entries it had applied are
  // skipped, the rest applied; it converges to the same bytes.
  StartNode(old_leader);
  ExpectConverged(leader);
  EXPECT_GT(nodes_[old_leader]->machine->replays_skipped(), 0u);
  for (const auto& [id, seq] : acked_inserts) {
    ASSERT_EQ(SeqOf(old_leader, id), seq) << "row " << id;
  }
  // It publishes only what it applied after the restart: a suffix of the survivors' stream.
  const auto replayed = nodes_[old_leader]->Published();
  ASSERT_LE(replayed.size(), after.size());
  EXPECT_TRUE(std::equal(replayed.begin(), replayed.end(), after.end() - replayed.size()));
  EXPECT_EQ(replayed.back().id, 5000049);
}

TEST_F(ReplicatedCommitTest, ACommitNoMajorityConfirmsEndsOutcomeUnknown) {
  for (int n = 0; n < 3; ++n) StartNode(n);
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  table::WriteSet first;
  first.Stage(Row(1, "first"));
  ASSERT_TRUE(nodes_[leader]->pipeline->Commit(first).ok());  // the leader is ready this term
  // Both followers die: the next group is appended on the leader alone and can never be
  // confirmed; the leader steps down after an election timeout without a majority.
  for (int n = 0; n < 3; ++n) {
    if (n != leader) nodes_[n]->Stop();
  }
  table::WriteSet second;
  second.Stage(Row(2, "second"));
  auto seqs = nodes_[leader]->pipeline->Commit(second);
  ASSERT_FALSE(seqs.ok());
  EXPECT_EQ(seqs.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(seqs.status().message().rfind("The commit's outcome is unknown (", 0), 0u)
      << seqs.status().message();
  EXPECT_NE(seqs.status().message().find(
                "): it may still be written by the new leader. Check for it before retrying"),
            std::string::npos)
      << seqs.status().message();
  EXPECT_EQ(SeqOf(leader, 2), 0);  // not applied here: never committed
  EXPECT_NE(SeqOf(leader, 1), 0);
  // Without a leader, the next commit is refused before anything is appended.
  table::WriteSet third;
  third.Stage(Row(3, "third"));
  auto refused = nodes_[leader]->pipeline->Commit(third);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "Not leader for shard. Leader unknown");
}

TEST_F(ReplicatedCommitTest, AStoppedRuntimeFailsTheCommitWithNothingWritten) {
  StartNode(0);
  nodes_[0]->runtime->Stop();
  table::WriteSet ws;
  ws.Stage(Row(1, "x"));
  auto seqs = nodes_[0]->pipeline->Commit(ws);
  ASSERT_FALSE(seqs.ok());
  EXPECT_EQ(seqs.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(seqs.status().message(), "The node is shutting down");
  EXPECT_EQ(SeqOf(0, 1), 0);
  EXPECT_TRUE(nodes_[0]->Published().empty());
}

}  // namespace
}  // namespace kalam::replication
