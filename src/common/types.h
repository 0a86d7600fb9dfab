// DataType: KalamDB's column types (SQL.md §3), their SQL names and aliases, and their wire names
// (PROTOCOL.md §3 `data_type`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam {

enum class TypeKind : uint8_t {
  kBoolean,
  kSmallInt,
  kInt,
  kBigInt,
  kFloat,
  kDouble,
  kDecimal,
  kText,
  kBytes,
  kJson,
  kTimestamp,
  kDate,
  kDateTime,
  kTime,
  kUuid,
  kEmbedding,
  kFile,
};

// The distance a vector index on an EMBEDDING column orders by (docs/vectors.md): cosine
// distance (1 − cos), squared Euclidean distance, or inner product (ordered by 1 − a·b).
enum class VectorMetric : uint8_t { kCosine, kL2, kDot };

// "Cosine", "L2" or "Dot" (the spelling of the ALTER TABLE … CREATE INDEX message).
std::string_view VectorMetricName(VectorMetric metric);

// The metric named `name` (COSINE, L2 or DOT, any case), or nullopt.
std::optional<VectorMetric> ParseVectorMetric(std::string_view name);

// The wire name of a type kind (PROTOCOL.md §3): "Boolean", "BigInt", "Decimal", "Embedding", …
// For Decimal and Embedding the full wire form also carries parameters: see DataType::WireJson.
std::string_view TypeKindWireName(TypeKind kind);

// A column type with its parameters. Value type.
struct DataType {
  TypeKind kind = TypeKind::kText;
  int precision = 0;  // kDecimal: 1..38
  int scale = 0;      // kDecimal: 0..precision
  int dimension = 0;  // kEmbedding: number of float32 elements, ≥ 1

  bool operator==(const DataType&) const = default;

  // Parses a SQL type name with its aliases and arguments, case-insensitive:
  // "BIGINT", "int8", "DOUBLE PRECISION", "VARCHAR(255)" (length ignored), "DECIMAL(10,2)",
  // "NUMERIC", "EMBEDDING(384)", "TIMESTAMP". Bare DECIMAL = (38,10).
  // Fails with kInvalidArgument naming the type ("Unknown data type 'FOO'",
  // "DECIMAL precision must be between 1 and 38, got 40").
  static Result<DataType> Parse(std::string_view sql);

  // Canonical SQL spelling, re-parseable by Parse: "BIGINT", "DECIMAL(10,2)", "EMBEDDING(384)".
  std::string SqlName() const;

  // The wire `data_type` as JSON text: "\"BigInt\"", "{\"Embedding\":384}",
  // "{\"Decimal\":{\"precision\":10,\"scale\":2}}".
  std::string WireJson() const;
};

}  // namespace kalam
