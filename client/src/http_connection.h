// HttpConnection: one keep-alive HTTP/1.1 connection with deadlines and cancellation, used
// synchronously by the client's request path.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "kalam/status.h"
#include "url.h"

namespace kalam::client {

struct HttpRequest {
  bool post = true;  // POST, else GET
  std::string target;
  std::string body;  // sent as application/json when non-empty or post
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string retry_after;  // Retry-After header, if any
};

// How far a failed round trip got, to decide whether sending again is safe.
enum class FailurePoint {
  kBeforeSending,  // resolve or connect failed: the server never saw the request
  kAfterSending,   // the request may have reached the server
};

// One TCP connection to `endpoint`, opened on first use and kept open while the server allows.
// Each call runs its own event loop on the calling thread. Not thread-safe: one request at a
// time (the client's pool hands each connection to one caller).
class HttpConnection {
 public:
  explicit HttpConnection(Endpoint endpoint);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `request` and reads the answer. `connect_timeout` bounds resolve + connect, `timeout`
  // the rest. On failure `*failure` tells whether the request may have been sent. Errors:
  // kConnectionFailed, kTimeout, kCancelled (stop requested), kProtocolError.
  Result<HttpResponse> RoundTrip(const HttpRequest& request,
                                 std::chrono::milliseconds connect_timeout,
                                 std::chrono::milliseconds timeout, std::stop_token stop,
                                 FailurePoint* failure);

  // True when the connection is open and the server did not close it meanwhile.
  bool Usable();
  // True when the previous round trip reused an already open connection.
  bool was_reused() const { return was_reused_; }

 private:
  class State;
  std::unique_ptr<State> state_;
  bool was_reused_ = false;
};

}  // namespace kalam::client
