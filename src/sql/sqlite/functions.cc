// KalamDB's scalar SQL functions (SQL.md §3).
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/id_gen.h"
#include "sql/exec_context.h"
#include "sql/parser/typed_operands.h"
#include "sql/sqlite/connection.h"
#include "sql/sqlite/sqlite_values.h"

namespace kalam::sql {

namespace {

ExecContext* Ctx(sqlite3_context* c) {
  return static_cast<SqlConnection*>(sqlite3_user_data(c))->context();
}

int64_t NowMicros(sqlite3_context* c) {
  ExecContext* ctx = Ctx(c);
  return ctx && ctx->services.clock ? ctx->services.clock->NowMicros()
                                    : Clock::System().NowMicros();
}

void FnNow(sqlite3_context* c, int, sqlite3_value**) { sqlite3_result_int64(c, NowMicros(c)); }

void FnSnowflake(sqlite3_context* c, int, sqlite3_value**) {
  ExecContext* ctx = Ctx(c);
  if (!ctx || !ctx->services.ids) {
    sqlite3_result_error(c, "SNOWFLAKE_ID() is not available here", -1);
    return;
  }
  sqlite3_result_int64(c, ctx->services.ids->Next());
}

void FnUuidV7(sqlite3_context* c, int, sqlite3_value**) {
  std::string s = NewUuidV7(NowMicros(c) / 1000);
  sqlite3_result_text(c, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void FnUlid(sqlite3_context* c, int, sqlite3_value**) {
  std::string s = NewUlid(NowMicros(c) / 1000);
  sqlite3_result_text(c, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void FnCurrentUser(sqlite3_context* c, int, sqlite3_value**) {
  ExecContext* ctx = Ctx(c);
  if (!ctx) {
    sqlite3_result_null(c);
    return;
  }
  sqlite3_result_text(c, ctx->caller.user_id.data(), static_cast<int>(ctx->caller.user_id.size()),
                      SQLITE_TRANSIENT);
}

void FnCurrentRole(sqlite3_context* c, int, sqlite3_value**) {
  ExecContext* ctx = Ctx(c);
  if (!ctx) {
    sqlite3_result_null(c);
    return;
  }
  std::string_view r = auth::RoleName(ctx->caller.role);
  sqlite3_result_text(c, r.data(), static_cast<int>(r.size()), SQLITE_TRANSIENT);
}

// kalam_operand(value, type, column): a `$N` compared with a typed column, in the column's stored
// form as SQLite sees it (sql/parser/typed_operands.h); a value that does not convert fails the
// statement with the error an INSERT of it would give.
// The connection (user data) may be null (live filters): the error then only fails the statement.
void FnOperand(sqlite3_context* c, int, sqlite3_value** argv) {
  auto text = [&](int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[i]));
    return std::string_view(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(argv[i])));
  };
  Result<Value> v = Status::Internal("kalam_operand: invalid type");
  if (auto type = DataType::Parse(text(1)); type.ok()) {
    v = parser::ComparisonValue(*type, ValueFromSqlite(argv[0]), text(2));
    if (v.ok() && v->kind() == Value::Kind::kText && type->kind == TypeKind::kDecimal &&
        type->precision <= parser::kMaxRealDecimalPrecision) {
      sqlite3_result_double(c, std::strtod(v->as_text().c_str(), nullptr));
      return;
    }
  }
  if (!v.ok()) {
    ExecContext* ctx = sqlite3_user_data(c) ? Ctx(c) : nullptr;
    if (ctx) ctx->SetError(v.status());
    sqlite3_result_error(c, v.status().message().c_str(), -1);
    return;
  }
  ResultValue(c, nullptr, *v);
}

// An embedding argument: a BLOB of little-endian float32, or text '[0.1, 0.2]'.
bool ReadVector(sqlite3_value* v, std::vector<float>* out) {
  out->clear();
  if (sqlite3_value_type(v) == SQLITE_BLOB) {
    int n = sqlite3_value_bytes(v);
    if (n % 4) return false;
    out->resize(n / 4);
    if (n) std::memcpy(out->data(), sqlite3_value_blob(v), n);
    return true;
  }
  if (sqlite3_value_type(v) != SQLITE_TEXT) return false;
  const char* s = reinterpret_cast<const char*>(sqlite3_value_text(v));
  while (*s == ' ') ++s;
  if (*s++ != '[') return false;
  while (true) {
    while (*s == ' ') ++s;
    if (*s == ']') return true;
    char* end = nullptr;
    double d = std::strtod(s, &end);
    if (end == s || !std::isfinite(d)) return false;
    out->push_back(static_cast<float>(d));
    s = end;
    while (*s == ' ') ++s;
    if (*s == ',') ++s;
    else if (*s != ']') return false;
  }
}

enum class VectorOp { kCosine, kL2, kDot };

template <VectorOp op>
void FnVector(sqlite3_context* c, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(c);
    return;
  }
  std::vector<float> a, b;
  if (!ReadVector(argv[0], &a) || !ReadVector(argv[1], &b)) {
    sqlite3_result_error(c, "vector functions take EMBEDDING values or '[x, y, …]' text", -1);
    return;
  }
  if (a.size() != b.size()) {
    sqlite3_result_error(c, "vectors have different dimensions", -1);
    return;
  }
  double dot = 0, na = 0, nb = 0, l2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
    double d = double(a[i]) - b[i];
    l2 += d * d;
  }
  if constexpr (op == VectorOp::kDot) {
    sqlite3_result_double(c, dot);
  } else if constexpr (op == VectorOp::kL2) {
    sqlite3_result_double(c, std::sqrt(l2));
  } else {
    if (na == 0 || nb == 0) {
      sqlite3_result_null(c);
      return;
    }
    sqlite3_result_double(c, 1.0 - dot / (std::sqrt(na) * std::sqrt(nb)));
  }
}

}  // namespace

int RegisterFunctions(sqlite3* db, SqlConnection* conn) {
  struct Fn {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
    bool deterministic;
  };
  const Fn fns[] = {
      {"now", 0, FnNow, false},
      {"snowflake_id", 0, FnSnowflake, false},
      {"uuid_v7", 0, FnUuidV7, false},
      {"ulid", 0, FnUlid, false},
      {"current_user", 0, FnCurrentUser, false},
      {"current_role", 0, FnCurrentRole, false},
      {"cosine_distance", 2, FnVector<VectorOp::kCosine>, true},
      {"l2_distance", 2, FnVector<VectorOp::kL2>, true},
      {"dot_product", 2, FnVector<VectorOp::kDot>, true},
  };
  for (const auto& f : fns) {
    int flags = SQLITE_UTF8 | SQLITE_INNOCUOUS | (f.deterministic ? SQLITE_DETERMINISTIC : 0);
    int rc = sqlite3_create_function_v2(db, f.name, f.args, flags, conn, f.fn, nullptr, nullptr,
                                        nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

int RegisterTypedComparisons(sqlite3* db, SqlConnection* conn) {
  const int rc = sqlite3_create_collation_v2(db, parser::kDecimalCollation.data(), SQLITE_UTF8,
                                             nullptr,
                                             CompareDecimalText, nullptr);
  if (rc != SQLITE_OK) return rc;
  // kOperandFunction is a literal, so NUL-terminated.
  return sqlite3_create_function_v2(db, parser::kOperandFunction.data(), 3,
                                    SQLITE_UTF8 | SQLITE_INNOCUOUS | SQLITE_DETERMINISTIC, conn,
                                    FnOperand, nullptr, nullptr, nullptr);
}

}  // namespace kalam::sql
