// SQLite values ⇄ KalamDB values: storage classes, column affinities and the `kalam_decimal`
// collation.
#include "sql/sqlite/sqlite_values.h"

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "sql/parser/typed_operands.h"

namespace kalam::sql {

namespace {

// A decimal number's text, split for comparison; !valid when the text is not `[+-]digits[.digits]`.
struct DecimalKey {
  bool valid = false;
  bool negative = false;
  std::string_view integer;   // without leading zeros
  std::string_view fraction;  // without trailing zeros
};

DecimalKey ParseDecimalKey(std::string_view s) {
  DecimalKey k;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) k.negative = s[i++] == '-';
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return s.substr(start, i - start);
  };
  std::string_view integer = digits();
  std::string_view fraction;
  if (i < s.size() && s[i] == '.') {
    ++i;
    fraction = digits();
  }
  if (i != s.size() || (integer.empty() && fraction.empty())) return k;
  while (!integer.empty() && integer.front() == '0') integer.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (integer.empty() && fraction.empty()) k.negative = false;  // -0 is 0
  k.valid = true;
  k.integer = integer;
  k.fraction = fraction;
  return k;
}

}  // namespace

// The `kalam_decimal` collation: decimal texts in numeric order ("9.99" < "100.50", "-2" < "-1"),
// equal when numerically equal ("1.50" = "1.5"); text that is no decimal sorts after every
// number, bytewise.
int CompareDecimalText(void*, int n1, const void* p1, int n2, const void* p2) {
  const std::string_view a(static_cast<const char*>(p1), static_cast<size_t>(n1));
  const std::string_view b(static_cast<const char*>(p2), static_cast<size_t>(n2));
  const DecimalKey ka = ParseDecimalKey(a);
  const DecimalKey kb = ParseDecimalKey(b);
  if (!ka.valid || !kb.valid) {
    if (ka.valid != kb.valid) return ka.valid ? -1 : 1;
    const int c = a.compare(b);
    return c < 0 ? -1 : c > 0;
  }
  if (ka.negative != kb.negative) return ka.negative ? -1 : 1;
  int c = 0;
  if (ka.integer.size() != kb.integer.size()) {
    c = ka.integer.size() < kb.integer.size() ? -1 : 1;
  } else if (int i = ka.integer.compare(kb.integer); i != 0) {
    c = i < 0 ? -1 : 1;
  } else if (int f = ka.fraction.compare(kb.fraction); f != 0) {
    c = f < 0 ? -1 : 1;
  }
  return ka.negative ? -c : c;
}

const char* AffinityName(const DataType& t) {
  switch (t.kind) {
    case TypeKind::kBoolean:
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kBigInt:
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime:
      return "INTEGER";
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      return "REAL";
    case TypeKind::kDecimal:
      return t.precision <= parser::kMaxRealDecimalPrecision ? "REAL" : "TEXT";
    case TypeKind::kBytes:
    case TypeKind::kEmbedding:
      return "BLOB";
    default:
      return "TEXT";
  }
}

Value ValueFromSqlite(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return Value::Int(sqlite3_value_int64(v));
    case SQLITE_FLOAT: return Value::Double(sqlite3_value_double(v));
    case SQLITE_TEXT:
      return Value::Text(std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                                     sqlite3_value_bytes(v)));
    case SQLITE_BLOB: {
      const void* p = sqlite3_value_blob(v);
      return Value::Bytes(std::string(static_cast<const char*>(p), sqlite3_value_bytes(v)));
    }
    default: return Value::Null();
  }
}

void ResultValue(sqlite3_context* ctx, const catalog::ColumnDef* col, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: sqlite3_result_null(ctx); return;
    case Value::Kind::kInt: sqlite3_result_int64(ctx, v.as_int()); return;
    case Value::Kind::kDouble: sqlite3_result_double(ctx, v.as_double()); return;
    case Value::Kind::kText:
      if (col && col->type.kind == TypeKind::kDecimal &&
          col->type.precision <= parser::kMaxRealDecimalPrecision) {
        sqlite3_result_double(ctx, std::strtod(v.as_text().c_str(), nullptr));
        return;
      }
      ResultBytes(ctx, nullptr, false, v.as_text());
      return;
    case Value::Kind::kBlob: ResultBytes(ctx, col, true, v.as_bytes()); return;
  }
}

void ResultBytes(sqlite3_context* ctx, const catalog::ColumnDef* col, bool blob,
                 std::string_view bytes) {
  if (blob) {
    sqlite3_result_blob(ctx, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return;
  }
  if (col && col->type.kind == TypeKind::kDecimal &&
      col->type.precision <= parser::kMaxRealDecimalPrecision) {
    const std::string text(bytes);  // strtod needs the terminating NUL
    sqlite3_result_double(ctx, std::strtod(text.c_str(), nullptr));
    return;
  }
  sqlite3_result_text(ctx, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
}

}  // namespace kalam::sql
