// Parquet value and level encodings: bit packing, the RLE/bit-packed hybrid, PLAIN byte arrays,
// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
// Decoders take untrusted bytes: they check every count and length against the bytes that remain
// and fail with kCorruption instead of reading past them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::parquet {

// Bits needed to hold `max_value` (0 for 0).
int BitWidthFor(uint64_t max_value);

// Appends `n` values packed LSB-first at `bit_width` (1..32) bits each, zero-padded to a byte.
template <typename T>
void PackBits(const T* values, size_t n, int bit_width, std::string* out);

// Unpacks `n` values of `bit_width` (0..32 for 32-bit T, 0..64 for 64-bit T) starting at value
// index `first` of an LSB-first packed buffer. The caller guarantees the buffer holds the bits:
// (first + n) * bit_width <= len * 8.
template <typename T>
void UnpackBits(const uint8_t* data, size_t len, size_t first, size_t n, int bit_width, T* out);

// Appends the RLE/bit-packed hybrid encoding (no length prefix) of `n` values of `bit_width`
// (1..32) bits. Runs of 8 or more equal values become RLE runs, the rest bit-packed groups.
template <typename T>
void RleEncode(const T* values, size_t n, int bit_width, std::string* out);

// Streams values out of RLE/bit-packed hybrid data. Not thread-safe.
class RleDecoder {
 public:
  // `bit_width` must be 0..32; `data` must outlive the decoder.
  RleDecoder(const uint8_t* data, size_t len, int bit_width);

  // Decodes the next `n` values into `out` (uint8_t for levels and booleans, which keeps the low
  // 8 bits, or uint32_t). kCorruption if the data ends first.
  template <typename T>
  Status Decode(T* out, size_t n);

 private:
  bool NextRun();

  const uint8_t* p_;
  const uint8_t* end_;
  int bit_width_;
  uint64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  uint64_t literal_left_ = 0;
  const uint8_t* literal_data_ = nullptr;
  size_t literal_len_ = 0;
  size_t literal_index_ = 0;
};

// Decodes one DELTA_BINARY_PACKED stream at the start of `data` into `out` (resized to the
// stream's value count, which must not exceed `max_values`) and returns the bytes it used.
// Arithmetic wraps in the width of T (int32_t or int64_t).
template <typename T>
Result<size_t> DecodeDeltaBinaryPacked(const uint8_t* data, size_t len, size_t max_values,
                                       std::vector<T>* out);

// Splits `n` PLAIN byte arrays (4-byte little-endian length, bytes) into views of `data`.
// Returns the bytes used.
Result<size_t> DecodePlainByteArrays(const uint8_t* data, size_t len, size_t n,
                                     std::string_view* out);

// Decodes exactly `n` DELTA_LENGTH_BYTE_ARRAY values into views of `data`; returns bytes used.
Result<size_t> DecodeDeltaLengthByteArrays(const uint8_t* data, size_t len, size_t n,
                                           std::vector<std::string_view>* out);

// Decodes exactly `n` DELTA_BYTE_ARRAY values. The values are rebuilt in `arena` (cleared first)
// and `out` views into it; the arena is capped at `max_bytes` (kResourceExhausted past it).
Status DecodeDeltaByteArrays(const uint8_t* data, size_t len, size_t n, size_t max_bytes,
                             std::string* arena, std::vector<std::string_view>* out);

// Decodes `n` BYTE_STREAM_SPLIT values of `width` bytes into `out` (n * width bytes).
Status DecodeByteStreamSplit(const uint8_t* data, size_t len, size_t n, size_t width,
                             uint8_t* out);

}  // namespace kalam::parquet
