// Binary encodings of Values: varints, the compact row-cell codec, and the order-preserving key
// codec whose memcmp order equals the natural order of the values encoded.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/value.h"

namespace kalam {

// ---- Varints (LEB128: 7 bits per byte, least significant group first, at most 10 bytes) ----

// Appends `v` as a varint.
void PutVarint64(std::string* out, uint64_t v);

// A varint read at a position: the position after it (null when it is malformed) and its value.
// Returned by value (in two registers), so the callers' variables need no address.
struct VarintRead {
  const char* next = nullptr;
  uint64_t value = 0;
};

// Reads a varint of two or more bytes starting at `p` (before `limit`); `next` is null if it is
// truncated, longer than 10 bytes or overflows 64 bits. Out of line: the rare case.
VarintRead GetVarint64MultiPtr(const char* p, const char* limit);

// The same for any varint: the position after it, or null. A one-byte varint (column ids, small
// numbers and lengths: most of a row) is read inline.
[[nodiscard]] inline const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* v) {
  if (p < limit && static_cast<uint8_t>(*p) < 0x80) {
    *v = static_cast<uint8_t>(*p);
    return p + 1;
  }
  const VarintRead r = GetVarint64MultiPtr(p, limit);
  if (r.next) *v = r.value;
  return r.next;
}

// Reads a varint from the front of `*in` and advances past it. Returns false, leaving `*in`
// unchanged, if the input is truncated or the varint is longer than 10 bytes or overflows 64 bits.
// (`*in`'s address never escapes to an out-of-line call, so after inlining it stays in registers.)
[[nodiscard]] inline bool GetVarint64(std::string_view* in, uint64_t* v) {
  const char* p = GetVarint64Ptr(in->data(), in->data() + in->size(), v);
  if (!p) return false;
  in->remove_prefix(static_cast<size_t>(p - in->data()));
  return true;
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

// DecodeValueInto without the error (a scan's hot loop, inlined): false, leaving `*in` unchanged
// (and `*out` unchanged), on an unknown tag or truncated input; DecodeValueInto then says which.
// Decodes with local pointers, so that after inlining the position stays in registers.
// Always inlined: as an out-of-line call it made hot scans slower (sql_bench, docs/benchmarks.md).
[[nodiscard, gnu::always_inline]] inline bool TryDecodeValueInto(std::string_view* in,
                                                                  Value* out) {
  const char* p = in->data();
  const char* const limit = p + in->size();
  if (p == limit) return false;
  const auto tag = static_cast<uint8_t>(*p++);
  switch (tag) {
    case static_cast<uint8_t>(Value::Kind::kNull):
      if (out && !out->is_null()) out->SetNull();
      break;
    case static_cast<uint8_t>(Value::Kind::kInt): {
      uint64_t z = 0;
      p = GetVarint64Ptr(p, limit, &z);
      if (!p) return false;
      if (out) out->SetInt(ZigZagDecode64(z));
      break;
    }
    case static_cast<uint8_t>(Value::Kind::kDouble): {
      if (limit - p < 8) return false;
      if (out) {
        uint64_t bits = 0;  // little-endian IEEE-754 bits
        std::memcpy(&bits, p, sizeof(bits));
        if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap64(bits);
        double d = 0;
        std::memcpy(&d, &bits, sizeof(d));
        out->SetDouble(d);
      }
      p += 8;
      break;
    }
    case static_cast<uint8_t>(Value::Kind::kText):
    case static_cast<uint8_t>(Value::Kind::kBlob): {
      uint64_t len = 0;
      p = GetVarint64Ptr(p, limit, &len);
      if (!p || len > static_cast<uint64_t>(limit - p)) return false;
      if (out) {
        const std::string_view bytes(p, static_cast<size_t>(len));
        if (tag == static_cast<uint8_t>(Value::Kind::kText)) {
          out->SetText(bytes);
        } else {
          out->SetBytes(bytes);
        }
      }
      p += len;
      break;
    }
    default:
      return false;
  }
  *in = std::string_view(p, static_cast<size_t>(limit - p));
  return true;
}

// ---- Order-preserving key encoding (primary keys and key prefixes) ----

// Appends `v` as 8 big-endian bytes.
void AppendOrderedU64(uint64_t v, std::string* out);

// Reads 8 big-endian bytes from the front of `*in` and advances. Returns false, leaving `*in`
// unchanged, if fewer than 8 bytes remain.
// Inline: every row a scan reads starts with one (its `_seq`).
[[nodiscard]] inline bool ReadOrderedU64(std::string_view* in, uint64_t* v) {
  if (in->size() < 8) return false;
  uint64_t r = 0;
  std::memcpy(&r, in->data(), sizeof(r));
  if constexpr (std::endian::native == std::endian::little) r = __builtin_bswap64(r);
  in->remove_prefix(8);
  *v = r;
  return true;
}

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
