// Round trips through Writer and Reader: every type mapping, nulls, encodings, codecs, pages,
// row groups, key-value metadata, and the Writer's and Reader's error cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "parquet/metadata.h"
#include "parquet/parquet.h"
#include "test_columns.h"

namespace kalam::parquet {
namespace {

using testing::Col;
using testing::SameVector;
using testing::Vec;

using OptI32 = std::optional<int32_t>;
using OptI64 = std::optional<int64_t>;
using OptStr = std::optional<std::string>;

std::string WriteFile(const std::vector<ColumnSchema>& schema,
                      const std::vector<std::vector<ColumnVector>>& groups,
                      const WriterOptions& options = {}, const KeyValueMetadata& kv = {}) {
  auto writer = Writer::Create(schema, options);
  EXPECT_TRUE(writer.ok()) << writer.status().ToString();
  if (!writer.ok()) return "";
  for (const auto& group : groups) {
    size_t rows = 0;
    const ColumnVector& v = group[0];
    rows = std::max({v.present.size(), v.b.size(), v.i32.size(), v.i64.size(), v.f32.size(),
                     v.f64.size(), v.bytes.size()});
    Status st = (*writer)->WriteRowGroup(group, rows);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  auto file = (*writer)->Finish(kv);
  EXPECT_TRUE(file.ok()) << file.status().ToString();
  return file.ok() ? *file : "";
}

std::unique_ptr<Reader> OpenOrDie(const std::string& file) {
  auto reader = Reader::Open(file);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  return reader.ok() ? std::move(*reader) : nullptr;
}

ColumnVector ReadOrDie(const Reader& reader, int group, int column) {
  auto v = reader.ReadColumn(group, column);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : ColumnVector{};
}

// The footer as parsed by the internal Thrift code, for checks the public API does not expose.
format::FileMetaData Footer(const std::string& file) {
  uint32_t len;
  std::memcpy(&len, file.data() + file.size() - 8, 4);
  format::FileMetaData m;
  Status st = format::ParseFileMetaData(std::string_view(file).substr(file.size() - 8 - len, len),
                                        &m);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return m;
}

// Number of data pages in a column chunk, by walking its page headers.
int CountDataPages(const std::string& file, const format::ColumnMetaData& m) {
  size_t pos = m.dictionary_page_offset ? *m.dictionary_page_offset : m.data_page_offset;
  size_t end = pos + m.total_compressed_size;
  int pages = 0;
  while (pos < end) {
    format::PageHeader h;
    auto len = format::ParsePageHeader(std::string_view(file).substr(pos, end - pos), &h);
    EXPECT_TRUE(len.ok());
    if (!len.ok()) return -1;
    pos += *len + h.compressed_page_size;
    pages += h.type == format::kDataPage;
  }
  return pages;
}

std::vector<ColumnSchema> AllTypesSchema() {
  std::vector<ColumnSchema> s;
  s.push_back(Col("flag", PhysicalType::kBoolean));
  ColumnSchema small = Col("small", PhysicalType::kInt32, LogicalKind::kInt);
  small.int_bit_width = 16;
  s.push_back(small);
  s.push_back(Col("i32", PhysicalType::kInt32));
  s.push_back(Col("i64", PhysicalType::kInt64));
  s.push_back(Col("f32", PhysicalType::kFloat));
  s.push_back(Col("f64", PhysicalType::kDouble));
  ColumnSchema dec64 = Col("dec64", PhysicalType::kInt64, LogicalKind::kDecimal);
  dec64.precision = 18;
  dec64.scale = 4;
  s.push_back(dec64);
  ColumnSchema dec_fixed =
      Col("dec_fixed", PhysicalType::kFixedLenByteArray, LogicalKind::kDecimal);
  dec_fixed.precision = 38;
  dec_fixed.scale = 10;
  dec_fixed.type_length = DecimalByteLength(38);
  s.push_back(dec_fixed);
  s.push_back(Col("text", PhysicalType::kByteArray, LogicalKind::kString));
  s.push_back(Col("doc", PhysicalType::kByteArray, LogicalKind::kJson));
  s.push_back(Col("blob", PhysicalType::kByteArray));
  ColumnSchema ts = Col("ts", PhysicalType::kInt64, LogicalKind::kTimestamp);
  s.push_back(ts);
  ts.name = "ts_utc";
  ts.utc_adjusted = true;
  s.push_back(ts);
  s.push_back(Col("day", PhysicalType::kInt32, LogicalKind::kDate));
  s.push_back(Col("tod", PhysicalType::kInt64, LogicalKind::kTime));
  ColumnSchema uuid = Col("id", PhysicalType::kFixedLenByteArray, LogicalKind::kUuid);
  uuid.type_length = 16;
  s.push_back(uuid);
  ColumnSchema emb = Col("embedding", PhysicalType::kFixedLenByteArray);
  emb.type_length = 12;
  s.push_back(emb);
  return s;
}

std::vector<ColumnVector> AllTypesValues() {
  std::vector<ColumnVector> v;
  v.push_back(Vec<bool>({true, std::nullopt, false, true}));
  v.push_back(Vec<int32_t>({-32768, 32767, std::nullopt, 0}));
  v.push_back(Vec<int32_t>({INT32_MIN, INT32_MAX, -1, std::nullopt}));
  v.push_back(Vec<int64_t>({INT64_MIN, std::nullopt, INT64_MAX, 42}));
  v.push_back(Vec<float>({1.5f, -0.25f, std::nullopt, 3e38f}));
  v.push_back(Vec<double>({std::nullopt, -1e300, 0.1, 2.5}));
  v.push_back(Vec<int64_t>({999999999999999999, -999999999999999999, std::nullopt, 1}));
  v.push_back(Vec<std::string>({std::string(16, '\x7f'), std::string(16, '\x80'), std::nullopt,
                                std::string(15, '\0') + "\x01"}));
  v.push_back(Vec<std::string>({"hello", "", std::nullopt, "h\xc3\xa9llo w\xc3\xb6rld"}));
  v.push_back(Vec<std::string>({"{\"a\":1}", "[]", "null", std::nullopt}));
  v.push_back(Vec<std::string>({std::string("\0\xff\x01", 3), std::nullopt, "", "x"}));
  v.push_back(Vec<int64_t>({1700000000123456, -1, std::nullopt, 0}));
  v.push_back(Vec<int64_t>({std::nullopt, 1700000000123456, 2, 3}));
  v.push_back(Vec<int32_t>({19000, -719162, 0, std::nullopt}));
  v.push_back(Vec<int64_t>({0, 86399999999, std::nullopt, 43200000000}));
  v.push_back(Vec<std::string>({std::string(16, '\xab'), std::nullopt,
                                "0123456789abcdef", std::string(16, '\0')}));
  v.push_back(Vec<std::string>({std::string(12, 'e'), std::string(12, '\0'), std::nullopt,
                                "abcdefghijkl"}));
  return v;
}

TEST(ParquetRoundTripTest, EveryTypeMappingWithNullsReadsBackExactly) {
  const auto schema = AllTypesSchema();
  const auto values = AllTypesValues();
  for (bool dictionary : {false, true}) {
    WriterOptions options;
    options.dictionary = dictionary;
    std::string file = WriteFile(schema, {values}, options);
    auto reader = OpenOrDie(file);
    ASSERT_NE(reader, nullptr);
    const FileMetadata& md = reader->metadata();
    ASSERT_EQ(md.schema.size(), schema.size());
    for (size_t i = 0; i < schema.size(); ++i) {
      EXPECT_EQ(md.schema[i], schema[i]) << schema[i].name;
    }
    EXPECT_EQ(md.num_rows, 4);
    ASSERT_EQ(md.row_groups.size(), 1u);
    EXPECT_EQ(md.created_by, "kalamdb");
    for (size_t c = 0; c < schema.size(); ++c) {
      ColumnVector got = ReadOrDie(*reader, 0, static_cast<int>(c));
      EXPECT_TRUE(SameVector(got, values[c])) << schema[c].name << " dictionary=" << dictionary;
      EXPECT_EQ(md.row_groups[0].columns[c].num_values, 4);
      EXPECT_EQ(md.row_groups[0].columns[c].stats.null_count, 1) << schema[c].name;
    }
  }
}

TEST(ParquetRoundTripTest, WritesLogicalAndConvertedTypes) {
  std::string file = WriteFile(AllTypesSchema(), {AllTypesValues()});
  format::FileMetaData m = Footer(file);
  ASSERT_EQ(m.schema.size(), 18u);
  EXPECT_EQ(m.schema[0].num_children, 17);
  auto leaf = [&](const std::string& name) -> const format::SchemaElement& {
    for (const auto& e : m.schema) {
      if (e.name == name) return e;
    }
    ADD_FAILURE() << name;
    return m.schema[0];
  };
  EXPECT_EQ(leaf("small").converted_type, format::kInt16);
  EXPECT_EQ(leaf("small").logical.id, format::kLogicalInteger);
  EXPECT_EQ(leaf("small").logical.bit_width, 16);
  EXPECT_EQ(leaf("dec64").converted_type, format::kDecimal);
  EXPECT_EQ(leaf("dec64").precision, 18);
  EXPECT_EQ(leaf("dec64").scale, 4);
  EXPECT_EQ(leaf("dec_fixed").type_length, 16);
  EXPECT_EQ(leaf("text").converted_type, format::kUtf8);
  EXPECT_EQ(leaf("doc").converted_type, format::kJson);
  EXPECT_FALSE(leaf("blob").converted_type.has_value());
  EXPECT_EQ(leaf("ts").converted_type, format::kTimestampMicros);
  EXPECT_FALSE(leaf("ts").logical.utc_adjusted);
  EXPECT_TRUE(leaf("ts_utc").logical.utc_adjusted);
  EXPECT_EQ(leaf("ts_utc").logical.unit, 2);
  EXPECT_EQ(leaf("day").converted_type, format::kDate);
  EXPECT_EQ(leaf("tod").converted_type, format::kTimeMicros);
  EXPECT_EQ(leaf("id").logical.id, format::kLogicalUuid);
  EXPECT_FALSE(leaf("id").converted_type.has_value());
  EXPECT_EQ(leaf("embedding").logical.id, format::kLogicalNone);
  EXPECT_EQ(leaf("flag").repetition, format::kOptional);
  EXPECT_TRUE(m.type_defined_column_orders);
}

TEST(ParquetRoundTripTest, AllNullColumnHasNoBoundsAndAllSlotsNull) {
  std::vector<ColumnSchema> schema = {Col("s", PhysicalType::kByteArray, LogicalKind::kString),
                                      Col("n", PhysicalType::kInt64)};
  std::vector<ColumnVector> values = {Vec<std::string>({std::nullopt, std::nullopt, std::nullopt}),
                                      Vec<int64_t>({std::nullopt, std::nullopt, std::nullopt})};
  std::string file = WriteFile(schema, {values});
  auto reader = OpenOrDie(file);
  for (int c = 0; c < 2; ++c) {
    ColumnVector got = ReadOrDie(*reader, 0, c);
    EXPECT_EQ(got.present, (std::vector<uint8_t>{0, 0, 0}));
    const ColumnStatistics& st = reader->metadata().row_groups[0].columns[c].stats;
    EXPECT_EQ(st.null_count, 3);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(st.min));
    EXPECT_TRUE(std::holds_alternative<std::monostate>(st.max));
  }
  EXPECT_EQ(ReadOrDie(*reader, 0, 0).bytes, (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(ReadOrDie(*reader, 0, 1).i64, (std::vector<int64_t>{0, 0, 0}));
}

TEST(ParquetRoundTripTest, RequiredColumnsHaveNoPresentVectorAndOptionalWithoutNullsNeither) {
  std::vector<ColumnSchema> schema = {
      Col("req", PhysicalType::kByteArray, LogicalKind::kString, /*nullable=*/false),
      Col("opt", PhysicalType::kInt32)};
  std::vector<ColumnVector> values = {Vec<std::string>({"", "a", ""}), Vec<int32_t>({1, 2, 3})};
  std::string file = WriteFile(schema, {values});
  auto reader = OpenOrDie(file);
  EXPECT_FALSE(reader->metadata().schema[0].nullable);
  EXPECT_TRUE(reader->metadata().schema[1].nullable);
  ColumnVector req = ReadOrDie(*reader, 0, 0);
  EXPECT_TRUE(req.present.empty());
  EXPECT_EQ(req.bytes, (std::vector<std::string>{"", "a", ""}));
  ColumnVector opt = ReadOrDie(*reader, 0, 1);
  EXPECT_TRUE(opt.present.empty());
  EXPECT_EQ(opt.i32, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(reader->metadata().row_groups[0].columns[0].stats.null_count, 0);
  format::FileMetaData m = Footer(file);
  EXPECT_EQ(m.schema[1].repetition, format::kRequired);
}

TEST(ParquetRoundTripTest, LowCardinalityUsesDictionaryAndHighCardinalityFallsBackToPlain) {
  const size_t n = 5000;
  ColumnVector rooms, bodies;
  for (size_t i = 0; i < n; ++i) {
    rooms.bytes.push_back("room-" + std::to_string(i % 7));
    bodies.bytes.push_back("message body number " + std::to_string(i));
  }
  std::vector<ColumnSchema> schema = {Col("room", PhysicalType::kByteArray, LogicalKind::kString),
                                      Col("body", PhysicalType::kByteArray, LogicalKind::kString)};
  WriterOptions options;
  options.dictionary_page_limit_bytes = 4096;
  std::string file = WriteFile(schema, {{rooms, bodies}}, options);
  format::FileMetaData m = Footer(file);
  const auto& room_meta = *m.row_groups[0].columns[0].meta_data;
  const auto& body_meta = *m.row_groups[0].columns[1].meta_data;
  EXPECT_EQ(room_meta.encodings,
            (std::vector<int32_t>{format::kPlain, format::kRle, format::kRleDictionary}));
  EXPECT_TRUE(room_meta.dictionary_page_offset.has_value());
  EXPECT_EQ(body_meta.encodings, (std::vector<int32_t>{format::kPlain, format::kRle}));
  EXPECT_FALSE(body_meta.dictionary_page_offset.has_value());
  auto reader = OpenOrDie(file);
  EXPECT_EQ(ReadOrDie(*reader, 0, 0).bytes, rooms.bytes);
  EXPECT_EQ(ReadOrDie(*reader, 0, 1).bytes, bodies.bytes);
}

TEST(ParquetRoundTripTest, EveryCodecRoundTripsAndIsReported) {
  std::mt19937 rng(7);
  ColumnVector ints, texts;
  for (int i = 0; i < 3000; ++i) {
    bool null = rng() % 5 == 0;
    ints.present.push_back(!null);
    ints.i64.push_back(null ? 0 : static_cast<int64_t>(rng()) - (1 << 30));
    texts.bytes.push_back(std::string(rng() % 40, static_cast<char>('a' + rng() % 26)));
  }
  std::vector<ColumnSchema> schema = {Col("n", PhysicalType::kInt64),
                                      Col("t", PhysicalType::kByteArray, LogicalKind::kString,
                                          false)};
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool dictionary : {false, true}) {
      WriterOptions options;
      options.codec = codec;
      options.dictionary = dictionary;
      options.data_page_bytes = 4096;
      std::string file = WriteFile(schema, {{ints, texts}, {ints, texts}}, options);
      auto reader = OpenOrDie(file);
      ASSERT_NE(reader, nullptr) << CodecName(codec);
      ASSERT_EQ(reader->metadata().row_groups.size(), 2u);
      for (int g = 0; g < 2; ++g) {
        EXPECT_EQ(reader->metadata().row_groups[g].columns[0].codec, codec);
        EXPECT_TRUE(SameVector(ReadOrDie(*reader, g, 0), ints)) << CodecName(codec);
        EXPECT_TRUE(SameVector(ReadOrDie(*reader, g, 1), texts)) << CodecName(codec);
      }
    }
  }
}

TEST(ParquetRoundTripTest, SmallPageTargetSplitsChunksIntoManyPages) {
  std::mt19937 rng(11);
  ColumnVector ints, texts, flags;
  for (int i = 0; i < 10000; ++i) {
    bool null = rng() % 3 == 0;
    ints.present.push_back(!null);
    ints.i32.push_back(null ? 0 : static_cast<int32_t>(rng() % 100));
    texts.present.push_back(!null);
    texts.bytes.push_back(null ? "" : "v" + std::to_string(rng() % 1000));
    flags.b.push_back(rng() % 2);
  }
  std::vector<ColumnSchema> schema = {Col("i", PhysicalType::kInt32),
                                      Col("t", PhysicalType::kByteArray),
                                      Col("f", PhysicalType::kBoolean, LogicalKind::kNone, false)};
  for (bool dictionary : {false, true}) {
    WriterOptions options;
    options.dictionary = dictionary;
    options.data_page_bytes = 512;
    std::string file = WriteFile(schema, {{ints, texts, flags}}, options);
    format::FileMetaData m = Footer(file);
    for (int c = 0; c < 3; ++c) {
      EXPECT_GE(CountDataPages(file, *m.row_groups[0].columns[c].meta_data), 3) << c;
    }
    auto reader = OpenOrDie(file);
    EXPECT_TRUE(SameVector(ReadOrDie(*reader, 0, 0), ints));
    EXPECT_TRUE(SameVector(ReadOrDie(*reader, 0, 1), texts));
    EXPECT_TRUE(SameVector(ReadOrDie(*reader, 0, 2), flags));
  }
}

TEST(ParquetRoundTripTest, ManyRowGroupsKeepTheirOwnRowsAndStatistics) {
  std::vector<ColumnSchema> schema = {Col("n", PhysicalType::kInt64, LogicalKind::kNone, false)};
  std::vector<std::vector<ColumnVector>> groups;
  for (int g = 0; g < 5; ++g) {
    ColumnVector v;
    for (int i = 0; i <= g; ++i) v.i64.push_back(g * 100 + i);
    groups.push_back({v});
  }
  std::string file = WriteFile(schema, groups);
  auto reader = OpenOrDie(file);
  const FileMetadata& md = reader->metadata();
  EXPECT_EQ(md.num_rows, 15);
  ASSERT_EQ(md.row_groups.size(), 5u);
  for (int g = 0; g < 5; ++g) {
    EXPECT_EQ(md.row_groups[g].num_rows, g + 1);
    EXPECT_EQ(ReadOrDie(*reader, g, 0).i64, groups[g][0].i64);
    EXPECT_EQ(md.row_groups[g].columns[0].stats.min, StatValue(int64_t{g * 100}));
    EXPECT_EQ(md.row_groups[g].columns[0].stats.max, StatValue(int64_t{g * 100 + g}));
  }
}

TEST(ParquetRoundTripTest, EmptyRowGroupReadsAsZeroRows) {
  std::vector<ColumnSchema> schema = {Col("n", PhysicalType::kInt32)};
  auto writer = Writer::Create(schema);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteRowGroup({ColumnVector{}}, 0).ok());
  auto file = (*writer)->Finish();
  ASSERT_TRUE(file.ok());
  auto reader = OpenOrDie(*file);
  EXPECT_EQ(reader->metadata().row_groups[0].num_rows, 0);
  ColumnVector v = ReadOrDie(*reader, 0, 0);
  EXPECT_TRUE(v.i32.empty());
}

TEST(ParquetStatisticsTest, SignedIntegersIncludingNegatives) {
  std::vector<ColumnSchema> schema = {Col("a", PhysicalType::kInt32),
                                      Col("b", PhysicalType::kInt64)};
  std::string file = WriteFile(
      schema, {{Vec<int32_t>({5, -7, std::nullopt, 3}), Vec<int64_t>({-1, INT64_MIN, 9, 0})}});
  auto reader = OpenOrDie(file);
  const auto& cols = reader->metadata().row_groups[0].columns;
  EXPECT_EQ(cols[0].stats.min, StatValue(int64_t{-7}));
  EXPECT_EQ(cols[0].stats.max, StatValue(int64_t{5}));
  EXPECT_EQ(cols[0].stats.null_count, 1);
  EXPECT_EQ(cols[1].stats.min, StatValue(INT64_MIN));
  EXPECT_EQ(cols[1].stats.max, StatValue(int64_t{9}));
  EXPECT_EQ(cols[1].stats.null_count, 0);
  // Signed numeric columns also carry the legacy min/max.
  format::FileMetaData m = Footer(file);
  EXPECT_TRUE(m.row_groups[0].columns[0].meta_data->statistics->min.has_value());
}

TEST(ParquetStatisticsTest, UnsignedIntegersCompareUnsigned) {
  ColumnSchema u = Col("u", PhysicalType::kInt32, LogicalKind::kInt);
  u.int_bit_width = 32;
  u.int_signed = false;
  std::string file = WriteFile({u}, {{Vec<int32_t>({1, -1, 7})}});  // -1 is 4294967295
  auto reader = OpenOrDie(file);
  const auto& st = reader->metadata().row_groups[0].columns[0].stats;
  EXPECT_EQ(st.min, StatValue(int64_t{1}));
  EXPECT_EQ(st.max, StatValue(int64_t{4294967295}));
  format::FileMetaData m = Footer(file);
  EXPECT_FALSE(m.row_groups[0].columns[0].meta_data->statistics->min.has_value());
}

TEST(ParquetStatisticsTest, StringsCompareAsUnsignedBytes) {
  std::string file = WriteFile(
      {Col("s", PhysicalType::kByteArray, LogicalKind::kString)},
      {{Vec<std::string>({"zebra", "\xc3\xa9t\xc3\xa9", "apple", "", std::nullopt, "Zoo"})}});
  auto reader = OpenOrDie(file);
  const auto& st = reader->metadata().row_groups[0].columns[0].stats;
  EXPECT_EQ(st.min, StatValue(std::string("")));
  EXPECT_EQ(st.max, StatValue(std::string("\xc3\xa9t\xc3\xa9")));  // 0xC3 sorts after 'z'
  EXPECT_EQ(st.null_count, 1);
  // Byte arrays never get the signed legacy bounds.
  format::FileMetaData m = Footer(file);
  EXPECT_FALSE(m.row_groups[0].columns[0].meta_data->statistics->min.has_value());
}

TEST(ParquetStatisticsTest, UuidsCompareUnsignedAndFixedDecimalsSigned) {
  ColumnSchema uuid = Col("u", PhysicalType::kFixedLenByteArray, LogicalKind::kUuid);
  uuid.type_length = 16;
  ColumnSchema dec = Col("d", PhysicalType::kFixedLenByteArray, LogicalKind::kDecimal);
  dec.type_length = 2;
  dec.precision = 4;
  std::string file = WriteFile(
      {uuid, dec},
      {{Vec<std::string>(
            {std::string(16, '\x10'), std::string(16, '\xf0'), std::string(16, '\x00')}),
        Vec<std::string>({std::string("\x00\x05", 2), std::string("\xff\xfe", 2),  // 5, -2
                          std::string("\x80\x00", 2)})}});                         // -32768
  auto reader = OpenOrDie(file);
  const auto& cols = reader->metadata().row_groups[0].columns;
  EXPECT_EQ(cols[0].stats.min, StatValue(std::string(16, '\x00')));
  EXPECT_EQ(cols[0].stats.max, StatValue(std::string(16, '\xf0')));
  EXPECT_EQ(cols[1].stats.min, StatValue(std::string("\x80\x00", 2)));
  EXPECT_EQ(cols[1].stats.max, StatValue(std::string("\x00\x05", 2)));
}

TEST(ParquetStatisticsTest, FloatsIgnoreNanAndWidenZeroBounds) {
  std::string file = WriteFile({Col("f", PhysicalType::kFloat), Col("d", PhysicalType::kDouble),
                                Col("z", PhysicalType::kDouble), Col("b", PhysicalType::kBoolean)},
                               {{Vec<float>({NAN, 2.5f, -1.25f}), Vec<double>({NAN, NAN, NAN}),
                                 Vec<double>({0.0, 0.0, std::nullopt}),
                                 Vec<bool>({true, true, std::nullopt})}});
  auto reader = OpenOrDie(file);
  const auto& cols = reader->metadata().row_groups[0].columns;
  EXPECT_EQ(cols[0].stats.min, StatValue(-1.25));
  EXPECT_EQ(cols[0].stats.max, StatValue(2.5));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(cols[1].stats.min));
  EXPECT_EQ(cols[1].stats.null_count, 0);
  ASSERT_TRUE(std::holds_alternative<double>(cols[2].stats.min));
  EXPECT_TRUE(std::signbit(std::get<double>(cols[2].stats.min)));
  EXPECT_FALSE(std::signbit(std::get<double>(cols[2].stats.max)));
  EXPECT_EQ(cols[3].stats.min, StatValue(int64_t{1}));
  EXPECT_EQ(cols[3].stats.max, StatValue(int64_t{1}));
  // NaN values themselves survive the round trip.
  ColumnVector f = ReadOrDie(*reader, 0, 0);
  EXPECT_TRUE(std::isnan(f.f32[0]));
  EXPECT_EQ(f.f32[1], 2.5f);
}

TEST(ParquetStatisticsTest, DisabledStatisticsLeaveBoundsAndNullCountUnknown) {
  WriterOptions options;
  options.statistics = false;
  std::string file = WriteFile({Col("a", PhysicalType::kInt32)}, {{Vec<int32_t>({1, 2})}}, options);
  auto reader = OpenOrDie(file);
  const auto& st = reader->metadata().row_groups[0].columns[0].stats;
  EXPECT_EQ(st.null_count, -1);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(st.min));
}

TEST(ParquetMetadataTest, KeyValueMetadataAndCreatedByRoundTrip) {
  WriterOptions options;
  options.created_by = "kalamdb version 0.1.0";
  KeyValueMetadata kv = {{"kalamdb.table", "chat.messages"}, {"empty", ""}, {"k\xc3\xa9y", "v"}};
  std::string file =
      WriteFile({Col("a", PhysicalType::kInt32)}, {{Vec<int32_t>({1})}}, options, kv);
  auto reader = OpenOrDie(file);
  EXPECT_EQ(reader->metadata().key_value_metadata, kv);
  EXPECT_EQ(reader->metadata().created_by, "kalamdb version 0.1.0");
  EXPECT_EQ(reader->FindColumn("a"), 0);
  EXPECT_EQ(reader->FindColumn("b"), -1);
}

TEST(ParquetReaderTest, ReadColumnIntoReusesVectorsAndMatchesReadColumn) {
  std::vector<ColumnSchema> schema = {Col("s", PhysicalType::kByteArray),
                                      Col("n", PhysicalType::kInt64)};
  std::string file = WriteFile(
      schema, {{Vec<std::string>({"a", std::nullopt, "ccc"}), Vec<int64_t>({1, 2, 3})},
               {Vec<std::string>({"long string that does not fit SSO......"}),
                Vec<int64_t>({std::nullopt})}});
  auto reader = OpenOrDie(file);
  ColumnVector reused;
  reused.f64 = {1.0, 2.0};
  reused.bytes = {"x", "y", "z", "w", "v"};
  reused.present = {1, 1, 1, 1, 1, 0};
  for (int g : {0, 1, 0}) {
    for (int c = 0; c < 2; ++c) {
      ASSERT_TRUE(reader->ReadColumnInto(g, c, &reused).ok());
      EXPECT_TRUE(SameVector(reused, ReadOrDie(*reader, g, c))) << g << "/" << c;
    }
  }
}

TEST(ParquetReaderTest, ReadByteArraysPacksValuesIntoOneBuffer) {
  ColumnSchema fixed = Col("f", PhysicalType::kFixedLenByteArray, LogicalKind::kNone, false);
  fixed.type_length = 2;
  std::vector<ColumnSchema> schema = {Col("s", PhysicalType::kByteArray), fixed,
                                      Col("n", PhysicalType::kInt32)};
  std::vector<ColumnVector> values = {Vec<std::string>({"ab", std::nullopt, "", "xyz"}),
                                      Vec<std::string>({"12", "34", "56", "78"}),
                                      Vec<int32_t>({1, 2, 3, 4})};
  for (bool dictionary : {false, true}) {
    WriterOptions options;
    options.dictionary = dictionary;
    options.data_page_bytes = 8;
    std::string file = WriteFile(schema, {values, values}, options);
    auto reader = OpenOrDie(file);
    ByteArrayVector packed;
    packed.data = "stale";
    ASSERT_TRUE(reader->ReadByteArrays(1, 0, &packed).ok());
    EXPECT_EQ(packed.present, (std::vector<uint8_t>{1, 0, 1, 1}));
    EXPECT_EQ(packed.data, "abxyz");
    EXPECT_EQ(packed.offsets, (std::vector<uint64_t>{0, 2, 2, 2, 5}));
    EXPECT_EQ(packed.size(), 4u);
    EXPECT_EQ(packed.value(3), "xyz");
    EXPECT_TRUE(packed.is_null(1));
    ASSERT_TRUE(reader->ReadByteArrays(0, 1, &packed).ok());
    EXPECT_TRUE(packed.present.empty());
    EXPECT_EQ(packed.data, "12345678");
    EXPECT_EQ(packed.value(2), "56");
    EXPECT_EQ(reader->ReadByteArrays(0, 2, &packed).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(reader->ReadByteArrays(2, 0, &packed).code(), StatusCode::kInvalidArgument);
  }
}

TEST(ParquetReaderTest, RejectsBadIndexesAndNonParquetInput) {
  std::string file = WriteFile({Col("a", PhysicalType::kInt32)}, {{Vec<int32_t>({1})}});
  auto reader = OpenOrDie(file);
  EXPECT_EQ(reader->ReadColumn(1, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->ReadColumn(0, 1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->ReadColumn(-1, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Reader::Open("PAR1").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(Reader::Open("").status().code(), StatusCode::kCorruption);
  std::string bad = file;
  bad[0] = 'X';
  auto r = Reader::Open(bad);
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("magic"), std::string::npos);
}

TEST(ParquetWriterTest, RejectsUnusableSchemas) {
  auto code = [](std::vector<ColumnSchema> s) {
    return Writer::Create(std::move(s)).status().code();
  };
  EXPECT_EQ(code({}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Col("a", PhysicalType::kInt32), Col("a", PhysicalType::kInt64)}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Col("", PhysicalType::kInt32)}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Col("s", PhysicalType::kInt32, LogicalKind::kString)}),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Col("f", PhysicalType::kFixedLenByteArray)}), StatusCode::kInvalidArgument);
  ColumnSchema uuid = Col("u", PhysicalType::kFixedLenByteArray, LogicalKind::kUuid);
  uuid.type_length = 15;
  EXPECT_EQ(code({uuid}), StatusCode::kInvalidArgument);
  ColumnSchema dec = Col("d", PhysicalType::kInt64, LogicalKind::kDecimal);
  dec.precision = 19;
  EXPECT_EQ(code({dec}), StatusCode::kInvalidArgument);
  dec.physical = PhysicalType::kFixedLenByteArray;
  dec.type_length = 8;  // holds 18 digits
  EXPECT_EQ(code({dec}), StatusCode::kInvalidArgument);
  dec.type_length = 9;
  EXPECT_EQ(code({dec}), StatusCode::kOk);
  ColumnSchema i = Col("i", PhysicalType::kInt64, LogicalKind::kInt);
  i.int_bit_width = 16;
  EXPECT_EQ(code({i}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Col("t", PhysicalType::kInt96)}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Col("t", PhysicalType::kInt32, LogicalKind::kTimestamp)}),
            StatusCode::kInvalidArgument);
}

TEST(ParquetWriterTest, RejectsBadRowGroupsAndStaysUsable) {
  ColumnSchema fixed = Col("f", PhysicalType::kFixedLenByteArray);
  fixed.type_length = 4;
  std::vector<ColumnSchema> schema = {Col("req", PhysicalType::kInt32, LogicalKind::kNone, false),
                                      fixed};
  auto writer = Writer::Create(schema);
  ASSERT_TRUE(writer.ok());
  Writer& w = **writer;
  auto expect_invalid = [&](const std::vector<ColumnVector>& cols, size_t rows,
                            const std::string& fragment) {
    Status st = w.WriteRowGroup(cols, rows);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find(fragment), std::string::npos) << st.message();
  };
  expect_invalid({Vec<int32_t>({1, 2}), Vec<std::string>({"abcd", "abcd"})}, 3, "holds 2 values");
  expect_invalid({Vec<int32_t>({1, std::nullopt}), Vec<std::string>({"abcd", "abcd"})}, 2,
                 "REQUIRED but row 1 is null");
  expect_invalid({Vec<int32_t>({1, 2}), Vec<std::string>({"abcd", "abc"})}, 2,
                 "FIXED_LEN_BYTE_ARRAY(4)");
  expect_invalid({Vec<int32_t>({1, 2})}, 2, "schema has 2");
  ColumnVector bad_present = Vec<std::string>({"abcd", "abcd"});
  bad_present.present = {1};
  expect_invalid({Vec<int32_t>({1, 2}), bad_present}, 2, "present has 1");
  // A null FIXED_LEN_BYTE_ARRAY slot may hold anything.
  ASSERT_TRUE(w.WriteRowGroup({Vec<int32_t>({7, 8}), Vec<std::string>({"abcd", std::nullopt})}, 2)
                  .ok());
  auto file = w.Finish();
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(w.Finish().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(w.WriteRowGroup({}, 0).code(), StatusCode::kFailedPrecondition);
  auto reader = OpenOrDie(*file);
  EXPECT_EQ(reader->metadata().num_rows, 2);
  EXPECT_EQ(ReadOrDie(*reader, 0, 0).i32, (std::vector<int32_t>{7, 8}));
  EXPECT_EQ(ReadOrDie(*reader, 0, 1).present, (std::vector<uint8_t>{1, 0}));
}

TEST(ParquetWriterTest, PresentValuesOtherThanOneCountAsPresent) {
  ColumnVector v = Vec<int32_t>({1, 2, 3});
  v.present = {2, 0, 255};
  std::string file = WriteFile({Col("a", PhysicalType::kInt32)}, {{v}});
  auto reader = OpenOrDie(file);
  ColumnVector got = ReadOrDie(*reader, 0, 0);
  EXPECT_EQ(got.present, (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(got.i32, (std::vector<int32_t>{1, 0, 3}));
}

TEST(ParquetDecimalTest, MinimalFixedLengthPerPrecision) {
  EXPECT_EQ(DecimalByteLength(1), 1);
  EXPECT_EQ(DecimalByteLength(2), 1);
  EXPECT_EQ(DecimalByteLength(3), 2);
  EXPECT_EQ(DecimalByteLength(9), 4);
  EXPECT_EQ(DecimalByteLength(10), 5);
  EXPECT_EQ(DecimalByteLength(18), 8);
  EXPECT_EQ(DecimalByteLength(19), 9);
  EXPECT_EQ(DecimalByteLength(38), 16);
  EXPECT_EQ(DecimalByteLength(0), 0);
}

TEST(ParquetRoundTripTest, RandomisedNullableColumnsAcrossPagesAndRowGroups) {
  std::mt19937_64 rng(2024);
  std::vector<ColumnSchema> schema = {Col("i", PhysicalType::kInt64),
                                      Col("d", PhysicalType::kDouble),
                                      Col("s", PhysicalType::kByteArray, LogicalKind::kString),
                                      Col("b", PhysicalType::kBoolean)};
  std::vector<std::vector<ColumnVector>> groups;
  for (int g = 0; g < 3; ++g) {
    std::vector<ColumnVector> cols(4);
    const int rows = 2000 + g * 777;
    for (int r = 0; r < rows; ++r) {
      for (auto& c : cols) c.present.push_back(rng() % 4 != 0);
      cols[0].i64.push_back(static_cast<int64_t>(rng() % 50) - 25);
      cols[1].f64.push_back(static_cast<double>(rng() % 1000) / 8);
      cols[2].bytes.push_back(std::string(rng() % 20, static_cast<char>(rng() % 256)));
      cols[3].b.push_back(rng() % 2);
    }
    // Null slots read back as defaults.
    for (auto& c : cols) {
      for (int r = 0; r < rows; ++r) {
        if (c.present[r]) continue;
        if (!c.i64.empty()) c.i64[r] = 0;
        if (!c.f64.empty()) c.f64[r] = 0;
        if (!c.bytes.empty()) c.bytes[r].clear();
        if (!c.b.empty()) c.b[r] = 0;
      }
    }
    groups.push_back(std::move(cols));
  }
  for (Codec codec : {Codec::kZstd, Codec::kSnappy}) {
    WriterOptions options;
    options.codec = codec;
    options.data_page_bytes = 1000;
    std::string file = WriteFile(schema, groups, options);
    auto reader = OpenOrDie(file);
    for (int g = 0; g < 3; ++g) {
      for (int c = 0; c < 4; ++c) {
        EXPECT_TRUE(SameVector(ReadOrDie(*reader, g, c), groups[g][c])) << g << "/" << c;
      }
    }
  }
}

}  // namespace
}  // namespace kalam::parquet
