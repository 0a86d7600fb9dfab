// Executor: ALTER TABLE. Every change creates a new schema version (SQL.md §2). Stored rows are
// never rewritten — a row version keeps the schema version and column ids it was written with —
// so a change is either metadata only, or is checked against the stored rows it could break.
#include <functional>
#include <string>

#include <spdlog/spdlog.h>

#include "commit/commit_pipeline.h"
#include "common/value_convert.h"
#include "sql/column_builder.h"
#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/parser.h"
#include "table/keys.h"
#include "vector/vector_indexes.h"

namespace kalam::sql {

using catalog::TableDef;
using Action = parser::AlterTableStmt::Action;

namespace {

// The type changes MODIFY COLUMN allows: those under which every value already stored for the
// column is still a valid value of the new type, in the same storage class (see value.h).
constexpr std::string_view kSafeConversions =
    "SMALLINT → INT → BIGINT, FLOAT → DOUBLE, DECIMAL(p,s) → DECIMAL(p2,s) with p2 ≥ p, "
    "JSON → TEXT, UUID → TEXT";

bool IsSafeConversion(const DataType& from, const DataType& to) {
  if (from == to) return true;
  switch (from.kind) {
    case TypeKind::kSmallInt: return to.kind == TypeKind::kInt || to.kind == TypeKind::kBigInt;
    case TypeKind::kInt: return to.kind == TypeKind::kBigInt;
    case TypeKind::kFloat: return to.kind == TypeKind::kDouble;  // float32 values fit a double
    case TypeKind::kDecimal:  // stored as text with exactly `scale` decimals
      return to.kind == TypeKind::kDecimal && to.scale == from.scale &&
             to.precision >= from.precision;
    case TypeKind::kJson:  // valid JSON text is text
    case TypeKind::kUuid:  // stored as canonical text
      return to.kind == TypeKind::kText;
    default: return false;
  }
}

std::string Quoted(const TableDef& t) { return "'" + t.QualifiedName() + "'"; }

Result<size_t> FindColumnOrFail(const TableDef& t, const std::string& name) {
  const int index = t.FindColumn(name);
  if (index < 0) {
    return Status::InvalidArgument("Column '" + catalog::LowerName(name) +
                                   "' does not exist in table " + Quoted(t));
  }
  return static_cast<size_t>(index);
}

// Calls `visit` with every live row of `def`, hot and cold, in every scope, decoded under `def`
// (so columns added since a row was written read their missing_value), until it returns false.
Status ForEachLiveRow(const table::TableStore& store, const TableDef& def,
                      const std::function<bool(const table::RowVersion&)>& visit) {
  bool stopped = false;
  table::RowVersion row;
  Status s = store.ForEachLiveRow(def, [&](const std::vector<Value>& values) {
    if (stopped) return Status::OK();
    row.values = values;
    if (!visit(row)) stopped = true;
    return Status::OK();
  });
  return s;
}

// Fails if some live row reads NULL in column `index` of `def`, naming one such row.
Status CheckNoNulls(const table::TableStore& store, const TableDef& def, size_t index) {
  std::optional<Value> null_row_pk;
  const size_t pk = def.pk_index();
  KALAM_RETURN_IF_ERROR(ForEachLiveRow(store, def, [&](const table::RowVersion& row) {
    if (!row.values[index].is_null()) return true;
    null_row_pk = row.values[pk];
    return false;
  }));
  if (!null_row_pk) return Status::OK();
  const std::string& column = def.columns[index].name;
  return Status::FailedPrecondition(
      "Cannot make column '" + column + "' of table " + Quoted(def) +
      " NOT NULL: the row with primary key '" + commit::PkDisplay(*null_row_pk) +
      "' (and maybe others) holds NULL. Update those rows first.");
}

Status AddColumn(const parser::AlterTableStmt& ast, const table::TableStore& store, TableDef& t) {
  if (t.FindColumn(ast.column.name) >= 0) {
    return Status::AlreadyExists("Column '" + catalog::LowerName(ast.column.name) +
                                 "' already exists in table " + Quoted(t));
  }
  KALAM_ASSIGN_OR_RETURN(catalog::ColumnDef column, BuildColumn(ast.column));
  // Rows written before the column existed read its literal DEFAULT, for good: a later SET
  // DEFAULT changes only what new inserts get.
  if (column.default_value.kind == catalog::DefaultSpec::Kind::kLiteral) {
    column.missing_value = column.default_value.literal;
  }
  if (!column.nullable && column.missing_value.is_null()) {
    bool has_rows = false;
    KALAM_RETURN_IF_ERROR(ForEachLiveRow(store, t, [&](const table::RowVersion&) {
      has_rows = true;
      return false;
    }));
    if (has_rows) {
      return Status::FailedPrecondition(
          "Cannot add NOT NULL column '" + column.name + "' without a literal DEFAULT to table " +
          Quoted(t) + ": it has rows, which would read NULL. Give the column a DEFAULT value "
          "(existing rows read it) or add it as nullable.");
    }
  }
  column.column_id = 0;  // the catalog assigns the next never-used id
  t.columns.push_back(std::move(column));
  return Status::OK();
}

Status DropColumn(const parser::AlterTableStmt& ast, TableDef& t) {
  KALAM_ASSIGN_OR_RETURN(size_t index, FindColumnOrFail(t, ast.column_name));
  const catalog::ColumnDef& column = t.columns[index];
  if (column.primary_key) {
    return Status::InvalidArgument("Cannot drop column '" + column.name +
                                   "': it is the primary key of table " + Quoted(t));
  }
  if (t.columns.size() == 1) {
    return Status::InvalidArgument("Cannot drop column '" + column.name +
                                   "': it is the last column of table " + Quoted(t));
  }
  // Old row versions keep the values under the column's id, which is never given out again.
  t.columns.erase(t.columns.begin() + static_cast<ptrdiff_t>(index));
  return Status::OK();
}

// Re-converts a stored literal (DEFAULT or missing value) to the column's new type.
Status Reconvert(const catalog::ColumnDef& column, std::string_view what, Value* literal) {
  if (literal->is_null()) return Status::OK();
  auto converted = CoerceToColumn(column.type, *literal, column.name);
  if (!converted.ok()) {
    return Status::InvalidArgument("The " + std::string(what) + " of column '" + column.name +
                                   "' does not fit type " + column.type.SqlName() + ": " +
                                   converted.status().message());
  }
  *literal = std::move(*converted);
  return Status::OK();
}

Status ModifyColumn(const parser::AlterTableStmt& ast, const table::TableStore& store,
                    TableDef& t) {
  KALAM_ASSIGN_OR_RETURN(size_t index, FindColumnOrFail(t, ast.column_name));
  const catalog::ColumnDef& current = t.columns[index];
  auto type = DataType::Parse(ast.column.type_text);
  if (!type.ok()) {
    return Status::InvalidArgument("Column '" + current.name + "': " + type.status().message());
  }
  if (!IsSafeConversion(current.type, *type)) {
    return Status::InvalidArgument(
        "Cannot change column '" + current.name + "' of table " + Quoted(t) + " from " +
        current.type.SqlName() + " to " + type->SqlName() +
        ": stored values are not rewritten, so only conversions that keep every stored value "
        "valid are allowed (" + std::string(kSafeConversions) + ")");
  }
  catalog::ColumnDef next = current;
  next.type = *type;
  if (ast.nullable) {
    if (*ast.nullable && next.primary_key) {
      return Status::InvalidArgument("Primary key column '" + next.name + "' cannot be NULL");
    }
    next.nullable = *ast.nullable;
  }
  if (next.default_value.kind == catalog::DefaultSpec::Kind::kLiteral) {
    KALAM_RETURN_IF_ERROR(Reconvert(next, "DEFAULT", &next.default_value.literal));
  }
  KALAM_RETURN_IF_ERROR(Reconvert(next, "value of rows written before it was added",
                                  &next.missing_value));
  KALAM_RETURN_IF_ERROR(CheckDefaultFits(next));
  if (next.primary_key) KALAM_RETURN_IF_ERROR(CheckPrimaryKeyType(next));
  if (current.nullable && !next.nullable) KALAM_RETURN_IF_ERROR(CheckNoNulls(store, t, index));
  t.columns[index] = std::move(next);
  return Status::OK();
}

Status SetNullability(const parser::AlterTableStmt& ast, const table::TableStore& store,
                      TableDef& t) {
  KALAM_ASSIGN_OR_RETURN(size_t index, FindColumnOrFail(t, ast.column_name));
  catalog::ColumnDef& column = t.columns[index];
  if (ast.action == Action::kDropNotNull) {
    if (column.primary_key) {
      return Status::InvalidArgument("Primary key column '" + column.name + "' cannot be NULL");
    }
    column.nullable = true;
    return Status::OK();
  }
  if (column.nullable) KALAM_RETURN_IF_ERROR(CheckNoNulls(store, t, index));
  column.nullable = false;
  return Status::OK();
}

Status SetDefault(const parser::AlterTableStmt& ast, TableDef& t) {
  KALAM_ASSIGN_OR_RETURN(size_t index, FindColumnOrFail(t, ast.column_name));
  catalog::ColumnDef& column = t.columns[index];
  if (ast.action == Action::kDropDefault) {
    column.default_value = catalog::DefaultSpec{};
    return Status::OK();
  }
  KALAM_ASSIGN_OR_RETURN(column.default_value, BuildDefault(ast.default_value, column));
  return Status::OK();
}

Status RenameColumn(const parser::AlterTableStmt& ast, TableDef& t) {
  KALAM_ASSIGN_OR_RETURN(size_t index, FindColumnOrFail(t, ast.column_name));
  const std::string new_name = catalog::LowerName(ast.new_name);
  if (new_name == t.columns[index].name) {
    return Status::InvalidArgument("Column '" + new_name + "' is already called '" + new_name +
                                   "'");
  }
  if (t.FindColumn(new_name) >= 0) {
    return Status::AlreadyExists("Cannot rename column '" + t.columns[index].name + "' to '" +
                                 new_name + "': table " + Quoted(t) +
                                 " already has a column of that name");
  }
  t.columns[index].name = new_name;
  return Status::OK();
}

Status SetAccessLevel(const parser::AlterTableStmt& ast, TableDef& t) {
  if (t.type != catalog::TableType::kShared) {
    return Status::InvalidArgument("ACCESS_LEVEL is only valid for SHARED tables, not " +
                                   std::string(catalog::TableTypeName(t.type)) + " tables (" +
                                   Quoted(t) + ")");
  }
  t.options.access_level = ast.access_level;
  return Status::OK();
}

// Invalid operation: Column '<c>' does not exist / is not EMBEDDING (the original's messages).
Result<size_t> FindEmbeddingColumn(const parser::AlterTableStmt& ast, const TableDef& t) {
  const int index = t.FindColumn(ast.column_name);
  if (index < 0) {
    return Status::InvalidArgument("Column '" +
                                   catalog::LowerName(ast.column_name) + "' does not exist");
  }
  if (t.columns[index].type.kind != TypeKind::kEmbedding) {
    return Status::InvalidArgument("Column '" + t.columns[index].name +
                                   "' is not EMBEDDING");
  }
  return static_cast<size_t>(index);
}

// CREATE INDEX: a new index (new since_version) unless the same metric is already indexed.
// DROP INDEX of a column without one changes nothing, as in the original.
Status SetVectorIndex(const parser::AlterTableStmt& ast, TableDef& t) {
  KALAM_ASSIGN_OR_RETURN(size_t index, FindEmbeddingColumn(ast, t));
  auto& current = t.columns[index].vector_index;
  if (ast.action == Action::kDropVectorIndex) {
    current.reset();
    return Status::OK();
  }
  if (current && current->metric == ast.vector_metric) return Status::OK();
  current = catalog::VectorIndexDef{ast.vector_metric, t.schema_version + 1};
  return Status::OK();
}

// Applies `ast` to `t`, the latest version of the table (under the catalog's DDL lock and with
// commits paused, so the row checks hold until the new version is published).
Status ApplyAlter(const parser::AlterTableStmt& ast, const table::TableStore& store, TableDef& t) {
  switch (ast.action) {
    case Action::kAddColumn: return AddColumn(ast, store, t);
    case Action::kDropColumn: return DropColumn(ast, t);
    case Action::kModifyColumn: return ModifyColumn(ast, store, t);
    case Action::kSetNotNull:
    case Action::kDropNotNull: return SetNullability(ast, store, t);
    case Action::kSetDefault:
    case Action::kDropDefault: return SetDefault(ast, t);
    case Action::kRenameColumn: return RenameColumn(ast, t);
    case Action::kSetAccessLevel: return SetAccessLevel(ast, t);
    case Action::kCreateVectorIndex:
    case Action::kDropVectorIndex: return SetVectorIndex(ast, t);
  }
  return Status::Internal("unknown ALTER TABLE action");
}

// ALTER on a SHARED table needs role service, like creating one, and write access to the table
// at its current access level: a service may not alter (or unlock) an ACCESS_LEVEL DBA table, nor
// move a table to DBA, out of its own reach. Anyone may create a USER (or STREAM) table, but its
// schema is shared by every user's rows in it, so changing that schema is reserved for dba and
// system.
Status CheckAlterPermission(const Caller& caller, const TableDef& t,
                            const parser::AlterTableStmt& ast) {
  const auth::Role needed =
      t.type == catalog::TableType::kShared ? auth::Role::kService : auth::Role::kDba;
  if (!auth::RoleAtLeast(caller.role, needed)) {
    return Status::PermissionDenied(
        "Permission denied: ALTER TABLE on a " + std::string(catalog::TableTypeName(t.type)) +
        " table requires role '" + std::string(auth::RoleName(needed)) +
        "' or higher (you are '" + std::string(auth::RoleName(caller.role)) + "')");
  }
  if (t.type != catalog::TableType::kShared) return Status::OK();
  KALAM_RETURN_IF_ERROR(CheckTableAccess(caller, t, /*write=*/true));
  if (ast.action == Action::kSetAccessLevel && ast.access_level == AccessLevel::kDba &&
      !auth::RoleAtLeast(caller.role, auth::Role::kDba)) {
    return Status::PermissionDenied(
        "Permission denied: only roles 'dba' and 'system' can set ACCESS LEVEL DBA (you are '" +
        std::string(auth::RoleName(caller.role)) + "')");
  }
  return Status::OK();
}

}  // namespace

Status Executor::RunAlterTable(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::AlterTableStmt ast, parser::ParseAlterTable(stmt));
  const std::string ns = ast.table.ns.empty() ? s.ns : catalog::LowerName(ast.table.ns);
  const std::string name = catalog::LowerName(ast.table.name);
  if (ns == catalog::kSystemNamespace) {
    return Status::PermissionDenied("Permission denied: tables in namespace 'system' cannot be "
                                    "altered");
  }
  auto def = s.ctx.statement.catalog->FindTable(ns, name);
  if (!def) return Status::TableNotFound("Table '" + ns + "." + name + "' does not exist");
  const bool vector_ddl = ast.action == Action::kCreateVectorIndex ||
                          ast.action == Action::kDropVectorIndex;
  if (vector_ddl && def->type != catalog::TableType::kUser &&
      def->type != catalog::TableType::kShared) {
    return Status::InvalidArgument(
        "Vector indexing is only supported for USER/SHARED tables");
  }
  if (def->type == catalog::TableType::kStream) {
    // Its checks read the `pk` index, which streams do not have (docs/streams.md).
    return Status::InvalidArgument("ALTER TABLE is not supported for STREAM "
                                   "tables; create a new stream table instead");
  }
  KALAM_RETURN_IF_ERROR(CheckAlterPermission(s.caller, *def, ast));
  // Staged rows are encoded under the version they were staged with; altering the table under
  // them would fail their COMMIT anyway (see CommitPipeline::RunSchemaChange).
  for (const auto& [key, row] : s.ws.rows()) {
    if (row.table->table_id == def->table_id) {
      return Status::FailedPrecondition(
          "Cannot ALTER TABLE " + def->QualifiedName() +
          " inside a transaction that has uncommitted changes to it: COMMIT or ROLLBACK first");
    }
  }
  // Commits pause while the change checks stored rows and publishes the new version; rows staged
  // under the old version fail to commit afterwards, so the checks hold for every later row.
  KALAM_RETURN_IF_ERROR(shards_.RunSchemaChange(def->type, def->table_id, [&]() -> Result<uint32_t> {
    KALAM_ASSIGN_OR_RETURN(auto altered,
                           catalog_.AlterTable(def->table_id, def->schema_version,
                                               [&](TableDef& t) {
                                                 return ApplyAlter(ast, store_, t);
                                               }));
    return altered->schema_version;
  }));
  StatementResult result;
  if (vector_ddl) {
    std::string target = def->QualifiedName() + "." + catalog::LowerName(ast.column_name);
    result.message =
        ast.action == Action::kDropVectorIndex
            ? "Vector index disabled on " + target
            : "Vector index enabled on " + target + " (" +
                  std::string(VectorMetricName(ast.vector_metric)) + ")";
    if (ast.action == Action::kDropVectorIndex && vectors_) {
      for (const auto& c : def->columns) {
        if (c.name != catalog::LowerName(ast.column_name)) continue;
        // Logged, not returned: the index is dropped; a snapshot left behind is named by no
        // index again (a new CREATE INDEX starts a new version) and only costs space.
        if (Status st = vectors_->Forget(def->table_id, c.column_id); !st.ok()) {
          spdlog::warn("DROP INDEX on {}: {}", target, st.ToString());
        }
      }
    }
  } else {
    result.message = "Table " + def->QualifiedName() + " altered successfully";
  }
  s.results.push_back(std::move(result));
  return Status::OK();
}

}  // namespace kalam::sql
