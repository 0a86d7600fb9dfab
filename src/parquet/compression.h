// Page compression and decompression for the codecs KalamDB reads and writes: UNCOMPRESSED,
// SNAPPY, GZIP (RFC 1952) and ZSTD.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "parquet/parquet.h"

namespace kalam::parquet {

// Compresses pages with one codec, reusing its context between pages. Not thread-safe.
class Compressor {
 public:
  Compressor(Codec codec, int zstd_level);
  ~Compressor();

  // Replaces `out` with `in` compressed. kInternal if the library fails.
  Status Compress(std::string_view in, std::string* out);

 private:
  struct State;
  Codec codec_;
  int zstd_level_;
  std::unique_ptr<State> state_;
};

// Decompresses pages, reusing library contexts between pages. Not thread-safe.
class Decompressor {
 public:
  Decompressor();
  ~Decompressor();

  // Decompresses `in`, which must expand to exactly `uncompressed_size` bytes, and returns a view
  // of the result: `in` itself for UNCOMPRESSED, else `buffer`. Sizes a compressor could never
  // produce from `in` are refused before allocating; any mismatch or malformed input is
  // kCorruption.
  Result<std::string_view> Decompress(Codec codec, std::string_view in, size_t uncompressed_size,
                                      std::string* buffer);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace kalam::parquet
