// The column-definition grammar shared by CREATE TABLE and ALTER TABLE (ADD COLUMN, MODIFY COLUMN,
// ALTER COLUMN … SET DEFAULT): a column's name, type, constraints and DEFAULT expression.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "sql/parser/ast.h"
#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {

// A column name (bare or quoted, checked with ValidateIdentifier), refusing the reserved `_seq`
// and `_deleted`: "Column name '_seq' is reserved: KalamDB adds _seq and _deleted to every
// table". `after` names what precedes it, for the "Expected … after …" message.
Result<std::string> ExpectColumnName(TokenCursor& cursor, std::string_view after);

// The type after a column name, into column.type_text (normalised as ParsedColumn describes):
// words up to a constraint word, then an optional `(n[, m])`. SERIAL and BIGSERIAL become BIGINT
// with auto_increment set. Does not check that the type exists (DataType::Parse does).
Status ParseColumnType(TokenCursor& cursor, ParsedColumn& column);

// Column constraints in any order up to ',', ')' or the end of the statement: NOT NULL, NULL,
// DEFAULT expr, PRIMARY KEY, AUTO_INCREMENT / AUTOINCREMENT, GENERATED [ALWAYS | BY DEFAULT] AS
// IDENTITY, COMMENT 'text'. Sets column.nullable, primary_key, auto_increment, default_value and
// comment. Fails on UNIQUE, CHECK, REFERENCES, … and on contradictions (NULL with NOT NULL, a
// NULL primary key, DEFAULT with AUTO_INCREMENT).
Status ParseColumnConstraints(TokenCursor& cursor, ParsedColumn& column);

// The expression after DEFAULT for `column`: a literal, or NOW(), CURRENT_TIMESTAMP,
// SNOWFLAKE_ID(), UUID_V7(), ULID(), CURRENT_USER[()]; anything else fails naming these.
Result<DefaultExpr> ParseColumnDefault(TokenCursor& cursor, std::string_view column);

}  // namespace kalam::sql::parser
