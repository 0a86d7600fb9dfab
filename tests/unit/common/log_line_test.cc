// Tests for LogLine: the JSON line format, parsing both log formats, and the bounded tail read.
#include "common/log_line.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kalam {
namespace {

namespace fs = std::filesystem;

TEST(LogLineTest, TimestampIsRfc3339UtcWithMicros) {
  EXPECT_EQ(FormatLogTimestamp(1767225600000000), "2026-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatLogTimestamp(1767225600000000 + 3723000042), "2026-01-01T01:02:03.000042Z");
  EXPECT_EQ(FormatLogTimestamp(0), "1970-01-01T00:00:00.000000Z");
}

TEST(LogLineTest, JsonLineHasFixedFieldsInOrderAndEscapes) {
  LogLine l;
  l.timestamp = "2026-01-01T00:00:00.000001Z";
  l.level = "info";
  l.thread = "4242";
  l.target = "kalamdb";
  l.message = "two\nlines \"quoted\"";
  EXPECT_EQ(FormatJsonLogLine(l),
            "{\"timestamp\":\"2026-01-01T00:00:00.000001Z\",\"level\":\"info\",\"thread\":\"4242\","
            "\"target\":\"kalamdb\",\"message\":\"two\\nlines \\\"quoted\\\"\"}");
  l.file = "server.cc";
  l.line = 12;
  l.fields_json = "\"rows\":3";
  EXPECT_EQ(FormatJsonLogLine(l),
            "{\"timestamp\":\"2026-01-01T00:00:00.000001Z\",\"level\":\"info\",\"thread\":\"4242\","
            "\"target\":\"kalamdb\",\"file\":\"server.cc\",\"line\":12,"
            "\"message\":\"two\\nlines \\\"quoted\\\"\",\"rows\":3}");
}

TEST(LogLineTest, ParsesWhatItFormats) {
  LogLine l;
  l.timestamp = "2026-01-01T00:00:00.000001Z";
  l.level = "warning";
  l.thread = "7";
  l.target = "kalamdb";
  l.file = "a.cc";
  l.line = 9;
  l.message = "hello\nworld";
  auto parsed = ParseLogLine(FormatJsonLogLine(l) + "\n");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->timestamp, l.timestamp);
  EXPECT_EQ(parsed->level, "warning");
  EXPECT_EQ(parsed->thread, "7");
  EXPECT_EQ(parsed->target, "kalamdb");
  EXPECT_EQ(parsed->file, "a.cc");
  EXPECT_EQ(parsed->line, 9);
  EXPECT_EQ(parsed->message, "hello\nworld");
}

TEST(LogLineTest, ParsesCompactLinesWithAndWithoutColor) {
  auto a = ParseLogLine("2026-05-01T10:00:00.123Z [info] [tid 4242] Server started on :8080");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->timestamp, "2026-05-01T10:00:00.123Z");
  EXPECT_EQ(a->level, "info");
  EXPECT_EQ(a->thread, "4242");
  EXPECT_EQ(a->target, "kalamdb");
  EXPECT_EQ(a->message, "Server started on :8080");
  auto b = ParseLogLine("2026-05-01T10:00:00.123Z [\x1b[33m\x1b[1mwarning\x1b[0m] [tid 1] x");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->level, "warning");
  EXPECT_EQ(b->message, "x");
}

TEST(LogLineTest, RejectsOtherText) {
  EXPECT_FALSE(ParseLogLine("").has_value());
  EXPECT_FALSE(ParseLogLine("  Generated password for user 'root'").has_value());
  EXPECT_FALSE(ParseLogLine("{\"level\":\"info\"}").has_value());  // no timestamp, no message
  EXPECT_FALSE(ParseLogLine("{not json").has_value());
  EXPECT_FALSE(ParseLogLine("2026-05-01T10:00:00.123Z info no brackets").has_value());
}

class LogTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() / "kalam_log_tail_test.log";
    fs::remove(path_);
  }
  void TearDown() override { fs::remove(path_); }
  void Write(const std::string& text) {
    std::ofstream out(path_, std::ios::binary);
    out << text;
  }
  fs::path path_;
};

TEST_F(LogTailTest, MissingFileReadsAsNoLines) {
  auto lines = ReadLogTail(path_.string(), 1024);
  ASSERT_TRUE(lines.ok());
  EXPECT_TRUE(lines->empty());
}

TEST_F(LogTailTest, ContinuationLinesJoinThePreviousMessage) {
  Write("2026-05-01T10:00:00.001Z [info] [tid 1] first\n"
        "  second line of first\n"
        "{\"timestamp\":\"2026-05-01T10:00:00.000002Z\",\"level\":\"error\",\"message\":\"j\"}\n");
  auto lines = ReadLogTail(path_.string(), 1 << 20);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].message, "first\n  second line of first");
  EXPECT_EQ((*lines)[1].level, "error");
  EXPECT_EQ((*lines)[1].message, "j");
}

TEST_F(LogTailTest, ReadsOnlyTheLastBytesAndDropsTheCutLine) {
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text += "2026-05-01T10:00:00.001Z [info] [tid 1] message " + std::to_string(i) + "\n";
  }
  Write(text);
  const size_t line_bytes = text.size() / 100;  // every line has the same length up to i = 9
  auto lines = ReadLogTail(path_.string(), 3 * line_bytes + 5);
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 3u);  // the partial fourth-last line is dropped
  EXPECT_EQ((*lines)[0].message, "message 97");
  EXPECT_EQ((*lines)[2].message, "message 99");
}

}  // namespace
}  // namespace kalam
