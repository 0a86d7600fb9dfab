// VectorIndexes: the vector indexes of every indexed EMBEDDING column, one HNSW graph per table
// scope (each user's rows of a USER table have their own; a SHARED table has one), built from the
// scope's hot and cold rows on first use and kept current by the commit pipeline (docs/vectors.md).
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
#include "table/table_store.h"
#include "vector/hnsw_index.h"

namespace kalam::vector {

// One search result: the row's PK as text and its distance (vector::Distance of the metric).
struct Neighbor {
  std::string pk_text;
  float distance = 0;
};

// Thread-safe. As a CommitHook it is called by the commit leader; searches come from request
// threads. An index is derived data: it lives in memory, SaveAll writes snapshots (at shutdown),
// and a graph is loaded from its snapshot and reconciled with the rows, or built from the rows,
// on its first search; so a crash or a stale snapshot never loses or corrupts anything.
class VectorIndexes final : public commit::CommitHook {
 public:
  // `snapshot_dir`: where snapshots are written and read (created when missing); empty = none.
  explicit VectorIndexes(const table::TableStore& store, std::string snapshot_dir = {},
                         HnswParams params = {})
      : store_(store), snapshot_dir_(std::move(snapshot_dir)), params_(params) {}

  // Writes a snapshot of every built graph (after applying its queued changes). Returns the first
  // error; the other graphs are still written.
  Status SaveAll();

  // How many graphs were loaded from a snapshot rather than built from every row (tests).
  size_t snapshot_loads() const;

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
  // memory and their snapshot files: the table or the index was dropped. A search after a new
  // CREATE INDEX builds afresh. Fails only when a snapshot file cannot be deleted (the memory is
  // freed all the same; the file is named by no index again).
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

  std::shared_ptr<Entry> GetEntry(const Key& key);
  Status Build(const Key& key, const catalog::TableDef& def, size_t column, Entry& entry);
  // Applies the entry's queued changes to its (built) graph; needs entry.index_mu.
  Status ApplyPending(Entry& entry);
  // The snapshot file of `key` ("" without a snapshot directory).
  std::string SnapshotPath(const Key& key) const;

  const table::TableStore& store_;
  const std::string snapshot_dir_;
  const HnswParams params_;
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  size_t snapshot_loads_ = 0;                      // guarded by mu_
  // The group between OnStamped and OnWritten (only the commit leader touches it).
  std::vector<std::pair<Key, Op>> staged_;
};

}  // namespace kalam::vector
