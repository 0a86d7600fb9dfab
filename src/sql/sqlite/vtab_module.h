// The `kalam` SQLite virtual-table module: exposes one KalamDB USER or SHARED table, scoped to the
// running statement's user, with its staged writes overlaid, and stages INSERT/UPDATE/DELETE into
// the request's WriteSet (ARCHITECTURE.md §5); or one STREAM table, keyed by `_seq`, its expired
// rows hidden, staging appends and deletes (docs/streams.md).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>

#include "catalog/table_def.h"
#include "common/value.h"
#include "sql/sqlite/sqlite_values.h"

namespace kalam::sql {

class SqlConnection;

// Registers the module on `db`. `conn` must outlive `db`'s use of it.
int RegisterKalamModule(sqlite3* db, SqlConnection* conn);

// The CREATE TABLE text a `kalam` virtual table declares for `def` (user columns, `_seq`,
// `_deleted`, PRIMARY KEY, WITHOUT ROWID). DECIMAL columns wider than kMaxRealDecimalPrecision
// are TEXT with COLLATE kalam_decimal, so that comparisons, ORDER BY, MIN/MAX and GROUP BY treat
// them as numbers.
std::string DeclareTableSql(const catalog::TableDef& def);

}  // namespace kalam::sql
