// ExecContext: what a statement runs as and writes into — the effective user, the catalog
// snapshot, and the request's staged writes. SQLite callbacks (virtual tables, functions) read
// it from the connection that runs the statement.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/roles.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/snowflake.h"
#include "common/status.h"
#include "catalog/storage_catalog.h"
#include "sql/job_service.h"
#include "sql/live_registry.h"
#include "common/value.h"
#include "table/table_store.h"
#include "table/write_set.h"

namespace kalam::commit {
class CommitPipeline;
}

namespace kalam::sql {

struct ExecutorOptions;

// The rows of one system table as materialised for the running statement.
using MaterializedRows = std::vector<std::vector<Value>>;

// Owned by the executor for one request; not thread-safe.
struct ExecContext {
  std::string user_id;  // effective user: the scope of USER tables
  auth::Role role = auth::Role::kUser;
  std::shared_ptr<const catalog::CatalogSnapshot> catalog;
  table::WriteSet* write_set = nullptr;  // staged rows of the current transaction
  const table::TableStore* store = nullptr;
  // The live-query service, when running (system.live, KILL LIVE QUERY, DROP TABLE checks).
  LiveRegistry* live = nullptr;
  // Storages and jobs, when running (system.storages, system.jobs).
  const catalog::StorageCatalog* storages = nullptr;
  JobService* jobs = nullptr;
  // Reads see this snapshot instead of the latest state (live-query snapshots); null = latest.
  const storage::KvSnapshot* read_snapshot = nullptr;
  // With read_snapshot: the largest `_seq` it holds; cold versions above it are not seen. 0 = none.
  int64_t read_seq = 0;
  const Clock* clock = nullptr;
  SnowflakeGenerator* ids = nullptr;  // for SNOWFLAKE_ID() defaults

  // Read by the system tables (sql/sqlite/system_tables.h); null where no statement reads them.
  const catalog::Catalog* catalog_service = nullptr;  // users, schema history
  const commit::CommitPipeline* pipeline = nullptr;   // commit stats
  const ExecutorOptions* options = nullptr;           // system.settings, system.storages
  int64_t server_started_at_us = 0;
  // System-table rows materialised by the running statement, by SQLite table name, so that every
  // scan within one statement sees the same rows. The executor clears it before each statement.
  std::unordered_map<std::string, std::shared_ptr<const MaterializedRows>> system_rows;

  // Set while an INSERT runs: explicit_columns[i] says whether user column i was written by the
  // statement (others take their DEFAULT). Empty = every column explicit.
  std::vector<bool> insert_explicit;

  // While set, every row an INSERT stages appends its pk_key here (for RETURNING).
  std::vector<std::string>* inserted_keys = nullptr;

  // When the request must stop: SQLite statements running past it are interrupted
  // (time_since_epoch() == 0: no limit).
  std::chrono::steady_clock::time_point deadline{};
  std::chrono::milliseconds time_limit{0};  // for the message

  // The first error raised inside a SQLite callback, with its code (SQLite only keeps text).
  Status callback_error;
  void SetError(Status s) {
    if (callback_error.ok()) callback_error = std::move(s);
  }
};

}  // namespace kalam::sql
