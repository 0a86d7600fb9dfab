// TableStore reads and commit writes.
#include "table/table_store.h"

namespace kalam::table {

using storage::Partition;

Result<std::optional<RowVersion>> TableStore::GetByKey(const catalog::TableDef& def,
                                                       const std::string& pk_key) const {
  KALAM_ASSIGN_OR_RETURN(auto entry, kv_.Get(Partition::kPk, pk_key));
  if (!entry) return std::optional<RowVersion>();
  int64_t seq = 0;
  std::string_view bytes;
  if (!SplitPkEntry(*entry, &seq, &bytes)) return Status::Corruption("Truncated pk entry");
  KALAM_ASSIGN_OR_RETURN(RowVersion row, DecodeRow(def, bytes));
  row.seq = seq;
  return std::optional<RowVersion>(std::move(row));
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
