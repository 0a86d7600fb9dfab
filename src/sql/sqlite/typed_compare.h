// Typed comparisons and scan planning of the `kalam` virtual table: which columns compare in their stored form
// (the operand converted as an INSERT would), which constraints are comparisons, and how two stored
// values compare. Shared by the table module (vtab_module.cc) and live-query filters
// (live/row_filter.cc) so that a live filter and a SELECT with the same WHERE always agree.
#pragma once

#include <sqlite3.h>

#include "catalog/table_def.h"
#include "common/value.h"

namespace kalam::sql {

// Columns whose stored form differs from how people write literals (µs vs ISO text, canonical
// lower-case UUIDs): TIMESTAMP, DATETIME, DATE, TIME, UUID.
bool IsConvertedColumn(const catalog::ColumnDef& col);

// SQLITE_INDEX_CONSTRAINT_EQ/GT/GE/LT/LE/NE.
bool IsComparison(int op);

// EQ/GT/GE/LT/LE: the comparisons the table takes for cold-segment pruning.
bool IsBoundOp(int op);

// Primary-key types whose key encoding sorts like their values (range scans, ORDER BY pk).
bool IsPkOrderable(const catalog::ColumnDef& col);

// The `kalam` table's plan for `info` (its xBestIndex, minus flags of its own): which
// constraints it takes — the PK's equality and range bounds, typed comparisons (evaluated by the
// table itself: omit=1), other comparisons with a value (only for cold-segment pruning: SQLite
// re-checks them) — in idxStr as "column:op," entries in argv order, the plan's cost, and that
// rows come in PK order. Live filters plan their one-row table with it too, so both agree.
void PlanKalamScan(const catalog::TableDef& def, sqlite3_index_info* info);

// True when `v` op `operand` holds for stored values of one storage class (Int or Text); NULL, a
// different storage class, or another class never matches.
bool CompareStored(const Value& v, int op, const Value& operand);

}  // namespace kalam::sql
