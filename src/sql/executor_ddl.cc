// Executor: KalamDB's own statements — namespaces, tables, users, SHOW and DESCRIBE.
#include <boost/json.hpp>

#include "auth/password.h"
#include "common/value_convert.h"
#include "sql/column_builder.h"
#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/parser.h"
#include "sql/result_builder.h"

namespace kalam::sql {

using catalog::TableDef;

StatementResult Message(std::string text) {
  StatementResult r;
  r.message = std::move(text);
  return r;
}

namespace {

std::string ResolveNs(const Caller&, const std::string& written, const std::string& current) {
  return written.empty() ? current : catalog::LowerName(written);
}

Status CheckPasswordPolicy(const ExecutorOptions& o, const std::string& pw) {
  if (pw.size() < o.min_password_length) {
    return Status::InvalidArgument("Password is too short: at least " +
                                   std::to_string(o.min_password_length) + " characters required");
  }
  if (pw.size() > o.max_password_length) {
    return Status::InvalidArgument("Password is too long: at most " +
                                   std::to_string(o.max_password_length) + " characters allowed");
  }
  return Status::OK();
}

std::string LowerAscii(std::string_view s) { return catalog::LowerName(s); }

const DataType kText{TypeKind::kText};
const DataType kBigInt{TypeKind::kBigInt};
const DataType kInt{TypeKind::kInt};
const DataType kBool{TypeKind::kBoolean};
const DataType kTimestamp{TypeKind::kTimestamp};

// DESCRIBE's message for a STREAM table: its type and stream options.
std::string StreamOptionsText(const TableDef& def) {
  std::string text = "STREAM table " + def.QualifiedName() +
                     ": TTL_SECONDS = " + std::to_string(def.options.ttl_seconds);
  if (def.options.max_rows_per_user) {
    text += ", MAX_ROWS_PER_USER = " + std::to_string(def.options.max_rows_per_user);
  }
  if (def.options.ephemeral) text += ", EPHEMERAL = TRUE";
  return text;
}

}  // namespace

Status Executor::RunNamespaceStatement(Session& s, const parser::SqlStatement& stmt,
                                       parser::StatementKind kind) {
  switch (kind) {
    case parser::StatementKind::kCreateNamespace: {
      KALAM_ASSIGN_OR_RETURN(auto ast, parser::ParseCreateNamespace(stmt));
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "CREATE NAMESPACE"));
      std::string name = LowerAscii(ast.name);
      bool created = false;
      KALAM_RETURN_IF_ERROR(catalog_.CreateNamespace(name, ast.if_not_exists, &created));
      s.results.push_back(Message(created ? "Namespace " + name + " created successfully"
                                          : "Namespace " + name + " already exists"));
      return Status::OK();
    }
    case parser::StatementKind::kDropNamespace: {
      KALAM_ASSIGN_OR_RETURN(auto ast, parser::ParseDropNamespace(stmt));
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "DROP NAMESPACE"));
      std::string name = LowerAscii(ast.name);
      bool dropped = false;
      std::vector<catalog::TableId> dropped_ids;
      for (const auto& t : s.ctx.statement.catalog->TablesIn(name)) {
        KALAM_RETURN_IF_ERROR(CheckNotTopicSource(*t));
      }
      KALAM_RETURN_IF_ERROR(catalog_.DropNamespace(
          name, ast.if_exists, ast.cascade,
          [&](const TableDef& t, storage::WriteBatch* b) {
            table::TableStore::AppendDropTable(t.table_id, b);
            table::ColdStore::StageDropTable(t.table_id, b);
            dropped_ids.push_back(t.table_id);
          },
          &dropped));
      ForgetDroppedTables(dropped_ids);
      if (s.ns == name) s.ns = std::string(catalog::kDefaultNamespace);
      s.results.push_back(Message(dropped ? "Namespace " + name + " dropped successfully"
                                          : "Namespace " + name + " does not exist"));
      return Status::OK();
    }
    case parser::StatementKind::kAlterNamespace: {
      KALAM_ASSIGN_OR_RETURN(auto ast, parser::ParseAlterNamespace(stmt));
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "ALTER NAMESPACE"));
      std::string name = LowerAscii(ast.name);
      const catalog::NamespaceDef* ns = s.ctx.statement.catalog->FindNamespace(name);
      if (!ns) return Status::NotFound("Namespace '" + name + "' does not exist");
      boost::system::error_code ec;
      boost::json::value current = boost::json::parse(ns->options_json, ec);
      boost::json::object opts = (!ec && current.is_object()) ? current.as_object()
                                                              : boost::json::object();
      for (const auto& o : ast.options) {
        Value v = LiteralValue(o.value);
        boost::json::value j;
        switch (v.kind()) {
          case Value::Kind::kNull: j = nullptr; break;
          case Value::Kind::kInt:
            if (o.value.kind == parser::LiteralKind::kBoolean) j = v.as_int() != 0;
            else j = v.as_int();
            break;
          case Value::Kind::kDouble: j = v.as_double(); break;
          case Value::Kind::kText: j = v.as_text(); break;
          case Value::Kind::kBlob: j = v.DebugString(); break;
        }
        opts[LowerAscii(o.key)] = j;
      }
      KALAM_RETURN_IF_ERROR(catalog_.SetNamespaceOptions(name, boost::json::serialize(opts)));
      s.results.push_back(Message("Namespace " + name + " altered successfully"));
      return Status::OK();
    }
    case parser::StatementKind::kShowNamespaces: {
      KALAM_ASSIGN_OR_RETURN(auto ast, parser::ParseShowNamespaces(stmt));
      (void)ast;
      ResultBuilder b;
      b.AddColumn("namespace_id", kText);
      b.AddColumn("name", kText);
      b.AddColumn("options", DataType{TypeKind::kJson});
      b.AddColumn("table_count", kBigInt);
      b.AddColumn("created_at", kTimestamp);
      for (const auto& [name, ns] : s.ctx.statement.catalog->namespaces()) {
        KALAM_RETURN_IF_ERROR(b.AddRow(
            {Value::Text(name), Value::Text(name), Value::Text(ns.options_json),
             Value::Int(static_cast<int64_t>(s.ctx.statement.catalog->TablesIn(name).size())),
             Value::Int(ns.created_at_us)}));
      }
      s.results.push_back(std::move(b).Finish());
      return Status::OK();
    }
    case parser::StatementKind::kUse: {
      KALAM_ASSIGN_OR_RETURN(auto ast, parser::ParseUseNamespace(stmt));
      std::string name = LowerAscii(ast.name);
      if (!s.ctx.statement.catalog->FindNamespace(name)) {
        return Status::NotFound("Namespace '" + name + "' does not exist");
      }
      s.ns = name;
      s.results.push_back(Message("Namespace switched to '" + name + "'"));
      return Status::OK();
    }
    default: return Status::Internal("not a namespace statement");
  }
}

Status Executor::RunCreateTable(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::CreateTableStmt ast, parser::ParseCreateTable(stmt));
  TableDef def;
  def.namespace_id = ResolveNs({}, ast.table.ns, s.ns);
  def.table_name = LowerAscii(ast.table.name);
  def.type = ast.table_type;
  if (def.namespace_id == catalog::kSystemNamespace) {
    return Status::PermissionDenied("Tables cannot be created in namespace 'system'");
  }
  if (def.type == catalog::TableType::kShared) {
    KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kService, "CREATE SHARED TABLE"));
  }
  if (!s.ctx.statement.catalog->FindNamespace(def.namespace_id)) {
    return Status::NotFound("Namespace '" + def.namespace_id +
                            "' does not exist. Create it first with CREATE NAMESPACE.");
  }
  for (const auto& c : ast.columns) {
    KALAM_ASSIGN_OR_RETURN(catalog::ColumnDef col, BuildColumn(c));
    def.columns.push_back(std::move(col));
  }
  const auto& o = ast.options;
  if (o.storage_id) {
    const std::string id = LowerAscii(*o.storage_id);
    const bool exists = storages_ ? storages_->Find(id).has_value() : id == "local";
    if (!exists) {
      return Status::NotFound("Storage '" + *o.storage_id +
                              "' does not exist (see SHOW STORAGES)");
    }
    def.options.storage_id = id;
  }
  if (o.use_user_storage) def.options.use_user_storage = *o.use_user_storage;
  if (o.flush_policy) {
    def.options.flush_policy.row_limit = o.flush_policy->row_limit.value_or(0);
    def.options.flush_policy.interval_seconds = o.flush_policy->interval_seconds.value_or(0);
  }
  if (o.deleted_retention_hours) {
    def.options.deleted_retention_hours = static_cast<uint32_t>(*o.deleted_retention_hours);
  }
  if (o.ttl_seconds) def.options.ttl_seconds = static_cast<uint32_t>(*o.ttl_seconds);
  if (o.access_level) def.options.access_level = *o.access_level;
  if (o.max_rows_per_user) def.options.max_rows_per_user = *o.max_rows_per_user;
  if (o.ephemeral) def.options.ephemeral = *o.ephemeral;
  const std::string qualified = def.QualifiedName();
  const std::string type_name = LowerAscii(catalog::TableTypeName(def.type));
  bool created = false;
  KALAM_ASSIGN_OR_RETURN(auto table, catalog_.CreateTable(std::move(def), ast.if_not_exists,
                         &created));
  (void)table;
  s.results.push_back(Message(created ? type_name + " table " + qualified + " created successfully"
                                      : "Table " + qualified + " already exists"));
  return Status::OK();
}

Status Executor::RunDropTable(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::DropTableStmt ast, parser::ParseDropTable(stmt));
  KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "DROP TABLE"));
  std::string ns = ResolveNs({}, ast.table.ns, s.ns);
  std::string name = LowerAscii(ast.table.name);
  auto def = s.ctx.statement.catalog->FindTable(ns, name);
  if (!def) {
    if (ast.if_exists) {
      s.results.push_back(Message("Table " + ns + "." + name + " does not exist"));
      return Status::OK();
    }
    return Status::TableNotFound("Table '" + ns + "." + name + "' does not exist");
  }
  if (ast.table_type && *ast.table_type != def->type) {
    return Status::InvalidArgument("Table '" + def->QualifiedName() + "' is a " +
                                   std::string(catalog::TableTypeName(def->type)) +
                                   " table, not " +
                                   std::string(TableTypeName(*ast.table_type)));
  }
  KALAM_RETURN_IF_ERROR(CheckNotTopicSource(*def));
  if (live_) {
    if (size_t n = live_->CountOnTable(def->table_id); n > 0) {
      return Status::FailedPrecondition("Cannot drop table '" + def->QualifiedName() + "': " +
                                        std::to_string(n) +
                                        " live subscription(s) are active on it");
    }
  }
  storage::WriteBatch deletes;
  table::TableStore::AppendDropTable(def->table_id, &deletes);
  table::ColdStore::StageDropTable(def->table_id, &deletes);
  KALAM_RETURN_IF_ERROR(catalog_.DropTable(*def, std::move(deletes)));
  ForgetDroppedTables({def->table_id});
  s.results.push_back(Message("Table " + def->QualifiedName() + " dropped successfully"));
  return Status::OK();
}

Status Executor::RunShowTables(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::ShowTablesStmt ast, parser::ParseShowTables(stmt));
  std::vector<std::shared_ptr<const TableDef>> tables;
  if (ast.ns.empty()) {
    tables = s.ctx.statement.catalog->AllTables();
  } else {
    std::string ns = LowerAscii(ast.ns);
    if (!s.ctx.statement.catalog->FindNamespace(ns)) {
      return Status::NotFound("Namespace '" + ns + "' does not exist");
    }
    tables = s.ctx.statement.catalog->TablesIn(ns);
  }
  ResultBuilder b;
  b.AddColumn("namespace_id", kText);
  b.AddColumn("table_name", kText);
  b.AddColumn("table_type", kText);
  b.AddColumn("storage_id", kText);
  b.AddColumn("version", kInt);
  b.AddColumn("created_at", kTimestamp);
  b.AddColumn("updated_at", kTimestamp);
  for (const auto& t : tables) {
    // Tables the caller may not read are not listed (as in information_schema.tables).
    if (!CheckTableAccess(s.caller, *t, false).ok()) continue;
    KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text(t->namespace_id), Value::Text(t->table_name),
                                    Value::Text(std::string(catalog::TableTypeName(t->type))),
                                    Value::Text(t->options.storage_id),
                                    Value::Int(t->schema_version), Value::Int(t->created_at_us),
                                    Value::Int(t->updated_at_us)}));
  }
  s.results.push_back(std::move(b).Finish());
  return Status::OK();
}

Status Executor::RunDescribe(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::DescribeTableStmt ast, parser::ParseDescribeTable(stmt));
  std::string ns = ResolveNs({}, ast.table.ns, s.ns);
  std::string name = LowerAscii(ast.table.name);
  auto def = s.ctx.statement.catalog->FindTable(ns, name);
  if (!def) return Status::TableNotFound("Table '" + ns + "." + name + "' does not exist");
  KALAM_RETURN_IF_ERROR(CheckTableAccess(s.caller, *def, false));
  std::vector<std::shared_ptr<const TableDef>> versions;
  if (ast.history) {
    KALAM_ASSIGN_OR_RETURN(auto history, catalog_.SchemaHistory(def->table_id));
    for (auto& v : history) versions.push_back(std::move(v));
  } else {
    versions.push_back(def);
  }
  ResultBuilder b;
  b.AddColumn("column_name", kText);
  b.AddColumn("ordinal_position", kInt);
  b.AddColumn("column_id", kInt);
  b.AddColumn("data_type", kText);
  b.AddColumn("is_nullable", kBool);
  b.AddColumn("is_primary_key", kBool);
  b.AddColumn("column_default", kText);
  b.AddColumn("column_comment", kText);
  b.AddColumn("schema_version", kInt);
  const bool stream = def->type == catalog::TableType::kStream;
  for (const auto& v : versions) {
    for (size_t i = 0; i < v->columns.size(); ++i) {
      const auto& c = v->columns[i];
      std::string dflt = c.default_value.ToSql(c.type);
      KALAM_RETURN_IF_ERROR(b.AddRow(
          {Value::Text(c.name), Value::Int(static_cast<int64_t>(i + 1)), Value::Int(c.column_id),
           Value::Text(c.type.SqlName()), Value::Int(c.nullable ? 1 : 0),
           Value::Int(c.primary_key ? 1 : 0), dflt.empty() ? Value() : Value::Text(dflt),
           c.comment.empty() ? Value() : Value::Text(c.comment), Value::Int(v->schema_version)}));
    }
    if (stream) {
      // A stream's system columns are listed too (FEATURES §1.2); their column_id is 0.
      const int64_t n = static_cast<int64_t>(v->columns.size());
      KALAM_RETURN_IF_ERROR(b.AddRow(
          {Value::Text("_seq"), Value::Int(n + 1), Value::Int(0), Value::Text("BIGINT"),
           Value::Int(0), Value::Int(0), Value(),
           Value::Text("Version ID (MVCC) with embedded timestamp"),
           Value::Int(v->schema_version)}));
      KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text("_deleted"), Value::Int(n + 2), Value::Int(0),
                                      Value::Text("BOOLEAN"), Value::Int(0), Value::Int(0),
                                      Value::Text("FALSE"), Value::Text("Soft delete flag"),
                                      Value::Int(v->schema_version)}));
    }
  }
  StatementResult r = std::move(b).Finish();
  if (stream) r.message = StreamOptionsText(*def);
  s.results.push_back(std::move(r));
  return Status::OK();
}

Status Executor::RunUserStatement(Session& s, const parser::SqlStatement& stmt,
                                  parser::StatementKind kind) {
  auth::PasswordHashParams hash_params;
  hash_params.ops_limit = options_.password_ops_limit;
  hash_params.mem_limit_bytes = options_.password_mem_limit_bytes;
  const int64_t now = clock_.NowMicros();
  switch (kind) {
    case parser::StatementKind::kCreateUser: {
      KALAM_ASSIGN_OR_RETURN(parser::CreateUserStmt ast, parser::ParseCreateUser(stmt));
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "CREATE USER"));
      auto role = auth::ParseRole(ast.role);
      if (!role) {
        return Status::InvalidArgument("Unknown role '" + ast.role +
                                       "': use user, service, dba or system");
      }
      if (*role == auth::Role::kSystem && !auth::RoleAtLeast(s.caller.role, auth::Role::kSystem)) {
        return Status::PermissionDenied("Permission denied: only a system user can create a "
                                        "system user");
      }
      if (catalog_.GetUser(ast.name)) {
        return Status::AlreadyExists("User '" + ast.name + "' already exists");
      }
      KALAM_RETURN_IF_ERROR(CheckPasswordPolicy(options_, ast.password));
      catalog::UserRecord user;
      user.user_id = ast.name;
      user.role = *role;
      user.email = ast.email;
      KALAM_ASSIGN_OR_RETURN(user.password_hash, auth::HashPassword(ast.password, hash_params));
      user.created_at_us = user.updated_at_us = now;
      KALAM_RETURN_IF_ERROR(catalog_.PutUser(user));
      s.results.push_back(Message("User " + ast.name + " created successfully"));
      return Status::OK();
    }
    case parser::StatementKind::kAlterUser: {
      KALAM_ASSIGN_OR_RETURN(parser::AlterUserStmt ast, parser::ParseAlterUser(stmt));
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "ALTER USER"));
      auto user = catalog_.GetUser(ast.name);
      if (!user || user->deleted()) return Status::NotFound("User '" + ast.name + "' does not exist");
      if (user->role == auth::Role::kSystem &&
          !auth::RoleAtLeast(s.caller.role, auth::Role::kSystem)) {
        return Status::PermissionDenied("Permission denied: only a system user can alter system "
                                        "user '" + ast.name + "'");
      }
      switch (ast.change) {
        case parser::AlterUserStmt::Change::kPassword: {
          KALAM_RETURN_IF_ERROR(CheckPasswordPolicy(options_, ast.value));
          KALAM_ASSIGN_OR_RETURN(user->password_hash, auth::HashPassword(ast.value, hash_params));
          break;
        }
        case parser::AlterUserStmt::Change::kRole: {
          auto role = auth::ParseRole(ast.value);
          if (!role) return Status::InvalidArgument("Unknown role '" + ast.value + "'");
          if ((*role == auth::Role::kSystem || user->role == auth::Role::kSystem) &&
              !auth::RoleAtLeast(s.caller.role, auth::Role::kSystem)) {
            return Status::PermissionDenied("Permission denied: only a system user can change a "
                                            "system role");
          }
          user->role = *role;
          break;
        }
        case parser::AlterUserStmt::Change::kEmail: user->email = ast.value; break;
      }
      user->updated_at_us = now;
      KALAM_RETURN_IF_ERROR(catalog_.PutUser(*user));
      s.results.push_back(Message("User " + ast.name + " altered successfully"));
      return Status::OK();
    }
    case parser::StatementKind::kDropUser: {
      KALAM_ASSIGN_OR_RETURN(parser::DropUserStmt ast, parser::ParseDropUser(stmt));
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "DROP USER"));
      auto user = catalog_.GetUser(ast.name);
      if (!user || user->deleted()) {
        if (ast.if_exists) {
          s.results.push_back(Message("User " + ast.name + " does not exist"));
          return Status::OK();
        }
        return Status::NotFound("User '" + ast.name + "' does not exist");
      }
      if (user->user_id == "root") return Status::PermissionDenied("User 'root' cannot be dropped");
      if (user->role == auth::Role::kSystem &&
          !auth::RoleAtLeast(s.caller.role, auth::Role::kSystem)) {
        return Status::PermissionDenied("Permission denied: only a system user can drop system "
                                        "user '" + ast.name + "'");
      }
      if (user->user_id == s.caller.user_id) {
        return Status::PermissionDenied("You cannot drop your own user");
      }
      user->deleted_at_us = now;
      user->updated_at_us = now;
      KALAM_RETURN_IF_ERROR(catalog_.PutUser(*user));
      s.results.push_back(Message("User " + ast.name + " dropped successfully"));
      return Status::OK();
    }
    default: return Status::Internal("not a user statement");
  }
}

}  // namespace kalam::sql
