// TableStore: reads and writes row versions of USER/SHARED tables in hot storage.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "catalog/table_def.h"
#include "storage/kv_store.h"
#include "table/row_codec.h"
#include "table/write_set.h"

namespace kalam::table {

// Thread-safe (stateless over a thread-safe KvStore).
class TableStore {
 public:
  explicit TableStore(storage::KvStore& kv) : kv_(kv) {}

  // The newest committed version stored under `pk_key` (a PkKey), tombstones included.
  Result<std::optional<RowVersion>> GetByKey(const catalog::TableDef& def,
                                             const std::string& pk_key) const;

  // An iterator over the `pk` partition limited to [lower, upper); each value splits with
  // SplitPkEntry and decodes with DecodeRow.
  // Reads as of `snapshot` when given (else the latest state).
  std::unique_ptr<storage::KvIterator> NewPkIterator(
      std::string lower, std::string upper, const storage::KvSnapshot* snapshot = nullptr) const;

  // Adds the writes that commit `row` as version `seq` (a new `rows` version and the `pk`
  // entry). Requires row.kind() to have a value.
  static void AppendCommit(const StagedRow& row, int64_t seq, storage::WriteBatch* batch);

  // Adds deletions of every hot key of `table`.
  static void AppendDropTable(catalog::TableId table, storage::WriteBatch* batch);

  storage::KvStore& kv() const { return kv_; }

 private:
  storage::KvStore& kv_;
};

}  // namespace kalam::table
