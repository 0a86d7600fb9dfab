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
#include "vector/vector_math.h"

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

// An embedding argument: a BLOB of little-endian float32 (an EMBEDDING value), or JSON text
// '[0.1, 0.2]'. Fails with the function's message (FEATURES' COSINE_DISTANCE wording).
Result<std::vector<float>> ReadVector(sqlite3_value* v, std::string_view fn) {
  std::vector<float> out;
  if (sqlite3_value_type(v) == SQLITE_BLOB) {
    const int n = sqlite3_value_bytes(v);
    if (n % 4 != 0) {
      return Status::InvalidArgument(std::string(fn) + "() embedding blob must hold float32 values");
    }
    out.resize(static_cast<size_t>(n) / 4);
    if (n > 0) std::memcpy(out.data(), sqlite3_value_blob(v), static_cast<size_t>(n));
  } else if (sqlite3_value_type(v) == SQLITE_TEXT) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
    auto parsed = vector::ParseVectorText(
        std::string_view(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(v))));
    if (!parsed.ok()) {
      return Status::InvalidArgument(std::string(fn) + "() failed to parse JSON query vector: " +
                                     parsed.status().message());
    }
    out = std::move(*parsed);
  } else {
    return Status::InvalidArgument(std::string(fn) +
                                   "() takes EMBEDDING values or '[x, y, …]' text");
  }
  if (out.empty()) {
    return Status::InvalidArgument(std::string(fn) + "() query vector cannot be empty");
  }
  return out;
}

// COSINE_DISTANCE: 1 − cos (1 when a norm is 0); L2_DISTANCE: Euclidean; DOT_PRODUCT: a·b.
// NULL when either argument is NULL.
template <VectorMetric metric>
void FnVector(sqlite3_context* c, int, sqlite3_value** argv) {
  constexpr std::string_view name = metric == VectorMetric::kCosine ? "COSINE_DISTANCE"
                                    : metric == VectorMetric::kL2   ? "L2_DISTANCE"
                                                                    : "DOT_PRODUCT";
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(c);
    return;
  }
  auto a = ReadVector(argv[0], name);
  auto b = a.ok() ? ReadVector(argv[1], name) : a;
  if (!b.ok()) {
    sqlite3_result_error(c, b.status().message().c_str(), -1);
    return;
  }
  if (a->size() != b->size()) {
    const std::string m = std::string(name) + "() dimension mismatch: row has " +
                          std::to_string(a->size()) + ", query has " + std::to_string(b->size());
    sqlite3_result_error(c, m.c_str(), -1);
    return;
  }
  const float d = vector::Distance(metric, a->data(), b->data(), a->size());
  if constexpr (metric == VectorMetric::kDot) {
    sqlite3_result_double(c, 1.0 - d);
  } else if constexpr (metric == VectorMetric::kL2) {
    sqlite3_result_double(c, std::sqrt(static_cast<double>(d)));
  } else {
    sqlite3_result_double(c, d);
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
      {"cosine_distance", 2, FnVector<VectorMetric::kCosine>, true},
      {"l2_distance", 2, FnVector<VectorMetric::kL2>, true},
      {"dot_product", 2, FnVector<VectorMetric::kDot>, true},
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
