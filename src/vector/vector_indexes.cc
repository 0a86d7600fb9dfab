// VectorIndexes: building, maintaining and searching the per-scope HNSW indexes.
#include "vector/vector_indexes.h"

#include <algorithm>
#include <filesystem>
#include <queue>
#include <set>

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
    KALAM_RETURN_IF_ERROR(fn(scan->key(), scan->values()[pk], v, scan->seq()));
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
      [&](std::string_view, const Value& pk, const std::vector<float>& v, int64_t) {
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
  const Key key{def.table_id, def.columns[column].column_id, index_def->since_version, scope};
  std::shared_ptr<Entry> entry = GetEntry(key);
  std::lock_guard index_lock(entry->index_mu);
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
    Status built = Build(key, def, column, *entry);
    if (!built.ok()) {
      entry->index.reset();
      return built;
    }
  }
  KALAM_RETURN_IF_ERROR(ApplyPending(*entry));
  KALAM_ASSIGN_OR_RETURN(auto hits, entry->index->Search(query, k, ef));
  std::vector<Neighbor> out;
  out.reserve(hits.size());
  for (auto& h : hits) out.push_back(Neighbor{std::move(h.pk_text), h.distance});
  return out;
}

Status VectorIndexes::ApplyPending(Entry& entry) {
  std::vector<Op> ops;
  {
    std::lock_guard lock(entry.pending_mu);
    ops.swap(entry.pending);
  }
  for (const Op& op : ops) {
    if (op.remove) {
      entry.index->Remove(op.pk_key);
      continue;
    }
    Status added = entry.index->Upsert(op.pk_key, op.pk_text, op.vec, op.seq);
    if (!added.ok()) {
      entry.index.reset();  // rebuilt from the rows by the next search
      return added;
    }
  }
  return Status::OK();
}

std::string VectorIndexes::SnapshotPath(const Key& key) const {
  if (snapshot_dir_.empty()) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string scope = "s";  // the scope, hex-encoded: user ids are not file names
  for (unsigned char c : std::get<3>(key)) {
    scope += kHex[c >> 4];
    scope += kHex[c & 15];
  }
  return snapshot_dir_ + "/vix-" + std::to_string(std::get<0>(key)) + "-" +
         std::to_string(std::get<1>(key)) + "-" + std::to_string(std::get<2>(key)) + "-" + scope;
}

Status VectorIndexes::SaveAll() {
  if (snapshot_dir_.empty()) return Status::OK();
  std::error_code ec;
  std::filesystem::create_directories(snapshot_dir_, ec);
  if (ec) {
    return Status::IoError("Cannot create vector index directory '" + snapshot_dir_ +
                           "': " + ec.message());
  }
  std::vector<std::pair<Key, std::shared_ptr<Entry>>> entries;
  {
    std::lock_guard lock(mu_);
    entries.assign(entries_.begin(), entries_.end());
  }
  Status first;
  for (auto& [key, entry] : entries) {
    std::lock_guard index_lock(entry->index_mu);
    if (!entry->index) continue;
    {
      std::lock_guard lock(entry->pending_mu);
      if (entry->overflowed) continue;  // behind the rows: the next start rebuilds it
    }
    Status st = ApplyPending(*entry);
    if (st.ok() && entry->index) st = entry->index->Save(SnapshotPath(key));
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

Status VectorIndexes::Forget(catalog::TableId table, std::optional<uint32_t> column) {
  {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [&](const auto& e) {
      return std::get<0>(e.first) == table && (!column || std::get<1>(e.first) == *column);
    });
  }
  if (snapshot_dir_.empty()) return Status::OK();
  // Snapshot names start "vix-<table>-<column>-" (SnapshotPath); a snapshot may exist for a
  // scope that was never searched since the start, so the directory is listed, not the entries.
  const std::string prefix =
      "vix-" + std::to_string(table) + "-" + (column ? std::to_string(*column) + "-" : "");
  std::error_code ec;
  std::filesystem::directory_iterator it(snapshot_dir_, ec);
  if (ec) return Status::OK();  // no directory: no snapshots
  Status first;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (!name.starts_with(prefix)) continue;
    std::error_code rm;
    std::filesystem::remove(it->path(), rm);
    if (rm && first.ok()) {
      first = Status::IoError("Cannot delete vector index snapshot '" + it->path().string() +
                              "': " + rm.message());
    }
  }
  return first;
}

size_t VectorIndexes::snapshot_loads() const {
  std::lock_guard lock(mu_);
  return snapshot_loads_;
}

Status VectorIndexes::Build(const Key& key, const catalog::TableDef& def, size_t column,
                            Entry& entry) {
  const VectorMetric metric = def.columns[column].vector_index->metric;
  const int dimension = def.columns[column].type.dimension;
  const table::Scope& scope = std::get<3>(key);
  const std::string path = SnapshotPath(key);
  if (!path.empty() && std::filesystem::exists(path)) {
    // A snapshot is a head start, not a truth: every row is checked against it by `_seq`.
    auto loaded = HnswIndex::Load(path, metric, dimension, params_);
    if (loaded.ok()) {
      std::unique_ptr<HnswIndex> index = std::move(*loaded);
      std::set<std::string> seen;
      Status reconciled = ForEachVector(
          store_, def, column, scope,
          [&](std::string_view key_view, const Value& pk, const std::vector<float>& v,
              int64_t seq) {
            std::string row_key(key_view);
            auto known = index->SeqOf(row_key);
            seen.insert(row_key);
            if (known && *known == seq) return Status::OK();
            return index->Upsert(row_key, commit::PkDisplay(pk), v, seq);
          });
      if (reconciled.ok()) {
        for (const std::string& k : index->LiveKeys()) {
          if (!seen.count(k)) index->Remove(k);
        }
        entry.index = std::move(index);
        std::lock_guard lock(mu_);
        ++snapshot_loads_;
        return Status::OK();
      }
    }
    // Unreadable or stale beyond use: built from the rows below.
  }
  auto index = std::make_unique<HnswIndex>(metric, dimension, params_);
  KALAM_RETURN_IF_ERROR(ForEachVector(
      store_, def, column, scope,
      [&](std::string_view row_key, const Value& pk, const std::vector<float>& v, int64_t seq) {
        return index->Upsert(std::string(row_key), commit::PkDisplay(pk), v, seq);
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
      op.seq = rec.seq;
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
