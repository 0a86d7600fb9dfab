// Value: one cell as KalamDB stores it and as SQLite sees it. Five storage classes, like SQLite's;
// what a value means (a BIGINT, a TIMESTAMP in µs, a UUID string) comes from its column's DataType.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace kalam {

// Raw bytes, distinct from text so that a BYTES column never reads as TEXT.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// One cell. Storage class by column type (see common/types.h):
//   Null     — SQL NULL, any type
//   Int      — BOOLEAN (0/1), SMALLINT, INT, BIGINT, TIMESTAMP/DATETIME/TIME (µs), DATE (days)
//   Double   — FLOAT, DOUBLE
//   Text     — TEXT, JSON, FILE, UUID (canonical lower case), DECIMAL (canonical, exactly `scale`
//              decimals, e.g. "200.75")
//   Blob     — BYTES, EMBEDDING (4·n bytes of little-endian float32)
// Thread-compatible value type.
class Value {
 public:
  enum class Kind : uint8_t { kNull = 0, kInt = 1, kDouble = 2, kText = 3, kBlob = 4 };

  Value() = default;
  static Value Null() { return Value(); }
  static Value Int(int64_t v) { return Value(Rep(std::in_place_index<1>, v)); }
  static Value Double(double v) { return Value(Rep(std::in_place_index<2>, v)); }
  static Value Text(std::string v) { return Value(Rep(std::in_place_index<3>, std::move(v))); }
  static Value Bytes(std::string v) { return Value(Rep(std::in_place_index<4>, Blob{std::move(v)})); }

  Kind kind() const { return static_cast<Kind>(rep_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  int64_t as_int() const { return std::get<1>(rep_); }
  double as_double() const { return std::get<2>(rep_); }
  const std::string& as_text() const { return std::get<3>(rep_); }
  const std::string& as_bytes() const { return std::get<4>(rep_).bytes; }

  bool operator==(const Value& o) const = default;

  // In-place setters (a decoder's reused row): no temporary Value, and text or bytes reuse the
  // string this value already holds.
  void SetNull() { rep_.emplace<0>(); }
  void SetInt(int64_t v) {
    if (auto* p = std::get_if<1>(&rep_)) *p = v; else rep_.emplace<1>(v);
  }
  void SetDouble(double v) {
    if (auto* p = std::get_if<2>(&rep_)) *p = v; else rep_.emplace<2>(v);
  }
  void SetText(std::string_view v) {
    if (auto* p = std::get_if<3>(&rep_)) p->assign(v.data(), v.size()); else rep_.emplace<3>(v);
  }
  void SetBytes(std::string_view v) {
    if (auto* p = std::get_if<4>(&rep_)) {
      p->bytes.assign(v.data(), v.size());
    } else {
      rep_.emplace<4>(Blob{std::string(v)});
    }
  }

  // A short human-readable rendering for error messages ("42", "'abc'", "NULL", "x'6869'").
  std::string DebugString() const;

 private:
  using Rep = std::variant<std::monostate, int64_t, double, std::string, Blob>;
  explicit Value(Rep r) : rep_(std::move(r)) {}
  Rep rep_;
};

}  // namespace kalam
