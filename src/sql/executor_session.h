// The per-request state of the Executor (private to the sql module's executor files).
#pragma once

#include <map>
#include <unordered_set>

#include "sql/exec_context.h"
#include "sql/executor.h"

namespace kalam::sql {

struct Executor::Session {
  const SqlRequest& request;
  Caller caller;     // the effective user (EXECUTE AS changes it for one statement)
  std::string ns;    // current namespace for unqualified names
  SqlConnection* conn = nullptr;
  ExecContext ctx;
  table::WriteSet ws;
  bool in_txn = false;
  std::vector<StatementResult> results;
  uint64_t inserted = 0, updated = 0, deleted = 0;
  bool any_inserted = false, any_updated = false, any_deleted = false;
  // The DML sums as they were at BEGIN, restored by ROLLBACK.
  struct Sums {
    uint64_t inserted, updated, deleted;
    bool any_inserted, any_updated, any_deleted;
  } at_begin{};

  // INSERT … RETURNING results wait for the commit that assigns their `_seq`.
  struct PendingReturning {
    size_t result_index;
    std::shared_ptr<const catalog::TableDef> table;
    parser::ReturningClause clause;
    std::vector<std::string> keys;
  };
  std::vector<PendingReturning> pending_returning;

  std::unordered_set<std::string> allowed_tables;  // SQLite names the current statement may read
  bool executing_as = false;  // inside EXECUTE AS USER: only USER/STREAM tables
  std::string dml_as_user;    // effective user of the last statement counted in the DML sums
  // The table the last DML read or wrote and the rows it returned or changed (slow-query log).
  std::shared_ptr<const catalog::TableDef> stmt_table;
  uint64_t stmt_rows = 0;

  explicit Session(const SqlRequest& r) : request(r) {}
};

// A result carrying only a message (DDL and commands).
StatementResult Message(std::string text);

}  // namespace kalam::sql
