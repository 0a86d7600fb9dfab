// Executor: runs one SQL request (PROTOCOL.md §3) — splits and classifies its statements, checks
// permissions, runs KalamDB statements against the catalog and DML through SQLite, manages the
// request's transaction and commits through the commit pipeline.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/roles.h"
#include "catalog/catalog.h"
#include "catalog/storage_catalog.h"
#include "commit/commit_pipeline.h"
#include "commit/commit_shards.h"
#include "common/clock.h"
#include "common/snowflake.h"
#include "sql/access.h"
#include "sql/cluster_status.h"
#include "sql/executor_options.h"
#include "sql/export_service.h"
#include "sql/job_service.h"
#include "sql/live_registry.h"
#include "sql/plan_recorder.h"
#include "sql/parser/analyzer.h"
#include "sql/parser/ast.h"
#include "sql/parser/classifier.h"
#include "sql/sqlite/connection.h"
#include "sql/slow_query_log.h"
#include "sql/sqlite/statement_runner.h"
#include "sql/statement_result.h"
#include "table/stream_store.h"
#include "sql/topic_service.h"
#include "table/table_store.h"

namespace kalam::vector {
class VectorIndexes;
}
namespace kalam::audit {
class AuditLog;
}

namespace kalam::sql {

struct SqlRequest {
  std::string sql;
  std::vector<Value> params;  // values of $1…$n
  bool has_params = false;    // `params` was given (even empty)
  std::string namespace_id;   // empty = "default"
  std::string client_ip;      // the caller's address, for the audit log; empty = unknown
  // Read-only requests may read as of this snapshot (live-query snapshots). Null = latest.
  std::shared_ptr<const storage::KvSnapshot> read_snapshot;
  int64_t read_seq = 0;  // the `_seq` of read_snapshot (cold versions above it are not seen)
};

// Where the files of a multipart upload go: the statement's target table and the scope (user id
// for a USER table — the caller's, or the EXECUTE AS target's — empty for SHARED).
struct FileTarget {
  std::shared_ptr<const catalog::TableDef> table;
  std::string scope;
};

// Thread-safe: requests run concurrently, each on its own pooled SQLite connection.
class Executor {
 public:
  // `shards`: the pipeline each table's rows commit through (a single node passes its one
  // CommitPipeline).
  Executor(catalog::Catalog& catalog, table::TableStore& store, commit::CommitShards shards,
           SqlConnectionPool& pool, SnowflakeGenerator& ids, const Clock& clock,
           ExecutorOptions options);

  // Runs the statements of `request` as `caller`, waiting for a free pooled connection.
  SqlResponse Execute(const SqlRequest& request, const Caller& caller);

  // Execute, but only if a pooled connection is free now, and within `budget`: nullopt when no
  // connection is free (nothing run) or when the statement was cancelled for running past the
  // budget (SQLite's progress handler, as for the request time limit). For callers that must not
  // block (HTTP I/O threads, api/inline_reads.h), which then run the request with Execute
  // elsewhere — so `request` must be one read-only statement (a SELECT), safe to run again.
  std::optional<SqlResponse> TryExecute(const SqlRequest& request, const Caller& caller,
                                        std::chrono::microseconds budget);

  const ExecutorOptions& options() const { return options_; }

  // The target of a multipart FILE upload (executor_files.cc; docs/files.md), checked in this
  // order: exactly one statement (kInvalidArgument); an INSERT, UPDATE or DELETE — also inside
  // EXECUTE AS USER — with a target table (kInvalidArgument); the table exists
  // (kTableNotFound `Table 'ns:t' not found`); not STREAM or SYSTEM (kInvalidArgument); EXECUTE
  // AS only on USER tables; the caller may write it (CheckTableAccess).
  Result<FileTarget> ResolveFileTarget(const SqlRequest& request, const Caller& caller);

  // Connects the live-query service (set once at startup, before requests).
  void set_live_registry(LiveRegistry* live) { live_ = live; }
  // Connects storages (system.storages, CREATE/ALTER/DROP STORAGE) and the job system (flush,
  // compaction, system.jobs, KILL JOB). Set once at startup, before requests.
  void set_storages(catalog::StorageCatalog* storages) { storages_ = storages; }
  void set_job_service(JobService* jobs) { jobs_ = jobs; }
  // Connects the topic service (topic statements, system.topics, DROP TABLE checks). Set once at
  // startup, before requests.
  void set_topic_service(TopicService* topics) { topics_ = topics; }
  // Connects the user data export (EXPORT USER DATA, SHOW EXPORT). Set once at startup, before
  // requests.
  void set_export_service(ExportService* exports) { exports_ = exports; }
  // Connects the audit log (security-relevant statements are recorded with their outcome;
  // system.audit_log) and the slow-query log. Set once at startup, before requests.
  void set_audit_log(audit::AuditLog* audit) { audit_ = audit; }
  // The vector indexes vector_search reads (not owned; null = vector_search fails).
  void set_vectors(vector::VectorIndexes* vectors) { vectors_ = vectors; }
  // A cluster member's group views for system.cluster / system.cluster_groups; must outlive the
  // executor.
  void set_cluster_status(const ClusterStatus* cluster) { cluster_ = cluster; }
  void set_slow_query_log(SlowQueryLog* slow) { slow_ = slow; }

 private:
  struct Session;
  Status RunStatement(Session& s, const parser::SqlStatement& stmt, parser::StatementKind kind);
  // Runs a SELECT/INSERT/UPDATE/DELETE; with `explain`, explains the SELECT instead
  // (executor_explain.cc).
  Status RunDml(Session& s, const parser::SqlStatement& stmt,
                const parser::ExplainStmt* explain = nullptr);
  // EXPLAIN [ANALYZE] <SELECT> (executor_explain.cc, docs/explain.md).
  Status RunExplain(Session& s, const parser::SqlStatement& stmt);
  // The EXPLAIN result of `prepared`, the rewritten `sql` of a SELECT: SQLite's plan of it, the
  // virtual tables' plans and, with explain.analyze, what running it did (rows discarded).
  // `names` maps the names SQLite's plan shows to the statement's tables.
  Status ExplainSelect(Session& s, const parser::ExplainStmt& explain, const std::string& sql,
                       const std::string& shown_sql,
                       const std::map<std::string, PlannedTable>& names, sqlite3_stmt* prepared,
                       const RowLimits& limits, const std::string& limit_note,
                       const std::string& aggregate_path, StatementResult* result);
  Status RunExecuteAs(Session& s, const parser::SqlStatement& stmt);
  // Execute's body, on the leased connection `lease`.
  // A non-zero `budget_end` cancels the statements at that moment if the request's own time
  // limit has not done so earlier.
  SqlResponse ExecuteWith(const SqlRequest& request, const Caller& caller,
                          SqlConnectionPool::Lease& lease,
                          std::chrono::steady_clock::time_point budget_end = {});
  Status RunKillLiveQuery(Session& s, const parser::SqlStatement& stmt);
  Status RunSubscribeTo(Session& s, const parser::SqlStatement& stmt);
  Status RunDmlOnce(Session& s, const parser::SqlStatement& stmt,
                    const parser::DmlAnalysis& analysis,
                    StatementResult* result, std::vector<std::string>* returning_keys,
                    const parser::ExplainStmt* explain = nullptr);
  Status CommitSession(Session& s);
  // executor_vector.cc: a SELECT … ORDER BY <distance>(col, q) LIMIT k on an indexed column,
  // restricted to the index's nearest candidates.
  struct VectorOrderPlan {
    std::string sql;          // the statement with `pk IN (candidates)` added to its filter
    uint64_t k = 0;           // its LIMIT
    uint64_t fetched = 0;     // candidates asked of the index
    uint64_t candidates = 0;  // candidates the index returned (< fetched: it holds no more)
  };
  // nullopt when the statement is not of that form or the index fails (it then runs as written,
  // an exact scan). Never fails today; Result leaves room for errors the caller must see.
  Result<std::optional<VectorOrderPlan>> PlanVectorOrder(Session& s,
                                                         const parser::SqlStatement& stmt,
                                                         const parser::DmlAnalysis& analysis);

  // KalamDB statements.
  Status RunNamespaceStatement(Session& s, const parser::SqlStatement& stmt,
                               parser::StatementKind kind);
  Status RunCreateTable(Session& s, const parser::SqlStatement& stmt);
  Status RunAlterTable(Session& s, const parser::SqlStatement& stmt);  // executor_alter.cc
  Status RunDropTable(Session& s, const parser::SqlStatement& stmt);
  Status RunShowTables(Session& s, const parser::SqlStatement& stmt);
  Status RunDescribe(Session& s, const parser::SqlStatement& stmt);
  Status RunUserStatement(Session& s, const parser::SqlStatement& stmt, parser::StatementKind kind);
  // executor_storage.cc: storages, flush, compaction, jobs, SHOW STATS.
  Status RunStorageStatement(Session& s, const parser::SqlStatement& stmt,
                             parser::StatementKind kind);
  Status RunFlush(Session& s, const parser::SqlStatement& stmt);
  // BACKUP DATABASE TO '<dir>' (backup = true) and RESTORE DATABASE FROM '<dir>'.
  Status RunBackupStatement(Session& s, const parser::SqlStatement& stmt, bool backup);
  // BACKUP NAMESPACE / RESTORE NAMESPACE (docs/backup.md).
  Status RunNamespaceBackupStatement(Session& s, const parser::SqlStatement& stmt, bool backup);
  // SHOW BACKUPS FROM '<dir>'.
  Status RunShowBackups(Session& s, const parser::SqlStatement& stmt);
  Status RunShowStats(Session& s, const parser::SqlStatement& stmt);
  // executor_topics.cc: CREATE/DROP/CLEAR/ALTER TOPIC, CONSUME, ACK.
  Status RunTopicStatement(Session& s, const parser::SqlStatement& stmt,
                           parser::StatementKind kind);
  // The classifier-level role check of topic statements (docs/topics.md): kPermissionDenied
  // when `caller` may not run a statement of `kind`; OK for every other kind. Its error is
  // reported without the "Statement N failed: " prefix of a batch.
  static Status CheckTopicRole(parser::StatementKind kind, const Caller& caller);
  // kFailedPrecondition naming the topic and the ALTER TOPIC … DROP SOURCE to run when `table`
  // feeds a topic.
  Status CheckNotTopicSource(const catalog::TableDef& table) const;
  // executor_export.cc: EXPORT USER DATA and SHOW EXPORT, for the session's user.
  Status RunExportStatement(Session& s, const parser::SqlStatement& stmt,
                            parser::StatementKind kind);
  // executor_audit.cc: records statement `stmt` of `kind`, run by `actor` with result `st`, in
  // the audit log when it is a security-relevant kind (docs/audit.md); and in the slow-query
  // log when it took at least the threshold.
  // `results_before`: the size of s.results before the statement ran.
  void AuditStatement(const Session& s, const Caller& actor, const parser::SqlStatement& stmt,
                      parser::StatementKind kind, const Status& st, size_t results_before);
  void LogIfSlow(const Session& s, const parser::SqlStatement& stmt,
                 std::chrono::microseconds took);
  // Forgets dropped tables' cold manifests and vector indexes and deletes their files (best
  // effort: the drop is committed; what is left behind is named by nothing).
  void ForgetDroppedTables(const std::vector<catalog::TableId>& tables);

  catalog::Catalog& catalog_;
  table::TableStore& store_;
  const table::StreamStore streams_;  // STREAM tables' rows, over store_'s KvStore
  const commit::CommitShards shards_;
  SqlConnectionPool& pool_;
  SnowflakeGenerator& ids_;
  const Clock& clock_;
  const ExecutorOptions options_;
  LiveRegistry* live_ = nullptr;
  catalog::StorageCatalog* storages_ = nullptr;
  JobService* jobs_ = nullptr;
  TopicService* topics_ = nullptr;
  ExportService* exports_ = nullptr;
  audit::AuditLog* audit_ = nullptr;
  vector::VectorIndexes* vectors_ = nullptr;
  const ClusterStatus* cluster_ = nullptr;
  SlowQueryLog* slow_ = nullptr;
  const int64_t started_at_us_;  // when the server started (system.storages, system.stats)
};

}  // namespace kalam::sql
