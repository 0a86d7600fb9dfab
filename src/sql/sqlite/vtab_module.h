// The `kalam` SQLite virtual-table module: exposes one KalamDB USER or SHARED table, scoped to the
// running statement's user, with its staged writes overlaid, and stages INSERT/UPDATE/DELETE into
// the request's WriteSet (ARCHITECTURE.md §5).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "catalog/table_def.h"
#include "common/value.h"

namespace kalam::sql {

class SqlConnection;

// Registers the module on `db`. `conn` must outlive `db`'s use of it.
int RegisterKalamModule(sqlite3* db, SqlConnection* conn);

// The kDecimalCollation comparison of two texts (registered by RegisterTypedComparisons), as a
// sqlite3_create_collation callback: decimal
// numbers in numeric order, equal when numerically equal ("1.50" = "1.5"), any other text after
// every number, bytewise.
int CompareDecimalText(void* unused, int n1, const void* p1, int n2, const void* p2);

// The CREATE TABLE text a `kalam` virtual table declares for `def` (user columns, `_seq`,
// `_deleted`, PRIMARY KEY, WITHOUT ROWID). DECIMAL columns wider than kMaxRealDecimalPrecision
// are TEXT with COLLATE kalam_decimal, so that comparisons, ORDER BY, MIN/MAX and GROUP BY treat
// them as numbers.
std::string DeclareTableSql(const catalog::TableDef& def);

// The SQLite type affinity a column of type `t` is declared with ("INTEGER", "REAL", "TEXT",
// "BLOB"), matching the storage class its values have (DECIMAL: REAL up to
// kMaxRealDecimalPrecision digits, TEXT beyond).
const char* AffinityName(const DataType& t);

// SQLite value ⇄ Value, by storage class.
Value ValueFromSqlite(sqlite3_value* v);
void ResultValue(sqlite3_context* ctx, const catalog::ColumnDef* col, const Value& v);

}  // namespace kalam::sql
