// Status names and formatting.
#include "kalam/status.h"

namespace kalam::client {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kConnectionFailed: return "connection_failed";
    case StatusCode::kTimeout: return "timeout";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kSqlError: return "sql_error";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kRateLimited: return "rate_limited";
    case StatusCode::kServerError: return "server_error";
    case StatusCode::kProtocolError: return "protocol_error";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kClosed: return "closed";
    case StatusCode::kIoError: return "io_error";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(StatusCodeName(code_));
  if (!server_code_.empty()) out += " [" + server_code_ + "]";
  out += ": " + message_;
  return out;
}

}  // namespace kalam::client
