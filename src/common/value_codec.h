// Binary encodings of Values: varints, the compact row-cell codec, and the order-preserving key
// codec whose memcmp order equals the natural order of the values encoded.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/value.h"

namespace kalam {

// ---- Varints (LEB128: 7 bits per byte, least significant group first, at most 10 bytes) ----

// Appends `v` as a varint.
void PutVarint64(std::string* out, uint64_t v);

// Reads a varint from the front of `*in` and advances past it. Returns false, leaving `*in`
// unchanged, if the input is truncated or the varint is longer than 10 bytes or overflows 64 bits.
// A one-byte varint (column ids, small numbers and lengths: most of a row) is read inline.
[[nodiscard]] bool GetVarint64Multi(std::string_view* in, uint64_t* v);
[[nodiscard]] inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  if (!in->empty() && static_cast<uint8_t>(in->front()) < 0x80) {
    *v = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    return true;
  }
  return GetVarint64Multi(in, v);
}

// Zigzag mapping of signed to unsigned integers (0, -1, 1, -2, … → 0, 1, 2, 3, …) so that small
// negative numbers make short varints.
inline uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// ---- Row cells: compact, self-delimiting, not ordered ----

// Appends one cell: a tag byte (Value::Kind), then nothing for Null, a zigzag varint for Int,
// 8 little-endian bytes of the IEEE-754 bits for Double, or a varint length and the bytes for
// Text and Blob.
void EncodeValue(const Value& v, std::string* out);

// Decodes one cell written by EncodeValue from the front of `*in` and advances past it. Fails
// with kCorruption (leaving `*in` unchanged) on an unknown tag or truncated input; never reads
// past the end of `*in`.
Result<Value> DecodeValue(std::string_view* in);
// The same into `*out` (a row's slot, without building a Result); with out == null it only
// checks the cell and moves past it.
Status DecodeValueInto(std::string_view* in, Value* out);

// ---- Order-preserving key encoding (primary keys and key prefixes) ----

// Appends `v` as 8 big-endian bytes.
void AppendOrderedU64(uint64_t v, std::string* out);

// Reads 8 big-endian bytes from the front of `*in` and advances. Returns false, leaving `*in`
// unchanged, if fewer than 8 bytes remain.
[[nodiscard]] bool ReadOrderedU64(std::string_view* in, uint64_t* v);

// Appends `s` with each 0x00 byte escaped as 0x00 0xFF and a 0x00 0x01 terminator, so encodings
// compare like the strings themselves, a string sorts before its extensions, and no encoding is
// a prefix of another.
void AppendOrderedString(std::string_view s, std::string* out);

// Reads a string written by AppendOrderedString from the front of `*in` and advances past its
// terminator. Returns false, leaving `*in` unchanged, on a missing terminator or a bad escape.
[[nodiscard]] bool ReadOrderedString(std::string_view* in, std::string* s);

// Appends one kind byte (Null < Int < Double < Text < Blob) and then: nothing for Null; an Int
// as its big-endian bits with the sign bit flipped; a Double with the sign bit flipped if
// non-negative and all bits flipped if negative; Text and Blob as AppendOrderedString. For values
// of the same kind, memcmp order of encodings is the natural order (bytewise for Text/Blob).
// Doubles are canonicalised first so that equal values encode equally: -0.0 encodes as +0.0, and
// every NaN as one NaN that sorts after +Infinity.
void AppendOrderedValue(const Value& v, std::string* out);

// Reads a value written by AppendOrderedValue from the front of `*in` and advances. Fails with
// kCorruption, leaving `*in` unchanged, on an unknown kind byte or truncated input.
Result<Value> ReadOrderedValue(std::string_view* in);

}  // namespace kalam
