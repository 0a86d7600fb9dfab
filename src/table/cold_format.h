// Cold segment format: how one table scope's rows become a Parquet file and back (SQL.md §3 type
// mapping, ARCHITECTURE.md §6). A segment holds the newest version of each row, tombstones
// included, sorted by primary key, plus `_seq` and `_deleted` columns; its key-value metadata
// carries the TableDef it was written with so columns map by column id after ALTER TABLE.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "common/value.h"
#include "table/keys.h"
#include "table/manifest.h"

namespace kalam::table {

// One row version in cold storage (or on its way there).
struct ColdRow {
  std::string pk_key;  // PkKey(table, scope, pk)
  int64_t seq = 0;
  bool deleted = false;
  std::vector<Value> values;  // in the column order of the TableDef it was read/written with
};

// A row of a decoded segment: views into SegmentRows, valid while it is alive.
struct ColdRowView {
  const std::string* pk_key = nullptr;
  int64_t seq = 0;
  bool deleted = false;
  const Value* values = nullptr;  // one per column of the TableDef the segment was decoded with

  ColdRow ToRow(size_t ncols) const {
    return ColdRow{*pk_key, seq, deleted, std::vector<Value>(values, values + ncols)};
  }
};

// The rows of one segment decoded into one TableDef's column order, sorted by pk_key. Cells are
// stored contiguously (row-major) so that scans walk memory in order.
// Immutable once built; shared by readers.
struct SegmentRows {
  size_t ncols = 0;
  std::vector<std::string> keys;
  std::vector<int64_t> seqs;
  std::vector<uint8_t> deleted;
  std::vector<Value> cells;  // size() × ncols
  size_t approx_bytes = 0;   // memory held, for the segment cache

  size_t size() const { return keys.size(); }
  ColdRowView row(size_t i) const {
    return ColdRowView{&keys[i], seqs[i], deleted[i] != 0, cells.data() + i * ncols};
  }
};

struct EncodedSegment {
  std::string file;                 // the Parquet bytes
  SegmentEntry entry;    // row_count, tombstones, seq range, column ranges, schema
                                    // version, size (file/id/created_at left to the caller)
};

// Encodes `rows` (sorted by pk_key, values in `def` order) as one Parquet file with ZSTD pages.
// kInvalidArgument when a value does not fit its column (a bug upstream).
Result<EncodedSegment> EncodeSegment(const catalog::TableDef& def, const std::vector<ColdRow>& rows);

// A row as a person receives it in a data export: its `_seq` and its values (in `def` order).
struct ExportRow {
  int64_t seq = 0;
  std::vector<Value> values;
};

// Encodes `rows` as a standalone Parquet file for a data export (docs/export.md): the columns of
// `def` (same type mapping as segments) plus `_seq`, ZSTD pages, no KalamDB metadata.
// kInvalidArgument when a value does not fit its column (a bug upstream).
Result<std::string> EncodeExportParquet(const catalog::TableDef& def,
                                        const std::vector<ExportRow>& rows);

// Decodes a segment file written by EncodeSegment (under any schema version of the same table)
// into `def`'s columns; columns added since read as their missing_value, dropped ones are skipped.
// pk keys are rebuilt under `scope`. kCorruption for a file that is not such a segment.
Result<std::shared_ptr<const SegmentRows>> DecodeSegment(const catalog::TableDef& def,
                                                         const Scope& scope,
                                                         std::string_view file);

// Unscaled integer ↔ canonical decimal text ("-12.50" with scale 2 ↔ -1250), for DECIMAL columns.
bool DecimalTextToUnscaled(std::string_view text, int scale, __int128* out);
std::string DecimalUnscaledToText(__int128 v, int scale);

}  // namespace kalam::table
