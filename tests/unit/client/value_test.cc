// Tests of client values: display text, JSON re-encoding, type names, subscription JSON.
#include "kalam/value.h"

#include <gtest/gtest.h>

#include "kalam/live.h"

namespace kalam::client {
namespace {

TEST(ValueTest, DisplayTextFollowsTheColumnType) {
  EXPECT_EQ(Value().ToString(), "NULL");
  EXPECT_EQ(Value::Bool(true).ToString(), "true");
  EXPECT_EQ(Value::Int(-42).ToString(), "-42");
  EXPECT_EQ(Value::Double(2.5).ToString(), "2.5");
  EXPECT_EQ(Value::Double(3).ToString(), "3.0");
  EXPECT_EQ(Value::Double(0.1, TypeKind::kFloat).ToString(), "0.1");
  EXPECT_EQ(Value::Int(0, TypeKind::kTimestamp).ToString(), "1970-01-01 00:00:00");
  EXPECT_EQ(Value::Int(1777636800123456, TypeKind::kTimestamp).ToString(),
            "2026-05-01 12:00:00.123456");
  EXPECT_EQ(Value::Int(-1, TypeKind::kDateTime).ToString(), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(Value::Int(20574, TypeKind::kDate).ToString(), "2026-05-01");
  EXPECT_EQ(Value::Int(45296000000, TypeKind::kTime).ToString(), "12:34:56");
  EXPECT_EQ(Value::Int(45296500000, TypeKind::kTime).ToString(), "12:34:56.500000");
  EXPECT_EQ(Value::Bytes({0x68, 0x69, 0xff}).ToString(), "\\x6869ff");
  EXPECT_EQ(Value::Vector({0.5, 1}).ToString(), "[0.5,1.0]");
  EXPECT_EQ(Value::String("200.75", TypeKind::kDecimal).ToString(), "200.75");
}

TEST(ValueTest, JsonIsThePROTOCOLEncoding) {
  EXPECT_EQ(Value::Int(258874983317667840).ToJson(), "\"258874983317667840\"");  // BigInt
  EXPECT_EQ(Value::Int(7, TypeKind::kInt).ToJson(), "7");
  EXPECT_EQ(Value::Int(1777636800123456, TypeKind::kTimestamp).ToJson(), "1777636800123456");
  EXPECT_EQ(Value::Double(1.5).ToJson(), "1.5");
  EXPECT_EQ(Value::String("a\"b").ToJson(), "\"a\\\"b\"");
  EXPECT_EQ(Value::Bytes({104, 105}).ToJson(), "[104,105]");
  EXPECT_EQ(Value::Null(TypeKind::kText).ToJson(), "null");
  EXPECT_EQ(Value::Bool(false).ToJson(), "false");
}

TEST(ValueTest, EqualityComparesStoredValues) {
  EXPECT_EQ(Value::Int(1), Value::Int(1));
  EXPECT_FALSE(Value::Int(1) == Value::Int(2));
  EXPECT_FALSE(Value::Int(1) == Value::String("1"));
  EXPECT_EQ(Value::Null(), Value::Null(TypeKind::kText));
}

TEST(DataTypeTest, NamesAndNumericKinds) {
  DataType t;
  t.kind = TypeKind::kDecimal;
  t.precision = 10;
  t.scale = 2;
  EXPECT_EQ(t.ToString(), "Decimal(10,2)");
  EXPECT_TRUE(t.IsNumeric());
  t = DataType{};
  t.kind = TypeKind::kEmbedding;
  t.dimension = 384;
  EXPECT_EQ(t.ToString(), "Embedding(384)");
  EXPECT_FALSE(t.IsNumeric());
}

TEST(LiveRowTest, LooksUpFieldsAndSeq) {
  LiveRow row;
  row.Add("id", Value::Int(1));
  row.Add("_seq", Value::Int(99));
  EXPECT_EQ(row.Get("id")->as_int(), 1);
  EXPECT_EQ(row.Get("nope"), nullptr);
  EXPECT_EQ(row.seq(), 99);
  EXPECT_EQ(LiveRow().seq(), 0);
}

TEST(SubscribeRequestTest, ParsesWhatSubscribeToReturns) {
  auto r = SubscribeRequest::FromJson(
      R"({"id":"sub-messages","sql":"SELECT * FROM chat.messages WHERE room = 'r1'","options":{"last_rows":5,"batch_size":100,"from":42}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->id, "sub-messages");
  EXPECT_EQ(r->sql, "SELECT * FROM chat.messages WHERE room = 'r1'");
  EXPECT_TRUE(r->initial_data);
  EXPECT_EQ(r->last_rows, 5u);
  EXPECT_EQ(r->batch_size, 100u);
  EXPECT_EQ(*r->from, 42);
  auto plain = SubscribeRequest::FromJson(R"({"id":"s","sql":"SELECT * FROM a.b"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->initial_data);
  EXPECT_FALSE(plain->from.has_value());
  EXPECT_FALSE(SubscribeRequest::FromJson("[1]").ok());
  EXPECT_FALSE(SubscribeRequest::FromJson(R"({"id":"s"})").ok());
}

}  // namespace
}  // namespace kalam::client
