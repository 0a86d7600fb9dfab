// The executor's audit-log and slow-query-log records of each statement (docs/audit.md,
// docs/logging.md).
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/parser.h"
#include "sql/parser/redact.h"

namespace kalam::sql {

namespace {

namespace json = boost::json;
using parser::StatementKind;

// The audit action of a statement kind, or empty for kinds that are not audited.
std::string_view AuditAction(StatementKind kind) {
  switch (kind) {
    case StatementKind::kCreateNamespace: return "CREATE_NAMESPACE";
    case StatementKind::kAlterNamespace: return "ALTER_NAMESPACE";
    case StatementKind::kDropNamespace: return "DROP_NAMESPACE";
    case StatementKind::kCreateTable: return "CREATE_TABLE";
    case StatementKind::kAlterTable: return "ALTER_TABLE";
    case StatementKind::kDropTable: return "DROP_TABLE";
    case StatementKind::kCreateUser: return "CREATE_USER";
    case StatementKind::kAlterUser: return "ALTER_USER";
    case StatementKind::kDropUser: return "DROP_USER";
    case StatementKind::kCreateStorage: return "CREATE_STORAGE";
    case StatementKind::kAlterStorage: return "ALTER_STORAGE";
    case StatementKind::kDropStorage: return "DROP_STORAGE";
    case StatementKind::kExecuteAs: return "EXECUTE_AS";
    case StatementKind::kKillJob: return "KILL_JOB";
    case StatementKind::kKillLiveQuery: return "KILL_LIVE_QUERY";
    case StatementKind::kBackup: return "BACKUP";
    case StatementKind::kRestore: return "RESTORE";
    default: return {};
  }
}

// The value of the token at `index`, skipping IF / NOT / EXISTS; empty past the end.
std::string NameAt(const parser::SqlStatement& stmt, size_t index) {
  while (index < stmt.tokens.size() &&
         (stmt.tokens[index].IsWord("IF") || stmt.tokens[index].IsWord("NOT") ||
          stmt.tokens[index].IsWord("EXISTS"))) {
    ++index;
  }
  return index < stmt.tokens.size() ? stmt.tokens[index].value : std::string();
}

std::string TableTarget(const parser::QualifiedName& t, const std::string& current_ns) {
  return "table:" + (t.ns.empty() ? current_ns : catalog::LowerName(t.ns)) + "." +
         catalog::LowerName(t.name);
}

// Fills target, subject_user_id and statement-specific details of `r`. The statement may not
// parse (its failure is then what is recorded): the target is then what the tokens show.
void DescribeTarget(const parser::SqlStatement& stmt, StatementKind kind,
                    const std::string& current_ns, audit::AuditRecord* r, json::object* details) {
  switch (kind) {
    case StatementKind::kCreateNamespace:
      if (auto p = parser::ParseCreateNamespace(stmt); p.ok()) r->target = "namespace:" + p->name;
      break;
    case StatementKind::kAlterNamespace:
      if (auto p = parser::ParseAlterNamespace(stmt); p.ok()) r->target = "namespace:" + p->name;
      break;
    case StatementKind::kDropNamespace:
      if (auto p = parser::ParseDropNamespace(stmt); p.ok()) {
        r->target = "namespace:" + p->name;
        if (p->cascade) (*details)["cascade"] = true;
      }
      break;
    case StatementKind::kCreateTable:
      if (auto p = parser::ParseCreateTable(stmt); p.ok()) r->target = TableTarget(p->table, current_ns);
      break;
    case StatementKind::kAlterTable:
      if (auto p = parser::ParseAlterTable(stmt); p.ok()) r->target = TableTarget(p->table, current_ns);
      break;
    case StatementKind::kDropTable:
      if (auto p = parser::ParseDropTable(stmt); p.ok()) r->target = TableTarget(p->table, current_ns);
      break;
    case StatementKind::kCreateUser:
      if (auto p = parser::ParseCreateUser(stmt); p.ok()) {
        r->subject_user_id = p->name;
        (*details)["role"] = catalog::LowerName(p->role);
      }
      break;
    case StatementKind::kAlterUser:
      if (auto p = parser::ParseAlterUser(stmt); p.ok()) {
        r->subject_user_id = p->name;
        using Change = parser::AlterUserStmt::Change;
        // Never the new password; a role is no secret.
        switch (p->change) {
          case Change::kPassword: (*details)["change"] = "password"; break;
          case Change::kEmail: (*details)["change"] = "email"; break;
          case Change::kRole:
            (*details)["change"] = "role";
            (*details)["role"] = catalog::LowerName(p->value);
            break;
        }
      }
      break;
    case StatementKind::kDropUser:
      if (auto p = parser::ParseDropUser(stmt); p.ok()) r->subject_user_id = p->name;
      break;
    case StatementKind::kExecuteAs:
      if (auto p = parser::ParseExecuteAs(stmt); p.ok()) r->subject_user_id = p->user;
      break;
    case StatementKind::kCreateStorage:
    case StatementKind::kAlterStorage:
    case StatementKind::kDropStorage:
      r->target = "storage:" + NameAt(stmt, 2);
      break;
    case StatementKind::kKillJob: r->target = "job:" + NameAt(stmt, 2); break;
    case StatementKind::kKillLiveQuery: r->target = "live_query:" + NameAt(stmt, 3); break;
    case StatementKind::kBackup:
    case StatementKind::kRestore:
      r->target = "path:" + NameAt(stmt, 3);
      break;
    default: break;
  }
  if (!r->subject_user_id.empty()) r->target = "user:" + r->subject_user_id;
}

}  // namespace

void Executor::AuditStatement(const Session& s, const Caller& actor,
                              const parser::SqlStatement& stmt, StatementKind kind,
                              const Status& st, size_t results_before) {
  if (!audit_) return;
  const std::string_view action = AuditAction(kind);
  if (action.empty()) return;
  audit::AuditRecord r;
  r.actor_user_id = actor.user_id;
  r.action = std::string(action);
  r.ip_address = s.request.client_ip;
  r.outcome = std::string(st.ok() ? audit::kOutcomeSuccess : audit::kOutcomeFailure);
  json::object details;
  DescribeTarget(stmt, kind, s.ns, &r, &details);
  if (r.target.empty()) r.target = "unknown";
  // Literals redacted: a password or secret in the text never reaches the log.
  details["statement"] = parser::RedactLiterals(stmt.text);
  if (!st.ok()) {
    details["error"] = st.message();
  } else if (s.results.size() > results_before && s.results.back().message) {
    details["message"] = *s.results.back().message;
  }
  r.details = json::serialize(details);
  auto stored = audit_->Append(std::move(r));
  if (!stored.ok()) {
    // The statement already took effect (or failed) on its own; its record is what is lost.
    spdlog::error("Audit log: cannot record {} by '{}': {}", action, actor.user_id,
                  stored.status().ToString());
  }
}

void Executor::LogIfSlow(const Session& s, const parser::SqlStatement& stmt,
                         std::chrono::microseconds took) {
  if (!slow_ || !slow_->IsSlow(took)) return;
  SlowQuery q;
  q.at_us = clock_.NowMicros();
  q.user_id = s.caller.user_id;
  if (s.stmt_table) {
    q.table = s.stmt_table->QualifiedName();
    q.table_type = catalog::LowerName(catalog::TableTypeName(s.stmt_table->type));
  }
  q.duration = took;
  q.rows = s.stmt_rows;
  q.query = parser::RedactLiterals(stmt.text);
  slow_->Record(q);
}

}  // namespace kalam::sql
