// Encoding of one stored row version: schema version, deleted flag and values by column id, so
// that ALTER TABLE never rewrites stored data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "common/value_codec.h"

namespace kalam::table {

// One decoded version of a row, with values in the column order of the TableDef used to decode.
struct RowVersion {
  int64_t seq = 0;
  uint32_t schema_version = 0;
  bool deleted = false;
  std::vector<Value> values;
};

// Encodes `values` (in `def.columns` order) as a version of schema `def.schema_version`.
std::string EncodeRow(const catalog::TableDef& def, const std::vector<Value>& values, bool deleted);

// Decodes a version written under any schema version into `def`'s column order: columns the
// version lacks (added since) read as their missing_value (the literal DEFAULT they were added
// with, or NULL); columns `def` lacks (dropped since) are skipped.
// kCorruption on malformed bytes.
Result<RowVersion> DecodeRow(const catalog::TableDef& def, std::string_view bytes);
// The same into `*row` (seq untouched), reusing its values vector: scans decode every row into
// one RowVersion. With `columns`, only the columns it flags are decoded (the others read as NULL,
// unless the version's columns are not `def`'s in order: then every column is).
Status DecodeRowInto(const catalog::TableDef& def, std::string_view bytes, RowVersion* row,
                     const std::vector<bool>* columns = nullptr);

// Whether an encoded version is a tombstone, without decoding its values. False on malformed
// bytes (DecodeRow reports those).
bool IsDeletedVersion(std::string_view bytes);

// The `pk` partition value: 8-byte big-endian _seq followed by the encoded newest version.
std::string EncodePkEntry(int64_t seq, std::string_view row_bytes);
// Splits a `pk` value; false if it is too short. Inline: once per row a scan reads.
inline bool SplitPkEntry(std::string_view entry, int64_t* seq, std::string_view* row_bytes) {
  uint64_t s = 0;
  if (!ReadOrderedU64(&entry, &s)) return false;
  *seq = static_cast<int64_t>(s);
  *row_bytes = entry;
  return true;
}

}  // namespace kalam::table
