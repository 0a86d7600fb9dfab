// VectorIndexes: building, maintaining and searching the per-scope HNSW indexes.
#include "vector/vector_indexes.h"

#include <algorithm>
#include <queue>

#include "commit/commit_pipeline.h"  // PkDisplay
#include "table/keys.h"
#include "vector/vector_math.h"

namespace kalam::vector {

namespace {

// Keeps the k smallest distances seen (a max-heap on distance).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(float distance, const Value& pk) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push({distance, commit::PkDisplay(pk)});
    } else if (distance < heap_.top().first) {
      heap_.pop();
      heap_.push({distance, commit::PkDisplay(pk)});
    }
  }
  std::vector<Neighbor> Take() {
    std::vector<Neighbor> out(heap_.size());
    for (size_t i = out.size(); i-- > 0;) {
      out[i] = Neighbor{heap_.top().second, heap_.top().first};
      heap_.pop();
    }
    return out;
  }

 private:
  size_t k_;
  std::priority_queue<std::pair<float, std::string>> heap_;
};

Status DimensionError(const catalog::TableDef& def, size_t column, size_t got) {
  return Status::InvalidArgument("Query vector has " + std::to_string(got) +
                                 " dimensions but column '" + def.columns[column].name +
                                 "' of table '" + def.QualifiedName() + "' is EMBEDDING(" +
                                 std::to_string(def.columns[column].type.dimension) + ")");
}

// Calls fn(pk, vector) for every live row of `scope` whose `column` holds a vector.
template <typename Fn>
Status ForEachVector(const table::TableStore& store, const catalog::TableDef& def, size_t column,
                     const table::Scope& scope, Fn fn) {
  const std::string prefix = table::ScopePrefix(def.table_id, scope);
  KALAM_ASSIGN_OR_RETURN(auto scan, store.NewScan(def, scope, prefix,
                                                  table::PrefixSuccessor(prefix)));
  const size_t pk = def.pk_index();
  std::vector<float> v;
  for (; scan->Valid(); scan->Next()) {
    if (scan->deleted()) continue;
    if (!DecodeEmbedding(scan->values()[column], &v)) continue;
    KALAM_RETURN_IF_ERROR(fn(scan->key(), scan->values()[pk], v));
  }
  return scan->status();
}

}  // namespace

Result<std::vector<Neighbor>> VectorIndexes::ExactSearch(const catalog::TableDef& def,
                                                         size_t column, const table::Scope& scope,
                                                         VectorMetric metric,
                                                         const std::vector<float>& query,
                                                         size_t k) const {
  if (static_cast<int>(query.size()) != def.columns[column].type.dimension) {
    return DimensionError(def, column, query.size());
  }
  TopK top(k);
  KALAM_RETURN_IF_ERROR(ForEachVector(
      store_, def, column, scope,
      [&](std::string_view, const Value& pk, const std::vector<float>& v) {
        if (v.size() == query.size()) {
          top.Offer(Distance(metric, v.data(), query.data(), v.size()), pk);
        }
        return Status::OK();
      }));
  return top.Take();
}

Result<std::vector<Neighbor>> VectorIndexes::Search(const catalog::TableDef& def, size_t column,
                                                    const table::Scope& scope,
                                                    const std::vector<float>& query, size_t k,
                                                    size_t ef) {
  const auto& index_def = def.columns[column].vector_index;
  if (!index_def) return ExactSearch(def, column, scope, VectorMetric::kCosine, query, k);
  if (static_cast<int>(query.size()) != def.columns[column].type.dimension) {
    return DimensionError(def, column, query.size());
  }
  std::shared_ptr<Entry> entry =
      GetEntry(Key{def.table_id, def.columns[column].column_id, index_def->since_version, scope});
  std::lock_guard index_lock(entry->index_mu);
  std::vector<Op> ops;
  bool rebuild = false;
  {
    std::lock_guard lock(entry->pending_mu);
    rebuild = entry->overflowed;
    if (rebuild) {  // the rows hold everything the dropped queue held
      entry->overflowed = false;
      entry->pending.clear();
    }
  }
  if (rebuild || !entry->index) {
    // Ops queued from here on are replayed after the scan: an op for a row the scan already saw
    // sets the vector it read (or a newer one), so replaying is idempotent.
    entry->index.reset();
    Status built = Build(def, column, scope, *entry);
    if (!built.ok()) {
      entry->index.reset();
      return built;
    }
  }
  {
    std::lock_guard lock(entry->pending_mu);
    ops.swap(entry->pending);
  }
  for (const Op& op : ops) {
    if (op.remove) {
      entry->index->Remove(op.pk_key);
    } else {
      Status added = entry->index->Upsert(op.pk_key, op.pk_text, op.vec);
      if (!added.ok()) {
        entry->index.reset();  // rebuilt from the rows by the next search
        return added;
      }
    }
  }
  KALAM_ASSIGN_OR_RETURN(auto hits, entry->index->Search(query, k, ef));
  std::vector<Neighbor> out;
  out.reserve(hits.size());
  for (auto& h : hits) out.push_back(Neighbor{std::move(h.pk_text), h.distance});
  return out;
}

Status VectorIndexes::Build(const catalog::TableDef& def, size_t column, const table::Scope& scope,
                            Entry& entry) {
  auto index = std::make_unique<HnswIndex>(def.columns[column].vector_index->metric,
                                           def.columns[column].type.dimension, params_);
  KALAM_RETURN_IF_ERROR(ForEachVector(
      store_, def, column, scope,
      [&](std::string_view key, const Value& pk, const std::vector<float>& v) {
        return index->Upsert(std::string(key), commit::PkDisplay(pk), v);
      }));
  entry.index = std::move(index);
  return Status::OK();
}

std::shared_ptr<VectorIndexes::Entry> VectorIndexes::GetEntry(const Key& key) {
  std::lock_guard lock(mu_);
  auto& slot = entries_[key];
  if (!slot) slot = std::make_shared<Entry>();
  return slot;
}

size_t VectorIndexes::index_count() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

Status VectorIndexes::OnStamped(const std::vector<table::ChangeRecord>& records,
                                storage::WriteBatch*) {
  staged_.clear();
  for (const auto& rec : records) {
    const catalog::TableDef& def = *rec.table;
    if (def.type != catalog::TableType::kUser && def.type != catalog::TableType::kShared) continue;
    for (size_t c = 0; c < def.columns.size(); ++c) {
      const auto& index_def = def.columns[c].vector_index;
      if (!index_def || c >= rec.values.size()) continue;
      const Value& pk = rec.values[def.pk_index()];
      Op op;
      op.pk_key = table::PkKey(def.table_id, rec.scope, pk);
      op.pk_text = commit::PkDisplay(pk);
      op.remove = rec.kind == table::ChangeKind::kDelete || !DecodeEmbedding(rec.values[c], &op.vec);
      staged_.emplace_back(Key{def.table_id, def.columns[c].column_id, index_def->since_version,
                               rec.scope},
                           std::move(op));
    }
  }
  return Status::OK();
}

void VectorIndexes::OnWritten(const Status& written) {
  if (!written.ok() || staged_.empty()) {
    staged_.clear();
    return;
  }
  // Only indexes that exist get the ops: one built later reads the rows themselves.
  std::vector<std::pair<std::shared_ptr<Entry>, Op*>> targets;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, op] : staged_) {
      auto it = entries_.find(key);
      if (it != entries_.end()) targets.emplace_back(it->second, &op);
    }
  }
  for (auto& [entry, op] : targets) {
    std::lock_guard lock(entry->pending_mu);
    if (entry->overflowed) continue;
    if (entry->pending.size() >= kMaxPending) {
      entry->overflowed = true;
      entry->pending.clear();
      continue;
    }
    entry->pending.push_back(std::move(*op));
  }
  staged_.clear();
}

}  // namespace kalam::vector
