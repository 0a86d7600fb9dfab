// RowFilter: a subscription's WHERE expression compiled once into a SQLite statement that
// evaluates it against one row (ARCHITECTURE.md §7).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "sqlparse/lexer.h"

namespace kalam::live {

// A private in-memory SQLite connection that holds every filter's statement. Filters may only use
// the row's columns, literals and built-in functions: the connection has no tables, so a
// subquery or table reference fails to compile. Thread-safe (one mutex around the connection).
class FilterEngine {
 public:
  static Result<std::unique_ptr<FilterEngine>> Create();
  ~FilterEngine();

  class Filter;
  // Compiles `where` (tokens of the WHERE expression, with offsets into `statement_text`) for
  // rows of `table`. kInvalidSql when the expression does not compile, uses parameters, or
  // names something other than the table's columns.
  Result<std::unique_ptr<Filter>> Compile(const catalog::TableDef& table,
                                          const std::vector<sql::Token>& where,
                                          std::string_view statement_text);

  // True when the row (values in `table`'s column order, plus its _seq and deleted flag)
  // satisfies the filter. A row from a newer schema version is matched by column id.
  bool Matches(const Filter& filter, const catalog::TableDef& table,
               const std::vector<Value>& values, int64_t seq, bool deleted);

 private:
  FilterEngine() = default;
  sqlite3* db_ = nullptr;
  std::mutex mu_;  // guards db_ and every Filter's statement
};

class FilterEngine::Filter {
 public:
  ~Filter();

 private:
  friend class FilterEngine;
  sqlite3_stmt* stmt_ = nullptr;
  // Parameter k+1 is column column_ids_[k] (kSeqParam / kDeletedParam for the system columns).
  std::vector<int64_t> column_ids_;
};

}  // namespace kalam::live
