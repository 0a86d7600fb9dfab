// HttpClient: the minimal HTTP/1.1 client the S3 store talks through (Boost.Beast), plain or TLS,
// one connection per request, with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace kalam::filestore {

// Where requests go.
struct HttpEndpoint {
  bool tls = false;      // https
  std::string host;      // DNS name or IP literal (IPv6 without brackets)
  uint16_t port = 0;
};

struct HttpRequest {
  std::string method;  // "GET", "PUT", "DELETE", "HEAD", "POST"
  std::string target;  // origin-form: "/bucket/key?query", already encoded
  // Sent as given, in order (the caller adds Host, Content-Type, signing headers...).
  // Content-Length is added from `body`.
  std::vector<std::pair<std::string, std::string>> headers;
  // Not owned (sent without a copy): must stay valid until Send returns.
  std::string_view body;
  // The largest response body accepted; a longer one fails the exchange with kIoError ("response
  // body exceeds N bytes"), so that a caller asking for a bounded piece never holds more.
  // nullopt = no limit. Default: nullopt.
  std::optional<uint64_t> max_response_body;
};

struct HttpResponse {
  int status = 0;
  // Header fields as received, names as sent, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty for HEAD

  // Case-insensitive: the value of the first header named `name`, or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

struct HttpClientOptions {
  // Deadline of one request: resolve, connect, TLS handshake, send and receive. Default: 30 s.
  std::chrono::milliseconds timeout{30000};
  // PEM file of CA certificates to trust instead of the system store (tests with a private CA).
  // Empty = the system's default verify paths. Default: empty.
  std::string ca_file;
};

// Sends requests and waits for their responses. TLS always verifies the server certificate
// against the CA store and the endpoint's host name (or IP address), and sends SNI.
// Thread-safe: each Send uses its own connection and I/O context.
class HttpClient {
 public:
  // kInvalidArgument when the CA file cannot be loaded; kInternal when OpenSSL cannot set up.
  static Result<std::unique_ptr<HttpClient>> Create(const HttpClientOptions& options);
  ~HttpClient();

  // Connects, sends `request`, reads the whole response (any status), closes. When no complete
  // response arrived, the status names the cause ("connect: Connection refused", "TLS
  // handshake: certificate verify failed", "timed out after 30000 ms") and its code says whether
  // the server may have seen the request: kUnavailable when it failed before any byte of the
  // request was written (resolve, connect, TLS handshake: the server never saw it), kIoError
  // after (it may have run). Every such failure is transient from the caller's point of view and
  // may be retried, when the request is idempotent.
  Result<HttpResponse> Send(const HttpEndpoint& endpoint, const HttpRequest& request);

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kalam::filestore
