// Tests of the client's result renderings: display width, tables, CSV, JSON lines.
#include "kalam/format.h"

#include <gtest/gtest.h>

namespace kalam::client {
namespace {

Column Col(std::string name, TypeKind kind) {
  Column c;
  c.name = std::move(name);
  c.type.kind = kind;
  return c;
}

QueryResult Sample() {
  QueryResult r;
  r.columns = {Col("id", TypeKind::kBigInt), Col("name", TypeKind::kText),
               Col("price", TypeKind::kDouble)};
  r.rows.push_back({Value::Int(1), Value::String("apple"), Value::Double(1.5)});
  r.rows.push_back({Value::Int(22), Value::String("日本語"), Value::Null(TypeKind::kDouble)});
  r.row_count = 2;
  return r;
}

TEST(DisplayWidthTest, CountsWideCombiningAndInvalidBytes) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("日本語"), 6u);
  EXPECT_EQ(DisplayWidth("ｱｲｳ"), 3u);           // halfwidth katakana are narrow
  EXPECT_EQ(DisplayWidth("ＡＢ"), 4u);           // fullwidth Latin is wide
  EXPECT_EQ(DisplayWidth("한국어"), 6u);
  EXPECT_EQ(DisplayWidth("🎉x"), 3u);
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);     // e + combining acute accent
  EXPECT_EQ(DisplayWidth("a\xE2\x80\x8B" "b"), 2u);  // zero-width space
  EXPECT_EQ(DisplayWidth("\xFF\xFE"), 2u);      // invalid bytes count one each
  EXPECT_EQ(DisplayWidth("\xE6\x97"), 2u);      // truncated sequence
}

TEST(DisplayWidthTest, TruncateNeverSplitsACharacterAndAddsAnEllipsis) {
  EXPECT_EQ(TruncateToWidth("hello", 5), "hello");
  EXPECT_EQ(TruncateToWidth("hello", 4), "hel…");
  EXPECT_EQ(TruncateToWidth("日本語", 4), "日…");  // 2 + 1: the next wide char does not fit
  EXPECT_EQ(TruncateToWidth("日本語", 5), "日本…");
  EXPECT_EQ(TruncateToWidth("abc", 0), "");
  EXPECT_EQ(DisplayWidth(TruncateToWidth("日本語テキスト", 7)), 7u);
}

TEST(RenderTableTest, AlignsByDisplayWidthAndRightAlignsNumbers) {
  EXPECT_EQ(RenderTable(Sample()),
            "+----+--------+-------+\n"
            "| id | name   | price |\n"
            "+----+--------+-------+\n"
            "|  1 | apple  |   1.5 |\n"
            "| 22 | 日本語 |  NULL |\n"
            "+----+--------+-------+\n"
            "(2 rows)\n");
}

TEST(RenderTableTest, EmptyResultShowsHeaderAndZeroRows) {
  QueryResult r;
  r.columns = {Col("a", TypeKind::kText)};
  EXPECT_EQ(RenderTable(r), "+---+\n| a |\n+---+\n(0 rows)\n");
}

TEST(RenderTableTest, MessageResultRendersAsItsMessage) {
  QueryResult r;
  r.message = "Inserted 3 row(s)";
  r.row_count = 3;
  EXPECT_EQ(RenderTable(r), "Inserted 3 row(s)\n");
  EXPECT_EQ(RenderTable(QueryResult{}), "OK\n");
}

TEST(RenderTableTest, ControlCharactersAreShownEscaped) {
  QueryResult r;
  r.columns = {Col("v", TypeKind::kText)};
  r.rows.push_back({Value::String("a\nb\tc")});
  EXPECT_EQ(RenderTable(r),
            "+---------+\n| v       |\n+---------+\n| a\\nb\\tc |\n+---------+\n(1 row)\n");
}

TEST(RenderTableTest, FitsTheTerminalByShorteningTheWidestColumn) {
  QueryResult r;
  r.columns = {Col("id", TypeKind::kInt), Col("body", TypeKind::kText)};
  r.rows.push_back({Value::Int(1, TypeKind::kInt), Value::String("こんにちは世界、長いテキスト")});
  TableOptions o;
  o.max_width = 24;
  const std::string out = RenderTable(r, o);
  EXPECT_EQ(out,
            "+----+-----------------+\n"
            "| id | body            |\n"
            "+----+-----------------+\n"
            "|  1 | こんにちは世界… |\n"
            "+----+-----------------+\n"
            "(1 row)\n");
  for (size_t start = 0; start < out.size();) {
    const size_t end = out.find('\n', start);
    const std::string line = out.substr(start, end - start);
    if (line[0] == '+' || line[0] == '|') {
      EXPECT_EQ(DisplayWidth(line), 24u) << line;
    }
    start = end + 1;
  }
}

TEST(RenderTableTest, TruncatedResultsSaySoAndColorIsOptIn) {
  QueryResult r = Sample();
  r.truncated = true;
  const std::string out = RenderTable(r);
  EXPECT_NE(out.find("(2 rows; truncated by the server's row limit, add LIMIT to see more)\n"),
            std::string::npos);
  EXPECT_EQ(out.find('\x1b'), std::string::npos);
  TableOptions o;
  o.color = true;
  o.null_text = "∅";
  const std::string colored = RenderTable(Sample(), o);
  EXPECT_NE(colored.find("\x1b[1mid\x1b[0m"), std::string::npos);
  EXPECT_NE(colored.find("\x1b[2m    ∅\x1b[0m"), std::string::npos);
}

TEST(CsvTest, QuotesOnlyWhatNeedsQuoting) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField("日本語"), "日本語");
}

TEST(CsvTest, RendersHeaderRowsAndEmptyFieldsForNull) {
  EXPECT_EQ(RenderCsv(Sample()), "id,name,price\n1,apple,1.5\n22,日本語,\n");
  QueryResult message;
  message.message = "Deleted 1 row(s)";
  EXPECT_EQ(RenderCsv(message), "");
}

TEST(JsonLineTest, RowsAreObjectsWithWireEncodedValues) {
  QueryResult r = Sample();
  r.columns.push_back(Col("raw", TypeKind::kBytes));
  r.rows[0].push_back(Value::Bytes({104, 105}));
  r.rows[1].push_back(Value::Null(TypeKind::kBytes));
  EXPECT_EQ(RenderJsonLine(r),
            "{\"rows\":[{\"id\":\"1\",\"name\":\"apple\",\"price\":1.5,\"raw\":[104,105]},"
            "{\"id\":\"22\",\"name\":\"日本語\",\"price\":null,\"raw\":null}],\"row_count\":2}\n");
  QueryResult m;
  m.row_count = 1;
  m.message = "Inserted 1 row(s)";
  m.truncated = true;
  EXPECT_EQ(RenderJsonLine(m),
            "{\"row_count\":1,\"message\":\"Inserted 1 row(s)\",\"truncated\":true}\n");
}

TEST(JsonLineTest, QuoteEscapesControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  EXPECT_EQ(JsonQuote("é"), "\"é\"");
}

}  // namespace
}  // namespace kalam::client
