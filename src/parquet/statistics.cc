// Column chunk statistics: computed in each column's sort order, encoded PLAIN, decoded on read.
#include "parquet/statistics.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "parquet/schema.h"

namespace kalam::parquet {

namespace {

template <typename T>
std::string PlainBytes(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

template <typename T>
bool LoadExact(const std::string& s, T* v) {
  if (s.size() != sizeof(T)) return false;
  std::memcpy(v, s.data(), sizeof(T));
  return true;
}

// Runs `f(row)` for each present row of [begin, end).
template <typename F>
void ForPresent(const ColumnVector& v, size_t begin, size_t end, F&& f) {
  if (v.present.empty()) {
    for (size_t i = begin; i < end; ++i) f(i);
  } else {
    for (size_t i = begin; i < end; ++i) {
      if (v.present[i]) f(i);
    }
  }
}

template <typename T, typename Less>
bool MinMax(const std::vector<T>& data, const ColumnVector& v, size_t begin, size_t end,
            Less less, T* lo, T* hi) {
  bool any = false;
  ForPresent(v, begin, end, [&](size_t i) {
    const T& x = data[i];
    if (!any) {
      *lo = *hi = x;
      any = true;
      return;
    }
    if (less(x, *lo)) *lo = x;
    if (less(*hi, x)) *hi = x;
  });
  return any;
}

template <typename F>
bool FloatMinMax(const std::vector<F>& data, const ColumnVector& v, size_t begin, size_t end,
                 F* lo, F* hi) {
  bool any = false;
  ForPresent(v, begin, end, [&](size_t i) {
    F x = data[i];
    if (std::isnan(x)) return;
    if (!any) {
      *lo = *hi = x;
      any = true;
      return;
    }
    if (x < *lo) *lo = x;
    if (x > *hi) *hi = x;
  });
  if (any) {
    if (*lo == F(0)) *lo = -F(0);
    if (*hi == F(0)) *hi = F(0);
  }
  return any;
}

void SetBounds(format::Statistics* s, std::string lo, std::string hi, bool legacy) {
  if (legacy) {
    s->min = lo;
    s->max = hi;
  }
  s->min_value = std::move(lo);
  s->max_value = std::move(hi);
  s->is_min_value_exact = true;
  s->is_max_value_exact = true;
}

// Decodes one PLAIN-encoded bound.
StatValue DecodeBound(const ColumnSchema& c, const std::string& raw) {
  switch (c.physical) {
    case PhysicalType::kBoolean:
      if (raw.size() != 1) return {};
      return static_cast<int64_t>(raw[0] != 0);
    case PhysicalType::kInt32: {
      int32_t v;
      if (!LoadExact(raw, &v)) return {};
      if (ColumnSortOrder(c) == SortOrder::kUnsigned) {
        return static_cast<int64_t>(static_cast<uint32_t>(v));
      }
      return static_cast<int64_t>(v);
    }
    case PhysicalType::kInt64: {
      int64_t v;
      if (!LoadExact(raw, &v)) return {};
      return v;
    }
    case PhysicalType::kFloat: {
      float v;
      if (!LoadExact(raw, &v) || std::isnan(v)) return {};
      return static_cast<double>(v);
    }
    case PhysicalType::kDouble: {
      double v;
      if (!LoadExact(raw, &v) || std::isnan(v)) return {};
      return v;
    }
    case PhysicalType::kByteArray:
      return raw;
    case PhysicalType::kFixedLenByteArray:
      if (raw.size() != static_cast<size_t>(c.type_length)) return {};
      return raw;
    case PhysicalType::kInt96:
      return {};
  }
  return {};
}

}  // namespace

int CompareBigEndianSigned(std::string_view a, std::string_view b) {
  auto sign_byte = [](std::string_view s) -> uint8_t {
    return !s.empty() && (static_cast<uint8_t>(s[0]) & 0x80) ? 0xFF : 0x00;
  };
  const bool a_neg = sign_byte(a) != 0;
  const bool b_neg = sign_byte(b) != 0;
  if (a_neg != b_neg) return a_neg ? -1 : 1;
  // Same sign: sign-extend the shorter one and compare byte-wise as unsigned.
  const size_t n = std::max(a.size(), b.size());
  const uint8_t fill = a_neg ? 0xFF : 0x00;
  for (size_t i = 0; i < n; ++i) {
    size_t ia = i + a.size();
    size_t ib = i + b.size();
    uint8_t x = ia < n ? fill : static_cast<uint8_t>(a[ia - n]);
    uint8_t y = ib < n ? fill : static_cast<uint8_t>(b[ib - n]);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

format::Statistics ComputeStatistics(const ColumnSchema& c, const ColumnVector& v, size_t begin,
                                     size_t end) {
  format::Statistics s;
  int64_t nulls = 0;
  if (!v.present.empty()) {
    for (size_t i = begin; i < end; ++i) nulls += v.present[i] == 0;
  }
  s.null_count = nulls;
  const SortOrder order = ColumnSortOrder(c);
  if (order == SortOrder::kUnknown) return s;
  const bool legacy = order == SortOrder::kSigned;
  switch (c.physical) {
    case PhysicalType::kBoolean: {
      uint8_t lo = 0, hi = 0;
      if (MinMax(v.b, v, begin, end, [](uint8_t a, uint8_t b) { return (a != 0) < (b != 0); },
                 &lo, &hi)) {
        SetBounds(&s, std::string(1, lo != 0), std::string(1, hi != 0), legacy);
      }
      break;
    }
    case PhysicalType::kInt32: {
      int32_t lo = 0, hi = 0;
      bool any = order == SortOrder::kUnsigned
                     ? MinMax(v.i32, v, begin, end,
                              [](int32_t a, int32_t b) {
                                return static_cast<uint32_t>(a) < static_cast<uint32_t>(b);
                              },
                              &lo, &hi)
                     : MinMax(v.i32, v, begin, end, std::less<int32_t>(), &lo, &hi);
      if (any) SetBounds(&s, PlainBytes(lo), PlainBytes(hi), legacy);
      break;
    }
    case PhysicalType::kInt64: {
      int64_t lo = 0, hi = 0;
      bool any = order == SortOrder::kUnsigned
                     ? MinMax(v.i64, v, begin, end,
                              [](int64_t a, int64_t b) {
                                return static_cast<uint64_t>(a) < static_cast<uint64_t>(b);
                              },
                              &lo, &hi)
                     : MinMax(v.i64, v, begin, end, std::less<int64_t>(), &lo, &hi);
      if (any) SetBounds(&s, PlainBytes(lo), PlainBytes(hi), legacy);
      break;
    }
    case PhysicalType::kFloat: {
      float lo = 0, hi = 0;
      if (FloatMinMax(v.f32, v, begin, end, &lo, &hi)) {
        SetBounds(&s, PlainBytes(lo), PlainBytes(hi), legacy);
      }
      break;
    }
    case PhysicalType::kDouble: {
      double lo = 0, hi = 0;
      if (FloatMinMax(v.f64, v, begin, end, &lo, &hi)) {
        SetBounds(&s, PlainBytes(lo), PlainBytes(hi), legacy);
      }
      break;
    }
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray: {
      const std::string* lo = nullptr;
      const std::string* hi = nullptr;
      const bool is_signed = order == SortOrder::kSigned;
      ForPresent(v, begin, end, [&](size_t i) {
        const std::string& x = v.bytes[i];
        if (lo == nullptr) {
          lo = hi = &x;
          return;
        }
        if (is_signed) {
          if (CompareBigEndianSigned(x, *lo) < 0) lo = &x;
          if (CompareBigEndianSigned(x, *hi) > 0) hi = &x;
        } else {
          // std::string compares char_traits<char>, which is unsigned byte order.
          if (x.compare(*lo) < 0) lo = &x;
          if (x.compare(*hi) > 0) hi = &x;
        }
      });
      if (lo != nullptr && lo->size() <= kMaxStatisticsValueBytes &&
          hi->size() <= kMaxStatisticsValueBytes) {
        SetBounds(&s, *lo, *hi, false);
      }
      break;
    }
    case PhysicalType::kInt96:
      break;
  }
  return s;
}

ColumnStatistics DecodeStatistics(const ColumnSchema& c, const format::Statistics& s) {
  ColumnStatistics out;
  out.null_count = s.null_count.value_or(-1);
  const SortOrder order = ColumnSortOrder(c);
  if (order == SortOrder::kUnknown) return out;
  if (s.min_value && s.max_value) {
    out.min = DecodeBound(c, *s.min_value);
    out.max = DecodeBound(c, *s.max_value);
  } else if (s.min && s.max) {
    // Legacy bounds were computed with signed comparison: right for signed numbers, and for any
    // column when both bounds are the same value.
    bool numeric = c.physical != PhysicalType::kByteArray &&
                   c.physical != PhysicalType::kFixedLenByteArray;
    if ((order == SortOrder::kSigned && numeric) || *s.min == *s.max) {
      out.min = DecodeBound(c, *s.min);
      out.max = DecodeBound(c, *s.max);
    }
  }
  if (std::holds_alternative<std::monostate>(out.min) ||
      std::holds_alternative<std::monostate>(out.max)) {
    out.min = std::monostate{};
    out.max = std::monostate{};
  }
  return out;
}

}  // namespace kalam::parquet
