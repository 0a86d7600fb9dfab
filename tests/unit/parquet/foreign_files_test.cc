// Reads files written by pyarrow and DuckDB (foreign_files.h): data page v2, DELTA_BINARY_PACKED,
// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE booleans, dictionaries, INT96,
// SNAPPY/GZIP/ZSTD, several row groups and pages.
#include <gtest/gtest.h>

#include "foreign_files.h"
#include "parquet/parquet.h"

namespace kalam::parquet {
namespace {

// Checks every column of every row group against the generator's formulas
// (tests/unit/parquet/gen_foreign_files.py).
void ExpectGeneratedValues(std::string_view file, bool int96) {
  auto reader = Reader::Open(file);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const FileMetadata& md = (*reader)->metadata();
  ASSERT_EQ(md.num_rows, 100);
  ASSERT_EQ(md.schema.size(), 9u);
  EXPECT_EQ(md.schema[4].logical, LogicalKind::kString);
  EXPECT_EQ(md.schema[8].physical, int96 ? PhysicalType::kInt96 : PhysicalType::kInt64);
  int base = 0;
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    const int rows = static_cast<int>(md.row_groups[g].num_rows);
    std::vector<ColumnVector> cols;
    for (int c = 0; c < 9; ++c) {
      auto v = (*reader)->ReadColumn(static_cast<int>(g), c);
      ASSERT_TRUE(v.ok()) << "group " << g << " column " << c << ": " << v.status().ToString();
      cols.push_back(std::move(*v));
    }
    for (int r = 0; r < rows; ++r) {
      const int i = base + r;
      SCOPED_TRACE("row " + std::to_string(i));
      EXPECT_EQ(cols[0].is_null(r), i % 7 == 0);
      if (i % 7 != 0) {
        EXPECT_EQ(cols[0].i32[r], i * 3 - 50);
      }
      EXPECT_EQ(cols[1].i64[r], static_cast<int64_t>(i) * i * 1000003 - 1000000000);
      EXPECT_EQ(cols[2].f32[r], i * 0.5f);
      EXPECT_EQ(cols[3].f64[r], i / 3.0);
      EXPECT_EQ(cols[4].is_null(r), i % 5 == 0);
      if (i % 5 != 0) {
        EXPECT_EQ(cols[4].bytes[r], "name-" + std::to_string(i % 13));
      }
      EXPECT_EQ(cols[5].bytes[r], std::string(i % 4, 'v'));
      EXPECT_EQ(cols[6].b[r], i % 3 == 0 ? 1 : 0);
      EXPECT_EQ(cols[7].bytes[r], "room-" + std::to_string(i % 4));
      const int64_t micros = 1700000000000000 + int64_t{i} * 1000;
      EXPECT_EQ(cols[8].i64[r], int96 ? micros * 1000 : micros);
    }
    base += rows;
  }
  EXPECT_EQ(base, 100);
}

TEST(ForeignFilesTest, PyarrowDataPageV2WithDeltaByteStreamSplitAndRleBooleans) {
  ExpectGeneratedValues(testing::kPyarrowV2Delta, false);
}

TEST(ForeignFilesTest, PyarrowV1DictionaryGzipWithInt96Timestamps) {
  ExpectGeneratedValues(testing::kPyarrowV1DictGzipInt96, true);
}

TEST(ForeignFilesTest, DuckdbV2Zstd) { ExpectGeneratedValues(testing::kDuckdbV2Zstd, false); }

TEST(ForeignFilesTest, PyarrowStatisticsDecodeInColumnOrder) {
  auto reader = Reader::Open(testing::kPyarrowV1DictGzipInt96);
  ASSERT_TRUE(reader.ok());
  const auto& cols = (*reader)->metadata().row_groups[0].columns;
  EXPECT_EQ(cols[0].stats.min, StatValue(int64_t{-47}));  // i = 1
  EXPECT_EQ(cols[0].stats.max, StatValue(int64_t{59 * 3 - 50}));
  EXPECT_EQ(cols[0].stats.null_count, 9);                  // multiples of 7 below 60
  EXPECT_EQ(cols[4].stats.min, StatValue(std::string("name-0")));  // i = 13
  EXPECT_EQ(cols[4].stats.max, StatValue(std::string("name-9")));
  EXPECT_EQ(cols[0].codec, Codec::kGzip);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(cols[8].stats.min));  // INT96: no order
}

}  // namespace
}  // namespace kalam::parquet
