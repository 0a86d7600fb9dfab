// UserExportService: user data exports as jobs (docs/export.md) — EXPORT USER DATA queues a
// user_export job (UE-…) on the JobManager that writes `<data_dir>/exports/<user>/<export_id>.zip`;
// SHOW EXPORT lists the user's jobs; the download route finds the file; the job scheduler deletes
// exports older than the retention. Implements sql::ExportService.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "commit/commit_pipeline.h"
#include "common/clock.h"
#include "files/file_service.h"
#include "filestore/local_store.h"
#include "jobs/job_manager.h"
#include "sql/export_service.h"
#include "table/stream_store.h"
#include "table/table_store.h"

namespace kalam::exports {

struct UserExportOptions {
  // Absolute directory the exports live under (`<data_dir>/exports`). Required.
  std::string directory;
  // Start of every download URL, without a trailing '/': "http://127.0.0.1:8080". Required.
  std::string public_origin;
  // Exports older than this are deleted by the scheduler (config export.retention_hours).
  // 0 = kept forever. Default 168 h (7 days).
  std::chrono::hours retention{168};
};

// Thread-safe.
class UserExportService : public sql::ExportService {
 public:
  // Fails with kInvalidArgument when options.directory is not absolute. `files` reads FILE
  // attachments (nullptr: exports list every FileRef as missing).
  static Result<std::unique_ptr<UserExportService>> Create(
      catalog::Catalog& catalog, const table::TableStore& store, storage::KvStore& kv,
      commit::CommitPipeline& pipeline, jobs::JobManager& jobs, const Clock& clock,
      files::FileService* files, UserExportOptions options);

  // sql::ExportService. StartExport also refuses (kInvalidArgument) a user id that cannot be a
  // path segment (IsSafePathSegment).
  Result<std::string> StartExport(const std::string& user_id) override;
  std::vector<sql::ExportInfo> ListExports(const std::string& user_id) const override;

  // The ZIP of export `export_id` of `user_id`. kInvalidArgument when either is not a safe path
  // segment, kNotFound when there is no such file, kIoError when it cannot be read.
  Result<std::string> ReadExport(const std::string& user_id, const std::string& export_id) const;

  // Deletes the export files older than the retention (by the injected clock); called by the job
  // scheduler on every pass. Failures are logged and retried on the next pass.
  void DeleteExpired();

 private:
  UserExportService(catalog::Catalog& catalog, const table::TableStore& store,
                    storage::KvStore& kv, commit::CommitPipeline& pipeline,
                    jobs::JobManager& jobs, const Clock& clock, files::FileService* attachments,
                    UserExportOptions options, std::unique_ptr<filestore::LocalStore> files);
  Result<std::string> RunExport(const std::string& user_id, const std::string& export_id,
                                const jobs::JobContext& ctx);

  catalog::Catalog& catalog_;
  const table::TableStore& store_;
  const table::StreamStore streams_;
  commit::CommitPipeline& pipeline_;
  jobs::JobManager& jobs_;
  const Clock& clock_;
  files::FileService* const attachments_;  // may be null
  const UserExportOptions options_;
  const std::unique_ptr<filestore::LocalStore> files_;  // keys "<user>/<export_id>.zip"
};

}  // namespace kalam::exports
