// Tests of statement splitting and input classification.
#include "kalam/sql_script.h"

#include <gtest/gtest.h>

namespace kalam::client {
namespace {

std::vector<std::string> Texts(std::string_view script) {
  std::vector<std::string> out;
  for (const auto& s : SplitStatements(script)) out.push_back(s.text);
  return out;
}

TEST(SplitStatementsTest, SplitsAtTopLevelSemicolons) {
  EXPECT_EQ(Texts("SELECT 1; SELECT 2;"), (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT 1"), (std::vector<std::string>{"SELECT 1"}));
  EXPECT_EQ(Texts("  ;;  ; "), (std::vector<std::string>{}));
}

TEST(SplitStatementsTest, RespectsQuotesAndEscapedQuotes) {
  EXPECT_EQ(Texts("INSERT INTO t VALUES ('a;b'); SELECT 'it''s; fine'"),
            (std::vector<std::string>{"INSERT INTO t VALUES ('a;b')", "SELECT 'it''s; fine'"}));
  EXPECT_EQ(Texts("SELECT \"odd;name\" FROM t; SELECT `x;y`; SELECT [a;b]"),
            (std::vector<std::string>{"SELECT \"odd;name\" FROM t", "SELECT `x;y`",
                                      "SELECT [a;b]"}));
}

TEST(SplitStatementsTest, RespectsCommentsAndDropsCommentOnlyStatements) {
  EXPECT_EQ(Texts("-- first; not a split\nSELECT 1; /* a; b */ SELECT 2;\n-- trailing;\n"),
            (std::vector<std::string>{"SELECT 1", "SELECT 2"}));
  EXPECT_EQ(Texts("SELECT 1 -- no split; here\n, 2;"),
            (std::vector<std::string>{"SELECT 1 -- no split; here\n, 2"}));
  EXPECT_EQ(Texts("/* only a comment; */"), (std::vector<std::string>{}));
}

TEST(SplitStatementsTest, ReportsTheLineWhereEachStatementStarts) {
  auto st = SplitStatements("-- header\n\nSELECT 1;\nSELECT\n  2;  SELECT 3;\n/* c */ SELECT 4");
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].line, 3u);
  EXPECT_EQ(st[1].line, 4u);
  EXPECT_EQ(st[1].text, "SELECT\n  2");
  EXPECT_EQ(st[2].line, 5u);
  EXPECT_EQ(st[3].line, 6u);
  EXPECT_EQ(st[3].text, "SELECT 4");
}

TEST(SplitStatementsTest, UnterminatedQuoteRunsToTheEnd) {
  EXPECT_EQ(Texts("SELECT 'abc; def"), (std::vector<std::string>{"SELECT 'abc; def"}));
}

TEST(ClassifyInputTest, CompleteOnlyAfterATerminatingSemicolon) {
  EXPECT_EQ(ClassifyInput(""), InputState::kEmpty);
  EXPECT_EQ(ClassifyInput("  \n -- just a comment\n"), InputState::kEmpty);
  EXPECT_EQ(ClassifyInput("SELECT 1"), InputState::kIncomplete);
  EXPECT_EQ(ClassifyInput("SELECT 1;"), InputState::kComplete);
  EXPECT_EQ(ClassifyInput("SELECT 1;  -- done\n"), InputState::kComplete);
  EXPECT_EQ(ClassifyInput("SELECT 1; SELECT"), InputState::kIncomplete);
  EXPECT_EQ(ClassifyInput("SELECT 'a;"), InputState::kIncomplete);
  EXPECT_EQ(ClassifyInput("SELECT 'a;'"), InputState::kIncomplete);
  EXPECT_EQ(ClassifyInput("SELECT 'a;';"), InputState::kComplete);
  EXPECT_EQ(ClassifyInput("SELECT 1 /* ; "), InputState::kIncomplete);
  EXPECT_EQ(ClassifyInput("SELECT 1 /* ; */;"), InputState::kComplete);
  EXPECT_EQ(ClassifyInput("SELECT 1; /* open"), InputState::kIncomplete);
}

TEST(FirstKeywordTest, SkipsCommentsAndUpperCases) {
  EXPECT_EQ(FirstKeyword("  select 1"), "SELECT");
  EXPECT_EQ(FirstKeyword("-- c\n/* d */ Insert into t"), "INSERT");
  EXPECT_EQ(FirstKeyword("'quoted' x"), "X");
  EXPECT_EQ(FirstKeyword("   "), "");
}

TEST(IsReadOnlyStatementTest, OnlyReadsAreIdempotent) {
  EXPECT_TRUE(IsReadOnlyStatement("SELECT * FROM t"));
  EXPECT_TRUE(IsReadOnlyStatement("show tables"));
  EXPECT_TRUE(IsReadOnlyStatement("DESCRIBE TABLE t"));
  EXPECT_TRUE(IsReadOnlyStatement("WITH x AS (SELECT 1) SELECT * FROM x"));
  EXPECT_FALSE(IsReadOnlyStatement("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"));
  EXPECT_TRUE(IsReadOnlyStatement("WITH x AS (SELECT 'insert') SELECT * FROM x"));
  EXPECT_FALSE(IsReadOnlyStatement("INSERT INTO t VALUES (1)"));
  EXPECT_FALSE(IsReadOnlyStatement("DELETE FROM t"));
  EXPECT_FALSE(IsReadOnlyStatement("CREATE NAMESPACE x"));
}

}  // namespace
}  // namespace kalam::client
