// Client: the KalamDB connection object — login and token refresh, SQL over HTTP, health, and
// the factory for live-query (WebSocket) connections.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kalam/status.h"
#include "kalam/value.h"

namespace kalam::client {

class LiveConnection;
struct LiveOptions;

// How to reach and authenticate to a server. Only `url` is required; give either user/password
// (the client logs in and refreshes its tokens itself) or an access token.
struct ClientOptions {
  // "http://host:port" (scheme optional, default port 8080). https is not supported yet.
  // Default: "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // Log in with these when `user` is not empty.
  std::string user;
  std::string password;
  // Use this access token instead of logging in (`user` may stay empty). With a refresh token as
  // well, the client renews the pair before the access token expires.
  std::string access_token;
  std::string refresh_token;
  // Namespace for unqualified table names (`namespace_id` of every request). Empty = the
  // server's default ("default").
  std::string namespace_id;
  // Deadline to establish a TCP connection. Default 5 s.
  std::chrono::milliseconds connect_timeout{5000};
  // Deadline for one HTTP request, from sending to the last byte of the answer. Default 30 s.
  std::chrono::milliseconds request_timeout{30000};
  // Extra attempts after a failed idempotent request (read-only SQL, health, login, refresh)
  // when the failure is a network error, a timeout, HTTP 429 or 503. Default 2.
  int max_retries = 2;
  // Wait before the first retry; doubles each time (a 429's Retry-After wins). Default 100 ms.
  std::chrono::milliseconds retry_backoff{100};
  // Renew the access token this long before it expires. Default 60 s.
  std::chrono::seconds refresh_margin{60};
  // Keep-alive HTTP connections kept open for reuse. Default 4.
  size_t max_idle_connections = 4;
};

// A value for a `$n` placeholder: NULL, bool, integer, float or string (PROTOCOL.md §3).
class Param {
 public:
  Param() = default;  // NULL
  Param(std::nullptr_t) {}
  Param(bool v) : kind_(Kind::kBool), b_(v) {}
  Param(int v) : kind_(Kind::kInt), i_(v) {}
  Param(long v) : kind_(Kind::kInt), i_(v) {}
  Param(long long v) : kind_(Kind::kInt), i_(v) {}
  Param(double v) : kind_(Kind::kDouble), d_(v) {}
  Param(const char* v) : kind_(Kind::kString), s_(v) {}
  Param(std::string_view v) : kind_(Kind::kString), s_(v) {}
  Param(std::string v) : kind_(Kind::kString), s_(std::move(v)) {}

  // The JSON encoding sent to the server.
  std::string ToJson() const;

 private:
  enum class Kind { kNull, kBool, kInt, kDouble, kString };
  Kind kind_ = Kind::kNull;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

// One statement's result (one `results[]` entry of PROTOCOL.md §3).
struct QueryResult {
  std::vector<Column> columns;            // empty for DML/DDL without RETURNING
  std::vector<std::vector<Value>> rows;   // cells in `columns` order
  int64_t row_count = 0;                  // rows returned, or rows affected by DML
  std::optional<std::string> message;     // "Inserted 2 row(s)", "Namespace chat created …"
  std::string as_user;                    // the effective user
  bool truncated = false;                 // the server cut the rows at its query limit

  // Index of the column named `name`, or -1.
  int FindColumn(std::string_view name) const;
};

// The answer to one SQL request.
struct SqlResponse {
  std::vector<QueryResult> results;
  double took_ms = 0;  // server-side time of the whole request
};

// Per-call settings of Client::Execute.
struct QueryOptions {
  // Namespace for unqualified names; empty = the client's current namespace.
  std::string namespace_id;
  // Whether a failed request may be sent again. Unset = guess from the SQL: SELECT, SHOW,
  // DESCRIBE, EXPLAIN and WITH are idempotent, everything else is not.
  std::optional<bool> idempotent;
  // Overrides ClientOptions::request_timeout for this call.
  std::optional<std::chrono::milliseconds> timeout;
  // When stop is requested, the call returns kCancelled as soon as possible (the server may
  // still finish the statement).
  std::stop_token stop;
};

// GET /health.
struct HealthInfo {
  std::string status;  // "healthy"
  std::string version;
  std::string api_version;
  std::string build_date;
};

// The tokens the client currently holds (empty strings when unknown).
struct Tokens {
  std::string access_token;
  std::string refresh_token;
  // Seconds since the Unix epoch; 0 when unknown.
  int64_t access_expires_at = 0;
  int64_t refresh_expires_at = 0;
};

// A connection to one KalamDB server. Thread-safe: any number of threads may call any method
// concurrently; requests run on pooled keep-alive connections and tokens are shared. Live
// connections opened from it share its credentials and may outlive it.
class Client {
 public:
  // Checks `options`, then authenticates: logs in when `user` is set (failures: kUnauthenticated
  // for wrong credentials, kConnectionFailed/kTimeout when the server is unreachable), or checks
  // the access token with GET /v1/api/auth/me when only a token is given. With neither, nothing is
  // sent (for servers with `auth.localhost_bypass`).
  static Result<std::unique_ptr<Client>> Connect(ClientOptions options);

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Runs one or more `;`-separated statements (PROTOCOL.md §3). `params` fill `$1…$n` (only
  // with a single statement). An expired access token is renewed and the request sent once more.
  // Failures: kSqlError / kPermissionDenied / kNotFound with the server's code and message,
  // kUnauthenticated, kConnectionFailed, kTimeout, kCancelled, kRateLimited, kServerError.
  Result<SqlResponse> Execute(std::string_view sql, const std::vector<Param>& params = {},
                              const QueryOptions& options = {});

  // GET /health (answered for loopback clients only; others get kPermissionDenied).
  Result<HealthInfo> Health();

  // Logs in with a password and replaces the held tokens.
  Status Login(const std::string& user, const std::string& password);
  // Exchanges the refresh token for a new pair (kUnauthenticated when there is none or it was
  // refused).
  Status Refresh();

  Tokens tokens() const;
  // The user id the tokens belong to (from login or the token), or "" when unknown.
  std::string user() const;
  // The role the server reported ("system", "dba", …), or "" when unknown.
  std::string role() const;
  // The normalized base URL, "http://host:port".
  std::string url() const;

  // The namespace used for unqualified names when a call does not name one.
  std::string current_namespace() const;
  void set_current_namespace(std::string namespace_id);

  // Opens a WebSocket live-query connection that authenticates with this client's tokens
  // (renewing them as needed). It connects in the background; see kalam/live.h.
  std::unique_ptr<LiveConnection> OpenLive(const LiveOptions& options);

  class Core;  // shared by Client and its LiveConnections (implementation detail)

 private:
  explicit Client(std::shared_ptr<Core> core);
  std::shared_ptr<Core> core_;
};

}  // namespace kalam::client
