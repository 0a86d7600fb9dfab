// JobManager: background jobs (flush, compaction) with their records in system.jobs — queued,
// run on a small pool of job threads, cancellable, persisted so that a restart shows what happened
// (jobs a crash interrupted are marked failed at startup), and pruned after a retention period.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/snowflake.h"
#include "common/status.h"
#include "sql/job_service.h"
#include "storage/kv_store.h"
#include "table/flusher.h"

namespace kalam::jobs {

struct JobManagerOptions {
  // Job threads. Default 1 (flushes are I/O and CPU heavy; the machine serves queries too).
  size_t threads = 1;
  // Finished jobs older than this are deleted from system.jobs. Default 7 days.
  std::chrono::hours retention{24 * 7};
  // At most this many finished jobs are kept (oldest dropped first). Default 1000.
  size_t max_finished_jobs = 1000;
  std::string node_id = "node-1";
};

// Given to a running job; the context of the flushes and compactions it runs. Thread-safe.
class JobContext : public table::TieringContext {
 public:
  // True once KILL JOB (or shutdown) asked the job to stop; jobs check it between steps and
  // return early, leaving everything consistent.
  bool cancelled() const override {
    return cancelled_ && cancelled_->load(std::memory_order_relaxed);
  }
  const std::string& job_id() const { return job_id_; }
  // Shows `step` as the running job's message in system.jobs (in memory only; the final message
  // replaces it). A context not made by a JobManager ignores it.
  void ReportProgress(std::string step) const override {
    if (progress_) progress_(std::move(step));
  }

 private:
  friend class JobManager;
  std::string job_id_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
  std::function<void(std::string)> progress_;
};

// What a job returns: its final message (completed) or an error (failed). A job that returns
// after cancelled() became true is recorded as cancelled.
using JobFn = std::function<Result<std::string>(JobContext&)>;

// Thread-safe. Every state change of a job (queued, running, its end) is written to the store
// as its record, outside the manager's lock; the writes of one job are ordered by a per-job
// version, so an older state never overwrites a newer one. A record that cannot be written is
// logged and never hidden: a job whose start cannot be recorded does not run, and a job whose
// end cannot be recorded is shown as failed (not completed), with the storage error in its
// message.
class JobManager {
 public:
  JobManager(storage::KvStore& kv, SnowflakeGenerator& ids, const Clock& clock,
             JobManagerOptions options);
  ~JobManager();

  // Loads stored jobs: those left queued or running by a crash become failed ("Interrupted by a
  // server restart"); old finished jobs are pruned. Then starts the job threads.
  Status Start();
  // Cancels queued jobs, asks running ones to stop, waits for them, joins the threads.
  void Stop();

  // Queues a job unless one with the same `key` (e.g. "flush:<table id>") is queued or running,
  // in which case that job's id is returned with *already_running = true.
  // `prefix` starts the id ("FL" → "FL-<n>"). The job is handed to a job thread only after its
  // queued record is stored; when that write fails, Submit fails with the storage error and
  // nothing is queued.
  Result<std::string> Submit(std::string_view prefix, std::string job_type, std::string key,
                             std::string parameters_json, JobFn fn, bool* already_running);

  // Runs the job on the calling thread (graceful-shutdown flushes), recording it like Submit.
  // Returns the job's final record (completed, failed or cancelled).
  sql::JobInfo RunNow(std::string_view prefix, std::string job_type, std::string parameters_json,
                      JobFn fn);

  // Records a job that could not even start (e.g. a scheduled flush whose submission failed) as
  // failed with `message`, so that system.jobs shows it; the record is stored when the store
  // allows (otherwise logged). Returns its id.
  std::string RecordFailed(std::string_view prefix, std::string job_type,
                           std::string parameters_json, std::string message);

  std::vector<sql::JobInfo> List() const;
  std::optional<sql::JobInfo> Get(std::string_view job_id) const;
  // See sql::JobService::KillJob.
  Result<sql::JobStatus> Kill(std::string_view job_id);
  // Blocks until no job is queued or running (tests, shutdown).
  void WaitIdle();
  // Deletes finished jobs past the retention period (by the injected clock) or beyond the count
  // limit, oldest first. On a storage error nothing is forgotten and the error is returned.
  Status Prune();

 private:
  struct Job {
    sql::JobInfo info;  // guarded by mu_: what system.jobs shows
    std::string key;
    JobFn fn;
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
    uint64_t version = 0;         // guarded by mu_: bumped by every change to be stored
    uint64_t stored_version = 0;  // guarded by mu_: newest version written to the store
    bool storing = false;         // guarded by mu_: a thread is writing this job's record
    bool taken = false;           // guarded by mu_: a thread runs (or ran) it
  };

  void WorkerLoop();
  void Execute(const std::shared_ptr<Job>& job);
  // Marks a job no thread has taken as cancelled with `message`; returns the record to store and
  // its version. Requires mu_.
  std::pair<sql::JobInfo, uint64_t> CancelUnstarted(Job& job, std::string message);
  // Writes `info`, version `version` of `job`'s record (the caller bumped job->version under
  // mu_ when it made `info`). Called without mu_. Waits while another thread writes the same
  // job; returns OK without writing when a version at least as new is already stored.
  Status Store(Job& job, const sql::JobInfo& info, uint64_t version);
  // Store, and on failure log it and append the error to the job's shown message.
  void StoreOrMark(Job& job, const sql::JobInfo& info, uint64_t version);
  Status Persist(const sql::JobInfo& info);
  std::string NewId(std::string_view prefix);
  // The record of a new job: a fresh id, created now on this node, with `status`. Requires mu_.
  sql::JobInfo NewInfo(std::string_view prefix, std::string job_type,
                       std::string parameters_json, sql::JobStatus status);

  storage::KvStore& kv_;
  SnowflakeGenerator& ids_;
  const Clock& clock_;
  const JobManagerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work queued, or stopping
  std::condition_variable idle_cv_;  // a job finished
  std::condition_variable store_cv_;  // a job's record write finished
  std::map<std::string, std::shared_ptr<Job>> jobs_;    // guarded by mu_: every known job by id
  std::map<std::string, std::string> active_by_key_;    // guarded by mu_: key → queued/running id
  std::deque<std::shared_ptr<Job>> queue_;              // guarded by mu_
  size_t running_ = 0;                                  // guarded by mu_
  bool stopping_ = false;                               // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace kalam::jobs
