// Status and Result<T>: how every fallible call of the KalamDB C++ client reports failure.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kalam::client {

// What kind of failure a Status describes. The program branches on this; the message is for a
// person.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller passed something unusable (bad URL, empty SQL, …)
  kConnectionFailed,    // DNS, connect, TLS or a socket error: the server was not reached
  kTimeout,             // a connect, request or WebSocket deadline passed
  kUnauthenticated,     // bad credentials, missing, invalid or expired token (HTTP 401, 428)
  kPermissionDenied,    // authenticated but not allowed (HTTP 403, PERMISSION_DENIED)
  kSqlError,            // the server rejected or failed a statement (HTTP 400, SQL error codes)
  kNotFound,            // a route, table or subscription the server does not know
  kRateLimited,         // HTTP 429 / RATE_LIMIT_EXCEEDED
  kServerError,         // HTTP 5xx or INTERNAL_ERROR
  kProtocolError,       // the server answered something this client cannot understand
  kCancelled,           // the caller asked to stop (a std::stop_token fired)
  kClosed,              // the object was closed; no more results will come
  kIoError,             // a local file could not be read or written
};

// Stable lower-case name of a code ("sql_error"), for logs and messages.
std::string_view StatusCodeName(StatusCode code);

// Outcome of an operation: OK, or a code plus a human-readable message. Errors from the server
// also carry its machine code (`server_code`, e.g. "TABLE_NOT_FOUND"), the HTTP status and, when
// the server sent them, `details` (the offending statement). Values are immutable once built;
// copying is cheap enough for error paths. Thread-compatible (like std::string).
class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, std::string server_code = {},
         int http_status = 0, std::string details = {})
      : code_(code),
        message_(std::move(message)),
        server_code_(std::move(server_code)),
        details_(std::move(details)),
        http_status_(http_status) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The server's error code ("SQL_EXECUTION_ERROR", "unauthorized", …); empty for local errors.
  const std::string& server_code() const { return server_code_; }
  // The server's `details` (the failing statement for dba callers); often empty.
  const std::string& details() const { return details_; }
  // HTTP status of the response that carried the error; 0 when there was none.
  int http_status() const { return http_status_; }

  // "sql_error [TABLE_NOT_FOUND]: Table 'chat.x' does not exist".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string server_code_;
  std::string details_;
  int http_status_ = 0;
};

// Either a T or a non-OK Status. Accessing value() of an error is a programming error (asserted).
// Thread-compatible.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace kalam::client

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define KALAM_CLIENT_RETURN_IF_ERROR(expr)                  \
  do {                                                      \
    ::kalam::client::Status kalam_client_st_ = (expr);      \
    if (!kalam_client_st_.ok()) return kalam_client_st_;    \
  } while (0)

#define KALAM_CLIENT_CONCAT_INNER_(a, b) a##b
#define KALAM_CLIENT_CONCAT_(a, b) KALAM_CLIENT_CONCAT_INNER_(a, b)

// `lhs = *result_expr`, or returns its Status from the enclosing function.
#define KALAM_CLIENT_ASSIGN_OR_RETURN(lhs, expr) \
  KALAM_CLIENT_ASSIGN_OR_RETURN_IMPL_(KALAM_CLIENT_CONCAT_(kalam_client_r_, __LINE__), lhs, expr)
#define KALAM_CLIENT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                        \
  if (!tmp.ok()) return tmp.status();                       \
  lhs = std::move(tmp).value()
