// The Thrift compact protocol, as far as Parquet's footer and page headers need it: a writer that
// appends to a string and a bounds-checked reader over untrusted bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::parquet::thrift {

// Compact-protocol type codes as they appear in field and collection headers.
enum class CType : uint8_t {
  kStop = 0,
  kTrue = 1,  // a boolean field whose value is true; any boolean as a collection element type
  kFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends compact-protocol encodings to a caller-owned string. Field ids must increase within a
// struct (the delta form is used when the gap is 1..15). Not thread-safe.
class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) { last_ids_.push_back(0); }

  // Starts a struct nested in a field (`FieldStruct`) or as a list element (`StructElement`);
  // EndStruct writes the stop byte.
  void FieldStruct(int16_t id) {
    FieldHeader(id, CType::kStruct);
    last_ids_.push_back(0);
  }
  void StructElement() { last_ids_.push_back(0); }
  void EndStruct();

  void FieldBool(int16_t id, bool v) { FieldHeader(id, v ? CType::kTrue : CType::kFalse); }
  void FieldByte(int16_t id, int8_t v) {
    FieldHeader(id, CType::kByte);
    out_->push_back(static_cast<char>(v));
  }
  void FieldI16(int16_t id, int16_t v) {
    FieldHeader(id, CType::kI16);
    I32(v);
  }
  void FieldI32(int16_t id, int32_t v) {
    FieldHeader(id, CType::kI32);
    I32(v);
  }
  void FieldI64(int16_t id, int64_t v) {
    FieldHeader(id, CType::kI64);
    I64(v);
  }
  void FieldBinary(int16_t id, std::string_view v) {
    FieldHeader(id, CType::kBinary);
    Binary(v);
  }
  // A list field of `size` elements of `element` type; the caller then writes the elements.
  void FieldList(int16_t id, CType element, size_t size) {
    FieldHeader(id, CType::kList);
    ListHeader(element, size);
  }

  // Bare values, for list elements.
  void I32(int32_t v) { Varint(ZigZag(v)); }
  void I64(int64_t v) { Varint(ZigZag(v)); }
  void Binary(std::string_view v) {
    Varint(v.size());
    out_->append(v);
  }

 private:
  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }
  void Varint(uint64_t v);
  void FieldHeader(int16_t id, CType type);
  void ListHeader(CType element, size_t size);

  std::string* out_;
  std::vector<int16_t> last_ids_;  // the last field id written in each open struct
};

// Reads compact-protocol values from untrusted bytes. Errors are sticky: after the first one every
// read returns a zero value, and status() says what went wrong (kCorruption). Lengths and counts
// are checked against the bytes that remain, so nothing read here can make a caller allocate more
// than the input could describe. Not thread-safe.
class CompactReader {
 public:
  explicit CompactReader(std::string_view data) : data_(data) {}

  bool ok() const { return error_.empty(); }
  Status status() const;
  // Bytes consumed so far.
  size_t position() const { return pos_; }

  // Enters a struct (the one being read at the top level, a struct field, or a struct element).
  // Fails past a nesting depth of 64.
  void BeginStruct();
  void EndStruct();
  // Reads the next field header of the current struct. Returns false at the struct's stop byte
  // or after an error. A boolean field's value is carried by `type` (kTrue/kFalse).
  bool NextField(int16_t* id, CType* type);

  int8_t ReadByte();
  int32_t ReadI32();
  int64_t ReadI64();
  double ReadDouble();
  std::string_view ReadBinary();
  // A list or set header; the returned size is at most the number of bytes that remain.
  uint32_t ReadListHeader(CType* element);
  // A list element of boolean type (one byte).
  bool ReadBoolElement();

  // Skips one value of `type` (nested collections and structs included).
  void Skip(CType type);
  // Records an error (the first one wins).
  void Fail(std::string message);

 private:
  uint64_t ReadVarint();
  bool Need(size_t n);
  void SkipDepth(CType type, int depth);

  std::string_view data_;
  size_t pos_ = 0;
  std::string error_;
  std::vector<int16_t> last_ids_;
};

// True if a field's wire type is `expected` (either boolean code counts as boolean when `expected`
// is kTrue). Parsers skip fields whose type does not match instead of misreading them.
inline bool TypeIs(CType actual, CType expected) {
  if (expected == CType::kTrue) return actual == CType::kTrue || actual == CType::kFalse;
  return actual == expected;
}

}  // namespace kalam::parquet::thrift
