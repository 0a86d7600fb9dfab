// ExportService: what the SQL layer may ask of the user data export (which sits above it): start
// an export of one user's data and list that user's exports (EXPORT USER DATA, SHOW EXPORT;
// docs/export.md). Implemented by exports::ExportService.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace kalam::sql {

// One row of SHOW EXPORT.
struct ExportInfo {
  std::string job_id;        // "UE-…"
  std::string status;        // a job status name, or "expired" once the file was deleted
  int64_t created_at_us = 0;
  std::string message;       // "" when the job has none
  std::string download_url;  // "" unless the status is completed
};

// Thread-safe.
class ExportService {
 public:
  virtual ~ExportService() = default;
  // Queues a user_export job for `user_id`; returns its job id. Fails with kConflict
  // "Idempotent conflict: Job with idempotency key 'user_export:<user>:<yyyyMMdd>' is already
  // running or queued" while that user's export of the same UTC day is queued or running.
  virtual Result<std::string> StartExport(const std::string& user_id) = 0;
  // Every user_export job of `user_id`, newest first.
  virtual std::vector<ExportInfo> ListExports(const std::string& user_id) const = 0;
};

}  // namespace kalam::sql
