// Typed comparison rules shared by the virtual table and live filters.
#include "sql/sqlite/typed_compare.h"

#include <string>

namespace kalam::sql {

bool IsConvertedColumn(const catalog::ColumnDef& col) {
  switch (col.type.kind) {
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime:
    case TypeKind::kUuid:
      return true;
    default:
      return false;
  }
}

bool IsComparison(int op) {
  return IsBoundOp(op) || op == SQLITE_INDEX_CONSTRAINT_NE;
}

bool IsBoundOp(int op) {
  return op == SQLITE_INDEX_CONSTRAINT_EQ || op == SQLITE_INDEX_CONSTRAINT_GT ||
         op == SQLITE_INDEX_CONSTRAINT_GE || op == SQLITE_INDEX_CONSTRAINT_LT ||
         op == SQLITE_INDEX_CONSTRAINT_LE;
}

bool IsPkOrderable(const catalog::ColumnDef& col) {
  switch (col.type.kind) {
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kBigInt:
    case TypeKind::kText:
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime:
    case TypeKind::kUuid:
      return true;
    default:
      return false;
  }
}

bool CompareStored(const Value& v, int op, const Value& operand) {
  if (v.is_null() || operand.is_null() || v.kind() != operand.kind()) return false;
  int c = 0;
  if (v.kind() == Value::Kind::kInt) {
    c = v.as_int() < operand.as_int() ? -1 : v.as_int() > operand.as_int() ? 1 : 0;
  } else if (v.kind() == Value::Kind::kText) {
    c = v.as_text().compare(operand.as_text());
  } else {
    return false;
  }
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return c == 0;
    case SQLITE_INDEX_CONSTRAINT_GT: return c > 0;
    case SQLITE_INDEX_CONSTRAINT_GE: return c >= 0;
    case SQLITE_INDEX_CONSTRAINT_LT: return c < 0;
    case SQLITE_INDEX_CONSTRAINT_LE: return c <= 0;
    case SQLITE_INDEX_CONSTRAINT_NE: return c != 0;
  }
  return false;
}

void PlanKalamScan(const catalog::TableDef& def, sqlite3_index_info* info) {
  const int ncols = static_cast<int>(def.columns.size());
  const int pk = static_cast<int>(def.pk_index());
  const bool orderable = IsPkOrderable(def.columns[pk]);
  bool pk_eq = false, pk_lower = false, pk_upper = false;
  std::string entries;
  int next_arg = 1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.iColumn < 0 || c.iColumn >= ncols) continue;
    const bool converted = IsConvertedColumn(def.columns[c.iColumn]) && IsComparison(c.op);
    bool use = converted || (c.iColumn != pk && IsBoundOp(c.op));
    if (c.iColumn == pk) {
      if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && !pk_eq) {
        use = pk_eq = true;
      } else if (orderable && (c.op == SQLITE_INDEX_CONSTRAINT_GT ||
                               c.op == SQLITE_INDEX_CONSTRAINT_GE) && !pk_lower) {
        use = pk_lower = true;
      } else if (orderable && (c.op == SQLITE_INDEX_CONSTRAINT_LT ||
                               c.op == SQLITE_INDEX_CONSTRAINT_LE) && !pk_upper) {
        use = pk_upper = true;
      }
    }
    if (!use) continue;
    info->aConstraintUsage[i].argvIndex = next_arg++;
    // Typed comparisons are evaluated by the table; everything else SQLite re-checks, so
    // pushdown only narrows what is read.
    info->aConstraintUsage[i].omit = converted ? 1 : 0;
    entries += std::to_string(c.iColumn) + ":" + std::to_string(c.op) + ",";
  }
  if (!entries.empty()) {
    info->idxStr = sqlite3_mprintf("%s", entries.c_str());
    info->needToFreeIdxStr = 1;
  }
  if (pk_eq) {
    info->estimatedCost = 1;
    info->estimatedRows = 1;
    info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
  } else if (pk_lower && pk_upper) {
    info->estimatedCost = 1000;
    info->estimatedRows = 100;
  } else if (pk_lower || pk_upper) {
    info->estimatedCost = 50000;
    info->estimatedRows = 5000;
  } else {
    info->estimatedCost = entries.empty() ? 1000000 : 500000;
    info->estimatedRows = entries.empty() ? 100000 : 50000;
  }
  // Every plan yields rows in PK order.
  if (orderable && info->nOrderBy == 1 && info->aOrderBy[0].iColumn == pk &&
      !info->aOrderBy[0].desc) {
    info->orderByConsumed = 1;
  }
}

}  // namespace kalam::sql
