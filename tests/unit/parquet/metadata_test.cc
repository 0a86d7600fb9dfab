// Tests for footer handling: what Reader::Open refuses (nested schemas, unsupported codecs,
// inconsistent counts), and statistics decoding including the legacy min/max fields.
#include <gtest/gtest.h>

#include <cstring>

#include "parquet/metadata.h"
#include "parquet/parquet.h"
#include "parquet/statistics.h"

namespace kalam::parquet {
namespace {

// A file with no data pages: magic, the footer, its length, magic. Enough for Open.
std::string FileWithFooter(const format::FileMetaData& m) {
  std::string footer;
  format::SerializeFileMetaData(m, &footer);
  std::string file = "PAR1";
  file += footer;
  uint32_t len = static_cast<uint32_t>(footer.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  return file;
}

format::SchemaElement Leaf(std::string name, int32_t type, int32_t repetition) {
  format::SchemaElement e;
  e.name = std::move(name);
  e.type = type;
  e.repetition = repetition;
  return e;
}

format::FileMetaData FlatFooter() {
  format::FileMetaData m;
  format::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  m.schema = {root, Leaf("a", 1, format::kOptional)};
  format::RowGroup g;
  g.num_rows = 0;
  format::ColumnChunk c;
  c.meta_data.emplace();
  c.meta_data->type = 1;
  c.meta_data->path_in_schema = {"a"};
  c.meta_data->data_page_offset = 4;
  g.columns.push_back(c);
  m.row_groups.push_back(g);
  return m;
}

Status OpenStatus(const format::FileMetaData& m) {
  std::string file = FileWithFooter(m);
  return Reader::Open(file).status();
}

TEST(ParquetFooterTest, FlatFooterOpens) {
  std::string file = FileWithFooter(FlatFooter());
  auto reader = Reader::Open(file);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->metadata().schema[0].name, "a");
  auto v = (*reader)->ReadColumn(0, 0);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->i32.empty());
}

TEST(ParquetFooterTest, NestedAndRepeatedColumnsAreRefusedAsUnsupported) {
  format::FileMetaData nested = FlatFooter();
  format::SchemaElement group;
  group.name = "g";
  group.num_children = 1;
  group.repetition = format::kOptional;
  nested.schema = {nested.schema[0], group, Leaf("a", 1, format::kOptional)};
  Status st = OpenStatus(nested);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("flat"), std::string::npos) << st.message();

  format::FileMetaData repeated = FlatFooter();
  repeated.schema[1].repetition = format::kRepeated;
  EXPECT_EQ(OpenStatus(repeated).code(), StatusCode::kInvalidArgument);
}

TEST(ParquetFooterTest, UnsupportedCodecAndExternalChunksAreInvalidArgument) {
  format::FileMetaData lz4 = FlatFooter();
  lz4.row_groups[0].columns[0].meta_data->codec = format::kCodecLz4Raw;
  Status st = OpenStatus(lz4);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("LZ4_RAW"), std::string::npos);
  format::FileMetaData unknown = FlatFooter();
  unknown.row_groups[0].columns[0].meta_data->codec = 42;
  EXPECT_EQ(OpenStatus(unknown).code(), StatusCode::kCorruption);
  format::FileMetaData external = FlatFooter();
  external.row_groups[0].columns[0].file_path = "other.parquet";
  EXPECT_EQ(OpenStatus(external).code(), StatusCode::kInvalidArgument);
}

TEST(ParquetFooterTest, InconsistentFootersAreCorruption) {
  format::FileMetaData rows = FlatFooter();
  rows.num_rows = 5;  // row groups hold 0
  EXPECT_EQ(OpenStatus(rows).code(), StatusCode::kCorruption);
  format::FileMetaData children = FlatFooter();
  children.schema[0].num_children = 2;
  EXPECT_EQ(OpenStatus(children).code(), StatusCode::kCorruption);
  format::FileMetaData no_meta = FlatFooter();
  no_meta.row_groups[0].columns[0].meta_data.reset();
  EXPECT_EQ(OpenStatus(no_meta).code(), StatusCode::kCorruption);
  format::FileMetaData wrong_type = FlatFooter();
  wrong_type.row_groups[0].columns[0].meta_data->type = 2;
  EXPECT_EQ(OpenStatus(wrong_type).code(), StatusCode::kCorruption);
  format::FileMetaData outside = FlatFooter();
  outside.row_groups[0].columns[0].meta_data->total_compressed_size = 1 << 20;
  Status st = OpenStatus(outside);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("outside"), std::string::npos);
  format::FileMetaData count = FlatFooter();
  count.row_groups[0].columns[0].meta_data->num_values = 3;
  std::string file = FileWithFooter(count);
  auto reader = Reader::Open(file);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->ReadColumn(0, 0).status().code(), StatusCode::kCorruption);
}

TEST(ParquetFooterTest, MissingRequiredFieldIsNamed) {
  // A footer holding only `version = 2`.
  format::FileMetaData parsed;
  Status st = format::ParseFileMetaData(std::string_view("\x15\x04\x00", 3), &parsed);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("'schema'"), std::string::npos) << st.message();
}

TEST(ParquetFooterTest, EncryptedFooterMagicIsRefusedClearly) {
  std::string file = FileWithFooter(FlatFooter());
  file.replace(file.size() - 4, 4, "PARE");
  Status st = Reader::Open(file).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("encrypted"), std::string::npos);
}

// A one-row INT64 column whose dictionary page is empty and whose data page points at entry 0
// (found by fuzzing: the empty dictionary once reached memcpy with a null pointer).
TEST(ParquetFooterTest, EmptyDictionaryWithIndexesIsCorruption) {
  std::string file = "PAR1";
  format::PageHeader dict;
  dict.type = format::kDictionaryPage;
  dict.dictionary_page.emplace();
  format::SerializePageHeader(dict, &file);
  const int64_t data_offset = static_cast<int64_t>(file.size());
  const std::string body = std::string("\x01\x02\x00", 3);  // bit width 1, RLE run of 1 × 0
  format::PageHeader data;
  data.type = format::kDataPage;
  data.uncompressed_page_size = data.compressed_page_size = static_cast<int32_t>(body.size());
  data.data_page.emplace();
  data.data_page->num_values = 1;
  data.data_page->encoding = format::kRleDictionary;
  format::SerializePageHeader(data, &file);
  file += body;
  format::FileMetaData m;
  format::SchemaElement root;
  root.name = "schema";
  root.num_children = 1;
  m.schema = {root, Leaf("n", 2, format::kRequired)};
  m.num_rows = 1;
  format::RowGroup g;
  g.num_rows = 1;
  format::ColumnChunk c;
  c.meta_data.emplace();
  c.meta_data->type = 2;
  c.meta_data->path_in_schema = {"n"};
  c.meta_data->num_values = 1;
  c.meta_data->dictionary_page_offset = 4;
  c.meta_data->data_page_offset = data_offset;
  c.meta_data->total_compressed_size = static_cast<int64_t>(file.size()) - 4;
  g.columns.push_back(c);
  m.row_groups.push_back(g);
  std::string footer;
  format::SerializeFileMetaData(m, &footer);
  file += footer;
  uint32_t len = static_cast<uint32_t>(footer.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  auto reader = Reader::Open(file);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  Status st = (*reader)->ReadColumn(0, 0).status();
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("0-entry dictionary"), std::string::npos) << st.message();
}

std::string Le32(int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

TEST(ParquetStatisticsDecodeTest, PrefersMinValueAndFallsBackToLegacyOnlyWhereSafe) {
  ColumnSchema i32{.name = "i", .physical = PhysicalType::kInt32};
  format::Statistics s;
  s.min = Le32(-5);
  s.max = Le32(9);
  s.null_count = 2;
  ColumnStatistics got = DecodeStatistics(i32, s);
  EXPECT_EQ(got.min, StatValue(int64_t{-5}));
  EXPECT_EQ(got.max, StatValue(int64_t{9}));
  EXPECT_EQ(got.null_count, 2);
  s.min_value = Le32(-1);
  s.max_value = Le32(1);
  got = DecodeStatistics(i32, s);
  EXPECT_EQ(got.min, StatValue(int64_t{-1}));

  // Legacy bounds of strings were compared signed: unusable unless min == max.
  ColumnSchema str{
      .name = "s", .physical = PhysicalType::kByteArray, .logical = LogicalKind::kString};
  format::Statistics legacy;
  legacy.min = "\xc3\xa9";
  legacy.max = "a";
  got = DecodeStatistics(str, legacy);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(got.min));
  EXPECT_EQ(got.null_count, -1);
  legacy.max = legacy.min;
  got = DecodeStatistics(str, legacy);
  EXPECT_EQ(got.min, StatValue(std::string("\xc3\xa9")));

  // Unsigned integers: legacy bounds are signed, so not used; min_value is unsigned.
  ColumnSchema u32{.name = "u", .physical = PhysicalType::kInt32, .logical = LogicalKind::kInt,
                   .int_bit_width = 32, .int_signed = false};
  format::Statistics us;
  us.min = Le32(-1);
  us.max = Le32(1);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(DecodeStatistics(u32, us).min));
  us.min_value = Le32(1);
  us.max_value = Le32(-1);
  EXPECT_EQ(DecodeStatistics(u32, us).max, StatValue(int64_t{4294967295}));

  // Wrong sizes decode as absent rather than failing.
  format::Statistics bad;
  bad.min_value = "abc";
  bad.max_value = Le32(3);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(DecodeStatistics(i32, bad).max));
}

TEST(ParquetStatisticsDecodeTest, BigEndianSignedComparisonSignExtends) {
  EXPECT_LT(CompareBigEndianSigned("\xff", std::string("\x00\x01", 2)), 0);  // -1 < 1
  EXPECT_EQ(CompareBigEndianSigned("\xff", "\xff\xff"), 0);                  // -1 == -1
  EXPECT_GT(CompareBigEndianSigned(std::string("\x01\x00", 2), "\x7f"), 0);  // 256 > 127
  EXPECT_LT(CompareBigEndianSigned("\x80", "\xff"), 0);                      // -128 < -1
}

}  // namespace
}  // namespace kalam::parquet
