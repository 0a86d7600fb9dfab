// Tests for the DML analyzer: table references, parameters, INSERT/UPDATE details, top-level
// LIMIT and the statements it must reject.
#include "sql/parser/analyzer.h"
#include "sql/parser/splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalam::sql::parser {
namespace {

SqlStatement One(std::string_view sql) {
  auto statements = SplitStatements(sql);
  EXPECT_TRUE(statements.ok()) << statements.status().ToString();
  EXPECT_EQ(statements.ok() ? statements->size() : 0, 1u) << sql;
  return statements.ok() && !statements->empty() ? (*statements)[0] : SqlStatement{};
}

DmlAnalysis Analyze(std::string_view sql) {
  auto analysis = AnalyzeDml(One(sql));
  EXPECT_TRUE(analysis.ok()) << sql << "\n" << analysis.status().ToString();
  return analysis.ok() ? *analysis : DmlAnalysis{};
}

std::string Err(std::string_view sql) {
  auto analysis = AnalyzeDml(One(sql));
  EXPECT_FALSE(analysis.ok()) << "expected an error for: " << sql;
  if (analysis.ok()) return "";
  EXPECT_EQ(analysis.status().code(), StatusCode::kInvalidSql);
  return analysis.status().message();
}

// "ns.name AS alias" / "name" for each reference, in order.
std::vector<std::string> Refs(const DmlAnalysis& a) {
  std::vector<std::string> out;
  for (const TableRef& r : a.tables) {
    std::string s = r.ns.empty() ? r.name : r.ns + "." + r.name;
    if (r.has_alias) s += " AS " + r.alias;
    out.push_back(s);
  }
  return out;
}

using Strings = std::vector<std::string>;

// ---- Table references ----

TEST(AnalyzerTest, JoinsAcrossNamespacesInEveryJoinForm) {
  auto a = Analyze(
      "SELECT m.body, u.name FROM chat.messages m JOIN auth.users AS u ON m.uid = u.id "
      "LEFT OUTER JOIN \"other\".\"T\" USING (id) CROSS JOIN x NATURAL JOIN y "
      "INNER JOIN [z] ON 1 LEFT JOIN w ON 1 RIGHT JOIN v ON 1 FULL OUTER JOIN s ON 1");
  EXPECT_EQ(Refs(a), (Strings{"chat.messages AS m", "auth.users AS u", "other.T", "x", "y", "z",
                              "w", "v", "s"}));
  EXPECT_EQ(a.kind, StatementKind::kSelect);
  EXPECT_FALSE(a.target_table.has_value());
}

TEST(AnalyzerTest, SelfJoinReportsBothReferencesWithTheirAliases) {
  auto a = Analyze("SELECT a.id, b.id FROM t a JOIN t AS b ON a.id = b.parent");
  EXPECT_EQ(Refs(a), (Strings{"t AS a", "t AS b"}));
}

TEST(AnalyzerTest, ReferenceTokenRangeCoversTheQualifiedName) {
  auto a = Analyze("SELECT * FROM \"ns\" . \"t\" x WHERE 1");
  ASSERT_EQ(a.tables.size(), 1u);
  EXPECT_EQ(a.tables[0].first_token, 3u);
  EXPECT_EQ(a.tables[0].end_token, 6u);
  EXPECT_EQ(a.tables[0].ns, "ns");
  EXPECT_EQ(a.tables[0].name, "t");
  EXPECT_TRUE(a.tables[0].has_alias);
}

TEST(AnalyzerTest, CommaSeparatedFromListItems) {
  auto a = Analyze("SELECT * FROM a, b x, ns.c AS y, d 'q' WHERE a.id = b.id GROUP BY a.k, b.k");
  EXPECT_EQ(Refs(a), (Strings{"a", "b AS x", "ns.c AS y", "d AS q"}));
}

TEST(AnalyzerTest, JoinConditionEndsAtACommaThatStartsTheNextItem) {
  auto a = Analyze("SELECT * FROM a JOIN b ON a.x = b.x AND b.y IN (1, 2), c WHERE c.z = 1");
  EXPECT_EQ(Refs(a), (Strings{"a", "b", "c"}));
}

TEST(AnalyzerTest, SubqueriesAreScannedButNotReported) {
  auto a = Analyze(
      "SELECT (SELECT count(*) FROM counted) AS n FROM (SELECT id FROM inner_t) s "
      "JOIN outer_t ON outer_t.id = s.id "
      "WHERE s.id IN (SELECT y FROM other WHERE z = (SELECT max(z) FROM deep)) "
      "AND EXISTS (SELECT 1 FROM ex)");
  EXPECT_EQ(Refs(a), (Strings{"counted", "inner_t", "outer_t", "other", "deep", "ex"}));
}

TEST(AnalyzerTest, ParenthesisedJoinsAreFromLists) {
  auto a = Analyze("SELECT * FROM (a JOIN b ON a.id = b.id) AS j, (c), ((SELECT 1 FROM d)) e");
  EXPECT_EQ(Refs(a), (Strings{"a", "b", "c", "d"}));
}

TEST(AnalyzerTest, CteNamesAreNotTables) {
  auto a = Analyze(
      "WITH recent AS (SELECT * FROM chat.messages WHERE ts > 0), top(x) AS MATERIALIZED "
      "(SELECT 1) SELECT * FROM recent JOIN users ON recent.uid = users.id, top, RECENT r");
  EXPECT_EQ(Refs(a), (Strings{"chat.messages", "users"}));
  EXPECT_EQ(a.cte_names, (Strings{"recent", "top"}));
}

TEST(AnalyzerTest, RecursiveCteReferencingItselfIsNotATable) {
  auto a = Analyze(
      "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt LIMIT 10) "
      "SELECT x FROM cnt");
  EXPECT_TRUE(a.tables.empty());
  EXPECT_FALSE(a.has_top_level_limit);
}

TEST(AnalyzerTest, NestedWithInsideASubqueryBindsItsName) {
  auto a = Analyze("SELECT * FROM (WITH c AS (SELECT * FROM t) SELECT * FROM c) AS s");
  EXPECT_EQ(Refs(a), (Strings{"t"}));
}

TEST(AnalyzerTest, QualifiedNameIsATableEvenWhenACteHasTheSameName) {
  auto a = Analyze("WITH t AS (SELECT 1) SELECT * FROM ns.t, t");
  EXPECT_EQ(Refs(a), (Strings{"ns.t"}));
}

TEST(AnalyzerTest, EveryArmOfACompoundSelect) {
  auto a = Analyze(
      "SELECT a FROM t1 UNION ALL SELECT a FROM t2 UNION SELECT a FROM t3 INTERSECT "
      "SELECT a FROM t4 EXCEPT SELECT a FROM t5 ORDER BY 1");
  EXPECT_EQ(Refs(a), (Strings{"t1", "t2", "t3", "t4", "t5"}));
}

TEST(AnalyzerTest, TableValuedFunctionsAreNotTables) {
  auto a = Analyze(
      "SELECT * FROM json_each('[1,2]') AS j, t, json_tree(t.data) JOIN u ON 1 "
      "WHERE t.x IN json_each('[3]')");
  EXPECT_EQ(Refs(a), (Strings{"t", "u"}));
}

TEST(AnalyzerTest, InFollowedByANameIsATableReference) {
  auto a = Analyze("SELECT * FROM a WHERE id IN ns.b AND id NOT IN c");
  EXPECT_EQ(Refs(a), (Strings{"a", "ns.b", "c"}));
  EXPECT_TRUE(a.tables[0].alias_allowed);
  EXPECT_FALSE(a.tables[1].alias_allowed);
  EXPECT_FALSE(a.tables[2].alias_allowed);
}

TEST(AnalyzerTest, IsDistinctFromIsAnOperatorNotAFromClause) {
  auto a = Analyze("SELECT * FROM a WHERE x IS NOT DISTINCT FROM y AND y IS DISTINCT FROM z");
  EXPECT_EQ(Refs(a), (Strings{"a"}));
}

TEST(AnalyzerTest, WindowsAndOrderingDoNotLookLikeTables) {
  auto a = Analyze(
      "SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t WINDOW w AS (ORDER BY c) "
      "ORDER BY a, b LIMIT 5 OFFSET 2");
  EXPECT_EQ(Refs(a), (Strings{"t"}));
}

TEST(AnalyzerTest, TableNamesWithMoreThanTwoPartsAreRejected) {
  EXPECT_EQ(Err("SELECT * FROM a.b.c"),
            "Invalid table name 'a.b.…': use table or namespace.table");
}

// ---- SQLite internals ----

TEST(AnalyzerTest, SqliteInternalTablesAreRejected) {
  EXPECT_EQ(Err("SELECT * FROM sqlite_master"),
            "Access to SQLite internal table 'sqlite_master' is not allowed");
  EXPECT_EQ(Err("SELECT name FROM main.sqlite_schema"),
            "Access to SQLite internal table 'sqlite_schema' is not allowed");
  EXPECT_EQ(Err("SELECT * FROM t JOIN \"SQLITE_TEMP_MASTER\" m ON 1"),
            "Access to SQLite internal table 'SQLITE_TEMP_MASTER' is not allowed");
  EXPECT_EQ(Err("SELECT * FROM sqlite_stmt"),
            "Access to SQLite internal table 'sqlite_stmt' is not allowed");
  EXPECT_EQ(Err("SELECT * FROM t WHERE x IN sqlite_master"),
            "Access to SQLite internal table 'sqlite_master' is not allowed");
  EXPECT_EQ(Err("SELECT * FROM (SELECT * FROM sqlite_sequence)"),
            "Access to SQLite internal table 'sqlite_sequence' is not allowed");
  EXPECT_EQ(Err("DELETE FROM sqlite_master"),
            "Access to SQLite internal table 'sqlite_master' is not allowed");
  EXPECT_EQ(Err("SELECT * FROM dbstat"), "Access to SQLite internal table 'dbstat' is not allowed");
}

TEST(AnalyzerTest, PragmaTableFunctionsAreRejected) {
  EXPECT_EQ(Err("SELECT * FROM pragma_table_info('t')"),
            "Access to SQLite internal table 'pragma_table_info' is not allowed");
  EXPECT_EQ(Err("SELECT * FROM t, PRAGMA_TABLE_LIST"),
            "Access to SQLite internal table 'PRAGMA_TABLE_LIST' is not allowed");
}

TEST(AnalyzerTest, SqliteNamesOutsideTablePositionsAreFine) {
  auto a = Analyze("SELECT sqlite_version(), 'sqlite_master' FROM t");
  EXPECT_EQ(Refs(a), (Strings{"t"}));
}

// ---- Parameters ----

TEST(AnalyzerTest, ParameterReusedCountsOnce) {
  auto a = Analyze("SELECT * FROM t WHERE a = $1 OR b = $1");
  EXPECT_EQ(a.params, (std::vector<int>{1}));
  EXPECT_EQ(a.max_param, 1);
}

TEST(AnalyzerTest, MaxParameterIsTheHighestIndexEvenWithGaps) {
  auto a = Analyze("SELECT * FROM t WHERE a = $3 AND b = $1 AND c = '$2'");
  EXPECT_EQ(a.params, (std::vector<int>{1, 3}));
  EXPECT_EQ(a.max_param, 3);
  auto none = Analyze("SELECT 1");
  EXPECT_TRUE(none.params.empty());
  EXPECT_EQ(none.max_param, 0);
  EXPECT_EQ(Analyze("SELECT $007").params, (std::vector<int>{7}));
}

TEST(AnalyzerTest, OtherParameterStylesAreRejected) {
  EXPECT_EQ(Err("SELECT * FROM t WHERE a = ?"),
            "Unsupported parameter '?': use $1, $2, … placeholders");
  EXPECT_EQ(Err("SELECT * FROM t WHERE a = ?1"),
            "Unsupported parameter '?1': use $1, $2, … placeholders");
  EXPECT_EQ(Err("SELECT * FROM t WHERE a = :name"),
            "Unsupported parameter ':name': use $1, $2, … placeholders");
  EXPECT_EQ(Err("SELECT * FROM t WHERE a = @name"),
            "Unsupported parameter '@name': use $1, $2, … placeholders");
  EXPECT_EQ(Err("SELECT * FROM t WHERE a = $name"),
            "Unsupported parameter '$name': use $1, $2, … placeholders");
  EXPECT_EQ(Err("SELECT $0"), "Parameter $0 is invalid: placeholders are numbered from $1");
  EXPECT_EQ(Err("SELECT $32767"), "Parameter $32767 is out of range: at most $32766");
  EXPECT_EQ(Err("SELECT $99999999999999999999"),
            "Parameter $99999999999999999999 is out of range: at most $32766");
}

// ---- INSERT ----

TEST(AnalyzerTest, InsertWithColumnListAndValues) {
  auto a = Analyze("INSERT INTO chat.messages (id, \"Body\") VALUES ($1, 'a'), (2, 'b'), (3, 'c')");
  EXPECT_EQ(a.kind, StatementKind::kInsert);
  EXPECT_EQ(Refs(a), (Strings{"chat.messages"}));
  EXPECT_EQ(a.target_table, 0u);
  ASSERT_TRUE(a.insert.has_value());
  EXPECT_TRUE(a.insert->has_column_list);
  EXPECT_EQ(a.insert->columns, (Strings{"id", "Body"}));
  EXPECT_EQ(a.insert->source, InsertSource::kValues);
  EXPECT_EQ(a.insert->values_rows, 3u);
  EXPECT_FALSE(a.insert->returning.has_value());
  EXPECT_EQ(a.insert->column_list_token, 5u);
}

TEST(AnalyzerTest, InsertWithoutColumnList) {
  auto a = Analyze("INSERT INTO t VALUES (1, 'a')");
  ASSERT_TRUE(a.insert.has_value());
  EXPECT_FALSE(a.insert->has_column_list);
  EXPECT_TRUE(a.insert->columns.empty());
  EXPECT_EQ(a.insert->values_rows, 1u);
  EXPECT_EQ(a.insert->column_list_token, 3u);
}

TEST(AnalyzerTest, InsertSelectReportsTargetAndSourceTables) {
  auto a = Analyze("INSERT INTO ns.dst (a, b) SELECT x, y FROM src JOIN other ON 1 WHERE x > $1");
  EXPECT_EQ(Refs(a), (Strings{"ns.dst", "src", "other"}));
  EXPECT_EQ(a.target_table, 0u);
  EXPECT_EQ(a.insert->source, InsertSource::kSelect);
  EXPECT_FALSE(a.insert->values_rows.has_value());
  EXPECT_EQ(a.insert->columns, (Strings{"a", "b"}));
}

TEST(AnalyzerTest, InsertAfterWithTargetsTheInsertTable) {
  auto a = Analyze("WITH c AS (SELECT * FROM src) INSERT INTO dst SELECT * FROM c");
  EXPECT_EQ(Refs(a), (Strings{"src", "dst"}));
  EXPECT_EQ(a.target_table, 1u);
  EXPECT_EQ(a.insert->source, InsertSource::kSelect);
}

TEST(AnalyzerTest, InsertSourceKinds) {
  EXPECT_EQ(Analyze("INSERT INTO t DEFAULT VALUES").insert->source, InsertSource::kDefaultValues);
  auto compound = Analyze("INSERT INTO t VALUES (1) UNION SELECT 2");
  EXPECT_EQ(compound.insert->source, InsertSource::kSelect);
  EXPECT_FALSE(compound.insert->values_rows.has_value());
  EXPECT_EQ(Analyze("INSERT INTO t (a) (SELECT 1)").insert->source, InsertSource::kSelect);
  EXPECT_EQ(Err("INSERT INTO t SET a = 1"),
            "Expected VALUES, SELECT or DEFAULT VALUES after INSERT INTO t, found 'SET'");
  EXPECT_EQ(Err("INSERT INTO t (a, 1) VALUES (1, 2)"),
            "Invalid column list in INSERT INTO t: expected a column name, found '1'");
  EXPECT_EQ(Err("INSERT INTO t (a b) VALUES (1)"),
            "Invalid column list in INSERT INTO t: expected ',' or ')', found 'b'");
}

TEST(AnalyzerTest, InsertOrActionAndTargetAlias) {
  auto a = Analyze("INSERT OR IGNORE INTO t AS x (a) VALUES (1)");
  EXPECT_EQ(a.insert->conflict_action, "IGNORE");
  EXPECT_EQ(Refs(a), (Strings{"t AS x"}));
  EXPECT_EQ(a.insert->columns, (Strings{"a"}));
  EXPECT_EQ(a.insert->column_list_token, 7u);
}

TEST(AnalyzerTest, InsertReturningForms) {
  auto star = Analyze("INSERT INTO t (a) VALUES (1) RETURNING *");
  ASSERT_TRUE(star.insert->returning.has_value());
  EXPECT_EQ(star.insert->returning->kind, ReturningKind::kStar);
  EXPECT_EQ(star.insert->returning->text, "*");
  EXPECT_EQ(star.insert->returning->first_token, 10u);
  EXPECT_EQ(star.insert->values_rows, 1u);

  auto seq = Analyze("INSERT INTO t (a) VALUES (1), (2) returning _SEQ");
  EXPECT_EQ(seq.insert->returning->kind, ReturningKind::kSeq);
  EXPECT_EQ(seq.insert->returning->columns, (Strings{"_SEQ"}));
  EXPECT_EQ(seq.insert->values_rows, 2u);

  auto cols = Analyze("INSERT INTO t SELECT * FROM s RETURNING id,\"Body\" ,_seq");
  EXPECT_EQ(cols.insert->returning->kind, ReturningKind::kColumns);
  EXPECT_EQ(cols.insert->returning->columns, (Strings{"id", "Body", "_seq"}));
  EXPECT_EQ(cols.insert->returning->text, "id, \"Body\", _seq");
  EXPECT_EQ(Refs(cols), (Strings{"t", "s"}));
}

TEST(AnalyzerTest, InsertReturningExpressionsAreRejected) {
  const std::string message = "RETURNING supports only *, _seq or a list of column names";
  EXPECT_EQ(Err("INSERT INTO t (a) VALUES (1) RETURNING a + 1"), message);
  EXPECT_EQ(Err("INSERT INTO t (a) VALUES (1) RETURNING *, a"), message);
  EXPECT_EQ(Err("INSERT INTO t (a) VALUES (1) RETURNING a AS b"), message);
  EXPECT_EQ(Err("INSERT INTO t (a) VALUES (1) RETURNING"), message);
  EXPECT_EQ(Err("INSERT INTO t (a) VALUES (1) RETURNING a,"), message);
}

// ---- UPDATE and DELETE ----

TEST(AnalyzerTest, UpdateAssignedColumns) {
  auto a = Analyze(
      "UPDATE chat.m SET a = 1, b = (SELECT max(x) FROM s), (c, \"D\") = (1, 2), e = CASE WHEN "
      "a > 1 THEN 2 ELSE 3 END WHERE id = $1");
  EXPECT_EQ(a.kind, StatementKind::kUpdate);
  EXPECT_EQ(Refs(a), (Strings{"chat.m", "s"}));
  EXPECT_EQ(a.target_table, 0u);
  ASSERT_TRUE(a.update.has_value());
  EXPECT_EQ(a.update->columns, (Strings{"a", "b", "c", "D", "e"}));
}

TEST(AnalyzerTest, UpdateOrActionAliasAndDistinctFromValue) {
  auto a = Analyze("UPDATE OR IGNORE t AS x SET a = b IS DISTINCT FROM c, d = 2 WHERE 1");
  EXPECT_EQ(a.update->conflict_action, "IGNORE");
  EXPECT_EQ(Refs(a), (Strings{"t AS x"}));
  EXPECT_EQ(a.update->columns, (Strings{"a", "d"}));
}

TEST(AnalyzerTest, UpdateFromReportsTheOtherTables) {
  auto a = Analyze("UPDATE t SET a = s.a FROM s WHERE t.id = s.id");
  EXPECT_EQ(Refs(a), (Strings{"t", "s"}));
  EXPECT_EQ(a.update->columns, (Strings{"a"}));
}

TEST(AnalyzerTest, UpdateSetErrors) {
  EXPECT_EQ(Err("UPDATE t SET 1 = 2"),
            "Invalid SET clause in UPDATE: expected a column name, found '1'");
  EXPECT_EQ(Err("UPDATE t SET a 2"), "Invalid SET clause in UPDATE: expected '=', found '2'");
}

TEST(AnalyzerTest, DeleteTargetAndSubqueryTables) {
  auto a = Analyze("DELETE FROM ns.t WHERE id IN (SELECT id FROM other)");
  EXPECT_EQ(a.kind, StatementKind::kDelete);
  EXPECT_EQ(Refs(a), (Strings{"ns.t", "other"}));
  EXPECT_EQ(a.target_table, 0u);
}

TEST(AnalyzerTest, ReturningOnUpdateOrDeleteIsRejected) {
  EXPECT_EQ(Err("UPDATE t SET a = 1 RETURNING *"),
            "RETURNING is only supported on INSERT, not on UPDATE");
  EXPECT_EQ(Err("DELETE FROM t WHERE a = 1 RETURNING id"),
            "RETURNING is only supported on INSERT, not on DELETE");
}

// ---- SELECT LIMIT ----

TEST(AnalyzerTest, TopLevelLimitIsOnlyTheOutermostQuerys) {
  EXPECT_TRUE(Analyze("SELECT * FROM t LIMIT 5").has_top_level_limit);
  EXPECT_TRUE(Analyze("SELECT a FROM t UNION SELECT a FROM u LIMIT 5").has_top_level_limit);
  EXPECT_FALSE(Analyze("SELECT * FROM (SELECT * FROM t LIMIT 5)").has_top_level_limit);
  EXPECT_FALSE(Analyze("WITH c AS (SELECT 1 LIMIT 1) SELECT * FROM c").has_top_level_limit);
  EXPECT_FALSE(Analyze("SELECT * FROM t WHERE a IN (SELECT b FROM u LIMIT 1)").has_top_level_limit);
  EXPECT_FALSE(Analyze("SELECT * FROM t").has_top_level_limit);
}

TEST(AnalyzerTest, ParenthesisedSelectIsUnwrappedForAnalysis) {
  auto a = Analyze("((SELECT * FROM t LIMIT 3))");
  EXPECT_EQ(a.wrapping_parens, 2u);
  EXPECT_TRUE(a.has_top_level_limit);
  EXPECT_EQ(Refs(a), (Strings{"t"}));
  EXPECT_EQ(Analyze("(SELECT 1) UNION SELECT 2").wrapping_parens, 0u);
}

TEST(AnalyzerTest, TopLevelValuesIsReported) {
  EXPECT_TRUE(Analyze("VALUES (1), (2)").values_at_top_level);
  EXPECT_TRUE(Analyze("SELECT 1 UNION VALUES (2)").values_at_top_level);
  EXPECT_FALSE(Analyze("SELECT * FROM (VALUES (1))").values_at_top_level);
}

// ---- Kinds ----

TEST(AnalyzerTest, OnlyDmlIsAnalysed) {
  EXPECT_EQ(Err("CREATE NAMESPACE x"),
            "CREATE NAMESPACE is not a SELECT, INSERT, UPDATE or DELETE statement");
  EXPECT_EQ(Err("PRAGMA table_info(t)"), "Unsupported statement: PRAGMA");
  EXPECT_EQ(Err("INSERT OR REPLACE INTO t VALUES (1)"),
            "UPSERT is not supported: use INSERT for new rows and UPDATE for existing ones");
}

}  // namespace
}  // namespace kalam::sql::parser

namespace kalam::sql::parser {
namespace {

TEST(AnalyzerDefaultNamespaceTest, ClauseWordFollowedByDotIsANamespace) {
  for (const char* sql : {"SELECT id FROM default.t WHERE id = 1",
       "INSERT INTO default.t VALUES (1)",
                          "UPDATE default.t SET v = 1", "DELETE FROM default.t",
                          "SELECT a.id FROM default.t a JOIN default.u b ON a.id = b.id"}) {
    auto stmts = SplitStatements(sql);
    ASSERT_TRUE(stmts.ok());
    auto a = AnalyzeDml((*stmts)[0]);
    ASSERT_TRUE(a.ok()) << sql << ": " << a.status().ToString();
    ASSERT_FALSE(a->tables.empty()) << sql;
    EXPECT_EQ(a->tables[0].ns, "default") << sql;
    EXPECT_EQ(a->tables[0].name, "t") << sql;
  }
}

// ---- Query scopes ----

TEST(AnalyzerTest, EachSelectIsAScopeInsideTheOneAroundIt) {
  auto a = Analyze("SELECT 1 FROM a WHERE x IN (SELECT y FROM b WHERE z) "
                   "UNION SELECT 2 FROM c, (SELECT 3) AS d, json_each('[]') AS j");
  ASSERT_EQ(a.tables.size(), 3u);
  const QueryScope& outer = a.scopes[a.tables[0].scope];
  const QueryScope& sub = a.scopes[a.tables[1].scope];
  EXPECT_EQ(outer.parent, -1);
  EXPECT_EQ(sub.parent, static_cast<int>(a.tables[0].scope));
  EXPECT_FALSE(outer.has_opaque_source);
  // `z` is in the subquery's scope, `x` in the outer one.
  EXPECT_EQ(a.token_scopes[10], a.tables[1].scope);
  EXPECT_EQ(a.token_scopes[4], a.tables[0].scope);
  // The second arm of the UNION has its own scope, with the sources it cannot see into.
  const QueryScope& arm = a.scopes[a.tables[2].scope];
  EXPECT_NE(a.tables[2].scope, a.tables[0].scope);
  EXPECT_EQ(arm.parent, -1);
  EXPECT_TRUE(arm.has_opaque_source);
  EXPECT_EQ(arm.opaque_names, (Strings{"d", "j"}));
}

TEST(AnalyzerTest, TheStatementScopeHoldsTheTargetAndUpdateAssignmentsAreMarked) {
  auto a = Analyze("UPDATE t SET a = 1, (b, c) = (2, 3) WHERE d = 4");
  ASSERT_EQ(a.tables.size(), 1u);
  EXPECT_EQ(a.tables[0].scope, 0u);
  ASSERT_TRUE(a.update.has_value());
  EXPECT_EQ(a.update->assignment_tokens, (std::vector<size_t>{4, 12}));
  auto w = Analyze("WITH c AS (SELECT 1) SELECT * FROM c WHERE x IN ns.t");
  ASSERT_EQ(w.tables.size(), 1u);
  EXPECT_EQ(w.tables[0].scope, TableRef::kNoScope);
  EXPECT_EQ(w.scopes.back().opaque_names, (Strings{"c"}));
}

}  // namespace
}  // namespace kalam::sql::parser
