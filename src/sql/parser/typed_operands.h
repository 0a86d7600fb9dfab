// Typed comparison operands: the literals, `$N` parameters and other constants a statement
// compares with a TIMESTAMP, DATETIME, DATE, TIME, UUID or DECIMAL column, found in its tokens and
// rewritten into the column's stored form, so that SQLite compares like with like wherever the
// comparison stands (WHERE, OR, NOT, CASE, JOIN ON, subqueries, HAVING, live filters).
// docs/sql_types.md has the rules as users see them.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/types.h"
#include "common/value.h"
#include "sql/parser/lexer.h"

namespace kalam::sql::parser {

// DECIMAL columns of at most this precision are exposed to SQLite as REAL (a double holds 15
// significant digits exactly); wider ones as TEXT under the collation kDecimalCollation, which
// compares decimal text numerically.
inline constexpr int kMaxRealDecimalPrecision = 15;
inline constexpr std::string_view kDecimalCollation = "kalam_decimal";

// The SQL function that converts an operand known only when the statement runs:
// kalam_operand(x, '<type>', '<column>') returns ComparisonValue(type, x, column) as SQLite sees
// it (sql/sqlite/functions.cc).
inline constexpr std::string_view kOperandFunction = "kalam_operand";

// True for the types whose comparison operands are rewritten: TIMESTAMP, DATETIME, DATE, TIME,
// UUID and DECIMAL.
bool IsTypedComparisonType(const DataType& type);

// The value `input` (a literal or parameter as SQLite hands it over) stands for when compared with
// column `column` of type `type`: CoerceToColumn's stored form (µs, days, canonical UUID, decimal
// text with the column's scale), except that a DECIMAL also compares with numbers it could not
// store (9.995 or 1e12 against DECIMAL(10,2)), given as the shortest exact decimal text. Fails
// with CoerceToColumn's kTypeMismatch error when `input` is not such a value.
Result<Value> ComparisonValue(const DataType& type, const Value& input, std::string_view column);

// A column a comparison operand may refer to, as the caller knows it.
struct ColumnType {
  DataType type;
  std::string_view name;  // as declared, for messages; must outlive the call that receives it
};

// Resolves the column reference spelled by tokens [first, end) of the statement (`col`, `q.col`
// or `ns.q.col`; the last token names the column). nullopt when it names no known column or is
// ambiguous.
using ColumnResolver = std::function<std::optional<ColumnType>(size_t first, size_t end)>;

// One operand to rewrite, tokens [first_token, end_token): a literal is replaced by `text`, its
// stored form; any other constant (call_suffix not empty) stays and is wrapped in a conversion
// call: `kalam_operand(` + the operand + call_suffix (", '<type>', '<column>')").
struct OperandRewrite {
  size_t first_token = 0;
  size_t end_token = 0;
  std::string text;
  std::string call_suffix;
  // Where the operand's rewritten text starts and ends in the rewritten statement (set by
  // RewriteDml).
  size_t output_offset = 0;
  size_t output_end = 0;
};

// Finds every constant — a literal (string, number, optionally signed, blob), a `$N` parameter,
// CURRENT_TIMESTAMP/CURRENT_DATE/CURRENT_TIME, or a function of constants such as
// datetime('now', '-1 day') — that `tokens` compare with a column of a typed comparison type, in
// these forms, operands on either side:
//   a op b           op one of = == <> != < <= > >= IS, IS NOT, IS [NOT] DISTINCT FROM
//   a [NOT] IN (b, c, …)            a [NOT] BETWEEN b AND c
//   CASE a WHEN b THEN … WHEN c …   (a simple CASE compares a with each WHEN value)
// where the column side is a column reference or MIN/MAX of one, standing alone as the operand
// under SQLite's operator precedence (`at + 1 > 'x'` or `'x' || '' < at` are not comparisons of
// `at` with the literal and are left alone). A literal compared with several columns is
// rewritten only when they all have the same stored form. `not_comparisons` lists '=' tokens
// that assign (UPDATE … SET a = 'x'); they are skipped.
// Each result is in token order and gives the operand's rewrite: a literal's ComparisonValue as
// SQL text (an integer, a quoted string, or for DECIMAL(p ≤ 15) an unquoted number); any other
// constant a kalam_operand(…) call around it, so that the statement text does not depend on a
// parameter's value. Fails with ComparisonValue's error for a literal that does not convert.
Result<std::vector<OperandRewrite>> FindTypedOperands(const std::vector<Token>& tokens,
                                                      const ColumnResolver& resolve,
                                                      const std::vector<size_t>& not_comparisons);

}  // namespace kalam::sql::parser
