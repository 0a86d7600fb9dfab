// ThreadPool implementation: one mutex-guarded deque, workers sleeping on a condition variable.
#include "common/thread_pool.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace kalam {

ThreadPool::ThreadPool(size_t num_threads) {
  if (num_threads == 0) {
    num_threads = std::thread::hardware_concurrency();
    if (num_threads == 0) num_threads = 1;
  }
  workers_.reserve(num_threads);
  for (size_t i = 0; i < num_threads; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ThreadPool::~ThreadPool() { Shutdown(); }

bool ThreadPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void ThreadPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
  std::lock_guard join_lock(join_mu_);
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

size_t ThreadPool::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return shutting_down_ || !queue_.empty(); });
      // Queued work is drained before exiting: shutdown only stops new submissions.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("Worker task threw an exception (dropped): {}", e.what());
    } catch (...) {
      spdlog::error("Worker task threw a non-standard exception (dropped)");
    }
  }
}

}  // namespace kalam
