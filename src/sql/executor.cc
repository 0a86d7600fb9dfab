// Executor: the request loop, transactions, and DML through SQLite.
#include "sql/executor.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <boost/json.hpp>
#include <cctype>

#include "common/metrics.h"
#include "sql/fast_aggregate.h"
#include "sql/executor_session.h"
#include "sql/parser/lexer.h"
#include "sql/parser/parser.h"
#include "sql/parser/rewriter.h"
#include "sql/parser/splitter.h"
#include "sql/result_builder.h"
#include "sql/sqlite/statement_runner.h"
#include "sql/statement_error.h"
#include "sql/sqlite/system_tables.h"

namespace kalam::sql {

using catalog::TableDef;

namespace {

// kalamdb_sql_statements_total{kind,outcome}: the series of each (kind, outcome) is looked up once
// and cached, so counting a statement is one atomic add.
void CountStatement(std::optional<parser::StatementKind> kind, bool ok) {
  static std::array<std::atomic<metrics::Counter*>, 2 * 257> cache{};
  const size_t slot = 2 * (kind ? static_cast<size_t>(*kind) : 256) + (ok ? 0 : 1);
  metrics::Counter* c = cache[slot].load(std::memory_order_acquire);
  if (!c) {
    c = &metrics::Registry::Default().GetCounter(
        "kalamdb_sql_statements_total", "SQL statements run, by kind and outcome",
        {{"kind", kind ? std::string(parser::StatementKindName(*kind)) : "unknown"},
         {"outcome", ok ? "ok" : "error"}});
    cache[slot].store(c, std::memory_order_release);
  }
  c->Inc();
}

}  // namespace

Executor::Executor(catalog::Catalog& catalog, table::TableStore& store,
                   commit::CommitShards shards, SqlConnectionPool& pool,
                   SnowflakeGenerator& ids, const Clock& clock, ExecutorOptions options)
    : catalog_(catalog),
      store_(store),
      streams_(store.kv()),
      shards_(std::move(shards)),
      pool_(pool),
      ids_(ids),
      clock_(clock),
      options_(options),
      started_at_us_(clock.NowMicros()) {}

SqlResponse Executor::Execute(const SqlRequest& request, const Caller& caller) {
  auto lease = pool_.Acquire();
  return ExecuteWith(request, caller, lease);
}

std::optional<SqlResponse> Executor::TryExecute(const SqlRequest& request, const Caller& caller,
                                                std::chrono::microseconds budget) {
  auto lease = pool_.TryAcquire();
  if (!lease) return std::nullopt;
  const auto budget_end = std::chrono::steady_clock::now() + budget;
  SqlResponse response = ExecuteWith(request, caller, *lease, budget_end);
  if (response.error.code() == StatusCode::kResourceExhausted &&
      std::chrono::steady_clock::now() >= budget_end) {
    return std::nullopt;  // cancelled past the budget (or a limit hit after it): run it elsewhere
  }
  return response;
}

SqlResponse Executor::ExecuteWith(const SqlRequest& request, const Caller& caller,
                                  SqlConnectionPool::Lease& lease,
                                  std::chrono::steady_clock::time_point budget_end) {
  SqlResponse response;
  response.as_user = caller.user_id;
  auto split = parser::SplitStatements(request.sql);
  if (!split.ok()) {
    response.error = split.status();
    response.error_details = request.sql.substr(0, 4096);
    return response;
  }
  const auto& statements = *split;
  if (statements.empty()) {
    response.error = Status::InvalidSql("SQL is empty");
    response.error_code = "EMPTY_SQL";
    return response;
  }
  if (request.has_params && !request.params.empty() && statements.size() > 1) {
    response.error = Status::InvalidParameter(
        "Parameters cannot be used with a batch of " + std::to_string(statements.size()) +
        " statements; send one statement per request");
    response.error_code = "PARAMS_WITH_BATCH";
    return response;
  }

  Session s(request);
  s.caller = caller;
  s.ns = request.namespace_id.empty() ? std::string(catalog::kDefaultNamespace)
                                      : catalog::LowerName(request.namespace_id);
  s.conn = &*lease;
  s.ctx.services.store = &store_;
  s.ctx.services.streams = &streams_;
  s.ctx.services.clock = &clock_;
  s.ctx.services.ids = &ids_;
  s.ctx.statement.write_set = &s.ws;
  s.ctx.statement.read_snapshot = request.read_snapshot.get();
  s.ctx.statement.read_seq = request.read_seq;
  s.ctx.services.live = live_;
  s.ctx.services.storages = storages_;
  s.ctx.services.jobs = jobs_;
  s.ctx.services.topics = topics_;
  if (options_.request_time_limit.count() > 0) {
    s.ctx.statement.time_limit = options_.request_time_limit;
    s.ctx.statement.deadline = std::chrono::steady_clock::now() + options_.request_time_limit;
  }
  if (budget_end.time_since_epoch().count() != 0 &&
      (s.ctx.statement.deadline.time_since_epoch().count() == 0 ||
       budget_end < s.ctx.statement.deadline)) {
    s.ctx.statement.deadline = budget_end;
  }
  s.ctx.services.catalog_service = &catalog_;
  s.ctx.services.shards = &shards_;
  s.ctx.services.options = &options_;
  s.ctx.services.server_started_at_us = started_at_us_;
  s.ctx.services.audit = audit_;
  s.ctx.services.vectors = vectors_;
  s.ctx.services.cluster = cluster_;
  s.conn->set_context(&s.ctx);
  s.conn->set_allowed_tables(&s.allowed_tables);

  const bool batch = statements.size() > 1;
  for (size_t i = 0; i < statements.size(); ++i) {
    const parser::SqlStatement& stmt = statements[i];
    s.ctx.statement.catalog = catalog_.snapshot();
    s.conn->SyncWithCatalog(*s.ctx.statement.catalog);
    s.ctx.caller = s.caller;
    s.ctx.statement.callback_error = Status::OK();
    Status st;
    s.stmt_table.reset();
    s.stmt_rows = 0;
    const Caller actor = s.caller;  // before EXECUTE AS changes it
    const size_t results_before = s.results.size();
    const auto started = std::chrono::steady_clock::now();
    auto kind = parser::ClassifyStatement(stmt.tokens);
    if (!kind.ok()) st = kind.status();
    else st = RunStatement(s, stmt, *kind);
    CountStatement(kind.ok() ? std::optional(*kind) : std::nullopt, st.ok());
    LogIfSlow(s, stmt, std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - started));
    if (kind.ok()) AuditStatement(s, actor, stmt, *kind, st, results_before);
    // A classifier-level denial (topic statements) reads as its bare text (statement_error.h).
    const bool classifier_denial = kind.ok() && !CheckTopicRole(*kind, s.caller).ok();
    if (!st.ok()) {
      s.ws.Clear();
      response.error = DescribeStatementFailure(st, i + 1, batch, classifier_denial);
      response.error_details = stmt.text;
      return response;
    }
  }
  if (s.in_txn) {
    s.ws.Clear();
    response.error = Status::FailedPrecondition(
        "Transaction was not committed: the request ended inside BEGIN without COMMIT, so it was "
        "rolled back");
    return response;
  }
  response.results = std::move(s.results);
  auto add_sum = [&](bool any, uint64_t n, DmlKind kind, const char* verb) {
    if (!any) return;
    StatementResult r;
    r.row_count = n;
    r.dml = kind;
    r.message = std::string(verb) + " " + std::to_string(n) + " row(s)";
    r.as_user = s.dml_as_user;
    response.results.push_back(std::move(r));
  };
  add_sum(s.any_inserted, s.inserted, DmlKind::kInserted, "Inserted");
  add_sum(s.any_updated, s.updated, DmlKind::kUpdated, "Updated");
  add_sum(s.any_deleted, s.deleted, DmlKind::kDeleted, "Deleted");
  return response;
}

Status Executor::RunStatement(Session& s, const parser::SqlStatement& stmt,
                              parser::StatementKind kind) {
  switch (kind) {
    case parser::StatementKind::kSelect:
    case parser::StatementKind::kInsert:
    case parser::StatementKind::kUpdate:
    case parser::StatementKind::kDelete:
      return RunDml(s, stmt);
    case parser::StatementKind::kBegin:
      if (s.in_txn) return Status::FailedPrecondition("A transaction is already open");
      s.in_txn = true;
      s.at_begin = {s.inserted, s.updated, s.deleted, s.any_inserted, s.any_updated,
                    s.any_deleted};
      return Status::OK();
    case parser::StatementKind::kCommit:
      if (!s.in_txn) return Status::FailedPrecondition("COMMIT without an open transaction");
      s.in_txn = false;
      return CommitSession(s);
    case parser::StatementKind::kRollback:
      if (!s.in_txn) return Status::FailedPrecondition("ROLLBACK without an open transaction");
      s.in_txn = false;
      s.ws.Clear();
      // RETURNING results of the rolled-back inserts stay, empty: nothing was committed.
      s.pending_returning.clear();
      s.inserted = s.at_begin.inserted;
      s.updated = s.at_begin.updated;
      s.deleted = s.at_begin.deleted;
      s.any_inserted = s.at_begin.any_inserted;
      s.any_updated = s.at_begin.any_updated;
      s.any_deleted = s.at_begin.any_deleted;
      return Status::OK();
    case parser::StatementKind::kCreateNamespace:
    case parser::StatementKind::kDropNamespace:
    case parser::StatementKind::kAlterNamespace:
    case parser::StatementKind::kShowNamespaces:
    case parser::StatementKind::kUse:
      return RunNamespaceStatement(s, stmt, kind);
    case parser::StatementKind::kCreateTable: return RunCreateTable(s, stmt);
    case parser::StatementKind::kAlterTable: return RunAlterTable(s, stmt);
    case parser::StatementKind::kDropTable: return RunDropTable(s, stmt);
    case parser::StatementKind::kShowTables: return RunShowTables(s, stmt);
    case parser::StatementKind::kDescribeTable: return RunDescribe(s, stmt);
    case parser::StatementKind::kCreateUser:
    case parser::StatementKind::kAlterUser:
    case parser::StatementKind::kDropUser:
      return RunUserStatement(s, stmt, kind);
    case parser::StatementKind::kExecuteAs: return RunExecuteAs(s, stmt);
    case parser::StatementKind::kKillLiveQuery: return RunKillLiveQuery(s, stmt);
    case parser::StatementKind::kSubscribe: return RunSubscribeTo(s, stmt);
    case parser::StatementKind::kCreateStorage:
    case parser::StatementKind::kAlterStorage:
    case parser::StatementKind::kDropStorage:
    case parser::StatementKind::kShowStorages:
    case parser::StatementKind::kStorageCheck:
    case parser::StatementKind::kStorageCompact:
    case parser::StatementKind::kKillJob:
      return RunStorageStatement(s, stmt, kind);
    case parser::StatementKind::kStorageFlush: return RunFlush(s, stmt);
    case parser::StatementKind::kBackup: return RunBackupStatement(s, stmt, true);
    case parser::StatementKind::kRestore: return RunBackupStatement(s, stmt, false);
    case parser::StatementKind::kBackupNamespace:
    case parser::StatementKind::kRestoreNamespace:
      return RunNamespaceBackupStatement(s, stmt,
                                         kind == parser::StatementKind::kBackupNamespace);
    case parser::StatementKind::kShowBackups: return RunShowBackups(s, stmt);
    case parser::StatementKind::kShowStats: return RunShowStats(s, stmt);
    case parser::StatementKind::kCreateTopic:
    case parser::StatementKind::kDropTopic:
    case parser::StatementKind::kClearTopic:
    case parser::StatementKind::kAlterTopic:
    case parser::StatementKind::kConsume:
    case parser::StatementKind::kAck:
      return RunTopicStatement(s, stmt, kind);
    case parser::StatementKind::kExportUserData:
    case parser::StatementKind::kShowExport:
      return RunExportStatement(s, stmt, kind);
    case parser::StatementKind::kExplain: return RunExplain(s, stmt);
    default:
      return Status::InvalidSql(std::string(parser::StatementKindName(kind)) +
                                " is not supported yet");
  }
}

namespace {

std::string QuoteIdent(std::string_view name) { return parser::QuoteToken(name, '"'); }

// `name`, an expression column's name (its text in the rewritten `sql`), with the typed operands
// the rewrite made inside it put back as `stmt` wrote them.
std::string RestoreOperands(const std::string& name, const std::string& sql,
                            const parser::SqlStatement& stmt,
                            const std::vector<parser::OperandRewrite>& operands) {
  const size_t pos = name.empty() ? std::string::npos : sql.find(name);
  if (pos == std::string::npos) return name;
  std::string out;
  size_t copied = pos;  // sql[pos, copied) is done
  for (const parser::OperandRewrite& op : operands) {
    if (op.output_offset < copied || op.output_end > pos + name.size()) continue;
    out.append(sql, copied, op.output_offset - copied);
    out += std::string_view(stmt.text).substr(
        stmt.tokens[op.first_token].offset,
        stmt.tokens[op.end_token - 1].offset + stmt.tokens[op.end_token - 1].length -
            stmt.tokens[op.first_token].offset);
    copied = op.output_end;
  }
  out.append(sql, copied, pos + name.size() - copied);
  return out;
}

// Replaces internal SQLite table names (kt_<id>) in a message by the tables' real names.
std::string Demangle(std::string message, const SqlConnection& conn,
                     const std::unordered_set<std::string>& names) {
  for (const auto& name : names) {
    const TableDef* def = conn.RegisteredByName(name);
    if (!def) continue;
    size_t pos;
    while ((pos = message.find(name)) != std::string::npos) {
      message.replace(pos, name.size(), def->QualifiedName());
    }
  }
  return message;
}

}  // namespace

Status Executor::RunDml(Session& s, const parser::SqlStatement& stmt,
                       const parser::ExplainStmt* explain) {
  KALAM_ASSIGN_OR_RETURN(parser::DmlAnalysis analysis, parser::AnalyzeDml(stmt));
  // Parameters: the request's values must match the placeholders exactly.
  const size_t given = s.request.params.size();
  if (static_cast<size_t>(analysis.max_param) != given && (s.request.has_params || analysis.max_param)) {
    return Status::InvalidParameter("parameter mismatch: expected " +
                                    std::to_string(analysis.max_param) + ", got " +
                                    std::to_string(given));
  }
  StatementResult result;
  std::vector<std::string> returning_keys;
  bool answered = false;
  if (!explain && analysis.kind == parser::StatementKind::kSelect) {
    KALAM_ASSIGN_OR_RETURN(auto plan, PlanVectorOrder(s, stmt, analysis));
    if (plan) {
      // The restricted statement stands when it found k rows, or when the candidates were every
      // vector of the scope; otherwise (or if it fails) the statement runs as written.
      auto split = parser::SplitStatements(plan->sql);
      if (split.ok() && split->size() == 1) {
        auto restricted = parser::AnalyzeDml((*split)[0]);
        if (restricted.ok()) {
          Status st = RunDmlOnce(s, (*split)[0], *restricted, &result, &returning_keys);
          answered = st.ok() && (result.row_count >= plan->k || plan->candidates < plan->fetched);
        }
      }
    }
  }
  for (int attempt = 0; !answered; ++attempt) {
    result = StatementResult();
    returning_keys.clear();
    Status st = RunDmlOnce(s, stmt, analysis, &result, &returning_keys, explain);
    if (!st.ok()) {
      if (!s.in_txn) s.ws.Clear();
      return Status(st.code(), Demangle(st.message(), *s.conn, s.allowed_tables));
    }
    if (analysis.kind == parser::StatementKind::kSelect) break;
    const bool returning = analysis.insert && analysis.insert->returning;
    if (returning) {
      const parser::TableRef& ref = analysis.tables[*analysis.target_table];
      s.pending_returning.push_back(Session::PendingReturning{
          s.results.size(),
          s.ctx.statement.catalog->FindTable(ref.ns.empty() ? s.ns : ref.ns, ref.name),
          *analysis.insert->returning, returning_keys});
      s.results.push_back(StatementResult());
      s.results.back().as_user = s.caller.user_id;
    }
    if (s.in_txn) break;
    Status committed = CommitSession(s);
    if (committed.ok()) break;
    if (committed.code() != StatusCode::kConflict || attempt >= options_.conflict_retries) {
      return committed;
    }
    if (returning) s.results.pop_back();
    s.ctx.statement.catalog = catalog_.snapshot();
  }
  if (analysis.kind != parser::StatementKind::kSelect) s.dml_as_user = s.caller.user_id;
  // For the slow-query log: the table written, else the first one read.
  s.stmt_rows = result.row_count;
  if (!analysis.tables.empty()) {
    const parser::TableRef& ref = analysis.tables[analysis.target_table.value_or(0)];
    const std::string ns = ref.ns.empty() ? s.ns : catalog::LowerName(ref.ns);
    if (const SystemTable* sys = IsSystemNamespace(ns) ? FindSystemTable(ns, ref.name) : nullptr) {
      s.stmt_table = sys->def;
    } else {
      s.stmt_table = s.ctx.statement.catalog->FindTable(ns, ref.name);
    }
  }
  switch (analysis.kind) {
    case parser::StatementKind::kSelect:
      result.as_user = s.caller.user_id;
      s.results.push_back(std::move(result));
      break;
    case parser::StatementKind::kInsert:
      if (!(analysis.insert && analysis.insert->returning)) {
        s.inserted += result.row_count;
        s.any_inserted = true;
      }
      break;
    case parser::StatementKind::kUpdate:
      s.updated += result.row_count;
      s.any_updated = true;
      break;
    case parser::StatementKind::kDelete:
      s.deleted += result.row_count;
      s.any_deleted = true;
      break;
    default: break;
  }
  return Status::OK();
}

namespace {

// What resolving a DML statement's tables needs of the request: the statement, where and as whom
// it runs. Every reference outlives the statement's run.
struct DmlSite {
  const parser::SqlStatement& stmt;
  const parser::DmlAnalysis& analysis;
  const catalog::CatalogSnapshot& snap;
  const std::string& ns;  // current namespace for unqualified names
  const Caller& caller;   // the effective user
  bool executing_as;      // inside EXECUTE AS USER: only USER/STREAM tables
  bool in_txn;            // inside BEGIN … COMMIT: STREAM tables are not written
  SqlConnection& conn;    // the connection the statement runs on (registers virtual tables)
  // Receives the SQLite name of every table the statement names (the authorizer allows only these).
  std::unordered_set<std::string>& allowed_tables;
};

// What the table references of one DML statement resolved to, filled while RewriteDml runs.
struct DmlTables {
  // Each rewritten reference and the text the client wrote, to restore in column names.
  std::vector<std::pair<std::string, std::string>> renames;
  // The table each reference names (its columns' types drive the typed-operand rewrite).
  std::vector<const TableDef*> defs;
  bool any_typed_column = false;
  size_t next_ref = 0;  // the index of the reference RewriteDml asks for next
};

// A write to a STREAM table: append (INSERT) and DELETE only, and never inside an explicit
// transaction (docs/streams.md).
Status CheckStreamWrite(const DmlSite& site) {
  if (site.analysis.kind == parser::StatementKind::kUpdate) {
    return Status::InvalidArgument("UPDATE is not supported for STREAM tables");
  }
  if (site.in_txn) {
    return Status::InvalidArgument(
        "stream tables are not supported inside explicit transactions");
  }
  return Status::OK();
}

// Step 1, resolve tables: points `options` at `tables` and `site` so that RewriteDml replaces each
// table reference, in order, by its SQLite table — a system table (role and read-only checks),
// or a catalog table (must exist; EXECUTE AS reaches USER and STREAM tables only; the caller's
// access level) — registered on the connection, and learns the type of each column it compares.
// `tables` and `site` must outlive the rewrite.
void ResolveTables(const DmlSite& site, DmlTables& tables, parser::RewriteOptions& options) {
  tables.defs.assign(site.analysis.tables.size(), nullptr);
  auto note_def = [&tables](size_t index, const TableDef* def) {
    tables.defs[index] = def;
    for (const auto& col : def->columns) {
      tables.any_typed_column |= parser::IsTypedComparisonType(col.type);
    }
  };
  // The text that replaces `ref`, now known as SQLite table `name`, which the statement may read.
  auto use_name = [&site, &tables](const parser::TableRef& ref, const std::string& name,
                                   bool write) {
    site.allowed_tables.insert(name);
    std::string written;
    for (size_t t = ref.first_token; t < ref.end_token; ++t) written += site.stmt.Raw(t);
    std::string replacement = name;
    // INSERT targets take no alias before their column list; others keep the written name
    // usable as a qualifier.
    if (!ref.has_alias && ref.alias_allowed &&
        !(write && site.analysis.kind == parser::StatementKind::kInsert)) {
      replacement += " AS " + QuoteIdent(catalog::LowerName(ref.name));
    }
    tables.renames.emplace_back(replacement, written);
    return replacement;
  };
  options.replace_table = [&site, &tables, note_def,
                           use_name](const parser::TableRef& ref) -> Result<std::string> {
    const size_t index = tables.next_ref++;
    const std::string ns = ref.ns.empty() ? site.ns : catalog::LowerName(ref.ns);
    const bool write = site.analysis.target_table && *site.analysis.target_table == index;
    if (IsSystemNamespace(ns)) {
      KALAM_ASSIGN_OR_RETURN(const SystemTable* sys,
                             ResolveSystemTable(ns, ref.name, site.caller.role, write));
      KALAM_ASSIGN_OR_RETURN(std::string name, site.conn.EnsureSystemRegistered(*sys));
      note_def(index, sys->def.get());
      return use_name(ref, name, write);
    }
    auto def = site.snap.FindTable(ns, ref.name);
    if (!def) {
      if (!site.snap.FindNamespace(ns)) {
        return Status::TableNotFound("Table '" + ns + "." + catalog::LowerName(ref.name) +
                                     "' does not exist: namespace '" + ns + "' does not exist");
      }
      return Status::TableNotFound("Table '" + ns + "." + catalog::LowerName(ref.name) +
                                   "' does not exist");
    }
    if (site.executing_as && def->type != catalog::TableType::kUser &&
        def->type != catalog::TableType::kStream) {
      return Status::InvalidArgument("EXECUTE AS USER works on USER and STREAM tables only; '" +
                                     def->QualifiedName() + "' is a " +
                                     std::string(catalog::TableTypeName(def->type)) + " table");
    }
    KALAM_RETURN_IF_ERROR(CheckTableAccess(site.caller, *def, write));
    if (write && def->type == catalog::TableType::kStream) {
      KALAM_RETURN_IF_ERROR(CheckStreamWrite(site));
    }
    KALAM_ASSIGN_OR_RETURN(std::string name, site.conn.EnsureRegistered(def));
    note_def(index, def.get());
    return use_name(ref, name, write);
  };
  options.column_type = [&tables](size_t table,
                                  std::string_view column) -> std::optional<parser::ColumnType> {
    const TableDef* def = tables.defs[table];
    const int c = def ? def->FindColumn(column) : -1;
    if (c < 0) return std::nullopt;
    return parser::ColumnType{def->columns[c].type, def->columns[c].name};
  };
  options.any_typed_column = [&tables] { return tables.any_typed_column; };
}

// Step 2, check written columns: an INSERT's column list names existing, non-system columns (and
// `insert_explicit` says which columns it writes; without a column list, options.insert_columns
// lists them all), its RETURNING names existing columns, and an UPDATE writes no system column.
// Fails with kInvalidArgument naming the column.
Status CheckWrittenColumns(const DmlSite& site, std::vector<bool>& insert_explicit,
                           parser::RewriteOptions& options) {
  const parser::DmlAnalysis& analysis = site.analysis;
  if (analysis.kind == parser::StatementKind::kInsert && analysis.target_table) {
    const parser::TableRef& ref = analysis.tables[*analysis.target_table];
    auto insert_def = site.snap.FindTable(ref.ns.empty() ? site.ns : ref.ns, ref.name);
    if (insert_def) {
      const auto& ins = *analysis.insert;
      if (ins.source == parser::InsertSource::kDefaultValues) {
        insert_explicit.assign(insert_def->columns.size(), false);
      } else if (ins.has_column_list) {
        insert_explicit.assign(insert_def->columns.size(), false);
        for (const auto& name : ins.columns) {
          if (catalog::LowerName(name) == "_seq" || catalog::LowerName(name) == "_deleted") {
            return Status::InvalidArgument("Column '" + catalog::LowerName(name) +
                                           "' is a system column and cannot be written");
          }
          int c = insert_def->FindColumn(name);
          if (c < 0) {
            return Status::InvalidArgument("Column '" + name + "' does not exist in table '" +
                                           insert_def->QualifiedName() + "'");
          }
          insert_explicit[c] = true;
        }
      } else {
        for (const auto& c : insert_def->columns) options.insert_columns.push_back(c.name);
      }
      if (ins.returning && ins.returning->kind == parser::ReturningKind::kColumns) {
        for (const auto& name : ins.returning->columns) {
          std::string lower = catalog::LowerName(name);
          if (lower != "_seq" && lower != "_deleted" && insert_def->FindColumn(name) < 0) {
            return Status::InvalidArgument("Column '" + name + "' does not exist in table '" +
                                           insert_def->QualifiedName() + "'");
          }
        }
      }
    }
  }
  if (analysis.update) {
    for (const auto& name : analysis.update->columns) {
      const std::string lower = catalog::LowerName(name);
      if (lower == "_seq" || lower == "_deleted") {
        return Status::InvalidArgument("Column '" + lower +
                                       "' is a system column and cannot be written");
      }
    }
  }
  return Status::OK();
}

// Step 3, bind parameters: ?1…?count get params[0…count-1]. The values are not copied, so
// `params` must outlive the statement's run.
void BindParameters(sqlite3_stmt* prepared, const std::vector<Value>& params, int count) {
  for (int i = 1; i <= count; ++i) {
    const Value& v = params[i - 1];
    switch (v.kind()) {
      case Value::Kind::kNull: sqlite3_bind_null(prepared, i); break;
      case Value::Kind::kInt: sqlite3_bind_int64(prepared, i, v.as_int()); break;
      case Value::Kind::kDouble: sqlite3_bind_double(prepared, i, v.as_double()); break;
      case Value::Kind::kText:
        sqlite3_bind_text(prepared, i, v.as_text().data(), static_cast<int>(v.as_text().size()),
                          SQLITE_STATIC);
        break;
      case Value::Kind::kBlob:
        sqlite3_bind_blob(prepared, i, v.as_bytes().data(), static_cast<int>(v.as_bytes().size()),
                          SQLITE_STATIC);
        break;
    }
  }
}

// Step 4, restore column names: SQLite names an unaliased expression column after its text in
// the rewritten `sql`; put back what the client wrote (typed operands, ns.table, $N). Then keep
// key flags only when rows come from one table: a join or a compound SELECT can repeat a key or
// null a NOT NULL column.
void RestoreColumnNames(const DmlSite& site, const std::string& sql,
                        const std::vector<parser::OperandRewrite>& operands, DmlTables& tables,
                        StatementResult& result) {
  if (!operands.empty()) {
    for (auto& col : result.schema) col.name = RestoreOperands(col.name, sql, site.stmt, operands);
  }
  auto& renames = tables.renames;
  // Longest first, so kt_38 never rewrites part of kt_380.
  std::sort(renames.begin(), renames.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (auto& col : result.schema) {
    for (const auto& [from, to] : renames) {
      for (size_t pos; (pos = col.name.find(from)) != std::string::npos;) {
        col.name.replace(pos, from.size(), to);
      }
    }
    for (size_t pos = 0; (pos = col.name.find('?', pos)) != std::string::npos; ++pos) {
      if (pos + 1 < col.name.size() && std::isdigit(static_cast<unsigned char>(col.name[pos + 1]))) {
        col.name[pos] = '$';
      }
    }
  }
  bool compound = false;
  for (const auto& t : site.stmt.tokens) {
    if (t.IsWord("UNION") || t.IsWord("INTERSECT") || t.IsWord("EXCEPT")) compound = true;
  }
  if (site.analysis.tables.size() != 1 || compound) {
    for (auto& col : result.schema) col.flags.clear();
  }
}

// EXPLAIN: `sql` with each virtual table's SQLite name replaced by its table's name.
std::string ShownSql(std::string sql, const SqlConnection& conn,
                     const std::unordered_set<std::string>& names) {
  std::vector<std::string> sorted(names.begin(), names.end());
  // Longest first, so kt_38 never rewrites part of kt_380.
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& name : sorted) {
    const TableDef* def = conn.RegisteredByName(name);
    if (!def) continue;
    for (size_t pos; (pos = sql.find(name)) != std::string::npos;) {
      sql.replace(pos, name.size(), def->QualifiedName());
    }
  }
  return sql;
}

// EXPLAIN: the table each name SQLite's plan may show for a reference (its alias, or its SQLite
// name where no alias is allowed) denotes.
std::map<std::string, PlannedTable> PlanNames(const DmlSite& site, const DmlTables& tables) {
  std::map<std::string, PlannedTable> names;
  for (size_t i = 0; i < site.analysis.tables.size() && i < tables.defs.size(); ++i) {
    const parser::TableRef& ref = site.analysis.tables[i];
    const TableDef* def = tables.defs[i];
    if (!def) continue;
    const std::string ns = ref.ns.empty() ? site.ns : catalog::LowerName(ref.ns);
    PlannedTable t;
    t.def = IsSystemNamespace(ns) ? nullptr : def;
    t.qualified_name = def->QualifiedName();
    if (def->type != catalog::TableType::kShared) t.scope = site.caller.user_id;
    const std::string shown = ref.has_alias ? ref.alias : catalog::LowerName(ref.name);
    names.emplace(shown, t);
  }
  for (const auto& name : site.allowed_tables) {
    const TableDef* def = site.conn.RegisteredByName(name);
    if (!def) continue;
    for (const auto& [shown, t] : names) {
      if (t.qualified_name != def->QualifiedName()) continue;
      names.emplace(name, t);  // `x IN ns.t`: SQLite shows the table's own name
      break;
    }
  }
  return names;
}

}  // namespace

Status Executor::RunDmlOnce(Session& s, const parser::SqlStatement& stmt,
                            const parser::DmlAnalysis& analysis,
                            StatementResult* result, std::vector<std::string>* returning_keys,
                            const parser::ExplainStmt* explain) {
  s.allowed_tables.clear();
  s.ctx.statement.system_rows.clear();  // system tables are computed afresh for each statement
  const DmlSite site{stmt,           analysis, *s.ctx.statement.catalog, s.ns, s.caller,
                     s.executing_as, s.in_txn, *s.conn, s.allowed_tables};
  DmlTables tables;
  parser::RewriteOptions options;
  ResolveTables(site, tables, options);
  std::vector<parser::OperandRewrite> operands;
  options.rewritten_operands = &operands;
  // INSERT: which columns the statement writes (the others take their DEFAULT).
  s.ctx.statement.insert_explicit.clear();
  KALAM_RETURN_IF_ERROR(CheckWrittenColumns(site, s.ctx.statement.insert_explicit, options));
  KALAM_ASSIGN_OR_RETURN(std::string sql, parser::RewriteDml(stmt, analysis, options));
  KALAM_ASSIGN_OR_RETURN(sqlite3_stmt * prepared, s.conn->Prepare(sql));
  BindParameters(prepared, s.request.params, analysis.max_param);
  RowLimits limits;
  limits.max_rows = analysis.has_top_level_limit
                        ? options_.max_query_limit
                        : std::min(options_.default_query_limit, options_.max_query_limit);
  // A GROUP BY + COUNT/SUM/AVG/MIN/MAX the aggregate path proves it answers as SQLite does
  // (fast_aggregate.h): prepared above all the same (errors, access), then computed without
  // stepping SQLite's VM.
  std::optional<AggregatePlan> aggregate;
  if (analysis.kind == parser::StatementKind::kSelect && AggregatePathEnabled() &&
      tables.defs.size() == 1 && tables.defs[0] && !analysis.tables.empty() &&
      !IsSystemNamespace(analysis.tables[0].ns.empty() ? s.ns
                                                       : catalog::LowerName(analysis.tables[0].ns))) {
    aggregate = PlanAggregate(stmt, analysis, *tables.defs[0]);
  }
  if (explain) {
    const std::string limit_note =
        analysis.has_top_level_limit
            ? "the statement's LIMIT, at most " + std::to_string(limits.max_rows) + " rows"
            : std::to_string(limits.max_rows) + " rows (the default LIMIT: the statement has none)";
    return ExplainSelect(s, *explain, sql, ShownSql(sql, *s.conn, s.allowed_tables),
                         PlanNames(site, tables), prepared, limits, limit_note,
                         aggregate ? DescribeAggregate(*aggregate, *tables.defs[0]) : "",
                         result);
  }
  s.ctx.statement.inserted_keys = returning_keys;
  std::unordered_map<std::string, int64_t> scanned_seqs;
  if (analysis.kind == parser::StatementKind::kUpdate ||
      analysis.kind == parser::StatementKind::kDelete) {
    s.ctx.statement.scanned_seqs = &scanned_seqs;
  }
  Status st;
  bool ran = false;
  if (aggregate) {
    auto rows = RunAggregate(*aggregate, *tables.defs[0], s.ctx);
    if (!rows.ok()) {
      st = rows.status();
      ran = true;
    } else if (*rows) {
      st = EncodeRows(*s.conn, prepared, **rows, limits, result);
      ran = true;
    }  // else the path gave up: SQLite runs the statement
  }
  if (!ran) st = sql::RunStatement(*s.conn, prepared, limits, result);
  s.ctx.statement.scanned_seqs = nullptr;
  s.ctx.statement.inserted_keys = nullptr;
  s.ctx.statement.insert_explicit.clear();
  if (st.ok() && !result->schema.empty()) {
    RestoreColumnNames(site, sql, operands, tables, *result);
  }
  if (!st.ok() && st.code() == StatusCode::kTypeMismatch && analysis.max_param > 0) {
    // A value from `params` that does not fit its column is a parameter error.
    return Status::InvalidParameter(st.message());
  }
  return st;
}

Status Executor::RunExecuteAs(Session& s, const parser::SqlStatement& stmt) {
  KALAM_ASSIGN_OR_RETURN(parser::ExecuteAsStmt ast, parser::ParseExecuteAs(stmt));
  if (s.executing_as) return Status::InvalidSql("EXECUTE AS USER cannot be nested");
  const std::string denied = "Permission denied: role '" +
                             std::string(auth::RoleName(s.caller.role)) +
                             "' cannot execute as user '" + ast.user + "'";
  if (s.caller.role == auth::Role::kUser && ast.user != s.caller.user_id) {
    return Status::PermissionDenied(denied);
  }
  auto target = catalog_.GetUser(ast.user);
  if (!target || target->deleted()) {
    return Status::NotFound("User '" + ast.user + "' does not exist");
  }
  if (!MayExecuteAs(s.caller.role, s.caller.user_id, target->role, target->user_id)) {
    return Status::PermissionDenied(denied + " (role '" +
                                    std::string(auth::RoleName(target->role)) + "')");
  }
  KALAM_ASSIGN_OR_RETURN(parser::StatementKind kind, parser::ClassifyStatement(ast.inner.tokens));
  // An export (EXPORT USER DATA, SHOW EXPORT) as the target exports or lists its data.
  const bool export_kind = kind == parser::StatementKind::kExportUserData ||
                           kind == parser::StatementKind::kShowExport;
  // EXPLAIN [ANALYZE] as the target explains the SELECT in its scope.
  const bool explain_kind = kind == parser::StatementKind::kExplain;
  if (!parser::IsDmlKind(kind) && !export_kind && !explain_kind) {
    return Status::InvalidSql(
        "EXECUTE AS USER runs one SELECT, INSERT, UPDATE or DELETE statement, not " +
        std::string(parser::StatementKindName(kind)));
  }
  const Caller saved = s.caller;
  s.caller = Caller{target->user_id, target->role};
  s.ctx.caller = s.caller;
  s.executing_as = true;
  Status st = export_kind    ? RunExportStatement(s, ast.inner, kind)
              : explain_kind ? RunExplain(s, ast.inner)
                             : RunDml(s, ast.inner);
  s.executing_as = false;
  s.caller = saved;
  s.ctx.caller = saved;
  return st;
}

// SUBSCRIBE TO [ns.]t [WHERE …] [OPTIONS (last_rows=N, batch_size=N, from=SEQ)]: checks the table
// and the caller's right to read it, and answers with the subscription to send over /v1/ws.
Status Executor::RunSubscribeTo(Session& s, const parser::SqlStatement& stmt) {
  const auto& t = stmt.tokens;
  if (t.size() < 3 || !t[1].IsWord("TO") || !t[2].IsName()) {
    return Status::InvalidSql("Expected SUBSCRIBE TO [namespace.]table [WHERE …] [OPTIONS (…)]");
  }
  size_t i = 2;
  std::string ns = s.ns, name = t[2].value;
  if (i + 2 < t.size() && t[i + 1].IsPunct('.') && t[i + 2].IsName()) {
    ns = catalog::LowerName(t[i].value);
    name = t[i + 2].value;
    i += 3;
  } else {
    i += 1;
  }
  auto def = s.ctx.statement.catalog->FindTable(ns, name);
  if (!def) {
    return Status::TableNotFound("Table '" + ns + "." + catalog::LowerName(name) +
                                 "' does not exist");
  }
  KALAM_RETURN_IF_ERROR(CheckTableAccess(s.caller, *def, false));
  // WHERE runs until a top-level OPTIONS.
  size_t options_at = t.size();
  int depth = 0;
  for (size_t k = i; k < t.size(); ++k) {
    if (t[k].IsPunct('(')) ++depth;
    if (t[k].IsPunct(')')) --depth;
    if (depth == 0 && t[k].IsWord("OPTIONS")) {
      options_at = k;
      break;
    }
  }
  std::string where;
  if (i < options_at) {
    if (!t[i].IsWord("WHERE") || i + 1 >= options_at) {
      return Status::InvalidSql("Expected WHERE <condition> or OPTIONS (…) after the table");
    }
    where = stmt.text.substr(t[i + 1].offset,
                             t[options_at - 1].offset + t[options_at - 1].length -
                                 t[i + 1].offset);
  }
  boost::json::object options;
  if (options_at < t.size()) {
    size_t k = options_at + 1;
    if (k >= t.size() || !t[k].IsPunct('(')) return Status::InvalidSql("Expected OPTIONS (…)");
    for (++k; k < t.size() && !t[k].IsPunct(')');) {
      if (k + 2 >= t.size() || !t[k].IsName() || !t[k + 1].IsOperator("=") ||
          t[k + 2].kind != parser::TokenKind::kInteger) {
        return Status::InvalidSql("OPTIONS take name = integer pairs");
      }
      std::string key = catalog::LowerName(t[k].value);
      if (key != "last_rows" && key != "batch_size" && key != "from") {
        return Status::InvalidSql("Unknown subscription option '" + t[k].value +
                                  "' (last_rows, batch_size, from)");
      }
      options[key] = std::strtoll(t[k + 2].value.c_str(), nullptr, 10);
      k += 3;
      if (k < t.size() && t[k].IsPunct(',')) ++k;
    }
  }
  std::string sql = "SELECT * FROM " + def->QualifiedName();
  if (!where.empty()) sql += " WHERE " + where;
  boost::json::object sub{{"id", "sub-" + def->table_name}, {"sql", sql}};
  if (options_at < t.size()) sub["options"] = options;
  ResultBuilder b;
  b.AddColumn("ws_url", DataType{TypeKind::kText});
  b.AddColumn("subscription", DataType{TypeKind::kJson});
  KALAM_RETURN_IF_ERROR(b.AddRow({Value::Text("/v1/ws"),
                        Value::Text(boost::json::serialize(sub))}));
  StatementResult r = std::move(b).Finish();
  r.message = "Open a WebSocket to /v1/ws and send {\"type\":\"subscribe\",\"subscription\":…}";
  s.results.push_back(std::move(r));
  return Status::OK();
}

Status Executor::RunKillLiveQuery(Session& s, const parser::SqlStatement& stmt) {
  // KILL LIVE QUERY '<live_id>'
  const auto& t = stmt.tokens;
  if (t.size() != 4 || !t[1].IsWord("LIVE") || !t[2].IsWord("QUERY") ||
      t[3].kind != parser::TokenKind::kString) {
    return Status::InvalidSql("Expected KILL LIVE QUERY '<live_id>'");
  }
  KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "KILL LIVE QUERY"));
  if (!live_) return Status::NotFound("Live query '" + t[3].value + "' does not exist");
  KALAM_RETURN_IF_ERROR(live_->Kill(t[3].value));
  StatementResult r;
  r.message = "Live query killed: " + t[3].value;
  s.results.push_back(std::move(r));
  return Status::OK();
}

Status Executor::CommitSession(Session& s) {
  if (s.ws.empty()) {
    s.pending_returning.clear();
    return Status::OK();
  }
  auto seqs = shards_.Commit(s.ws);
  if (!seqs.ok()) {
    s.ws.Clear();
    s.pending_returning.clear();
    return seqs.status();
  }
  // Fill INSERT … RETURNING results now that `_seq` is known.
  if (!s.pending_returning.empty()) {
    std::unordered_map<std::string, int64_t> seq_of;
    auto rows = s.ws.InOrder();
    for (size_t i = 0; i < rows.size(); ++i) seq_of[rows[i]->pk_key] = (*seqs)[i];
    for (auto& p : s.pending_returning) {
      const TableDef& def = *p.table;
      ResultBuilder b;
      std::vector<int> cols;  // column index, -1 = _seq, -2 = _deleted
      auto add_col = [&](const std::string& name) {
        std::string lower = catalog::LowerName(name);
        if (lower == "_seq") {
          b.AddColumn("_seq", DataType{TypeKind::kBigInt});
          cols.push_back(-1);
        } else if (lower == "_deleted") {
          b.AddColumn("_deleted", DataType{TypeKind::kBoolean});
          cols.push_back(-2);
        } else {
          int c = def.FindColumn(name);
          const auto& col = def.columns[c];
          b.AddColumn(col.name, col.type, ColumnFlags(def, col));
          cols.push_back(c);
        }
      };
      switch (p.clause.kind) {
        case parser::ReturningKind::kStar:
          for (const auto& c : def.columns) add_col(c.name);
          add_col("_seq");
          add_col("_deleted");
          break;
        case parser::ReturningKind::kSeq: add_col("_seq"); break;
        case parser::ReturningKind::kColumns:
          for (const auto& name : p.clause.columns) add_col(name);
          break;
      }
      for (const auto& key : p.keys) {
        table::StagedRow* row = s.ws.Find(key);
        if (!row || !row->live) continue;
        std::vector<Value> out;
        for (int c : cols) {
          if (c == -1) out.push_back(Value::Int(seq_of[key]));
          else if (c == -2) out.push_back(Value::Int(0));
          else out.push_back(row->values[c]);
        }
        KALAM_RETURN_IF_ERROR(b.AddRow(out));
      }
      std::string as_user = s.results[p.result_index].as_user;
      s.results[p.result_index] = std::move(b).Finish();
      s.results[p.result_index].as_user = std::move(as_user);
    }
    s.pending_returning.clear();
  }
  s.ws.Clear();
  return Status::OK();
}

}  // namespace kalam::sql
