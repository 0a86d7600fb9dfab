// Tests for STREAM tables in hot storage: commits through the pipeline (append, delete markers,
// MAX_ROWS_PER_USER, EPHEMERAL) and the stream store (TTL visibility, eviction leaves no key).
#include <gtest/gtest.h>

#include "commit/commit_pipeline.h"
#include "table/keys.h"
#include "table/stream_store.h"

namespace kalam::commit {
namespace {

using storage::Partition;

std::shared_ptr<const catalog::TableDef> Stream(uint32_t ttl, uint64_t max_rows = 0,
                                                bool ephemeral = false) {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = 9;
  d->namespace_id = "ns";
  d->table_name = "events";
  d->type = catalog::TableType::kStream;
  d->options.ttl_seconds = ttl;
  d->options.max_rows_per_user = max_rows;
  d->options.ephemeral = ephemeral;
  catalog::ColumnDef v;
  v.column_id = 1;
  v.name = "v";
  v.type = DataType{TypeKind::kText};
  d->columns = {v};
  return d;
}

class StreamCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline_.SetStreamSubscriberPredicate(
        [this](table::TableId, const table::Scope& scope) { return scope == subscribed_; });
    pipeline_.AddListener([this](const std::vector<table::ChangeRecord>& recs) {
      for (const auto& r : recs) records_.push_back(r);
    });
    ASSERT_TRUE(pipeline_.Start().ok());
  }

  // Commits one insert per value into `scope`, in one write set; returns their `_seq`s.
  std::vector<int64_t> Insert(const std::shared_ptr<const catalog::TableDef>& t,
                              const std::string& scope, const std::vector<std::string>& values) {
    table::WriteSet ws;
    for (const auto& v : values) {
      table::StagedRow r;
      r.table = t;
      r.scope = scope;
      r.pk_key = table::StreamInsertStagingKey(t->table_id, scope, ws.size());
      r.live = true;
      r.values = {Value::Text(v)};
      ws.Stage(std::move(r));
    }
    auto seqs = pipeline_.Commit(ws);
    EXPECT_TRUE(seqs.ok()) << seqs.status().ToString();
    return seqs.ok() ? *seqs : std::vector<int64_t>{};
  }

  Status Delete(const std::shared_ptr<const catalog::TableDef>& t, const std::string& scope,
                int64_t seq, const std::string& v) {
    table::WriteSet ws;
    table::StagedRow r;
    r.table = t;
    r.scope = scope;
    r.pk_key = table::StreamKey(t->table_id, scope, seq);
    r.base_seq = seq;
    r.base_live = true;
    r.base_values = {Value::Text(v)};
    r.live = false;
    ws.Stage(std::move(r));
    return pipeline_.Commit(ws).status();
  }

  // The visible values of `scope` now (markers too when `with_deleted`), as "v" or "-v".
  std::vector<std::string> Visible(const catalog::TableDef& t, const std::string& scope,
                                   bool with_deleted = false) {
    std::vector<std::string> out;
    auto scan = streams_.NewScan(t, scope, 0, INT64_MAX, clock_.NowMillis(), with_deleted);
    EXPECT_TRUE(scan.ok());
    for (auto& s = *scan; s->Valid(); s->Next()) {
      out.push_back((s->deleted() ? "-" : "") + s->values()[0].as_text());
    }
    EXPECT_TRUE((*scan)->status().ok());
    return out;
  }

  // Every stored `_seq` of `table` in the stream partition, whatever its state.
  std::vector<int64_t> StoredSeqs(table::TableId table) {
    std::vector<int64_t> out;
    auto it = kv_->NewIterator(Partition::kStream);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      table::TableId t = 0;
      table::Scope scope;
      int64_t seq = 0;
      EXPECT_TRUE(table::ParseStreamKey(it->key(), &t, &scope, &seq));
      if (t == table) out.push_back(seq);
    }
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  SnowflakeGenerator ids_{1, clock_};
  CommitPipeline pipeline_{*kv_, ids_};
  table::StreamStore streams_{*kv_};
  std::string subscribed_ = "alice";
  std::vector<table::ChangeRecord> records_;
};

TEST(StreamKeysTest, KeysParseBackAndSortBySeqWithinAScope) {
  const std::string a = table::StreamKey(9, "bob", 100);
  const std::string b = table::StreamKey(9, "bob", 200);
  EXPECT_LT(a, b);
  table::TableId t = 0;
  table::Scope scope;
  int64_t seq = 0;
  ASSERT_TRUE(table::ParseStreamKey(b, &t, &scope, &seq));
  EXPECT_EQ(t, 9u);
  EXPECT_EQ(scope, "bob");
  EXPECT_EQ(seq, 200);
  EXPECT_TRUE(a.starts_with(table::ScopePrefix(9, "bob")));
  // A staging key is never a stored key, and does not parse as one.
  const std::string staging = table::StreamInsertStagingKey(9, "bob", 0);
  EXPECT_FALSE(table::ParseStreamKey(staging, &t, &scope, &seq));
}

TEST_F(StreamCommitTest, InsertsAppendPerScopeInSeqOrderAndPublishRecords) {
  auto t = Stream(60);
  auto seqs = Insert(t, "alice", {"a1", "a2"});
  Insert(t, "bob", {"b1"});
  ASSERT_EQ(seqs.size(), 2u);
  EXPECT_LT(seqs[0], seqs[1]);
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(Visible(*t, "bob"), (std::vector<std::string>{"b1"}));
  ASSERT_EQ(records_.size(), 3u);
  EXPECT_EQ(records_[0].kind, table::ChangeKind::kInsert);
  EXPECT_EQ(records_[0].seq, seqs[0]);
  EXPECT_EQ(records_[0].values[0].as_text(), "a1");
  EXPECT_EQ(records_[2].scope, "bob");
}

TEST_F(StreamCommitTest, DeleteWritesAMarkerAtItsOwnSeqAndASecondDeleteConflicts) {
  auto t = Stream(60);
  auto seqs = Insert(t, "alice", {"a1", "a2"});
  ASSERT_TRUE(Delete(t, "alice", seqs[0], "a1").ok());
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"a2"}));
  // The marker comes after a2, at the delete's `_seq`, carrying the deleted row.
  EXPECT_EQ(Visible(*t, "alice", true), (std::vector<std::string>{"a2", "-a1"}));
  const std::vector<int64_t> stored = StoredSeqs(t->table_id);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0], seqs[1]);
  EXPECT_GT(stored[1], seqs[1]);
  ASSERT_EQ(records_.size(), 3u);
  EXPECT_EQ(records_[2].kind, table::ChangeKind::kDelete);
  EXPECT_EQ(records_[2].previous_seq, seqs[0]);
  EXPECT_EQ(records_[2].values[0].as_text(), "a1");
  // The row is gone: deleting it again is a conflict (the executor's retry then deletes 0).
  Status again = Delete(t, "alice", seqs[0], "a1");
  EXPECT_EQ(again.code(), StatusCode::kConflict) << again.ToString();
  EXPECT_EQ(records_.size(), 3u);
}

TEST_F(StreamCommitTest, RowsExpireAtTheirTtlAndEvictionLeavesNoExpiredKey) {
  auto t = Stream(10);
  Insert(t, "alice", {"old1", "old2"});
  Insert(t, "bob", {"old3"});
  auto del = Insert(t, "bob", {"gone"});
  ASSERT_TRUE(Delete(t, "bob", del[0], "gone").ok());  // a marker, expiring like rows
  clock_.AdvanceSeconds(6);
  auto fresh = Insert(t, "alice", {"new1"});
  clock_.AdvanceMicros(3999000);
  // 9.999 s after the first rows: still visible.
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"old1", "old2", "new1"}));
  auto before = streams_.HasExpired(*t, clock_.NowMillis());
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(*before);
  clock_.AdvanceMicros(1000);
  // 10 s: the first rows are hidden from every read, before any eviction.
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"new1"}));
  EXPECT_TRUE(Visible(*t, "bob", true).empty());
  auto expired = streams_.HasExpired(*t, clock_.NowMillis());
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(*expired);
  auto evicted = streams_.EvictExpired(*t, clock_.NowMillis(), nullptr);
  ASSERT_TRUE(evicted.ok()) << evicted.status().ToString();
  EXPECT_EQ(evicted->entries, 4u);  // old1, old2, old3 and the marker of "gone"
  EXPECT_EQ(evicted->scopes, 2u);
  EXPECT_EQ(StoredSeqs(t->table_id), fresh);  // only the fresh row's key is left
  auto again = streams_.EvictExpired(*t, clock_.NowMillis(), nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->entries, 0u);
}

TEST_F(StreamCommitTest, MaxRowsPerUserEvictsTheOldestRowsOfThatUserInTheSameCommit) {
  auto t = Stream(60, 3);
  Insert(t, "alice", {"a1", "a2"});
  Insert(t, "bob", {"b1"});
  Insert(t, "alice", {"a3", "a4"});
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"a2", "a3", "a4"}));
  // One commit larger than the cap keeps its newest rows.
  Insert(t, "alice", {"a5", "a6", "a7", "a8"});
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"a6", "a7", "a8"}));
  EXPECT_EQ(Visible(*t, "bob"), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(StoredSeqs(t->table_id).size(), 4u);  // 3 of alice's, 1 of bob's: no stray key
  // A delete frees a place: the next insert evicts nothing.
  auto seqs = Insert(t, "bob", {"b2", "b3"});
  ASSERT_TRUE(Delete(t, "bob", seqs[0], "b2").ok());
  Insert(t, "bob", {"b4"});
  EXPECT_EQ(Visible(*t, "bob"), (std::vector<std::string>{"b1", "b3", "b4"}));
}

TEST_F(StreamCommitTest, EphemeralInsertsAreDroppedWithoutASubscriber) {
  auto t = Stream(60, 0, true);
  auto kept = Insert(t, "alice", {"seen"});
  auto dropped = Insert(t, "bob", {"unseen"});
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_GT(dropped[0], 0);  // acknowledged with a `_seq`
  EXPECT_EQ(Visible(*t, "alice"), (std::vector<std::string>{"seen"}));
  EXPECT_TRUE(Visible(*t, "bob").empty());
  EXPECT_EQ(StoredSeqs(t->table_id), kept);
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].scope, "alice");
}

}  // namespace
}  // namespace kalam::commit
