// SQLite values ⇄ KalamDB values: how a column's type maps to a SQLite affinity, how values
// cross in both directions, and the `kalam_decimal` collation.
#pragma once

#include <sqlite3.h>

#include <string_view>

#include "catalog/table_def.h"
#include "common/types.h"
#include "common/value.h"

namespace kalam::sql {

// The kDecimalCollation comparison of two texts (registered by RegisterTypedComparisons), as a
// sqlite3_create_collation callback: decimal
// numbers in numeric order, equal when numerically equal ("1.50" = "1.5"), any other text after
// every number, bytewise.
int CompareDecimalText(void* unused, int n1, const void* p1, int n2, const void* p2);

// The SQLite type affinity a column of type `t` is declared with ("INTEGER", "REAL", "TEXT",
// "BLOB"), matching the storage class its values have (DECIMAL: REAL up to
// kMaxRealDecimalPrecision digits, TEXT beyond).
const char* AffinityName(const DataType& t);

// SQLite value ⇄ Value, by storage class.
Value ValueFromSqlite(sqlite3_value* v);
void ResultValue(sqlite3_context* ctx, const catalog::ColumnDef* col, const Value& v);
// ResultValue of a Text (blob = false) or Blob value given by its bytes.
void ResultBytes(sqlite3_context* ctx, const catalog::ColumnDef* col, bool blob,
                 std::string_view bytes);

}  // namespace kalam::sql
