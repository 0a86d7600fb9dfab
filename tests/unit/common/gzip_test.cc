// Tests for the server's gzip: round trips, the inflate limits and modes, and streams spliced from
// a head and a shared pre-deflated tail.
#include "common/gzip.h"

#include <string>

#include <gtest/gtest.h>

namespace kalam {
namespace {

std::string Repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string Inflate(std::string_view in, GunzipOptions options = {.max_bytes = 1 << 20}) {
  std::string out;
  EXPECT_EQ(Gunzip(in, options, &out), GunzipResult::kOk);
  return out;
}

TEST(GzipTest, RoundTripsAtEveryLevelWithAGzipHeader) {
  const std::string text = Repeat("{\"id\":\"42\",\"body\":\"hello\"},", 200);
  for (int level : {kGzipFastest, kGzipDefault, 9}) {
    std::string zipped;
    ASSERT_TRUE(Gzip(text, level, &zipped));
    EXPECT_EQ(zipped.substr(0, 2), "\x1f\x8b");
    EXPECT_LT(zipped.size(), text.size());
    EXPECT_EQ(Inflate(zipped), text);
  }
  std::string empty;
  ASSERT_TRUE(Gzip("", kGzipFastest, &empty));
  EXPECT_EQ(Inflate(empty), "");
}

TEST(GzipTest, GunzipRefusesOutputOverTheLimitAndCorruptInput) {
  const std::string text(10000, 'a');
  std::string zipped, out;
  ASSERT_TRUE(Gzip(text, kGzipFastest, &zipped));
  EXPECT_EQ(Gunzip(zipped, {.max_bytes = 9999}, &out), GunzipResult::kTooLarge);
  EXPECT_LE(out.size(), 10000u);
  EXPECT_EQ(Gunzip(zipped, {.max_bytes = 10000}, &out), GunzipResult::kOk);
  int status = 0;
  EXPECT_EQ(Gunzip(zipped.substr(0, zipped.size() - 4), {.max_bytes = 1 << 20}, &out, &status),
            GunzipResult::kCorrupt);  // truncated trailer
  EXPECT_EQ(Gunzip("not gzip at all", {.max_bytes = 1 << 20}, &out, &status),
            GunzipResult::kCorrupt);
  EXPECT_NE(status, 0);
}

TEST(GzipTest, SecondMemberAndZlibStreamsOnlyWhenAsked) {
  std::string a, b, out;
  ASSERT_TRUE(Gzip("first,", kGzipFastest, &a));
  ASSERT_TRUE(Gzip("second", kGzipFastest, &b));
  EXPECT_EQ(Gunzip(a + b, {.max_bytes = 100}, &out), GunzipResult::kCorrupt);
  EXPECT_EQ(Gunzip(a + b, {.max_bytes = 100, .concatenated_members = true}, &out),
            GunzipResult::kOk);
  EXPECT_EQ(out, "first,second");
  const std::string zlib_hello("\x78\x9c\xcb\x48\xcd\xc9\xc9\x07\x00\x06\x2c\x02\x15", 13);
  EXPECT_EQ(Gunzip(zlib_hello, {.max_bytes = 100}, &out), GunzipResult::kCorrupt);
  EXPECT_EQ(Gunzip(zlib_hello, {.max_bytes = 100, .accept_zlib = true}, &out), GunzipResult::kOk);
  EXPECT_EQ(out, "hello");
}

TEST(GzipTest, HeadPlusSharedTailInflatesToTheirConcatenation) {
  const std::string tail_text = ",\"change_type\":\"insert\",\"rows\":[" + Repeat("{\"v\":1},", 100) + "]}";
  const DeflatedTail tail = DeflateTail(tail_text);
  ASSERT_TRUE(tail.ok);
  for (std::string head : {std::string(), std::string("{\"type\":\"change\",\"subscription_id\":\"s\"")}) {
    std::optional<std::string> zipped = GzipWithTail(head, tail);
    ASSERT_TRUE(zipped);
    EXPECT_EQ(Inflate(*zipped), head + tail_text);
  }
  EXPECT_FALSE(GzipWithTail(std::string(70000, 'h'), tail));  // longer than one stored block
  EXPECT_FALSE(GzipWithTail("h", DeflatedTail{}));
}

}  // namespace
}  // namespace kalam
