// Row version encoding: [format=1][schema_version varint][flags][n varint]{column_id varint, value}*.
#include "table/row_codec.h"

#include "common/value_codec.h"

namespace kalam::table {

namespace {
constexpr char kFormat = 1;
constexpr uint8_t kDeletedFlag = 1;
}  // namespace

std::string EncodeRow(const catalog::TableDef& def, const std::vector<Value>& values, bool deleted) {
  std::string out;
  out.reserve(16 + values.size() * 10);
  out.push_back(kFormat);
  PutVarint64(&out, def.schema_version);
  out.push_back(static_cast<char>(deleted ? kDeletedFlag : 0));
  PutVarint64(&out, values.size());
  for (size_t i = 0; i < values.size() && i < def.columns.size(); ++i) {
    PutVarint64(&out, def.columns[i].column_id);
    EncodeValue(values[i], &out);
  }
  return out;
}

namespace {

// The header of an encoded version: sets row's schema version and deleted flag, leaves `in` at
// the first column and `*n` = the number of columns.
Status DecodeHeader(std::string_view* in, RowVersion* row, uint64_t* n) {
  if (in->size() < 3 || (*in)[0] != kFormat) return Status::Corruption("Unknown row version format");
  in->remove_prefix(1);
  uint64_t schema_version = 0;
  if (!GetVarint64(in, &schema_version) || in->empty()) {
    return Status::Corruption("Truncated row version");
  }
  row->schema_version = static_cast<uint32_t>(schema_version);
  row->deleted = (static_cast<uint8_t>((*in)[0]) & kDeletedFlag) != 0;
  in->remove_prefix(1);
  if (!GetVarint64(in, n)) return Status::Corruption("Truncated row version");
  return Status::OK();
}

}  // namespace

Status DecodeRowInto(const catalog::TableDef& def, std::string_view bytes, RowVersion* row,
                     const std::vector<bool>* columns) {
  // The common case without allocating: every column of `def`, in its order.
  std::string_view in = bytes;
  uint64_t n = 0;
  KALAM_RETURN_IF_ERROR(DecodeHeader(&in, row, &n));
  if (n == def.columns.size()) {
    row->values.resize(def.columns.size());
    bool in_order = true;
    for (uint64_t i = 0; i < n && in_order; ++i) {
      uint64_t column_id = 0;
      if (!GetVarint64(&in, &column_id)) return Status::Corruption("Truncated row version");
      in_order = def.columns[i].column_id == column_id;
      if (!in_order) break;
      Value& slot = row->values[i];
      const bool skip = columns && !(*columns)[i];
      if (!TryDecodeValueInto(&in, skip ? nullptr : &slot)) {
        KALAM_RETURN_IF_ERROR(DecodeRow(def, bytes).status());  // says what is malformed
        return Status::Corruption("Malformed row version");
      }
      if (skip && !slot.is_null()) slot.SetNull();
    }
    if (in_order) return Status::OK();
  }
  KALAM_ASSIGN_OR_RETURN(RowVersion decoded, DecodeRow(def, bytes));
  row->values = std::move(decoded.values);
  return Status::OK();
}

Result<RowVersion> DecodeRow(const catalog::TableDef& def, std::string_view in) {
  RowVersion row;
  if (in.size() < 3 || in[0] != kFormat) return Status::Corruption("Unknown row version format");
  in.remove_prefix(1);
  uint64_t schema_version = 0, n = 0;
  if (!GetVarint64(&in, &schema_version) || in.empty()) {
    return Status::Corruption("Truncated row version");
  }
  row.schema_version = static_cast<uint32_t>(schema_version);
  row.deleted = (static_cast<uint8_t>(in[0]) & kDeletedFlag) != 0;
  in.remove_prefix(1);
  if (!GetVarint64(&in, &n)) return Status::Corruption("Truncated row version");
  row.values.resize(def.columns.size());
  std::vector<bool> seen(def.columns.size(), false);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t column_id = 0;
    if (!GetVarint64(&in, &column_id)) return Status::Corruption("Truncated row version");
    KALAM_ASSIGN_OR_RETURN(Value v, DecodeValue(&in));
    // Column ids are assigned in ordinal order and rarely move, so try the same position first.
    size_t pos = i < def.columns.size() && def.columns[i].column_id == column_id ? i : SIZE_MAX;
    if (pos == SIZE_MAX) {
      for (size_t c = 0; c < def.columns.size(); ++c) {
        if (def.columns[c].column_id == column_id) {
          pos = c;
          break;
        }
      }
    }
    if (pos != SIZE_MAX) {
      row.values[pos] = std::move(v);
      seen[pos] = true;
    }
  }
  for (size_t c = 0; c < def.columns.size(); ++c) {
    if (!seen[c]) row.values[c] = def.columns[c].missing_value;
  }
  return row;
}

bool IsDeletedVersion(std::string_view in) {
  if (in.size() < 3 || in[0] != kFormat) return false;
  in.remove_prefix(1);
  uint64_t schema_version = 0;
  if (!GetVarint64(&in, &schema_version) || in.empty()) return false;
  return (static_cast<uint8_t>(in[0]) & kDeletedFlag) != 0;
}

std::string EncodePkEntry(int64_t seq, std::string_view row_bytes) {
  std::string out;
  out.reserve(8 + row_bytes.size());
  AppendOrderedU64(static_cast<uint64_t>(seq), &out);
  out.append(row_bytes);
  return out;
}

}  // namespace kalam::table
