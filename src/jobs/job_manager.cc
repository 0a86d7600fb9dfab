// JobManager: queue, job threads, persistence and retention of system.jobs.
#include "jobs/job_manager.h"

#include <time.h>

#include <algorithm>
#include <tuple>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

extern "C" {
// jemalloc's control interface when the binary links jemalloc (the server does); null otherwise.
int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));
}

namespace kalam::jobs {

namespace json = boost::json;
using storage::Partition;

namespace {

constexpr std::string_view kJobPrefix = "job/";
constexpr const char* kShutdownCancel = "Cancelled by server shutdown before it started";

std::string ToJson(const sql::JobInfo& j) {
  return json::serialize(json::object{
      {"job_id", j.job_id}, {"job_type", j.job_type}, {"status", sql::JobStatusName(j.status)},
      {"parameters", j.parameters_json}, {"message", j.message},
      {"exception_trace", j.exception_trace}, {"retry_count", j.retry_count},
      {"memory_used", j.memory_used}, {"cpu_used", j.cpu_used},
      {"created_at_us", j.created_at_us}, {"started_at_us", j.started_at_us},
      {"finished_at_us", j.finished_at_us}, {"node_id", j.node_id}});
}

Result<sql::JobInfo> FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("Stored job is not valid JSON");
  try {
    const auto& o = v.as_object();
    sql::JobInfo j;
    j.job_id = std::string(o.at("job_id").as_string());
    j.job_type = std::string(o.at("job_type").as_string());
    const std::optional<sql::JobStatus> status = sql::ParseJobStatus(o.at("status").as_string());
    if (!status) return Status::Corruption("Stored job has an unknown status");
    j.status = *status;
    j.parameters_json = std::string(o.at("parameters").as_string());
    j.message = std::string(o.at("message").as_string());
    j.exception_trace = std::string(o.at("exception_trace").as_string());
    j.retry_count = o.at("retry_count").to_number<int64_t>();
    j.memory_used = o.at("memory_used").to_number<int64_t>();
    j.cpu_used = o.at("cpu_used").to_number<int64_t>();
    j.created_at_us = o.at("created_at_us").to_number<int64_t>();
    j.started_at_us = o.at("started_at_us").to_number<int64_t>();
    j.finished_at_us = o.at("finished_at_us").to_number<int64_t>();
    j.node_id = std::string(o.at("node_id").as_string());
    return j;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("Stored job is malformed: ") + e.what());
  }
}

int64_t ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// Bytes allocated so far by this thread (jemalloc), or 0 when unknown.
int64_t ThreadAllocatedBytes() {
  if (!mallctl) return 0;
  uint64_t v = 0;
  size_t len = sizeof(v);
  if (mallctl("thread.allocated", &v, &len, nullptr, 0) != 0) return 0;
  return static_cast<int64_t>(v);
}

}  // namespace

JobManager::JobManager(storage::KvStore& kv, SnowflakeGenerator& ids, const Clock& clock,
                       JobManagerOptions options)
    : kv_(kv), ids_(ids), clock_(clock), options_(std::move(options)) {}

JobManager::~JobManager() { Stop(); }

Status JobManager::Persist(const sql::JobInfo& info) {
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, std::string(kJobPrefix) + info.job_id, ToJson(info));
  return kv_.Write(batch);
}

std::pair<sql::JobInfo, uint64_t> JobManager::CancelUnstarted(Job& job, std::string message) {
  job.info.status = sql::JobStatus::kCancelled;
  job.info.message = std::move(message);
  job.info.finished_at_us = clock_.NowMicros();
  active_by_key_.erase(job.key);
  job.fn = nullptr;
  return {job.info, ++job.version};
}

Status JobManager::Store(Job& job, const sql::JobInfo& info, uint64_t version) {
  std::unique_lock lock(mu_);
  // One writer per job at a time, so that a write of an older version can never land after
  // (and overwrite) a newer one.
  store_cv_.wait(lock, [&] { return !job.storing; });
  if (job.stored_version >= version) return Status::OK();
  job.storing = true;
  lock.unlock();
  Status s = Persist(info);
  lock.lock();
  job.storing = false;
  if (s.ok()) job.stored_version = version;
  lock.unlock();
  store_cv_.notify_all();
  return s;
}

void JobManager::StoreOrMark(Job& job, const sql::JobInfo& info, uint64_t version) {
  Status s = Store(job, info, version);
  if (s.ok()) return;
  spdlog::error("Job {}: its {} record could not be saved in system.jobs: {}", info.job_id,
                sql::JobStatusName(info.status), s.ToString());
  std::lock_guard lock(mu_);
  job.info.message += " (its record could not be saved: " + s.message() + ")";
}

Status JobManager::Start() {
  auto it = kv_.NewIterator(Partition::kSystem);
  std::vector<sql::JobInfo> interrupted;
  {
    std::lock_guard lock(mu_);
    for (it->Seek(kJobPrefix); it->Valid() && it->key().starts_with(kJobPrefix); it->Next()) {
      KALAM_ASSIGN_OR_RETURN(sql::JobInfo info, FromJson(it->value()));
      if (!sql::IsFinal(info.status)) {
        info.status = sql::JobStatus::kFailed;
        info.message = "Interrupted by a server restart before it finished; no row was lost: "
                       "what it had not moved yet is still where it was, for the next run";
        info.finished_at_us = clock_.NowMicros();
        interrupted.push_back(info);
      }
      auto job = std::make_shared<Job>();
      job->info = std::move(info);
      jobs_[job->info.job_id] = std::move(job);
    }
    KALAM_RETURN_IF_ERROR(it->status());
  }
  for (const auto& info : interrupted) KALAM_RETURN_IF_ERROR(Persist(info));
  KALAM_RETURN_IF_ERROR(Prune());
  std::lock_guard lock(mu_);
  stopping_ = false;
  for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  return Status::OK();
}

void JobManager::Stop() {
  std::vector<std::tuple<std::shared_ptr<Job>, sql::JobInfo, uint64_t>> cancelled;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto& job : queue_) {
      auto [info, version] = CancelUnstarted(*job, kShutdownCancel);
      cancelled.emplace_back(job, std::move(info), version);
    }
    queue_.clear();
    for (auto& [id, job] : jobs_) job->cancelled->store(true);
  }
  for (auto& [job, info, version] : cancelled) StoreOrMark(*job, info, version);
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  idle_cv_.notify_all();
}

std::string JobManager::NewId(std::string_view prefix) {
  return std::string(prefix) + "-" + std::to_string(ids_.Next());
}

sql::JobInfo JobManager::NewInfo(std::string_view prefix, std::string job_type,
                                 std::string parameters_json, sql::JobStatus status) {
  sql::JobInfo info;
  info.job_id = NewId(prefix);
  info.job_type = std::move(job_type);
  info.status = status;
  info.parameters_json = std::move(parameters_json);
  info.created_at_us = clock_.NowMicros();
  info.node_id = options_.node_id;
  return info;
}

Result<std::string> JobManager::Submit(std::string_view prefix, std::string job_type,
                                       std::string key, std::string parameters_json, JobFn fn,
                                       bool* already_running) {
  *already_running = false;
  auto job = std::make_shared<Job>();
  sql::JobInfo queued;
  uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::Unavailable("Server is shutting down; no new jobs");
    if (auto it = active_by_key_.find(key); it != active_by_key_.end()) {
      *already_running = true;
      return it->second;
    }
    job->info = NewInfo(prefix, std::move(job_type), std::move(parameters_json),
                        sql::JobStatus::kQueued);
    job->key = std::move(key);
    job->fn = std::move(fn);
    // Listed (and killable, and one per key) from now on, but queued for a job thread only once
    // its record is stored.
    jobs_[job->info.job_id] = job;
    active_by_key_[job->key] = job->info.job_id;
    queued = job->info;
    version = ++job->version;
  }
  Status stored = Store(*job, queued, version);
  std::unique_lock lock(mu_);
  if (!stored.ok()) {
    if (job->info.status == sql::JobStatus::kQueued) {
      jobs_.erase(queued.job_id);
      active_by_key_.erase(job->key);
      return stored.WithPrefix("The job could not be recorded in system.jobs: ");
    }
    // Killed meanwhile: its cancelled record (stored or marked by Kill) tells the story.
    return queued.job_id;
  }
  if (job->info.status != sql::JobStatus::kQueued) return queued.job_id;  // killed meanwhile
  if (stopping_) {
    auto [cancelled, cancelled_version] = CancelUnstarted(*job, kShutdownCancel);
    lock.unlock();
    StoreOrMark(*job, cancelled, cancelled_version);
    return queued.job_id;
  }
  queue_.push_back(job);
  lock.unlock();
  cv_.notify_one();
  return queued.job_id;
}

sql::JobInfo JobManager::RunNow(std::string_view prefix, std::string job_type,
                                std::string parameters_json, JobFn fn) {
  auto job = std::make_shared<Job>();
  {
    std::lock_guard lock(mu_);
    job->info = NewInfo(prefix, std::move(job_type), std::move(parameters_json),
                        sql::JobStatus::kQueued);
    job->fn = std::move(fn);
    job->taken = true;
    jobs_[job->info.job_id] = job;
    ++running_;
  }
  Execute(job);
  std::lock_guard lock(mu_);
  return job->info;
}

std::string JobManager::RecordFailed(std::string_view prefix, std::string job_type,
                                     std::string parameters_json, std::string message) {
  auto job = std::make_shared<Job>();
  sql::JobInfo failed;
  uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    job->info = NewInfo(prefix, std::move(job_type), std::move(parameters_json),
                        sql::JobStatus::kFailed);
    job->info.message = std::move(message);
    job->info.finished_at_us = job->info.created_at_us;
    jobs_[job->info.job_id] = job;
    failed = job->info;
    version = ++job->version;
  }
  StoreOrMark(*job, failed, version);
  return failed.job_id;
}

void JobManager::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    auto job = queue_.front();
    queue_.pop_front();
    job->taken = true;
    ++running_;
    lock.unlock();
    Execute(job);
    lock.lock();
  }
}

void JobManager::Execute(const std::shared_ptr<Job>& job) {
  sql::JobInfo running;
  uint64_t version = 0;
  {
    std::lock_guard lock(mu_);
    job->info.status = sql::JobStatus::kRunning;
    job->info.started_at_us = clock_.NowMicros();
    running = job->info;
    version = ++job->version;
  }
  // A job whose start cannot be recorded does not run: after a crash its record would not say
  // that it had touched anything.
  const Status started = Store(*job, running, version);
  JobContext ctx;
  ctx.job_id_ = running.job_id;
  ctx.cancelled_ = job->cancelled;
  ctx.progress_ = [this, raw = job.get()](std::string step) {
    std::lock_guard lock(mu_);
    raw->info.message = std::move(step);
  };
  const int64_t cpu0 = ThreadCpuMicros();
  const int64_t mem0 = ThreadAllocatedBytes();
  Result<std::string> outcome = Status::Internal("job did not run");
  if (!started.ok()) {
    outcome = started.WithPrefix("Not run: its running record could not be saved: ");
  } else if (job->cancelled->load()) {
    outcome = Status::Unavailable("cancelled before it started");
  } else {
    outcome = job->fn(ctx);
  }
  const int64_t cpu = ThreadCpuMicros() - cpu0;
  const int64_t mem = ThreadAllocatedBytes() - mem0;
  sql::JobInfo final_info;
  {
    std::lock_guard lock(mu_);
    final_info = job->info;
    version = ++job->version;
  }
  final_info.cpu_used = cpu;
  final_info.memory_used = mem;
  final_info.finished_at_us = clock_.NowMicros();
  if (job->cancelled->load()) {
    final_info.status = sql::JobStatus::kCancelled;
    final_info.message = outcome.ok() ? *outcome + " (cancelled)"
                                      : "Cancelled: " + outcome.status().message();
  } else if (outcome.ok()) {
    final_info.status = sql::JobStatus::kCompleted;
    final_info.message = *outcome;
  } else {
    final_info.status = sql::JobStatus::kFailed;
    final_info.message = outcome.status().message();
    final_info.exception_trace = outcome.status().ToString();
  }
  // The job shows "running" until its end is stored. An end that cannot be stored is shown as
  // failed: the stored record still says running, which the next start turns into failed.
  const Status ended = Store(*job, final_info, version);
  if (!ended.ok()) {
    spdlog::error("Job {}: its final record ({}: {}) could not be saved in system.jobs: {}",
                  final_info.job_id, sql::JobStatusName(final_info.status), final_info.message,
                  ended.ToString());
    final_info.message = "Its outcome (" + std::string(sql::JobStatusName(final_info.status)) +
                         ": " + final_info.message +
                         ") could not be saved in system.jobs: " + ended.message();
    final_info.status = sql::JobStatus::kFailed;
    final_info.exception_trace = ended.ToString();
  }
  std::lock_guard lock(mu_);
  job->info = std::move(final_info);
  if (!job->key.empty()) active_by_key_.erase(job->key);
  job->fn = nullptr;
  --running_;
  idle_cv_.notify_all();
}

std::vector<sql::JobInfo> JobManager::List() const {
  std::lock_guard lock(mu_);
  std::vector<sql::JobInfo> out;
  out.reserve(jobs_.size());
  for (const auto& [id, job] : jobs_) out.push_back(job->info);
  return out;
}

std::optional<sql::JobInfo> JobManager::Get(std::string_view job_id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(std::string(job_id));
  if (it == jobs_.end()) return std::nullopt;
  return it->second->info;
}

Result<sql::JobStatus> JobManager::Kill(std::string_view job_id) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(std::string(job_id));
  if (it == jobs_.end()) return Status::NotFound("Job '" + std::string(job_id) + "' does not exist");
  auto job = it->second;
  if (sql::IsFinal(job->info.status)) return job->info.status;
  job->cancelled->store(true);
  if (!job->taken) {
    // Queued, or still being admitted by Submit (which then leaves it alone).
    if (auto q = std::find(queue_.begin(), queue_.end(), job); q != queue_.end()) queue_.erase(q);
    auto [cancelled, version] = CancelUnstarted(*job, "Killed before it started");
    lock.unlock();
    StoreOrMark(*job, cancelled, version);
    return cancelled.status;
  }
  // Running: it stops at its next check; wait briefly so the answer is the final status.
  idle_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return sql::IsFinal(job->info.status); });
  return job->info.status;
}

void JobManager::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

Status JobManager::Prune() {
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    const int64_t cutoff =
        clock_.NowMicros() -
        std::chrono::duration_cast<std::chrono::microseconds>(options_.retention).count();
    std::vector<std::pair<int64_t, std::string>> finished;
    for (const auto& [id, job] : jobs_) {
      if (!sql::IsFinal(job->info.status)) continue;
      if (job->info.finished_at_us < cutoff) {
        doomed.push_back(id);
      } else {
        finished.emplace_back(job->info.finished_at_us, id);
      }
    }
    if (finished.size() > options_.max_finished_jobs) {
      std::sort(finished.begin(), finished.end());
      for (size_t i = 0; i < finished.size() - options_.max_finished_jobs; ++i) {
        doomed.push_back(finished[i].second);
      }
    }
  }
  if (doomed.empty()) return Status::OK();
  // Finished jobs never change again, so the records deleted are the ones chosen above.
  storage::WriteBatch batch;
  for (const auto& id : doomed) batch.Delete(Partition::kSystem, std::string(kJobPrefix) + id);
  KALAM_RETURN_IF_ERROR(
      kv_.Write(batch).WithPrefix("Could not delete expired jobs from system.jobs: "));
  std::lock_guard lock(mu_);
  for (const auto& id : doomed) jobs_.erase(id);
  return Status::OK();
}

}  // namespace kalam::jobs
