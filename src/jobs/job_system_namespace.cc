// JobSystem: BACKUP NAMESPACE and RESTORE NAMESPACE (jobs/namespace_backup.h, docs/backup.md).
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "jobs/job_system.h"
#include "jobs/namespace_backup.h"

namespace kalam::jobs {

namespace json = boost::json;

namespace {

std::string Megabytes(uint64_t bytes) {
  char mb[32];
  std::snprintf(mb, sizeof mb, "%.2f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return mb;
}

}  // namespace

Result<std::string> JobSystem::BackupNamespace(const std::string& ns_in, const std::string& dir) {
  KALAM_RETURN_IF_ERROR(RefuseOnCluster("BACKUP NAMESPACE"));
  if (options_.storages == nullptr) {
    return Status::FailedPrecondition("Backups are not available on this server");
  }
  const std::string ns = catalog::LowerName(ns_in);
  KALAM_ASSIGN_OR_RETURN(std::string resolved, ResolveBackupDir(dir, options_.backup_roots));
  if (!catalog_.snapshot()->FindNamespace(ns)) {
    return Status::NotFound("Namespace '" + ns + "' does not exist");
  }
  std::error_code ec;
  if (std::filesystem::exists(resolved, ec) &&
      !(std::filesystem::is_directory(resolved, ec) && std::filesystem::is_empty(resolved, ec))) {
    return Status::AlreadyExists("Backup directory '" + dir +
                                 "' is not empty; back up into a new directory");
  }
  bool running = false;
  const std::string params =
      json::serialize(json::object{{"backup_path", resolved}, {"namespace", ns}});
  KALAM_ASSIGN_OR_RETURN(
      std::string id,
      manager_.Submit("BK", "backup", "backup:" + resolved, params,
                      [this, ns, dir, resolved](JobContext& ctx) -> Result<std::string> {
                        NamespaceBackupSources src{kv_, pipeline_, cold_, catalog_,
                                                   *options_.storages, options_.server_version};
                        auto made = CreateNamespaceBackup(src, ns, resolved, clock_.NowMillis(), &ctx);
                        if (!made.ok()) return made.status().WithPrefix("Backup failed: ");
                        const std::string mb = Megabytes(made->total_bytes());
                        spdlog::info("Backup of namespace '{}' into '{}' completed at _seq {}: {} "
                                     "file(s), {} MB; commits were held off for {} ms",
                                     ns, resolved, made->seq, made->files.size(), mb,
                                     made->pause_ms);
                        return "Backup completed: '" + dir + "' (" + mb + " MB)";
                      },
                      &running));
  if (running) {
    return Status::AlreadyExists("A backup into '" + dir + "' is already running: " + id);
  }
  return id;
}

Result<std::string> JobSystem::RestoreNamespace(const std::string& ns_in, const std::string& dir,
                                                const std::string& target_in, bool replace) {
  KALAM_RETURN_IF_ERROR(RefuseOnCluster("RESTORE NAMESPACE"));
  if (options_.storages == nullptr) {
    return Status::FailedPrecondition("Restores are not available on this server");
  }
  const std::string ns = catalog::LowerName(ns_in);
  const std::string target = catalog::LowerName(target_in.empty() ? ns_in : target_in);
  KALAM_ASSIGN_OR_RETURN(std::string resolved, ResolveBackupDir(dir, options_.backup_roots));
  std::error_code ec;
  if (!std::filesystem::exists(resolved, ec)) {
    return Status::NotFound("Backup directory '" + dir + "' not found");
  }
  if (!std::filesystem::is_directory(resolved, ec)) {
    return Status::InvalidArgument("'" + dir + "' is not a directory. RESTORE NAMESPACE expects a "
                                   "backup directory, not a file.");
  }
  // Everything the statement can refuse is refused before anything is written: the whole backup
  // is verified first.
  KALAM_ASSIGN_OR_RETURN(BackupManifest m, VerifyBackup(resolved));
  if (m.kind != kBackupKindNamespace) {
    return Status::InvalidArgument("Backup '" + dir +
                                   "' is a database backup; use RESTORE DATABASE");
  }
  if (m.namespace_name != ns) {
    return Status::InvalidArgument("Backup '" + dir + "' holds namespace '" + m.namespace_name +
                                   "', not '" + ns + "'");
  }
  if (catalog_.snapshot()->FindNamespace(target)) {
    if (!replace) {
      return Status::AlreadyExists("Namespace '" + target +
                                   "' already exists; add REPLACE to replace it");
    }
    if (target == catalog::kDefaultNamespace) {
      return Status::PermissionDenied("Namespace '" + target + "' cannot be replaced");
    }
  }
  if (target == catalog::kSystemNamespace || target == "information_schema") {
    return Status::PermissionDenied("Namespace '" + target + "' is reserved");
  }

  Status outcome;
  std::string message;
  const std::string params = json::serialize(json::object{
      {"backup_path", resolved}, {"namespace", ns}, {"target", target}, {"replace", replace}});
  sql::JobInfo job = manager_.RunNow(
      "RS", "restore", params, [&](JobContext& ctx) -> Result<std::string> {
        NamespaceBackupSources src{kv_, pipeline_, cold_, catalog_, *options_.storages,
                                   options_.server_version};
        auto done = RestoreNamespaceBackup(src, resolved, m, target, replace, &ctx,
                                           options_.restore_test_pause);
        if (!done.ok()) {
          outcome = done.status();
          return done.status().WithPrefix("Restore failed: ");
        }
        {
          // The restored hot rows count toward their tables' row-limit flush policies, and the
          // replaced tables' counts go.
          std::lock_guard lock(mu_);
          for (auto id : done->replaced) {
            pending_rows_.erase(id);
            last_flush_us_.erase(id);
            retry_after_us_.erase(id);
          }
          for (const auto& [id, rows] : done->hot_rows) pending_rows_[id] = rows;
        }
        spdlog::info("Restored namespace '{}' as '{}' from '{}' (_seq {}): {} table(s), {} hot "
                     "entries, {} segment(s){}",
                     ns, target, resolved, m.seq, done->tables, done->hot_entries,
                     done->segments, done->replaced.empty() ? "" : ", replacing the namespace");
        message = "Namespace " + target + " restored from '" + dir + "' (" +
                  std::to_string(done->tables) + " table(s), " + Megabytes(m.total_bytes()) +
                  " MB)";
        return message;
      });
  if (!outcome.ok()) return outcome;
  if (job.status != sql::JobStatus::kCompleted) {
    return Status::Unavailable("Restore did not complete: " + job.message);
  }
  return message + ". Job ID: " + job.job_id;
}

}  // namespace kalam::jobs
