// Tests for the SQL lexer: token classes, values, offsets and the errors for malformed input.
#include "sql/parser/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sql/parser/keywords.h"

namespace kalam::sql::parser {
namespace {

std::vector<Token> LexOk(std::string_view sql, LexOptions options = {}) {
  auto tokens = Lex(sql, options);
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  return tokens.ok() ? *tokens : std::vector<Token>{};
}

std::vector<std::string> Values(const std::vector<Token>& tokens) {
  std::vector<std::string> out;
  for (const Token& t : tokens) out.push_back(t.value);
  return out;
}

std::vector<TokenKind> Kinds(const std::vector<Token>& tokens) {
  std::vector<TokenKind> out;
  for (const Token& t : tokens) out.push_back(t.kind);
  return out;
}

Status LexError(std::string_view sql) {
  auto tokens = Lex(sql);
  EXPECT_FALSE(tokens.ok()) << "expected an error for: " << sql;
  return tokens.status();
}

TEST(LexerTest, TokensRememberOffsetAndLengthInTheSource) {
  const std::string sql = "SELECT  a,\n\"b c\" FROM t";
  auto tokens = LexOk(sql);
  ASSERT_EQ(tokens.size(), 6u);
  EXPECT_EQ(tokens[0].offset, 0u);
  EXPECT_EQ(tokens[0].length, 6u);
  EXPECT_EQ(tokens[1].offset, 8u);
  EXPECT_EQ(tokens[3].Raw(sql), "\"b c\"");
  EXPECT_EQ(tokens[3].value, "b c");
  EXPECT_EQ(tokens[5].Raw(sql), "t");
}

TEST(LexerTest, BareIdentifiersKeepCaseAndMatchKeywordsIgnoringCase) {
  auto tokens = LexOk("sElEcT MyTable _x9 a$b über");
  EXPECT_EQ(Values(tokens), (std::vector<std::string>{"sElEcT", "MyTable", "_x9", "a$b", "über"}));
  for (const Token& t : tokens) EXPECT_EQ(t.kind, TokenKind::kIdentifier);
  EXPECT_TRUE(tokens[0].IsWord("SELECT"));
  EXPECT_TRUE(tokens[0].IsWord("select"));
  EXPECT_EQ(tokens[0].Upper(), "SELECT");
  EXPECT_FALSE(tokens[1].IsWord("SELECT"));
}

TEST(LexerTest, QuotedIdentifiersInAllThreeFormsAreNamesNotKeywords) {
  auto tokens = LexOk(R"("a""b" `c``d` [e f] "select")");
  EXPECT_EQ(Values(tokens), (std::vector<std::string>{"a\"b", "c`d", "e f", "select"}));
  for (const Token& t : tokens) EXPECT_EQ(t.kind, TokenKind::kQuotedIdentifier);
  EXPECT_FALSE(tokens[3].IsWord("SELECT"));
  EXPECT_TRUE(tokens[3].IsName());
}

TEST(LexerTest, StringLiteralsUndoDoubledQuotesAndKeepOtherQuotes) {
  const std::string sql = R"(SELECT 'it''s', '', 'say "hi"', '-- not a comment', '/* nor this */')";
  auto tokens = LexOk(sql);
  ASSERT_EQ(tokens.size(), 10u);
  EXPECT_EQ(tokens[1].kind, TokenKind::kString);
  EXPECT_EQ(tokens[1].value, "it's");
  EXPECT_EQ(tokens[1].Raw(sql), "'it''s'");
  EXPECT_EQ(tokens[3].value, "");
  EXPECT_EQ(tokens[5].value, "say \"hi\"");
  EXPECT_EQ(tokens[7].value, "-- not a comment");
  EXPECT_EQ(tokens[9].value, "/* nor this */");
}

TEST(LexerTest, UnicodeInStringsIsKeptByteForByte) {
  const std::string text = "héllo 世界 🎉";
  auto tokens = LexOk("INSERT INTO t VALUES ('" + text + "')");
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[5].kind, TokenKind::kString);
  EXPECT_EQ(tokens[5].value, text);
}

TEST(LexerTest, BlobLiterals) {
  auto tokens = LexOk("x'0aFF' X''");
  EXPECT_EQ(Kinds(tokens), (std::vector<TokenKind>{TokenKind::kBlob, TokenKind::kBlob}));
  EXPECT_EQ(tokens[0].value, "0aFF");
  EXPECT_EQ(tokens[1].value, "");
  EXPECT_EQ(LexError("SELECT x'abc'").code(), StatusCode::kInvalidSql);
  EXPECT_EQ(LexError("SELECT x'zz'").message(),
            "Invalid blob literal at offset 7: x'zz' (needs an even number of hex digits)");
}

TEST(LexerTest, NumbersOfEveryForm) {
  auto tokens = LexOk("42 3.14 1. .5 1e10 2.5E-3 7e+2 0x1F 0XaB");
  EXPECT_EQ(Values(tokens), (std::vector<std::string>{"42", "3.14", "1.", ".5", "1e10", "2.5E-3",
                                                      "7e+2", "0x1F", "0XaB"}));
  EXPECT_EQ(Kinds(tokens),
            (std::vector<TokenKind>{TokenKind::kInteger, TokenKind::kFloat, TokenKind::kFloat,
                                    TokenKind::kFloat, TokenKind::kFloat, TokenKind::kFloat,
                                    TokenKind::kFloat, TokenKind::kInteger, TokenKind::kInteger}));
}

TEST(LexerTest, NumberGluedToAWordIsAnError) {
  EXPECT_EQ(LexError("SELECT 12abc").message(), "Unrecognized token at offset 7: '12abc'");
  EXPECT_EQ(LexError("SELECT 1e").message(), "Unrecognized token at offset 7: '1e'");
  EXPECT_EQ(LexError("SELECT 0x").message(), "Unrecognized token at offset 7: '0x'");
}

TEST(LexerTest, ParametersOfEveryForm) {
  auto tokens = LexOk("$1 ?2 ? :name @who $abc");
  EXPECT_EQ(Values(tokens), (std::vector<std::string>{"$1", "?2", "?", ":name", "@who", "$abc"}));
  for (const Token& t : tokens) EXPECT_EQ(t.kind, TokenKind::kParameter);
  EXPECT_EQ(LexError("SELECT $").message(), "Unrecognized token at offset 7: '$'");
  EXPECT_EQ(LexError("SELECT a : b").code(), StatusCode::kInvalidSql);
}

TEST(LexerTest, OperatorsTakeTheLongestMatch) {
  auto tokens = LexOk("|| -> ->> <= >= <> != == << >> < > = + - * / % & | ~");
  EXPECT_EQ(Values(tokens),
            (std::vector<std::string>{"||", "->", "->>", "<=", ">=", "<>", "!=", "==", "<<", ">>",
                                      "<", ">", "=", "+", "-", "*", "/", "%", "&", "|", "~"}));
  for (const Token& t : tokens) EXPECT_EQ(t.kind, TokenKind::kOperator);
  auto json = LexOk("data->>'$.a'");
  EXPECT_EQ(Values(json), (std::vector<std::string>{"data", "->>", "$.a"}));
}

TEST(LexerTest, PunctuationTokens) {
  auto tokens = LexOk("f(a, b.c);");
  EXPECT_EQ(Values(tokens),
            (std::vector<std::string>{"f", "(", "a", ",", "b", ".", "c", ")", ";"}));
  EXPECT_TRUE(tokens[1].IsPunct('('));
  EXPECT_TRUE(tokens[5].IsPunct('.'));
}

TEST(LexerTest, CommentsAndWhitespaceAreDroppedUnlessAsked) {
  const std::string sql = "SELECT /* inline */ 1 -- trailing\n+ 2 --eof";
  EXPECT_EQ(Values(LexOk(sql)), (std::vector<std::string>{"SELECT", "1", "+", "2"}));
  auto all = LexOk(sql, LexOptions{.keep_trivia = true});
  std::vector<std::string> comments;
  for (const Token& t : all) {
    if (t.kind == TokenKind::kComment) comments.push_back(t.value);
  }
  EXPECT_EQ(comments, (std::vector<std::string>{"/* inline */", "-- trailing", "--eof"}));
  std::string rebuilt;
  for (const Token& t : all) rebuilt += t.Raw(sql);
  EXPECT_EQ(rebuilt, sql);
}

TEST(LexerTest, DoubleMinusStartsACommentButSeparatedMinusesDoNot) {
  EXPECT_EQ(Values(LexOk("SELECT 1 --2")), (std::vector<std::string>{"SELECT", "1"}));
  EXPECT_EQ(Values(LexOk("SELECT 1 - -2")),
            (std::vector<std::string>{"SELECT", "1", "-", "-", "2"}));
}

TEST(LexerTest, UnterminatedConstructsAreInvalidSql) {
  Status s = LexError("SELECT 'abc");
  EXPECT_EQ(s.code(), StatusCode::kInvalidSql);
  EXPECT_EQ(s.message(), "Unterminated string literal starting at offset 7: 'abc");
  EXPECT_EQ(LexError("SELECT 'it''s").message(),
            "Unterminated string literal starting at offset 7: 'it''s");
  EXPECT_EQ(LexError("SELECT \"abc").message(),
            "Unterminated quoted identifier starting at offset 7: \"abc");
  EXPECT_EQ(LexError("SELECT `abc").message(),
            "Unterminated quoted identifier starting at offset 7: `abc");
  EXPECT_EQ(LexError("SELECT [abc").message(),
            "Unterminated quoted identifier starting at offset 7: [abc");
  EXPECT_EQ(LexError("SELECT 1 /* never closed").message(),
            "Unterminated block comment starting at offset 9: /* never closed (close it with */)");
  EXPECT_EQ(LexError("SELECT x'00").message(),
            "Unterminated blob literal starting at offset 7: x'00");
}

TEST(LexerTest, LongUnterminatedStringIsExcerptedInTheMessage) {
  Status s = LexError("SELECT 'abcdefghijklmnopqrstuvwxyz0123456789");
  EXPECT_EQ(s.message(),
            "Unterminated string literal starting at offset 7: 'abcdefghijklmnopqrstuvw...");
}

TEST(LexerTest, CharactersThatStartNoTokenAreErrors) {
  EXPECT_EQ(LexError("SELECT #1").message(), "Unrecognized token at offset 7: '#'");
  EXPECT_EQ(LexError("SELECT !1").message(), "Unrecognized token at offset 7: '!'");
  EXPECT_EQ(LexError("SELECT {").code(), StatusCode::kInvalidSql);
}

TEST(LexerTest, EmptyAndBlankInputGiveNoTokens) {
  EXPECT_TRUE(LexOk("").empty());
  EXPECT_TRUE(LexOk(" \n\t -- only a comment\n /* and another */ ").empty());
}

TEST(LexerTest, CaseHelpers) {
  EXPECT_TRUE(EqualsIgnoreCase("Select", "SELECT"));
  EXPECT_FALSE(EqualsIgnoreCase("Select", "SELECTS"));
  EXPECT_EQ(ToUpperAscii("abc_é1"), "ABC_é1");
}

TEST(KeywordsTest, RecognisesSqliteKeywordsInAnyCase) {
  EXPECT_TRUE(IsSqliteKeyword("select"));
  EXPECT_TRUE(IsSqliteKeyword("Key"));
  EXPECT_TRUE(IsSqliteKeyword("CURRENT_TIMESTAMP"));
  EXPECT_TRUE(IsSqliteKeyword("returning"));
  EXPECT_FALSE(IsSqliteKeyword("users"));
  EXPECT_FALSE(IsSqliteKeyword("TRUE"));
  EXPECT_FALSE(IsSqliteKeyword("count"));
  EXPECT_FALSE(IsSqliteKeyword(""));
}

TEST(LexerTest, QuestionMarkBeforeAStringIsTheJsonKeyTest) {
  auto tokens = LexOk("doc ? 'k' AND d?'x' AND a = ? AND b = ?1");
  ASSERT_EQ(tokens.size(), 15u);
  EXPECT_TRUE(tokens[1].IsOperator("?"));
  EXPECT_EQ(tokens[1].SqliteText("doc ? 'k'"), "MATCH");
  EXPECT_EQ(tokens[0].SqliteText("doc ? 'k'"), "doc");
  EXPECT_TRUE(tokens[5].IsOperator("?"));
  EXPECT_EQ(tokens[10].kind, TokenKind::kParameter);
  EXPECT_EQ(tokens[14].kind, TokenKind::kParameter);
}

}  // namespace
}  // namespace kalam::sql::parser
