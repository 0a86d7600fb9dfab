// The aggregate path: a SELECT of GROUP BY columns and COUNT/SUM/AVG/MIN/MAX over one USER or
// SHARED table, computed by scanning the table directly (ScanVisibleRows) into a hash map of
// groups, instead of stepping SQLite's VM with one xColumn call per cell.
//
// It only takes statements whose answer it can prove is SQLite's (3.40) to the byte:
//   SELECT item [, item …] FROM [ns.]table [GROUP BY col [, col …]]
//     [ORDER BY term [ASC|DESC] [, …]] [LIMIT n]
// where an item is a GROUP BY column or COUNT(*), COUNT(col), SUM(col), AVG(col), MIN(col),
// MAX(col) (function names any case; no alias, DISTINCT, WHERE, HAVING, OFFSET, expressions,
// qualified names or parameters); GROUP BY columns are SMALLINT/INT/BIGINT or TEXT, aggregated
// columns SMALLINT/INT/BIGINT/FLOAT/DOUBLE; an ORDER BY term is an output position, a GROUP BY
// column or an aggregate of the select list, and the terms name every GROUP BY column (so the
// order is total: no tie is left to SQLite's sorter). Without ORDER BY groups come in SQLite's
// order of their values (NULL first, numbers, then text by bytes), as the grouped scan hands
// them to SQLite. Everything else runs through SQLite as before.
//
// At run time the path gives up (the caller then runs the prepared statement through SQLite)
// when a value is not of its column's storage class, a real is NaN, a SUM overflows (SQLite's
// "integer overflow" depends on which groups it finalizes), or the groups take more than
// GroupedRows::max_bytes().
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "sql/parser/analyzer.h"
#include "sql/parser/splitter.h"

namespace kalam::sql {

struct ExecContext;

// What a qualifying statement computes. Value type.
struct AggregatePlan {
  enum class Func : uint8_t { kGroupColumn, kCountStar, kCount, kSum, kAvg, kMin, kMax };
  struct Item {
    Func func = Func::kGroupColumn;
    int column = -1;  // index into TableDef::columns; -1 for COUNT(*)
  };
  struct OrderTerm {
    int item = -1;       // an output column (index into items), or -1 for `group_column`
    int group_key = -1;  // with item == -1: index into group_by of a column not selected
    bool desc = false;
  };
  std::vector<Item> items;      // the select list, in order
  std::vector<int> group_by;    // GROUP BY columns (indexes into TableDef::columns), in order
  std::vector<OrderTerm> order_by;
  std::optional<uint64_t> limit;
};

// The plan for `stmt` (a SELECT analysed as `analysis`, reading `def`), or nullopt when the
// statement is not one the path takes (see above). Reads only the tokens.
std::optional<AggregatePlan> PlanAggregate(const parser::SqlStatement& stmt,
                                           const parser::DmlAnalysis& analysis,
                                           const catalog::TableDef& def);

// Runs `plan` over `def` as the running statement of `ctx` sees it: the result rows, one value
// per item, as SQLite would return them; nullopt when the path gives up (see above); or the
// scan's error or the statement's time limit (CheckDeadline).
Result<std::optional<std::vector<std::vector<Value>>>> RunAggregate(const AggregatePlan& plan,
                                                                    const catalog::TableDef& def,
                                                                    ExecContext& ctx);

// EXPLAIN's description of the path: "GROUP BY category; COUNT(*), SUM(amount) over ns.t".
std::string DescribeAggregate(const AggregatePlan& plan, const catalog::TableDef& def);

// Whether the executor takes the path (default true). Tests turn it off to compare with SQLite.
bool AggregatePathEnabled();
void SetAggregatePathEnabled(bool enabled);

}  // namespace kalam::sql
