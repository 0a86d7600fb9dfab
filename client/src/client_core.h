// Client::Core: the state a Client shares with its live connections — endpoint, tokens and
// their renewal, the keep-alive connection pool, and the retrying request path.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "http_connection.h"
#include "kalam/client.h"
#include "url.h"

namespace kalam::client {

// How Core::Send treats one request.
struct SendOptions {
  bool idempotent = false;
  bool authenticate = true;  // add the Bearer access token (renewed first when near expiry)
  std::chrono::milliseconds timeout{0};  // 0 = ClientOptions::request_timeout
  std::stop_token stop;
};

// Thread-safe. `mu_` guards tokens and identity; `renew_mu_` makes one thread at a time renew
// tokens (others wait and then use the result); `pool_mu_` guards the idle connections. No lock
// is held during network I/O except `renew_mu_`, which exists to serialize exactly that.
class Client::Core {
 public:
  Core(ClientOptions options, Endpoint endpoint);

  const ClientOptions& options() const { return options_; }
  const Endpoint& endpoint() const { return endpoint_; }

  // Sends a request on a pooled connection, retrying per the options; when `authenticate` and
  // the server answers 401 while the tokens can be renewed, renews them and sends once more.
  // Non-2xx answers are returned as responses, not errors.
  Result<HttpResponse> Send(HttpRequest request, const SendOptions& options);

  // Logs in and stores the tokens.
  Status Login(const std::string& user, const std::string& password);
  // Uses the refresh token; falls back to a password login when the refresh is refused and a
  // password is known.
  Status Renew();
  // Renews when the access token expires within the refresh margin.
  Status EnsureFresh();
  // GET /v1/api/auth/me with the current token; records user and role.
  Status CheckToken();

  std::string AccessToken() const;
  Tokens tokens() const;
  std::string user() const;
  std::string role() const;
  std::string current_namespace() const;
  void set_current_namespace(std::string ns);
  // True when tokens can be obtained again without the caller (refresh token or password).
  bool CanRenew() const;

 private:
  Result<HttpResponse> SendOnce(const HttpRequest& request, const SendOptions& options);
  Status StoreLoginResponse(const HttpResponse& response);
  std::unique_ptr<HttpConnection> TakeConnection();
  void ReturnConnection(std::unique_ptr<HttpConnection> conn);

  const ClientOptions options_;
  const Endpoint endpoint_;

  mutable std::mutex mu_;
  Tokens tokens_;          // guarded by mu_
  std::string user_;       // guarded by mu_
  std::string role_;       // guarded by mu_
  std::string password_;   // guarded by mu_; kept to log in again when refresh fails
  std::string namespace_;  // guarded by mu_

  std::mutex renew_mu_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<HttpConnection>> idle_;  // guarded by pool_mu_
};

// Seconds since the epoch of a JWT's `exp` claim, or 0 when it cannot be read.
int64_t JwtExpiry(const std::string& token);
// The JWT's `sub` claim, or "".
std::string JwtSubject(const std::string& token);

}  // namespace kalam::client
