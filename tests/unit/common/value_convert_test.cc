// Tests for strict column-type coercion and JSON request parameters.
#include "common/value_convert.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstring>
#include <limits>

namespace kalam {
namespace {

Value Coerced(std::string_view type_sql, const Value& in) {
  Result<Value> r = CoerceToColumn(*DataType::Parse(type_sql), in, "c");
  EXPECT_TRUE(r.ok()) << type_sql << " <- " << in.DebugString() << ": " << r.status().ToString();
  return r.ok() ? *r : Value::Text("<error>");
}

// The message of the expected kTypeMismatch failure.
std::string Rejected(std::string_view type_sql, const Value& in, std::string_view column = "c") {
  Result<Value> r = CoerceToColumn(*DataType::Parse(type_sql), in, column);
  EXPECT_FALSE(r.ok()) << type_sql << " <- " << in.DebugString() << " gave "
                       << (r.ok() ? r->DebugString() : "");
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kTypeMismatch);
  return r.status().message();
}

bool Mentions(const std::string& message, std::string_view part) {
  return message.find(part) != std::string::npos;
}

std::string Floats(std::initializer_list<float> fs) {
  std::string out;
  for (float f : fs) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
  }
  return out;
}

TEST(CoerceTest, NullPassesThroughForEveryType) {
  for (const char* t : {"BOOLEAN", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL(5,2)",
                        "TEXT", "BYTES", "JSON", "FILE", "UUID", "TIMESTAMP", "DATETIME", "DATE",
                        "TIME", "EMBEDDING(3)"}) {
    EXPECT_EQ(Coerced(t, Value::Null()), Value::Null()) << t;
  }
}

TEST(CoerceTest, MessageNamesColumnTypeAndValue) {
  EXPECT_EQ(Rejected("INT", Value::Text("abc"), "age"),
            "Invalid value for column 'age' of type INT: 'abc' is not an integer");
  EXPECT_EQ(Rejected("DECIMAL(10,2)", Value::Double(1.234), "price"),
            "Invalid value for column 'price' of type DECIMAL(10,2): '1.234' has too many decimal "
            "places (at most 2)");
}

// ---- BOOLEAN ----

TEST(CoerceTest, BooleanAcceptsZeroOneAndTrueFalseText) {
  EXPECT_EQ(Coerced("BOOLEAN", Value::Int(1)), Value::Int(1));
  EXPECT_EQ(Coerced("BOOLEAN", Value::Int(0)), Value::Int(0));
  EXPECT_EQ(Coerced("BOOLEAN", Value::Text("true")), Value::Int(1));
  EXPECT_EQ(Coerced("BOOLEAN", Value::Text("FALSE")), Value::Int(0));
  EXPECT_EQ(Coerced("BOOLEAN", Value::Text("True")), Value::Int(1));
}

TEST(CoerceTest, BooleanRejectsOtherValues) {
  EXPECT_TRUE(Mentions(Rejected("BOOLEAN", Value::Int(2)), "2 is not a boolean"));
  Rejected("BOOLEAN", Value::Int(-1));
  Rejected("BOOLEAN", Value::Text("yes"));
  Rejected("BOOLEAN", Value::Text("1"));
  Rejected("BOOLEAN", Value::Text("truee"));
  Rejected("BOOLEAN", Value::Double(1.0));
  Rejected("BOOLEAN", Value::Bytes("\x01"));
}

// ---- Integers ----

TEST(CoerceTest, SmallIntAcceptsItsRange) {
  EXPECT_EQ(Coerced("SMALLINT", Value::Int(-32768)), Value::Int(-32768));
  EXPECT_EQ(Coerced("SMALLINT", Value::Int(32767)), Value::Int(32767));
  EXPECT_EQ(Coerced("SMALLINT", Value::Double(12.0)), Value::Int(12));
}

TEST(CoerceTest, SmallIntRejectsOutOfRange) {
  EXPECT_EQ(Rejected("SMALLINT", Value::Int(70000)),
            "Invalid value for column 'c' of type SMALLINT: 70000 is out of range for SMALLINT "
            "(-32768 to 32767)");
  Rejected("SMALLINT", Value::Int(32768));
  Rejected("SMALLINT", Value::Int(-32769));
  Rejected("SMALLINT", Value::Double(40000.0));
}

TEST(CoerceTest, IntAcceptsInt32RangeAndIntegralDoubles) {
  EXPECT_EQ(Coerced("INT", Value::Int(INT32_MIN)), Value::Int(INT32_MIN));
  EXPECT_EQ(Coerced("INT", Value::Int(INT32_MAX)), Value::Int(INT32_MAX));
  EXPECT_EQ(Coerced("INT", Value::Double(-5.0)), Value::Int(-5));
  EXPECT_EQ(Coerced("INT", Value::Double(-0.0)), Value::Int(0));
  Rejected("INT", Value::Int(int64_t{INT32_MAX} + 1));
  Rejected("INT", Value::Int(int64_t{INT32_MIN} - 1));
}

TEST(CoerceTest, IntRejectsFractionsTextAndBlobs) {
  EXPECT_TRUE(Mentions(Rejected("INT", Value::Double(1.5)), "1.5 is not an integer"));
  EXPECT_TRUE(
      Mentions(Rejected("INT", Value::Text("42")), "text '42' is not accepted; pass a number"));
  EXPECT_TRUE(Mentions(Rejected("INT", Value::Text("4.5")), "text '4.5' is not accepted"));
  EXPECT_TRUE(Mentions(Rejected("SMALLINT", Value::Text("abc")), "'abc' is not an integer"));
  EXPECT_TRUE(Mentions(Rejected("INT", Value::Bytes("hi")), "x'6869' is not an integer"));
  Rejected("INT", Value::Double(std::nan("")));
  Rejected("INT", Value::Double(std::numeric_limits<double>::infinity()));
}

TEST(CoerceTest, BigIntAcceptsIntegersNumericTextAndIntegralDoubles) {
  EXPECT_EQ(Coerced("BIGINT", Value::Int(INT64_MIN)), Value::Int(INT64_MIN));
  EXPECT_EQ(Coerced("BIGINT", Value::Int(INT64_MAX)), Value::Int(INT64_MAX));
  EXPECT_EQ(Coerced("BIGINT", Value::Text("42")), Value::Int(42));
  EXPECT_EQ(Coerced("BIGINT", Value::Text("-7")), Value::Int(-7));
  EXPECT_EQ(Coerced("BIGINT", Value::Text("+7")), Value::Int(7));
  EXPECT_EQ(Coerced("BIGINT", Value::Text("9223372036854775807")), Value::Int(INT64_MAX));
  EXPECT_EQ(Coerced("BIGINT", Value::Text("-9223372036854775808")), Value::Int(INT64_MIN));
  EXPECT_EQ(Coerced("BIGINT", Value::Text("258874983317667840")), Value::Int(258874983317667840));
  EXPECT_EQ(Coerced("BIGINT", Value::Double(1e15)), Value::Int(1000000000000000));
  EXPECT_EQ(Coerced("BIGINT", Value::Double(-9223372036854775808.0)), Value::Int(INT64_MIN));
}

TEST(CoerceTest, BigIntRejectsOverflowFractionsAndNonIntegerText) {
  EXPECT_TRUE(Mentions(Rejected("BIGINT", Value::Text("9223372036854775808")), "out of range"));
  EXPECT_TRUE(Mentions(Rejected("BIGINT", Value::Double(9223372036854775808.0)), "out of range"));
  Rejected("BIGINT", Value::Double(1e19));
  EXPECT_TRUE(Mentions(Rejected("BIGINT", Value::Text("1.5")), "'1.5' is not an integer"));
  Rejected("BIGINT", Value::Text("abc"));
  Rejected("BIGINT", Value::Text(""));
  Rejected("BIGINT", Value::Text("-"));
  Rejected("BIGINT", Value::Text(" 42"));
  Rejected("BIGINT", Value::Text("42 "));
  Rejected("BIGINT", Value::Text("1e3"));
  Rejected("BIGINT", Value::Text("0x10"));
  Rejected("BIGINT", Value::Text("+-1"));
  Rejected("BIGINT", Value::Double(0.5));
}

// ---- FLOAT / DOUBLE ----

TEST(CoerceTest, DoubleAcceptsIntegersAndFiniteDoubles) {
  EXPECT_EQ(Coerced("DOUBLE", Value::Int(3)), Value::Double(3.0));
  EXPECT_EQ(Coerced("DOUBLE", Value::Double(0.1)), Value::Double(0.1));
  EXPECT_EQ(Coerced("DOUBLE", Value::Double(1e300)), Value::Double(1e300));
}

TEST(CoerceTest, FloatStoresTheFloat32Rounding) {
  EXPECT_EQ(Coerced("FLOAT", Value::Double(0.1)), Value::Double(static_cast<double>(0.1f)));
  EXPECT_EQ(Coerced("REAL", Value::Int(16777217)), Value::Double(16777216.0));
  EXPECT_EQ(Coerced("FLOAT", Value::Double(1.5)), Value::Double(1.5));
}

TEST(CoerceTest, FloatRejectsValuesBeyondFloat32Range) {
  EXPECT_TRUE(Mentions(Rejected("FLOAT", Value::Double(1e300)), "out of range for FLOAT"));
  EXPECT_EQ(Coerced("DOUBLE", Value::Double(1e300)), Value::Double(1e300));
}

TEST(CoerceTest, FloatingRejectsNonFiniteAndText) {
  for (const char* t : {"FLOAT", "DOUBLE"}) {
    EXPECT_TRUE(Mentions(Rejected(t, Value::Double(std::nan(""))), "NaN and Infinity"));
    Rejected(t, Value::Double(-std::numeric_limits<double>::infinity()));
    EXPECT_TRUE(Mentions(Rejected(t, Value::Text("1.5")), "text '1.5' is not accepted"));
    EXPECT_TRUE(Mentions(Rejected(t, Value::Text("abc")), "'abc' is not a number"));
    EXPECT_TRUE(Mentions(Rejected(t, Value::Text("nan")), "'nan' is not a number"));
    Rejected(t, Value::Bytes("x"));
  }
}

// ---- DECIMAL ----

TEST(CoerceTest, DecimalCanonicalisesTextIntsAndDoubles) {
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Text("200.75")), Value::Text("200.75"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Text("1.20")), Value::Text("1.20"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Text("1.2")), Value::Text("1.20"));
  EXPECT_EQ(Coerced("DECIMAL(10,1)", Value::Text("1.20")), Value::Text("1.2"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Int(200)), Value::Text("200.00"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Int(-5)), Value::Text("-5.00"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Double(200.75)), Value::Text("200.75"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Double(0.1)), Value::Text("0.10"));
  EXPECT_EQ(Coerced("DECIMAL(10,2)", Value::Double(1.2)), Value::Text("1.20"));
  EXPECT_EQ(Coerced("DECIMAL", Value::Text("3.14159")), Value::Text("3.1415900000"));
  EXPECT_EQ(Coerced("DECIMAL(5)", Value::Text("12345")), Value::Text("12345"));
}

TEST(CoerceTest, DecimalRejectsTooManyDecimalPlaces) {
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(10,2)", Value::Double(1.234)), "too many decimal places"));
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(10,2)", Value::Text("1.234")), "too many decimal places"));
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(5)", Value::Double(1.5)), "too many decimal places"));
}

TEST(CoerceTest, DecimalRejectsTooManyIntegerDigits) {
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(10,2)", Value::Int(123456789)),
                       "too many integer digits (at most 8)"));
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(10,2)", Value::Text("123456789.5")),
                       "too many integer digits"));
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(3,0)", Value::Double(1e20)), "too many integer digits"));
}

TEST(CoerceTest, DecimalRejectsNonNumbers) {
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(10,2)", Value::Text("abc")),
                       "'abc' is not a decimal number"));
  Rejected("DECIMAL(10,2)", Value::Double(std::nan("")));
  EXPECT_TRUE(Mentions(Rejected("DECIMAL(10,2)", Value::Bytes("1")), "is not a decimal number"));
}

// ---- TEXT / BYTES ----

TEST(CoerceTest, TextAcceptsOnlyText) {
  EXPECT_EQ(Coerced("TEXT", Value::Text("hello")), Value::Text("hello"));
  EXPECT_EQ(Coerced("VARCHAR(3)", Value::Text("longer than three")),
            Value::Text("longer than three"));
  EXPECT_TRUE(Mentions(Rejected("TEXT", Value::Int(42)), "42 is not text"));
  Rejected("TEXT", Value::Double(1.5));
  Rejected("TEXT", Value::Bytes("hi"));
}

TEST(CoerceTest, BytesAcceptsTextAsUtf8BytesAndBlobs) {
  EXPECT_EQ(Coerced("BYTES", Value::Text("hi")), Value::Bytes("hi"));
  EXPECT_EQ(Coerced("BYTES", Value::Text("\xC3\xA9")), Value::Bytes("\xC3\xA9"));
  EXPECT_EQ(Coerced("BYTEA", Value::Bytes(std::string("\x00\x01", 2))),
            Value::Bytes(std::string("\x00\x01", 2)));
  Rejected("BYTES", Value::Int(1));
  Rejected("BYTES", Value::Double(1.0));
}

// ---- JSON / FILE ----

TEST(CoerceTest, JsonAcceptsValidJsonTextUnchanged) {
  for (const char* j : {"{\"a\":1}", "[1,2,3]", "42", "\"s\"", "null", "true", " {\"a\" : [ ] } ",
                        "{\"k\":\"caf\xC3\xA9\"}"}) {
    EXPECT_EQ(Coerced("JSON", Value::Text(j)), Value::Text(j)) << j;
  }
  EXPECT_EQ(Coerced("FILE", Value::Text("{\"id\":\"f1\",\"size\":3}")),
            Value::Text("{\"id\":\"f1\",\"size\":3}"));
}

TEST(CoerceTest, JsonRejectsInvalidJson) {
  for (const char* j : {"", "{", "{\"a\":}", "[1,]", "{'a':1}", "{\"a\":1} x", "{\"a\":1}{}",
                        "// c\n1", "nul", "\"\xFF\""}) {
    EXPECT_TRUE(Mentions(Rejected("JSON", Value::Text(j)), "is not valid JSON")) << j;
  }
  Rejected("FILE", Value::Text("not json"));
  EXPECT_TRUE(Mentions(Rejected("JSON", Value::Int(42)), "is not JSON text"));
  Rejected("JSON", Value::Bytes("{}"));
}

TEST(CoerceTest, JsonAcceptsNestingBeyondBoostDefaultButNotUnbounded) {
  EXPECT_EQ(Coerced("JSON", Value::Text(std::string(100, '[') + std::string(100, ']'))).kind(),
            Value::Kind::kText);
  Rejected("JSON", Value::Text(std::string(5000, '[') + std::string(5000, ']')));
}

// ---- UUID ----

TEST(CoerceTest, UuidCanonicalisesTextAndSixteenByteBlobs) {
  const Value canonical = Value::Text("0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091");
  EXPECT_EQ(Coerced("UUID", Value::Text("0190F5E4-9C1A-7B3D-8F21-4C5D6E7F8091")), canonical);
  EXPECT_EQ(Coerced("UUID", Value::Text("0190f5e49c1a7b3d8f214c5d6e7f8091")), canonical);
  const std::string bytes("\x01\x90\xf5\xe4\x9c\x1a\x7b\x3d\x8f\x21\x4c\x5d\x6e\x7f\x80\x91", 16);
  EXPECT_EQ(Coerced("UUID", Value::Bytes(bytes)), canonical);
}

TEST(CoerceTest, UuidRejectsMalformedText) {
  EXPECT_TRUE(Mentions(Rejected("UUID", Value::Text("not-a-uuid")), "is not a valid UUID"));
  Rejected("UUID", Value::Text("0190f5e4-9c1a-7b3d-8f21-4c5d6e7f809"));
  Rejected("UUID", Value::Bytes("short"));
  Rejected("UUID", Value::Int(1));
}

// ---- Temporal ----

TEST(CoerceTest, TimestampAcceptsMicrosAndIsoTextNormalisedToUtc) {
  EXPECT_EQ(Coerced("TIMESTAMP", Value::Int(1777593600000000)), Value::Int(1777593600000000));
  EXPECT_EQ(Coerced("TIMESTAMP", Value::Text("2026-05-01")), Value::Int(1777593600000000));
  EXPECT_EQ(Coerced("DATETIME", Value::Text("2026-05-01T12:00:00+02:00")),
            Value::Int(1777593600000000 + 10 * 3600000000LL));
  EXPECT_EQ(Coerced("DATETIME", Value::Text("2026-05-01 10:00:00.5Z")),
            Value::Int(1777593600000000 + 10 * 3600000000LL + 500000));
  EXPECT_EQ(Coerced("TIMESTAMP", Value::Int(-1)), Value::Int(-1));
}

TEST(CoerceTest, TimestampRejectsBadTextDoublesAndOutOfRangeMicros) {
  EXPECT_TRUE(Mentions(Rejected("TIMESTAMP", Value::Text("2026-02-30")), "day 30 does not exist"));
  Rejected("TIMESTAMP", Value::Text("yesterday"));
  Rejected("TIMESTAMP", Value::Double(1.5));
  Rejected("TIMESTAMP", Value::Int(INT64_MAX));
  Rejected("DATETIME", Value::Int(INT64_MIN));
}

TEST(CoerceTest, DateAcceptsIsoTextAndDayCounts) {
  EXPECT_EQ(Coerced("DATE", Value::Text("2026-05-01")), Value::Int(20574));
  EXPECT_EQ(Coerced("DATE", Value::Text("1969-12-31")), Value::Int(-1));
  EXPECT_EQ(Coerced("DATE", Value::Int(20574)), Value::Int(20574));
  EXPECT_TRUE(
      Mentions(Rejected("DATE", Value::Text("2026-05-01T10:00:00")), "is not a valid date"));
  Rejected("DATE", Value::Text("2026-02-29"));
  Rejected("DATE", Value::Int(3000000));
  Rejected("DATE", Value::Double(1.0));
}

TEST(CoerceTest, TimeAcceptsClockTextAndMicrosWithinADay) {
  EXPECT_EQ(Coerced("TIME", Value::Text("12:34:56")), Value::Int(45296000000));
  EXPECT_EQ(Coerced("TIME", Value::Text("12:34:56.123456")), Value::Int(45296123456));
  EXPECT_EQ(Coerced("TIME", Value::Int(0)), Value::Int(0));
  EXPECT_EQ(Coerced("TIME", Value::Int(86400000000 - 1)), Value::Int(86400000000 - 1));
  EXPECT_TRUE(Mentions(Rejected("TIME", Value::Int(86400000000)), "outside a day"));
  Rejected("TIME", Value::Int(-1));
  Rejected("TIME", Value::Text("25:00:00"));
  Rejected("TIME", Value::Double(1.0));
}

// ---- EMBEDDING ----

TEST(CoerceTest, EmbeddingParsesTextIntoLittleEndianFloat32) {
  EXPECT_EQ(Coerced("EMBEDDING(3)", Value::Text("[0.1, 0.2, -3]")),
            Value::Bytes(Floats({0.1f, 0.2f, -3.0f})));
  EXPECT_EQ(Coerced("EMBEDDING(2)", Value::Text(" [ 1e-3 ,2.5e2 ] ")),
            Value::Bytes(Floats({0.001f, 250.0f})));
  EXPECT_EQ(Coerced("EMBEDDING(1)", Value::Text("[7]")), Value::Bytes(Floats({7.0f})));
}

TEST(CoerceTest, EmbeddingRejectsWrongCountsAndBadNumbers) {
  EXPECT_TRUE(Mentions(Rejected("EMBEDDING(3)", Value::Text("[0.1,0.2]")),
                       "expected 3 numbers, got 2"));
  EXPECT_TRUE(
      Mentions(Rejected("EMBEDDING(1)", Value::Text("[1,2]")), "expected 1 numbers, got 2"));
  Rejected("EMBEDDING(1)", Value::Text("[]"));
  EXPECT_TRUE(
      Mentions(Rejected("EMBEDDING(2)", Value::Text("[1,abc]")), "element 2 is not a number"));
  EXPECT_TRUE(Mentions(Rejected("EMBEDDING(1)", Value::Text("[1e39]")), "not a finite float32"));
  EXPECT_TRUE(Mentions(Rejected("EMBEDDING(1)", Value::Text("[1e999]")), "not a finite float32"));
  Rejected("EMBEDDING(1)", Value::Text("[nan]"));
  Rejected("EMBEDDING(1)", Value::Text("[inf]"));
  Rejected("EMBEDDING(2)", Value::Text("[1 2]"));
  Rejected("EMBEDDING(2)", Value::Text("[1,2"));
  Rejected("EMBEDDING(2)", Value::Text("1,2"));
  Rejected("EMBEDDING(2)", Value::Text("[1,2]x"));
  Rejected("EMBEDDING(2)", Value::Text("[1,,2]"));
  Rejected("EMBEDDING(1)", Value::Text("[+1]"));
  Rejected("EMBEDDING(2)", Value::Int(1));
}

TEST(CoerceTest, EmbeddingAcceptsBlobOfExactlyFourNBytes) {
  const std::string bytes = Floats({1.0f, 2.0f});
  EXPECT_EQ(Coerced("EMBEDDING(2)", Value::Bytes(bytes)), Value::Bytes(bytes));
  EXPECT_TRUE(Mentions(Rejected("EMBEDDING(2)", Value::Bytes(bytes.substr(0, 7))), "7 bytes"));
  Rejected("EMBEDDING(1)", Value::Bytes(bytes));
  Rejected("EMBEDDING(1)", Value::Bytes(Floats({std::numeric_limits<float>::infinity()})));
}

// ---- JSON parameters ----

TEST(JsonParamTest, ConvertsScalars) {
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("null"), 1), Value::Null());
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("true"), 1), Value::Int(1));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("false"), 1), Value::Int(0));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("-42"), 1), Value::Int(-42));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("9223372036854775807"), 1),
            Value::Int(INT64_MAX));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::value(uint64_t{5}), 1), Value::Int(5));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("1.5"), 1), Value::Double(1.5));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("\"hi\""), 1), Value::Text("hi"));
}

TEST(JsonParamTest, NumberArraysAreVectorTextOthersAreRejectedWithExactMessage) {
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("[1, -2.5, 3e0]"), 1),
            Value::Text("[1,-2.5E0,3E0]"));
  EXPECT_EQ(*ValueFromJsonParam(boost::json::parse("[]"), 1), Value::Text("[]"));
  Result<Value> r = ValueFromJsonParam(boost::json::parse("[1, \"a\"]"), 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(r.status().message(),
            "Parameter $1 invalid: an array parameter must hold only numbers (a vector)");
  r = ValueFromJsonParam(boost::json::parse("{\"a\":1}"), 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(r.status().message(), "Parameter $3 invalid: objects are not supported");
}

TEST(JsonParamTest, RejectsUnsignedAboveInt64Max) {
  Result<Value> r = ValueFromJsonParam(boost::json::parse("18446744073709551615"), 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(r.status().message(),
            "Parameter $2 invalid: 18446744073709551615 does not fit in a signed 64-bit integer");
}

TEST(JsonParamTest, ParamsFlowIntoCoercion) {
  // A numeric-string BIGINT param and a number DECIMAL param, as PROTOCOL §5 allows.
  Value id = *ValueFromJsonParam(boost::json::parse("\"258874983317667840\""), 1);
  EXPECT_EQ(Coerced("BIGINT", id), Value::Int(258874983317667840));
  Value price = *ValueFromJsonParam(boost::json::parse("200.75"), 2);
  EXPECT_EQ(Coerced("DECIMAL(10,2)", price), Value::Text("200.75"));
  Value flag = *ValueFromJsonParam(boost::json::parse("true"), 3);
  EXPECT_EQ(Coerced("BOOLEAN", flag), Value::Int(1));
}

}  // namespace
}  // namespace kalam
