// Tests for the Thrift compact protocol writer and the bounds-checked reader.
#include "parquet/thrift_compact.h"

#include <gtest/gtest.h>

namespace kalam::parquet::thrift {
namespace {

TEST(ThriftCompactTest, RoundTripsFieldsListsAndNestedStructs) {
  std::string buf;
  CompactWriter w(&buf);
  w.FieldI32(1, -5);
  w.FieldI64(2, INT64_MIN);
  w.FieldBool(3, true);
  w.FieldBool(4, false);
  w.FieldBinary(20, std::string("a\0b", 3));  // id gap > 15: long-form header
  w.FieldList(21, CType::kI32, 20);           // > 14 elements: long-form size
  for (int i = 0; i < 20; ++i) w.I32(i * 1000 - 7);
  w.FieldStruct(22);
  w.FieldI16(1, -300);
  w.EndStruct();
  w.FieldByte(23, -1);
  buf.push_back(0);

  CompactReader r(buf);
  r.BeginStruct();
  int16_t id;
  CType t;
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(id, 1);
  EXPECT_EQ(r.ReadI32(), -5);
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(r.ReadI64(), INT64_MIN);
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(t, CType::kTrue);
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(t, CType::kFalse);
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(id, 20);
  EXPECT_EQ(r.ReadBinary(), std::string_view("a\0b", 3));
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(id, 21);
  CType element;
  ASSERT_EQ(r.ReadListHeader(&element), 20u);
  EXPECT_EQ(element, CType::kI32);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.ReadI32(), i * 1000 - 7);
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(t, CType::kStruct);
  r.Skip(t);  // skips the nested struct, including its i16
  ASSERT_TRUE(r.NextField(&id, &t));
  EXPECT_EQ(id, 23);
  EXPECT_EQ(r.ReadByte(), -1);
  EXPECT_FALSE(r.NextField(&id, &t));
  r.EndStruct();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.position(), buf.size());
}

TEST(ThriftCompactTest, TruncatedInputFailsWithCorruption) {
  std::string buf;
  CompactWriter w(&buf);
  w.FieldBinary(1, "hello world");
  w.FieldI64(2, 1234567890123);
  buf.push_back(0);
  for (size_t cut = 0; cut < buf.size(); ++cut) {
    CompactReader r(std::string_view(buf).substr(0, cut));
    r.Skip(CType::kStruct);
    EXPECT_FALSE(r.ok()) << cut;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  }
}

TEST(ThriftCompactTest, ListSizeLargerThanRemainingBytesIsRefused) {
  // A list header claiming 2^31 elements followed by nothing.
  std::string buf = "\xF5\x80\x80\x80\x80\x08";
  CompactReader r(buf);
  CType element;
  EXPECT_EQ(r.ReadListHeader(&element), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("claims"), std::string::npos);
}

TEST(ThriftCompactTest, DeepNestingIsRefusedNotRecursedForever) {
  std::string buf;
  for (int i = 0; i < 10000; ++i) buf.push_back(0x1C);  // field 1 (delta), struct
  CompactReader r(buf);
  r.Skip(CType::kStruct);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested"), std::string::npos);
}

TEST(ThriftCompactTest, OverlongVarintAndUnknownTypesAreCorruption) {
  std::string varint(11, '\xFF');
  CompactReader r(varint);
  r.ReadI64();
  EXPECT_FALSE(r.ok());
  std::string bad_type = "\x1D";  // type 13 does not exist
  CompactReader r2(bad_type);
  r2.BeginStruct();
  int16_t id;
  CType t;
  EXPECT_FALSE(r2.NextField(&id, &t));
  EXPECT_FALSE(r2.ok());
}

}  // namespace
}  // namespace kalam::parquet::thrift
