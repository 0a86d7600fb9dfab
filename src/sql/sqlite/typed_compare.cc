// Typed comparison rules shared by the virtual table and live filters.
#include "sql/sqlite/typed_compare.h"

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

}  // namespace kalam::sql
