// Statement execution and row encoding.
#include "sql/sqlite/statement_runner.h"

#include <cstring>

#include "common/types.h"
#include "common/value_json.h"
#include "sql/exec_context.h"
#include "sql/sqlite/vtab_module.h"

namespace kalam::sql {

namespace {

struct ColumnInfo {
  std::string name;
  std::optional<DataType> type;  // nullopt = computed
  std::vector<std::string> flags;
};

const DataType kBigInt{TypeKind::kBigInt};
const DataType kBoolean{TypeKind::kBoolean};

ColumnInfo DescribeColumn(SqlConnection& conn, sqlite3_stmt* stmt, int i) {
  ColumnInfo info;
  const char* name = sqlite3_column_name(stmt, i);
  info.name = name ? name : "";
  const char* table = sqlite3_column_table_name(stmt, i);
  const char* origin = sqlite3_column_origin_name(stmt, i);
  if (!table || !origin) return info;
  const catalog::TableDef* def = conn.RegisteredByName(table);
  if (!def) return info;
  if (std::strcmp(origin, "_seq") == 0) {
    info.type = kBigInt;
  } else if (std::strcmp(origin, "_deleted") == 0) {
    info.type = kBoolean;
  } else {
    int c = def->FindColumn(origin);
    if (c < 0) return info;
    const auto& col = def->columns[c];
    info.type = col.type;
    info.flags = ColumnFlags(*def, col);
  }
  return info;
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER: return Value::Int(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT: return Value::Double(sqlite3_column_double(stmt, i));
    case SQLITE_TEXT:
      return Value::Text(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                                     sqlite3_column_bytes(stmt, i)));
    case SQLITE_BLOB: {
      const void* p = sqlite3_column_blob(stmt, i);
      return Value::Bytes(std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt, i)));
    }
    default: return Value::Null();
  }
}

std::string ComputedTypeJson(int storage_class) {
  switch (storage_class) {
    case SQLITE_INTEGER: return "\"BigInt\"";
    case SQLITE_FLOAT: return "\"Double\"";
    case SQLITE_BLOB: return "\"Bytes\"";
    default: return "\"Text\"";
  }
}

}  // namespace

std::vector<std::string> ColumnFlags(const catalog::TableDef& def, const catalog::ColumnDef& col) {
  if (col.primary_key && def.type == catalog::TableType::kStream) return {"pk", "nn"};
  if (col.primary_key) return {"pk", "nn", "uq"};
  if (!col.nullable) return {"nn"};
  return {};
}

Status SqliteError(SqlConnection& conn, int rc) {
  if (ExecContext* ctx = conn.context(); ctx && !ctx->statement.callback_error.ok()) {
    Status s = ctx->statement.callback_error;
    ctx->statement.callback_error = Status::OK();
    return s;
  }
  const char* msg = sqlite3_errmsg(conn.db());
  std::string text = msg ? msg : "SQLite error";
  if (rc == SQLITE_AUTH) return Status::PermissionDenied("Access denied: " + text);
  if ((rc & 0xff) == SQLITE_CONSTRAINT) return Status::Constraint(text);
  if (text.starts_with("no such table")) return Status::TableNotFound(text);
  return Status(StatusCode::kInvalidSql, text);
}

namespace {

int StorageClass(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kInt: return SQLITE_INTEGER;
    case Value::Kind::kDouble: return SQLITE_FLOAT;
    case Value::Kind::kText: return SQLITE_TEXT;
    case Value::Kind::kBlob: return SQLITE_BLOB;
    default: return SQLITE_NULL;
  }
}

// Encodes the rows `next` yields for the result columns of `stmt`. `next(row)` fills `row` (one
// value per column) and returns true, or false when there are no more rows, or an error.
template <typename Next>
Status EncodeResult(SqlConnection& conn, sqlite3_stmt* stmt, const RowLimits& limits,
                    StatementResult* out, Next next) {
  const int ncols = sqlite3_column_count(stmt);
  std::vector<ColumnInfo> cols;
  std::vector<int> computed_class;  // first non-null storage class of computed columns
  cols.reserve(ncols);
  for (int i = 0; i < ncols; ++i) cols.push_back(DescribeColumn(conn, stmt, i));
  computed_class.assign(ncols, SQLITE_NULL);

  uint64_t rows = 0;
  std::string& json = out->rows_json;
  std::vector<Value> row(static_cast<size_t>(ncols));
  while (true) {
    Result<bool> more = next(row);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (ncols == 0) continue;
    if (rows >= limits.max_rows) {
      out->truncated = true;
      break;
    }
    if (rows) json.push_back(',');
    json.push_back('[');
    for (int i = 0; i < ncols; ++i) {
      if (i) json.push_back(',');
      const Value& v = row[i];
      if (!cols[i].type && computed_class[i] == SQLITE_NULL && !v.is_null()) {
        computed_class[i] = StorageClass(v);
      }
      Status s = AppendJsonValue(cols[i].type ? &*cols[i].type : nullptr, v, &json);
      if (!s.ok()) return Status::InvalidArgument("Column '" + cols[i].name + "': " + s.message());
    }
    json.push_back(']');
    ++rows;
    if (json.size() > limits.max_result_bytes) {
      return Status::ResourceExhausted(
          "Result too large: more than " + std::to_string(limits.max_result_bytes >> 20) +
          " MiB of rows; select fewer rows or columns");
    }
  }
  if (ncols == 0) {
    out->row_count = static_cast<uint64_t>(sqlite3_changes64(conn.db()));
    return Status::OK();
  }
  out->row_count = rows;
  out->schema.reserve(ncols);
  for (int i = 0; i < ncols; ++i) {
    ResultColumn rc;
    rc.name = cols[i].name;
    rc.data_type_json = cols[i].type ? cols[i].type->WireJson() : ComputedTypeJson(computed_class[i]);
    rc.flags = cols[i].flags;
    out->schema.push_back(std::move(rc));
  }
  return Status::OK();
}

}  // namespace

Status RunStatement(SqlConnection& conn, sqlite3_stmt* stmt, const RowLimits& limits,
                    StatementResult* out) {
  const int ncols = sqlite3_column_count(stmt);
  Status st = EncodeResult(conn, stmt, limits, out, [&](std::vector<Value>& row) -> Result<bool> {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return false;
    if (rc != SQLITE_ROW) return SqliteError(conn, rc);
    for (int i = 0; i < ncols; ++i) row[i] = ColumnValue(stmt, i);
    return true;
  });
  sqlite3_reset(stmt);
  return st;
}

Status EncodeRows(SqlConnection& conn, sqlite3_stmt* stmt,
                  const std::vector<std::vector<Value>>& rows, const RowLimits& limits,
                  StatementResult* out) {
  size_t next_row = 0;
  return EncodeResult(conn, stmt, limits, out, [&](std::vector<Value>& row) -> Result<bool> {
    if (next_row >= rows.size()) return false;
    row = rows[next_row++];
    return true;
  });
}

}  // namespace kalam::sql
