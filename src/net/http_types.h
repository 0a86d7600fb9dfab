// HttpRequest, HttpResponse and the handler signatures shared by the HTTP server and its routes;
// plain values, independent of Beast, so route code never sees the wire library.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kalam::net {

class SpooledFile;  // net/spool_body.h

// One parsed HTTP request, owned by the handler it is given to.
struct HttpRequest {
  // Request method as sent, e.g. "GET", "POST".
  std::string method;
  // Request-target path without the query string, as sent (not percent-decoded), e.g. "/v1/api/sql".
  std::string path;
  // Raw query string without the leading '?'; empty when absent.
  std::string query;
  // Header fields in arrival order; names as sent. A field sent twice appears twice.
  std::vector<std::pair<std::string, std::string>> headers;
  // The complete body (de-chunked); empty when none, or when it was spooled to `body_file`.
  std::string body;
  // A multipart/form-data body, when the server spools those (HttpServerOptions::spool_dir):
  // the file holding it, deleted when the last owner lets go. Null otherwise.
  std::shared_ptr<const SpooledFile> body_file;
  // Peer address: "127.0.0.1", "::1". An IPv4-mapped IPv6 peer is reported as plain IPv4.
  std::string remote_ip;
  // True when the peer is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x.x.x).
  bool remote_is_loopback = false;

  // Case-insensitive header lookup: the value of the first field named `name`; empty when absent.
  // The view points into `headers` and lives as long as this request is not modified.
  std::string_view Header(std::string_view name) const;
  // Case-insensitive: true if the header was sent, even with an empty value.
  bool HasHeader(std::string_view name) const;
};

// A response body read from an open file as it is sent (downloads that must not sit in memory):
// `length` bytes from `offset`. Owns `fd` (closed by the destructor). Immutable.
class FileSlice {
 public:
  FileSlice(int fd, uint64_t offset, uint64_t length) : fd_(fd), offset_(offset), length_(length) {}
  ~FileSlice();
  FileSlice(const FileSlice&) = delete;
  FileSlice& operator=(const FileSlice&) = delete;
  int fd() const { return fd_; }
  uint64_t offset() const { return offset_; }
  uint64_t length() const { return length_; }

 private:
  int fd_;
  uint64_t offset_;
  uint64_t length_;
};

// A response body produced piece by piece elsewhere (a download from a remote storage that must
// not sit in memory): `length()` bytes in all. The server asks for the next piece only after the
// previous one was written, so at most one piece per connection is in memory.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual uint64_t length() const = 0;
  // Produces the next piece, 1..`max_bytes` bytes, and calls `done(true, piece)`; or
  // `done(false, "")` when it cannot (the server then closes the connection: the client sees a
  // body shorter than Content-Length). Called on an I/O thread, so it must not block: do the work
  // elsewhere. `done` may be called from any thread, exactly once.
  virtual void Next(size_t max_bytes, std::function<void(bool ok, std::string piece)> done) = 0;
};

// The response a handler produces. The server adds Server, Content-Length, Connection and CORS
// headers itself.
struct HttpResponse {
  // HTTP status code; values outside 100..999 are sent as 500. Default: 200.
  int status = 200;
  // Content-Type; empty means none is sent (e.g. for 204). Default: "application/json".
  std::string content_type = "application/json";
  std::string body;
  // When set, the body is these file bytes instead of `body` (sent in pieces; Content-Length is
  // the slice's length).
  std::shared_ptr<const FileSlice> body_file;
  // When set (and body_file is not), the body comes from this source (Content-Length is its
  // length).
  std::shared_ptr<BodySource> body_source;
  // Extra headers, e.g. Set-Cookie (may repeat) or Retry-After. Sent in this order.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Completes a request: call exactly once, from any thread. Calls after the first, and calls made
// after the connection was closed (request timeout, server stop), are ignored.
using Responder = std::function<void(HttpResponse)>;

// Handles one request. Runs on the I/O thread that parsed the request, so it must not block: do
// real work elsewhere (e.g. a kalam::ThreadPool) and call the Responder from there.
using Handler = std::function<void(HttpRequest&&, Responder)>;

// A JSON error response: `{"error":"<code>","message":"<message>"}` with `status`.
HttpResponse JsonErrorResponse(int status, std::string_view code, std::string_view message);

// A response with `status` and the JSON text `body` (content type application/json).
HttpResponse JsonResponse(int status, std::string body);

// `text` with every %XX escape decoded (RFC 3986 §2.1; '+' stays '+'), for path segments a
// prefix route parses. nullopt when a '%' is not followed by two hex digits.
std::optional<std::string> PercentDecode(std::string_view text);

// ASCII case-insensitive equality, as header names compare (RFC 9110 §5.1).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace kalam::net
