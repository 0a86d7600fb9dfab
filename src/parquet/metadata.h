// The Thrift structures of parquet.thrift that a flat-file reader and writer need (file footer,
// page headers), with their compact-protocol serialisation and bounds-checked parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::parquet::format {

// parquet.thrift `Encoding`.
enum Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

// parquet.thrift `PageType`.
enum PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

// parquet.thrift `CompressionCodec` (the subset with a name here; others are refused).
enum CompressionCodec : int32_t {
  kCodecUncompressed = 0,
  kCodecSnappy = 1,
  kCodecGzip = 2,
  kCodecLzo = 3,
  kCodecBrotli = 4,
  kCodecLz4 = 5,
  kCodecZstd = 6,
  kCodecLz4Raw = 7,
};

// parquet.thrift `FieldRepetitionType`.
enum Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

// parquet.thrift `ConvertedType`.
enum ConvertedType : int32_t {
  kUtf8 = 0,
  kMap = 1,
  kMapKeyValue = 2,
  kList = 3,
  kEnum = 4,
  kDecimal = 5,
  kDate = 6,
  kTimeMillis = 7,
  kTimeMicros = 8,
  kTimestampMillis = 9,
  kTimestampMicros = 10,
  kUint8 = 11,
  kUint16 = 12,
  kUint32 = 13,
  kUint64 = 14,
  kInt8 = 15,
  kInt16 = 16,
  kInt32 = 17,
  kInt64 = 18,
  kJson = 19,
  kBson = 20,
  kInterval = 21,
};

// The union field ids of parquet.thrift `LogicalType`.
enum LogicalTypeId : int16_t {
  kLogicalNone = 0,
  kLogicalString = 1,
  kLogicalMap = 2,
  kLogicalList = 3,
  kLogicalEnum = 4,
  kLogicalDecimal = 5,
  kLogicalDate = 6,
  kLogicalTime = 7,
  kLogicalTimestamp = 8,
  kLogicalInteger = 10,
  kLogicalUnknown = 11,
  kLogicalJson = 12,
  kLogicalBson = 13,
  kLogicalUuid = 14,
  kLogicalFloat16 = 15,
};

struct Statistics {
  std::optional<std::string> max;  // legacy, signed order
  std::optional<std::string> min;  // legacy, signed order
  std::optional<int64_t> null_count;
  std::optional<std::string> max_value;
  std::optional<std::string> min_value;
  std::optional<bool> is_max_value_exact;
  std::optional<bool> is_min_value_exact;
};

// `LogicalType` flattened: `id` says which union member is set; the other fields belong to it.
struct LogicalType {
  int16_t id = kLogicalNone;  // a LogicalTypeId, or an id this code does not know
  int32_t scale = 0;          // DECIMAL
  int32_t precision = 0;      // DECIMAL
  bool utc_adjusted = false;  // TIME, TIMESTAMP
  int16_t unit = 2;           // TIME, TIMESTAMP: TimeUnit member id (1 millis, 2 micros, 3 nanos)
  int8_t bit_width = 0;       // INTEGER
  bool is_signed = true;      // INTEGER
};

struct SchemaElement {
  std::optional<int32_t> type;  // a PhysicalType; absent for groups
  std::optional<int32_t> type_length;
  std::optional<int32_t> repetition;
  std::string name;
  std::optional<int32_t> num_children;
  std::optional<int32_t> converted_type;
  std::optional<int32_t> scale;
  std::optional<int32_t> precision;
  std::optional<int32_t> field_id;
  LogicalType logical;
};

struct DataPageHeader {
  int32_t num_values = 0;
  int32_t encoding = kPlain;
  int32_t definition_level_encoding = kRle;
  int32_t repetition_level_encoding = kRle;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  int32_t encoding = kPlain;
  bool is_sorted = false;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0;
  int32_t num_nulls = 0;
  int32_t num_rows = 0;
  int32_t encoding = kPlain;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageHeader {
  int32_t type = kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  std::optional<DataPageHeaderV2> data_page_v2;
};

struct PageEncodingStats {
  int32_t page_type = kDataPage;
  int32_t encoding = kPlain;
  int32_t count = 0;
};

struct ColumnMetaData {
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path_in_schema;
  int32_t codec = kCodecUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> index_page_offset;
  std::optional<int64_t> dictionary_page_offset;
  std::optional<Statistics> statistics;
  std::vector<PageEncodingStats> encoding_stats;
};

struct ColumnChunk {
  std::optional<std::string> file_path;
  int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
  bool encrypted = false;  // crypto_metadata or encrypted_column_metadata present
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
  std::optional<int64_t> file_offset;
  std::optional<int64_t> total_compressed_size;
  std::optional<int16_t> ordinal;
};

struct KeyValue {
  std::string key;
  std::optional<std::string> value;
};

struct FileMetaData {
  int32_t version = 2;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<KeyValue> key_value_metadata;
  std::optional<std::string> created_by;
  // Write: one TYPE_ORDER entry per leaf column when true. Read: column_orders was present.
  bool type_defined_column_orders = false;
  bool encrypted = false;  // encryption_algorithm present
};

// Appends the compact encoding of a page header.
void SerializePageHeader(const PageHeader& header, std::string* out);

// Parses a page header at the start of `data` and returns its encoded length. kCorruption if it
// is malformed, truncated or misses a required field.
Result<size_t> ParsePageHeader(std::string_view data, PageHeader* header);

// Appends the compact encoding of a file footer.
void SerializeFileMetaData(const FileMetaData& metadata, std::string* out);

// Parses a whole footer. kCorruption if it is malformed, truncated or misses a required field.
Status ParseFileMetaData(std::string_view data, FileMetaData* metadata);

}  // namespace kalam::parquet::format
