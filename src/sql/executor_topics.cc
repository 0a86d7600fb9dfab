// Topic statements: permissions, name resolution, then the topic service (sql/topic_service.h).
#include "sql/executor.h"
#include "sql/executor_session.h"

namespace kalam::sql {

namespace {

bool IsTopicDdl(parser::StatementKind kind) {
  return kind == parser::StatementKind::kCreateTopic ||
         kind == parser::StatementKind::kDropTopic ||
         kind == parser::StatementKind::kClearTopic || kind == parser::StatementKind::kAlterTopic;
}

}  // namespace

Status Executor::CheckNotTopicSource(const catalog::TableDef& table) const {
  if (!topics_) return Status::OK();
  auto topics = topics_->TopicsWithSource(table.table_id);
  if (topics.empty()) return Status::OK();
  return Status::FailedPrecondition(
      "Cannot drop table '" + table.QualifiedName() + "': it is a source of topic '" +
      topics.front() + "'. Remove the route first with ALTER TOPIC " + topics.front() +
      " DROP SOURCE " + table.QualifiedName() + " ON <INSERT|UPDATE|DELETE>");
}

Status Executor::CheckTopicRole(parser::StatementKind kind, const Caller& caller) {
  if (IsTopicDdl(kind)) {
    if (!auth::RoleAtLeast(caller.role, auth::Role::kDba)) {
      return Status::PermissionDenied(
          "Admin privileges (DBA or System role) required for topic management");
    }
    return Status::OK();
  }
  if ((kind == parser::StatementKind::kConsume || kind == parser::StatementKind::kAck) &&
      !auth::RoleAtLeast(caller.role, auth::Role::kService)) {
    return Status::PermissionDenied(
        kind == parser::StatementKind::kConsume
            ? "Permission denied: Only service, dba, or system roles can consume from topics"
            : "Permission denied: Only service, dba, or system roles can acknowledge topic "
              "offsets");
  }
  return Status::OK();
}

Status Executor::RunTopicStatement(Session& s, const parser::SqlStatement& stmt,
                                   parser::StatementKind kind) {
  // Permissions are decided before parsing, like the original's classifier.
  KALAM_RETURN_IF_ERROR(CheckTopicRole(kind, s.caller));
  if (!topics_) return Status::Unavailable("Topics are not available on this server");
  KALAM_ASSIGN_OR_RETURN(parser::TopicStatement ast, parser::ParseTopicStatement(stmt));
  if (ast.topic_ns.empty() || ast.topic_name.empty()) {
    return Status::InvalidArgument(
        "Topic name must be namespace-qualified: <namespace>.<topic>");
  }
  TopicStatementContext ctx;
  ctx.caller = s.caller;
  const std::string ns = catalog::LowerName(ast.topic_ns);
  ctx.topic_id = ns + "." + ast.topic_name;
  const auto& catalog = *s.ctx.statement.catalog;
  if (ast.kind == parser::TopicStatement::Kind::kCreate && !catalog.FindNamespace(ns)) {
    return Status::NotFound("Namespace '" + ns + "' does not exist");
  }
  if (ast.kind == parser::TopicStatement::Kind::kAddSource ||
      ast.kind == parser::TopicStatement::Kind::kDropSource) {
    const std::string table_ns =
        ast.source.ns.empty() ? s.ns : catalog::LowerName(ast.source.ns);
    const std::string table = catalog::LowerName(ast.source.name);
    ctx.source = catalog.FindTable(table_ns, table);
    if (!ctx.source) {
      return Status::NotFound("Table '" + table_ns + "." + table + "' does not exist");
    }
  }
  KALAM_ASSIGN_OR_RETURN(StatementResult result, topics_->Run(ast, ctx));
  result.as_user = s.caller.user_id;
  s.results.push_back(std::move(result));
  return Status::OK();
}

}  // namespace kalam::sql
