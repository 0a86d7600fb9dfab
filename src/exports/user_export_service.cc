// UserExportService: the user_export job, SHOW EXPORT's rows, downloads and expiry.
#include "exports/user_export_service.h"

#include <cstdio>
#include <filesystem>
#include <set>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "common/time_format.h"
#include "exports/user_export.h"

namespace kalam::exports {

namespace json = boost::json;

namespace {

constexpr std::string_view kJobType = "user_export";

// "yyyyMMdd-HHmmss" (UTC) of `micros`.
std::string Stamp(int64_t micros) {
  const int64_t secs = micros / 1000000;
  const int64_t days = secs / 86400;
  const int64_t sod = secs % 86400;
  const CivilDate d = CivilFromDays(days);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld%02d%02d-%02lld%02lld%02lld",
                static_cast<long long>(d.year), d.month, d.day,
                static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                static_cast<long long>(sod % 60));
  return buf;
}

// Microseconds since the epoch of a "yyyyMMdd-HHmmss" stamp; nullopt when it is not one.
std::optional<int64_t> ParseStamp(std::string_view s) {
  if (s.size() != 15 || s[8] != '-') return std::nullopt;
  auto num = [&](size_t at, size_t n, int64_t* out) {
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int64_t y, mo, d, h, mi, se;
  if (!num(0, 4, &y) || !num(4, 2, &mo) || !num(6, 2, &d) || !num(9, 2, &h) ||
      !num(11, 2, &mi) || !num(13, 2, &se)) {
    return std::nullopt;
  }
  const int64_t days = DaysFromCivil(CivilDate{y, static_cast<int>(mo), static_cast<int>(d)});
  return ((days * 86400) + h * 3600 + mi * 60 + se) * 1000000;
}

std::string FileKey(const std::string& user_id, const std::string& export_id) {
  return user_id + "/" + export_id + ".zip";
}

struct JobParams {
  std::string user_id;
  std::string export_id;
};

std::optional<JobParams> ParseParams(const std::string& parameters_json) {
  boost::system::error_code ec;
  json::value v = json::parse(parameters_json, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  const json::value* u = o.if_contains("user_id");
  const json::value* e = o.if_contains("export_id");
  if (!u || !e || !u->is_string() || !e->is_string()) return std::nullopt;
  return JobParams{std::string(u->as_string()), std::string(e->as_string())};
}

}  // namespace

Result<std::unique_ptr<UserExportService>> UserExportService::Create(
    catalog::Catalog& catalog, const table::TableStore& store, storage::KvStore& kv,
    commit::CommitPipeline& pipeline, jobs::JobManager& jobs, const Clock& clock,
    files::FileService* attachments, UserExportOptions options) {
  KALAM_ASSIGN_OR_RETURN(auto files, filestore::LocalStore::Open(options.directory));
  return std::unique_ptr<UserExportService>(
      new UserExportService(catalog, store, kv, pipeline, jobs, clock, attachments,
                            std::move(options), std::move(files)));
}

UserExportService::UserExportService(catalog::Catalog& catalog, const table::TableStore& store,
                                     storage::KvStore& kv, commit::CommitPipeline& pipeline,
                                     jobs::JobManager& jobs, const Clock& clock,
                                     files::FileService* attachments, UserExportOptions options,
                                     std::unique_ptr<filestore::LocalStore> files)
    : catalog_(catalog),
      store_(store),
      streams_(kv),
      pipeline_(pipeline),
      jobs_(jobs),
      clock_(clock),
      attachments_(attachments),
      options_(std::move(options)),
      files_(std::move(files)) {}

Result<std::string> UserExportService::StartExport(const std::string& user_id) {
  if (!IsSafePathSegment(user_id)) {
    return Status::InvalidArgument("User id '" + user_id +
                                   "' cannot name an export file (it contains '..', '/', '\\' "
                                   "or NUL); rename the user to export its data");
  }
  const int64_t now = clock_.NowMicros();
  const std::string stamp = Stamp(now);
  const std::string key = std::string(kJobType) + ":" + user_id + ":" + stamp.substr(0, 8);
  // The export id names a file: never one an earlier export of this user used.
  std::set<std::string> taken;
  for (const sql::JobInfo& job : jobs_.List()) {
    if (job.job_type != kJobType) continue;
    if (auto p = ParseParams(job.parameters_json); p && p->user_id == user_id) {
      taken.insert(p->export_id);
    }
  }
  const std::string base = "export-" + user_id + "-" + stamp;
  std::string export_id = base;
  for (int n = 2; taken.count(export_id) ||
                  std::filesystem::exists(files_->base_directory() + "/" +
                                          FileKey(user_id, export_id));
       ++n) {
    export_id = base + "-" + std::to_string(n);
  }
  const std::string params =
      json::serialize(json::object{{"user_id", user_id}, {"export_id", export_id}});
  bool running = false;
  KALAM_ASSIGN_OR_RETURN(
      std::string job_id,
      jobs_.Submit("UE", std::string(kJobType), key, params,
                   [this, user_id, export_id](jobs::JobContext& ctx) {
                     return RunExport(user_id, export_id, ctx);
                   },
                   &running));
  if (running) {
    return Status::Conflict("Idempotent conflict: Job with idempotency key '" + key +
                            "' is already running or queued");
  }
  return job_id;
}

Result<std::string> UserExportService::RunExport(const std::string& user_id,
                                                 const std::string& export_id,
                                                 const jobs::JobContext& ctx) {
  UserExportRequest req;
  req.user_id = user_id;
  req.export_id = export_id;
  req.created_at_us = clock_.NowMicros();
  req.now_ms = clock_.NowMillis();
  commit::CommitPipeline::ReadPoint rp = pipeline_.TakeReadPoint();
  req.snapshot = std::move(rp.snapshot);
  req.read_seq = rp.seq;
  req.cancelled = [&ctx] { return ctx.cancelled(); };
  ctx.ReportProgress("Reading the tables of user '" + user_id + "'");
  KALAM_ASSIGN_OR_RETURN(UserExportArchive archive,
                         BuildUserExport(catalog_.snapshot()->AllTables(), store_, streams_,
                                                         attachments_, req));
  ctx.ReportProgress("Writing " + export_id + ".zip");
  KALAM_RETURN_IF_ERROR(files_->Put(FileKey(user_id, export_id), archive.zip));
  return "Exported " + std::to_string(archive.rows) + " row(s) from " +
         std::to_string(archive.tables_with_rows) + " of " + std::to_string(archive.tables) +
         " table(s) (" + std::to_string(archive.zip.size()) + " bytes) to " + export_id + ".zip";
}

std::vector<sql::ExportInfo> UserExportService::ListExports(const std::string& user_id) const {
  std::vector<sql::JobInfo> jobs = jobs_.List();
  std::vector<sql::ExportInfo> out;
  for (const sql::JobInfo& job : jobs) {
    if (job.job_type != kJobType) continue;
    auto p = ParseParams(job.parameters_json);
    if (!p || p->user_id != user_id) continue;
    sql::ExportInfo e;
    e.job_id = job.job_id;
    e.status = std::string(sql::JobStatusName(job.status));
    e.created_at_us = job.created_at_us;
    e.message = job.message;
    if (job.status == sql::JobStatus::kCompleted) {
      std::error_code ec;
      if (IsSafePathSegment(p->export_id) &&
          std::filesystem::exists(files_->base_directory() + "/" + FileKey(user_id, p->export_id),
                                  ec)) {
        e.download_url = options_.public_origin + "/v1/exports/" + user_id + "/" + p->export_id;
      } else {
        e.status = "expired";  // deleted by the retention (docs/export.md)
      }
    }
    out.push_back(std::move(e));
  }
  // Newest first; jobs of the same microsecond by id (ids grow), newest first too.
  std::sort(out.begin(), out.end(), [](const sql::ExportInfo& a, const sql::ExportInfo& b) {
    if (a.created_at_us != b.created_at_us) return a.created_at_us > b.created_at_us;
    if (a.job_id.size() != b.job_id.size()) return a.job_id.size() > b.job_id.size();
    return a.job_id > b.job_id;
  });
  return out;
}

Result<std::string> UserExportService::ReadExport(const std::string& user_id,
                                                  const std::string& export_id) const {
  if (!IsSafePathSegment(user_id) || !IsSafePathSegment(export_id)) {
    return Status::InvalidArgument("Invalid export path");
  }
  return files_->Get(FileKey(user_id, export_id));
}

void UserExportService::DeleteExpired() {
  if (options_.retention.count() <= 0) return;
  std::error_code ec;
  if (!std::filesystem::exists(files_->base_directory(), ec)) return;
  auto listed = files_->List("");
  if (!listed.ok()) {
    spdlog::error("Export retention: cannot list exports: {}", listed.status().ToString());
    return;
  }
  const int64_t cutoff =
      clock_.NowMicros() -
      std::chrono::duration_cast<std::chrono::microseconds>(options_.retention).count();
  for (const filestore::ObjectInfo& o : *listed) {
    // "<user>/export-<user>-<yyyyMMdd-HHmmss>[-n].zip": the stamp is when it was started.
    const size_t slash = o.key.find('/');
    if (slash == std::string::npos) continue;
    const std::string user = o.key.substr(0, slash);
    const std::string prefix = "export-" + user + "-";
    std::string_view name = std::string_view(o.key).substr(slash + 1);
    if (name.rfind(prefix, 0) != 0 || name.size() < prefix.size() + 15) continue;
    auto created = ParseStamp(name.substr(prefix.size(), 15));
    if (!created || *created > cutoff) continue;
    Status deleted = files_->Delete(o.key);
    if (deleted.ok()) {
      spdlog::info("Export '{}' passed its retention and was deleted", o.key);
    } else {
      spdlog::error("Export retention: cannot delete '{}': {}", o.key, deleted.ToString());
    }
  }
}

}  // namespace kalam::exports
