// Parquet codec: a writer and reader for flat Parquet files, written from the Apache Parquet
// format specification. Knows nothing of KalamDB: callers map their types onto ColumnSchema.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace kalam::parquet {

// The format's physical types (values as in parquet.thrift `Type`).
enum class PhysicalType : uint8_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,  // read only (legacy timestamps): delivered as INT64 nanoseconds since the epoch
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

// The logical annotation of a column (LogicalType; the writer also writes the matching legacy
// ConvertedType where one exists so that old readers agree).
enum class LogicalKind : uint8_t {
  kNone,
  kString,     // BYTE_ARRAY, UTF-8
  kJson,       // BYTE_ARRAY
  kInt,        // INT32/INT64 with bit_width 8/16/32/64 and signedness
  kDecimal,    // INT32, INT64 or FIXED_LEN_BYTE_ARRAY (big-endian two's complement)
  kDate,       // INT32 days since 1970-01-01
  kTime,       // INT32 (millis) or INT64 (micros, nanos)
  kTimestamp,  // INT64 (millis, micros, nanos) since the epoch
  kUuid,       // FIXED_LEN_BYTE_ARRAY(16)
};

enum class TimeUnit : uint8_t { kMillis, kMicros, kNanos };

enum class Codec : uint8_t { kUncompressed, kSnappy, kGzip, kZstd };

// One leaf column of a flat schema.
struct ColumnSchema {
  std::string name;
  PhysicalType physical = PhysicalType::kByteArray;
  LogicalKind logical = LogicalKind::kNone;
  bool nullable = true;        // OPTIONAL (definition level 0/1) vs REQUIRED
  int type_length = 0;         // kFixedLenByteArray: bytes per value
  int int_bit_width = 0;       // kInt: 8, 16, 32 or 64
  bool int_signed = true;      // kInt
  int precision = 0;           // kDecimal
  int scale = 0;               // kDecimal
  TimeUnit unit = TimeUnit::kMicros;  // kTime, kTimestamp
  bool utc_adjusted = false;   // kTime, kTimestamp: isAdjustedToUTC

  bool operator==(const ColumnSchema&) const = default;
};

// The values of one column for a run of rows, one slot per row (a null row's slot holds a default
// value and is ignored). Only the vector that matches the physical type is used:
//   kBoolean → b (0/1); kInt32 → i32; kInt64, kInt96 → i64; kFloat → f32; kDouble → f64;
//   kByteArray, kFixedLenByteArray → bytes.
struct ColumnVector {
  // Empty: every row present. Otherwise one entry per row, 1 = present, 0 = null.
  std::vector<uint8_t> present;
  std::vector<uint8_t> b;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<float> f32;
  std::vector<double> f64;
  std::vector<std::string> bytes;

  bool is_null(size_t row) const { return !present.empty() && present[row] == 0; }
};

// The values of one BYTE_ARRAY or FIXED_LEN_BYTE_ARRAY column chunk packed into one buffer, for
// scans that should not pay for a std::string per value: row i is
// data[offsets[i], offsets[i + 1]). A null row's value is empty.
struct ByteArrayVector {
  // As ColumnVector::present: empty = every row present, else 1 = present, 0 = null.
  std::vector<uint8_t> present;
  std::string data;
  std::vector<uint64_t> offsets;  // one entry per row plus one; offsets[0] = 0

  size_t size() const { return offsets.empty() ? 0 : offsets.size() - 1; }
  bool is_null(size_t row) const { return !present.empty() && present[row] == 0; }
  std::string_view value(size_t row) const {
    return std::string_view(data).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
};

// A statistics bound in a typed form: BOOLEAN/INT32/INT64 → int64_t, FLOAT/DOUBLE → double,
// byte arrays → the raw bytes. monostate = absent.
using StatValue = std::variant<std::monostate, int64_t, double, std::string>;

// Column chunk statistics, ordered by the column's logical sort order (signed for ints and
// decimals, unsigned byte-wise for strings, UUIDs and binary).
struct ColumnStatistics {
  StatValue min;
  StatValue max;
  int64_t null_count = -1;  // -1 = unknown
};

struct ColumnChunkInfo {
  Codec codec = Codec::kUncompressed;
  int64_t num_values = 0;  // including nulls
  int64_t total_compressed_size = 0;
  int64_t total_uncompressed_size = 0;
  ColumnStatistics stats;
};

struct RowGroupInfo {
  int64_t num_rows = 0;
  std::vector<ColumnChunkInfo> columns;  // in schema order
};

using KeyValueMetadata = std::vector<std::pair<std::string, std::string>>;

struct FileMetadata {
  std::vector<ColumnSchema> schema;  // leaf columns in file order
  int64_t num_rows = 0;
  std::vector<RowGroupInfo> row_groups;
  KeyValueMetadata key_value_metadata;
  std::string created_by;
};

struct WriterOptions {
  // Page compression. Default: ZSTD.
  Codec codec = Codec::kZstd;
  // ZSTD level. Default: 1 (fast; flush speed matters more than the last few percent of size).
  int zstd_level = 1;
  // Dictionary-encode each column chunk whose dictionary stays within dictionary_page_limit_bytes
  // and is smaller than PLAIN; the others (and BOOLEAN columns) are PLAIN. Default: true.
  bool dictionary = true;
  // Largest dictionary page before the column falls back to PLAIN. Default: 1 MiB.
  size_t dictionary_page_limit_bytes = 1 << 20;
  // Target uncompressed size of one data page (a page also holds at most 2^20 rows).
  // Default: 1 MiB.
  size_t data_page_bytes = 1 << 20;
  // Write min/max/null_count statistics per column chunk. Byte-array bounds over 4 KiB are left
  // out (null_count stays). Default: true.
  bool statistics = true;
  // The footer's created_by. Default: "kalamdb".
  std::string created_by = "kalamdb";
};

// Builds one Parquet file in memory: schema, then row groups, then the footer.
// Not thread-safe.
class Writer {
 public:
  // kInvalidArgument for an unusable schema (empty, duplicate names, a logical kind that does not
  // fit its physical type, FIXED_LEN_BYTE_ARRAY without a length).
  static Result<std::unique_ptr<Writer>> Create(std::vector<ColumnSchema> schema,
                                                WriterOptions options = {});
  ~Writer();

  // Appends one row group of `num_rows` rows; `columns` is in schema order and each vector holds
  // num_rows slots. kInvalidArgument on a size mismatch, a null in a REQUIRED column, or a
  // fixed-length value of the wrong size; the writer is unchanged then.
  Status WriteRowGroup(const std::vector<ColumnVector>& columns, size_t num_rows);

  // Writes the footer and returns the complete file. The writer is finished afterwards.
  Result<std::string> Finish(const KeyValueMetadata& key_value_metadata = {});

 private:
  struct Impl;
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads a Parquet file held in memory. Reads PLAIN, dictionary (PLAIN_DICTIONARY /
// RLE_DICTIONARY), RLE booleans, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
// BYTE_STREAM_SPLIT pages, data page v1 and v2, UNCOMPRESSED/SNAPPY/GZIP/ZSTD.
// Flat schemas only: nested or repeated columns are refused at Open with kInvalidArgument, as are
// other codecs (LZ4, BROTLI, LZO), encrypted files and column chunks stored in other files.
// Malformed or truncated input fails with kCorruption naming what is wrong; it never crashes,
// reads out of bounds or allocates without bound: every count and length is checked against the
// bytes that hold it, a page is at most 1 GiB, and a column chunk that would decode to more than
// 1 GiB of values fails with kResourceExhausted.
// Thread-safe after Open (const methods only).
class Reader {
 public:
  // `file` must stay alive and unchanged while the reader is used.
  static Result<std::unique_ptr<Reader>> Open(std::string_view file);
  ~Reader();

  const FileMetadata& metadata() const;
  // Index of the leaf column named `name`, or -1.
  int FindColumn(std::string_view name) const;
  // Decodes one column chunk of one row group (RowGroupInfo::num_rows slots).
  Result<ColumnVector> ReadColumn(int row_group, int column) const;
  // ReadColumn into a caller-owned vector, reusing its allocations (the fast path for scanning
  // many row groups: string slots keep their capacity). On failure `out` holds unspecified
  // values of the right shape or less.
  Status ReadColumnInto(int row_group, int column, ColumnVector* out) const;
  // ReadColumn of a byte-array column into one buffer (the fastest way to scan strings), reusing
  // `out`'s allocations. kInvalidArgument if the column is not BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY.
  Status ReadByteArrays(int row_group, int column, ByteArrayVector* out) const;

 private:
  struct Impl;
  explicit Reader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string_view CodecName(Codec codec);  // "UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"

// The fewest FIXED_LEN_BYTE_ARRAY bytes that hold every DECIMAL(precision) unscaled value as
// big-endian two's complement (precision 1..76); 0 for a precision outside that range.
int DecimalByteLength(int precision);

}  // namespace kalam::parquet
