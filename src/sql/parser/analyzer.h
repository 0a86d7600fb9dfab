// The DML analyzer: finds what a SELECT, INSERT, UPDATE or DELETE touches (tables, `$N`
// parameters, INSERT columns and RETURNING, UPDATE columns, top-level LIMIT) before SQLite sees
// it, and rejects what SQLite must never be asked to run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "sql/parser/classifier.h"
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {

// Highest `$N` accepted (SQLite's default SQLITE_MAX_VARIABLE_NUMBER).
inline constexpr int kMaxParameterIndex = 32766;

// A place where the statement names a table: after FROM or JOIN, in a FROM list, after
// `IN` (`x IN ns.t`), or as the target of INSERT INTO / UPDATE / DELETE FROM. Names of common
// table expressions, subqueries and table-valued functions (`json_each(…)`) are not table refs.
struct TableRef {
  std::string ns;    // empty when unqualified
  std::string name;  // unquoted
  // Tokens [first_token, end_token) of the statement spell the reference (`ns . name` or `name`);
  // the rewrite replaces exactly those.
  size_t first_token = 0;
  size_t end_token = 0;
  // An alias follows (`t AS x`, `t x`); the rewrite keeps it. Replacing a reference that has no
  // alias by another name breaks qualified columns (`t.col`), so a replacer should then add one.
  bool has_alias = false;
  std::string alias;  // the alias when has_alias
  // False for `x IN ns.t`, where SQLite accepts no alias: a replacement must not add one.
  bool alias_allowed = true;
  // The query scope (index into DmlAnalysis::scopes) whose FROM list holds the reference;
  // kNoScope for `x IN ns.t`, which brings no columns into scope.
  static constexpr size_t kNoScope = static_cast<size_t>(-1);
  size_t scope = 0;
};

// Where column names resolve: one SELECT (each arm of a compound SELECT has its own), or the
// statement itself (scope 0, holding the target of INSERT, UPDATE or DELETE, and UPDATE … FROM
// tables). A column name resolves against the table references of its scope, then against those
// of the enclosing scopes (a correlated subquery), as SQL resolves names.
struct QueryScope {
  // The enclosing scope; -1 for a top-level SELECT (also INSERT … SELECT, which does not see the
  // INSERT's target) and for scope 0.
  int parent = -1;
  // The scope also reads from something whose columns the analyzer cannot know: a subquery in
  // FROM, a common table expression or a table-valued function. An unqualified name found in no
  // table reference of the scope may name one of their columns.
  bool has_opaque_source = false;
  // The names (alias, or CTE name) by which those sources can qualify a column, as written.
  std::vector<std::string> opaque_names;
};

enum class InsertSource : uint8_t {
  kValues,         // VALUES (…), (…)
  kSelect,         // SELECT …, WITH … SELECT, or VALUES combined by UNION/ORDER BY/LIMIT
  kDefaultValues,  // DEFAULT VALUES
};

enum class ReturningKind : uint8_t {
  kStar,     // RETURNING *
  kSeq,      // RETURNING _seq
  kColumns,  // RETURNING a, b, _seq
};

// A top-level `RETURNING …` clause of an INSERT.
struct ReturningClause {
  ReturningKind kind = ReturningKind::kStar;
  std::vector<std::string> columns;  // kColumns: the names in order, unquoted
  std::string text;                  // the list as normalised SQL: "*", "_seq", "id, body"
  size_t first_token = 0;            // index of the RETURNING keyword; the clause runs to the end
};

struct InsertInfo {
  // The column list as written, in order, unquoted; empty when none was written.
  bool has_column_list = false;
  std::vector<std::string> columns;
  InsertSource source = InsertSource::kValues;
  // Number of rows of a plain VALUES list (kValues only).
  std::optional<size_t> values_rows;
  std::optional<ReturningClause> returning;
  // "IGNORE", "ABORT", "FAIL" or "ROLLBACK" from INSERT OR <action>; empty when not given.
  std::string conflict_action;
  // Token index where an injected column list goes: just after the target and its alias.
  size_t column_list_token = 0;
};

struct UpdateInfo {
  // Assigned columns in order, unquoted: SET a = …, (b, c) = (…) gives {a, b, c}.
  std::vector<std::string> columns;
  // Token index of the '=' of each assignment (an assignment, not a comparison).
  std::vector<size_t> assignment_tokens;
  std::string conflict_action;  // from UPDATE OR <action>; empty when not given
};

// What AnalyzeDml found. Value type; indexes refer to the analysed statement's tokens.
struct DmlAnalysis {
  StatementKind kind = StatementKind::kSelect;  // kSelect, kInsert, kUpdate or kDelete
  std::vector<TableRef> tables;                  // every table reference, in source order
  // INSERT/UPDATE/DELETE: index into `tables` of the table written to.
  std::optional<size_t> target_table;
  std::vector<int> params;  // distinct `$N` indexes used, ascending
  int max_param = 0;        // highest N used; 0 when there are none
  // The names bound by WITH clauses anywhere in the statement (as written).
  std::vector<std::string> cte_names;
  // kSelect: the outermost query has its own LIMIT (not one inside a subquery or CTE).
  bool has_top_level_limit = false;
  // kSelect: the outermost query has a VALUES clause (`VALUES (1), (2)`, `SELECT … UNION VALUES
  // …`), after which SQLite accepts no LIMIT; the rewrite then wraps it to add one.
  bool values_at_top_level = false;
  // kSelect: how many parentheses wrap the whole statement (`((SELECT 1))` → 2). SQLite does
  // not accept a statement that starts with '(', so the rewrite drops them.
  size_t wrapping_parens = 0;
  std::optional<InsertInfo> insert;  // kInsert only
  std::optional<UpdateInfo> update;  // kUpdate only
  // The query scopes (scope 0 is the statement's own), and the scope of every token: tokens of a
  // subquery belong to the subquery's scope.
  std::vector<QueryScope> scopes;
  std::vector<uint32_t> token_scopes;  // one per token of the statement
};

// Analyses a SELECT, INSERT, UPDATE or DELETE (classifying it first). Fails with kInvalidSql when:
//   - the statement is of another kind, or ClassifyStatement rejects it (UPSERT, PRAGMA, …);
//   - it uses `?`, `?N`, `:name`, `@name` or a non-numeric `$name` parameter ("use $1, $2, …
//     placeholders"), or `$0`, or N above kMaxParameterIndex;
//   - it names a `sqlite_*` table (sqlite_master, sqlite_schema, …) or calls a `pragma_*`
//     table-valued function: SQLite's internals are not reachable from requests;
//   - a table name has more than two parts;
//   - UPDATE or DELETE has RETURNING ("RETURNING is only supported on INSERT"), or an INSERT's
//     RETURNING lists something other than *, or column names;
//   - an INSERT's column list or source is malformed.
// Everything else about the syntax is left to SQLite.
Result<DmlAnalysis> AnalyzeDml(const SqlStatement& stmt);

}  // namespace kalam::sql::parser
