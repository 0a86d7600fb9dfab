// Turning parsed column definitions (the parser's ParsedColumn and DefaultExpr) into catalog
// columns: type resolution, DEFAULT conversion and the checks CREATE TABLE and ALTER TABLE share.
#pragma once

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "sql/parser/ast.h"

namespace kalam::sql {

// A literal from a statement as a Value, before conversion to a column type: TRUE/FALSE → Int 1/0,
// integers that do not fit 64 bits → Double, blobs → their bytes.
Value LiteralValue(const parser::Literal& literal);

// The catalog column for `parsed`: name lower-cased, type resolved, DEFAULT converted to the
// column's stored form, nullability, primary key and comment; column_id and missing_value are
// left for the caller. Fails with kInvalidArgument naming the column: an unknown type, a DEFAULT
// literal that does not fit the type, a DEFAULT function that does not fit it, AUTO_INCREMENT on
// anything but BIGINT, or a PRIMARY KEY of a type that cannot be one.
Result<catalog::ColumnDef> BuildColumn(const parser::ParsedColumn& parsed);

// The DEFAULT `expr` for `column` (whose name and type are set), converted and checked as
// BuildColumn does. DEFAULT NULL means no default. Fails with kInvalidArgument.
Result<catalog::DefaultSpec> BuildDefault(const parser::DefaultExpr& expr,
                                          const catalog::ColumnDef& column);

// Fails with kInvalidArgument if the column's DEFAULT function cannot produce its type
// (SNOWFLAKE_ID() needs BIGINT, NOW() a time type or BIGINT, …). Literals are not checked here.
Status CheckDefaultFits(const catalog::ColumnDef& column);

// Fails with kInvalidArgument if `column`'s type cannot be a primary key (FLOAT, DOUBLE, JSON,
// FILE, EMBEDDING, BOOLEAN).
Status CheckPrimaryKeyType(const catalog::ColumnDef& column);

}  // namespace kalam::sql
