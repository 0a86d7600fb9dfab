// JobService: what the SQL layer may ask of the job system (which sits above it): start flushes
// and compactions, list jobs for system.jobs, and KILL JOB. Implemented by jobs::JobSystem.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"

namespace kalam::sql {

// Where a job is in its life. Queued and running jobs are active; the others are final.
enum class JobStatus : uint8_t {
  kQueued,
  kRunning,
  kCompleted,
  kFailed,
  kCancelled,
};

// The name system.jobs shows and the stored job record holds ("queued", "running",
// "completed", "failed", "cancelled").
constexpr std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kQueued: return "queued";
    case JobStatus::kRunning: return "running";
    case JobStatus::kCompleted: return "completed";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

// The status named `name` (as JobStatusName spells it); nullopt for any other text.
constexpr std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (JobStatus s : {JobStatus::kQueued, JobStatus::kRunning, JobStatus::kCompleted,
                      JobStatus::kFailed, JobStatus::kCancelled}) {
    if (JobStatusName(s) == name) return s;
  }
  return std::nullopt;
}

// True for the statuses a job ends in (completed, failed, cancelled).
constexpr bool IsFinal(JobStatus status) {
  return status != JobStatus::kQueued && status != JobStatus::kRunning;
}

// One row of system.jobs.
struct JobInfo {
  std::string job_id;    // "FL-<id>" flush, "CO-<id>" compaction, "BK-<id>" backup
  std::string job_type;  // "flush", "compact", "backup"
  JobStatus status = JobStatus::kQueued;
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
    kSkipped,         // nothing to do (no hot rows to flush); compactions always get a job
  };
  Kind kind = Kind::kStarted;
  std::string job_id;
};

// One backup as SHOW BACKUPS shows it.
struct BackupInfo {
  std::string path;
  std::string created_at;  // RFC 3339, UTC
  int64_t seq = 0;         // the backup's `_seq` read point
  int64_t size_bytes = 0;
  int64_t files = 0;
  bool verified = false;   // every file matches its size and SHA-256
  std::string problem;     // why not verified ("" when verified)
  std::string kind;        // "database" | "namespace"
  std::string ns;          // the namespace of a namespace backup ("" otherwise)
  std::vector<std::string> namespaces;  // the namespaces it holds (empty: not recorded)
  int64_t copied_files = 0;      // files the backup wrote itself
  int64_t reused_files = 0;      // files taken over from its base backup
  std::string incremental_from;  // its base backup ("" for a full backup)
};

// Where a backup is: a directory, or a key prefix inside a configured storage.
struct BackupLocation {
  std::string storage_id;  // "" = `path` is a directory
  std::string path;        // the directory, or the prefix ("nightly/2026-12-07/", ends in '/')
};

// Thread-safe.
class JobService {
 public:
  virtual ~JobService() = default;
  virtual Result<JobStart> FlushTable(std::shared_ptr<const catalog::TableDef> table) = 0;
  virtual Result<JobStart> CompactTable(std::shared_ptr<const catalog::TableDef> table) = 0;
  // Starts a backup of the whole server into `dir` as a `backup` job (BK-…) and returns its id.
  // Checked before the job starts: kInvalidArgument when `dir` is outside the allowed backup
  // directories (backup.allowed_dirs), kAlreadyExists when it exists and is not empty.
  virtual Result<std::string> BackupDatabase(const std::string& dir) = 0;
  // RESTORE DATABASE FROM `dir`: checks the path like BackupDatabase, verifies every file of the
  // backup synchronously (kNotFound for a missing directory, kInvalidArgument for a file,
  // kCorruption naming a damaged file), then stages it as a `restore` job (RS-…) that the next
  // server start applies. Returns the job id.
  virtual Result<std::string> RestoreDatabase(const std::string& dir) = 0;
  // BACKUP NAMESPACE `ns` TO `dir`: path checks like BackupDatabase, kNotFound when `ns` does not
  // exist; starts a `backup` job (BK-…) and returns its id.
  virtual Result<std::string> BackupNamespace(const std::string& /*ns*/,
                                              const std::string& /*dir*/) {
    return Status::Unavailable("Namespace backups are not available on this server");
  }
  // RESTORE NAMESPACE `ns` FROM `dir` [AS `target`] [REPLACE]: path checks like RestoreDatabase,
  // verifies every file, then restores synchronously, recorded as a `restore` job (RS-…).
  // Returns the completion message.
  virtual Result<std::string> RestoreNamespace(const std::string& /*ns*/,
                                               const std::string& /*dir*/,
                                               const std::string& /*target*/, bool /*replace*/) {
    return Status::Unavailable("Namespace restores are not available on this server");
  }
  // The backups at or directly under `dir` (a path inside, or equal to, an allowed directory).
  virtual Result<std::vector<BackupInfo>> ListBackups(const std::string& dir) = 0;
  // BackupDatabase to a directory or a storage prefix (kAlreadyExists when it holds anything),
  // incremental to the backup at `incremental_from` (same kind of place; "" = a full backup;
  // kNotFound when it is not a complete backup), checked before the job starts.
  virtual Result<std::string> BackupDatabaseTo(const BackupLocation& to,
                                               const std::string& incremental_from) = 0;
  // RestoreDatabase from a directory or a storage prefix (downloaded and verified before the job
  // starts).
  virtual Result<std::string> RestoreDatabaseFrom(const BackupLocation& from) = 0;
  // ListBackups at a directory or a storage prefix.
  virtual Result<std::vector<BackupInfo>> ListBackupsAt(const BackupLocation& at) = 0;
  virtual std::vector<JobInfo> ListJobs() const = 0;
  // Cancels a queued or running job; returns its status afterwards (kCancelled, or the final
  // status of a job that had already finished). kNotFound for an unknown id.
  virtual Result<JobStatus> KillJob(std::string_view job_id) = 0;
};

}  // namespace kalam::sql
