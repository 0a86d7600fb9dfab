// Cold segment encoding: TableDef rows ↔ Parquet columns.
#include "table/cold_format.h"

#include <cmath>
#include <cstring>

#include "common/value_convert.h"
#include "parquet/parquet.h"

namespace kalam::table {

using catalog::ColumnDef;
using catalog::TableDef;
namespace pq = kalam::parquet;

namespace {

constexpr std::string_view kTableMetaKey = "kalamdb.table";
constexpr std::string_view kVersionMetaKey = "kalamdb.schema_version";
constexpr std::string_view kSeqColumn = "_seq";
constexpr std::string_view kDeletedColumn = "_deleted";

pq::ColumnSchema ParquetColumn(const ColumnDef& col) {
  pq::ColumnSchema s;
  s.name = col.name;
  s.nullable = !col.primary_key;
  switch (col.type.kind) {
    case TypeKind::kBoolean: s.physical = pq::PhysicalType::kBoolean; break;
    case TypeKind::kSmallInt:
      s.physical = pq::PhysicalType::kInt32;
      s.logical = pq::LogicalKind::kInt;
      s.int_bit_width = 16;
      break;
    case TypeKind::kInt: s.physical = pq::PhysicalType::kInt32; break;
    case TypeKind::kBigInt: s.physical = pq::PhysicalType::kInt64; break;
    case TypeKind::kFloat: s.physical = pq::PhysicalType::kFloat; break;
    case TypeKind::kDouble: s.physical = pq::PhysicalType::kDouble; break;
    case TypeKind::kDecimal:
      s.logical = pq::LogicalKind::kDecimal;
      s.precision = col.type.precision;
      s.scale = col.type.scale;
      if (col.type.precision <= 18) {
        s.physical = pq::PhysicalType::kInt64;
      } else {
        s.physical = pq::PhysicalType::kFixedLenByteArray;
        s.type_length = pq::DecimalByteLength(col.type.precision);
      }
      break;
    case TypeKind::kText:
      s.physical = pq::PhysicalType::kByteArray;
      s.logical = pq::LogicalKind::kString;
      break;
    case TypeKind::kJson:
    case TypeKind::kFile:
      s.physical = pq::PhysicalType::kByteArray;
      s.logical = pq::LogicalKind::kJson;
      break;
    case TypeKind::kBytes: s.physical = pq::PhysicalType::kByteArray; break;
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
      s.physical = pq::PhysicalType::kInt64;
      s.logical = pq::LogicalKind::kTimestamp;
      s.unit = pq::TimeUnit::kMicros;
      s.utc_adjusted = col.type.kind == TypeKind::kDateTime;
      break;
    case TypeKind::kDate:
      s.physical = pq::PhysicalType::kInt32;
      s.logical = pq::LogicalKind::kDate;
      break;
    case TypeKind::kTime:
      s.physical = pq::PhysicalType::kInt64;
      s.logical = pq::LogicalKind::kTime;
      s.unit = pq::TimeUnit::kMicros;
      break;
    case TypeKind::kUuid:
      s.physical = pq::PhysicalType::kFixedLenByteArray;
      s.logical = pq::LogicalKind::kUuid;
      s.type_length = 16;
      break;
    case TypeKind::kEmbedding:
      s.physical = pq::PhysicalType::kFixedLenByteArray;
      s.type_length = 4 * col.type.dimension;
      break;
  }
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool UuidTextToBytes(std::string_view text, std::string* out) {
  out->clear();
  int hi = -1;
  for (char c : text) {
    if (c == '-') continue;
    int d = HexDigit(c);
    if (d < 0) return false;
    if (hi < 0) {
      hi = d;
    } else {
      out->push_back(static_cast<char>(hi << 4 | d));
      hi = -1;
    }
  }
  return out->size() == 16 && hi < 0;
}

std::string UuidBytesToText(std::string_view b) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    unsigned char c = static_cast<unsigned char>(b[i]);
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  return s;
}

std::string UnscaledToBigEndian(__int128 v, int width) {
  std::string out(static_cast<size_t>(width), '\0');
  for (int i = width - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(static_cast<uint8_t>(v & 0xFF));
    v >>= 8;  // arithmetic shift keeps the sign
  }
  return out;
}

__int128 BigEndianToUnscaled(std::string_view b) {
  __int128 v = (!b.empty() && (static_cast<uint8_t>(b[0]) & 0x80)) ? -1 : 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// Fills slot `row` of `out` from `v` for a column of type `col`.
Status PutSlot(const ColumnDef& col, const pq::ColumnSchema& s, const Value& v, size_t row,
               pq::ColumnVector* out) {
  if (v.is_null()) {
    if (out->present.empty()) out->present.assign(row, 1);
    out->present.push_back(0);
  } else if (!out->present.empty()) {
    out->present.push_back(1);
  }
  const bool null = v.is_null();
  auto mismatch = [&]() {
    return Status::Internal("Cold segment: value " + v.DebugString() + " does not fit column '" +
                            col.name + "'");
  };
  switch (s.physical) {
    case pq::PhysicalType::kBoolean:
      if (!null && v.kind() != Value::Kind::kInt) return mismatch();
      out->b.push_back(null ? 0 : (v.as_int() != 0));
      break;
    case pq::PhysicalType::kInt32:
      if (!null && v.kind() != Value::Kind::kInt) return mismatch();
      out->i32.push_back(null ? 0 : static_cast<int32_t>(v.as_int()));
      break;
    case pq::PhysicalType::kInt64:
      if (null) {
        out->i64.push_back(0);
      } else if (col.type.kind == TypeKind::kDecimal) {
        __int128 u = 0;
        if (v.kind() != Value::Kind::kText ||
            !DecimalTextToUnscaled(v.as_text(), col.type.scale, &u)) {
          return mismatch();
        }
        out->i64.push_back(static_cast<int64_t>(u));
      } else {
        if (v.kind() != Value::Kind::kInt) return mismatch();
        out->i64.push_back(v.as_int());
      }
      break;
    case pq::PhysicalType::kFloat:
      if (!null && v.kind() != Value::Kind::kDouble) return mismatch();
      out->f32.push_back(null ? 0.0f : static_cast<float>(v.as_double()));
      break;
    case pq::PhysicalType::kDouble:
      if (!null && v.kind() != Value::Kind::kDouble) return mismatch();
      out->f64.push_back(null ? 0.0 : v.as_double());
      break;
    case pq::PhysicalType::kByteArray:
      if (null) {
        out->bytes.emplace_back();
      } else if (v.kind() == Value::Kind::kText) {
        out->bytes.push_back(v.as_text());
      } else if (v.kind() == Value::Kind::kBlob) {
        out->bytes.push_back(v.as_bytes());
      } else {
        return mismatch();
      }
      break;
    case pq::PhysicalType::kFixedLenByteArray: {
      if (null) {
        out->bytes.emplace_back(static_cast<size_t>(s.type_length), '\0');
        break;
      }
      std::string bytes;
      if (col.type.kind == TypeKind::kUuid) {
        if (v.kind() != Value::Kind::kText || !UuidTextToBytes(v.as_text(), &bytes)) {
          return mismatch();
        }
      } else if (col.type.kind == TypeKind::kDecimal) {
        __int128 u = 0;
        if (v.kind() != Value::Kind::kText ||
            !DecimalTextToUnscaled(v.as_text(), col.type.scale, &u)) {
          return mismatch();
        }
        bytes = UnscaledToBigEndian(u, s.type_length);
      } else {
        if (v.kind() != Value::Kind::kBlob) return mismatch();
        bytes = v.as_bytes();
      }
      if (bytes.size() != static_cast<size_t>(s.type_length)) return mismatch();
      out->bytes.push_back(std::move(bytes));
      break;
    }
    default:
      return mismatch();
  }
  return Status::OK();
}

// Reads slot `row` of `in` (a column of file type `s`) as a value of `col`'s stored form.
Value GetSlot(const ColumnDef& col, const pq::ColumnSchema& s, const pq::ColumnVector& in,
              size_t row) {
  if (in.is_null(row)) return Value::Null();
  switch (s.physical) {
    case pq::PhysicalType::kBoolean: return Value::Int(in.b[row] ? 1 : 0);
    case pq::PhysicalType::kInt32: return Value::Int(in.i32[row]);
    case pq::PhysicalType::kInt64:
      if (col.type.kind == TypeKind::kDecimal) {
        return Value::Text(DecimalUnscaledToText(in.i64[row], col.type.scale));
      }
      return Value::Int(in.i64[row]);
    case pq::PhysicalType::kFloat: return Value::Double(in.f32[row]);
    case pq::PhysicalType::kDouble: return Value::Double(in.f64[row]);
    case pq::PhysicalType::kByteArray:
      if (col.type.kind == TypeKind::kBytes) return Value::Bytes(in.bytes[row]);
      return Value::Text(in.bytes[row]);
    case pq::PhysicalType::kFixedLenByteArray:
      if (col.type.kind == TypeKind::kUuid) return Value::Text(UuidBytesToText(in.bytes[row]));
      if (col.type.kind == TypeKind::kDecimal) {
        return Value::Text(DecimalUnscaledToText(BigEndianToUnscaled(in.bytes[row]), col.type.scale));
      }
      return Value::Bytes(in.bytes[row]);
    default: return Value::Null();
  }
}

// Whether min/max of a column are meaningful as Values compared by kind (decimals as text and
// blobs do not order like their values).
bool HasOrderedStats(const ColumnDef& col) {
  switch (col.type.kind) {
    case TypeKind::kDecimal:
    case TypeKind::kBytes:
    case TypeKind::kEmbedding:
    case TypeKind::kJson:
    case TypeKind::kFile:
      return false;
    default:
      return true;
  }
}

bool Less(const Value& a, const Value& b) {
  switch (a.kind()) {
    case Value::Kind::kInt: return a.as_int() < b.as_int();
    case Value::Kind::kDouble: return a.as_double() < b.as_double();
    case Value::Kind::kText: return a.as_text() < b.as_text();
    default: return false;
  }
}

size_t ValueBytes(const Value& v) {
  size_t n = sizeof(Value);
  if (v.kind() == Value::Kind::kText) n += v.as_text().capacity();
  if (v.kind() == Value::Kind::kBlob) n += v.as_bytes().capacity();
  return n;
}

}  // namespace

bool DecimalTextToUnscaled(std::string_view text, int scale, __int128* out) {
  bool neg = false;
  size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  __int128 v = 0;
  int decimals = -1;
  bool any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (decimals >= 0) return false;
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9') return false;
    if (decimals >= 0 && ++decimals > scale) return false;
    v = v * 10 + (c - '0');
    any = true;
  }
  if (!any) return false;
  for (int d = decimals < 0 ? 0 : decimals; d < scale; ++d) v *= 10;
  *out = neg ? -v : v;
  return true;
}

std::string DecimalUnscaledToText(__int128 v, int scale) {
  bool neg = v < 0;
  unsigned __int128 u = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1
                            : static_cast<unsigned __int128>(v);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u);
  while (static_cast<int>(digits.size()) <= scale) digits.push_back('0');
  std::string out = neg ? "-" : "";
  for (size_t i = digits.size(); i-- > 0;) {
    out.push_back(digits[i]);
    if (scale > 0 && i == static_cast<size_t>(scale)) out.push_back('.');
  }
  return out;
}

namespace {

// The Parquet columns of `def`'s columns followed by `_seq` (INT64, required).
std::vector<pq::ColumnSchema> ColumnsWithSeq(const TableDef& def) {
  std::vector<pq::ColumnSchema> schema;
  for (const auto& col : def.columns) schema.push_back(ParquetColumn(col));
  pq::ColumnSchema seq_col;
  seq_col.name = std::string(kSeqColumn);
  seq_col.physical = pq::PhysicalType::kInt64;
  seq_col.nullable = false;
  schema.push_back(seq_col);
  return schema;
}

}  // namespace

Result<EncodedSegment> EncodeSegment(const TableDef& def, const std::vector<ColdRow>& rows) {
  std::vector<pq::ColumnSchema> schema = ColumnsWithSeq(def);
  pq::ColumnSchema del_col;
  del_col.name = std::string(kDeletedColumn);
  del_col.physical = pq::PhysicalType::kBoolean;
  del_col.nullable = false;
  schema.push_back(del_col);

  const size_t ncols = def.columns.size();
  EncodedSegment out;
  SegmentEntry& e = out.entry;
  e.row_count = static_cast<int64_t>(rows.size());
  e.schema_version = def.schema_version;
  e.columns.resize(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    e.columns[c].column_id = def.columns[c].column_id;
    e.columns[c].name = def.columns[c].name;
  }
  e.min_seq = rows.empty() ? 0 : INT64_MAX;

  KALAM_ASSIGN_OR_RETURN(auto writer, pq::Writer::Create(schema));
  // Row groups of at most 128k rows: bounded memory per group, and pruning granularity.
  constexpr size_t kGroupRows = 128 * 1024;
  for (size_t start = 0; start < rows.size() || (start == 0 && rows.empty()); start += kGroupRows) {
    const size_t end = std::min(rows.size(), start + kGroupRows);
    std::vector<pq::ColumnVector> cols(schema.size());
    for (auto& cv : cols) {
      cv.i64.reserve(end - start);
    }
    for (size_t r = start; r < end; ++r) {
      const ColdRow& row = rows[r];
      if (row.values.size() != ncols) return Status::Internal("Cold segment: row width mismatch");
      for (size_t c = 0; c < ncols; ++c) {
        const Value& v = row.values[c];
        KALAM_RETURN_IF_ERROR(PutSlot(def.columns[c], schema[c], v, r - start, &cols[c]));
        ColumnRange& range = e.columns[c];
        if (v.is_null()) {
          ++range.null_count;
        } else if (HasOrderedStats(def.columns[c]) &&
                   !(v.kind() == Value::Kind::kDouble && std::isnan(v.as_double()))) {
          if (range.min.is_null() || Less(v, range.min)) range.min = v;
          if (range.max.is_null() || Less(range.max, v)) range.max = v;
        }
      }
      cols[ncols].i64.push_back(row.seq);
      cols[ncols + 1].b.push_back(row.deleted ? 1 : 0);
      e.min_seq = std::min(e.min_seq, row.seq);
      e.max_seq = std::max(e.max_seq, row.seq);
      if (row.deleted) ++e.tombstones;
    }
    KALAM_RETURN_IF_ERROR(writer->WriteRowGroup(cols, end - start));
    if (rows.empty()) break;
  }
  pq::KeyValueMetadata kv = {{std::string(kTableMetaKey), def.ToJson()},
                             {std::string(kVersionMetaKey), std::to_string(def.schema_version)}};
  KALAM_ASSIGN_OR_RETURN(out.file, writer->Finish(kv));
  e.size_bytes = static_cast<int64_t>(out.file.size());
  return out;
}

Result<std::string> EncodeExportParquet(const TableDef& def, const std::vector<ExportRow>& rows) {
  const std::vector<pq::ColumnSchema> schema = ColumnsWithSeq(def);
  const size_t ncols = def.columns.size();
  KALAM_ASSIGN_OR_RETURN(auto writer, pq::Writer::Create(schema));
  constexpr size_t kGroupRows = 128 * 1024;
  for (size_t start = 0; start < rows.size() || (start == 0 && rows.empty()); start += kGroupRows) {
    const size_t end = std::min(rows.size(), start + kGroupRows);
    std::vector<pq::ColumnVector> cols(schema.size());
    for (size_t r = start; r < end; ++r) {
      const ExportRow& row = rows[r];
      if (row.values.size() != ncols) return Status::Internal("Export: row width mismatch");
      for (size_t c = 0; c < ncols; ++c) {
        KALAM_RETURN_IF_ERROR(PutSlot(def.columns[c], schema[c], row.values[c], r - start, &cols[c]));
      }
      cols[ncols].i64.push_back(row.seq);
    }
    KALAM_RETURN_IF_ERROR(writer->WriteRowGroup(cols, end - start));
    if (rows.empty()) break;
  }
  return writer->Finish();
}

Result<std::shared_ptr<const SegmentRows>> DecodeSegment(const TableDef& def, const Scope& scope,
                                                         std::string_view file) {
  KALAM_ASSIGN_OR_RETURN(auto reader, pq::Reader::Open(file));
  const pq::FileMetadata& meta = reader->metadata();
  std::shared_ptr<TableDef> file_def;
  for (const auto& [k, v] : meta.key_value_metadata) {
    if (k == kTableMetaKey) {
      auto parsed = TableDef::FromJson(v);
      if (!parsed.ok()) return Status::Corruption("Cold segment: embedded table schema: " + parsed.status().message());
      file_def = std::move(*parsed);
    }
  }
  if (!file_def) return Status::Corruption("Cold segment has no KalamDB table metadata");
  const int seq_idx = reader->FindColumn(kSeqColumn);
  const int del_idx = reader->FindColumn(kDeletedColumn);
  if (seq_idx < 0 || del_idx < 0) return Status::Corruption("Cold segment lacks _seq/_deleted");

  // Current column → (file column index, file column def) by column id.
  const size_t ncols = def.columns.size();
  std::vector<int> file_col(ncols, -1);
  std::vector<const ColumnDef*> file_def_col(ncols, nullptr);
  for (size_t c = 0; c < ncols; ++c) {
    for (const auto& fc : file_def->columns) {
      if (fc.column_id == def.columns[c].column_id) {
        file_col[c] = reader->FindColumn(fc.name);
        file_def_col[c] = &fc;
        break;
      }
    }
  }
  const std::string prefix = ScopePrefix(def.table_id, scope);
  const size_t pk = def.pk_index();
  if (file_col[pk] < 0) return Status::Corruption("Cold segment lacks the primary key column");

  auto out = std::make_shared<SegmentRows>();
  const size_t total = static_cast<size_t>(meta.num_rows);
  out->ncols = ncols;
  out->keys.reserve(total);
  out->seqs.reserve(total);
  out->deleted.reserve(total);
  out->cells.reserve(total * ncols);
  size_t bytes = 0;
  std::vector<pq::ColumnVector> cols(ncols);
  pq::ColumnVector seqs, dels;
  for (int g = 0; g < static_cast<int>(meta.row_groups.size()); ++g) {
    const size_t n = static_cast<size_t>(meta.row_groups[static_cast<size_t>(g)].num_rows);
    KALAM_RETURN_IF_ERROR(reader->ReadColumnInto(g, seq_idx, &seqs));
    KALAM_RETURN_IF_ERROR(reader->ReadColumnInto(g, del_idx, &dels));
    if (seqs.i64.size() < n || dels.b.size() < n) return Status::Corruption("Cold segment: short _seq/_deleted column");
    for (size_t c = 0; c < ncols; ++c) {
      if (file_col[c] < 0) continue;
      KALAM_RETURN_IF_ERROR(reader->ReadColumnInto(g, file_col[c], &cols[c]));
    }
    for (size_t r = 0; r < n; ++r) {
      out->seqs.push_back(seqs.i64[r]);
      out->deleted.push_back(dels.b[r] != 0 ? 1 : 0);
      for (size_t c = 0; c < ncols; ++c) {
        if (file_col[c] < 0) {
          out->cells.push_back(def.columns[c].missing_value);
          continue;
        }
        const pq::ColumnSchema& fs = meta.schema[static_cast<size_t>(file_col[c])];
        Value v = GetSlot(*file_def_col[c], fs, cols[c], r);
        if (file_def_col[c]->type != def.columns[c].type && !v.is_null()) {
          auto converted = CoerceToColumn(def.columns[c].type, v, def.columns[c].name);
          v = converted.ok() ? std::move(*converted) : Value::Null();
        }
        bytes += ValueBytes(v);
        out->cells.push_back(std::move(v));
      }
      const Value& pk_value = out->cells[out->cells.size() - ncols + pk];
      out->keys.push_back(prefix + EncodePk(pk_value));
      bytes += sizeof(std::string) + out->keys.back().capacity() + 9;
    }
  }
  // Segments are written in key order; verify rather than trust (a foreign or damaged file must
  // not break the merge's ordering assumption).
  for (size_t i = 1; i < out->keys.size(); ++i) {
    if (!(out->keys[i - 1] < out->keys[i])) {
      return Status::Corruption("Cold segment rows are not in primary-key order");
    }
  }
  out->approx_bytes = bytes;
  return std::shared_ptr<const SegmentRows>(std::move(out));
}

}  // namespace kalam::table
