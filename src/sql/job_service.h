// JobService: what the SQL layer may ask of the job system (which sits above it): start flushes
// and compactions, list jobs for system.jobs, and KILL JOB. Implemented by jobs::JobSystem.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"

namespace kalam::sql {

// One row of system.jobs.
struct JobInfo {
  std::string job_id;    // "FL-<id>" flush, "CO-<id>" compaction
  std::string job_type;  // "flush", "compact"
  std::string status;    // queued, running, completed, failed, cancelled, skipped
  std::string parameters_json = "{}";
  std::string message;
  std::string exception_trace;
  int64_t retry_count = 0;
  int64_t memory_used = 0;  // bytes
  int64_t cpu_used = 0;     // µs of CPU time
  int64_t created_at_us = 0;
  int64_t started_at_us = 0;   // 0 = not yet
  int64_t finished_at_us = 0;  // 0 = not yet
  std::string node_id;
};

// The answer to a flush/compaction request.
struct JobStart {
  enum class Kind : uint8_t {
    kStarted,         // a new job was queued: job_id
    kAlreadyRunning,  // a job for this table is queued or running: job_id is that job
    kSkipped,         // nothing to do (no hot rows to flush / nothing to compact)
  };
  Kind kind = Kind::kStarted;
  std::string job_id;
};

// Thread-safe.
class JobService {
 public:
  virtual ~JobService() = default;
  virtual Result<JobStart> FlushTable(std::shared_ptr<const catalog::TableDef> table) = 0;
  virtual Result<JobStart> CompactTable(std::shared_ptr<const catalog::TableDef> table) = 0;
  virtual std::vector<JobInfo> ListJobs() const = 0;
  // Cancels a queued or running job; returns its status afterwards ("cancelled", or the final
  // status of a job that had already finished). kNotFound for an unknown id.
  virtual Result<std::string> KillJob(std::string_view job_id) = 0;
};

}  // namespace kalam::sql
