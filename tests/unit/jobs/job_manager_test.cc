// Tests for the JobManager: lifecycle and records, one job per key, KILL JOB of queued and running
// jobs, recovery of jobs a crash interrupted, retention by the injected clock, the order of each
// job's stored records, and what a job shows when its record cannot be stored.
#include "jobs/job_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "../storage/failing_store.h"

namespace kalam::jobs {
namespace {

constexpr auto kBound = std::chrono::seconds(10);  // bounded waits for a job thread

// Blocks a job until KILL JOB or shutdown cancels it (bounded); returns "stopped".
Result<std::string> RunUntilCancelled(JobContext& ctx) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (!ctx.cancelled()) {
    if (std::chrono::steady_clock::now() > deadline) return Status::Internal("never cancelled");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return std::string("stopped");
}

// A job that reports `progress` (if any), fulfils `started`, then runs until cancelled.
JobFn StartThenRunUntilCancelled(std::promise<void>& started, std::string progress = "") {
  return [&started, progress](JobContext& ctx) {
    if (!progress.empty()) ctx.ReportProgress(progress);
    started.set_value();
    return RunUntilCancelled(ctx);
  };
}

// The status field of a stored job record.
std::string StatusOf(std::string_view json) {
  const std::string_view tag = "\"status\":\"";
  size_t at = json.find(tag);
  if (at == std::string_view::npos) return "?";
  at += tag.size();
  return std::string(json.substr(at, json.find('"', at) - at));
}

// A store that records, in the order they are applied, the statuses written for each job, and
// can hold the write of a job's "queued" record until released.
class RecordingStore final : public storage::KvStore {
 public:
  explicit RecordingStore(storage::KvStore& base) : base_(base) {}

  void HoldQueuedWrites() {
    std::lock_guard lock(gate_mu_);
    hold_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(gate_mu_);
      hold_ = false;
    }
    gate_cv_.notify_all();
  }
  std::vector<std::string> Written(const std::string& job_id) {
    std::lock_guard lock(mu_);
    return written_[job_id];
  }

  Status Write(const storage::WriteBatch& batch, const storage::WriteOptions& options) override {
    bool queued = false;
    for (const auto& op : batch.ops()) queued = queued || StatusOf(op.value) == "queued";
    if (queued) {
      std::unique_lock lock(gate_mu_);
      gate_cv_.wait(lock, [&] { return !hold_; });
    }
    std::lock_guard lock(mu_);
    KALAM_RETURN_IF_ERROR(base_.Write(batch, options));
    for (const auto& op : batch.ops()) {
      if (op.kind == storage::WriteBatch::OpKind::kPut && op.key.starts_with("job/")) {
        written_[op.key.substr(4)].push_back(StatusOf(op.value));
      }
    }
    return Status::OK();
  }
  Result<std::optional<std::string>> Get(storage::Partition p, std::string_view key,
                                         const storage::KvSnapshot* s) override {
    return base_.Get(p, key, s);
  }
  Result<std::vector<std::optional<std::string>>> MultiGet(
      storage::Partition p, const std::vector<std::string>& keys,
      const storage::KvSnapshot* s) override {
    return base_.MultiGet(p, keys, s);
  }
  std::unique_ptr<storage::KvIterator> NewIterator(storage::Partition p,
                                                   const storage::ReadOptions& o) override {
    return base_.NewIterator(p, o);
  }
  std::shared_ptr<const storage::KvSnapshot> GetSnapshot() override { return base_.GetSnapshot(); }
  Status Flush() override { return base_.Flush(); }
  Status Checkpoint(const std::string& dir) override { return base_.Checkpoint(dir); }
  uint64_t ApproximateSize(storage::Partition p, std::string_view b, std::string_view e) override {
    return base_.ApproximateSize(p, b, e);
  }

 private:
  storage::KvStore& base_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::string>> written_;  // guarded by mu_
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool hold_ = false;  // guarded by gate_mu_
};

class JobManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobManager> Make(JobManagerOptions o = {}) {
    return std::make_unique<JobManager>(store_, ids_, clock_, o);
  }
  // The record of `job_id` as stored (what a restart would load).
  std::optional<std::string> StoredStatus(const std::string& job_id) {
    auto v = kv_->Get(storage::Partition::kSystem, "job/" + job_id);
    if (!v.ok() || !*v) return std::nullopt;
    return StatusOf(**v);
  }
  static Result<std::string> Done(JobContext&) { return std::string("done"); }

  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  storage::FailingStore store_{*kv_};
  FakeClock clock_;
  SnowflakeGenerator ids_{1, clock_};
};

TEST_F(JobManagerTest, RunsJobsAndRecordsOutcomes) {
  auto m = Make();
  ASSERT_TRUE(m->Start().ok());
  bool running = false;
  auto ok = m->Submit("FL", "flush", "a", "{\"x\":1}", Done, &running);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->rfind("FL-", 0), 0u);
  auto bad = m->Submit("FL", "flush", "b", "{}",
                       [](JobContext&) -> Result<std::string> { return Status::IoError("disk"); },
                       &running);
  ASSERT_TRUE(bad.ok());
  m->WaitIdle();
  auto a = m->Get(*ok);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, sql::JobStatus::kCompleted);
  EXPECT_EQ(a->message, "done");
  EXPECT_EQ(a->parameters_json, "{\"x\":1}");
  EXPECT_EQ(StoredStatus(*ok), "completed");
  auto b = m->Get(*bad);
  EXPECT_EQ(b->status, sql::JobStatus::kFailed);
  EXPECT_EQ(b->message, "disk");
  EXPECT_EQ(b->exception_trace, Status::IoError("disk").ToString());
  EXPECT_EQ(StoredStatus(*bad), "failed");
  EXPECT_EQ(m->List().size(), 2u);
}

TEST_F(JobManagerTest, JobTimesComeFromTheInjectedClock) {
  auto m = Make();
  const int64_t t0 = clock_.NowMicros();
  sql::JobInfo info = m->RunNow("FL", "flush", "{}", [&](JobContext&) -> Result<std::string> {
    clock_.AdvanceSeconds(5);  // the job takes five (fake) seconds
    return std::string("done");
  });
  EXPECT_EQ(info.status, sql::JobStatus::kCompleted);
  EXPECT_EQ(info.created_at_us, t0);
  EXPECT_EQ(info.started_at_us, t0);
  EXPECT_EQ(info.finished_at_us, t0 + 5000000);
}

TEST_F(JobManagerTest, OneJobPerKeyAndKill) {
  auto m = Make();
  ASSERT_TRUE(m->Start().ok());
  std::promise<void> started;
  bool running = false;
  auto first =
      m->Submit("FL", "flush", "t1", "{}", StartThenRunUntilCancelled(started), &running);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(running);
  auto second = m->Submit("FL", "flush", "t1", "{}", Done, &running);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(running);
  EXPECT_EQ(*second, *first);
  // A queued job behind the running one (single thread) is cancelled without running.
  std::atomic<bool> ran{false};
  auto queued = m->Submit("FL", "flush", "t2", "{}",
                          [&](JobContext&) -> Result<std::string> {
                            ran = true;
                            return std::string("x");
                          },
                          &running);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(started.get_future().wait_for(kBound), std::future_status::ready);
  auto k2 = m->Kill(*queued);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(*k2, sql::JobStatus::kCancelled);
  EXPECT_EQ(StoredStatus(*queued), "cancelled");
  auto k1 = m->Kill(*first);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(*k1, sql::JobStatus::kCancelled);
  m->WaitIdle();
  EXPECT_FALSE(ran);
  EXPECT_EQ(m->Get(*first)->message, "stopped (cancelled)");
  EXPECT_EQ(StoredStatus(*first), "cancelled");
  EXPECT_EQ(m->Kill("FL-nope").status().code(), StatusCode::kNotFound);
  // The key is free again.
  auto third = m->Submit("FL", "flush", "t1", "{}", Done, &running);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(running);
  EXPECT_NE(*third, *first);
}

TEST_F(JobManagerTest, RunningJobShowsItsProgressAsItsMessage) {
  auto m = Make();
  ASSERT_TRUE(m->Start().ok());
  std::promise<void> reported;
  bool running = false;
  auto id = m->Submit("FL", "flush", "p", "{}",
                      StartThenRunUntilCancelled(reported, "step 1 of 2"), &running);
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(reported.get_future().wait_for(kBound), std::future_status::ready);
  auto shown = m->Get(*id);
  EXPECT_EQ(shown->status, sql::JobStatus::kRunning);
  EXPECT_EQ(shown->message, "step 1 of 2");
  EXPECT_EQ(StoredStatus(*id), "running");
  ASSERT_TRUE(m->Kill(*id).ok());
}

TEST_F(JobManagerTest, InterruptedJobsAreFailedAtStartAndOldOnesPruned) {
  {
    auto m = Make();
    ASSERT_TRUE(m->Start().ok());
    bool running = false;
    std::promise<void> go;
    auto id = m->Submit("FL", "flush", "k", "{}", StartThenRunUntilCancelled(go), &running);
    ASSERT_TRUE(id.ok());
    ASSERT_EQ(go.get_future().wait_for(kBound), std::future_status::ready);
    // Simulate a crash: the stored record still says "running". Copy the store's state now.
    ASSERT_EQ(m->Get(*id)->status, sql::JobStatus::kRunning);
    ASSERT_EQ(StoredStatus(*id), "running");
    auto snapshot = storage::NewMemoryStore();
    auto it = kv_->NewIterator(storage::Partition::kSystem);
    storage::WriteBatch copy;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      copy.Put(storage::Partition::kSystem, std::string(it->key()), std::string(it->value()));
    }
    ASSERT_TRUE(snapshot->Write(copy).ok());
    m->Stop();
    kv_ = std::move(snapshot);
  }
  storage::FailingStore reopened(*kv_);
  JobManagerOptions o;
  o.retention = std::chrono::hours(1);
  JobManager m(reopened, ids_, clock_, o);
  ASSERT_TRUE(m.Start().ok());
  auto jobs = m.List();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status, sql::JobStatus::kFailed);
  EXPECT_EQ(jobs[0].message,
            "Interrupted by a server restart before it finished; no row was lost: what it had "
            "not moved yet is still where it was, for the next run");
  EXPECT_EQ(StoredStatus(jobs[0].job_id), "failed");
  clock_.AdvanceSeconds(3600);
  ASSERT_TRUE(m.Prune().ok());
  EXPECT_EQ(m.List().size(), 1u) << "exactly one hour old: kept";
  clock_.AdvanceMicros(1);
  ASSERT_TRUE(m.Prune().ok());
  EXPECT_TRUE(m.List().empty());
  EXPECT_EQ(StoredStatus(jobs[0].job_id), std::nullopt);
}

TEST_F(JobManagerTest, FinishedJobsAreKeptSevenDaysByDefault) {
  auto m = Make();
  const std::string old_id = m->RunNow("FL", "flush", "{}", Done).job_id;
  clock_.AdvanceSeconds(6 * 24 * 3600);
  const std::string young_id = m->RunNow("FL", "flush", "{}", Done).job_id;
  clock_.AdvanceSeconds(24 * 3600);
  ASSERT_TRUE(m->Prune().ok());
  EXPECT_EQ(m->List().size(), 2u) << "the older job is exactly seven days old: kept";
  clock_.AdvanceMicros(1);
  ASSERT_TRUE(m->Prune().ok());
  auto left = m->List();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].job_id, young_id);
  EXPECT_EQ(StoredStatus(old_id), std::nullopt);
  EXPECT_EQ(StoredStatus(young_id), "completed");
}

TEST_F(JobManagerTest, AtMostAThousandFinishedJobsAreKeptOldestDroppedFirst) {
  auto m = Make();
  std::vector<std::string> ids;
  for (int i = 0; i < 1003; ++i) {
    ids.push_back(m->RunNow("FL", "flush", "{}", Done).job_id);
    clock_.AdvanceSeconds(1);
  }
  ASSERT_TRUE(m->Prune().ok());
  EXPECT_EQ(m->List().size(), 1000u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(m->Get(ids[i])) << i;
    EXPECT_EQ(StoredStatus(ids[i]), std::nullopt) << i;
  }
  EXPECT_TRUE(m->Get(ids[3]));
  EXPECT_EQ(StoredStatus(ids[3]), "completed");
}

TEST_F(JobManagerTest, PruneThatCannotDeleteForgetsNothing) {
  auto m = Make();
  const std::string id = m->RunNow("FL", "flush", "{}", Done).job_id;
  clock_.AdvanceSeconds(8 * 24 * 3600);
  store_.FailWrites(true);
  Status pruned = m->Prune();
  EXPECT_EQ(pruned.code(), StatusCode::kIoError);
  EXPECT_EQ(pruned.message(),
            "Could not delete expired jobs from system.jobs: injected write failure: disk full");
  EXPECT_TRUE(m->Get(id));
  store_.FailWrites(false);
  ASSERT_TRUE(m->Prune().ok());
  EXPECT_FALSE(m->Get(id));
}

TEST_F(JobManagerTest, AJobWhoseEndCannotBeStoredIsShownFailedNotCompleted) {
  auto m = Make();
  sql::JobInfo info = m->RunNow("FL", "flush", "{}", [&](JobContext&) -> Result<std::string> {
    store_.FailWrites(true);  // the disk fills while the job runs
    return std::string("Flushed 3 row(s)");
  });
  EXPECT_EQ(info.status, sql::JobStatus::kFailed);
  EXPECT_EQ(info.message,
            "Its outcome (completed: Flushed 3 row(s)) could not be saved in system.jobs: "
            "injected write failure: disk full");
  EXPECT_EQ(m->Get(info.job_id)->status, sql::JobStatus::kFailed);
  // The stored record still says running: a restart turns it into failed, never completed.
  EXPECT_EQ(StoredStatus(info.job_id), "running");
  store_.FailWrites(false);
  JobManager restarted(store_, ids_, clock_, {});
  ASSERT_TRUE(restarted.Start().ok());
  EXPECT_EQ(restarted.Get(info.job_id)->status, sql::JobStatus::kFailed);
}

TEST_F(JobManagerTest, AJobWhoseStartCannotBeStoredDoesNotRun) {
  auto m = Make();
  store_.FailWrites(true);
  bool ran = false;
  sql::JobInfo info = m->RunNow("FL", "flush", "{}", [&](JobContext&) -> Result<std::string> {
    ran = true;
    return std::string("done");
  });
  EXPECT_FALSE(ran);
  EXPECT_EQ(info.status, sql::JobStatus::kFailed);
  EXPECT_EQ(info.message,
            "Its outcome (failed: Not run: its running record could not be saved: injected write "
            "failure: disk full) could not be saved in system.jobs: injected write failure: disk "
            "full");
  EXPECT_EQ(StoredStatus(info.job_id), std::nullopt);
}

TEST_F(JobManagerTest, SubmitFailsAndQueuesNothingWhenTheQueuedRecordCannotBeStored) {
  auto m = Make();  // not started: no job thread can take the job first
  store_.FailWrites(true);
  bool running = false;
  auto id = m->Submit("FL", "flush", "k", "{}", Done, &running);
  EXPECT_EQ(id.status().code(), StatusCode::kIoError);
  EXPECT_EQ(id.status().message(),
            "The job could not be recorded in system.jobs: injected write failure: disk full");
  EXPECT_TRUE(m->List().empty());
  store_.FailWrites(false);
  auto again = m->Submit("FL", "flush", "k", "{}", Done, &running);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(running) << "the key was freed";
}

TEST_F(JobManagerTest, KillOfAQueuedJobWhoseRecordCannotBeStoredSaysSo) {
  auto m = Make();  // not started: the job stays queued
  bool running = false;
  auto id = m->Submit("FL", "flush", "k", "{}", Done, &running);
  ASSERT_TRUE(id.ok());
  store_.FailWrites(true);
  auto killed = m->Kill(*id);
  ASSERT_TRUE(killed.ok());
  EXPECT_EQ(*killed, sql::JobStatus::kCancelled);
  EXPECT_EQ(m->Get(*id)->message,
            "Killed before it started (its record could not be saved: injected write failure: "
            "disk full)");
  EXPECT_EQ(StoredStatus(*id), "queued");
}

// The records written for one job, in the order the store applied them, never go back from
// queued → running → completed/cancelled, and end with `last`.
void ExpectStoredInOrder(const std::vector<std::string>& written, const std::string& id,
                         const std::string& last) {
  static const std::map<std::string, int> rank = {
      {"queued", 0}, {"running", 1}, {"completed", 2}, {"cancelled", 2}};
  ASSERT_FALSE(written.empty()) << id;
  for (size_t i = 1; i < written.size(); ++i) {
    EXPECT_LT(rank.at(written[i - 1]), rank.at(written[i])) << id << " went backwards";
  }
  EXPECT_EQ(written.back(), last) << id;
}

// Polls (bounded) until `done` holds: for another thread to reach a state.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST_F(JobManagerTest, AJobKilledWhileItsQueuedRecordIsWrittenEndsCancelledNeverQueued) {
  // Submit's write of the queued record is held; meanwhile KILL JOB cancels the job and writes
  // its cancelled record. The older queued record must never land after (and over) the newer
  // one, and the job must never run.
  RecordingStore recording(*kv_);
  JobManager m(recording, ids_, clock_, {});
  ASSERT_TRUE(m.Start().ok());
  recording.HoldQueuedWrites();
  std::atomic<bool> ran{false};
  std::promise<Result<std::string>> submitted;
  std::thread submitter([&] {
    bool running = false;
    submitted.set_value(m.Submit("FL", "flush", "k", "{}",
                                 [&](JobContext&) -> Result<std::string> {
                                   ran = true;
                                   return std::string("done");
                                 },
                                 &running));
  });
  std::string id;
  const bool listed = Eventually([&] {
    auto jobs = m.List();
    if (!jobs.empty()) id = jobs[0].job_id;
    return !jobs.empty();
  });
  std::promise<Result<sql::JobStatus>> killed;
  std::thread killer([&] { killed.set_value(m.Kill(id)); });
  const bool cancelled_shown =
      listed && Eventually([&] {
        return m.Get(id) && m.Get(id)->status == sql::JobStatus::kCancelled;
      });
  recording.Release();
  submitter.join();
  killer.join();
  ASSERT_TRUE(listed) << "Submit never listed the job";
  ASSERT_TRUE(cancelled_shown);
  auto submit_result = submitted.get_future().get();
  ASSERT_TRUE(submit_result.ok()) << submit_result.status().ToString();
  EXPECT_EQ(*submit_result, id);
  auto kill_result = killed.get_future().get();
  ASSERT_TRUE(kill_result.ok());
  EXPECT_EQ(*kill_result, sql::JobStatus::kCancelled);
  m.WaitIdle();
  EXPECT_FALSE(ran);
  ExpectStoredInOrder(recording.Written(id), id, "cancelled");
  EXPECT_EQ(StoredStatus(id), "cancelled");
  EXPECT_EQ(m.Get(id)->message, "Killed before it started");
}

TEST_F(JobManagerTest, ManyConcurrentJobsEachEndWithTheirFinalRecordStored) {
  RecordingStore recording(*kv_);
  JobManagerOptions o;
  o.threads = 2;
  JobManager m(recording, ids_, clock_, o);
  ASSERT_TRUE(m.Start().ok());
  std::vector<std::thread> submitters;
  std::mutex ids_mu;
  std::vector<std::string> ids;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        bool running = false;
        auto id = m.Submit("FL", "flush", std::to_string(t) + "/" + std::to_string(i), "{}", Done,
                           &running);
        ASSERT_TRUE(id.ok());
        std::lock_guard lock(ids_mu);
        ids.push_back(*id);
      }
    });
  }
  for (auto& t : submitters) t.join();
  m.WaitIdle();
  ASSERT_EQ(ids.size(), 200u);
  for (const auto& id : ids) {
    ExpectStoredInOrder(recording.Written(id), id, "completed");
    EXPECT_EQ(StoredStatus(id), "completed") << id;
  }
}

}  // namespace
}  // namespace kalam::jobs
