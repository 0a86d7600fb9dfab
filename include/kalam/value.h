// Typed values of KalamDB results: column types, columns, and the Value a row cell holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kalam::client {

// KalamDB column types (PROTOCOL.md §3 `data_type` names).
enum class TypeKind {
  kUnknown,  // a name this client does not know; values keep their JSON form as text
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
  kFile,
  kEmbedding,
};

// A column's type as the server describes it: a kind plus its parameters.
struct DataType {
  TypeKind kind = TypeKind::kUnknown;
  int dimension = 0;  // kEmbedding: number of elements
  int precision = 0;  // kDecimal
  int scale = 0;      // kDecimal
  std::string unknown_name;  // kUnknown: the name the server sent

  // The wire name: "BigInt", "Embedding(384)", "Decimal(10,2)".
  std::string ToString() const;
  // True for kinds whose values are numbers (right-aligned in tables).
  bool IsNumeric() const;
};

// One result column: name, type and the server's flags ("pk", "nn", "uq").
struct Column {
  std::string name;
  DataType type;
  bool primary_key = false;
  bool not_null = false;
  bool unique = false;
};

// One cell. It keeps the column's TypeKind so it can print itself the way people expect
// (timestamps as dates, bytes as hex) and re-encode itself exactly as the server sent it.
// Storage by kind:
//   Boolean → bool; SmallInt, Int, BigInt → int64; Timestamp, DateTime, Time → int64 µs;
//   Date → int64 days; Float, Double → double; Text, Json, Uuid, Decimal, File, Unknown → string;
//   Bytes → bytes; Embedding → vector of double. NULL of any type → is_null().
// Thread-compatible value type.
class Value {
 public:
  Value() = default;  // NULL of unknown type

  static Value Null(TypeKind type = TypeKind::kUnknown);
  static Value Bool(bool v);
  static Value Int(int64_t v, TypeKind type = TypeKind::kBigInt);
  static Value Double(double v, TypeKind type = TypeKind::kDouble);
  static Value String(std::string v, TypeKind type = TypeKind::kText);
  static Value Bytes(std::vector<uint8_t> v);
  static Value Vector(std::vector<double> v);

  TypeKind type() const { return type_; }
  bool is_null() const { return storage_ == Storage::kNull; }
  bool is_bool() const { return storage_ == Storage::kBool; }
  bool is_int() const { return storage_ == Storage::kInt; }
  bool is_double() const { return storage_ == Storage::kDouble; }
  bool is_string() const { return storage_ == Storage::kString; }
  bool is_bytes() const { return storage_ == Storage::kBytes; }
  bool is_vector() const { return storage_ == Storage::kVector; }

  // Accessors for the stored kind; calling the wrong one returns a zero/empty value.
  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return i_; }
  double as_double() const { return storage_ == Storage::kInt ? static_cast<double>(i_) : d_; }
  const std::string& as_string() const { return s_; }
  const std::vector<uint8_t>& as_bytes() const { return bytes_; }
  const std::vector<double>& as_vector() const { return vec_; }

  // Text for people: NULL → "NULL"; Timestamp/DateTime → "2026-05-01 10:00:00[.123456]" (UTC);
  // Date → "2026-05-01"; Time → "12:34:56[.123456]"; Bytes → "\x6869"; Embedding → "[0.1,0.2]";
  // numbers in their shortest exact form; strings as they are.
  std::string ToString() const;
  // The PROTOCOL.md §5 JSON encoding (BigInt as a string, bytes as an array, …).
  std::string ToJson() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  enum class Storage { kNull, kBool, kInt, kDouble, kString, kBytes, kVector };
  Storage storage_ = Storage::kNull;
  TypeKind type_ = TypeKind::kUnknown;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::vector<uint8_t> bytes_;
  std::vector<double> vec_;
};

// A row delivered over WebSocket: named cells in schema order (`_seq` included).
// Thread-compatible value type.
class LiveRow {
 public:
  struct Field {
    std::string name;
    Value value;
  };

  void Add(std::string name, Value value) { fields_.push_back({std::move(name), std::move(value)}); }
  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }
  // The cell named `name`, or nullptr.
  const Value* Get(std::string_view name) const;
  // The row's `_seq`, or 0 when absent.
  int64_t seq() const;

 private:
  std::vector<Field> fields_;
};

// Formats microseconds since the Unix epoch as "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC).
std::string FormatTimestampMicros(int64_t micros);

}  // namespace kalam::client
