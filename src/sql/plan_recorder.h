// PlanRecorder: what EXPLAIN and EXPLAIN ANALYZE learn about one SELECT (docs/explain.md) — per
// virtual-table plan (the constraints xBestIndex chose), the cold segments the pushed bounds
// select (EXPLAIN, from the manifests, reading no data) or what the scans did (ANALYZE: rows read
// hot and cold, segments read and skipped, time) — and the text rendering of the plan.
//
// A scan is known by its plan key: the table, idxNum and idxStr SQLite shows in its query plan as
// "VIRTUAL TABLE INDEX <idxNum>:<idxStr>". Scans of one table with the same plan (a self-join
// with the same constraints) share their counters.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "table/cold_store.h"

namespace kalam::sql {

// What the scans with one plan key did (EXPLAIN ANALYZE).
struct ScanCounters {
  int64_t scans = 0;      // xFilter calls: a join's inner table is scanned once per outer row
  int64_t rows = 0;       // rows the table returned to SQLite
  int64_t hot_rows = 0;   // row versions read from the hot tier (tombstones included)
  int64_t cold_rows = 0;  // row versions read from cold segments (tombstones included)
  table::ColdScanStats segments;  // summed over the scans
  int64_t elapsed_ns = 0;         // inside the table's xFilter and xNext
};

// The cold segments a plan key's bounds select, computed at planning time (EXPLAIN). Unknown
// when an operand is only known at run time (a parameter, a join column).
struct ScanForecast {
  int64_t estimated_rows = 0;  // what xBestIndex told SQLite (a fixed heuristic per plan shape)
  std::optional<table::ColdScanStats> segments;
  std::vector<std::string> files;  // with `segments`: the files to read, oldest first
};

// Not thread-safe: one per explained statement, used by the request's thread.
class PlanRecorder {
 public:
  enum class Mode : uint8_t { kPlan, kAnalyze };
  explicit PlanRecorder(Mode mode) : mode_(mode) {}
  Mode mode() const { return mode_; }

  static std::string Key(uint64_t table_id, int idx_num, const char* idx_str);

  // ANALYZE: the counters of `key` (created empty).
  ScanCounters& Counters(const std::string& key) { return counters_[key]; }
  const ScanCounters* FindCounters(const std::string& key) const;

  // EXPLAIN: records what planning `key` would read; a second, different forecast for the same
  // key (the same constraints with other operands) makes it unknown.
  void Forecast(const std::string& key, const ScanForecast& forecast);
  const ScanForecast* FindForecast(const std::string& key) const;

 private:
  Mode mode_;
  std::map<std::string, ScanCounters> counters_;
  std::map<std::string, ScanForecast> forecasts_;
};

// One row of SQLite's EXPLAIN QUERY PLAN.
struct QueryPlanRow {
  int id = 0;
  int parent = 0;
  std::string detail;
};

// A table a plan line names, as the renderer shows it.
struct PlannedTable {
  const catalog::TableDef* def = nullptr;  // null: a system table
  std::string qualified_name;              // "chat.messages", "system.users"
  std::string scope;                       // the USER/STREAM scope (user id); empty for SHARED
};

// What the renderer needs besides the recorder.
struct PlanInput {
  std::string sql;          // the statement as SQLite runs it (table names restored)
  std::string limit_note;   // the row limit the SELECT runs with, in words
  std::vector<QueryPlanRow> rows;
  // The table a plan line's name (an alias, a table name) denotes; nullopt when it is none of the
  // statement's tables (a CTE, a subquery).
  std::function<std::optional<PlannedTable>(const std::string& name)> resolve;
};

// EXPLAIN's `logical_plan` text: the SQL as run, its row limit and SQLite's plan tree.
std::string RenderLogicalPlan(const PlanInput& in);
// EXPLAIN's `physical_plan` text: per virtual-table scan, its table, scope, pushed constraints,
// order, planner estimate and the cold segments it would read (recorder forecasts).
std::string RenderPhysicalPlan(const PlanInput& in, const PlanRecorder& recorder);
// EXPLAIN ANALYZE's `Plan with Metrics` text: the logical tree and each scan with what it did,
// then the rows returned and the total time.
std::string RenderPlanWithMetrics(const PlanInput& in, const PlanRecorder& recorder,
                                  uint64_t rows_returned, bool truncated, int64_t elapsed_ns);

}  // namespace kalam::sql
