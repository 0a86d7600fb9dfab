#include "sql/statement_error.h"

#include <string>

namespace kalam::sql {

namespace {

constexpr std::string_view kKindPrefixes[] = {
    "Not found: ",          "Already exists: ",  "Invalid operation: ", "Idempotent conflict: ",
    "Permission denied: ",  "Unauthorized: ",    "Invalid SQL: ",       "Execution error: ",
    "Conflict: ",           "Serialization error: ",
};

}  // namespace

std::string_view ErrorKindPrefix(StatusCode code) {
  switch (code) {
    case StatusCode::kNotFound:
    case StatusCode::kTableNotFound: return "Not found: ";
    case StatusCode::kAlreadyExists: return "Already exists: ";
    case StatusCode::kPermissionDenied: return "Permission denied: ";
    case StatusCode::kUnauthenticated: return "Unauthorized: ";
    case StatusCode::kConflict: return "Conflict: ";
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kConstraint:
    case StatusCode::kResourceExhausted: return "Invalid operation: ";
    case StatusCode::kTypeMismatch:
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
    case StatusCode::kUnavailable:
    case StatusCode::kInternal: return "Execution error: ";
    case StatusCode::kOk:
    case StatusCode::kInvalidSql:
    case StatusCode::kInvalidParameter: return "";
  }
  return "";
}

bool HasErrorKindPrefix(std::string_view message) {
  for (std::string_view p : kKindPrefixes) {
    if (message.starts_with(p)) return true;
  }
  return false;
}

Status DescribeStatementFailure(const Status& st, size_t number, bool batch, bool bare) {
  const std::string head = "Statement " + std::to_string(number) + " failed: ";
  const bool request_level =
      st.code() == StatusCode::kInvalidSql || st.code() == StatusCode::kInvalidParameter;
  if (bare) return st;
  if (request_level) return batch ? st.WithPrefix(head) : st;
  std::string_view kind = ErrorKindPrefix(st.code());
  if (HasErrorKindPrefix(st.message())) kind = {};
  return st.WithPrefix(head + std::string(kind));
}

}  // namespace kalam::sql
