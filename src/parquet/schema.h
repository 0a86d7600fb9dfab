// How a ColumnSchema maps onto a Parquet SchemaElement (LogicalType plus legacy ConvertedType) and
// back, which schemas the writer accepts, and each column's statistics sort order.
#pragma once

#include <string>

#include "common/status.h"
#include "parquet/metadata.h"
#include "parquet/parquet.h"

namespace kalam::parquet {

// kInvalidArgument, naming the column and the problem, if the writer cannot write `column`.
Status ValidateColumnSchema(const ColumnSchema& column);

// The leaf SchemaElement for a valid column: physical type, repetition, LogicalType and the
// matching ConvertedType where one exists.
format::SchemaElement ToSchemaElement(const ColumnSchema& column);

// The ColumnSchema of a leaf element read from a file. The LogicalType wins over the
// ConvertedType; annotations this codec has no kind for (ENUM reads as kString, BSON, FLOAT16,
// INTERVAL, UNKNOWN) read as kNone. kInvalidArgument for a REPEATED leaf; kCorruption for a
// leaf without a type or a FIXED_LEN_BYTE_ARRAY without a usable length.
Result<ColumnSchema> FromSchemaElement(const format::SchemaElement& element);

// How min/max statistics of a column compare (parquet.thrift ColumnOrder TYPE_ORDER).
enum class SortOrder : uint8_t {
  kSigned,    // numbers: signed integers, floats, booleans, decimals (two's complement)
  kUnsigned,  // unsigned integers, and byte arrays compared byte-wise as unsigned
  kUnknown,   // INT96 and other types without a defined order: no statistics
};

SortOrder ColumnSortOrder(const ColumnSchema& column);

// "INT64", "BYTE_ARRAY", ... for messages.
std::string PhysicalTypeName(PhysicalType type);

}  // namespace kalam::parquet
