// Writer: validates row groups, dictionary- or PLAIN-encodes each column chunk into data pages
// (v1), compresses them and assembles the footer.
#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "parquet/compression.h"
#include "parquet/encodings.h"
#include "parquet/metadata.h"
#include "parquet/parquet.h"
#include "parquet/schema.h"
#include "parquet/statistics.h"

namespace kalam::parquet {

static_assert(std::endian::native == std::endian::little,
              "PLAIN encoding is written with memcpy; big-endian hosts are not supported");

namespace {

constexpr std::string_view kMagic = "PAR1";
// A page never holds more rows than this, whatever its byte size, so page value counts stay far
// from the i32 limit and readers decode in bounded steps.
constexpr size_t kMaxRowsPerPage = 1 << 20;

void AppendLe32(uint32_t v, std::string* out) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

size_t PhysicalWidth(const ColumnSchema& c) {
  switch (c.physical) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      return 8;
    case PhysicalType::kFixedLenByteArray:
      return static_cast<size_t>(c.type_length);
    default:
      return 0;
  }
}

// Open-addressing hash set that assigns dictionary indexes to distinct values in first-seen
// order. Callers pass each key's hash; `Eq` compares keys. Keys are views or bit patterns that
// stay valid while the table is used.
template <typename Key, typename Eq>
class DictionaryTable {
 public:
  DictionaryTable() { slots_.assign(1024, -1); }

  // The index of `key`, inserting it if new.
  uint32_t Insert(const Key& key, size_t hash) {
    size_t mask = slots_.size() - 1;
    size_t slot = hash & mask;
    while (true) {
      int32_t idx = slots_[slot];
      if (idx < 0) break;
      if (hashes_[idx] == hash && Eq()(entries_[idx], key)) return static_cast<uint32_t>(idx);
      slot = (slot + 1) & mask;
    }
    uint32_t idx = static_cast<uint32_t>(entries_.size());
    slots_[slot] = static_cast<int32_t>(idx);
    entries_.push_back(key);
    hashes_.push_back(hash);
    if (entries_.size() * 2 > slots_.size()) Grow();
    return idx;
  }

  const std::vector<Key>& entries() const { return entries_; }

 private:
  void Grow() {
    slots_.assign(slots_.size() * 2, -1);
    size_t mask = slots_.size() - 1;
    for (size_t i = 0; i < entries_.size(); ++i) {
      size_t slot = hashes_[i] & mask;
      while (slots_[slot] >= 0) slot = (slot + 1) & mask;
      slots_[slot] = static_cast<int32_t>(i);
    }
  }

  std::vector<int32_t> slots_;
  std::vector<Key> entries_;
  std::vector<size_t> hashes_;
};

inline size_t MixBits(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<size_t>(x);
}

struct BitsEq {
  bool operator()(uint64_t a, uint64_t b) const { return a == b; }
};
struct ViewEq {
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// The outcome of dictionary encoding a chunk: the PLAIN dictionary page body, its entry count,
// and one index per present row.
struct Dictionary {
  std::string page;
  size_t entries = 0;
  std::vector<uint32_t> indices;
};

// Runs `f(row)` for each present row in [0, n).
template <typename F>
void ForPresent(const ColumnVector& v, size_t n, F&& f) {
  if (v.present.empty()) {
    for (size_t i = 0; i < n; ++i) f(i);
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (v.present[i]) f(i);
    }
  }
}

// Dictionary-encodes a fixed-width column; false if the dictionary outgrows `limit` bytes.
template <typename T>
bool BuildFixedDictionary(const std::vector<T>& data, const ColumnVector& v, size_t n,
                          size_t limit, Dictionary* d) {
  DictionaryTable<uint64_t, BitsEq> table;
  const size_t max_entries = limit / sizeof(T);
  bool ok = true;
  auto add = [&](size_t i) {
    uint64_t bits = 0;
    std::memcpy(&bits, &data[i], sizeof(T));
    uint32_t idx = table.Insert(bits, MixBits(bits));
    d->indices.push_back(idx);
    if (table.entries().size() > max_entries) ok = false;
  };
  if (v.present.empty()) {
    for (size_t i = 0; i < n && ok; ++i) add(i);
  } else {
    for (size_t i = 0; i < n && ok; ++i) {
      if (v.present[i]) add(i);
    }
  }
  if (!ok) return false;
  d->entries = table.entries().size();
  d->page.resize(d->entries * sizeof(T));
  char* dst = d->page.data();
  for (uint64_t bits : table.entries()) {
    std::memcpy(dst, &bits, sizeof(T));
    dst += sizeof(T);
  }
  return true;
}

// Dictionary-encodes a byte-array column (`fixed`: no length prefixes in the page).
bool BuildBytesDictionary(const ColumnVector& v, size_t n, bool fixed, size_t limit,
                          Dictionary* d) {
  DictionaryTable<std::string_view, ViewEq> table;
  std::hash<std::string_view> hasher;
  size_t bytes = 0;
  bool ok = true;
  auto add = [&](size_t i) {
    std::string_view s = v.bytes[i];
    size_t before = table.entries().size();
    uint32_t idx = table.Insert(s, hasher(s));
    d->indices.push_back(idx);
    if (table.entries().size() != before) {
      bytes += s.size() + (fixed ? 0 : 4);
      if (bytes > limit) ok = false;
    }
  };
  if (v.present.empty()) {
    for (size_t i = 0; i < n && ok; ++i) add(i);
  } else {
    for (size_t i = 0; i < n && ok; ++i) {
      if (v.present[i]) add(i);
    }
  }
  if (!ok) return false;
  d->entries = table.entries().size();
  d->page.reserve(bytes);
  for (std::string_view s : table.entries()) {
    if (!fixed) AppendLe32(static_cast<uint32_t>(s.size()), &d->page);
    d->page.append(s);
  }
  return true;
}

}  // namespace

struct Writer::Impl {
  std::vector<ColumnSchema> schema;
  WriterOptions options;
  Compressor compressor;
  std::string file;
  std::vector<format::RowGroup> row_groups;
  int64_t num_rows = 0;
  bool finished = false;
  // Scratch reused across pages.
  std::string page;
  std::string compressed;
  std::vector<uint8_t> bool_scratch;
  std::vector<uint8_t> levels;  // `present` normalised to 0/1 when a caller used other values

  Impl(std::vector<ColumnSchema> s, WriterOptions o)
      : schema(std::move(s)),
        options(std::move(o)),
        compressor(options.codec, options.zstd_level) {}

  Status ValidateColumn(const ColumnSchema& c, const ColumnVector& v, size_t n) const;
  // Compresses `page` and appends header + body; updates the chunk's size totals.
  Status AppendPage(format::PageHeader header, format::ColumnMetaData* meta);
  Status WriteChunk(const ColumnSchema& c, const ColumnVector& v, size_t n,
                    format::ColumnChunk* chunk);
  void AppendPlainValues(const ColumnSchema& c, const ColumnVector& v, size_t begin, size_t end);
};

Status Writer::Impl::ValidateColumn(const ColumnSchema& c, const ColumnVector& v, size_t n) const {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("Parquet column '" + c.name + "': " + what);
  };
  if (!v.present.empty() && v.present.size() != n) {
    return bad("present has " + std::to_string(v.present.size()) + " entries for " +
               std::to_string(n) + " rows");
  }
  size_t have = 0;
  switch (c.physical) {
    case PhysicalType::kBoolean:
      have = v.b.size();
      break;
    case PhysicalType::kInt32:
      have = v.i32.size();
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kInt96:
      have = v.i64.size();
      break;
    case PhysicalType::kFloat:
      have = v.f32.size();
      break;
    case PhysicalType::kDouble:
      have = v.f64.size();
      break;
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
      have = v.bytes.size();
      break;
  }
  if (have != n) {
    return bad("holds " + std::to_string(have) + " values for " + std::to_string(n) + " rows");
  }
  if (!c.nullable && !v.present.empty()) {
    for (size_t i = 0; i < n; ++i) {
      if (v.present[i] == 0) {
        return bad("is REQUIRED but row " + std::to_string(i) + " is null");
      }
    }
  }
  if (c.physical == PhysicalType::kFixedLenByteArray) {
    for (size_t i = 0; i < n; ++i) {
      if (!v.is_null(i) && v.bytes[i].size() != static_cast<size_t>(c.type_length)) {
        return bad("row " + std::to_string(i) + " holds " + std::to_string(v.bytes[i].size()) +
                   " bytes; FIXED_LEN_BYTE_ARRAY(" + std::to_string(c.type_length) +
                   ") needs exactly " + std::to_string(c.type_length));
      }
    }
  }
  if (c.physical == PhysicalType::kByteArray) {
    for (size_t i = 0; i < n; ++i) {
      if (v.bytes[i].size() > INT32_MAX / 2) {
        return bad("row " + std::to_string(i) + " holds a value over 1 GiB");
      }
    }
  }
  return Status::OK();
}

Status Writer::Impl::AppendPage(format::PageHeader header, format::ColumnMetaData* meta) {
  KALAM_RETURN_IF_ERROR(compressor.Compress(page, &compressed));
  if (page.size() > INT32_MAX || compressed.size() > INT32_MAX) {
    return Status::InvalidArgument("Parquet page exceeds 2 GiB; write smaller row groups");
  }
  header.uncompressed_page_size = static_cast<int32_t>(page.size());
  header.compressed_page_size = static_cast<int32_t>(compressed.size());
  size_t before = file.size();
  format::SerializePageHeader(header, &file);
  size_t header_bytes = file.size() - before;
  file.append(compressed);
  meta->total_uncompressed_size += static_cast<int64_t>(header_bytes + page.size());
  meta->total_compressed_size += static_cast<int64_t>(header_bytes + compressed.size());
  return Status::OK();
}

void Writer::Impl::AppendPlainValues(const ColumnSchema& c, const ColumnVector& v, size_t begin,
                                     size_t end) {
  const bool dense = v.present.empty();
  auto present = [&](size_t i) { return dense || v.present[i] != 0; };
  switch (c.physical) {
    case PhysicalType::kBoolean: {
      bool_scratch.clear();
      for (size_t i = begin; i < end; ++i) {
        if (present(i)) bool_scratch.push_back(v.b[i] != 0);
      }
      PackBits(bool_scratch.data(), bool_scratch.size(), 1, &page);
      return;
    }
    case PhysicalType::kInt32:
    case PhysicalType::kInt64:
    case PhysicalType::kFloat:
    case PhysicalType::kDouble: {
      const size_t w = PhysicalWidth(c);
      const void* data = v.f64.data();
      if (c.physical == PhysicalType::kInt32) data = v.i32.data();
      if (c.physical == PhysicalType::kInt64) data = v.i64.data();
      if (c.physical == PhysicalType::kFloat) data = v.f32.data();
      const char* base = static_cast<const char*>(data);
      if (dense) {
        page.append(base + begin * w, (end - begin) * w);
        return;
      }
      size_t old = page.size();
      page.resize(old + (end - begin) * w);
      char* dst = page.data() + old;
      for (size_t i = begin; i < end; ++i) {
        if (v.present[i]) {
          std::memcpy(dst, base + i * w, w);
          dst += w;
        }
      }
      page.resize(static_cast<size_t>(dst - page.data()));
      return;
    }
    case PhysicalType::kByteArray:
      for (size_t i = begin; i < end; ++i) {
        if (!present(i)) continue;
        AppendLe32(static_cast<uint32_t>(v.bytes[i].size()), &page);
        page.append(v.bytes[i]);
      }
      return;
    case PhysicalType::kFixedLenByteArray:
      for (size_t i = begin; i < end; ++i) {
        if (present(i)) page.append(v.bytes[i]);
      }
      return;
    case PhysicalType::kInt96:
      return;
  }
}

Status Writer::Impl::WriteChunk(const ColumnSchema& c, const ColumnVector& v, size_t n,
                                format::ColumnChunk* chunk) {
  const int64_t chunk_start = static_cast<int64_t>(file.size());
  format::ColumnMetaData meta;
  meta.type = static_cast<int32_t>(c.physical);
  meta.path_in_schema = {c.name};
  meta.codec = options.codec == Codec::kSnappy ? format::kCodecSnappy
               : options.codec == Codec::kGzip ? format::kCodecGzip
               : options.codec == Codec::kZstd ? format::kCodecZstd
                                               : format::kCodecUncompressed;
  meta.num_values = static_cast<int64_t>(n);
  if (options.statistics) meta.statistics = ComputeStatistics(c, v, 0, n);

  size_t present_count = n;
  if (!v.present.empty()) {
    present_count = 0;
    for (uint8_t p : v.present) present_count += p != 0;
  }

  // Dictionary encoding, when it fits the limit and beats PLAIN.
  Dictionary dict;
  bool use_dict = false;
  const size_t width = PhysicalWidth(c);
  if (options.dictionary && c.physical != PhysicalType::kBoolean && present_count > 0) {
    dict.indices.reserve(present_count);
    const size_t limit = options.dictionary_page_limit_bytes;
    switch (c.physical) {
      case PhysicalType::kInt32:
        use_dict = BuildFixedDictionary(v.i32, v, n, limit, &dict);
        break;
      case PhysicalType::kInt64:
        use_dict = BuildFixedDictionary(v.i64, v, n, limit, &dict);
        break;
      case PhysicalType::kFloat:
        use_dict = BuildFixedDictionary(v.f32, v, n, limit, &dict);
        break;
      case PhysicalType::kDouble:
        use_dict = BuildFixedDictionary(v.f64, v, n, limit, &dict);
        break;
      case PhysicalType::kByteArray:
      case PhysicalType::kFixedLenByteArray:
        use_dict = BuildBytesDictionary(v, n, c.physical == PhysicalType::kFixedLenByteArray,
                                        limit, &dict);
        break;
      default:
        break;
    }
    if (use_dict) {
      size_t plain_bytes = 0;
      if (width > 0) {
        plain_bytes = present_count * width;
      } else {
        ForPresent(v, n, [&](size_t i) { plain_bytes += 4 + v.bytes[i].size(); });
      }
      int bw = std::max(1, BitWidthFor(dict.entries - 1));
      size_t dict_bytes = dict.page.size() + (present_count * bw + 7) / 8;
      use_dict = dict_bytes < plain_bytes;
    }
  }
  const int index_width = use_dict ? std::max(1, BitWidthFor(dict.entries - 1)) : 0;

  // Definition levels are the present flags, which must be exactly 0 or 1 to bit-pack.
  const uint8_t* def_levels = v.present.data();
  if (!v.present.empty()) {
    bool normal = true;
    for (uint8_t p : v.present) normal &= p <= 1;
    if (!normal) {
      levels.resize(n);
      for (size_t i = 0; i < n; ++i) levels[i] = v.present[i] != 0;
      def_levels = levels.data();
    }
  }

  int dict_pages = 0;
  int data_pages = 0;
  if (use_dict) {
    page = std::move(dict.page);
    format::PageHeader h;
    h.type = format::kDictionaryPage;
    h.dictionary_page.emplace();
    h.dictionary_page->num_values = static_cast<int32_t>(dict.entries);
    h.dictionary_page->encoding = format::kPlain;
    meta.dictionary_page_offset = chunk_start;
    KALAM_RETURN_IF_ERROR(AppendPage(h, &meta));
    dict_pages = 1;
  }
  meta.data_page_offset = static_cast<int64_t>(file.size());

  // Data pages: split rows so that each page's encoded values stay near data_page_bytes.
  const size_t target = std::max<size_t>(1, options.data_page_bytes);
  size_t row = 0;
  size_t value_index = 0;  // index into dict.indices of the page's first present value
  do {
    size_t end = row;
    if (use_dict) {
      size_t rows = std::max<size_t>(1, target * 8 / index_width);
      end = std::min(n, row + std::min(rows, kMaxRowsPerPage));
    } else if (width > 0 || c.physical == PhysicalType::kBoolean) {
      size_t rows = c.physical == PhysicalType::kBoolean ? target * 8 : target / width;
      end = std::min(n, row + std::clamp<size_t>(rows, 1, kMaxRowsPerPage));
    } else {
      size_t bytes = 0;
      const size_t limit = std::min(n, row + kMaxRowsPerPage);
      while (end < limit && (end == row || bytes < target)) {
        if (!v.is_null(end)) bytes += 4 + v.bytes[end].size();
        ++end;
      }
    }
    page.clear();
    if (c.nullable) {
      page.append(4, '\0');
      size_t levels_start = page.size();
      if (v.present.empty()) {
        // Every row present: one RLE run of definition level 1.
        if (end > row) {
          uint64_t header = static_cast<uint64_t>(end - row) << 1;
          while (header >= 0x80) {
            page.push_back(static_cast<char>((header & 0x7F) | 0x80));
            header >>= 7;
          }
          page.push_back(static_cast<char>(header));
          page.push_back(1);
        }
      } else {
        RleEncode(def_levels + row, end - row, 1, &page);
      }
      uint32_t levels_len = static_cast<uint32_t>(page.size() - levels_start);
      std::memcpy(page.data(), &levels_len, 4);
    }
    size_t page_present = end - row;
    if (!v.present.empty()) {
      page_present = 0;
      for (size_t i = row; i < end; ++i) page_present += v.present[i] != 0;
    }
    format::PageHeader h;
    h.type = format::kDataPage;
    h.data_page.emplace();
    h.data_page->num_values = static_cast<int32_t>(end - row);
    h.data_page->definition_level_encoding = format::kRle;
    h.data_page->repetition_level_encoding = format::kRle;
    if (use_dict) {
      h.data_page->encoding = format::kRleDictionary;
      page.push_back(static_cast<char>(index_width));
      RleEncode(dict.indices.data() + value_index, page_present, index_width, &page);
    } else {
      h.data_page->encoding = format::kPlain;
      AppendPlainValues(c, v, row, end);
    }
    value_index += page_present;
    KALAM_RETURN_IF_ERROR(AppendPage(h, &meta));
    ++data_pages;
    row = end;
  } while (row < n);

  if (use_dict) {
    meta.encodings = {format::kPlain, format::kRle, format::kRleDictionary};
    meta.encoding_stats = {{format::kDictionaryPage, format::kPlain, dict_pages},
                           {format::kDataPage, format::kRleDictionary, data_pages}};
  } else {
    meta.encodings = {format::kPlain, format::kRle};
    meta.encoding_stats = {{format::kDataPage, format::kPlain, data_pages}};
  }
  chunk->file_offset = chunk_start;
  chunk->meta_data = std::move(meta);
  return Status::OK();
}

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::~Writer() = default;

Result<std::unique_ptr<Writer>> Writer::Create(std::vector<ColumnSchema> schema,
                                               WriterOptions options) {
  if (schema.empty()) return Status::InvalidArgument("A Parquet schema needs at least one column");
  std::unordered_set<std::string_view> names;
  for (const ColumnSchema& c : schema) {
    KALAM_RETURN_IF_ERROR(ValidateColumnSchema(c));
    if (!names.insert(c.name).second) {
      return Status::InvalidArgument("Parquet column name '" + c.name + "' appears twice");
    }
  }
  if (static_cast<int>(options.codec) > static_cast<int>(Codec::kZstd)) {
    return Status::InvalidArgument("Unknown Parquet codec");
  }
  auto impl = std::make_unique<Impl>(std::move(schema), std::move(options));
  impl->file.append(kMagic);
  return std::unique_ptr<Writer>(new Writer(std::move(impl)));
}

Status Writer::WriteRowGroup(const std::vector<ColumnVector>& columns, size_t num_rows) {
  Impl& w = *impl_;
  if (w.finished) return Status::FailedPrecondition("Parquet writer is already finished");
  if (columns.size() != w.schema.size()) {
    return Status::InvalidArgument("Row group has " + std::to_string(columns.size()) +
                                   " columns; the schema has " + std::to_string(w.schema.size()));
  }
  if (w.row_groups.size() >= 32767) {
    return Status::ResourceExhausted("A Parquet file holds at most 32767 row groups");
  }
  for (size_t i = 0; i < columns.size(); ++i) {
    KALAM_RETURN_IF_ERROR(w.ValidateColumn(w.schema[i], columns[i], num_rows));
  }
  const size_t rollback = w.file.size();
  format::RowGroup group;
  group.num_rows = static_cast<int64_t>(num_rows);
  group.file_offset = static_cast<int64_t>(rollback);
  group.ordinal = static_cast<int16_t>(w.row_groups.size());
  int64_t compressed = 0;
  for (size_t i = 0; i < columns.size(); ++i) {
    format::ColumnChunk chunk;
    Status st = w.WriteChunk(w.schema[i], columns[i], num_rows, &chunk);
    if (!st.ok()) {
      w.file.resize(rollback);
      return st;
    }
    group.total_byte_size += chunk.meta_data->total_uncompressed_size;
    compressed += chunk.meta_data->total_compressed_size;
    group.columns.push_back(std::move(chunk));
  }
  group.total_compressed_size = compressed;
  w.row_groups.push_back(std::move(group));
  w.num_rows += static_cast<int64_t>(num_rows);
  return Status::OK();
}

Result<std::string> Writer::Finish(const KeyValueMetadata& key_value_metadata) {
  Impl& w = *impl_;
  if (w.finished) return Status::FailedPrecondition("Parquet writer is already finished");
  format::FileMetaData m;
  m.version = 2;
  format::SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(w.schema.size());
  m.schema.push_back(std::move(root));
  for (const ColumnSchema& c : w.schema) m.schema.push_back(ToSchemaElement(c));
  m.num_rows = w.num_rows;
  m.row_groups = std::move(w.row_groups);
  for (const auto& [k, v] : key_value_metadata) m.key_value_metadata.push_back({k, v});
  m.created_by = w.options.created_by;
  m.type_defined_column_orders = true;
  std::string footer;
  format::SerializeFileMetaData(m, &footer);
  w.file.append(footer);
  AppendLe32(static_cast<uint32_t>(footer.size()), &w.file);
  w.file.append(kMagic);
  w.finished = true;
  return std::move(w.file);
}

}  // namespace kalam::parquet
