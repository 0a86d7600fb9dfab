// JobManager: queue, job threads, persistence and retention of system.jobs.
#include "jobs/job_manager.h"

#include <time.h>

#include <algorithm>

#include <boost/json.hpp>

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

std::string ToJson(const sql::JobInfo& j) {
  return json::serialize(json::object{
      {"job_id", j.job_id}, {"job_type", j.job_type}, {"status", j.status},
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
    j.status = std::string(o.at("status").as_string());
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

bool Finished(const std::string& status) {
  return status != "queued" && status != "running";
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

Status JobManager::Start() {
  auto it = kv_.NewIterator(Partition::kSystem);
  std::vector<sql::JobInfo> interrupted;
  {
    std::lock_guard lock(mu_);
    for (it->Seek(kJobPrefix); it->Valid() && it->key().starts_with(kJobPrefix); it->Next()) {
      KALAM_ASSIGN_OR_RETURN(sql::JobInfo info, FromJson(it->value()));
      if (!Finished(info.status)) {
        info.status = "failed";
        info.message = "Interrupted by a server restart before it finished; its table keeps "
                       "every row in hot storage and is flushed again by the next flush";
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
  Prune();
  std::lock_guard lock(mu_);
  stopping_ = false;
  for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
  return Status::OK();
}

void JobManager::Stop() {
  std::vector<std::shared_ptr<Job>> cancelled;
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto& job : queue_) cancelled.push_back(job);
    queue_.clear();
    for (auto& [id, job] : jobs_) job->cancelled->store(true);
  }
  for (auto& job : cancelled) {
    std::lock_guard lock(mu_);
    job->info.status = "cancelled";
    job->info.message = "Cancelled by server shutdown before it started";
    job->info.finished_at_us = clock_.NowMicros();
    active_by_key_.erase(job->key);
    (void)Persist(job->info);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  idle_cv_.notify_all();
}

std::string JobManager::NewId(std::string_view prefix) {
  return std::string(prefix) + "-" + std::to_string(ids_.Next());
}

Result<std::string> JobManager::Submit(std::string_view prefix, std::string job_type,
                                       std::string key, std::string parameters_json, JobFn fn,
                                       bool* already_running) {
  *already_running = false;
  auto job = std::make_shared<Job>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status::Unavailable("Server is shutting down; no new jobs");
    if (auto it = active_by_key_.find(key); it != active_by_key_.end()) {
      *already_running = true;
      return it->second;
    }
    job->info.job_id = NewId(prefix);
    job->info.job_type = std::move(job_type);
    job->info.status = "queued";
    job->info.parameters_json = std::move(parameters_json);
    job->info.created_at_us = clock_.NowMicros();
    job->info.node_id = options_.node_id;
    job->key = std::move(key);
    job->fn = std::move(fn);
    KALAM_RETURN_IF_ERROR(Persist(job->info));
    jobs_[job->info.job_id] = job;
    active_by_key_[job->key] = job->info.job_id;
    queue_.push_back(job);
  }
  cv_.notify_one();
  return job->info.job_id;
}

Result<std::string> JobManager::RunNow(std::string_view prefix, std::string job_type,
                                       std::string parameters_json, JobFn fn) {
  auto job = std::make_shared<Job>();
  {
    std::lock_guard lock(mu_);
    job->info.job_id = NewId(prefix);
    job->info.job_type = std::move(job_type);
    job->info.status = "queued";
    job->info.parameters_json = std::move(parameters_json);
    job->info.created_at_us = clock_.NowMicros();
    job->info.node_id = options_.node_id;
    job->fn = std::move(fn);
    jobs_[job->info.job_id] = job;
    ++running_;
  }
  Execute(job);
  return job->info.job_id;
}

void JobManager::WorkerLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    auto job = queue_.front();
    queue_.pop_front();
    ++running_;
    lock.unlock();
    Execute(job);
    lock.lock();
  }
}

void JobManager::Execute(const std::shared_ptr<Job>& job) {
  {
    std::lock_guard lock(mu_);
    job->info.status = "running";
    job->info.started_at_us = clock_.NowMicros();
    (void)Persist(job->info);
  }
  JobContext ctx;
  ctx.job_id_ = job->info.job_id;
  ctx.cancelled_ = job->cancelled;
  const int64_t cpu0 = ThreadCpuMicros();
  const int64_t mem0 = ThreadAllocatedBytes();
  Result<std::string> outcome = Status::Internal("job did not run");
  if (job->cancelled->load()) {
    outcome = Status::Unavailable("cancelled before it started");
  } else {
    outcome = job->fn(ctx);
  }
  const int64_t cpu = ThreadCpuMicros() - cpu0;
  const int64_t mem = ThreadAllocatedBytes() - mem0;
  std::lock_guard lock(mu_);
  job->info.cpu_used = cpu;
  job->info.memory_used = mem;
  job->info.finished_at_us = clock_.NowMicros();
  if (job->cancelled->load()) {
    job->info.status = "cancelled";
    job->info.message = outcome.ok() ? *outcome + " (cancelled)" : "Cancelled: " +
                                                                        outcome.status().message();
  } else if (outcome.ok()) {
    job->info.status = "completed";
    job->info.message = *outcome;
  } else {
    job->info.status = "failed";
    job->info.message = outcome.status().message();
    job->info.exception_trace = outcome.status().ToString();
  }
  (void)Persist(job->info);
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

Result<std::string> JobManager::Kill(std::string_view job_id) {
  std::unique_lock lock(mu_);
  auto it = jobs_.find(std::string(job_id));
  if (it == jobs_.end()) return Status::NotFound("Job '" + std::string(job_id) + "' does not exist");
  auto job = it->second;
  if (Finished(job->info.status)) return job->info.status;
  job->cancelled->store(true);
  for (auto q = queue_.begin(); q != queue_.end(); ++q) {
    if (*q == job) {
      queue_.erase(q);
      job->info.status = "cancelled";
      job->info.message = "Killed before it started";
      job->info.finished_at_us = clock_.NowMicros();
      active_by_key_.erase(job->key);
      (void)Persist(job->info);
      return job->info.status;
    }
  }
  // Running: it stops at its next check; wait briefly so the answer is the final status.
  idle_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return Finished(job->info.status); });
  return job->info.status;
}

void JobManager::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && running_ == 0; });
}

void JobManager::Prune() {
  std::vector<std::string> doomed;
  {
    std::lock_guard lock(mu_);
    const int64_t cutoff =
        clock_.NowMicros() -
        std::chrono::duration_cast<std::chrono::microseconds>(options_.retention).count();
    std::vector<std::pair<int64_t, std::string>> finished;
    for (const auto& [id, job] : jobs_) {
      if (!Finished(job->info.status)) continue;
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
    for (const auto& id : doomed) jobs_.erase(id);
  }
  if (doomed.empty()) return;
  storage::WriteBatch batch;
  for (const auto& id : doomed) batch.Delete(Partition::kSystem, std::string(kJobPrefix) + id);
  (void)kv_.Write(batch);
}

}  // namespace kalam::jobs
