// GET /v1/api/cluster/snapshots/<group>/<index>/keys.kv: a snapshot file, streamed from disk.
#include "api/snapshot_routes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "api/sql_response_json.h"
#include "common/value_json.h"

namespace kalam::api {

namespace {

constexpr std::string_view kPrefix = "/v1/api/cluster/snapshots/";

// Constant time in the length of `given` (no early exit on the first differing byte).
bool SameSecret(std::string_view given, std::string_view secret) {
  unsigned char diff = given.size() == secret.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i]) ^
            static_cast<unsigned char>(secret.empty() ? 0 : secret[i % secret.size()]);
  }
  return diff == 0;
}

void HandleSnapshotFile(ApiContext* ctx, net::HttpRequest&& req, net::Responder respond) {
  const std::string_view auth = req.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (ctx->cluster_secret.empty() || !auth.starts_with(kBearer) ||
      !SameSecret(auth.substr(kBearer.size()), ctx->cluster_secret)) {
    respond(net::JsonResponse(
        401, EncodeError("UNAUTHORIZED", "Snapshot files are only served to cluster members "
                                           "(Authorization: Bearer <cluster.secret>)")));
    return;
  }
  const std::string_view rel = std::string_view(req.path).substr(kPrefix.size());
  if (!IsSnapshotFilePath(rel)) {
    respond(net::JsonResponse(400, EncodeError("BAD_REQUEST", "Invalid snapshot file path")));
    return;
  }
  const std::string full = (std::filesystem::path(ctx->snapshot_dir) / rel).string();
  // open + fstat of a local file: short enough for the I/O thread; the bytes are sent in pieces.
  int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      respond(net::JsonResponse(404, EncodeError("NOT_FOUND", "Snapshot file " + std::string(rel) +
                                                                  " is not on this node")));
    } else {
      respond(net::JsonResponse(500, EncodeError("INTERNAL", "open " + std::string(rel) + ": " +
                                                                 std::strerror(errno))));
    }
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    respond(net::JsonResponse(500, EncodeError("INTERNAL", "fstat " + std::string(rel) + ": " +
                                                               std::strerror(err))));
    return;
  }
  net::HttpResponse r;
  r.status = 200;
  r.content_type = "application/octet-stream";
  r.body_file = std::make_shared<net::FileSlice>(fd, 0, static_cast<uint64_t>(st.st_size));
  respond(std::move(r));
}

}  // namespace

bool IsSnapshotFilePath(std::string_view path) {
  const size_t a = path.find('/');
  if (a == std::string_view::npos) return false;
  const size_t b = path.find('/', a + 1);
  if (b == std::string_view::npos) return false;
  const std::string_view group = path.substr(0, a);
  const std::string_view index = path.substr(a + 1, b - a - 1);
  if (path.substr(b + 1) != "keys.kv") return false;
  if (group.empty() || group.size() > 64 || index.empty() || index.size() > 20) return false;
  for (char c : group) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  for (char c : index) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void AddSnapshotRoutes(net::Router& router,
                       const std::function<net::Handler(void (*)(ApiContext*, net::HttpRequest&&,
                                                                 net::Responder))>& bind) {
  router.AddPrefix("GET", std::string(kPrefix), bind(HandleSnapshotFile));
}

}  // namespace kalam::api
