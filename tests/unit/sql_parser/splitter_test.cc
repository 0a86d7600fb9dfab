// Tests for splitting a request into statements.
#include "sql/parser/splitter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kalam::sql::parser {
namespace {

std::vector<std::string> Texts(std::string_view sql) {
  auto statements = SplitStatements(sql);
  EXPECT_TRUE(statements.ok()) << statements.status().ToString();
  std::vector<std::string> out;
  if (!statements.ok()) return out;
  for (const SqlStatement& s : *statements) out.push_back(s.text);
  return out;
}

TEST(SplitterTest, SplitsOnTopLevelSemicolons) {
  EXPECT_EQ(Texts("SELECT 1; SELECT 2;SELECT 3"),
            (std::vector<std::string>{"SELECT 1", "SELECT 2", "SELECT 3"}));
}

TEST(SplitterTest, SemicolonInsideAStringDoesNotSplit) {
  EXPECT_EQ(Texts("INSERT INTO t VALUES ('a;b'); SELECT ';'"),
            (std::vector<std::string>{"INSERT INTO t VALUES ('a;b')", "SELECT ';'"}));
}

TEST(SplitterTest, SemicolonInsideCommentsDoesNotSplit) {
  EXPECT_EQ(Texts("SELECT 1 /* a; b */ + 2; -- c; d\nSELECT 3"),
            (std::vector<std::string>{"SELECT 1 /* a; b */ + 2", "SELECT 3"}));
}

TEST(SplitterTest, SemicolonInsideQuotedIdentifiersDoesNotSplit) {
  EXPECT_EQ(Texts("SELECT \"a;b\", `c;d`, [e;f] FROM t; SELECT 2"),
            (std::vector<std::string>{"SELECT \"a;b\", `c;d`, [e;f] FROM t", "SELECT 2"}));
}

TEST(SplitterTest, SemicolonInsideParenthesesDoesNotSplit) {
  EXPECT_EQ(Texts("EXECUTE AS USER 'alice' (INSERT INTO t VALUES (1);); SELECT 2"),
            (std::vector<std::string>{"EXECUTE AS USER 'alice' (INSERT INTO t VALUES (1);)",
                                      "SELECT 2"}));
  EXPECT_EQ(Texts("EXECUTE AS USER 'a' ( SELECT 1 ; SELECT 2 )"),
            (std::vector<std::string>{"EXECUTE AS USER 'a' ( SELECT 1 ; SELECT 2 )"}));
}

TEST(SplitterTest, UnmatchedCloseParenDoesNotStopSplitting) {
  EXPECT_EQ(Texts("SELECT 1); SELECT 2"), (std::vector<std::string>{"SELECT 1)", "SELECT 2"}));
}

TEST(SplitterTest, EmptyStatementsAreDropped) {
  EXPECT_EQ(Texts(";;SELECT 1;; ;SELECT 2;"),
            (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
  EXPECT_TRUE(Texts("").empty());
  EXPECT_TRUE(Texts(" ; ;\n").empty());
  EXPECT_TRUE(Texts("-- nothing here\n/* or here */;").empty());
}

TEST(SplitterTest, TextIsTrimmedOfSurroundingCommentsAndWhitespace) {
  EXPECT_EQ(Texts("  -- lead\n  SELECT 1 -- tail\n ; /* x */ SELECT 2 /* y */"),
            (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
}

TEST(SplitterTest, TokensAreRelativeToTheStatementText) {
  const std::string sql = "SELECT 1;  INSERT INTO t VALUES ('x''y')";
  auto statements = SplitStatements(sql);
  ASSERT_TRUE(statements.ok());
  ASSERT_EQ(statements->size(), 2u);
  const SqlStatement& insert = (*statements)[1];
  EXPECT_EQ(insert.offset, 11u);
  EXPECT_EQ(insert.text, "INSERT INTO t VALUES ('x''y')");
  ASSERT_EQ(insert.tokens.size(), 7u);
  EXPECT_EQ(insert.tokens[0].offset, 0u);
  EXPECT_EQ(insert.Raw(5), "'x''y'");
  EXPECT_EQ(insert.tokens[5].value, "x'y");
  EXPECT_EQ(sql.substr(insert.offset, insert.text.size()), insert.text);
}

TEST(SplitterTest, LexErrorsAreReported) {
  auto statements = SplitStatements("SELECT 1; SELECT 'open");
  ASSERT_FALSE(statements.ok());
  EXPECT_EQ(statements.status().code(), StatusCode::kInvalidSql);
}

TEST(SplitterTest, SliceStatementMakesAStandaloneStatement) {
  auto statements = SplitStatements("EXECUTE AS USER 'a' (SELECT  x FROM t)");
  ASSERT_TRUE(statements.ok());
  const SqlStatement& outer = (*statements)[0];
  SqlStatement inner = SliceStatement(outer, 5, 9);
  EXPECT_EQ(inner.text, "SELECT  x FROM t");
  EXPECT_EQ(inner.offset, 21u);
  EXPECT_EQ(inner.tokens.size(), 4u);
  EXPECT_EQ(inner.tokens[0].offset, 0u);
  EXPECT_EQ(inner.Raw(3), "t");
}

}  // namespace
}  // namespace kalam::sql::parser
