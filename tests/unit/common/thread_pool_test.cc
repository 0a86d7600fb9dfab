// Tests for ThreadPool: every accepted task runs, shutdown drains the queue, and submissions after
// shutdown are refused.
#include "common/thread_pool.h"

#include <atomic>
#include <future>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace kalam {
namespace {

TEST(ThreadPoolTest, RunsEverySubmittedTaskOnWorkerThreads) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3u);
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> ids;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(pool.Submit([&] {
      ran.fetch_add(1);
      std::lock_guard lock(mu);
      ids.insert(std::this_thread::get_id());
    }));
  }
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 300);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
  EXPECT_LE(ids.size(), 3u);
}

TEST(ThreadPoolTest, ZeroThreadsMeansOnePerCore) {
  ThreadPool pool(0);
  EXPECT_GE(pool.size(), 1u);
}

TEST(ThreadPoolTest, ShutdownRunsTasksStillQueuedThenRefusesNewOnes) {
  ThreadPool pool(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> ran{0};
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&started, released] {  // blocks the only worker
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  EXPECT_EQ(pool.pending(), 100u);

  std::thread stopper([&] { pool.Shutdown(); });
  // Once shutdown has begun, submissions fail; wait for that point without sleeping on time.
  while (pool.Submit([] {})) {
  }
  EXPECT_EQ(ran.load(), 0);  // the worker is still blocked
  release.set_value();
  stopper.join();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(pool.pending(), 0u);
  EXPECT_FALSE(pool.Submit([&] { ran.fetch_add(1); }));
  pool.Shutdown();  // idempotent
  EXPECT_EQ(ran.load(), 100);
}

TEST(ThreadPoolTest, ConcurrentSubmittersLoseNoTask) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < 4; ++t) {
    submitters.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
    });
  }
  for (auto& t : submitters) t.join();
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 4000);
}

TEST(ThreadPoolTest, ThrowingTaskDoesNotStopTheWorker) {
  ThreadPool pool(1);
  std::atomic<int> ran{0};
  ASSERT_TRUE(pool.Submit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 1);
}

TEST(ThreadPoolTest, DestructorDrainsQueue) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  }
  EXPECT_EQ(ran.load(), 50);
}

}  // namespace
}  // namespace kalam
