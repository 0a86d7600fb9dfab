// SQL response encoding.
#include "api/sql_response_json.h"

#include <cmath>
#include <cstdio>

#include "common/value_json.h"

namespace kalam::api {

// The statement's failure may carry the "Statement N failed: …" head (sql/statement_error.h).
bool IsNotLeader(const Status& st) {
  return st.code() == StatusCode::kUnavailable &&
         st.message().find("Not leader for shard.") != std::string::npos;
}

WireError MapSqlError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidSql: return {400, "INVALID_SQL"};
    case StatusCode::kInvalidParameter: return {400, "INVALID_PARAMETER"};
    case StatusCode::kTableNotFound: return {400, "TABLE_NOT_FOUND"};
    case StatusCode::kPermissionDenied: return {403, "PERMISSION_DENIED"};
    case StatusCode::kUnauthenticated: return {401, "AUTHENTICATION_ERROR"};
    case StatusCode::kResourceExhausted: return {400, "SQL_EXECUTION_ERROR"};
    case StatusCode::kUnavailable:
      // A cluster node that does not lead the statement's group (docs/cluster.md).
      if (IsNotLeader(status)) return {503, "NOT_LEADER"};
      return {503, "INTERNAL_ERROR"};
    case StatusCode::kInternal:
    case StatusCode::kIoError:
    case StatusCode::kCorruption: return {500, "INTERNAL_ERROR"};
    default: return {400, "SQL_EXECUTION_ERROR"};
  }
}

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

std::string FormatTook(double took_ms) {
  // The same text as "%.3f" of the value rounded to whole microseconds, without printf's
  // floating-point formatting (this runs once per SQL response).
  if (!(took_ms >= 0) || took_ms >= 9e12) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f", std::round(took_ms * 1000.0) / 1000.0);
    return buf;
  }
  const auto micros = static_cast<uint64_t>(std::llround(took_ms * 1000.0));
  std::string out = std::to_string(micros / 1000);
  const auto frac = static_cast<unsigned>(micros % 1000);
  out += '.';
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
  return out;
}

std::string EncodeError(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonString(code, &out);
  out += ",\"message\":";
  AppendJsonString(message, &out);
  out += "}";
  return out;
}

std::string EncodeCodedError(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonString(message, &out);
  out += ",\"code\":";
  AppendJsonString(code, &out);
  out += "}";
  return out;
}

std::string EncodeSqlError(std::string_view code, std::string_view message, double took_ms) {
  std::string out = "{\"status\":\"error\",\"results\":[],\"took\":";
  out += FormatTook(took_ms);
  out += ",\"error\":{\"code\":";
  AppendJsonString(code, &out);
  out += ",\"message\":";
  AppendJsonString(message, &out);
  out += "}}";
  return out;
}

namespace {

void AppendResult(const sql::StatementResult& r, const std::string& as_user, std::string* out) {
  out->push_back('{');
  if (!r.schema.empty()) {
    *out += "\"schema\":[";
    for (size_t i = 0; i < r.schema.size(); ++i) {
      const auto& c = r.schema[i];
      if (i) out->push_back(',');
      *out += "{\"name\":";
      AppendJsonString(c.name, out);
      *out += ",\"data_type\":";
      *out += c.data_type_json;
      *out += ",\"index\":";
      *out += std::to_string(i);
      if (!c.flags.empty()) {
        *out += ",\"flags\":[";
        for (size_t f = 0; f < c.flags.size(); ++f) {
          if (f) out->push_back(',');
          AppendJsonString(c.flags[f], out);
        }
        out->push_back(']');
      }
      out->push_back('}');
    }
    *out += "],";
  }
  // A query result (it has a schema) always carries `rows`, `[]` when nothing matched; a message
  // result (DDL, DML without RETURNING) has none (PROTOCOL §3).
  if (!r.schema.empty() || !r.rows_json.empty()) {
    *out += "\"rows\":[";
    *out += r.rows_json;
    *out += "],";
  }
  *out += "\"row_count\":";
  *out += std::to_string(r.row_count);
  if (r.message) {
    *out += ",\"message\":";
    AppendJsonString(*r.message, out);
  }
  if (r.truncated) *out += ",\"truncated\":true";
  *out += ",\"as_user\":";
  AppendJsonString(as_user, out);
  out->push_back('}');
}

// Whether `st` is a kind whose message every caller may read (docs/compatibility.md "Error
// messages"): validation, constraint, already exists, permission, unknown column, parameter.
// A missing table (which would tell a caller what exists), a parse error and an internal
// failure are not.
bool MessageForEveryone(const Status& st) {
  switch (st.code()) {
    case StatusCode::kTableNotFound:
    case StatusCode::kInternal:
    case StatusCode::kIoError:
    case StatusCode::kCorruption:
      return false;
    case StatusCode::kUnavailable:
      return IsNotLeader(st);  // names the leader's address, as the original does
    case StatusCode::kInvalidSql:
      // SQLite reports an unknown or ambiguous column as a parse error; the original keeps
      // column errors readable.
      return st.message().find("no such column") != std::string::npos ||
             st.message().find("ambiguous column name") != std::string::npos;
    default:
      return true;
  }
}

// The fixed text a caller below dba sees instead of a message it may not read, by wire code;
// nullptr for codes whose messages are never replaced.
const char* PublicMessage(std::string_view code) {
  if (code == "SQL_EXECUTION_ERROR") return "SQL statement failed";
  if (code == "INVALID_SQL") return "SQL statement is invalid or not allowed";
  if (code == "BATCH_PARSE_ERROR") return "Failed to parse SQL batch";
  if (code == "TABLE_NOT_FOUND") return "Requested table is not available";
  if (code == "INTERNAL_ERROR") return "SQL request failed";
  return nullptr;
}

}  // namespace

std::string EncodeSqlResponse(const sql::SqlResponse& response, double took_ms,
                              auth::Role caller_role, int* http_status) {
  const bool admin = auth::RoleAtLeast(caller_role, auth::Role::kDba);
  if (!response.error.ok()) {
    WireError w = MapSqlError(response.error);
    if (!response.error_code.empty()) w.code = response.error_code;
    *http_status = w.http_status;
    std::string message = response.error.message();
    if (!admin && !MessageForEveryone(response.error)) {
      if (const char* text = PublicMessage(w.code)) message = text;
    }
    std::string out = "{\"status\":\"error\",\"results\":[],\"took\":";
    out += FormatTook(took_ms);
    out += ",\"error\":{\"code\":";
    AppendJsonString(w.code, &out);
    out += ",\"message\":";
    AppendJsonString(message, &out);
    if (admin && !response.error_details.empty()) {
      out += ",\"details\":";
      AppendJsonString(response.error_details, &out);
    }
    out += "}}";
    return out;
  }
  *http_status = 200;
  std::string out = "{\"status\":\"success\",\"results\":[";
  for (size_t i = 0; i < response.results.size(); ++i) {
    if (i) out.push_back(',');
    const auto& r = response.results[i];
    AppendResult(r, r.as_user.empty() ? response.as_user : r.as_user, &out);
  }
  out += "],\"took\":";
  out += FormatTook(took_ms);
  out.push_back('}');
  return out;
}

}  // namespace kalam::api
