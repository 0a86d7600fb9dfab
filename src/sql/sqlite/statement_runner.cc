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

Status RunStatement(SqlConnection& conn, sqlite3_stmt* stmt, const RowLimits& limits,
                    StatementResult* out) {
  const int ncols = sqlite3_column_count(stmt);
  std::vector<ColumnInfo> cols;
  std::vector<int> computed_class;  // first non-null storage class of computed columns
  cols.reserve(ncols);
  for (int i = 0; i < ncols; ++i) cols.push_back(DescribeColumn(conn, stmt, i));
  computed_class.assign(ncols, SQLITE_NULL);

  uint64_t rows = 0;
  std::string& json = out->rows_json;
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      Status s = SqliteError(conn, rc);
      sqlite3_reset(stmt);
      return s;
    }
    if (ncols == 0) continue;
    if (rows >= limits.max_rows) {
      out->truncated = true;
      break;
    }
    if (rows) json.push_back(',');
    json.push_back('[');
    for (int i = 0; i < ncols; ++i) {
      if (i) json.push_back(',');
      Value v = ColumnValue(stmt, i);
      if (!cols[i].type && computed_class[i] == SQLITE_NULL && !v.is_null()) {
        computed_class[i] = sqlite3_column_type(stmt, i);
      }
      Status s = AppendJsonValue(cols[i].type ? &*cols[i].type : nullptr, v, &json);
      if (!s.ok()) {
        sqlite3_reset(stmt);
        return Status::InvalidArgument("Column '" + cols[i].name + "': " + s.message());
      }
    }
    json.push_back(']');
    ++rows;
    if (json.size() > limits.max_result_bytes) {
      sqlite3_reset(stmt);
      return Status::ResourceExhausted(
          "Result too large: more than " + std::to_string(limits.max_result_bytes >> 20) +
          " MiB of rows; select fewer rows or columns");
    }
  }
  sqlite3_reset(stmt);
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

}  // namespace kalam::sql
