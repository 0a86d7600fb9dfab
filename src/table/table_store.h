// TableStore: reads and writes row versions of USER/SHARED tables in hot storage.
#pragma once

#include <memory>
#include <optional>
#include <functional>
#include <string>

#include "catalog/table_def.h"
#include "storage/kv_store.h"
#include "table/cold_store.h"
#include "table/row_codec.h"
#include "table/write_set.h"

namespace kalam::table {

// Committed rows of one table scope in primary-key order, hot versions merged over cold ones
// (on equal keys the hot version wins: it is the newer, or the same one not yet deleted after a
// flush). Tombstones included. Not thread-safe.
class RowScan {
 public:
  bool Valid() const { return valid_; }
  // Valid until Next.
  std::string_view key() const { return from_hot_ ? key_ : std::string_view(*cold_key_); }
  int64_t seq() const { return seq_; }
  bool deleted() const { return deleted_; }
  // One value per column of the TableDef scanned with; valid until Next.
  const Value* values() const { return values_; }
  // Inline once only cold rows are left (a cold scan's every row); else NextMerged.
  void Next() {
    if (valid_ && !from_hot_ && !hot_valid_) {
      cold_->Next();
      if (cold_->Valid()) {
        SetCold();
        return;
      }
      Settle();  // ends the scan (with the hot iterator's error, if it had one)
      return;
    }
    NextMerged();
  }
  Status status() const { return status_; }
  // Rows positioned on so far from the hot tier and from cold segments (EXPLAIN ANALYZE).
  int64_t hot_rows() const { return hot_rows_; }
  int64_t cold_rows() const { return cold_rows_; }

 private:
  friend class TableStore;
  void Settle();  // positions on the smaller of the hot and cold heads
  void NextMerged();
  // Positions on the cold head.
  void SetCold() {
    const ColdRowView r = cold_->row();
    cold_key_ = r.pk_key;  // the cached segment row's; read only if key() is asked
    seq_ = r.seq;
    deleted_ = r.deleted;
    values_ = r.values;
    from_hot_ = false;
    valid_ = true;
    ++cold_rows_;
  }

  const catalog::TableDef* def_ = nullptr;
  std::unique_ptr<storage::KvIterator> hot_;
  bool hot_valid_ = false;  // hot_->Valid(), kept after each move (not asked again per cold row)
  std::unique_ptr<ColdCursor> cold_;
  bool from_hot_ = false;
  bool valid_ = false;
  std::string_view key_;                  // a hot row's key
  const std::string* cold_key_ = nullptr;  // a cold row's key
  int64_t seq_ = 0;
  bool deleted_ = false;
  std::vector<bool> columns_;  // columns hot rows decode (empty: all)
  RowVersion hot_row_;  // the current hot row, decoded into the same storage every time
  const Value* values_ = nullptr;
  Status status_;
  int64_t hot_rows_ = 0, cold_rows_ = 0;
};

// Thread-safe (stateless over a thread-safe KvStore and ColdStore).
class TableStore {
 public:
  explicit TableStore(storage::KvStore& kv, ColdStore* cold = nullptr) : kv_(kv), cold_(cold) {}

  // The newest committed version of `pk_key` (a PkKey of `scope`), hot or cold, tombstones
  // included.
  Result<std::optional<RowVersion>> GetByKey(const catalog::TableDef& def, const Scope& scope,
                                             const std::string& pk_key) const;

  // Committed rows of `scope` with keys in [lower, upper), hot as of `snapshot` (latest when
  // null) merged with cold versions whose `_seq` ≤ max_seq. `bounds` only lets the cold tier
  // skip segments; callers still filter rows. `cold_stats`, when given, receives what the cold
  // tier's segment selection did. `columns`, when not empty, flags the only columns hot rows need
  // decoded (the others may read as NULL; cold rows come whole).
  Result<std::unique_ptr<RowScan>> NewScan(const catalog::TableDef& def, const Scope& scope,
                                           std::string lower, std::string upper,
                                           const storage::KvSnapshot* snapshot = nullptr,
                                           const std::vector<ColdBound>& bounds = {},
                                           int64_t max_seq = INT64_MAX,
                                           ColdScanStats* cold_stats = nullptr,
                                           std::vector<bool> columns = {}) const;

  // Calls `fn` for every live (not deleted) committed row of every scope of `def`, hot and cold;
  // stops at and returns the first error.
  Status ForEachLiveRow(const catalog::TableDef& def,
                        const std::function<Status(const std::vector<Value>&)>& fn) const;

  ColdStore* cold() const { return cold_; }

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
  ColdStore* cold_;
};

}  // namespace kalam::table
