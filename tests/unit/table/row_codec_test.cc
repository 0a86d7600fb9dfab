// Tests for row version encoding and key layout.
#include "table/row_codec.h"

#include <gtest/gtest.h>

#include "table/keys.h"

namespace kalam::table {
namespace {

catalog::TableDef Def(std::vector<std::pair<uint32_t, TypeKind>> cols) {
  catalog::TableDef d;
  d.schema_version = 3;
  for (auto [id, kind] : cols) {
    catalog::ColumnDef c;
    c.column_id = id;
    c.name = "c" + std::to_string(id);
    c.type = DataType{kind};
    d.columns.push_back(c);
  }
  d.columns[0].primary_key = true;
  return d;
}

TEST(RowCodecTest, RoundTripsEveryStorageClassAndDeletedFlag) {
  auto def = Def({{1, TypeKind::kBigInt}, {2, TypeKind::kText}, {3, TypeKind::kDouble},
                  {4, TypeKind::kBytes}, {5, TypeKind::kText}});
  std::vector<Value> v = {Value::Int(-7), Value::Text("héllo"), Value::Double(2.5),
                          Value::Bytes(std::string("\0\1", 2)), Value::Null()};
  auto row = DecodeRow(def, EncodeRow(def, v, true));
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->values, v);
  EXPECT_TRUE(row->deleted);
  EXPECT_EQ(row->schema_version, 3u);
}

TEST(RowCodecTest, OlderVersionsReadUnderNewSchemaByColumnId) {
  auto old_def = Def({{1, TypeKind::kBigInt}, {2, TypeKind::kText}, {3, TypeKind::kText}});
  std::string bytes = EncodeRow(old_def, {Value::Int(1), Value::Text("a"), Value::Text("b")}, false);
  // Column 2 dropped, column 4 added with a literal default, column 3 moved first after the PK.
  auto new_def = Def({{1, TypeKind::kBigInt}, {3, TypeKind::kText}, {4, TypeKind::kInt}});
  new_def.columns[2].default_value.kind = catalog::DefaultSpec::Kind::kLiteral;
  new_def.columns[2].default_value.literal = Value::Int(9);
  new_def.columns[2].missing_value = Value::Int(9);
  auto row = DecodeRow(new_def, bytes);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->values, (std::vector<Value>{Value::Int(1), Value::Text("b"), Value::Int(9)}));
}

TEST(RowCodecTest, AddedColumnReadsItsMissingValueNotTheCurrentDefault) {
  auto old_def = Def({{1, TypeKind::kBigInt}});
  std::string bytes = EncodeRow(old_def, {Value::Int(1)}, false);
  // Column 2 was added without a default (old rows: NULL), then given DEFAULT 7 for new rows;
  // column 3 was added with DEFAULT 5 (old rows: 5), then its default was dropped.
  auto new_def = Def({{1, TypeKind::kBigInt}, {2, TypeKind::kInt}, {3, TypeKind::kInt}});
  new_def.columns[1].default_value.kind = catalog::DefaultSpec::Kind::kLiteral;
  new_def.columns[1].default_value.literal = Value::Int(7);
  new_def.columns[2].missing_value = Value::Int(5);
  auto row = DecodeRow(new_def, bytes);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->values, (std::vector<Value>{Value::Int(1), Value::Null(), Value::Int(5)}));
  // A version written under the new schema keeps what it stored, NULL included.
  const std::vector<Value> stored = {Value::Int(2), Value::Null(), Value::Null()};
  auto current = DecodeRow(new_def, EncodeRow(new_def, stored, false));
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->values, stored);
}

TEST(RowCodecTest, TruncatedBytesAreCorruptionNotACrash) {
  auto def = Def({{1, TypeKind::kBigInt}, {2, TypeKind::kText}});
  std::string bytes = EncodeRow(def, {Value::Int(1), Value::Text("abcdef")}, false);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto row = DecodeRow(def, std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(row.ok()) << "prefix of " << n << " bytes decoded";
  }
}

TEST(KeysTest, ScopesOfOneTableNeverInterleave) {
  // "a" and "ab" are different users: every key of scope "a" sorts before every key of "ab".
  std::string a_last = PkKey(5, "a", Value::Text("\xff\xff"));
  std::string ab_first = PkKey(5, "ab", Value::Text(""));
  EXPECT_LT(a_last, ab_first);
  EXPECT_LT(PkKey(5, "zzz", Value::Int(1)), TableEnd(5));
  EXPECT_GE(PkKey(5, "", Value::Int(-1)), TableBegin(5));
  std::string prefix = ScopePrefix(5, "a");
  EXPECT_TRUE(PkKey(5, "a", Value::Int(3)).starts_with(prefix));
  EXPECT_FALSE(PkKey(5, "ab", Value::Int(3)).starts_with(prefix));
}

TEST(KeysTest, PkKeysSortInValueOrder) {
  EXPECT_LT(PkKey(1, "", Value::Int(-5)), PkKey(1, "", Value::Int(3)));
  EXPECT_LT(PkKey(1, "", Value::Int(3)), PkKey(1, "", Value::Int(40)));
  EXPECT_LT(PkKey(1, "", Value::Text("apple")), PkKey(1, "", Value::Text("banana")));
}

}  // namespace
}  // namespace kalam::table

namespace kalam::table {
namespace {

TEST(RowCodecTest, IsDeletedVersionReadsTheFlagWithoutDecoding) {
  catalog::TableDef d;
  d.schema_version = 300;  // a multi-byte varint before the flags
  catalog::ColumnDef c;
  c.column_id = 1;
  c.name = "id";
  c.type = DataType{TypeKind::kBigInt};
  c.primary_key = true;
  d.columns = {c};
  EXPECT_TRUE(IsDeletedVersion(EncodeRow(d, {Value::Int(1)}, true)));
  EXPECT_FALSE(IsDeletedVersion(EncodeRow(d, {Value::Int(1)}, false)));
  EXPECT_FALSE(IsDeletedVersion(""));
}

}  // namespace
}  // namespace kalam::table
