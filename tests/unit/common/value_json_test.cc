// Tests for the JSON output encoding of cells (PROTOCOL.md §5).
#include "common/value_json.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace kalam {
namespace {

DataType Type(std::string_view sql) { return *DataType::Parse(sql); }

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string Json(const DataType* type, const Value& v) {
  std::string out;
  Status st = AppendJsonValue(type, v, &out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::string Typed(std::string_view sql, const Value& v) {
  const DataType t = Type(sql);
  return Json(&t, v);
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

bool IsValidJson(std::string_view s) {
  boost::json::error_code ec;
  boost::json::parse(s, ec);
  return !ec;
}

// ---- Strings ----

TEST(JsonStringTest, QuotesAndEscapesNamedCharacters) {
  EXPECT_EQ(JsonString("hello"), "\"hello\"");
  EXPECT_EQ(JsonString(""), "\"\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonString("/"), "\"/\"");
}

TEST(JsonStringTest, EscapesOtherControlCharactersAsUnicode) {
  EXPECT_EQ(JsonString(std::string("\x00", 1)), "\"\\u0000\"");
  EXPECT_EQ(JsonString("\x01\x1f"), "\"\\u0001\\u001f\"");
  EXPECT_EQ(JsonString("\x7f"), "\"\x7f\"");
}

TEST(JsonStringTest, PassesValidUtf8Through) {
  EXPECT_EQ(JsonString("caf\xC3\xA9"), "\"caf\xC3\xA9\"");                // é
  EXPECT_EQ(JsonString("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");              // €
  EXPECT_EQ(JsonString("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");      // 😀
  EXPECT_EQ(JsonString("\xEF\xBF\xBF"), "\"\xEF\xBF\xBF\"");              // U+FFFF
  EXPECT_EQ(JsonString("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");      // U+10FFFF
}

TEST(JsonStringTest, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(JsonString("a\xFF" "b"), "\"a" + r + "b\"");          // never a lead byte
  EXPECT_EQ(JsonString("\x80"), "\"" + r + "\"");                 // lone continuation
  EXPECT_EQ(JsonString("\xC3"), "\"" + r + "\"");                 // truncated at end
  EXPECT_EQ(JsonString("\xC3" "A"), "\"" + r + "A\"");            // truncated mid-string
  EXPECT_EQ(JsonString("\xC0\xAF"), "\"" + r + r + "\"");         // overlong 2-byte
  EXPECT_EQ(JsonString("\xE0\x80\xAF"), "\"" + r + r + r + "\""); // overlong 3-byte
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"" + r + r + r + "\""); // UTF-16 surrogate
  EXPECT_EQ(JsonString("\xF4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // > U+10FFFF
  EXPECT_EQ(JsonString("\xE2\x82"), "\"" + r + "\"");             // one maximal subpart
  EXPECT_EQ(JsonString("\xF0\x9F\x98" "x"), "\"" + r + "x\"");
}

TEST(JsonStringTest, RandomBytesAlwaysMakeValidJson) {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 16, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    const std::string out = JsonString(s);
    ASSERT_TRUE(IsValidJson(out)) << out;
  }
}

// ---- Computed columns (no type) ----

TEST(JsonValueComputedTest, EncodesByStorageClass) {
  EXPECT_EQ(Json(nullptr, Value::Null()), "null");
  EXPECT_EQ(Json(nullptr, Value::Int(42)), "\"42\"");
  EXPECT_EQ(Json(nullptr, Value::Int(INT64_MIN)), "\"-9223372036854775808\"");
  EXPECT_EQ(Json(nullptr, Value::Double(1.5)), "1.5");
  EXPECT_EQ(Json(nullptr, Value::Text("hi")), "\"hi\"");
  EXPECT_EQ(Json(nullptr, Value::Bytes("hi")), "[104,105]");
  EXPECT_EQ(Json(nullptr, Value::Bytes("")), "[]");
  EXPECT_EQ(Json(nullptr, Value::Bytes("\xFF")), "[255]");
}

TEST(JsonValueComputedTest, DoublesUseShortestRoundTripWithPointForIntegers) {
  EXPECT_EQ(Json(nullptr, Value::Double(2.0)), "2.0");
  EXPECT_EQ(Json(nullptr, Value::Double(-0.0)), "-0.0");
  EXPECT_EQ(Json(nullptr, Value::Double(0.1)), "0.1");
  EXPECT_EQ(Json(nullptr, Value::Double(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(Json(nullptr, Value::Double(1e20)), "1e+20");
  EXPECT_EQ(Json(nullptr, Value::Double(1e-7)), "1e-07");
  EXPECT_EQ(Json(nullptr, Value::Double(123456789012.0)), "123456789012.0");
  EXPECT_EQ(Json(nullptr, Value::Double(std::numeric_limits<double>::max())),
            "1.7976931348623157e+308");
  std::mt19937_64 rng(2);
  for (int i = 0; i < 2000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, 8);
    if (!std::isfinite(d)) continue;
    const std::string out = Json(nullptr, Value::Double(d));
    ASSERT_TRUE(IsValidJson(out)) << out;
    ASSERT_EQ(std::strtod(out.c_str(), nullptr), d) << out;
  }
}

TEST(JsonValueComputedTest, NonFiniteDoublesFailAndAppendNothing) {
  std::string out = "[1,";
  Status st = AppendJsonValue(nullptr, Value::Double(std::nan("")), &out);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "Cannot encode NaN as JSON");
  EXPECT_EQ(out, "[1,");
  st = AppendJsonValue(nullptr, Value::Double(-std::numeric_limits<double>::infinity()), &out);
  EXPECT_EQ(st.message(), "Cannot encode -Infinity as JSON");
  EXPECT_EQ(out, "[1,");
}

// ---- Typed columns ----

TEST(JsonValueTypedTest, NullIsNullForEveryType) {
  for (const char* t : {"BOOLEAN", "INT", "BIGINT", "DOUBLE", "DECIMAL(10,2)", "TEXT", "BYTES",
                        "TIMESTAMP", "EMBEDDING(2)", "UUID"}) {
    EXPECT_EQ(Typed(t, Value::Null()), "null") << t;
  }
}

TEST(JsonValueTypedTest, BooleanIsTrueOrFalse) {
  EXPECT_EQ(Typed("BOOLEAN", Value::Int(1)), "true");
  EXPECT_EQ(Typed("BOOLEAN", Value::Int(0)), "false");
}

TEST(JsonValueTypedTest, SmallIntAndIntAreNumbersBigIntIsAString) {
  EXPECT_EQ(Typed("SMALLINT", Value::Int(-32768)), "-32768");
  EXPECT_EQ(Typed("INT", Value::Int(2147483647)), "2147483647");
  EXPECT_EQ(Typed("BIGINT", Value::Int(42)), "\"42\"");
  EXPECT_EQ(Typed("BIGINT", Value::Int(258874983317667840)), "\"258874983317667840\"");
}

TEST(JsonValueTypedTest, FloatPrintsFloat32ShortestTextDoublePrintsDoubleShortest) {
  EXPECT_EQ(Typed("FLOAT", Value::Double(static_cast<double>(0.1f))), "0.1");
  EXPECT_EQ(Typed("DOUBLE", Value::Double(static_cast<double>(0.1f))), "0.10000000149011612");
  EXPECT_EQ(Typed("DOUBLE", Value::Double(0.1)), "0.1");
  EXPECT_EQ(Typed("FLOAT", Value::Double(2.0)), "2.0");
  // A FLOAT column holding a value that is not a float32 (SQLite arithmetic) prints as a double.
  EXPECT_EQ(Typed("FLOAT", Value::Double(0.1)), "0.1");
  EXPECT_EQ(Typed("FLOAT", Value::Double(1.0 / 3.0)), "0.3333333333333333");
}

TEST(JsonValueTypedTest, IntegerInFloatingColumnIsANumber) {
  EXPECT_EQ(Typed("DOUBLE", Value::Int(3)), "3.0");
  EXPECT_EQ(Typed("FLOAT", Value::Int(-7)), "-7.0");
}

TEST(JsonValueTypedTest, FloatingNonFiniteFails) {
  const DataType t = Type("DOUBLE");
  std::string out;
  const Value inf = Value::Double(std::numeric_limits<double>::infinity());
  EXPECT_EQ(AppendJsonValue(&t, inf, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(out.empty());
}

TEST(JsonValueTypedTest, DecimalIsAStringWithExactlyScaleDecimals) {
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Text("200.75")), "\"200.75\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Text("200.7")), "\"200.70\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Double(401.5)), "\"401.50\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Double(0.1 + 0.2)), "\"0.30\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Double(2.675)), "\"2.68\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Int(42)), "\"42.00\"");
  EXPECT_EQ(Typed("DECIMAL(5,0)", Value::Double(2.5)), "\"3\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Double(-1e-9)), "\"0.00\"");
}

TEST(JsonValueTypedTest, DecimalNonNumericTextFallsBackToPlainString) {
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Text("n/a")), "\"n/a\"");
  EXPECT_EQ(Typed("DECIMAL(10,2)", Value::Bytes("hi")), "[104,105]");
  const DataType t = Type("DECIMAL(10,2)");
  std::string out;
  EXPECT_FALSE(AppendJsonValue(&t, Value::Double(std::nan("")), &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(JsonValueTypedTest, TextLikeTypesAreStrings) {
  EXPECT_EQ(Typed("TEXT", Value::Text("a\"b")), "\"a\\\"b\"");
  EXPECT_EQ(Typed("JSON", Value::Text("{\"a\":1}")), "\"{\\\"a\\\":1}\"");
  EXPECT_EQ(Typed("FILE", Value::Text("{}")), "\"{}\"");
  EXPECT_EQ(Typed("UUID", Value::Text("0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091")),
            "\"0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091\"");
}

TEST(JsonValueTypedTest, BytesAreAnArrayOfByteValues) {
  EXPECT_EQ(Typed("BYTES", Value::Bytes("hi")), "[104,105]");
  EXPECT_EQ(Typed("BYTES", Value::Bytes(std::string("\x00\xFF", 2))), "[0,255]");
}

TEST(JsonValueTypedTest, TemporalTypesAreIntegerNumbers) {
  EXPECT_EQ(Typed("TIMESTAMP", Value::Int(1777593600000000)), "1777593600000000");
  EXPECT_EQ(Typed("DATETIME", Value::Int(-1)), "-1");
  EXPECT_EQ(Typed("DATE", Value::Int(20574)), "20574");
  EXPECT_EQ(Typed("TIME", Value::Int(45296000000)), "45296000000");
}

TEST(JsonValueTypedTest, EmbeddingIsAnArrayOfFloat32ShortestNumbers) {
  EXPECT_EQ(Typed("EMBEDDING(3)", Value::Bytes(Floats({0.1f, -2.0f, 3.5f}))), "[0.1,-2.0,3.5]");
  EXPECT_EQ(Typed("EMBEDDING(1)", Value::Bytes(Floats({1e-8f}))), "[1e-08]");
  const DataType t = Type("EMBEDDING(2)");
  std::string out;
  const Value with_nan = Value::Bytes(Floats({1.0f, std::numeric_limits<float>::quiet_NaN()}));
  EXPECT_FALSE(AppendJsonValue(&t, with_nan, &out).ok());
  EXPECT_TRUE(out.empty());
}

TEST(JsonValueTypedTest, MismatchedStorageClassFallsBackToComputedEncoding) {
  EXPECT_EQ(Typed("INT", Value::Text("abc")), "\"abc\"");
  EXPECT_EQ(Typed("INT", Value::Double(1.5)), "1.5");
  EXPECT_EQ(Typed("BOOLEAN", Value::Text("yes")), "\"yes\"");
  EXPECT_EQ(Typed("BIGINT", Value::Double(2.0)), "2.0");
  EXPECT_EQ(Typed("TEXT", Value::Int(7)), "\"7\"");
  EXPECT_EQ(Typed("TEXT", Value::Bytes("a")), "[97]");
  EXPECT_EQ(Typed("BYTES", Value::Text("hi")), "\"hi\"");
  EXPECT_EQ(Typed("TIMESTAMP", Value::Text("2026-05-01")), "\"2026-05-01\"");
  EXPECT_EQ(Typed("EMBEDDING(2)", Value::Text("[1,2]")), "\"[1,2]\"");
  EXPECT_EQ(Typed("EMBEDDING(2)", Value::Bytes("abc")), "[97,98,99]");
  EXPECT_EQ(Typed("DOUBLE", Value::Text("1.5")), "\"1.5\"");
}

TEST(JsonValueTypedTest, AppendsToExistingOutput) {
  std::string out = "[";
  const DataType big = Type("BIGINT");
  ASSERT_TRUE(AppendJsonValue(&big, Value::Int(1), &out).ok());
  out += ",";
  ASSERT_TRUE(AppendJsonValue(nullptr, Value::Text("x"), &out).ok());
  out += "]";
  EXPECT_EQ(out, "[\"1\",\"x\"]");
}

}  // namespace
}  // namespace kalam
