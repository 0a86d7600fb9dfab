// ThreadPool: a fixed set of worker threads running submitted tasks in FIFO order; the worker pool
// that request handlers hand SQL and storage work to, so that I/O threads only parse and write.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kalam {

// A fixed pool of worker threads. Tasks run in submission order (FIFO queue), each on whichever
// worker is free. A task that throws is logged and dropped; the worker keeps running.
// Thread-safe: Submit, Shutdown and the accessors may be called from any thread, concurrently.
class ThreadPool {
 public:
  // Starts `num_threads` workers; 0 means one per hardware core (at least 1).
  explicit ThreadPool(size_t num_threads);

  // Shuts down (drains the queue and joins). Must not run on one of this pool's workers.
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task` to run on a worker. Returns false, without running or keeping the task, once
  // Shutdown has begun.
  bool Submit(std::function<void()> task);

  // Stops accepting tasks, runs every task already queued, then joins the workers. Idempotent; a
  // concurrent second call returns once the first has finished. Must not be called from a task
  // running on this pool (a worker cannot join itself).
  void Shutdown();

  // Number of worker threads.
  size_t size() const { return workers_.size(); }

  // Tasks queued and not yet started (a snapshot, for metrics).
  size_t pending() const;

 private:
  void WorkerLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;             // signalled on a new task and on shutdown
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool shutting_down_ = false;               // guarded by mu_
  std::mutex join_mu_;                       // serializes the joining part of Shutdown
  std::vector<std::thread> workers_;         // written only by the constructor and Shutdown
};

}  // namespace kalam
