// Turns a SqlResponse into the JSON body and HTTP status of PROTOCOL.md §3, including error code
// mapping and redaction for callers below dba. This is the one place Status becomes a wire error.
#pragma once

#include <chrono>
#include <string>

#include "auth/roles.h"
#include "sql/statement_result.h"

namespace kalam::api {

struct WireError {
  int http_status = 400;
  std::string code;  // e.g. SQL_EXECUTION_ERROR
};

// The HTTP status and wire code for a failed SQL request.
WireError MapSqlError(const Status& status);
// A NOT_LEADER failure ("Not leader for shard. Leader: ..."), with or without a statement head.
bool IsNotLeader(const Status& st);

// The body of a SQL response; `took_ms` is the whole request time. `caller_role` decides
// redaction of `details` and of the messages a caller below dba may not read (a missing table,
// a parse error, an internal failure: replaced by fixed public texts).
std::string EncodeSqlResponse(const sql::SqlResponse& response, double took_ms,
                              auth::Role caller_role, int* http_status);

// `{"status":"error","results":[],"took":…,"error":{"code":…,"message":…}}`.
std::string EncodeSqlError(std::string_view code, std::string_view message, double took_ms);

// `{"error":<message>,"code":<code>}`: the error body of the topic and export routes.
std::string EncodeCodedError(std::string_view code, std::string_view message);

// {"error":"<code>","message":"<message>"}: the body of an answer that is not a SQL response
// (login, health, snapshot files, rate limits).
std::string EncodeError(std::string_view code, std::string_view message);

// Milliseconds rounded to 3 decimals, as JSON.
std::string FormatTook(double took_ms);

// Milliseconds since `start`, for `took`.
double MillisSince(std::chrono::steady_clock::time_point start);

}  // namespace kalam::api
