// StreamStore: the rows of STREAM tables in the `stream` partition (docs/streams.md) — scans that
// hide expired rows (TTL) and delete markers, eviction of expired keys, and the per-group writer
// the commit pipeline uses for stream rows (delete re-checks, MAX_ROWS_PER_USER, EPHEMERAL).
//
// Layout: key StreamKey(table, scope, _seq), value EncodeRow(row, deleted). An insert writes the
// row at its `_seq`. A DELETE writes a delete marker (the deleted row, flagged deleted) at the
// delete's own `_seq` and removes the row's key in the same batch, so a resume by `_seq` meets the
// delete at its place. A row is visible while SnowflakeMillis(_seq) + TTL > now; markers expire
// the same way. Keys of a scope are in `_seq` (= time) order, so everything expired in a scope is
// one key range.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "storage/kv_store.h"
#include "table/flusher.h"
#include "table/keys.h"
#include "table/row_codec.h"
#include "table/write_set.h"

namespace kalam::table {

// The smallest `_seq` still visible at `now_ms` under `ttl_seconds`: a row with a smaller `_seq`
// has expired (SnowflakeMillis(_seq) + ttl·1000 ≤ now_ms).
int64_t StreamCutoffSeq(uint32_t ttl_seconds, int64_t now_ms);

// Entries of one stream scope in `_seq` order. Not thread-safe; owned by one reader.
class StreamScan {
 public:
  bool Valid() const { return valid_; }
  int64_t seq() const { return seq_; }
  bool deleted() const { return deleted_; }
  // One value per column of the TableDef scanned with; valid until Next.
  const std::vector<Value>& values() const { return values_; }
  void Next();
  // Non-OK when the scan stopped on an error (read or decode), not at the end.
  Status status() const { return status_; }

 private:
  friend class StreamStore;
  void Settle();  // decodes the iterator's entry, skipping markers unless include_deleted_

  const catalog::TableDef* def_ = nullptr;
  std::unique_ptr<storage::KvIterator> it_;
  bool include_deleted_ = false;
  bool valid_ = false;
  int64_t seq_ = 0;
  bool deleted_ = false;
  std::vector<Value> values_;
  Status status_;
};

// What one eviction removed: `entries` counts the stored entries below the cutoff — rows and
// delete markers — across `scopes` user scopes.
struct StreamEviction {
  uint64_t entries = 0;
  uint64_t scopes = 0;
};

// Thread-safe (stateless over a thread-safe KvStore).
class StreamStore {
 public:
  explicit StreamStore(storage::KvStore& kv) : kv_(kv) {}

  // Entries of `scope` with `_seq` in [min_seq, max_seq] that have not expired at `now_ms`, read
  // as of `snapshot` (latest when null); delete markers only when `include_deleted`.
  Result<std::unique_ptr<StreamScan>> NewScan(const catalog::TableDef& def, const Scope& scope,
                                              int64_t min_seq, int64_t max_seq, int64_t now_ms,
                                              bool include_deleted,
                                              const storage::KvSnapshot* snapshot = nullptr) const;

  // The row stored at `_seq` = seq in `scope` (a delete marker included), or nullopt.
  Result<std::optional<RowVersion>> Get(const catalog::TableDef& def, const Scope& scope,
                                        int64_t seq) const;

  // Whether any entry of `def` has expired at `now_ms`: one seek per scope.
  Result<bool> HasExpired(const catalog::TableDef& def, int64_t now_ms) const;

  // Deletes every entry of `def` that has expired at `now_ms`: per scope one range deletion up
  // to the cutoff, all in one batch, written through `gate` (so no commit group is written at the
  // same time) when given. Scopes are found by seeking to each scope's successor.
  Result<StreamEviction> EvictExpired(const catalog::TableDef& def, int64_t now_ms,
                                      WriterGate* gate) const;

 private:
  storage::KvStore& kv_;
};

// Whether (table, scope) has a live subscriber: installed by the live module, asked for inserts
// into EPHEMERAL streams. Must be quick and thread-safe.
using StreamSubscriberPredicate = std::function<bool(TableId, const Scope&)>;

// The stream rows of one commit group, for the commit pipeline's leader: re-checks them against
// what is committed or written earlier in the group, and adds their writes. Not thread-safe: one
// per group.
class StreamGroupWriter {
 public:
  // `has_subscriber` may be null (then EPHEMERAL inserts are always dropped).
  StreamGroupWriter(storage::KvStore& kv, const StreamSubscriberPredicate* has_subscriber)
      : kv_(kv), has_subscriber_(has_subscriber) {}

  // Checks `row` (a staged stream insert or delete): kConflict when the row a delete read is gone
  // (deleted or evicted since); loads what an insert into a MAX_ROWS_PER_USER stream needs.
  // Changes nothing the group has written.
  Status Check(const StagedRow& row);

  // Adds the writes that commit `row` (checked) as `seq`. Returns false when nothing is written:
  // an insert into an EPHEMERAL stream with no subscriber on (table, scope), which is then
  // acknowledged without a change record.
  bool Append(const StagedRow& row, int64_t seq, storage::WriteBatch* batch);

 private:
  // The stored rows (not markers) of one capped scope, oldest first, as this group leaves them.
  struct CappedScope {
    std::vector<std::string> keys;  // in `_seq` order
    size_t front = 0;                // keys[…front) were evicted by this group
    size_t stored = 0;               // keys[front…) not deleted by this group
  };
  using ScopeId = std::pair<TableId, Scope>;

  storage::KvStore& kv_;
  const StreamSubscriberPredicate* has_subscriber_;
  std::set<std::string> gone_;  // keys this group deleted or evicted
  std::map<ScopeId, CappedScope> capped_;
};

}  // namespace kalam::table
