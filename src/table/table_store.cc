// TableStore reads and commit writes.
#include "table/table_store.h"

namespace kalam::table {

using storage::Partition;

Result<std::optional<RowVersion>> TableStore::GetByKey(const catalog::TableDef& def,
                                                       const Scope& scope,
                                                       const std::string& pk_key) const {
  KALAM_ASSIGN_OR_RETURN(auto entry, kv_.Get(Partition::kPk, pk_key));
  if (!entry) {
    if (cold_) return cold_->Find(def, scope, pk_key);
    return std::optional<RowVersion>();
  }
  int64_t seq = 0;
  std::string_view bytes;
  if (!SplitPkEntry(*entry, &seq, &bytes)) return Status::Corruption("Truncated pk entry");
  KALAM_ASSIGN_OR_RETURN(RowVersion row, DecodeRow(def, bytes));
  row.seq = seq;
  return std::optional<RowVersion>(std::move(row));
}

void RowScan::Settle() {
  valid_ = false;
  while (true) {
    const bool hot_ok = hot_valid_;
    const bool cold_ok = cold_ && cold_->Valid();
    if (!hot_ok && !cold_ok) {
      if (hot_ && !hot_->status().ok()) status_ = hot_->status();
      return;
    }
    int cmp = 0;
    if (hot_ok && cold_ok) {
      cmp = hot_->key().compare(*cold_->row().pk_key);
    } else {
      cmp = hot_ok ? -1 : 1;
    }
    if (cmp <= 0) {
      if (cmp == 0) cold_->Next();  // the same row, or an older version of it
      int64_t seq = 0;
      std::string_view bytes;
      if (!SplitPkEntry(hot_->value(), &seq, &bytes)) {
        status_ = Status::Corruption("Truncated pk entry");
        return;
      }
      if (Status s = DecodeRowInto(*def_, bytes, &hot_row_,
                                   columns_.empty() ? nullptr : &columns_);
          !s.ok()) {
        status_ = std::move(s);
        return;
      }
      key_ = hot_->key();
      seq_ = seq;
      deleted_ = hot_row_.deleted;
      values_ = hot_row_.values.data();
      from_hot_ = true;
      ++hot_rows_;
      valid_ = true;
    } else {
      SetCold();
    }
    return;
  }
}

void RowScan::NextMerged() {
  if (!valid_) return;
  if (from_hot_) {
    hot_->Next();
    hot_valid_ = hot_->Valid();
  } else {
    cold_->Next();
  }
  Settle();
}

Result<std::unique_ptr<RowScan>> TableStore::NewScan(const catalog::TableDef& def,
                                                     const Scope& scope, std::string lower,
                                                     std::string upper,
                                                     const storage::KvSnapshot* snapshot,
                                                     const std::vector<ColdBound>& bounds,
                                                     int64_t max_seq,
                                                     ColdScanStats* cold_stats,
                                                     std::vector<bool> columns) const {
  auto scan = std::unique_ptr<RowScan>(new RowScan());
  scan->def_ = &def;
  scan->columns_ = std::move(columns);
  // Hot view first, cold view second (see cold_store.h): a flush completing in between can only
  // make a row appear in both, never in neither.
  scan->hot_ = NewPkIterator(lower, upper, snapshot);
  scan->hot_->Seek(lower);
  scan->hot_valid_ = scan->hot_->Valid();
  if (cold_) {
    KALAM_ASSIGN_OR_RETURN(scan->cold_, cold_->Scan(def, scope, lower, upper, bounds, max_seq,
                                                         cold_stats));
  }
  scan->Settle();
  KALAM_RETURN_IF_ERROR(scan->status());
  return scan;
}

Status TableStore::ForEachLiveRow(
    const catalog::TableDef& def,
    const std::function<Status(const std::vector<Value>&)>& fn) const {
  auto it = NewPkIterator(TableBegin(def.table_id), TableEnd(def.table_id));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    int64_t seq = 0;
    std::string_view bytes;
    if (!SplitPkEntry(it->value(), &seq, &bytes)) return Status::Corruption("Truncated pk entry");
    KALAM_ASSIGN_OR_RETURN(RowVersion row, DecodeRow(def, bytes));
    if (!row.deleted) KALAM_RETURN_IF_ERROR(fn(row.values));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  if (!cold_) return Status::OK();
  // Cold rows not superseded by a hot version.
  for (const auto& [scope, sm] : cold_->ScopesOf(def.table_id)) {
    const std::string prefix = ScopePrefix(def.table_id, scope);
    KALAM_ASSIGN_OR_RETURN(auto cursor,
                           cold_->Scan(def, scope, prefix, PrefixSuccessor(prefix)));
    for (; cursor->Valid(); cursor->Next()) {
      const ColdRowView r = cursor->row();
      if (r.deleted) continue;
      KALAM_ASSIGN_OR_RETURN(auto hot, kv_.Get(Partition::kPk, *r.pk_key));
      if (hot) continue;
      KALAM_RETURN_IF_ERROR(fn(std::vector<Value>(r.values, r.values + def.columns.size())));
    }
  }
  return Status::OK();
}

std::unique_ptr<storage::KvIterator> TableStore::NewPkIterator(
    std::string lower, std::string upper, const storage::KvSnapshot* snapshot) const {
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = std::move(lower);
  ro.upper_bound = std::move(upper);
  return kv_.NewIterator(Partition::kPk, ro);
}

void TableStore::AppendCommit(const StagedRow& row, int64_t seq, storage::WriteBatch* batch) {
  std::string bytes = EncodeRow(*row.table, row.live ? row.values : row.base_values, !row.live);
  batch->Put(Partition::kRows, RowKey(row.table->table_id, row.scope, seq), bytes);
  batch->Put(Partition::kPk, row.pk_key, EncodePkEntry(seq, bytes));
}

void TableStore::AppendDropTable(catalog::TableId table, storage::WriteBatch* batch) {
  for (Partition p : {Partition::kRows, Partition::kPk, Partition::kStream}) {
    batch->DeleteRange(p, TableBegin(table), TableEnd(table));
  }
}

}  // namespace kalam::table
