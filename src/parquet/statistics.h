// Column chunk statistics: computing min/max/null_count in a column's sort order for the writer,
// and turning a file's (possibly legacy) statistics into ColumnStatistics for the reader.
#pragma once

#include <cstddef>
#include <string_view>

#include "parquet/metadata.h"
#include "parquet/parquet.h"

namespace kalam::parquet {

// Byte-array bounds longer than this are left out of the footer (null_count is still written).
inline constexpr size_t kMaxStatisticsValueBytes = 4096;

// Statistics of rows [begin, end) of `values` (nulls counted, not compared). min_value/max_value
// follow ColumnSortOrder(column); the legacy min/max are also set where they agree (signed
// numeric columns). Floats ignore NaN and widen a zero bound to -0.0 / +0.0 as the spec asks.
format::Statistics ComputeStatistics(const ColumnSchema& column, const ColumnVector& values,
                                     size_t begin, size_t end);

// The typed form of a file's statistics. min_value/max_value are used when present; the legacy
// min/max only where their signed order is the column's order (or min == max). Bounds that do
// not decode (wrong size, NaN) are left absent.
ColumnStatistics DecodeStatistics(const ColumnSchema& column, const format::Statistics& stats);

// Compares big-endian two's complement integers of any lengths (DECIMAL on byte arrays).
int CompareBigEndianSigned(std::string_view a, std::string_view b);

}  // namespace kalam::parquet
