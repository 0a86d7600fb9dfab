// Tests for the commit pipeline: ordering, atomicity, conflicts, publication.
#include "commit/commit_pipeline.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "table/keys.h"
#include "table/table_store.h"

namespace kalam::commit {
namespace {

std::shared_ptr<const catalog::TableDef> Table() {
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

table::StagedRow Insert(const std::shared_ptr<const catalog::TableDef>& t, int64_t id,
                        std::string v) {
  table::StagedRow r;
  r.table = t;
  r.pk = Value::Int(id);
  r.pk_key = table::PkKey(t->table_id, "", r.pk);
  r.live = true;
  r.values = {Value::Int(id), Value::Text(std::move(v))};
  return r;
}

class CommitPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pipeline_.Start().ok()); }
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  SnowflakeGenerator ids_{1, Clock::System()};
  CommitPipeline pipeline_{*kv_, ids_};
  std::shared_ptr<const catalog::TableDef> table_ = Table();
  table::TableStore store_{*kv_};
};

TEST_F(CommitPipelineTest, SeqOrderEqualsCommitOrderUnderConcurrency) {
  std::mutex mu;
  std::vector<int64_t> published;
  pipeline_.AddListener([&](const std::vector<table::ChangeRecord>& recs) {
    std::lock_guard lock(mu);
    for (const auto& r : recs) published.push_back(r.seq);
  });
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<int64_t>> acked(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        table::WriteSet ws;
        ws.Stage(Insert(table_, t * 100000 + i, "x"));
        auto seqs = pipeline_.Commit(ws);
        ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
        acked[t].push_back((*seqs)[0]);
      }
    });
  }
  for (auto& th : threads) th.join();
  pipeline_.Stop();
  // Published in strictly increasing _seq order, each commit exactly once.
  ASSERT_EQ(published.size(), size_t{kThreads * kPerThread});
  for (size_t i = 1; i < published.size(); ++i) ASSERT_LT(published[i - 1], published[i]);
  // Each writer's own commits are acknowledged in increasing _seq order.
  for (const auto& a : acked) {
    for (size_t i = 1; i < a.size(); ++i) ASSERT_LT(a[i - 1], a[i]);
  }
}

TEST_F(CommitPipelineTest, SecondInsertOfSamePkFailsWithPkViolationAndWritesNothing) {
  table::WriteSet first, second;
  first.Stage(Insert(table_, 1, "a"));
  second.Stage(Insert(table_, 1, "b"));
  second.Stage(Insert(table_, 2, "b2"));
  ASSERT_TRUE(pipeline_.Commit(first).ok());
  auto r = pipeline_.Commit(second);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().message(), "Primary key violation: value '1' already exists in column 'id'");
  // Atomic: row 2 of the failed commit was not written.
  auto row2 = store_.GetByKey(*table_, "", table::PkKey(7, "", Value::Int(2)));
  ASSERT_TRUE(row2.ok());
  EXPECT_FALSE(row2->has_value());
  auto row1 = store_.GetByKey(*table_, "", table::PkKey(7, "", Value::Int(1)));
  ASSERT_TRUE(row1.ok() && row1->has_value());
  EXPECT_EQ((*row1)->values[1], Value::Text("a"));
}

TEST_F(CommitPipelineTest, UpdateOfARowChangedSinceItWasReadConflicts) {
  table::WriteSet ws;
  ws.Stage(Insert(table_, 1, "a"));
  auto seqs = pipeline_.Commit(ws);
  ASSERT_TRUE(seqs.ok());
  auto update = [&](int64_t base_seq, std::string v) {
    table::StagedRow r = Insert(table_, 1, std::move(v));
    r.base_live = true;
    r.base_seq = base_seq;
    r.base_values = {Value::Int(1), Value::Text("a")};
    table::WriteSet w;
    w.Stage(std::move(r));
    return pipeline_.Commit(w);
  };
  ASSERT_TRUE(update((*seqs)[0], "b").ok());
  auto stale = update((*seqs)[0], "c");  // read the version before "b"
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  auto row = store_.GetByKey(*table_, "", table::PkKey(7, "", Value::Int(1)));
  EXPECT_EQ((*row)->values[1], Value::Text("b"));
}

TEST_F(CommitPipelineTest, SeqContinuesAfterRestartEvenIfTheClockGoesBack) {
  FakeClock clock(1800000000000000);
  int64_t last = 0;
  {
    SnowflakeGenerator ids(1, clock);
    CommitPipeline p(*kv_, ids);
    ASSERT_TRUE(p.Start().ok());
    table::WriteSet ws;
    ws.Stage(Insert(table_, 10, "a"));
    last = (*p.Commit(ws))[0];
  }
  clock.Set(1700000000000000);  // a clock set back by months
  SnowflakeGenerator ids(1, clock);
  CommitPipeline p(*kv_, ids);
  ASSERT_TRUE(p.Start().ok());
  table::WriteSet ws;
  ws.Stage(Insert(table_, 11, "b"));
  EXPECT_GT((*p.Commit(ws))[0], last);
}

TEST_F(CommitPipelineTest, CommitAfterStopIsRefused) {
  pipeline_.Stop();
  table::WriteSet ws;
  ws.Stage(Insert(table_, 1, "a"));
  EXPECT_EQ(pipeline_.Commit(ws).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(pipeline_.RunSchemaChange(7, [] { return 2u; }).code(), StatusCode::kUnavailable);
}

std::shared_ptr<const catalog::TableDef> AtVersion(const catalog::TableDef& t, uint32_t v) {
  auto d = std::make_shared<catalog::TableDef>(t);
  d->schema_version = v;
  return d;
}

TEST_F(CommitPipelineTest, RowsStagedUnderAnOlderSchemaConflictAfterASchemaChange) {
  table::WriteSet staged_before;  // staged under version 1, committed after the change
  staged_before.Stage(Insert(table_, 1, "old"));
  ASSERT_TRUE(pipeline_.RunSchemaChange(7, [] { return 2u; }).ok());
  auto stale = pipeline_.Commit(staged_before);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_EQ(stale.status().message(),
            "Table 'ns.t' was altered (now schema version 2) after this transaction wrote to it "
            "under version 1; retry");
  EXPECT_FALSE((*store_.GetByKey(*table_, "", table::PkKey(7, "", Value::Int(1)))).has_value());
  table::WriteSet current;
  current.Stage(Insert(AtVersion(*table_, 2), 1, "new"));
  EXPECT_TRUE(pipeline_.Commit(current).ok());
  // Other tables are not fenced.
  auto other = std::make_shared<catalog::TableDef>(*table_);
  other->table_id = 8;
  table::WriteSet ws;
  table::StagedRow row = Insert(other, 1, "x");
  row.pk_key = table::PkKey(8, "", row.pk);
  ws.Stage(std::move(row));
  EXPECT_TRUE(pipeline_.Commit(ws).ok());
}

TEST_F(CommitPipelineTest, FailedSchemaChangeReturnsItsErrorAndFencesNothing) {
  Status s = pipeline_.RunSchemaChange(
      7, []() -> Result<uint32_t> { return Status::FailedPrecondition("column has NULLs"); });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "column has NULLs");
  table::WriteSet ws;
  ws.Stage(Insert(table_, 1, "a"));
  EXPECT_TRUE(pipeline_.Commit(ws).ok());
}

TEST_F(CommitPipelineTest, SchemaChangeRunsOnlyAfterTheGroupBeingWrittenIsPublished) {
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false, published = false;
  pipeline_.AddListener([&](const std::vector<table::ChangeRecord>&) {
    std::unique_lock lock(mu);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });  // the writer holds the leader role meanwhile
    published = true;
  });
  std::thread writer([&] {
    table::WriteSet ws;
    ws.Stage(Insert(table_, 1, "a"));
    EXPECT_TRUE(pipeline_.Commit(ws).ok());
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  bool saw_published = false;
  std::thread ddl([&] {
    EXPECT_TRUE(pipeline_.RunSchemaChange(7, [&] {
                  std::lock_guard lock(mu);
                  saw_published = published;
                  return 2u;
                }).ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the change queue up
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  writer.join();
  ddl.join();
  EXPECT_TRUE(saw_published);
}

// A hook that appends one `topic` entry per record, or fails when told to.
class RecordingHook : public CommitHook {
 public:
  Status OnStamped(const std::vector<table::ChangeRecord>& records,
                   storage::WriteBatch* batch) override {
    ++stamped;
    if (!fail.ok()) return fail;
    for (const auto& r : records) {
      batch->Put(storage::Partition::kTopic, "m" + std::to_string(r.seq), "x");
    }
    return Status::OK();
  }
  void OnWritten(const Status& written) override { outcomes.push_back(written); }

  Status fail;
  int stamped = 0;
  std::vector<Status> outcomes;
};

size_t Count(storage::KvStore& kv, storage::Partition p) {
  size_t n = 0;
  auto it = kv.NewIterator(p);
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

TEST_F(CommitPipelineTest, HookWritesAreCommittedInTheSameBatch) {
  RecordingHook hook;
  pipeline_.SetCommitHook(&hook);
  table::WriteSet ws;
  ws.Stage(Insert(table_, 1, "a"));
  ws.Stage(Insert(table_, 2, "b"));
  auto seqs = pipeline_.Commit(ws);
  ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
  EXPECT_EQ(Count(*kv_, storage::Partition::kTopic), 2u);
  auto m = kv_->Get(storage::Partition::kTopic, "m" + std::to_string((*seqs)[0]));
  ASSERT_TRUE(m.ok() && m->has_value());
  ASSERT_EQ(hook.outcomes.size(), 1u);
  EXPECT_TRUE(hook.outcomes[0].ok());
}

TEST_F(CommitPipelineTest, FailingHookFailsTheGroupAndWritesNothing) {
  RecordingHook hook;
  hook.fail = Status::Internal("publish failed");
  pipeline_.SetCommitHook(&hook);
  int published = 0;
  pipeline_.AddListener([&](const std::vector<table::ChangeRecord>&) { ++published; });
  table::WriteSet ws;
  ws.Stage(Insert(table_, 1, "a"));
  auto seqs = pipeline_.Commit(ws);
  ASSERT_FALSE(seqs.ok());
  EXPECT_EQ(seqs.status().message(), "publish failed");
  EXPECT_EQ(Count(*kv_, storage::Partition::kPk), 0u);
  EXPECT_EQ(Count(*kv_, storage::Partition::kRows), 0u);
  EXPECT_EQ(Count(*kv_, storage::Partition::kTopic), 0u);
  EXPECT_EQ(published, 0);
  EXPECT_EQ(hook.stamped, 1);
  EXPECT_TRUE(hook.outcomes.empty());  // OnWritten only follows an accepted OnStamped
  // The next commit goes through once the hook accepts.
  hook.fail = Status::OK();
  ASSERT_TRUE(pipeline_.Commit(ws).ok());
  EXPECT_EQ(Count(*kv_, storage::Partition::kPk), 1u);
}

}  // namespace
}  // namespace kalam::commit
