// The replicated form of one commit group: its KV writes, its `_seq` watermark and its change
// records, as the payload of a `commit_group` Raft log entry (cluster::LogEntry, which adds the
// version-independent envelope and the CRC). Versioned, so a later format can be read beside it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/status.h"
#include "storage/kv_store.h"
#include "table/change_record.h"

namespace kalam::replication {

// The payload format EncodeCommitGroup writes; DecodeCommitGroup refuses any other.
inline constexpr uint8_t kCommitGroupFormat = 1;

// A change record names its table by id and schema version; the applying replica resolves the
// definition (from its catalog). Its errors mean (docs/cluster.md, Apply path):
//   kUnavailable   — not known yet: the meta group has not applied that CREATE / ALTER here; the
//                    entry is held and tried again later;
//   kTableNotFound — never will be: the catalog knows the table was dropped; the table's records
//                    and keys are left out of the group (SkippedTables);
//   anything else  — a failure that stops the replica.
using TableResolver = std::function<Result<std::shared_ptr<const catalog::TableDef>>(
    catalog::TableId table, uint32_t schema_version)>;

struct CommitGroup {
  storage::WriteBatch batch;
  std::vector<table::ChangeRecord> records;
  int64_t max_seq = 0;  // the largest `_seq` stamped in the group
  // Tables the resolver answered kTableNotFound for (dropped): their records and their `rows`,
  // `pk`, `stream` and cold-manifest keys are not in `records` / `batch`. Ascending, unique.
  std::vector<catalog::TableId> skipped_tables;
};

// Format 1, all integers LEB128 varints (signed ones zigzagged):
//   format(1 byte) max_seq
//   op count, then per op: kind(1) partition(1) key length, key, value length, value
//   record count, then per record: table id, schema version, scope length, scope, change kind(1),
//     seq, previous seq, value count, values (EncodeValue cells), old value count, old values
std::string EncodeCommitGroup(const storage::WriteBatch& batch,
                              const std::vector<table::ChangeRecord>& records, int64_t max_seq);

// Parses a payload EncodeCommitGroup wrote. kCorruption, saying what is wrong, on an unknown
// format, a truncated or overlong payload, an unknown op kind, partition or change kind, or a
// bad value cell; the resolver's error (with the table named, its code kept) when a record's
// table cannot be resolved, except kTableNotFound, which leaves the table out (skipped_tables).
Result<CommitGroup> DecodeCommitGroup(std::string_view payload, const TableResolver& resolve);

}  // namespace kalam::replication
