// Shard snapshots on libraft's deterministic in-process fixture (simulated network, disk and
// clock): three ShardStateMachines, each over its own memory store and pipeline, snapshotting
// every 8 entries. A killed replica revived 40 entries later installs the leader's snapshot
// (files fetched from the leader's snapshot directory, verified) and ends with the same keys.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>

#include "cluster/fsm_bridge.h"
#include "cluster/proposer.h"
#include "cluster/raft_c.h"
#include "common/value_codec.h"
#include "replication/group_codec.h"
#include "replication/shard_snapshot.h"
#include "replication/shard_state_machine.h"
#include "table/keys.h"

extern "C" {
#include <raft/fixture.h>
}

namespace kalam::replication {
namespace {

namespace fs = std::filesystem;

struct Replica {
  Replica(cluster::NodeId id, const std::string& dir, SnapshotFetcher* fetcher)
      : seqs(id, Clock::System()), pipeline(*kv, seqs) {
    EXPECT_TRUE(pipeline.Start().ok());
    machine = std::make_unique<ShardStateMachine>(
        "shared", *kv, pipeline,
        [](catalog::TableId, uint32_t) -> Result<std::shared_ptr<const catalog::TableDef>> {
          return Status::NotFound("no records in these groups");
        });
    machine->EnableSnapshots({.dir = dir, .node = id, .fetcher = fetcher});
    EXPECT_TRUE(machine->Open().ok());
    bridge = std::make_unique<cluster::FsmBridge>(*machine);
  }

  std::map<std::pair<int, std::string>, std::string> All() {
    std::map<std::pair<int, std::string>, std::string> all;
    for (int p = 0; p < storage::kPartitionCount; ++p) {
      auto it = kv->NewIterator(static_cast<storage::Partition>(p));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        all[{p, std::string(it->key())}] = std::string(it->value());
      }
    }
    return all;
  }

  std::unique_ptr<storage::KvStore> kv = storage::NewMemoryStore();
  SnowflakeGenerator seqs;
  commit::CommitPipeline pipeline;
  std::unique_ptr<ShardStateMachine> machine;
  std::unique_ptr<cluster::FsmBridge> bridge;
};

class ShardSnapshotFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kalam_shard_fixture_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(raft_fixture_initialize(&f_), 0);
    for (unsigned i = 0; i < 3; ++i) {
      const cluster::NodeId id = i + 1;  // the fixture numbers servers 1..n
      const std::string root = dir_ + "/node" + std::to_string(id);
      fetcher_.SetRoot(id, root);
      replicas_.push_back(std::make_unique<Replica>(id, root, &fetcher_));
      ASSERT_EQ(raft_fixture_grow(&f_, replicas_.back()->bridge->fsm()), 0);
      replicas_.back()->bridge->Attach(raft_fixture_get(&f_, i));
      raft_set_snapshot_threshold(raft_fixture_get(&f_, i), 8);
      raft_set_snapshot_trailing(raft_fixture_get(&f_, i), 2);
    }
    raft_configuration conf;
    ASSERT_EQ(raft_fixture_configuration(&f_, 3, &conf), 0);
    ASSERT_EQ(raft_fixture_bootstrap(&f_, &conf), 0);
    raft_configuration_close(&conf);
    ASSERT_EQ(raft_fixture_start(&f_), 0);
  }
  void TearDown() override {
    raft_fixture_close(&f_);
    fs::remove_all(dir_);
  }

  bool StepUntil(const std::function<bool()>& stop, unsigned max_msecs = 30000) {
    auto trampoline = [](raft_fixture*, void* arg) {
      return (*static_cast<const std::function<bool()>*>(arg))();
    };
    return raft_fixture_step_until(&f_, trampoline, const_cast<std::function<bool()>*>(&stop),
                                   max_msecs);
  }

  // Commits, on replica 0 (the leader), a group writing row `n` (rows + pk keys, `_seq` 1000+n).
  void Commit(int n) {
    storage::WriteBatch batch;
    const int64_t seq = 1000 + n;
    batch.Put(storage::Partition::kRows, table::RowKey(7, "", seq), "v" + std::to_string(n));
    batch.Put(storage::Partition::kPk, table::PkKey(7, "", Value::Int(n % 5)),
              table::EncodePkEntry(seq, "v" + std::to_string(n)));
    std::string last;  // as the commit pipeline puts it into every group
    AppendOrderedU64(static_cast<uint64_t>(seq), &last);
    batch.Put(storage::Partition::kMeta, commit::kLastSeqKey, last);
    cluster::LogEntry entry{cluster::EntryKind::kCommitGroup, EncodeCommitGroup(batch, {}, seq)};
    bool done = false;
    cluster::ProposeOutcome outcome;
    cluster::Propose(raft_fixture_get(&f_, 0), entry, [&](cluster::ProposeOutcome o) {
      outcome = std::move(o);
      done = true;
    });
    ASSERT_TRUE(StepUntil([&] { return done; }));
    ASSERT_EQ(outcome.kind, cluster::ProposeOutcome::Kind::kCommitted);
  }

  std::string dir_;
  raft_fixture f_{};
  DirectorySnapshotFetcher fetcher_;
  std::vector<std::unique_ptr<Replica>> replicas_;
};

TEST_F(ShardSnapshotFixtureTest, ARevivedReplicaInstallsTheLeadersSnapshot) {
  raft_fixture_elect(&f_, 0);
  for (int n = 0; n < 5; ++n) Commit(n);
  raft_fixture_kill(&f_, 2);
  for (int n = 5; n < 45; ++n) Commit(n);
  EXPECT_GT(replicas_[0]->machine->snapshots_taken(), 0u);
  raft_fixture_revive(&f_, 2);
  ASSERT_TRUE(StepUntil([&] {
    return replicas_[2]->machine->applied_index() == replicas_[0]->machine->applied_index();
  }));
  EXPECT_GE(replicas_[2]->machine->snapshots_restored(), 1u);
  EXPECT_FALSE(replicas_[2]->bridge->failure().has_value());
  EXPECT_EQ(replicas_[2]->All(), replicas_[0]->All());
  EXPECT_GT(replicas_[2]->seqs.Next(), 1044);
  // Entries after the snapshot apply as usual.
  Commit(45);
  ASSERT_TRUE(StepUntil([&] {
    return replicas_[2]->machine->applied_index() == replicas_[0]->machine->applied_index();
  }));
  EXPECT_EQ(replicas_[2]->All(), replicas_[0]->All());
  EXPECT_EQ(replicas_[1]->All(), replicas_[0]->All());
}

}  // namespace
}  // namespace kalam::replication
