// Manifest: the `manifest.json` of one table scope — the Parquet segments that hold its cold rows,
// with what pruning needs (row count, _seq range, per-column min/max).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/value.h"

namespace kalam::table {

struct ColumnRange {
  uint32_t column_id = 0;
  std::string name;
  Value min;  // Null when unknown (or every value null)
  Value max;
  int64_t null_count = 0;
};

struct SegmentEntry {
  std::string file;             // object key relative to the scope folder: "batch-1.parquet"
  int64_t id = 0;               // increasing per scope; a newer segment has a larger id
  int64_t row_count = 0;        // rows in the file, tombstones included
  int64_t tombstones = 0;       // rows with _deleted = true
  int64_t min_seq = 0;
  int64_t max_seq = 0;
  uint32_t schema_version = 0;  // table schema version the file was written with
  int64_t size_bytes = 0;
  int64_t created_at_ms = 0;    // unix ms
  std::vector<ColumnRange> columns;
};

// A vector index snapshot of the scope (vector::VectorIndexes writes it at flush and compaction;
// docs/vectors.md "Persistence"): derived data, checked against its checksum and reconciled with
// the rows when loaded, rebuilt from the rows when missing or damaged.
struct VectorIndexEntry {
  uint32_t column_id = 0;
  uint32_t index_version = 0;  // the schema version that created the index (since_version)
  std::string file;            // object key relative to the scope folder: "vectors/emb.3.hnsw"
  int64_t seq = 0;             // watermark: the newest `_seq` the snapshot holds
  int64_t vectors = 0;         // live vectors in it
  int64_t size_bytes = 0;
  std::string sha256;          // lower-case hex SHA-256 of the file
};

struct Manifest {
  int format_version = 1;
  int64_t next_segment_id = 1;
  std::vector<SegmentEntry> segments;  // oldest first
  std::vector<VectorIndexEntry> vector_indexes;  // at most one per (column_id, index_version)
};

// JSON text (stable field names; Values tagged by kind so that ints, text and bytes round-trip).
std::string EncodeManifest(const Manifest& manifest);
// kCorruption naming the field when the text is not a manifest this code wrote.
Result<Manifest> DecodeManifest(std::string_view json);

}  // namespace kalam::table
