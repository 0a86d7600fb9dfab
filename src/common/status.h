// Status and Result<T>: how every KalamDB module reports expected failures (STYLE.md "Errors are
// values"). Nothing we write throws across a module boundary.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kalam {

// What kind of failure a Status carries. The API layer maps each code to an HTTP status and a
// wire error code in exactly one place (api/error_mapping).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed input from a caller (bad value, bad option)
  kInvalidSql,          // SQL that does not parse or is not supported
  kInvalidParameter,    // a `$N` parameter is missing, extra, or cannot convert
  kNotFound,            // a named entity does not exist
  kTableNotFound,       // a named table does not exist
  kAlreadyExists,       // CREATE of an entity that exists
  kConstraint,          // PK violation, NOT NULL violation
  kTypeMismatch,        // a value does not fit its column type
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no or bad credentials
  kFailedPrecondition,  // the system is not in a state that allows the operation
  kConflict,            // a concurrent commit made this one impossible
  kResourceExhausted,   // a limit was hit (size, rate, count)
  kIoError,             // the disk or network failed
  kCorruption,          // stored data could not be decoded
  kUnavailable,         // shutting down, or not yet started
  kInternal,            // a bug: an invariant did not hold
};

// Stable lower-case name of a code ("invalid_argument"), for logs and tests.
std::string_view StatusCodeName(StatusCode code);

// The outcome of an operation: OK, or a code plus a message for a person. Cheap to copy when OK.
// Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status InvalidSql(std::string m) { return {StatusCode::kInvalidSql, std::move(m)}; }
  static Status InvalidParameter(std::string m) { return {StatusCode::kInvalidParameter, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status TableNotFound(std::string m) { return {StatusCode::kTableNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Constraint(std::string m) { return {StatusCode::kConstraint, std::move(m)}; }
  static Status TypeMismatch(std::string m) { return {StatusCode::kTypeMismatch, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Conflict(std::string m) { return {StatusCode::kConflict, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid_argument: message", or "ok".
  std::string ToString() const;

  // A copy with `prefix` put before the message ("Statement 2 failed: " + message).
  Status WithPrefix(std::string_view prefix) const {
    return Status(code_, std::string(prefix) + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value of T, or the Status saying why there is none. Never holds an OK status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace kalam

#define KALAM_CONCAT_INNER_(a, b) a##b
#define KALAM_CONCAT_(a, b) KALAM_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the current function if it is not OK.
#define KALAM_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::kalam::Status _kalam_st = (expr);          \
    if (!_kalam_st.ok()) return _kalam_st;       \
  } while (0)

#define KALAM_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

// Evaluates `rexpr` (a Result<T>); on error returns its Status, else assigns the value to `lhs`
// (which may be a declaration: `KALAM_ASSIGN_OR_RETURN(auto x, F());`).
#define KALAM_ASSIGN_OR_RETURN(lhs, rexpr) \
  KALAM_ASSIGN_OR_RETURN_IMPL_(KALAM_CONCAT_(_kalam_res_, __LINE__), lhs, rexpr)
