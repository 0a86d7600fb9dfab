// Export download: authenticates, checks the path and the caller's right, and sends the ZIP.
#include "api/export_routes.h"

#include <string>
#include <string_view>

#include "api/sql_response_json.h"
#include "common/value_json.h"
#include "exports/user_export.h"
#include "exports/user_export_service.h"

namespace kalam::api {

using net::HttpRequest;
using net::HttpResponse;
using net::Responder;

namespace {

constexpr std::string_view kPrefix = "/v1/exports/";

HttpResponse ExportError(int status, std::string_view code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = EncodeCodedError(code, message);
  return r;
}

// The decoded {user_id} and {export_id} of the path; false when the path is not exactly two
// segments after the prefix, or a segment is malformed or unsafe (IsSafePathSegment).
bool ParseExportPath(std::string_view path, std::string* user_id, std::string* export_id) {
  std::string_view rest = path.substr(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  auto user = net::PercentDecode(rest.substr(0, slash));
  auto exp = net::PercentDecode(rest.substr(slash + 1));
  if (!user || !exp) return false;
  if (!exports::IsSafePathSegment(*user) || !exports::IsSafePathSegment(*exp)) return false;
  *user_id = std::move(*user);
  *export_id = std::move(*exp);
  return true;
}

void HandleDownload(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  std::optional<Principal> who = AuthenticateOrRespond(*ctx->auth, req, respond);
  if (!who) return;
  std::string user_id, export_id;
  if (!ParseExportPath(req.path, &user_id, &export_id)) {
    respond(ExportError(400, "INVALID_INPUT", "Invalid export path"));
    return;
  }
  if (user_id != who->user_id && !auth::RoleAtLeast(who->role, auth::Role::kDba)) {
    HttpResponse r;
    r.status = 403;
    r.body = EncodeSqlError("PERMISSION_DENIED", "You can only download your own exports", 0.0);
    respond(std::move(r));
    return;
  }
  if (!ctx->exports) {
    respond(ExportError(503, "UNAVAILABLE", "Exports are not available on this server"));
    return;
  }
  auto shared = std::make_shared<Responder>(std::move(respond));
  bool queued = ctx->workers->Submit([ctx, shared, user_id, export_id] {
    Result<std::string> zip = ctx->exports->ReadExport(user_id, export_id);
    if (!zip.ok()) {
      if (zip.status().code() == StatusCode::kNotFound) {
        (*shared)(ExportError(404, "EXPORT_NOT_FOUND", "Export not found"));
      } else if (zip.status().code() == StatusCode::kInvalidArgument) {
        (*shared)(ExportError(400, "INVALID_INPUT", "Invalid export path"));
      } else {
        (*shared)(ExportError(500, "INTERNAL_ERROR", "Failed to read export file"));
      }
      return;
    }
    HttpResponse r;
    r.content_type = "application/zip";
    r.body = std::move(*zip);
    r.headers.emplace_back("Content-Disposition",
                           "attachment; filename=\"" + export_id + ".zip\"");
    (*shared)(std::move(r));
  });
  if (!queued) (*shared)(ExportError(503, "SHUTTING_DOWN", "Server is shutting down"));
}

}  // namespace

void AddExportRoutes(net::Router& router,
                     const std::function<net::Handler(void (*)(ApiContext*, HttpRequest&&,
                                                               Responder))>& bind) {
  router.AddPrefix("GET", std::string(kPrefix), bind(HandleDownload));
}

}  // namespace kalam::api
