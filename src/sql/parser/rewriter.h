// The DML rewriter: produces the SQL text SQLite runs from an analysed statement — table
// references replaced, `$N` turned into `?N`, comments dropped and spacing normalised so the text
// can key the prepared-statement cache.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sql/parser/analyzer.h"
#include "sql/parser/splitter.h"
#include "sql/parser/typed_operands.h"

namespace kalam::sql::parser {

// Returns the SQL text that stands for `ref` in the rewritten statement (for example
// "kalam_t17 AS messages" when ref.has_alias is false), or an error that aborts the rewrite and
// is returned as is (for example kTableNotFound). Called once per reference, in source order,
// before anything else is rewritten.
using TableRefReplacer = std::function<Result<std::string>(const TableRef& ref)>;

// The type and declared name of column `column` (as written) of the table that reference
// `analysis.tables[table]` names; nullopt when that table has no such column.
using ColumnTypeLookup =
    std::function<std::optional<ColumnType>(size_t table, std::string_view column)>;

struct RewriteOptions {
  // Replaces every table reference. Default: none, references are kept as written.
  TableRefReplacer replace_table;
  // An INSERT written without a column list gets these columns, double-quoted, right after its
  // target ("INSERT INTO t VALUES …" → `INSERT INTO t("id", "body") VALUES …`). Ignored when the
  // INSERT has a column list, uses DEFAULT VALUES, or the statement is not an INSERT.
  // Default: empty.
  std::vector<std::string> insert_columns;
  // A SELECT without a top-level LIMIT gets ` LIMIT n` (a VALUES query is wrapped as
  // `SELECT * FROM (…) LIMIT n`, since SQLite allows no LIMIT after VALUES). Ignored for other
  // kinds and when the SELECT has its own LIMIT. Default: none.
  std::optional<uint64_t> default_limit;
  // When set, every literal or `$N` compared with a TIMESTAMP, DATETIME, DATE, TIME, UUID or
  // DECIMAL column becomes that column's stored form (FindTypedOperands). A column reference
  // resolves like SQL resolves it: `alias.col` / `table.col` / `ns.table.col` against the
  // references in scope, a bare `col` against the references of its own SELECT, then of the
  // enclosing ones; a name that may come from a subquery, CTE or table-valued function, or that
  // is ambiguous between types, is left alone. Default: none, no operand is rewritten.
  ColumnTypeLookup column_type;
  // Called after replace_table has run for every reference: false when no table the statement
  // names has a column of a typed comparison type, which skips the search for typed operands
  // (the rewrite of a statement over other tables costs nothing more). Default: none, the search
  // runs whenever column_type is set.
  std::function<bool()> any_typed_column;
  // When set, receives the operands rewritten through column_type, in token order. Default: none.
  std::vector<OperandRewrite>* rewritten_operands = nullptr;
};

// Rewrites `stmt`, which `analysis` (from AnalyzeDml(stmt)) describes:
//   - each table reference becomes options.replace_table(ref);
//   - with options.column_type, each typed comparison operand becomes its stored form;
//   - each `$N` becomes `?N`;
//   - an INSERT's top-level RETURNING clause is left out (the executor implements it);
//   - parentheses wrapping a whole SELECT are dropped;
//   - comments are dropped, tokens are separated by single spaces except around `.`, after `(`,
//     before `)` and `,`, after a unary sign and between a name and its `(`, and SQLite keywords
//     (plus TRUE/FALSE) are upper-cased except right after AS. Names, quoted identifiers and
//     literals are kept exactly, so statements differing only in whitespace, comments or keyword
//     case give the same text, and different literals give different texts.
// Fails with the replacer's error, or with the kTypeMismatch error of a literal compared with a
// typed column that does not convert to its type.
Result<std::string> RewriteDml(const SqlStatement& stmt, const DmlAnalysis& analysis,
                               const RewriteOptions& options = {});

// The normalised text of any statement under the spacing and keyword-case rules of RewriteDml,
// with nothing replaced and parameters kept as written.
std::string NormalizeSql(const SqlStatement& stmt);

}  // namespace kalam::sql::parser
