// Robustness: thousands of truncated and bit-flipped variants of valid files (ours in every codec
// and encoding, and pyarrow's and DuckDB's) go through Open and ReadColumn of every chunk. Each
// must either decode or fail with a Status; never crash, read out of bounds (run under ASan) or
// allocate without bound.
#include <gtest/gtest.h>

#include <random>

#include "foreign_files.h"
#include "parquet/parquet.h"

namespace kalam::parquet {
namespace {

std::vector<std::string> SeedFiles() {
  std::vector<std::string> files = {std::string(testing::kPyarrowV2Delta),
                                    std::string(testing::kPyarrowV1DictGzipInt96),
                                    std::string(testing::kDuckdbV2Zstd)};
  std::vector<ColumnSchema> schema(5);
  schema[0] = {.name = "id", .physical = PhysicalType::kInt64, .nullable = false};
  schema[1] = {.name = "room",
               .physical = PhysicalType::kByteArray,
               .logical = LogicalKind::kString};
  schema[2] = {.name = "flag", .physical = PhysicalType::kBoolean};
  schema[3] = {.name = "score", .physical = PhysicalType::kDouble};
  schema[4] = {.name = "uuid", .physical = PhysicalType::kFixedLenByteArray,
               .logical = LogicalKind::kUuid, .type_length = 16};
  std::mt19937 rng(5);
  std::vector<ColumnVector> cols(5);
  for (int i = 0; i < 300; ++i) {
    bool null = rng() % 4 == 0;
    cols[0].i64.push_back(i * 17 - 1000);
    cols[1].present.push_back(!null);
    cols[1].bytes.push_back(null ? "" : "room-" + std::to_string(rng() % 9));
    cols[2].b.push_back(rng() % 2);
    cols[3].f64.push_back(rng() % 100 / 4.0);
    cols[4].bytes.push_back(std::string(16, static_cast<char>(rng() % 5)));
  }
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    for (bool dictionary : {true, false}) {
      WriterOptions options;
      options.codec = codec;
      options.dictionary = dictionary;
      options.data_page_bytes = 300;
      auto writer = Writer::Create(schema, options);
      EXPECT_TRUE(writer.ok());
      EXPECT_TRUE((*writer)->WriteRowGroup(cols, 300).ok());
      EXPECT_TRUE((*writer)->WriteRowGroup(cols, 300).ok());
      auto file = (*writer)->Finish({{"k", "v"}});
      EXPECT_TRUE(file.ok());
      files.push_back(*file);
    }
  }
  return files;
}

// Opens `data` and reads every chunk; returns the first failure's code (kOk if all decode).
StatusCode ReadEverything(const std::string& data, std::string* message) {
  auto reader = Reader::Open(data);
  if (!reader.ok()) {
    *message = reader.status().message();
    return reader.status().code();
  }
  const FileMetadata& md = (*reader)->metadata();
  StatusCode first = StatusCode::kOk;
  for (size_t g = 0; g < md.row_groups.size(); ++g) {
    for (size_t c = 0; c < md.schema.size(); ++c) {
      auto v = (*reader)->ReadColumn(static_cast<int>(g), static_cast<int>(c));
      if (!v.ok() && first == StatusCode::kOk) {
        first = v.status().code();
        *message = v.status().message();
      }
      const PhysicalType p = md.schema[c].physical;
      if (p == PhysicalType::kByteArray || p == PhysicalType::kFixedLenByteArray) {
        ByteArrayVector packed;
        Status st = (*reader)->ReadByteArrays(static_cast<int>(g), static_cast<int>(c), &packed);
        // Both paths decode the same pages, so they agree on success.
        EXPECT_EQ(st.ok(), v.ok()) << st.ToString();
        if (st.ok() && v.ok()) {
          EXPECT_EQ(packed.size(), v->bytes.size());
        }
      }
    }
  }
  return first;
}

void ExpectCleanFailure(StatusCode code, const std::string& message, const std::string& what) {
  // Damage reads as corruption; a flipped codec or feature id may name something unsupported
  // (kInvalidArgument); a flipped size may hit the decode limit (kResourceExhausted).
  EXPECT_TRUE(code == StatusCode::kOk || code == StatusCode::kCorruption ||
              code == StatusCode::kInvalidArgument || code == StatusCode::kResourceExhausted)
      << what << ": " << static_cast<int>(code) << " " << message;
  if (code != StatusCode::kOk) {
    EXPECT_FALSE(message.empty()) << what;
  }
}

TEST(ParquetCorruptionTest, SeedFilesDecodeCleanly) {
  for (const std::string& file : SeedFiles()) {
    std::string message;
    EXPECT_EQ(ReadEverything(file, &message), StatusCode::kOk) << message;
  }
}

TEST(ParquetCorruptionTest, EveryTruncationFailsCleanly) {
  int corruption = 0;
  for (const std::string& file : SeedFiles()) {
    // Every prefix length near the ends, a stride through the middle.
    for (size_t len = 0; len < file.size(); len += (len < 64 || len + 600 > file.size()) ? 1 : 7) {
      std::string message;
      StatusCode code = ReadEverything(file.substr(0, len), &message);
      EXPECT_NE(code, StatusCode::kOk) << "prefix " << len;
      ExpectCleanFailure(code, message, "prefix " + std::to_string(len));
      corruption += code == StatusCode::kCorruption;
    }
    // Truncated footers inside an intact frame: the footer length still points at real bytes.
    std::string shortened = file.substr(0, file.size() - 8);
    for (size_t cut = 1; cut < 200 && cut < shortened.size(); cut += 3) {
      std::string variant =
          shortened.substr(0, shortened.size() - cut) + file.substr(file.size() - 8);
      std::string message;
      ExpectCleanFailure(ReadEverything(variant, &message), message, "footer cut");
    }
  }
  EXPECT_GT(corruption, 1000);
}

TEST(ParquetCorruptionTest, RandomBitFlipsAndByteSmashesFailCleanly) {
  std::mt19937_64 rng(0xC0FFEE);
  int failures = 0;
  int variants = 0;
  for (const std::string& file : SeedFiles()) {
    for (int round = 0; round < 700; ++round) {
      std::string variant = file;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) {
        // Half the edits aim at the footer, where sizes and offsets live.
        size_t footer_zone = std::min<size_t>(variant.size(), 600);
        size_t pos = rng() % 2 ? variant.size() - 1 - rng() % footer_zone : rng() % variant.size();
        if (rng() % 3 == 0) {
          variant[pos] = static_cast<char>(rng());
        } else {
          variant[pos] ^= static_cast<char>(1 << (rng() % 8));
        }
      }
      std::string message;
      StatusCode code = ReadEverything(variant, &message);
      ExpectCleanFailure(code, message, "round " + std::to_string(round));
      failures += code != StatusCode::kOk;
      ++variants;
    }
  }
  EXPECT_GT(variants, 7000);
  EXPECT_GT(failures, variants / 4);
}

}  // namespace
}  // namespace kalam::parquet
