// ShardStateMachine without Raft: the applied index stored with the group's writes, replays
// skipped, change records published, bad entries refused with nothing written.
#include "replication/shard_state_machine.h"

#include <gtest/gtest.h>

#include "common/value_codec.h"
#include "table/keys.h"

namespace kalam::replication {
namespace {

class ShardStateMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = std::make_shared<catalog::TableDef>();
    d->table_id = 7;
    table_ = d;
    ASSERT_TRUE(pipeline_.Start().ok());
    pipeline_.AddListener([this](const std::vector<table::ChangeRecord>& records) {
      for (const auto& r : records) published_.push_back(r.seq);
    });
  }

  ShardStateMachine Machine() {
    auto table = table_;
    return ShardStateMachine(
        "user_3", *kv_, pipeline_,
        [table](catalog::TableId id, uint32_t) -> Result<std::shared_ptr<const catalog::TableDef>> {
          if (id == table->table_id) return table;
          return Status::NotFound("unknown table");
        });
  }

  // A commit group writing rows/<seq> = v with one insert record.
  cluster::LogEntry Group(int64_t seq, const std::string& v) {
    storage::WriteBatch batch;
    batch.Put(storage::Partition::kRows, "row/" + std::to_string(seq), v);
    table::ChangeRecord rec;
    rec.table = table_;
    rec.seq = seq;
    rec.values = {Value::Text(v)};
    return {cluster::EntryKind::kCommitGroup, EncodeCommitGroup(batch, {rec}, seq)};
  }

  std::optional<std::string> Get(storage::Partition p, const std::string& key) {
    auto v = kv_->Get(p, key);
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : std::nullopt;
  }

  uint64_t StoredIndex() {
    auto v = Get(storage::Partition::kMeta, "raft_applied/user_3");
    if (!v) return 0;
    std::string_view in = *v;
    uint64_t index = 0;
    EXPECT_TRUE(ReadOrderedU64(&in, &index));
    return index;
  }

  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  SnowflakeGenerator seqs_{1, Clock::System()};
  commit::CommitPipeline pipeline_{*kv_, seqs_};
  std::shared_ptr<const catalog::TableDef> table_;
  std::vector<int64_t> published_;
};

TEST_F(ShardStateMachineTest, StoresTheIndexWithTheWritesAndSkipsReplays) {
  EXPECT_EQ(AppliedIndexKey("user_3"), "raft_applied/user_3");
  {
    ShardStateMachine machine = Machine();
    ASSERT_TRUE(machine.Open().ok());
    EXPECT_EQ(machine.applied_index(), 0u);
    ASSERT_TRUE(machine.Apply(3, Group(100, "a")).ok());
    ASSERT_TRUE(machine.Apply(5, Group(200, "b")).ok());
    EXPECT_EQ(machine.applied_index(), 5u);
    EXPECT_EQ(StoredIndex(), 5u);
    EXPECT_EQ(Get(storage::Partition::kRows, "row/200"), "b");
    EXPECT_EQ(published_, (std::vector<int64_t>{100, 200}));
    // The pipeline's `_seq`s now start above the applied groups'.
    EXPECT_GT(seqs_.Next(), 200);
    EXPECT_EQ(pipeline_.TakeReadPoint().seq, 200);
  }
  // A restarted replica: libraft replays from the start; what is stored is skipped.
  ShardStateMachine machine = Machine();
  ASSERT_TRUE(machine.Open().ok());
  EXPECT_EQ(machine.applied_index(), 5u);
  ASSERT_TRUE(machine.Apply(3, Group(100, "changed")).ok());
  ASSERT_TRUE(machine.Apply(5, Group(200, "changed")).ok());
  EXPECT_EQ(machine.replays_skipped(), 2u);
  EXPECT_EQ(Get(storage::Partition::kRows, "row/100"), "a");
  EXPECT_EQ(published_.size(), 2u);
  ASSERT_TRUE(machine.Apply(6, Group(300, "c")).ok());
  EXPECT_EQ(StoredIndex(), 6u);
  EXPECT_EQ(published_, (std::vector<int64_t>{100, 200, 300}));
}

TEST_F(ShardStateMachineTest, RefusesBadEntriesWritingNothing) {
  ShardStateMachine machine = Machine();
  ASSERT_TRUE(machine.Open().ok());
  Status s = machine.Apply(1, cluster::LogEntry{cluster::EntryKind::kCatalogChange, "x"});
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message(), "Raft entry 1 of a shard group is not a commit group");
  cluster::LogEntry truncated = Group(100, "a");
  truncated.payload.pop_back();
  s = machine.Apply(2, truncated);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(machine.applied_index(), 0u);
  EXPECT_EQ(StoredIndex(), 0u);
  EXPECT_FALSE(Get(storage::Partition::kRows, "row/100").has_value());
  EXPECT_TRUE(published_.empty());

  // Snapshots not enabled (EnableSnapshots): refused, so libraft keeps the log.
  auto snapshot = machine.Snapshot();
  ASSERT_FALSE(snapshot.ok());
  EXPECT_EQ(snapshot.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(snapshot.status().message(),
            "Snapshots are not enabled for group 'user_3'; the Raft log is kept whole");
  EXPECT_EQ(machine.Restore("x").code(), StatusCode::kFailedPrecondition);

  // A corrupt stored index is reported, not read as 0.
  ASSERT_TRUE(kv_->Write([] {
                   storage::WriteBatch b;
                   b.Put(storage::Partition::kMeta, "raft_applied/user_3", "abc");
                   return b;
                 }())
                  .ok());
  Status open = Machine().Open();
  EXPECT_EQ(open.code(), StatusCode::kCorruption);
  EXPECT_EQ(open.message(), "Bad applied index in meta key 'raft_applied/user_3'");
}

}  // namespace
}  // namespace kalam::replication
