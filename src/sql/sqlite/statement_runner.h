// Runs one prepared SQLite statement to completion and encodes what it returns as result rows.
#pragma once

#include <sqlite3.h>

#include <vector>

#include "common/value.h"
#include "sql/sqlite/connection.h"
#include "sql/statement_result.h"

namespace kalam::sql {

struct RowLimits {
  // Rows returned at most; rows past it are not read and the result is marked truncated.
  uint64_t max_rows = 1000;
  // Bytes of encoded rows at most; a result growing past it fails with kResourceExhausted.
  uint64_t max_result_bytes = 64ull << 20;
};

// Steps `stmt` until done, encoding every row (PROTOCOL.md §5). Column types come from the
// KalamDB column a result column reads (through sqlite3_column_table_name/origin_name); computed
// columns are typed by their values. For a statement without result columns, `row_count` is the
// number of rows it changed. Errors raised inside callbacks keep their Status code.
Status RunStatement(SqlConnection& conn, sqlite3_stmt* stmt, const RowLimits& limits,
                    StatementResult* out);

// Encodes `rows` (one value per result column of `stmt`, as SQLite would have returned them) as
// RunStatement encodes the rows of `stmt`, without running it: the aggregate path
// (sql/fast_aggregate.h) computes the rows of a prepared statement itself.
Status EncodeRows(SqlConnection& conn, sqlite3_stmt* stmt,
                  const std::vector<std::vector<Value>>& rows, const RowLimits& limits,
                  StatementResult* out);

// Status for a SQLite error code on `conn`, preferring a callback's own Status.
Status SqliteError(SqlConnection& conn, int rc);

// The schema flags of a result column read from `def`'s column `col`: "pk", "nn", "uq" for a
// primary key ("uq" not on a STREAM table, whose key values may repeat), "nn" for NOT NULL.
std::vector<std::string> ColumnFlags(const catalog::TableDef& def, const catalog::ColumnDef& col);

}  // namespace kalam::sql
