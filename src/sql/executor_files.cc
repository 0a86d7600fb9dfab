// Executor::ResolveFileTarget: the table and scope a multipart FILE upload writes into
// (docs/files.md), checked before any file is stored.
#include "sql/executor.h"

#include "sql/parser/parser.h"
#include "sql/parser/splitter.h"

namespace kalam::sql {

Result<FileTarget> Executor::ResolveFileTarget(const SqlRequest& request, const Caller& caller) {
  KALAM_ASSIGN_OR_RETURN(auto statements, parser::SplitStatements(request.sql));
  if (statements.size() != 1) {
    return Status::InvalidArgument("File uploads require a single SQL statement");
  }
  parser::SqlStatement stmt = statements[0];
  FileTarget target;
  target.scope = caller.user_id;
  bool execute_as = false;
  auto kind = parser::ClassifyStatement(stmt.tokens);
  if (kind.ok() && *kind == parser::StatementKind::kExecuteAs) {
    KALAM_ASSIGN_OR_RETURN(parser::ExecuteAsStmt ast, parser::ParseExecuteAs(stmt));
    target.scope = ast.user;
    execute_as = true;
    stmt = ast.inner;
    kind = parser::ClassifyStatement(stmt.tokens);
  }
  const Status no_target = Status::InvalidArgument(
      "Could not determine target table from SQL. Use fully qualified table name "
      "(namespace.table).");
  if (!kind.ok() || (*kind != parser::StatementKind::kInsert &&
                     *kind != parser::StatementKind::kUpdate &&
                     *kind != parser::StatementKind::kDelete)) {
    return no_target;
  }
  auto analysis = parser::AnalyzeDml(stmt);
  if (!analysis.ok() || !analysis->target_table) return no_target;
  const parser::TableRef& ref = analysis->tables[*analysis->target_table];
  std::string ns = ref.ns.empty()
                       ? (request.namespace_id.empty() ? std::string("default")
                                                       : catalog::LowerName(request.namespace_id))
                       : catalog::LowerName(ref.ns);
  const std::string name = catalog::LowerName(ref.name);
  if (ns == "system" || ns == "information_schema") {
    return Status::InvalidArgument("File uploads are not supported for stream or system tables");
  }
  auto def = catalog_.snapshot()->FindTable(ns, name);
  if (!def) return Status::TableNotFound("Table '" + ns + ":" + name + "' not found");
  if (def->type == catalog::TableType::kStream || def->type == catalog::TableType::kSystem) {
    return Status::InvalidArgument("File uploads are not supported for stream or system tables");
  }
  if (execute_as && def->type != catalog::TableType::kUser) {
    return Status::InvalidArgument("EXECUTE AS USER works on USER and STREAM tables only; '" +
                                   def->QualifiedName() + "' is a " +
                                   std::string(catalog::TableTypeName(def->type)) + " table");
  }
  if (def->type != catalog::TableType::kUser) target.scope.clear();
  // The statement's own checks run again when it executes; this early one keeps a caller who may
  // not write the table from storing files in it at all.
  KALAM_RETURN_IF_ERROR(CheckTableAccess(caller, *def, /*write=*/true));
  target.table = std::move(def);
  return target;
}

}  // namespace kalam::sql
