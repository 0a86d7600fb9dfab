// ExecContext: what a statement runs as (caller), the services it may use, and the state of the
// running statement. SQLite callbacks (virtual tables, functions) read it from the connection
// that runs the statement.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/storage_catalog.h"
#include "common/clock.h"
#include "common/snowflake.h"
#include "common/status.h"
#include "common/value.h"
#include "sql/access.h"
#include "sql/executor_options.h"
#include "sql/job_service.h"
#include "sql/live_registry.h"
#include "sql/plan_recorder.h"
#include "table/stream_store.h"
#include "sql/topic_service.h"
#include "table/table_store.h"
#include "table/write_set.h"

namespace kalam::commit {
class CommitShards;
}
namespace kalam::audit {
class AuditLog;
}
namespace kalam::vector {
class VectorIndexes;
}

namespace kalam::sql {
class ClusterStatus;

// The rows of one system table as materialised for the running statement.
using MaterializedRows = std::vector<std::vector<Value>>;

// The services a statement may use. None is owned here: each is owned by the server (or the test
// that built the executor) and outlives every request. Null where the service is not running.
struct ExecServices {
  const table::TableStore* store = nullptr;  // owner: server; hot + cold rows of every table
  const table::StreamStore* streams = nullptr;  // owner: the Executor; STREAM tables' rows
  // Owner: server. The live-query service (system.live, KILL LIVE QUERY, DROP TABLE checks).
  LiveRegistry* live = nullptr;
  // Owner: server. Storages and jobs (system.storages, system.jobs).
  const catalog::StorageCatalog* storages = nullptr;
  JobService* jobs = nullptr;
  // Owner: server. Topics (system.topics, system.topic_offsets).
  TopicService* topics = nullptr;
  const Clock* clock = nullptr;        // owner: server
  SnowflakeGenerator* ids = nullptr;   // owner: server; for SNOWFLAKE_ID() defaults
  // Read by the system tables (sql/sqlite/system_tables.h); null where no statement reads them.
  const catalog::Catalog* catalog_service = nullptr;  // owner: server; users, schema history
  const commit::CommitShards* shards = nullptr;       // owner: the Executor; commit stats
  const ExecutorOptions* options = nullptr;  // owner: the Executor; system.settings, .storages
  const audit::AuditLog* audit = nullptr;    // owner: server; system.audit_log
  vector::VectorIndexes* vectors = nullptr;  // owner: server; vector_search (docs/vectors.md)
  // Owner: server. A cluster member's groups (system.cluster, system.cluster_groups); null on a
  // single node.
  const ClusterStatus* cluster = nullptr;
  int64_t server_started_at_us = 0;
};

// The state of the running statement (and of its request, for the fields the executor sets once
// per request), written by the executor and the SQLite callbacks of that statement.
struct StatementState {
  // The catalog as this statement sees it (shared ownership: snapshots are immutable).
  std::shared_ptr<const catalog::CatalogSnapshot> catalog;
  // Owner: the executor's request session. Staged rows of the current transaction.
  table::WriteSet* write_set = nullptr;
  // Owner: the request (SqlRequest::read_snapshot). Reads see this snapshot instead of the latest
  // state (live-query snapshots); null = latest.
  const storage::KvSnapshot* read_snapshot = nullptr;
  // With read_snapshot: the largest `_seq` it holds; cold versions above it are not seen. 0 = none.
  int64_t read_seq = 0;
  // System-table rows materialised by the running statement, by SQLite table name, so that every
  // scan within one statement sees the same rows. The executor clears it before each statement.
  std::unordered_map<std::string, std::shared_ptr<const MaterializedRows>> system_rows;

  // Set while an INSERT runs: explicit_columns[i] says whether user column i was written by the
  // statement (others take their DEFAULT). Empty = every column explicit.
  std::vector<bool> insert_explicit;

  // Owner: the executor (RunDml's list of keys). While set, every row an INSERT stages appends
  // its pk_key here (for RETURNING).
  std::vector<std::string>* inserted_keys = nullptr;

  // Owner: the executor, set while an UPDATE or DELETE runs. The `_seq` of every committed row
  // version the statement's scans returned, by pk_key: xUpdate stages a row on the version its
  // WHERE was evaluated on, so a commit in between (an update or delete of that row) makes the
  // statement's commit fail with kConflict and the statement run again, instead of changing or
  // counting a row that no longer is what the statement read.
  std::unordered_map<std::string, int64_t>* scanned_seqs = nullptr;

  // Owner: the executor, set while EXPLAIN plans or runs a SELECT. The virtual tables record
  // their plans (and, for EXPLAIN ANALYZE, what their scans did) in it.
  PlanRecorder* plan = nullptr;

  // When the request must stop: SQLite statements running past it are interrupted
  // (time_since_epoch() == 0: no limit).
  std::chrono::steady_clock::time_point deadline{};
  std::chrono::milliseconds time_limit{0};  // for the message

  // The first error raised inside a SQLite callback, with its code (SQLite only keeps text).
  Status callback_error;
};

// Owned by the executor for one request; not thread-safe. Who is calling, which services exist,
// and the state of the running statement.
struct ExecContext {
  Caller caller;  // the effective user (the scope of USER tables) and role
  ExecServices services;
  StatementState statement;

  // Records `s` as the statement's callback error unless one is already recorded.
  void SetError(Status s) {
    if (statement.callback_error.ok()) statement.callback_error = std::move(s);
  }
};

}  // namespace kalam::sql
