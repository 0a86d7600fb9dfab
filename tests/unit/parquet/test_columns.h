// Column builders shared by the Parquet unit tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "parquet/parquet.h"

namespace kalam::parquet::testing {

inline ColumnSchema Col(std::string name, PhysicalType physical,
                        LogicalKind logical = LogicalKind::kNone, bool nullable = true) {
  ColumnSchema c;
  c.name = std::move(name);
  c.physical = physical;
  c.logical = logical;
  c.nullable = nullable;
  return c;
}

// A ColumnVector from optional values; `nulls` decide `present` (left empty when none is null).
template <typename T>
ColumnVector Vec(const std::vector<std::optional<T>>& values) {
  ColumnVector v;
  bool any_null = false;
  for (const auto& x : values) any_null |= !x.has_value();
  for (const auto& x : values) {
    if (any_null) v.present.push_back(x.has_value() ? 1 : 0);
    if constexpr (std::is_same_v<T, bool>) {
      v.b.push_back(x.value_or(false) ? 1 : 0);
    } else if constexpr (std::is_same_v<T, int32_t>) {
      v.i32.push_back(x.value_or(0));
    } else if constexpr (std::is_same_v<T, int64_t>) {
      v.i64.push_back(x.value_or(0));
    } else if constexpr (std::is_same_v<T, float>) {
      v.f32.push_back(x.value_or(0));
    } else if constexpr (std::is_same_v<T, double>) {
      v.f64.push_back(x.value_or(0));
    } else {
      v.bytes.push_back(x.value_or(std::string()));
    }
  }
  return v;
}

inline bool SameVector(const ColumnVector& a, const ColumnVector& b) {
  return a.present == b.present && a.b == b.b && a.i32 == b.i32 && a.i64 == b.i64 &&
         a.f32 == b.f32 && a.f64 == b.f64 && a.bytes == b.bytes;
}

}  // namespace kalam::parquet::testing
