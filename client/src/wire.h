// Decoding of the server's JSON (PROTOCOL.md §3–§5) into client types, and of its error bodies
// into Status — the one place where server error codes become StatusCodes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "kalam/client.h"
#include "kalam/status.h"
#include "kalam/value.h"

namespace kalam::client::wire {

// `data_type` ("BigInt", {"Embedding":384}, {"Decimal":{"precision":10,"scale":2}}).
DataType ParseDataType(const boost::json::value& v);
// A `schema` array, ordered by `index`.
std::vector<Column> ParseSchema(const boost::json::value& v);
// One cell encoded as PROTOCOL.md §5 for a column of `type`. Lenient: a value of an unexpected
// JSON shape keeps its JSON text.
Value DecodeValue(const boost::json::value& v, const DataType& type);
// A WebSocket row object, fields in `schema` order, then any field the schema does not name.
LiveRow DecodeLiveRow(const boost::json::object& row, const std::vector<Column>& schema);

// The body of POST /v1/api/sql, success or error, for any HTTP status.
Result<SqlResponse> ParseSqlResponse(int http_status, std::string_view body);
// The Status for a non-2xx answer of any route (SQL shape, auth shape, guard shape or not JSON).
Status ErrorFromResponse(int http_status, std::string_view body);
// The string member `key` of `o`, or "" when it is missing or not a string.
std::string StringField(const boost::json::object& o, std::string_view key);

// Maps a server error code (and the HTTP status, 0 for WebSocket errors) to a StatusCode.
StatusCode CodeForServerError(std::string_view server_code, int http_status);

}  // namespace kalam::client::wire
