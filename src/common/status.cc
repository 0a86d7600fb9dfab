// Status names and formatting.
#include "common/status.h"

namespace kalam {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kInvalidSql: return "invalid_sql";
    case StatusCode::kInvalidParameter: return "invalid_parameter";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kTableNotFound: return "table_not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kConstraint: return "constraint";
    case StatusCode::kTypeMismatch: return "type_mismatch";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kIoError: return "io_error";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace kalam
