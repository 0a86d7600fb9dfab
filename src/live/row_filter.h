// RowFilter: a subscription's WHERE expression compiled once into a SQLite statement that
// evaluates it against one row (ARCHITECTURE.md §7), with the semantics the same WHERE has in a
// SELECT.
#pragma once

#include <sqlite3.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "sql/parser/lexer.h"

namespace kalam::live {

// A private in-memory SQLite connection that holds every filter's statement. A filter is
// `SELECT 1 FROM <row> WHERE (<expr>)` over a one-row virtual table declared like the table's
// `kalam` virtual table (same column affinities and collations) that presents the changed row.
// Literals compared with a TIMESTAMP/DATETIME/DATE/TIME/UUID/DECIMAL column are rewritten into
// the column's stored form exactly as the executor rewrites the same WHERE
// (sql/parser/typed_operands.h), so a filter matches exactly the rows the same WHERE selects. A
// filter can read nothing but its row (any other table reference fails to compile). Thread-safe
// (one mutex around the connection).
class FilterEngine {
 public:
  static Result<std::unique_ptr<FilterEngine>> Create();
  ~FilterEngine();

  FilterEngine(const FilterEngine&) = delete;
  FilterEngine& operator=(const FilterEngine&) = delete;

  class Filter;
  // Compiles `where` (tokens of the WHERE expression, with offsets into `statement_text`) for
  // rows of `table`. kInvalidSql when the expression does not compile, uses parameters, names
  // something other than the table's columns, or compares a typed column with a literal that
  // does not convert (the message is the one the same SELECT gives). Filters with the same text
  // on the same table version are one shared object: a caller evaluating many subscriptions
  // against one row may evaluate each distinct Filter once. A Filter must not outlive the engine.
  Result<std::shared_ptr<const Filter>> Compile(const catalog::TableDef& table,
                                                const std::vector<sql::parser::Token>& where,
                                                std::string_view statement_text);

  // True when the row (values in `table`'s column order, plus its _seq and deleted flag)
  // satisfies the filter. A row from another schema version than the filter's is matched by
  // column id (a column dropped since reads as NULL).
  bool Matches(const Filter& filter, const catalog::TableDef& table,
               const std::vector<Value>& values, int64_t seq, bool deleted);

  // Row virtual tables created and not yet dropped (for tests).
  size_t row_tables() const;

  // One virtual table per table version a filter was compiled for (defined in row_filter.cc).
  struct RowTable;
  // The row a running statement reads. Guarded by mu_.
  struct CurrentRow {
    const catalog::TableDef* def = nullptr;
    const std::vector<Value>* values = nullptr;
    int64_t seq = 0;
    bool deleted = false;
  };

 private:
  FilterEngine() = default;
  void Release(const Filter& filter);  // the last owner of `filter` is gone; requires mu_
  void DropUnusedRowTables();          // requires mu_

  friend struct RowModule;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;  // guards everything below and every Filter's statement
  CurrentRow row_;
  // By (table id, schema version).
  std::map<std::pair<catalog::TableId, uint32_t>, std::unique_ptr<RowTable>> tables_;
  uint64_t next_table_ = 1;  // names the next RowTable: "r<n>"
  // Live filters by their statement text.
  std::unordered_map<std::string, std::weak_ptr<const Filter>> filters_;
  // The table a statement being prepared may read (the authorizer's rule); empty otherwise.
  std::string preparing_table_;
};

class FilterEngine::Filter {
 public:
  ~Filter();
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

 private:
  friend class FilterEngine;
  Filter() = default;
  FilterEngine* engine_ = nullptr;
  RowTable* table_ = nullptr;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace kalam::live
