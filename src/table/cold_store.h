// ColdStore: the cold tier of USER and SHARED tables — each table scope's Parquet segments and
// manifest, the in-memory segment cache, and reads of cold rows (point lookups and ordered scans
// that pick the newest version per primary key across segments).
//
// Source of truth: the manifest of each scope is kept in the `meta` partition (key
// "cold/" · table id · scope) and mirrored as `manifest.json` in the scope's storage folder for
// external readers. A manifest becomes visible to readers (Install) before the hot versions it
// replaces are deleted, so a reader that takes its hot view first and its cold view second never
// misses a row (it may see one in both; merged reads prefer hot on equal keys).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/storage_catalog.h"
#include "catalog/table_def.h"
#include "filestore/object_store.h"
#include "storage/kv_store.h"
#include "table/cold_format.h"
#include "table/manifest.h"
#include "table/row_codec.h"

namespace kalam::table {

// A scope's manifest and where its files live.
struct ScopeManifest {
  std::string storage_id;
  std::string folder;  // relative folder inside the storage ("chat/messages/u1")
  Manifest manifest;
};

// A comparison a scan is known to apply, used to skip segments by their column statistics.
struct ColdBound {
  enum class Op : uint8_t { kEq, kGt, kGe, kLt, kLe };
  int column = 0;  // index into TableDef::columns
  Op op = Op::kEq;
  Value operand;   // in the column's stored form
};

// Cold rows of one scope in [lower, upper) in key order, newest version per key (≤ max_seq),
// tombstones included. Not thread-safe; keeps the segments it reads alive.
class ColdCursor {
 public:
  bool Valid() const { return current_ != nullptr; }
  // The current row; valid until Next.
  ColdRowView row() const { return current_->row(current_index_); }
  // Inline for one segment (no merge: a scan's common case, once per row).
  void Next() {
    if (heads_.size() != 1) return NextMerged();
    Head& h = heads_[0];
    while (h.pos < h.end) {
      const size_t i = h.pos++;
      if (h.rows->seqs[i] <= max_seq_) {
        current_ = h.rows.get();
        current_index_ = i;
        return;
      }
    }
    current_ = nullptr;
  }

 private:
  friend class ColdStore;
  void NextMerged();  // the newest version of the smallest key among several segments'

  struct Head {
    std::shared_ptr<const SegmentRows> rows;
    size_t pos = 0;
    size_t end = 0;
  };
  std::vector<Head> heads_;  // oldest segment first
  int64_t max_seq_ = INT64_MAX;
  const SegmentRows* current_ = nullptr;
  size_t current_index_ = 0;
};

// What a scan's segment selection did (EXPLAIN, docs/explain.md): of the scope's segments, how
// many it reads, how many it skips because their key range misses the scan's, and how many it
// skips because their column statistics exclude every row the bounds allow.
struct ColdScanStats {
  int64_t segments = 0;           // in the scope's manifest
  int64_t read = 0;
  // Includes segments newer than the scan's snapshot, and empty ones.
  int64_t skipped_key_range = 0;
  int64_t skipped_stats = 0;
  void Add(const ColdScanStats& o) {
    segments += o.segments;
    read += o.read;
    skipped_key_range += o.skipped_key_range;
    skipped_stats += o.skipped_stats;
  }
};

struct ColdStats {
  int64_t segments = 0;
  int64_t rows = 0;        // rows in segments, tombstones included
  int64_t tombstones = 0;
  int64_t bytes = 0;
  int64_t last_flush_at_ms = 0;
};

// Thread-safe.
class ColdStore {
 public:
  // `cache_bytes`: memory budget of decoded segments kept for reuse (least recently used are
  // dropped first).
  ColdStore(storage::KvStore& kv, const catalog::StorageCatalog& storages, size_t cache_bytes);

  // Loads every scope manifest from the `meta` partition.
  Status Load();

  // ---- reads ----
  // The current manifest of a scope, or null when it has no cold rows.
  std::shared_ptr<const ScopeManifest> Get(catalog::TableId table, const Scope& scope) const;
  // Every scope of `table` that has a manifest, with it.
  std::vector<std::pair<Scope, std::shared_ptr<const ScopeManifest>>> ScopesOf(
      catalog::TableId table) const;
  bool HasTable(catalog::TableId table) const;
  // Every scope manifest of every table (a backup's list of cold files). Taken while flushes and
  // compactions are held off (CommitPipeline::RunExclusive), it equals what `meta` holds.
  std::vector<std::shared_ptr<const ScopeManifest>> AllManifests() const;
  ColdStats StatsOf(catalog::TableId table) const;

  // The newest cold version of `pk_key` with `_seq` ≤ max_seq (tombstones included), or nullopt.
  Result<std::optional<RowVersion>> Find(const catalog::TableDef& def, const Scope& scope,
                                         const std::string& pk_key,
                                         int64_t max_seq = INT64_MAX);

  // A cursor over the scope's cold rows in [lower, upper). Segments that cannot hold a row in
  // range, or whose statistics exclude every row satisfying `bounds`, are not read (a segment is
  // only skipped by `bounds` when no older segment it could shadow is read).
  // When `stats` is given, adds what the selection of segments did to it.
  Result<std::unique_ptr<ColdCursor>> Scan(const catalog::TableDef& def, const Scope& scope,
                                           const std::string& lower, const std::string& upper,
                                           const std::vector<ColdBound>& bounds = {},
                                           int64_t max_seq = INT64_MAX,
                                           ColdScanStats* stats = nullptr);
  // The segments Scan would read for the same arguments, counted in the returned stats, without
  // reading any (EXPLAIN); `files`, when given, receives their file names, oldest first.
  ColdScanStats PlanScan(const catalog::TableDef& def, const Scope& scope,
                         const std::string& lower, const std::string& upper,
                         const std::vector<ColdBound>& bounds = {},
                         int64_t max_seq = INT64_MAX,
                         std::vector<std::string>* files = nullptr) const;

  // Decoded rows of one segment (cached).
  Result<std::shared_ptr<const SegmentRows>> LoadSegment(const catalog::TableDef& def,
                                                         const Scope& scope,
                                                         const ScopeManifest& sm,
                                                         const SegmentEntry& seg);

  // ---- flush and compaction ----
  // The storage and folder where a scope of `def` is flushed to (its table's storage and path
  // template). kNotFound when the storage is gone; kInvalidArgument when a template value is unsafe.
  Result<std::pair<std::string, std::string>> Locate(const catalog::TableDef& def,
                                                     const Scope& scope) const;
  // The opened object store of a storage (cached per storage version).
  Result<std::shared_ptr<filestore::ObjectStore>> StoreFor(const std::string& storage_id);

  // Adds the persistence of `sm` (or, when null, its removal) to `batch`.
  static void StageManifest(catalog::TableId table, const Scope& scope, const ScopeManifest* sm,
                            storage::WriteBatch* batch);
  // Makes `sm` (null = none) the scope's manifest for readers; returns the previous one.
  std::shared_ptr<const ScopeManifest> Install(catalog::TableId table, const Scope& scope,
                                               std::shared_ptr<const ScopeManifest> sm);
  // Writes a batch that may hold staged manifests (a flush or compaction step, or a replicated
  // entry applied on a cluster replica): makes every manifest `batch` stages (its StageManifest
  // puts and deletes) visible first, then calls `write` (which writes `batch`); when `write`
  // fails the previous manifests are reinstalled. Visible before the hot deletions are written,
  // as for Install. kCorruption, nothing installed or written, for a staged manifest that does not
  // decode. A batch staging none is just written.
  Status ApplyTieringBatch(const storage::WriteBatch& batch, const std::function<Status()>& write);
  // Adds removal of every manifest of `table` to `batch`.
  static void StageDropTable(catalog::TableId table, storage::WriteBatch* batch);
  // Forgets a dropped table's manifests and cached segments, and deletes its files (best effort:
  // failures are logged by the caller through the returned status). While deletes are held
  // (HoldDeletes) the files are deleted when the last hold is released instead.
  Status ForgetTable(catalog::TableId table);

  // A backup copying segment files outside the exclusive step holds deletes, so a file named by
  // the manifests it read stays until it was copied: taken under the same lock AllManifests
  // reads, any file a manifest named at that point is then deleted only after ReleaseDeletes.
  // Holds nest; the release of the last one deletes what ForgetTable deferred (the first failure
  // is returned; such a file is named by no manifest, so it only costs space). Compaction's
  // obsolete files (JobSystem) are kept while DeletesHeld().
  void HoldDeletes();
  Status ReleaseDeletes();
  bool DeletesHeld() const;

 private:
  using Key = std::pair<catalog::TableId, Scope>;
  // Deletes each (storage id, key); the first failure, after trying all.
  Status DeleteKeys(const std::vector<std::pair<std::string, std::string>>& keys);
  struct CacheEntry {
    std::shared_ptr<const SegmentRows> rows;
    std::list<std::string>::iterator lru;
  };

  storage::KvStore& kv_;
  const catalog::StorageCatalog& storages_;
  const size_t cache_bytes_;

  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<const ScopeManifest>> manifests_;  // guarded by mu_
  std::unordered_map<std::string, std::pair<uint64_t, std::shared_ptr<filestore::ObjectStore>>>
      stores_;  // guarded by mu_: storage id → (storage catalog version, store)
  int delete_holds_ = 0;  // guarded by mu_
  std::vector<std::pair<std::string, std::string>> deferred_deletes_;  // guarded by mu_: (storage, key)

  std::mutex cache_mu_;
  std::unordered_map<std::string, CacheEntry> cache_;  // guarded by cache_mu_
  std::list<std::string> lru_;                         // guarded by cache_mu_: front = newest
  size_t cached_bytes_ = 0;                            // guarded by cache_mu_
};

}  // namespace kalam::table
