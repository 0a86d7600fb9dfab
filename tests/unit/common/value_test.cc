// Tests for Value's rendering in error messages.
#include "common/value.h"

#include <gtest/gtest.h>

namespace kalam {
namespace {

TEST(ValueDebugStringTest, RendersEachStorageClassLikeASqlLiteral) {
  EXPECT_EQ(Value::Int(42).DebugString(), "42");
  EXPECT_EQ(Value::Int(-7).DebugString(), "-7");
  EXPECT_EQ(Value::Double(1.5).DebugString(), "1.5");
  EXPECT_EQ(Value::Text("abc").DebugString(), "'abc'");
  EXPECT_EQ(Value::Null().DebugString(), "NULL");
  EXPECT_EQ(Value::Bytes("hi").DebugString(), "x'6869'");
  EXPECT_EQ(Value::Bytes("").DebugString(), "x''");
  EXPECT_EQ(Value::Text("").DebugString(), "''");
}

TEST(ValueDebugStringTest, IntegralDoublesKeepAFractionSoTheyDoNotReadAsIntegers) {
  EXPECT_EQ(Value::Double(2.0).DebugString(), "2.0");
  EXPECT_EQ(Value::Double(-3.0).DebugString(), "-3.0");
  EXPECT_EQ(Value::Double(1e20).DebugString(), "1e+20");
  EXPECT_EQ(Value::Double(0.1).DebugString(), "0.1");
}

TEST(ValueDebugStringTest, DoublesQuotesInText) {
  EXPECT_EQ(Value::Text("it's").DebugString(), "'it''s'");
}

TEST(ValueDebugStringTest, LongTextAndBlobsAreCut) {
  const std::string long_text(200, 'a');
  EXPECT_EQ(Value::Text(long_text).DebugString(), "'" + std::string(64, 'a') + "...'");
  std::string expected = "x'";
  for (int i = 0; i < 32; ++i) expected += "01";
  expected += "...'";
  EXPECT_EQ(Value::Bytes(std::string(100, '\x01')).DebugString(), expected);
}

TEST(ValueDebugStringTest, CutsTextOnACharacterBoundary) {
  // 63 ASCII bytes then a 2-byte 'é' straddling the 64-byte cut: the whole 'é' is dropped.
  const std::string text = std::string(63, 'a') + "\xC3\xA9" + "tail";
  EXPECT_EQ(Value::Text(text).DebugString(), "'" + std::string(63, 'a') + "...'");
}

}  // namespace
}  // namespace kalam
