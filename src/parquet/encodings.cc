// Parquet encodings: bit packing, RLE/bit-packed hybrid, PLAIN byte arrays, the DELTA family and
// BYTE_STREAM_SPLIT, with bounds-checked decoders.
#include "parquet/encodings.h"

#include <algorithm>
#include <cstring>

namespace kalam::parquet {

namespace {

Status Corrupt(const std::string& what) { return Status::Corruption(what); }

// Reads an unsigned LEB128 varint; returns false if it runs past `end` or past 64 bits.
bool ReadUleb(const uint8_t*& p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end) return false;
    uint8_t b = *p++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool ReadZigZag(const uint8_t*& p, const uint8_t* end, int64_t* out) {
  uint64_t z;
  if (!ReadUleb(p, end, &z)) return false;
  *out = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
  return true;
}

void AppendUleb(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

uint32_t LoadLe32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

int BitWidthFor(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

template <typename T>
void PackBits(const T* values, size_t n, int bit_width, std::string* out) {
  const size_t old = out->size();
  const size_t bytes = (n * bit_width + 7) / 8;
  out->resize(old + bytes);
  uint8_t* dst = reinterpret_cast<uint8_t*>(out->data()) + old;
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc |= static_cast<uint64_t>(values[i]) << bits;
    bits += bit_width;
    while (bits >= 8) {
      *dst++ = static_cast<uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) *dst = static_cast<uint8_t>(acc);
}

template <typename T>
void UnpackBits(const uint8_t* data, size_t len, size_t first, size_t n, int bit_width, T* out) {
  if (bit_width == 0) {
    std::fill(out, out + n, T{0});
    return;
  }
  const uint64_t mask = bit_width >= 64 ? ~uint64_t{0} : (uint64_t{1} << bit_width) - 1;
  size_t bit = first * static_cast<size_t>(bit_width);
  // Values whose 8-byte window (9 for wide values) lies inside the buffer take the fast path.
  const size_t fast_limit = len >= 9 ? len - 9 : 0;
  size_t i = 0;
  if (len >= 9) {
    for (; i < n; ++i, bit += bit_width) {
      size_t byte = bit >> 3;
      if (byte > fast_limit) break;
      int shift = static_cast<int>(bit & 7);
      uint64_t word;
      std::memcpy(&word, data + byte, 8);
      uint64_t v = word >> shift;
      if (sizeof(T) == 8 && shift + bit_width > 64) {
        v |= static_cast<uint64_t>(data[byte + 8]) << (64 - shift);
      }
      out[i] = static_cast<T>(v & mask);
    }
  }
  for (; i < n; ++i, bit += bit_width) {
    size_t byte = bit >> 3;
    int shift = static_cast<int>(bit & 7);
    unsigned __int128 acc = 0;
    int need = (shift + bit_width + 7) / 8;
    for (int k = 0; k < need && byte + k < len; ++k) {
      acc |= static_cast<unsigned __int128>(data[byte + k]) << (8 * k);
    }
    out[i] = static_cast<T>(static_cast<uint64_t>(acc >> shift) & mask);
  }
}

template <typename T>
void RleEncode(const T* values, size_t n, int bit_width, std::string* out) {
  const int value_bytes = (bit_width + 7) / 8;
  // Length of the run of equal values at `at`, looking no further than `limit` values.
  auto run_at = [&](size_t at, size_t limit) {
    size_t end = std::min(n, at + limit);
    size_t j = at + 1;
    while (j < end && values[j] == values[at]) ++j;
    return j - at;
  };
  size_t i = 0;
  while (i < n) {
    size_t run = run_at(i, n);
    if (run >= 8) {
      AppendUleb(static_cast<uint64_t>(run) << 1, out);
      uint32_t v = static_cast<uint32_t>(values[i]);
      for (int b = 0; b < value_bytes; ++b) out->push_back(static_cast<char>(v >> (8 * b)));
      i += run;
      continue;
    }
    // A literal section: whole groups of 8 until a run of 8 starts at a group boundary.
    size_t start = i;
    size_t j = i;
    size_t groups = 0;
    while (j < n) {
      if (j > start && run_at(j, 8) >= 8) break;
      j += 8;
      ++groups;
    }
    size_t count = std::min(j, n) - start;
    AppendUleb((static_cast<uint64_t>(groups) << 1) | 1, out);
    size_t before = out->size();
    PackBits(values + start, count, bit_width, out);
    out->resize(before + groups * bit_width, '\0');  // zero padding of the last group
    i = start + count;
  }
}

RleDecoder::RleDecoder(const uint8_t* data, size_t len, int bit_width)
    : p_(data), end_(data + len), bit_width_(bit_width) {}

bool RleDecoder::NextRun() {
  uint64_t header;
  if (!ReadUleb(p_, end_, &header)) return false;
  const size_t avail = static_cast<size_t>(end_ - p_);
  if (header & 1) {
    uint64_t groups = header >> 1;
    if (groups > (uint64_t{1} << 40)) return false;
    uint64_t values = groups * 8;
    uint64_t bytes = groups * static_cast<uint64_t>(bit_width_);
    if (bytes > avail) {
      // A final run cut short: take only the values whose bits are all present.
      bytes = avail;
      values = bit_width_ == 0 ? values : avail * 8 / bit_width_;
    }
    literal_data_ = p_;
    literal_len_ = static_cast<size_t>(bytes);
    literal_index_ = 0;
    literal_left_ = values;
    p_ += bytes;
  } else {
    const size_t value_bytes = (bit_width_ + 7) / 8;
    if (value_bytes > avail) return false;
    uint32_t v = 0;
    for (size_t b = 0; b < value_bytes; ++b) v |= static_cast<uint32_t>(p_[b]) << (8 * b);
    p_ += value_bytes;
    rle_value_ = v;
    rle_left_ = header >> 1;
  }
  return true;
}

template <typename T>
Status RleDecoder::Decode(T* out, size_t n) {
  while (n > 0) {
    if (rle_left_ > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(rle_left_, n));
      std::fill(out, out + k, static_cast<T>(rle_value_));
      out += k;
      n -= k;
      rle_left_ -= k;
    } else if (literal_left_ > 0) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(literal_left_, n));
      UnpackBits(literal_data_, literal_len_, literal_index_, k, bit_width_, out);
      literal_index_ += k;
      literal_left_ -= k;
      out += k;
      n -= k;
    } else if (!NextRun()) {
      return Corrupt("RLE/bit-packed data ends " + std::to_string(n) +
                     " values early or has a malformed run header");
    }
  }
  return Status::OK();
}

template <typename T>
Result<size_t> DecodeDeltaBinaryPacked(const uint8_t* data, size_t len, size_t max_values,
                                       std::vector<T>* out) {
  using U = std::make_unsigned_t<T>;
  const uint8_t* p = data;
  const uint8_t* end = data + len;
  uint64_t block_size, miniblocks, total;
  int64_t first;
  if (!ReadUleb(p, end, &block_size) || !ReadUleb(p, end, &miniblocks) ||
      !ReadUleb(p, end, &total) || !ReadZigZag(p, end, &first)) {
    return Corrupt("DELTA_BINARY_PACKED header is truncated");
  }
  if (block_size == 0 || block_size > (1u << 20) || miniblocks == 0 || miniblocks > block_size ||
      block_size % miniblocks != 0 || (block_size / miniblocks) % 8 != 0) {
    return Corrupt("DELTA_BINARY_PACKED header has block size " + std::to_string(block_size) +
                   " with " + std::to_string(miniblocks) + " miniblocks");
  }
  if (total > max_values) {
    return Corrupt("DELTA_BINARY_PACKED stream holds " + std::to_string(total) +
                   " values where at most " + std::to_string(max_values) + " fit");
  }
  const size_t per_mini = static_cast<size_t>(block_size / miniblocks);
  out->resize(static_cast<size_t>(total));
  if (total == 0) return static_cast<size_t>(p - data);
  T* dst = out->data();
  U last = static_cast<U>(first);
  dst[0] = static_cast<T>(last);
  size_t done = 1;
  uint64_t deltas[64];
  while (done < total) {
    int64_t min_delta;
    if (!ReadZigZag(p, end, &min_delta)) return Corrupt("DELTA_BINARY_PACKED block is truncated");
    if (static_cast<size_t>(end - p) < miniblocks) {
      return Corrupt("DELTA_BINARY_PACKED miniblock widths are truncated");
    }
    const uint8_t* widths = p;
    p += miniblocks;
    for (size_t m = 0; m < miniblocks && done < total; ++m) {
      int w = widths[m];
      if (w > 64) {
        return Corrupt("DELTA_BINARY_PACKED miniblock bit width " + std::to_string(w) +
                       " is wider than 64");
      }
      size_t k = std::min<size_t>(per_mini, total - done);
      size_t full_bytes = per_mini * w / 8;
      size_t need_bytes = (k * w + 7) / 8;
      size_t avail = static_cast<size_t>(end - p);
      if (need_bytes > avail) return Corrupt("DELTA_BINARY_PACKED miniblock is truncated");
      size_t mini_len = std::min(full_bytes, avail);
      for (size_t off = 0; off < k; off += 64) {
        size_t c = std::min<size_t>(64, k - off);
        UnpackBits(p, mini_len, off, c, w, deltas);
        for (size_t i = 0; i < c; ++i) {
          last = static_cast<U>(last + static_cast<U>(min_delta) + static_cast<U>(deltas[i]));
          dst[done++] = static_cast<T>(last);
        }
      }
      p += mini_len;
    }
  }
  return static_cast<size_t>(p - data);
}

Result<size_t> DecodePlainByteArrays(const uint8_t* data, size_t len, size_t n,
                                     std::string_view* out) {
  size_t pos = 0;
  for (size_t i = 0; i < n; ++i) {
    if (len - pos < 4) {
      return Corrupt("PLAIN byte array " + std::to_string(i) + " of " + std::to_string(n) +
                     " has no length (data ends)");
    }
    uint32_t l = LoadLe32(data + pos);
    pos += 4;
    if (l > len - pos) {
      return Corrupt("PLAIN byte array of " + std::to_string(l) +
                     " bytes runs past the end of its page");
    }
    out[i] = std::string_view(reinterpret_cast<const char*>(data + pos), l);
    pos += l;
  }
  return pos;
}

Result<size_t> DecodeDeltaLengthByteArrays(const uint8_t* data, size_t len, size_t n,
                                           std::vector<std::string_view>* out) {
  std::vector<int32_t> lengths;
  KALAM_ASSIGN_OR_RETURN(size_t used, DecodeDeltaBinaryPacked<int32_t>(data, len, n, &lengths));
  if (lengths.size() != n) {
    return Corrupt("DELTA_LENGTH_BYTE_ARRAY holds " + std::to_string(lengths.size()) +
                   " lengths for " + std::to_string(n) + " values");
  }
  size_t pos = used;
  out->resize(n);
  for (size_t i = 0; i < n; ++i) {
    int32_t l = lengths[i];
    if (l < 0 || static_cast<size_t>(l) > len - pos) {
      return Corrupt("DELTA_LENGTH_BYTE_ARRAY value length " + std::to_string(l) +
                     " is negative or runs past the page");
    }
    (*out)[i] = std::string_view(reinterpret_cast<const char*>(data + pos), l);
    pos += l;
  }
  return pos;
}

Status DecodeDeltaByteArrays(const uint8_t* data, size_t len, size_t n, size_t max_bytes,
                             std::string* arena, std::vector<std::string_view>* out) {
  std::vector<int32_t> prefixes;
  KALAM_ASSIGN_OR_RETURN(size_t used, DecodeDeltaBinaryPacked<int32_t>(data, len, n, &prefixes));
  if (prefixes.size() != n) {
    return Corrupt("DELTA_BYTE_ARRAY holds " + std::to_string(prefixes.size()) +
                   " prefix lengths for " + std::to_string(n) + " values");
  }
  std::vector<std::string_view> suffixes;
  KALAM_RETURN_IF_ERROR(
      DecodeDeltaLengthByteArrays(data + used, len - used, n, &suffixes).status());
  // Size the arena first so that views into it stay valid.
  uint64_t total = 0;
  uint64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    int32_t pre = prefixes[i];
    if (pre < 0 || static_cast<uint64_t>(pre) > prev) {
      return Corrupt("DELTA_BYTE_ARRAY prefix length " + std::to_string(pre) +
                     " is longer than the previous value");
    }
    prev = static_cast<uint64_t>(pre) + suffixes[i].size();
    total += prev;
    if (total > max_bytes) {
      return Status::ResourceExhausted("DELTA_BYTE_ARRAY page expands to more than " +
                                       std::to_string(max_bytes) + " bytes");
    }
  }
  arena->clear();
  arena->reserve(static_cast<size_t>(total));
  out->resize(n);
  size_t prev_start = 0;
  size_t prev_len = 0;
  for (size_t i = 0; i < n; ++i) {
    size_t start = arena->size();
    arena->append(*arena, prev_start, static_cast<size_t>(prefixes[i]));
    arena->append(suffixes[i]);
    prev_start = start;
    prev_len = arena->size() - start;
    (*out)[i] = std::string_view(arena->data() + start, prev_len);
  }
  return Status::OK();
}

Status DecodeByteStreamSplit(const uint8_t* data, size_t len, size_t n, size_t width,
                             uint8_t* out) {
  if (width == 0 || n > len / width) {
    return Corrupt("BYTE_STREAM_SPLIT data holds " + std::to_string(len) + " bytes, " +
                   std::to_string(n) + " values of " + std::to_string(width) + " need more");
  }
  for (size_t b = 0; b < width; ++b) {
    const uint8_t* stream = data + b * n;
    for (size_t i = 0; i < n; ++i) out[i * width + b] = stream[i];
  }
  return Status::OK();
}

template void PackBits<uint8_t>(const uint8_t*, size_t, int, std::string*);
template void PackBits<uint32_t>(const uint32_t*, size_t, int, std::string*);
template void UnpackBits<uint8_t>(const uint8_t*, size_t, size_t, size_t, int, uint8_t*);
template void UnpackBits<uint32_t>(const uint8_t*, size_t, size_t, size_t, int, uint32_t*);
template void UnpackBits<uint64_t>(const uint8_t*, size_t, size_t, size_t, int, uint64_t*);
template void RleEncode<uint8_t>(const uint8_t*, size_t, int, std::string*);
template void RleEncode<uint32_t>(const uint32_t*, size_t, int, std::string*);
template Status RleDecoder::Decode<uint8_t>(uint8_t*, size_t);
template Status RleDecoder::Decode<uint32_t>(uint32_t*, size_t);
template Result<size_t> DecodeDeltaBinaryPacked<int32_t>(const uint8_t*, size_t, size_t,
                                                         std::vector<int32_t>*);
template Result<size_t> DecodeDeltaBinaryPacked<int64_t>(const uint8_t*, size_t, size_t,
                                                         std::vector<int64_t>*);

}  // namespace kalam::parquet
