// Tests for rewriting DML into the SQL SQLite runs, and for the normalised text used as the
// prepared-statement cache key.
#include "sql/parser/rewriter.h"

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

Result<std::string> TryRewrite(std::string_view sql, const RewriteOptions& options = {}) {
  SqlStatement stmt = One(sql);
  KALAM_ASSIGN_OR_RETURN(DmlAnalysis analysis, AnalyzeDml(stmt));
  return RewriteDml(stmt, analysis, options);
}

std::string Rewrite(std::string_view sql, const RewriteOptions& options = {}) {
  auto out = TryRewrite(sql, options);
  EXPECT_TRUE(out.ok()) << sql << "\n" << out.status().ToString();
  return out.ok() ? *out : "";
}

// Replaces `ns.t` by `vt_ns_t` (namespace "default" when unqualified), adding the written name
// as alias when there is none, the way the executor does.
RewriteOptions VirtualTables() {
  RewriteOptions options;
  options.replace_table = [](const TableRef& ref) -> Result<std::string> {
    std::string text = "vt_" + (ref.ns.empty() ? std::string("default") : ref.ns) + "_" + ref.name;
    if (!ref.has_alias && ref.alias_allowed) text += " AS " + ref.name;
    return text;
  };
  return options;
}

// ---- Normalisation ----

TEST(RewriterTest, WhitespaceCommentsAndKeywordCaseDoNotChangeTheText) {
  const std::string a = Rewrite("select  *\nfrom t -- trailing\n where a=1 and b  <>  'x'");
  const std::string b = Rewrite("SELECT * /* c */ FROM t WHERE a = 1 AND b <> 'x'");
  const std::string c = Rewrite("Select\t*\tFrom t\tWhere a =1 And b<>'x'");
  EXPECT_EQ(a, "SELECT * FROM t WHERE a = 1 AND b <> 'x'");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
}

TEST(RewriterTest, DifferentLiteralsOrNamesGiveDifferentText) {
  EXPECT_NE(Rewrite("SELECT * FROM t WHERE a = 1"), Rewrite("SELECT * FROM t WHERE a = 2"));
  EXPECT_NE(Rewrite("SELECT * FROM t WHERE a = 'x'"), Rewrite("SELECT * FROM t WHERE a = 'X'"));
  EXPECT_NE(Rewrite("SELECT * FROM t WHERE a = 1"), Rewrite("SELECT * FROM u WHERE a = 1"));
  EXPECT_NE(Rewrite("SELECT * FROM t WHERE a = $1"), Rewrite("SELECT * FROM t WHERE a = $2"));
}

TEST(RewriterTest, LiteralsAndQuotedNamesAreKeptExactly) {
  EXPECT_EQ(Rewrite("SELECT \"Col\", 'It''s  here', x'00FF', 1.50e3, [t].a FROM [t]"),
            "SELECT \"Col\", 'It''s  here', x'00FF', 1.50e3, [t].a FROM [t]");
  EXPECT_EQ(Rewrite("SELECT '世界 -- /* not comments */'"), "SELECT '世界 -- /* not comments */'");
}

TEST(RewriterTest, NamesAfterAsKeepTheirCase) {
  EXPECT_EQ(Rewrite("select count(*) as Total, a as \"Key\", b as key from t"),
            "SELECT count(*) AS Total, a AS \"Key\", b AS key FROM t");
  EXPECT_EQ(Rewrite("select cast(a as text) from t"), "SELECT CAST(a AS text) FROM t");
  EXPECT_EQ(Rewrite("with c as not materialized (select 1) select * from c"),
            "WITH c AS NOT MATERIALIZED (SELECT 1) SELECT * FROM c");
}

TEST(RewriterTest, SpacingRules) {
  EXPECT_EQ(Rewrite("SELECT count ( * ) , t . a , f( 1,2 ) FROM t"),
            "SELECT count(*), t.a, f(1, 2) FROM t");
  EXPECT_EQ(Rewrite("SELECT replace(a,'x','y'), a IN(1,2), EXISTS(SELECT 1) FROM t"),
            "SELECT REPLACE(a, 'x', 'y'), a IN (1, 2), EXISTS (SELECT 1) FROM t");
  EXPECT_EQ(Rewrite("SELECT true, False, null FROM t"), "SELECT TRUE, FALSE, NULL FROM t");
  EXPECT_EQ(Rewrite("SELECT data->>'$.a', a||b, t.* FROM t"),
            "SELECT data ->> '$.a', a || b, t.* FROM t");
  EXPECT_EQ(Rewrite("SELECT a FROM t WHERE data?'k' AND NOT d ? 'x'"),
            "SELECT a FROM t WHERE data MATCH 'k' AND NOT d MATCH 'x'");
}

TEST(RewriterTest, UnarySignsStayAttachedAndNeverFormComments) {
  EXPECT_EQ(Rewrite("SELECT -1, - 2, a - -b, 1-2, (-3), ~a, NULL - 1, a * -b"),
            "SELECT -1, -2, a - -b, 1 - 2, (-3), ~a, NULL - 1, a * -b");
  EXPECT_EQ(Rewrite("SELECT - -1"), "SELECT - -1");
  EXPECT_EQ(Rewrite("SELECT - - - 1"), "SELECT - - -1");
  EXPECT_EQ(Rewrite("SELECT 4 / -2"), "SELECT 4 / -2");
}

TEST(RewriterTest, NormalizeSqlKeepsParametersAsWritten) {
  EXPECT_EQ(NormalizeSql(One("select *  from t where a = $1 -- c")),
            "SELECT * FROM t WHERE a = $1");
  EXPECT_EQ(NormalizeSql(One("subscribe to chat.m where a=1")), "subscribe TO chat.m WHERE a = 1");
}

// ---- Parameters ----

TEST(RewriterTest, DollarParametersBecomeNumberedQuestionMarks) {
  EXPECT_EQ(Rewrite("SELECT * FROM t WHERE a = $1 AND b = $2 OR c = $1 AND d = $010"),
            "SELECT * FROM t WHERE a = ?1 AND b = ?2 OR c = ?1 AND d = ?10");
  EXPECT_EQ(Rewrite("SELECT '$1' FROM t"), "SELECT '$1' FROM t");
}

// ---- Table replacement ----

TEST(RewriterTest, TableReferencesAreReplacedAndAliasesKept) {
  EXPECT_EQ(Rewrite("SELECT m.body FROM chat.messages m JOIN users ON m.uid = users.id",
                    VirtualTables()),
            "SELECT m.body FROM vt_chat_messages m JOIN vt_default_users AS users ON "
            "m.uid = users.id");
}

TEST(RewriterTest, CtesSubqueriesAndFunctionsAreLeftAlone) {
  EXPECT_EQ(Rewrite("WITH c AS (SELECT * FROM a) SELECT * FROM c, json_each('[1]') j, "
                    "(SELECT 1 FROM ns.b) s WHERE x IN ns.d",
                    VirtualTables()),
            "WITH c AS (SELECT * FROM vt_default_a AS a) SELECT * FROM c, json_each('[1]') j, "
            "(SELECT 1 FROM vt_ns_b AS b) s WHERE x IN vt_ns_d");
}

TEST(RewriterTest, ReplacerSeesEveryReferenceInOrder) {
  std::vector<std::string> seen;
  RewriteOptions options;
  options.replace_table = [&](const TableRef& ref) -> Result<std::string> {
    seen.push_back(ref.ns + "." + ref.name);
    return std::string("x");
  };
  EXPECT_EQ(Rewrite("SELECT * FROM a.t1 UNION SELECT * FROM t2 JOIN b.t3 ON 1", options),
            "SELECT * FROM x UNION SELECT * FROM x JOIN x ON 1");
  EXPECT_EQ(seen, (std::vector<std::string>{"a.t1", ".t2", "b.t3"}));
}

TEST(RewriterTest, ReplacerErrorAbortsTheRewrite) {
  RewriteOptions options;
  options.replace_table = [](const TableRef& ref) -> Result<std::string> {
    if (ref.name == "missing") return Status::TableNotFound("Table 'missing' does not exist");
    return ref.name;
  };
  auto out = TryRewrite("SELECT * FROM present JOIN missing ON 1", options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kTableNotFound);
  EXPECT_EQ(out.status().message(), "Table 'missing' does not exist");
}

// ---- INSERT ----

TEST(RewriterTest, InsertReturningIsLeftOut) {
  EXPECT_EQ(Rewrite("INSERT INTO t (a, b) VALUES ($1, 'x') RETURNING *"),
            "INSERT INTO t(a, b) VALUES (?1, 'x')");
  EXPECT_EQ(Rewrite("insert into t select * from s returning _seq", VirtualTables()),
            "INSERT INTO vt_default_t AS t SELECT * FROM vt_default_s AS s");
}

TEST(RewriterTest, InsertColumnsAreInjectedWhenNoneWereWritten) {
  RewriteOptions options = VirtualTables();
  options.insert_columns = {"id", "Body", "we\"ird"};
  EXPECT_EQ(Rewrite("INSERT INTO chat.m VALUES (1, 'a', 2), (3, 'b', 4)", options),
            "INSERT INTO vt_chat_m AS m(\"id\", \"Body\", \"we\"\"ird\") VALUES (1, 'a', 2), "
            "(3, 'b', 4)");
  EXPECT_EQ(Rewrite("INSERT INTO t AS x SELECT * FROM s", options),
            "INSERT INTO vt_default_t AS x(\"id\", \"Body\", \"we\"\"ird\") SELECT * FROM "
            "vt_default_s AS s");
}

TEST(RewriterTest, InsertColumnsAreNotInjectedOverAWrittenListOrIntoDefaultValues) {
  RewriteOptions options;
  options.insert_columns = {"id"};
  EXPECT_EQ(Rewrite("INSERT INTO t (a) VALUES (1)", options), "INSERT INTO t(a) VALUES (1)");
  EXPECT_EQ(Rewrite("INSERT INTO t DEFAULT VALUES", options), "INSERT INTO t DEFAULT VALUES");
  EXPECT_EQ(Rewrite("SELECT * FROM t", options), "SELECT * FROM t");
}

// ---- SELECT ----

TEST(RewriterTest, DefaultLimitIsAddedOnlyWithoutATopLevelLimit) {
  RewriteOptions options;
  options.default_limit = 50;
  EXPECT_EQ(Rewrite("SELECT * FROM t ORDER BY a", options), "SELECT * FROM t ORDER BY a LIMIT 50");
  EXPECT_EQ(Rewrite("SELECT * FROM t LIMIT 5", options), "SELECT * FROM t LIMIT 5");
  EXPECT_EQ(Rewrite("SELECT * FROM (SELECT * FROM t LIMIT 5)", options),
            "SELECT * FROM (SELECT * FROM t LIMIT 5) LIMIT 50");
  EXPECT_EQ(Rewrite("SELECT a FROM t UNION SELECT a FROM u", options),
            "SELECT a FROM t UNION SELECT a FROM u LIMIT 50");
  EXPECT_EQ(Rewrite("DELETE FROM t WHERE a = 1", options), "DELETE FROM t WHERE a = 1");
}

TEST(RewriterTest, ValuesQueryIsWrappedToTakeALimit) {
  RewriteOptions options;
  options.default_limit = 10;
  EXPECT_EQ(Rewrite("VALUES (1), (2)", options), "SELECT * FROM (VALUES (1), (2)) LIMIT 10");
  EXPECT_EQ(Rewrite("VALUES (1), (2)"), "VALUES (1), (2)");
}

TEST(RewriterTest, ParenthesesAroundTheWholeSelectAreDropped) {
  EXPECT_EQ(Rewrite("((SELECT 1 FROM t))"), "SELECT 1 FROM t");
  RewriteOptions options;
  options.default_limit = 7;
  EXPECT_EQ(Rewrite("(SELECT 1 FROM t)", options), "SELECT 1 FROM t LIMIT 7");
  EXPECT_EQ(Rewrite("(SELECT 1 FROM t LIMIT 2)", options), "SELECT 1 FROM t LIMIT 2");
}

}  // namespace
}  // namespace kalam::sql::parser
