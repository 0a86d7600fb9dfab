// Static file serving for the admin console: path checks, content types, SPA fallback, headers.
#include "api/ui_routes.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>

#include <sodium.h>

#include "auth/base64.h"
#include "auth/sodium_init.h"
#include "common/thread_pool.h"

namespace kalam::api {

namespace fs = std::filesystem;
using net::HttpRequest;
using net::HttpResponse;
using net::Responder;

namespace {

constexpr std::string_view kUiPrefix = "/ui/";

HttpResponse WithUiHeaders(HttpResponse r, std::string_view nonce = {}) {
  r.headers.emplace_back("Content-Security-Policy", UiContentSecurityPolicy(nonce));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  return r;
}

HttpResponse Redirect(std::string location) {
  HttpResponse r;
  r.status = 302;
  r.content_type.clear();
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

HttpResponse InvalidPath(std::string_view why) {
  return WithUiHeaders(net::JsonErrorResponse(400, "INVALID_PATH", why));
}

// The whole file, or nullopt if it cannot be read as a regular file.
std::optional<std::string> ReadFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || ec) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(out).str();
}

// index.html with a fresh CSP nonce in place of every kNoncePlaceholder; the CSP admits styles
// carrying it (the SQL editor's own stylesheet).
HttpResponse IndexResponse(std::string body) {
  auth::EnsureSodium();
  std::string bytes(18, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  const std::string nonce = auth::Base64Encode(bytes);
  for (size_t at = body.find(kNoncePlaceholder); at != std::string::npos;
       at = body.find(kNoncePlaceholder, at + nonce.size())) {
    body.replace(at, kNoncePlaceholder.size(), nonce);
  }
  HttpResponse r;
  r.content_type = std::string(UiContentType("index.html"));
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return WithUiHeaders(std::move(r), nonce);
}

HttpResponse FileResponse(std::string body, std::string_view name, bool immutable) {
  HttpResponse r;
  r.content_type = std::string(UiContentType(name));
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return WithUiHeaders(std::move(r));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string UiContentSecurityPolicy(std::string_view nonce) {
  std::string csp(kUiContentSecurityPolicy);
  if (!nonce.empty()) {
    const std::string style = "style-src 'self'";
    csp.replace(csp.find(style), style.size(), style + " 'nonce-" + std::string(nonce) + "'");
  }
  return csp;
}

std::string_view UiContentType(std::string_view filename) {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : kTypes) {
    if (EndsWith(filename, ext)) return type;
  }
  return "application/octet-stream";
}

HttpResponse UiResponse(const fs::path& root, std::string_view request_path) {
  std::string_view raw = request_path;
  if (raw.substr(0, kUiPrefix.size()) == kUiPrefix) raw.remove_prefix(kUiPrefix.size());
  std::optional<std::string> decoded = net::PercentDecode(raw);
  if (!decoded) return InvalidPath("Malformed %-escape in the path");
  const std::string& rel = *decoded;
  // Check every segment before touching the disk.
  std::string_view rest = rel;
  std::string_view last;
  while (true) {
    const size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    if (segment == "." || segment == "..") return InvalidPath("Path segments '.' and '..' are not allowed");
    if (segment.empty() && slash != std::string_view::npos) {
      return InvalidPath("Empty path segments are not allowed");
    }
    last = segment;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (rel.find('\\') != std::string::npos || rel.find('\0') != std::string::npos) {
    return InvalidPath("Backslashes and NUL bytes are not allowed in the path");
  }

  const fs::path index = root / "index.html";
  std::optional<std::string> index_html;
  auto load_index = [&]() -> std::optional<HttpResponse> {
    index_html = ReadFile(index);
    if (!index_html) {
      return WithUiHeaders(net::JsonErrorResponse(
          404, "UI_NOT_INSTALLED",
          "The admin console is not installed: no index.html in '" + root.string() +
              "' (build ui/ with scripts/build.sh, or set server.ui_path)"));
    }
    return std::nullopt;
  };
  if (rel.empty() || rel == "index.html") {
    if (auto missing = load_index()) return *std::move(missing);
    return IndexResponse(*std::move(index_html));
  }

  const fs::path target = root / rel;
  std::error_code exists_ec, root_ec, target_ec;
  if (fs::exists(target, exists_ec)) {
    // A symbolic link inside the directory must not lead out of it.
    const fs::path real_root = fs::weakly_canonical(root, root_ec);
    const fs::path real = fs::weakly_canonical(target, target_ec);
    if (root_ec || target_ec) return InvalidPath("The path cannot be resolved");
    const auto root_end =
        std::mismatch(real_root.begin(), real_root.end(), real.begin(), real.end()).first;
    if (root_end != real_root.end()) return InvalidPath("The path leaves the console directory");
    if (std::optional<std::string> body = ReadFile(target)) {
      const bool immutable = rel.substr(0, 7) == "assets/";
      return FileResponse(*std::move(body), last, immutable);
    }
  }
  if (last.find('.') != std::string_view::npos) {
    return WithUiHeaders(net::JsonErrorResponse(404, "NOT_FOUND", "No console file '" + rel + "'"));
  }
  // A client-side route of the single-page app.
  if (auto missing = load_index()) return *std::move(missing);
  return IndexResponse(*std::move(index_html));
}

fs::path DefaultUiRoot(const fs::path& exe) {
  const fs::path beside = exe.parent_path() / "ui";
  const fs::path installed = exe.parent_path().parent_path() / "share" / "kalamdb" / "ui";
  std::error_code ec;  // an unreadable candidate counts as absent
  if (fs::is_regular_file(beside / "index.html", ec)) return beside;
  if (fs::is_regular_file(installed / "index.html", ec)) return installed;
  return beside;
}

fs::path DefaultUiRoot() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fs::path("ui");
  return DefaultUiRoot(exe);
}

namespace {

void HandleUiRoot(ApiContext*, HttpRequest&&, Responder respond) { respond(Redirect("/ui/")); }

void HandleUiFile(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  auto shared = std::make_shared<Responder>(std::move(respond));
  const bool queued = ctx->workers->Submit([ctx, shared, path = std::move(req.path)] {
    (*shared)(UiResponse(ctx->ui_root, path));
  });
  if (!queued) {
    (*shared)(net::JsonErrorResponse(503, "SHUTTING_DOWN", "Server is shutting down"));
  }
}

}  // namespace

void AddUiRoutes(net::Router& router,
                 const std::function<net::Handler(void (*)(ApiContext*, HttpRequest&&,
                                                           Responder))>& bind) {
  router.Add("GET", "/", bind(HandleUiRoot));
  router.Add("GET", "/ui", bind(HandleUiRoot));
  router.Add("GET", "/ui/", bind(HandleUiFile));
  router.AddPrefix("GET", std::string(kUiPrefix), bind(HandleUiFile));
}

}  // namespace kalam::api
