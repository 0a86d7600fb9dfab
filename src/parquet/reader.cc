// Reader: validates the footer at Open, then decodes one column chunk at a time page by page
// (dictionary, data page v1 and v2) into a dense ColumnVector.
#include <algorithm>
#include <cstring>

#include "parquet/compression.h"
#include "parquet/encodings.h"
#include "parquet/metadata.h"
#include "parquet/parquet.h"
#include "parquet/schema.h"
#include "parquet/statistics.h"

namespace kalam::parquet {

namespace {

constexpr std::string_view kMagic = "PAR1";
constexpr std::string_view kEncryptedMagic = "PARE";
// Sane limits that keep hostile sizes from turning into huge allocations. A column chunk decodes
// to at most this many bytes of values (kResourceExhausted past it); one page is at most 1 GiB.
constexpr uint64_t kMaxDecodedChunkBytes = uint64_t{1} << 30;
constexpr int64_t kMaxPageBytes = int64_t{1} << 30;

// Where a column chunk's pages are, resolved and checked at Open.
struct ChunkLocation {
  size_t start = 0;
  size_t length = 0;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  Codec codec = Codec::kUncompressed;
};

Status Corrupt(const std::string& what) { return Status::Corruption(what); }

std::string EncodingName(int32_t e) {
  switch (e) {
    case format::kPlain:
      return "PLAIN";
    case format::kPlainDictionary:
      return "PLAIN_DICTIONARY";
    case format::kRle:
      return "RLE";
    case format::kBitPacked:
      return "BIT_PACKED";
    case format::kDeltaBinaryPacked:
      return "DELTA_BINARY_PACKED";
    case format::kDeltaLengthByteArray:
      return "DELTA_LENGTH_BYTE_ARRAY";
    case format::kDeltaByteArray:
      return "DELTA_BYTE_ARRAY";
    case format::kRleDictionary:
      return "RLE_DICTIONARY";
    case format::kByteStreamSplit:
      return "BYTE_STREAM_SPLIT";
  }
  return "encoding #" + std::to_string(e);
}

bool IsDictionaryEncoding(int32_t e) {
  return e == format::kPlainDictionary || e == format::kRleDictionary;
}

// INT96 (nanoseconds of the day, then the Julian day) as nanoseconds since the Unix epoch.
int64_t Int96ToNanos(const uint8_t* p) {
  uint64_t nanos;
  uint32_t julian_day;
  std::memcpy(&nanos, p, 8);
  std::memcpy(&julian_day, p + 8, 4);
  constexpr int64_t kUnixEpochJulianDay = 2440588;
  constexpr uint64_t kNanosPerDay = 86400ULL * 1000000000ULL;
  uint64_t days = static_cast<uint64_t>(static_cast<int64_t>(julian_day) - kUnixEpochJulianDay);
  return static_cast<int64_t>(days * kNanosPerDay + nanos);
}

// Moves the first `k` values of dst[0, n) to the present slots (present[i] != 0), back to front,
// and zeroes the null slots.
template <typename T>
void Spread(T* dst, const uint8_t* present, size_t n, size_t k) {
  size_t j = k;
  for (size_t i = n; i-- > 0;) {
    if (present[i]) {
      dst[i] = dst[--j];
    } else {
      dst[i] = T{};
    }
  }
}

// Decodes the pages of one column chunk into `out`. One per ReadColumn call; not thread-safe.
class ChunkDecoder {
 public:
  // Decodes into `out`, or for byte-array columns into `packed` when that is not null. `present`
  // is the vector that receives definition levels (already sized for nullable columns).
  ChunkDecoder(const ColumnSchema& column, std::string_view chunk, Codec codec, size_t rows,
               ColumnVector* out, ByteArrayVector* packed, std::vector<uint8_t>* present)
      : c_(column),
        chunk_(chunk),
        codec_(codec),
        rows_(rows),
        out_(out),
        packed_(packed),
        present_(present) {}

  Status Run();

 private:
  Status ReadDictionaryPage(const format::PageHeader& h, std::string_view body);
  Status ReadDataPage(const format::PageHeader& h, std::string_view body);
  Status ReadDataPageV2(const format::PageHeader& h, std::string_view body);
  // Decodes `page_rows` definition levels (already located) into the present slice and returns
  // the count of present values.
  Result<size_t> DecodeLevels(int32_t encoding, const uint8_t* data, size_t len,
                              size_t page_rows);
  // Decodes `count` present values at output row row_ and spreads them over the page's rows.
  Status DecodeValues(int32_t encoding, const uint8_t* data, size_t len, size_t page_rows,
                      size_t count);
  template <typename T>
  Status DecodeFixed(int32_t encoding, const uint8_t* data, size_t len, size_t count,
                     const std::vector<T>& dict, T* dst);
  Status DecodeBool(int32_t encoding, const uint8_t* data, size_t len, size_t count, uint8_t* dst);
  Status DecodeBytes(int32_t encoding, const uint8_t* data, size_t len, size_t page_rows,
                     size_t count);
  Status DecodeIndices(const uint8_t* data, size_t len, size_t count, size_t dict_size);
  Status NoDictionary() const {
    return Corrupt("dictionary-encoded page in column '" + c_.name +
                   "' without a dictionary page before it");
  }
  Status BadEncoding(int32_t encoding) const {
    return Corrupt("column '" + c_.name + "' (" + PhysicalTypeName(c_.physical) +
                   ") has a page in encoding " + EncodingName(encoding) +
                   ", which that type cannot use");
  }

  const ColumnSchema& c_;
  std::string_view chunk_;
  Codec codec_;
  size_t rows_;
  ColumnVector* out_;
  ByteArrayVector* packed_;
  std::vector<uint8_t>* present_;
  size_t row_ = 0;
  bool has_nulls_ = false;
  uint64_t bytes_out_ = 0;

  Decompressor decompressor_;
  std::string page_buffer_;
  // The dictionary, typed by physical column type; byte arrays view dict_buffer_ or the file.
  bool has_dictionary_ = false;
  std::string dict_buffer_;
  std::vector<int32_t> dict_i32_;
  std::vector<int64_t> dict_i64_;
  std::vector<float> dict_f32_;
  std::vector<double> dict_f64_;
  std::vector<std::string_view> dict_bytes_;
  // Scratch.
  std::vector<uint32_t> indices_;
  std::vector<std::string_view> views_;
  std::vector<int32_t> delta32_;
  std::vector<int64_t> delta64_;
  std::string arena_;
  std::string split_buffer_;
};

Status ChunkDecoder::Run() {
  size_t pos = 0;
  while (row_ < rows_) {
    if (pos >= chunk_.size()) {
      return Corrupt("column '" + c_.name + "' chunk ends after " + std::to_string(row_) +
                     " of " + std::to_string(rows_) + " rows");
    }
    format::PageHeader h;
    KALAM_ASSIGN_OR_RETURN(size_t header_len, format::ParsePageHeader(chunk_.substr(pos), &h));
    pos += header_len;
    if (h.compressed_page_size < 0 || h.uncompressed_page_size < 0 ||
        static_cast<size_t>(h.compressed_page_size) > chunk_.size() - pos) {
      return Corrupt("page of column '" + c_.name + "' claims " +
                     std::to_string(h.compressed_page_size) + " bytes; only " +
                     std::to_string(chunk_.size() - pos) + " remain in the chunk");
    }
    if (h.uncompressed_page_size > kMaxPageBytes) {
      return Corrupt("page of column '" + c_.name + "' claims an uncompressed size of " +
                     std::to_string(h.uncompressed_page_size) + " bytes");
    }
    std::string_view body = chunk_.substr(pos, h.compressed_page_size);
    pos += h.compressed_page_size;
    Status st;
    switch (h.type) {
      case format::kDictionaryPage:
        st = ReadDictionaryPage(h, body);
        break;
      case format::kDataPage:
        st = ReadDataPage(h, body);
        break;
      case format::kDataPageV2:
        st = ReadDataPageV2(h, body);
        break;
      default:
        break;  // index pages and unknown page types carry no values
    }
    if (!st.ok()) return st.WithPrefix("Parquet column '" + c_.name + "': ");
  }
  if (c_.nullable && !has_nulls_) present_->clear();
  return Status::OK();
}

Status ChunkDecoder::ReadDictionaryPage(const format::PageHeader& h, std::string_view body) {
  if (!h.dictionary_page) return Corrupt("dictionary page without its header");
  if (has_dictionary_ || row_ > 0) return Corrupt("second dictionary page, or one after data");
  const format::DictionaryPageHeader& d = *h.dictionary_page;
  if (d.encoding != format::kPlain && d.encoding != format::kPlainDictionary) {
    return Corrupt("dictionary page in encoding " + EncodingName(d.encoding));
  }
  if (d.num_values < 0) return Corrupt("dictionary page with a negative value count");
  KALAM_ASSIGN_OR_RETURN(std::string_view data,
                         decompressor_.Decompress(codec_, body, h.uncompressed_page_size,
                                                  &dict_buffer_));
  const size_t n = static_cast<size_t>(d.num_values);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
  auto fixed = [&](auto& dict, size_t width) -> Status {
    if (n > data.size() / width) {
      return Corrupt("dictionary page of " + std::to_string(data.size()) + " bytes cannot hold " +
                     std::to_string(n) + " values");
    }
    dict.resize(n);
    if (n > 0) std::memcpy(dict.data(), p, n * width);
    return Status::OK();
  };
  switch (c_.physical) {
    case PhysicalType::kInt32:
      KALAM_RETURN_IF_ERROR(fixed(dict_i32_, 4));
      break;
    case PhysicalType::kInt64:
      KALAM_RETURN_IF_ERROR(fixed(dict_i64_, 8));
      break;
    case PhysicalType::kFloat:
      KALAM_RETURN_IF_ERROR(fixed(dict_f32_, 4));
      break;
    case PhysicalType::kDouble:
      KALAM_RETURN_IF_ERROR(fixed(dict_f64_, 8));
      break;
    case PhysicalType::kInt96:
      if (n > data.size() / 12) return Corrupt("INT96 dictionary page is too short");
      dict_i64_.resize(n);
      for (size_t i = 0; i < n; ++i) dict_i64_[i] = Int96ToNanos(p + 12 * i);
      break;
    case PhysicalType::kByteArray:
      if (n > data.size() / 4) return Corrupt("BYTE_ARRAY dictionary page is too short");
      dict_bytes_.resize(n);
      KALAM_RETURN_IF_ERROR(DecodePlainByteArrays(p, data.size(), n, dict_bytes_.data()).status());
      break;
    case PhysicalType::kFixedLenByteArray: {
      const size_t w = static_cast<size_t>(c_.type_length);
      if (n > data.size() / w) return Corrupt("FIXED_LEN_BYTE_ARRAY dictionary page is too short");
      dict_bytes_.resize(n);
      for (size_t i = 0; i < n; ++i) dict_bytes_[i] = data.substr(i * w, w);
      break;
    }
    case PhysicalType::kBoolean:
      return Corrupt("BOOLEAN columns cannot be dictionary-encoded");
  }
  has_dictionary_ = true;
  return Status::OK();
}

Status ChunkDecoder::ReadDataPage(const format::PageHeader& h, std::string_view body) {
  if (!h.data_page) return Corrupt("data page without its header");
  const format::DataPageHeader& d = *h.data_page;
  if (d.num_values < 0 || static_cast<size_t>(d.num_values) > rows_ - row_) {
    return Corrupt("data page holds " + std::to_string(d.num_values) + " values; only " +
                   std::to_string(rows_ - row_) + " rows remain in the chunk");
  }
  const size_t page_rows = static_cast<size_t>(d.num_values);
  KALAM_ASSIGN_OR_RETURN(std::string_view data,
                         decompressor_.Decompress(codec_, body, h.uncompressed_page_size,
                                                  &page_buffer_));
  const uint8_t* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t len = data.size();
  size_t count = page_rows;
  if (c_.nullable) {
    size_t levels_len;
    const uint8_t* levels = p;
    if (d.definition_level_encoding == format::kRle) {
      if (len < 4) return Corrupt("data page too short for its definition levels' length");
      uint32_t l;
      std::memcpy(&l, p, 4);
      if (l > len - 4) {
        return Corrupt("definition levels claim " + std::to_string(l) + " bytes; the page has " +
                       std::to_string(len - 4));
      }
      levels = p + 4;
      levels_len = l;
      p += 4 + l;
      len -= 4 + l;
    } else if (d.definition_level_encoding == format::kBitPacked) {
      levels_len = (page_rows + 7) / 8;
      if (levels_len > len) return Corrupt("bit-packed definition levels run past the page");
      p += levels_len;
      len -= levels_len;
    } else {
      return Corrupt("definition levels in encoding " +
                     EncodingName(d.definition_level_encoding));
    }
    KALAM_ASSIGN_OR_RETURN(count, DecodeLevels(d.definition_level_encoding, levels, levels_len,
                                               page_rows));
  }
  return DecodeValues(d.encoding, p, len, page_rows, count);
}

Status ChunkDecoder::ReadDataPageV2(const format::PageHeader& h, std::string_view body) {
  if (!h.data_page_v2) return Corrupt("data page v2 without its header");
  const format::DataPageHeaderV2& d = *h.data_page_v2;
  if (d.num_values < 0 || static_cast<size_t>(d.num_values) > rows_ - row_) {
    return Corrupt("data page holds " + std::to_string(d.num_values) + " values; only " +
                   std::to_string(rows_ - row_) + " rows remain in the chunk");
  }
  if (d.definition_levels_byte_length < 0 || d.repetition_levels_byte_length < 0 ||
      static_cast<uint64_t>(d.definition_levels_byte_length) +
              static_cast<uint64_t>(d.repetition_levels_byte_length) >
          std::min<uint64_t>(body.size(), static_cast<uint64_t>(h.uncompressed_page_size))) {
    return Corrupt("data page v2 level lengths exceed the page");
  }
  const size_t page_rows = static_cast<size_t>(d.num_values);
  const size_t rep_len = static_cast<size_t>(d.repetition_levels_byte_length);
  const size_t def_len = static_cast<size_t>(d.definition_levels_byte_length);
  const uint8_t* levels = reinterpret_cast<const uint8_t*>(body.data()) + rep_len;
  size_t count = page_rows;
  if (c_.nullable) {
    KALAM_ASSIGN_OR_RETURN(count, DecodeLevels(format::kRle, levels, def_len, page_rows));
    if (static_cast<int64_t>(page_rows - count) != d.num_nulls) {
      return Corrupt("data page v2 says " + std::to_string(d.num_nulls) +
                     " nulls; its definition levels hold " + std::to_string(page_rows - count));
    }
  }
  std::string_view values = body.substr(rep_len + def_len);
  const size_t values_size =
      static_cast<size_t>(h.uncompressed_page_size) - rep_len - def_len;
  std::string_view data;
  if (d.is_compressed && codec_ != Codec::kUncompressed) {
    KALAM_ASSIGN_OR_RETURN(data,
                           decompressor_.Decompress(codec_, values, values_size, &page_buffer_));
  } else {
    KALAM_ASSIGN_OR_RETURN(
        data, decompressor_.Decompress(Codec::kUncompressed, values, values_size, &page_buffer_));
  }
  return DecodeValues(d.encoding, reinterpret_cast<const uint8_t*>(data.data()), data.size(),
                      page_rows, count);
}

Result<size_t> ChunkDecoder::DecodeLevels(int32_t encoding, const uint8_t* data, size_t len,
                                          size_t page_rows) {
  uint8_t* present = present_->data() + row_;
  if (encoding == format::kBitPacked) {
    // The deprecated BIT_PACKED levels are packed most significant bit first.
    for (size_t i = 0; i < page_rows; ++i) present[i] = (data[i / 8] >> (7 - i % 8)) & 1;
  } else {
    RleDecoder levels(data, len, 1);
    KALAM_RETURN_IF_ERROR(levels.Decode(present, page_rows).WithPrefix("definition levels: "));
  }
  size_t count = 0;
  uint8_t bad = 0;
  for (size_t i = 0; i < page_rows; ++i) {
    bad |= present[i] & 0xFE;
    count += present[i];
  }
  if (bad) return Corrupt("definition level above 1 in a flat column");
  if (count != page_rows) has_nulls_ = true;
  return count;
}

Status ChunkDecoder::DecodeIndices(const uint8_t* data, size_t len, size_t count,
                                   size_t dict_size) {
  if (!has_dictionary_) return NoDictionary();
  if (len < 1) {
    if (count == 0) return Status::OK();
    return Corrupt("dictionary-encoded page has no index bit width");
  }
  int bit_width = data[0];
  if (bit_width > 32) {
    return Corrupt("dictionary index bit width " + std::to_string(bit_width) + " exceeds 32");
  }
  indices_.resize(count);
  RleDecoder decoder(data + 1, len - 1, bit_width);
  KALAM_RETURN_IF_ERROR(decoder.Decode(indices_.data(), count).WithPrefix("dictionary indexes: "));
  uint32_t max_index = 0;
  for (uint32_t idx : indices_) max_index = std::max(max_index, idx);
  if (count > 0 && max_index >= dict_size) {
    return Corrupt("dictionary index " + std::to_string(max_index) + " is past the " +
                   std::to_string(dict_size) + "-entry dictionary");
  }
  return Status::OK();
}

template <typename T>
Status ChunkDecoder::DecodeFixed(int32_t encoding, const uint8_t* data, size_t len, size_t count,
                                 const std::vector<T>& dict, T* dst) {
  if (encoding == format::kPlain) {
    if (c_.physical == PhysicalType::kInt96) {
      if (count > len / 12) return Corrupt("INT96 values run past the page");
      int64_t* d64 = reinterpret_cast<int64_t*>(dst);
      for (size_t i = 0; i < count; ++i) d64[i] = Int96ToNanos(data + 12 * i);
      return Status::OK();
    }
    if (count > len / sizeof(T)) {
      return Corrupt(std::to_string(count) + " PLAIN values need " +
                     std::to_string(count * sizeof(T)) + " bytes; the page has " +
                     std::to_string(len));
    }
    if (count > 0) std::memcpy(dst, data, count * sizeof(T));
    return Status::OK();
  }
  if (IsDictionaryEncoding(encoding)) {
    KALAM_RETURN_IF_ERROR(DecodeIndices(data, len, count, dict.size()));
    const T* d = dict.data();
    const uint32_t* idx = indices_.data();
    for (size_t i = 0; i < count; ++i) dst[i] = d[idx[i]];
    return Status::OK();
  }
  if (encoding == format::kByteStreamSplit && c_.physical != PhysicalType::kInt96) {
    return DecodeByteStreamSplit(data, len, count, sizeof(T), reinterpret_cast<uint8_t*>(dst));
  }
  if (encoding == format::kDeltaBinaryPacked) {
    if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
      if (c_.physical == PhysicalType::kInt32 || c_.physical == PhysicalType::kInt64) {
        std::vector<T>& scratch = [&]() -> std::vector<T>& {
          if constexpr (std::is_same_v<T, int32_t>) {
            return delta32_;
          } else {
            return delta64_;
          }
        }();
        KALAM_RETURN_IF_ERROR(DecodeDeltaBinaryPacked<T>(data, len, count, &scratch).status());
        if (scratch.size() != count) {
          return Corrupt("DELTA_BINARY_PACKED page holds " + std::to_string(scratch.size()) +
                         " values for " + std::to_string(count) + " present rows");
        }
        if (count > 0) std::memcpy(dst, scratch.data(), count * sizeof(T));
        return Status::OK();
      }
    }
  }
  return BadEncoding(encoding);
}

Status ChunkDecoder::DecodeBool(int32_t encoding, const uint8_t* data, size_t len, size_t count,
                                uint8_t* dst) {
  if (encoding == format::kPlain) {
    if ((count + 7) / 8 > len) return Corrupt("PLAIN booleans run past the page");
    UnpackBits(data, len, 0, count, 1, dst);
    return Status::OK();
  }
  if (encoding == format::kRle) {
    if (len < 4) return Corrupt("RLE booleans without their length prefix");
    uint32_t l;
    std::memcpy(&l, data, 4);
    if (l > len - 4) return Corrupt("RLE booleans claim more bytes than the page holds");
    RleDecoder decoder(data + 4, l, 1);
    return decoder.Decode(dst, count).WithPrefix("RLE booleans: ");
  }
  return BadEncoding(encoding);
}

Status ChunkDecoder::DecodeBytes(int32_t encoding, const uint8_t* data, size_t len,
                                 size_t page_rows, size_t count) {
  const bool fixed = c_.physical == PhysicalType::kFixedLenByteArray;
  const size_t width = static_cast<size_t>(c_.type_length);
  views_.resize(count);
  if (encoding == format::kPlain) {
    if (fixed) {
      if (count > len / width) return Corrupt("FIXED_LEN_BYTE_ARRAY values run past the page");
      const char* p = reinterpret_cast<const char*>(data);
      for (size_t i = 0; i < count; ++i) views_[i] = std::string_view(p + i * width, width);
    } else {
      if (count > len / 4) return Corrupt("BYTE_ARRAY values run past the page");
      KALAM_RETURN_IF_ERROR(DecodePlainByteArrays(data, len, count, views_.data()).status());
    }
  } else if (IsDictionaryEncoding(encoding)) {
    KALAM_RETURN_IF_ERROR(DecodeIndices(data, len, count, dict_bytes_.size()));
    const std::string_view* d = dict_bytes_.data();
    for (size_t i = 0; i < count; ++i) views_[i] = d[indices_[i]];
  } else if (encoding == format::kDeltaLengthByteArray && !fixed) {
    KALAM_RETURN_IF_ERROR(DecodeDeltaLengthByteArrays(data, len, count, &views_).status());
  } else if (encoding == format::kDeltaByteArray) {
    KALAM_RETURN_IF_ERROR(DecodeDeltaByteArrays(data, len, count,
                                                kMaxDecodedChunkBytes - bytes_out_, &arena_,
                                                &views_));
    if (fixed) {
      for (std::string_view v : views_) {
        if (v.size() != width) return Corrupt("DELTA_BYTE_ARRAY value of the wrong fixed length");
      }
    }
  } else if (encoding == format::kByteStreamSplit && fixed) {
    if (count > len / width) return Corrupt("BYTE_STREAM_SPLIT values run past the page");
    split_buffer_.resize(count * width);
    KALAM_RETURN_IF_ERROR(DecodeByteStreamSplit(data, len, count, width,
                                                reinterpret_cast<uint8_t*>(split_buffer_.data())));
    for (size_t i = 0; i < count; ++i) {
      views_[i] = std::string_view(split_buffer_.data() + i * width, width);
    }
  } else {
    return BadEncoding(encoding);
  }
  uint64_t bytes = 0;
  for (std::string_view v : views_) bytes += v.size();
  bytes_out_ += bytes;
  if (bytes_out_ > kMaxDecodedChunkBytes) {
    return Status::ResourceExhausted("column chunk decodes to more than 1 GiB of values");
  }
  if (packed_ != nullptr) {
    std::string& data = packed_->data;
    if (data.capacity() < data.size() + bytes) {
      data.reserve(std::max<size_t>(data.size() + bytes, 2 * data.capacity()));
    }
    uint64_t* offsets = packed_->offsets.data() + row_;
    const uint8_t* present = count == page_rows ? nullptr : present_->data() + row_;
    size_t j = 0;
    for (size_t i = 0; i < page_rows; ++i) {
      if (present == nullptr || present[i]) data.append(views_[j++]);
      offsets[i + 1] = data.size();
    }
    return Status::OK();
  }
  std::string* dst = out_->bytes.data() + row_;
  if (count == page_rows) {
    for (size_t i = 0; i < count; ++i) dst[i].assign(views_[i]);
  } else {
    const uint8_t* present = present_->data() + row_;
    size_t j = 0;
    for (size_t i = 0; i < page_rows; ++i) {
      if (present[i]) {
        dst[i].assign(views_[j++]);
      } else {
        dst[i].clear();
      }
    }
  }
  return Status::OK();
}

Status ChunkDecoder::DecodeValues(int32_t encoding, const uint8_t* data, size_t len,
                                  size_t page_rows, size_t count) {
  const uint8_t* present = c_.nullable ? present_->data() + row_ : nullptr;
  auto finish = [&](auto* dst) {
    if (count != page_rows) Spread(dst, present, page_rows, count);
    row_ += page_rows;
    return Status::OK();
  };
  switch (c_.physical) {
    case PhysicalType::kBoolean: {
      uint8_t* dst = out_->b.data() + row_;
      KALAM_RETURN_IF_ERROR(DecodeBool(encoding, data, len, count, dst));
      return finish(dst);
    }
    case PhysicalType::kInt32: {
      int32_t* dst = out_->i32.data() + row_;
      KALAM_RETURN_IF_ERROR(DecodeFixed(encoding, data, len, count, dict_i32_, dst));
      return finish(dst);
    }
    case PhysicalType::kInt64:
    case PhysicalType::kInt96: {
      int64_t* dst = out_->i64.data() + row_;
      KALAM_RETURN_IF_ERROR(DecodeFixed(encoding, data, len, count, dict_i64_, dst));
      return finish(dst);
    }
    case PhysicalType::kFloat: {
      float* dst = out_->f32.data() + row_;
      KALAM_RETURN_IF_ERROR(DecodeFixed(encoding, data, len, count, dict_f32_, dst));
      return finish(dst);
    }
    case PhysicalType::kDouble: {
      double* dst = out_->f64.data() + row_;
      KALAM_RETURN_IF_ERROR(DecodeFixed(encoding, data, len, count, dict_f64_, dst));
      return finish(dst);
    }
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      KALAM_RETURN_IF_ERROR(DecodeBytes(encoding, data, len, page_rows, count));
      row_ += page_rows;
      return Status::OK();
  }
  return Corrupt("unknown physical type");
}

Codec CodecFromFormat(int32_t codec, bool* ok) {
  *ok = true;
  switch (codec) {
    case format::kCodecUncompressed:
      return Codec::kUncompressed;
    case format::kCodecSnappy:
      return Codec::kSnappy;
    case format::kCodecGzip:
      return Codec::kGzip;
    case format::kCodecZstd:
      return Codec::kZstd;
  }
  *ok = false;
  return Codec::kUncompressed;
}

std::string FormatCodecName(int32_t codec) {
  switch (codec) {
    case format::kCodecLzo:
      return "LZO";
    case format::kCodecBrotli:
      return "BROTLI";
    case format::kCodecLz4:
      return "LZ4";
    case format::kCodecLz4Raw:
      return "LZ4_RAW";
  }
  return "#" + std::to_string(codec);
}

}  // namespace

struct Reader::Impl {
  std::string_view file;
  FileMetadata metadata;
  std::vector<std::vector<ChunkLocation>> chunks;  // [row group][column]
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> Reader::Open(std::string_view file) {
  if (file.size() < 12) {
    return Status::Corruption("Parquet file is " + std::to_string(file.size()) +
                              " bytes; the smallest possible is 12 (magic, footer length, magic)");
  }
  std::string_view tail = file.substr(file.size() - 4);
  if (tail == kEncryptedMagic) {
    return Status::InvalidArgument("Parquet file has an encrypted footer, which is not supported");
  }
  if (file.substr(0, 4) != kMagic || tail != kMagic) {
    return Status::Corruption("not a Parquet file: the PAR1 magic is missing at its start or end");
  }
  uint32_t footer_len;
  std::memcpy(&footer_len, file.data() + file.size() - 8, 4);
  if (footer_len > file.size() - 12) {
    return Status::Corruption("Parquet footer claims " + std::to_string(footer_len) +
                              " bytes; the file has room for " + std::to_string(file.size() - 12));
  }
  const size_t footer_start = file.size() - 8 - footer_len;
  format::FileMetaData fm;
  KALAM_RETURN_IF_ERROR(format::ParseFileMetaData(file.substr(footer_start, footer_len), &fm));
  if (fm.encrypted) {
    return Status::InvalidArgument("Parquet file uses encrypted columns, which is not supported");
  }

  auto impl = std::make_unique<Impl>();
  impl->file = file;
  FileMetadata& md = impl->metadata;
  if (fm.schema.empty()) return Status::Corruption("Parquet footer has an empty schema");
  const format::SchemaElement& root = fm.schema[0];
  for (size_t i = 1; i < fm.schema.size(); ++i) {
    const format::SchemaElement& e = fm.schema[i];
    if ((e.num_children && *e.num_children > 0) || !e.type) {
      return Status::InvalidArgument("Parquet column '" + e.name +
                                     "' is a nested group; only flat schemas can be read");
    }
    KALAM_ASSIGN_OR_RETURN(ColumnSchema c, FromSchemaElement(e));
    md.schema.push_back(std::move(c));
  }
  if (!root.num_children || static_cast<size_t>(*root.num_children) != md.schema.size()) {
    return Status::Corruption("Parquet schema root claims " +
                              std::to_string(root.num_children.value_or(-1)) + " children but " +
                              std::to_string(md.schema.size()) + " columns follow");
  }
  if (md.schema.empty()) return Status::Corruption("Parquet schema has no columns");
  if (fm.num_rows < 0) return Status::Corruption("Parquet footer has a negative row count");
  md.num_rows = fm.num_rows;
  md.created_by = fm.created_by.value_or("");
  for (format::KeyValue& kv : fm.key_value_metadata) {
    md.key_value_metadata.emplace_back(std::move(kv.key), kv.value.value_or(""));
  }

  int64_t total_rows = 0;
  for (size_t g = 0; g < fm.row_groups.size(); ++g) {
    const format::RowGroup& rg = fm.row_groups[g];
    const std::string where = "Parquet row group " + std::to_string(g);
    if (rg.num_rows < 0) return Status::Corruption(where + " has a negative row count");
    if (rg.columns.size() != md.schema.size()) {
      return Status::Corruption(where + " has " + std::to_string(rg.columns.size()) +
                                " column chunks for " + std::to_string(md.schema.size()) +
                                " columns");
    }
    if (rg.num_rows > INT64_MAX - total_rows) {
      return Status::Corruption(where + " row count overflows");
    }
    total_rows += rg.num_rows;
    RowGroupInfo info;
    info.num_rows = rg.num_rows;
    std::vector<ChunkLocation> locations;
    for (size_t ci = 0; ci < rg.columns.size(); ++ci) {
      const format::ColumnChunk& chunk = rg.columns[ci];
      const ColumnSchema& col = md.schema[ci];
      const std::string cwhere = where + ", column '" + col.name + "'";
      if (chunk.file_path) {
        return Status::InvalidArgument(cwhere + " is stored in another file ('" +
                                       *chunk.file_path + "'), which is not supported");
      }
      if (chunk.encrypted) return Status::InvalidArgument(cwhere + " is encrypted");
      if (!chunk.meta_data) return Status::Corruption(cwhere + " has no column metadata");
      const format::ColumnMetaData& m = *chunk.meta_data;
      if (m.type != static_cast<int32_t>(col.physical)) {
        return Status::Corruption(cwhere + " has physical type #" + std::to_string(m.type) +
                                  " but the schema says " + PhysicalTypeName(col.physical));
      }
      bool codec_ok;
      ChunkLocation loc;
      loc.codec = CodecFromFormat(m.codec, &codec_ok);
      if (!codec_ok) {
        if (m.codec >= format::kCodecLzo && m.codec <= format::kCodecLz4Raw) {
          return Status::InvalidArgument(cwhere + " uses codec " + FormatCodecName(m.codec) +
                                         "; supported are UNCOMPRESSED, SNAPPY, GZIP and ZSTD");
        }
        return Status::Corruption(cwhere + " has unknown codec " + FormatCodecName(m.codec));
      }
      if (m.num_values < 0 || m.total_compressed_size < 0 || m.total_uncompressed_size < 0) {
        return Status::Corruption(cwhere + " has negative sizes or counts");
      }
      int64_t start = m.data_page_offset;
      if (m.dictionary_page_offset && *m.dictionary_page_offset > 0 &&
          *m.dictionary_page_offset < start) {
        start = *m.dictionary_page_offset;
      }
      if (start < 4 || static_cast<uint64_t>(start) > footer_start ||
          static_cast<uint64_t>(m.total_compressed_size) > footer_start - start) {
        return Status::Corruption(cwhere + " lies outside the file's data (offset " +
                                  std::to_string(start) + ", " +
                                  std::to_string(m.total_compressed_size) + " bytes)");
      }
      loc.start = static_cast<size_t>(start);
      loc.length = static_cast<size_t>(m.total_compressed_size);
      loc.num_values = m.num_values;
      loc.total_uncompressed_size = m.total_uncompressed_size;
      ColumnChunkInfo ci_info;
      ci_info.codec = loc.codec;
      ci_info.num_values = m.num_values;
      ci_info.total_compressed_size = m.total_compressed_size;
      ci_info.total_uncompressed_size = m.total_uncompressed_size;
      if (m.statistics) ci_info.stats = DecodeStatistics(col, *m.statistics);
      info.columns.push_back(std::move(ci_info));
      locations.push_back(loc);
    }
    md.row_groups.push_back(std::move(info));
    impl->chunks.push_back(std::move(locations));
  }
  if (total_rows != md.num_rows) {
    return Status::Corruption("Parquet footer says " + std::to_string(md.num_rows) +
                              " rows; its row groups hold " + std::to_string(total_rows));
  }
  return std::unique_ptr<Reader>(new Reader(std::move(impl)));
}

const FileMetadata& Reader::metadata() const { return impl_->metadata; }

int Reader::FindColumn(std::string_view name) const {
  const auto& schema = impl_->metadata.schema;
  for (size_t i = 0; i < schema.size(); ++i) {
    if (schema[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Result<ColumnVector> Reader::ReadColumn(int row_group, int column) const {
  ColumnVector out;
  KALAM_RETURN_IF_ERROR(ReadColumnInto(row_group, column, &out));
  return out;
}

namespace {

// Checks a ReadColumn request and the chunk's row count against the decode limit.
Status CheckChunk(const FileMetadata& md, int row_group, int column, int64_t chunk_values,
                  uint64_t slot_bytes) {
  if (row_group < 0 || static_cast<size_t>(row_group) >= md.row_groups.size()) {
    return Status::InvalidArgument("Parquet row group " + std::to_string(row_group) +
                                   " does not exist; the file has " +
                                   std::to_string(md.row_groups.size()));
  }
  if (column < 0 || static_cast<size_t>(column) >= md.schema.size()) {
    return Status::InvalidArgument("Parquet column " + std::to_string(column) +
                                   " does not exist; the file has " +
                                   std::to_string(md.schema.size()));
  }
  const ColumnSchema& c = md.schema[column];
  const int64_t rows = md.row_groups[row_group].num_rows;
  if (chunk_values != rows) {
    return Status::Corruption("Parquet column '" + c.name + "' chunk holds " +
                              std::to_string(chunk_values) + " values for " +
                              std::to_string(rows) + " rows");
  }
  if (static_cast<uint64_t>(rows) > kMaxDecodedChunkBytes / (slot_bytes + 1)) {
    return Status::ResourceExhausted("Parquet column '" + c.name + "' chunk of " +
                                     std::to_string(rows) + " rows exceeds the 1 GiB decode limit");
  }
  return Status::OK();
}

}  // namespace

Status Reader::ReadColumnInto(int row_group, int column, ColumnVector* out) const {
  const FileMetadata& md = impl_->metadata;
  if (column < 0 || static_cast<size_t>(column) >= md.schema.size() || row_group < 0 ||
      static_cast<size_t>(row_group) >= md.row_groups.size()) {
    return CheckChunk(md, row_group, column, 0, 0);
  }
  const ColumnSchema& c = md.schema[column];
  const ChunkLocation& loc = impl_->chunks[row_group][column];
  uint64_t slot_bytes = 0;
  switch (c.physical) {
    case PhysicalType::kBoolean:
      slot_bytes = 1;
      break;
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      slot_bytes = 4;
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
    case PhysicalType::kDouble:
      slot_bytes = 8;
      break;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      slot_bytes = sizeof(std::string);
      break;
  }
  KALAM_RETURN_IF_ERROR(CheckChunk(md, row_group, column, loc.num_values, slot_bytes));
  const size_t n = static_cast<size_t>(md.row_groups[row_group].num_rows);
  // Keep only the vector of this type; keep its allocations for reuse.
  if (c.physical != PhysicalType::kBoolean) out->b.clear();
  if (c.physical != PhysicalType::kInt32) out->i32.clear();
  if (c.physical != PhysicalType::kInt64 && c.physical != PhysicalType::kInt96) out->i64.clear();
  if (c.physical != PhysicalType::kFloat) out->f32.clear();
  if (c.physical != PhysicalType::kDouble) out->f64.clear();
  if (c.physical != PhysicalType::kByteArray && c.physical != PhysicalType::kFixedLenByteArray) {
    out->bytes.clear();
  }
  switch (c.physical) {
    case PhysicalType::kBoolean:
      out->b.resize(n);
      break;
    case PhysicalType::kInt32:
      out->i32.resize(n);
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      out->i64.resize(n);
      break;
    case PhysicalType::kFloat:
      out->f32.resize(n);
      break;
    case PhysicalType::kDouble:
      out->f64.resize(n);
      break;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      out->bytes.resize(n);
      break;
  }
  if (c.nullable) {
    out->present.resize(n);
  } else {
    out->present.clear();
  }
  ChunkDecoder decoder(c, impl_->file.substr(loc.start, loc.length), loc.codec, n, out, nullptr,
                       &out->present);
  return decoder.Run();
}

Status Reader::ReadByteArrays(int row_group, int column, ByteArrayVector* out) const {
  const FileMetadata& md = impl_->metadata;
  if (column < 0 || static_cast<size_t>(column) >= md.schema.size() || row_group < 0 ||
      static_cast<size_t>(row_group) >= md.row_groups.size()) {
    return CheckChunk(md, row_group, column, 0, 0);
  }
  const ColumnSchema& c = md.schema[column];
  if (c.physical != PhysicalType::kByteArray && c.physical != PhysicalType::kFixedLenByteArray) {
    return Status::InvalidArgument("Parquet column '" + c.name + "' is " +
                                   PhysicalTypeName(c.physical) + ", not a byte array");
  }
  const ChunkLocation& loc = impl_->chunks[row_group][column];
  KALAM_RETURN_IF_ERROR(CheckChunk(md, row_group, column, loc.num_values, sizeof(uint64_t)));
  const size_t n = static_cast<size_t>(md.row_groups[row_group].num_rows);
  out->data.clear();
  // The chunk's uncompressed size bounds PLAIN values and is a good guess otherwise; growing
  // by doubling from nothing would copy and fault in the buffer several times. A hostile size
  // cannot reserve more than 64 times the chunk's bytes.
  const uint64_t hint = std::min<uint64_t>(
      {static_cast<uint64_t>(loc.total_uncompressed_size), uint64_t{loc.length} * 64,
       kMaxDecodedChunkBytes});
  out->data.reserve(static_cast<size_t>(hint));
  out->offsets.resize(n + 1);
  out->offsets[0] = 0;
  if (c.nullable) {
    out->present.resize(n);
  } else {
    out->present.clear();
  }
  ChunkDecoder decoder(c, impl_->file.substr(loc.start, loc.length), loc.codec, n, nullptr, out,
                       &out->present);
  return decoder.Run();
}

}  // namespace kalam::parquet
