// Tests for the JobSystem's scheduler on a fake clock (no sleeps): FLUSH_POLICY interval and row
// triggers, a scheduled flush that cannot start (recorded, held off), deferred deletion of
// segment files replaced by compaction, job retention and stream evictions — each pass run by
// the test itself.
#include "jobs/job_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "job_stack.h"
#include "catalog/storage_catalog.h"
#include "sql/executor.h"

namespace kalam::jobs {
namespace {

namespace fs = std::filesystem;

class JobSystemTest : public JobStackTest {
 protected:
  void SetUp() override {
    JobStackTest::SetUp();
    if (HasFatalFailure()) return;
    Sql("CREATE NAMESPACE ns");
  }
  void InsertRows(const std::string& table, int from, int to) {
    std::string text = "INSERT INTO " + table + " VALUES ";
    for (int i = from; i < to; ++i) text += (i > from ? ", (" : "(") + std::to_string(i) + ")";
    Sql(text);
  }
  std::shared_ptr<const catalog::TableDef> Def(const std::string& table) {
    return catalog_->snapshot()->FindTable("ns", table);
  }
  // Every job the system lists, oldest first (ids grow).
  std::vector<sql::JobInfo> Jobs() {
    auto jobs = jobs_->ListJobs();
    std::sort(jobs.begin(), jobs.end(),
              [](const auto& a, const auto& b) { return a.created_at_us < b.created_at_us; });
    return jobs;
  }
  std::vector<std::string> SegmentFiles() {
    std::vector<std::string> out;
    if (!fs::exists(dir_)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.path().extension() == ".parquet") out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // `job` is a completed flush of `rows` rows of ns.t.
  static void ExpectFlushed(const sql::JobInfo& job, int rows) {
    EXPECT_EQ(job.job_type, "flush");
    EXPECT_EQ(job.status, sql::JobStatus::kCompleted);
    const std::string start =
        "Flushed " + std::to_string(rows) + " row(s) of table 'ns.t' into 1 segment(s), ";
    EXPECT_EQ(job.message.rfind(start, 0), 0u) << job.message;
  }
  void Flush(const std::string& table) {
    auto started = jobs_->FlushTable(Def(table));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    ASSERT_EQ(started->kind, sql::JobStart::Kind::kStarted);
    jobs_->manager().WaitIdle();
    ASSERT_EQ(jobs_->manager().Get(started->job_id)->status, sql::JobStatus::kCompleted);
  }
};

TEST_F(JobSystemTest, IntervalPolicyFlushesOnceTheIntervalHasPassedOnTheInjectedClock) {
  Sql("CREATE SHARED TABLE ns.t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'interval:60')");
  InsertRows("ns.t", 0, 3);
  jobs_->RunScheduledWork();  // first sight of the pending rows: the interval starts now
  clock_.AdvanceSeconds(59);
  jobs_->RunScheduledWork();
  EXPECT_TRUE(Jobs().empty()) << "59 s < interval:60";
  clock_.AdvanceSeconds(1);
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  ExpectFlushed(jobs[0], 3);
  EXPECT_EQ(SegmentFiles(), std::vector<std::string>{"batch-1.parquet"});
  // Nothing pending any more: later passes start nothing.
  clock_.AdvanceSeconds(600);
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  EXPECT_EQ(Jobs().size(), 1u);
}

TEST_F(JobSystemTest, RowPolicyFlushesWhenEnoughRowsWait) {
  Sql("CREATE SHARED TABLE ns.t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:5')");
  InsertRows("ns.t", 0, 4);
  jobs_->RunScheduledWork();
  EXPECT_TRUE(Jobs().empty()) << "4 rows < rows:5";
  InsertRows("ns.t", 4, 5);
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  ExpectFlushed(jobs[0], 5);
}

TEST_F(JobSystemTest, AScheduledFlushThatCannotStartIsRecordedFailedAndHeldOff) {
  Sql("CREATE SHARED TABLE ns.t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:1')");
  InsertRows("ns.t", 0, 2);
  store_.FailWrites(true);  // the job's queued record cannot be written
  jobs_->RunScheduledWork();
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].job_type, "flush");
  EXPECT_EQ(jobs[0].status, sql::JobStatus::kFailed);
  EXPECT_EQ(jobs[0].message,
            "The scheduled flush (FLUSH_POLICY) of table 'ns.t' could not start: The job could "
            "not be recorded in system.jobs: injected write failure: disk full (its record could "
            "not be saved: injected write failure: disk full)");
  // Not retried at every pass: the table is held off for retry_after_failure (60 s).
  store_.FailWrites(false);
  clock_.AdvanceSeconds(59);
  jobs_->RunScheduledWork();
  EXPECT_EQ(Jobs().size(), 1u);
  clock_.AdvanceSeconds(1);
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  jobs = Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  ExpectFlushed(jobs[1], 2);
}

TEST_F(JobSystemTest, FilesReplacedByCompactionAreDeletedAfterTheGraceOnTheInjectedClock) {
  Sql("CREATE SHARED TABLE ns.c (id INT PRIMARY KEY)");
  InsertRows("ns.c", 0, 3);
  Flush("c");
  InsertRows("ns.c", 3, 6);
  Flush("c");
  ASSERT_EQ(SegmentFiles(), (std::vector<std::string>{"batch-1.parquet", "batch-2.parquet"}));
  auto started = jobs_->CompactTable(Def("c"));
  ASSERT_TRUE(started.ok());
  jobs_->manager().WaitIdle();
  ASSERT_EQ(jobs_->manager().Get(started->job_id)->status, sql::JobStatus::kCompleted);
  const std::vector<std::string> all = {"batch-1.parquet", "batch-2.parquet",
                                        "batch-3.parquet"};
  EXPECT_EQ(SegmentFiles(), all) << "replaced files stay readable during the grace";
  clock_.AdvanceSeconds(59);
  jobs_->RunScheduledWork();
  EXPECT_EQ(SegmentFiles(), all) << "59 s < obsolete_grace (60 s)";
  clock_.AdvanceSeconds(1);
  jobs_->RunScheduledWork();
  EXPECT_EQ(SegmentFiles(), std::vector<std::string>{"batch-3.parquet"});
}

TEST_F(JobSystemTest, AReplacedFileNameThatANewTableOfTheSameNameUsesAgainIsNotDeleted) {
  Sql("CREATE SHARED TABLE ns.c (id INT PRIMARY KEY)");
  InsertRows("ns.c", 0, 3);
  Flush("c");
  InsertRows("ns.c", 3, 6);
  Flush("c");
  auto started = jobs_->CompactTable(Def("c"));
  ASSERT_TRUE(started.ok());
  jobs_->manager().WaitIdle();
  // Dropped and created again (or restored by RESTORE NAMESPACE) within the grace: the new table
  // flushes into the same folder, naming its first segment like a replaced one.
  Sql("DROP TABLE ns.c");
  Sql("CREATE SHARED TABLE ns.c (id INT PRIMARY KEY)");
  InsertRows("ns.c", 10, 12);
  Flush("c");
  // batch-2 waits for its deferred deletion; batch-1 is the new table's now.
  EXPECT_EQ(SegmentFiles(), (std::vector<std::string>{"batch-1.parquet", "batch-2.parquet"}));
  clock_.AdvanceSeconds(60);
  jobs_->RunScheduledWork();
  EXPECT_EQ(SegmentFiles(), std::vector<std::string>{"batch-1.parquet"});
  EXPECT_EQ(cold_->StatsOf(Def("c")->table_id).rows, 2);
}

TEST_F(JobSystemTest, FilesReplacedByCompactionStayWhileABackupHoldsDeletes) {
  Sql("CREATE SHARED TABLE ns.c (id INT PRIMARY KEY)");
  InsertRows("ns.c", 0, 3);
  Flush("c");
  InsertRows("ns.c", 3, 6);
  Flush("c");
  cold_->HoldDeletes();  // as a backup copying S3 segments does
  auto started = jobs_->CompactTable(Def("c"));
  ASSERT_TRUE(started.ok());
  jobs_->manager().WaitIdle();
  const std::vector<std::string> all = {"batch-1.parquet", "batch-2.parquet",
                                        "batch-3.parquet"};
  clock_.AdvanceSeconds(120);
  jobs_->RunScheduledWork();
  EXPECT_EQ(SegmentFiles(), all) << "past the grace, but a backup may still copy them";
  ASSERT_TRUE(cold_->ReleaseDeletes().ok());
  jobs_->RunScheduledWork();
  EXPECT_EQ(SegmentFiles(), std::vector<std::string>{"batch-3.parquet"});
}

TEST_F(JobSystemTest, CompactingATableWithoutSegmentsIsStillAJobThatSaysSo) {
  Sql("CREATE SHARED TABLE ns.e (id INT PRIMARY KEY)");
  auto started = jobs_->CompactTable(Def("e"));
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(started->kind, sql::JobStart::Kind::kStarted);
  EXPECT_EQ(started->job_id.rfind("CO-", 0), 0u) << started->job_id;
  jobs_->manager().WaitIdle();
  auto job = jobs_->manager().Get(started->job_id);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->status, sql::JobStatus::kCompleted);
  EXPECT_EQ(job->message, "Compaction completed: table 'ns.e' has no flushed segments");
}

TEST_F(JobSystemTest, FinishedJobsArePrunedBySevenDayRetentionOnTheSchedulersPass) {
  Sql("CREATE SHARED TABLE ns.t (id INT PRIMARY KEY)");
  InsertRows("ns.t", 0, 1);
  Flush("t");
  ASSERT_EQ(Jobs().size(), 1u);
  clock_.AdvanceSeconds(7 * 24 * 3600);
  jobs_->RunScheduledWork();
  EXPECT_EQ(Jobs().size(), 1u) << "exactly seven days old: kept";
  clock_.AdvanceSeconds(600);  // the next prune is due ten minutes after the last
  jobs_->RunScheduledWork();
  EXPECT_TRUE(Jobs().empty());
}

TEST_F(JobSystemTest, StreamEvictionRunsEveryIntervalOnlyForTablesWithExpiredRows) {
  Sql("CREATE STREAM TABLE ns.s (n INT) WITH (TTL_SECONDS = 100)");
  InsertRows("ns.s", 0, 3);
  auto stored_keys = [&] {
    size_t n = 0;
    auto it = kv_->NewIterator(storage::Partition::kStream);
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  };
  clock_.AdvanceSeconds(60);  // the first eviction pass is due (default interval 60 s) ...
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  EXPECT_TRUE(Jobs().empty()) << "... but nothing has expired: no job";
  clock_.AdvanceSeconds(59);
  jobs_->RunScheduledWork();  // expired now, but the next pass is not due yet
  jobs_->manager().WaitIdle();
  EXPECT_TRUE(Jobs().empty());
  clock_.AdvanceSeconds(1);
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].job_type, "stream_eviction");
  EXPECT_EQ(jobs[0].job_id.rfind("SE-", 0), 0u) << jobs[0].job_id;
  EXPECT_EQ(jobs[0].status, sql::JobStatus::kCompleted);
  EXPECT_EQ(jobs[0].message, "Evicted 3 expired rows from ns:s (ttl: 100s)");
  EXPECT_EQ(stored_keys(), 0u);
  InsertRows("ns.s", 3, 4);
  clock_.AdvanceSeconds(60);
  jobs_->RunScheduledWork();
  jobs_->manager().WaitIdle();
  EXPECT_EQ(Jobs().size(), 1u) << "the fresh row has not expired";
  EXPECT_EQ(stored_keys(), 1u);
}

TEST_F(JobSystemTest, AFailedBackupIsAFailedJobAndLeavesNothingBehind) {
  Sql("CREATE TABLE ns.t (id INT PRIMARY KEY) WITH (TYPE = 'SHARED')");
  InsertRows("ns.t", 0, 3);
  const std::string target = (dir_ / "bk" / "one").string();
  // The memory store keeps nothing on disk, so its checkpoint fails after the directory exists.
  auto id = jobs_->BackupDatabase(target);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->rfind("BK-", 0), 0u) << *id;
  jobs_->manager().WaitIdle();
  auto job = jobs_->manager().Get(*id);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->job_type, "backup");
  EXPECT_EQ(job->status, sql::JobStatus::kFailed);
  EXPECT_EQ(job->message.rfind("Backup failed: The in-memory store cannot write a checkpoint", 0),
            0u)
      << job->message;
  EXPECT_FALSE(fs::exists(target));
  // Outside the allowed directories: refused before any job exists.
  auto outside = jobs_->BackupDatabase((dir_ / "elsewhere").string());
  EXPECT_EQ(outside.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Jobs().size(), 1u);
}

}  // namespace
}  // namespace kalam::jobs
