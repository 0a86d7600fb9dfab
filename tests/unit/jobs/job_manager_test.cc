// Tests for the JobManager: lifecycle and records, one job per key, KILL JOB of queued and running
// jobs, recovery of jobs a crash interrupted, and retention.
#include "jobs/job_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace kalam::jobs {
namespace {

class JobManagerTest : public ::testing::Test {
 protected:
  std::unique_ptr<JobManager> Make(JobManagerOptions o = {}) {
    return std::make_unique<JobManager>(*kv_, ids_, clock_, o);
  }
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;
  SnowflakeGenerator ids_{1, clock_};
};

TEST_F(JobManagerTest, RunsJobsAndRecordsOutcomes) {
  auto m = Make();
  ASSERT_TRUE(m->Start().ok());
  bool running = false;
  auto ok = m->Submit("FL", "flush", "a", "{\"x\":1}",
                      [](JobContext&) -> Result<std::string> { return std::string("done"); },
                      &running);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->rfind("FL-", 0), 0u);
  auto bad = m->Submit("FL", "flush", "b", "{}",
                       [](JobContext&) -> Result<std::string> { return Status::IoError("disk"); },
                       &running);
  ASSERT_TRUE(bad.ok());
  m->WaitIdle();
  auto a = m->Get(*ok);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, "completed");
  EXPECT_EQ(a->message, "done");
  EXPECT_EQ(a->parameters_json, "{\"x\":1}");
  EXPECT_GT(a->started_at_us, 0);
  auto b = m->Get(*bad);
  EXPECT_EQ(b->status, "failed");
  EXPECT_EQ(b->message, "disk");
  EXPECT_FALSE(b->exception_trace.empty());
  EXPECT_EQ(m->List().size(), 2u);
}

TEST_F(JobManagerTest, OneJobPerKeyAndKill) {
  auto m = Make();
  ASSERT_TRUE(m->Start().ok());
  std::atomic<bool> started{false};
  bool running = false;
  auto first = m->Submit("FL", "flush", "t1", "{}",
                         [&](JobContext& ctx) -> Result<std::string> {
                           started = true;
                           while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                           return std::string("stopped");
                         },
                         &running);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(running);
  auto second = m->Submit("FL", "flush", "t1", "{}",
                          [](JobContext&) -> Result<std::string> { return std::string("x"); },
                          &running);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(running);
  EXPECT_EQ(*second, *first);
  // A queued job behind the running one (single thread) is cancelled without running.
  bool ran = false;
  auto queued = m->Submit("FL", "flush", "t2", "{}",
                          [&](JobContext&) -> Result<std::string> {
                            ran = true;
                            return std::string("x");
                          },
                          &running);
  ASSERT_TRUE(queued.ok());
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto k2 = m->Kill(*queued);
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(*k2, "cancelled");
  auto k1 = m->Kill(*first);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(*k1, "cancelled");
  m->WaitIdle();
  EXPECT_FALSE(ran);
  EXPECT_EQ(m->Kill("FL-nope").status().code(), StatusCode::kNotFound);
  // The key is free again.
  auto third = m->Submit("FL", "flush", "t1", "{}",
                         [](JobContext&) -> Result<std::string> { return std::string("x"); },
                         &running);
  EXPECT_FALSE(running);
  EXPECT_NE(*third, *first);
}

TEST_F(JobManagerTest, InterruptedJobsAreFailedAtStartAndOldOnesPruned) {
  {
    auto m = Make();
    ASSERT_TRUE(m->Start().ok());
    bool running = false;
    std::atomic<bool> go{false};
    auto id = m->Submit("FL", "flush", "k", "{}",
                        [&](JobContext& ctx) -> Result<std::string> {
                          go = true;
                          while (!ctx.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                          return std::string("x");
                        },
                        &running);
    ASSERT_TRUE(id.ok());
    while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Simulate a crash: the stored record still says "running". Copy the store's state now.
    auto stored = m->Get(*id);
    ASSERT_EQ(stored->status, "running");
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
  JobManagerOptions o;
  o.retention = std::chrono::hours(1);
  auto m = Make(o);
  ASSERT_TRUE(m->Start().ok());
  auto jobs = m->List();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].status, "failed");
  EXPECT_NE(jobs[0].message.find("Interrupted by a server restart"), std::string::npos);
  clock_.AdvanceSeconds(2 * 3600);
  m->Prune();
  EXPECT_TRUE(m->List().empty());
}

}  // namespace
}  // namespace kalam::jobs
