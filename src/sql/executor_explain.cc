// Executor: EXPLAIN and EXPLAIN ANALYZE of a SELECT (docs/explain.md).
//
// The SELECT goes through RunDml as it would run — table resolution and access checks, the
// rewrite, user scoping, the row limit — and, instead of being run for its rows, is explained:
// SQLite's EXPLAIN QUERY PLAN of the rewritten statement gives the logical plan (loop order,
// scans, temp B-trees); the virtual tables record their chosen plans in a PlanRecorder
// (ExecContext::statement.plan). EXPLAIN plans only; EXPLAIN ANALYZE also runs the SELECT,
// discards its rows and reports what each scan did.
#include <chrono>

#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/parser.h"
#include "sql/result_builder.h"

namespace kalam::sql {

namespace {

// SQLite's EXPLAIN QUERY PLAN rows of `sql`, prepared outside the statement cache so that the
// virtual tables plan it afresh (and record their plans) every time.
Result<std::vector<QueryPlanRow>> QueryPlanOf(SqlConnection& conn, const std::string& sql) {
  const std::string text = "EXPLAIN QUERY PLAN " + sql;
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v2(conn.db(), text.c_str(), static_cast<int>(text.size()), &raw,
                                    nullptr);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return SqliteError(conn, rc);
  std::vector<QueryPlanRow> rows;
  int step = SQLITE_ROW;
  while (stmt && (step = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const unsigned char* detail = sqlite3_column_text(stmt.get(), 3);
    rows.push_back({sqlite3_column_int(stmt.get(), 0), sqlite3_column_int(stmt.get(), 1),
                    detail ? reinterpret_cast<const char*>(detail) : ""});
  }
  if (stmt && step != SQLITE_DONE) return SqliteError(conn, step);
  return rows;
}

// Clears the statement's PlanRecorder when the explain ends, on every path.
struct PlanScope {
  ExecContext& ctx;
  PlanScope(ExecContext& c, PlanRecorder* recorder) : ctx(c) { ctx.statement.plan = recorder; }
  ~PlanScope() { ctx.statement.plan = nullptr; }
};

}  // namespace

Status Executor::RunExplain(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::ExplainStmt explain, parser::ParseExplain(stmt));
  return RunDml(s, explain.inner, &explain);
}

Status Executor::ExplainSelect(Session& s, const parser::ExplainStmt& explain,
                               const std::string& sql, const std::string& shown_sql,
                               const std::map<std::string, PlannedTable>& names,
                               sqlite3_stmt* prepared, const RowLimits& limits,
                               const std::string& limit_note,
                               const std::string& aggregate_path, StatementResult* result) {
  PlanRecorder recorder(explain.analyze ? PlanRecorder::Mode::kAnalyze
                                        : PlanRecorder::Mode::kPlan);
  PlanInput in;
  in.sql = shown_sql;
  in.limit_note = limit_note;
  in.resolve = [&names](const std::string& name) -> std::optional<PlannedTable> {
    auto it = names.find(name);
    if (it == names.end()) return std::nullopt;
    return it->second;
  };
  ResultBuilder b;
  b.AddColumn("plan_type", DataType{TypeKind::kText});
  b.AddColumn("plan", DataType{TypeKind::kText});
  {
    PlanScope scope(s.ctx, &recorder);
    KALAM_ASSIGN_OR_RETURN(in.rows, QueryPlanOf(*s.conn, sql));
    if (explain.analyze) {
      StatementResult discarded;
      const auto start = std::chrono::steady_clock::now();
      Status st = sql::RunStatement(*s.conn, prepared, limits, &discarded);
      const int64_t elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - start).count();
      // Close the statement's cursors now: they point into `recorder`.
      sqlite3_reset(prepared);
      KALAM_RETURN_IF_ERROR(st);
      KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text("Plan with Metrics"),
                                      Value::Text(RenderPlanWithMetrics(
                                          in, recorder, discarded.row_count,
                                          discarded.truncated, elapsed_ns))}));
    } else {
      KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text("logical_plan"),
                                      Value::Text(RenderLogicalPlan(in))}));
      KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text("physical_plan"),
                                      Value::Text(RenderPhysicalPlan(in, recorder))}));
      // The statement runs on the aggregate path (fast_aggregate.h), not on the plan above.
      if (!aggregate_path.empty()) {
        KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text("aggregate_path"),
                                        Value::Text(aggregate_path)}));
      }
    }
  }
  *result = std::move(b).Finish();
  return Status::OK();
}

}  // namespace kalam::sql
