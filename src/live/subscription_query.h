// SubscriptionQuery: the `SELECT <cols|*> FROM <ns>.<table> [WHERE <expr>]` of a live query
// (PROTOCOL.md §4), parsed and checked for what subscriptions do not support.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "sql/parser/lexer.h"

namespace kalam::live {

// An error for the `{"type":"error",…}` message: wire code plus text.
struct LiveError {
  std::string code;  // INVALID_SQL, UNSUPPORTED, NOT_FOUND, UNAUTHORIZED, …
  std::string message;
};

struct SubscriptionQuery {
  std::string ns;                       // as written (lower-cased later); empty = default
  std::string table;
  std::vector<std::string> columns;     // empty = `*`
  std::string where_sql;                // the WHERE expression as written, empty = none
  std::vector<sql::parser::Token> where_tokens;  // offsets into statement_text
  std::string statement_text;
};

// Parses `sql`. Joins, GROUP BY, ORDER BY, LIMIT, WITH, UNION, DISTINCT and computed projections
// are UNSUPPORTED; anything that is not a SELECT is INVALID_SQL.
std::variant<SubscriptionQuery, LiveError> ParseSubscriptionQuery(std::string_view sql);

}  // namespace kalam::live
