// VectorIndexes: the vector indexes of every indexed EMBEDDING column, one HNSW graph per table
// scope (each user's rows of a USER table have their own; a SHARED table has one), loaded from
// the snapshot the scope's cold manifest names (or built from the scope's hot and cold rows) on
// first use, kept current by the commit pipeline, and written next to the cold segments at each
// flush and compaction (docs/vectors.md).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "catalog/table_def.h"
#include "commit/commit_hook.h"
#include "filestore/object_store.h"
#include "table/manifest.h"
#include "table/table_store.h"
#include "vector/hnsw_index.h"

namespace kalam::vector {

// One search result: the row's PK as text and its distance (vector::Distance of the metric).
struct Neighbor {
  std::string pk_text;
  float distance = 0;
};

// Thread-safe. As a CommitHook it is called by the commit leader; searches come from request
// threads, snapshots from flush and compaction jobs. An index is derived data: a graph is loaded
// from its snapshot (checksum verified, then reconciled with the rows by `_seq`) or built from
// the rows, so a crash, a stale, missing or damaged snapshot never loses or corrupts anything.
class VectorIndexes final : public commit::CommitHook {
 public:
  // `scratch_dir`: a local directory for snapshot files on their way to or from a storage
  // (created when missing). `store.cold()` names the snapshots (null: never loaded).
  explicit VectorIndexes(const table::TableStore& store, std::string scratch_dir = {},
                         HnswParams params = {})
      : store_(store), scratch_dir_(std::move(scratch_dir)), params_(params) {}

  // table::FlusherOptions::snapshot_vectors: for each vector index of `def`, brings the scope's
  // graph up to date (loaded or built as for a search; rebuilt from the rows when `rebuild` or
  // when removed vectors are over a fifth of its elements), writes it to `store` as
  // "<folder>/vectors/<column>.<file_id>.hnsw" and returns its manifest entry. An index with no
  // vector gets no entry; one that cannot be written keeps its entry of `current` (the failure
  // is logged); entries of indexes that no longer exist are dropped.
  std::vector<table::VectorIndexEntry> SnapshotScope(
      const catalog::TableDef& def, const table::Scope& scope, bool rebuild,
      filestore::ObjectStore& store, const std::string& folder, int64_t file_id,
      const std::vector<table::VectorIndexEntry>& current);

  // How many graphs were loaded from a snapshot rather than built from every row (tests).
  size_t snapshot_loads() const;

  // The live vectors and graph elements (live + removed) of a scope's index; nullopt when it is
  // not in memory (tests).
  std::optional<std::pair<size_t, size_t>> SizeOf(const catalog::TableDef& def, size_t column,
                                                  const table::Scope& scope);

  // The k rows of `scope` nearest to `query` in column `column` of `def`, nearest first. With an
  // index on the column the search is approximate (HNSW) and covers every committed change
  // acknowledged before the call; without one it is an exact scan of the scope (metric COSINE).
  // `ef` widens an indexed search (0 = the default). Fails with kInvalidArgument on a dimension
  // mismatch, or with the storage error of a failed scan.
  Result<std::vector<Neighbor>> Search(const catalog::TableDef& def, size_t column,
                                       const table::Scope& scope,
                                       const std::vector<float>& query, size_t k,
                                       size_t ef = 0);

  // The exact k nearest rows of `scope` under `metric` (a scan of every row).
  Result<std::vector<Neighbor>> ExactSearch(const catalog::TableDef& def, size_t column,
                                            const table::Scope& scope, VectorMetric metric,
                                            const std::vector<float>& query, size_t k) const;

  // How many in-memory indexes exist (built or being built), for tests and metrics.
  size_t index_count() const;

  // Forgets the indexes of `table` — of every column, or of `column` (a column id) only — in
  // memory, and deletes the snapshot files its cold manifests name for them: the table or the
  // index was dropped. The manifest entries go at the scope's next flush or compaction (no index
  // reads them: a new CREATE INDEX has a new version and builds afresh). Fails only when a
  // snapshot file cannot be deleted (the memory is freed all the same).
  Status Forget(catalog::TableId table, std::optional<uint32_t> column = std::nullopt);

  // CommitHook: changes to indexed columns are queued on the indexes they touch once written.
  Status OnStamped(const std::vector<table::ChangeRecord>& records,
                   storage::WriteBatch* batch) override;
  void OnWritten(const Status& written) override;

 private:
  // (table, column id, index since_version, scope).
  using Key = std::tuple<catalog::TableId, uint32_t, uint32_t, table::Scope>;
  struct Op {
    std::string pk_key;
    std::string pk_text;
    bool remove = false;
    std::vector<float> vec;
    int64_t seq = 0;
  };
  struct Entry {
    std::mutex index_mu;  // guards `index`; held while building and searching
    std::unique_ptr<HnswIndex> index;  // null until built
    std::mutex pending_mu;  // guards the members below
    std::vector<Op> pending;  // written since the entry exists, not yet in `index`
    bool overflowed = false;  // pending grew past kMaxPending: rebuild from the rows instead
  };
  static constexpr size_t kMaxPending = 50000;

  // Where a graph's snapshot is read from: the scope's storage and folder and its manifest entry.
  struct Source {
    filestore::ObjectStore* store = nullptr;
    std::string folder;
    table::VectorIndexEntry entry;
  };

  std::shared_ptr<Entry> GetEntry(const Key& key);
  // Makes entry.index current (needs entry.index_mu): built when missing, overflowed or
  // `rebuild` (from `source`'s snapshot when given and not `rebuild`, else from the rows), then
  // the queued changes applied.
  Status Prepare(const Key& key, const catalog::TableDef& def, size_t column, Entry& entry,
                 bool rebuild, const std::optional<Source>& source);
  Status Build(const Key& key, const catalog::TableDef& def, size_t column, Entry& entry,
               const std::optional<Source>& source);
  // The graph of `source`'s snapshot, checksum verified; an error when it cannot be used.
  Result<std::unique_ptr<HnswIndex>> LoadSnapshot(const Source& source, VectorMetric metric,
                                                  int dimension);
  // The snapshot the scope's current cold manifest names for `key`, if any.
  // `keep` holds the store the returned Source points to.
  std::optional<Source> ManifestSource(const Key& key,
                                       std::shared_ptr<filestore::ObjectStore>* keep);
  // Applies the entry's queued changes to its (built) graph; needs entry.index_mu.
  Status ApplyPending(Entry& entry);
  // A fresh scratch file name.
  std::string ScratchPath(std::string_view what);

  const table::TableStore& store_;
  const std::string scratch_dir_;
  const HnswParams params_;
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  size_t snapshot_loads_ = 0;                      // guarded by mu_
  uint64_t scratch_counter_ = 0;                   // guarded by mu_
  // The group between OnStamped and OnWritten (only the commit leader touches it).
  std::vector<std::pair<Key, Op>> staged_;
};

}  // namespace kalam::vector
