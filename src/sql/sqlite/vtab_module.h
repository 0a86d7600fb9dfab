// The `kalam` SQLite virtual-table module: exposes one KalamDB USER or SHARED table, scoped to the
// running statement's user, with its staged writes overlaid, and stages INSERT/UPDATE/DELETE into
// the request's WriteSet (ARCHITECTURE.md §5); or one STREAM table, keyed by `_seq`, its expired
// rows hidden, staging appends and deletes (docs/streams.md).
#pragma once

#include <sqlite3.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "sql/sqlite/sqlite_values.h"

namespace kalam::sql {

class SqlConnection;
struct ExecContext;

// Registers the module on `db`. `conn` must outlive `db`'s use of it.
int RegisterKalamModule(sqlite3* db, SqlConnection* conn);

// The CREATE TABLE text a `kalam` virtual table declares for `def` (user columns, `_seq`,
// `_deleted`, PRIMARY KEY, WITHOUT ROWID). DECIMAL columns wider than kMaxRealDecimalPrecision
// are TEXT with COLLATE kalam_decimal, so that comparisons, ORDER BY, MIN/MAX and GROUP BY treat
// them as numbers.
std::string DeclareTableSql(const catalog::TableDef& def);

// Hands `visit` every row a full scan of USER or SHARED table `def` by the running statement of
// `ctx` sees — the cursor's own merge: hot over cold rows by key, tombstones skipped, the
// caller's scope of a USER table, the transaction's staged rows over committed ones — decoding
// only the user columns flagged in `columns` (one flag per column; the others read as NULL).
// `visit` gets one value per column; an error it returns stops the scan and is returned. Used by
// the aggregate path (sql/fast_aggregate.h), which runs instead of SQLite's VM.
Status ScanVisibleRows(const catalog::TableDef& def, ExecContext& ctx,
                       const std::vector<bool>& columns,
                       const std::function<Status(const Value* row)>& visit);

}  // namespace kalam::sql
