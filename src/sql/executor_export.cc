// Executor: EXPORT USER DATA and SHOW EXPORT (docs/export.md). The work is the export service's;
// the user is always the session's (EXECUTE AS changes it).
#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/export_parser.h"
#include "sql/result_builder.h"

namespace kalam::sql {

Status Executor::RunExportStatement(Session& s, const parser::SqlStatement& stmt,
                                    parser::StatementKind kind) {
  const bool show = kind == parser::StatementKind::kShowExport;
  KALAM_RETURN_IF_ERROR(show ? parser::ParseShowExport(stmt) : parser::ParseExportUserData(stmt));
  if (!exports_) {
    return Status::Unavailable("User data export is not available on this server");
  }
  if (s.in_txn) {
    return Status::FailedPrecondition(std::string(parser::StatementKindName(kind)) +
                                      " cannot run inside a transaction");
  }
  if (!show) {
    KALAM_ASSIGN_OR_RETURN(std::string job_id, exports_->StartExport(s.caller.user_id));
    s.results.push_back(Message("User data export started. Job ID: " + job_id +
                                ". Use SHOW EXPORT to check status and get the download link."));
    return Status::OK();
  }
  ResultBuilder b;
  b.AddColumn("job_id", DataType{TypeKind::kText});
  b.AddColumn("status", DataType{TypeKind::kText});
  b.AddColumn("created_at", DataType{TypeKind::kTimestamp});
  b.AddColumn("message", DataType{TypeKind::kText});
  b.AddColumn("download_url", DataType{TypeKind::kText});
  for (const ExportInfo& e : exports_->ListExports(s.caller.user_id)) {
    KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text(e.job_id), Value::Text(e.status),
                                    Value::Int(e.created_at_us), Value::Text(e.message),
                                    Value::Text(e.download_url)}));
  }
  s.results.push_back(std::move(b).Finish());
  return Status::OK();
}

}  // namespace kalam::sql
