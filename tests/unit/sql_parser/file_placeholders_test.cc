// Tests for FILE("name") placeholder search and substitution.
#include "sql/parser/file_placeholders.h"

#include <gtest/gtest.h>

namespace kalam::sql::parser {
namespace {

std::vector<std::string> Names(std::string_view sql) {
  auto found = FindFilePlaceholders(sql);
  EXPECT_TRUE(found.ok()) << found.status().ToString();
  std::vector<std::string> out;
  if (found.ok()) {
    for (const auto& p : *found) out.push_back(p.name);
  }
  return out;
}

TEST(FilePlaceholdersTest, FindsEveryQuotingCaseAndSpacing) {
  EXPECT_EQ(Names("INSERT INTO t (a, b) VALUES (FILE(\"x\"), file('y'))"),
            (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(Names("UPDATE t SET f = File ( \"a b\" ) WHERE id = 1"),
            (std::vector<std::string>{"a b"}));
  EXPECT_EQ(Names("insert into t values (FILE(\"x\"), FILE(\"x\"))"),
            (std::vector<std::string>{"x", "x"}));
}

TEST(FilePlaceholdersTest, NeverFiresInsideLiteralsCommentsOrOtherNames) {
  EXPECT_TRUE(Names("INSERT INTO t VALUES ('FILE(\"x\")')").empty());
  EXPECT_TRUE(Names("SELECT PROFILE('x'), FILES('y'), myfile(\"z\") FROM t").empty());
  EXPECT_TRUE(Names("SELECT 1 -- FILE(\"x\")\n").empty());
  EXPECT_TRUE(Names("SELECT 1 /* FILE('x') */").empty());
  EXPECT_TRUE(Names("SELECT t.FILE(\"x\") FROM t").empty());
  EXPECT_TRUE(Names("SELECT FILE(x), FILE(`x`), FILE([x]), FILE('a', 'b') FROM t").empty());
  EXPECT_TRUE(Names("SELECT \"FILE\"('x')").empty());
}

TEST(FilePlaceholdersTest, ReplacesWithQuotedLiterals) {
  const std::string sql = "INSERT INTO t VALUES (1, FILE( \"a\" ), 'FILE(\"a\")', file('b'))";
  auto found = FindFilePlaceholders(sql);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(ReplaceFilePlaceholders(sql, *found, {{"a", "{\"name\":\"it's\"}"}, {"b", "B"}}),
            "INSERT INTO t VALUES (1, '{\"name\":\"it''s\"}', 'FILE(\"a\")', 'B')");
}

TEST(FilePlaceholdersTest, UnlexableTextIsAnError) {
  EXPECT_FALSE(FindFilePlaceholders("SELECT 'unterminated").ok());
  EXPECT_TRUE(MayContainFilePlaceholder("x fIlE y"));
  EXPECT_FALSE(MayContainFilePlaceholder("SELECT 1"));
}

}  // namespace
}  // namespace kalam::sql::parser
