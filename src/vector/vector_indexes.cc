// VectorIndexes: building, maintaining and searching the per-scope HNSW indexes.
#include "vector/vector_indexes.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <queue>
#include <set>

#include <spdlog/spdlog.h>

#include "commit/commit_pipeline.h"  // PkDisplay
#include "filestore/sha256.h"
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

// Snapshot files are read from a storage a chunk at a time (a store without ranged reads serves
// each chunk from a whole GET: the chunk is large so that a snapshot takes few of them).
constexpr uint64_t kTransferChunk = 64 << 20;

std::string JoinKey(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

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
  std::shared_ptr<filestore::ObjectStore> keep;
  std::optional<Source> source;
  if (!entry->index) source = ManifestSource(key, &keep);
  KALAM_RETURN_IF_ERROR(Prepare(key, def, column, *entry, false, source));
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
      entry.index->Remove(op.pk_key, op.seq);
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

Status VectorIndexes::Prepare(const Key& key, const catalog::TableDef& def, size_t column,
                              Entry& entry, bool rebuild, const std::optional<Source>& source) {
  {
    std::lock_guard lock(entry.pending_mu);
    if (entry.overflowed) {  // the rows hold everything the dropped queue held
      rebuild = true;
      entry.overflowed = false;
      entry.pending.clear();
    }
  }
  if (rebuild || !entry.index) {
    // Ops queued from here on are replayed after the scan: an op for a row the scan already saw
    // sets the vector it read (or a newer one), so replaying is idempotent.
    entry.index.reset();
    Status built = Build(key, def, column, entry, rebuild ? std::nullopt : source);
    if (!built.ok()) {
      entry.index.reset();
      return built;
    }
  }
  return ApplyPending(entry);
}

std::string VectorIndexes::ScratchPath(std::string_view what) {
  uint64_t n = 0;
  {
    std::lock_guard lock(mu_);
    n = ++scratch_counter_;
  }
  return scratch_dir_ + "/vix-" + std::to_string(::getpid()) + "-" + std::to_string(n) + "." +
         std::string(what);
}

std::optional<VectorIndexes::Source> VectorIndexes::ManifestSource(
    const Key& key, std::shared_ptr<filestore::ObjectStore>* keep) {
  table::ColdStore* cold = store_.cold();
  if (!cold) return std::nullopt;
  auto sm = cold->Get(std::get<0>(key), std::get<3>(key));
  if (!sm) return std::nullopt;
  for (const auto& e : sm->manifest.vector_indexes) {
    if (e.column_id != std::get<1>(key) || e.index_version != std::get<2>(key)) continue;
    auto store = cold->StoreFor(sm->storage_id);
    if (!store.ok()) {
      spdlog::warn("Vector index snapshot of table {} not read ({}); built from the rows",
                   std::get<0>(key), store.status().ToString());
      return std::nullopt;
    }
    *keep = *store;
    return Source{keep->get(), sm->folder, e};
  }
  return std::nullopt;
}

Result<std::unique_ptr<HnswIndex>> VectorIndexes::LoadSnapshot(const Source& source,
                                                               VectorMetric metric,
                                                               int dimension) {
  const std::string key = JoinKey(source.folder, source.entry.file);
  std::error_code ec;
  std::filesystem::create_directories(scratch_dir_, ec);
  const std::string local = ScratchPath("load");
  const std::string graph = ScratchPath("graph");
  Status copied;
  {
    std::ofstream out(local, std::ios::binary | std::ios::trunc);
    if (!out) copied = Status::IoError("Cannot write scratch file '" + local + "'");
    for (uint64_t offset = 0; copied.ok();) {  // a chunk at a time: memory stays flat
      auto chunk = source.store->GetRange(key, offset, kTransferChunk);
      if (!chunk.ok()) {
        copied = chunk.status();
        break;
      }
      if (chunk->empty()) break;
      if (!out.write(chunk->data(), static_cast<std::streamsize>(chunk->size()))) {
        copied = Status::IoError("Cannot write scratch file '" + local + "'");
      }
      offset += chunk->size();
      if (chunk->size() < kTransferChunk) break;
    }
    if (copied.ok() && !out.flush()) copied = Status::IoError("Cannot write '" + local + "'");
  }
  auto read = [&]() -> Result<std::unique_ptr<HnswIndex>> {
    KALAM_RETURN_IF_ERROR(copied);
    KALAM_ASSIGN_OR_RETURN(filestore::FileDigest digest, filestore::Sha256OfFile(local));
    if (digest.sha256 != source.entry.sha256 ||
        static_cast<int64_t>(digest.size_bytes) != source.entry.size_bytes) {
      return Status::Corruption("Vector index snapshot " + source.store->Describe(key) +
                                " does not match its checksum");
    }
    return HnswIndex::ReadFile(local, graph, metric, dimension, params_);
  };
  auto index = read();
  std::error_code ignored;  // our scratch file: a failed removal only costs space
  std::filesystem::remove(local, ignored);
  return index;
}

std::vector<table::VectorIndexEntry> VectorIndexes::SnapshotScope(
    const catalog::TableDef& def, const table::Scope& scope, bool rebuild,
    filestore::ObjectStore& store, const std::string& folder, int64_t file_id,
    const std::vector<table::VectorIndexEntry>& current) {
  std::vector<table::VectorIndexEntry> out;
  if (def.type != catalog::TableType::kUser && def.type != catalog::TableType::kShared) {
    return out;
  }
  for (size_t c = 0; c < def.columns.size(); ++c) {
    const auto& index_def = def.columns[c].vector_index;
    if (!index_def) continue;
    const catalog::ColumnDef& col = def.columns[c];
    const Key key{def.table_id, col.column_id, index_def->since_version, scope};
    std::optional<Source> source;
    const table::VectorIndexEntry* previous = nullptr;
    for (const auto& e : current) {
      if (e.column_id == col.column_id && e.index_version == index_def->since_version) {
        previous = &e;
        source = Source{&store, folder, e};
      }
    }
    std::shared_ptr<Entry> entry = GetEntry(key);
    std::unique_lock index_lock(entry->index_mu);
    // A graph no search has asked for is only written, then freed: memory holds the graphs in
    // use, and the next search loads the snapshot written here.
    const bool in_use = entry->index != nullptr;
    auto release = [&] {
      if (in_use) return;
      index_lock.unlock();
      std::lock_guard lock(mu_);
      if (auto it = entries_.find(key); it != entries_.end() && it->second == entry) {
        entries_.erase(it);
      }
    };
    Status st = Prepare(key, def, c, *entry, rebuild, source);
    if (st.ok() && entry->index->elements() > 0 &&
        (entry->index->elements() - entry->index->size()) * 5 > entry->index->elements()) {
      st = Prepare(key, def, c, *entry, true, std::nullopt);  // over a fifth removed: drop them
    }
    table::VectorIndexEntry written;
    if (st.ok() && entry->index->size() == 0) {  // nothing to keep: no snapshot
      release();
      continue;
    }
    if (st.ok()) {
      std::error_code ec;
      std::filesystem::create_directories(scratch_dir_, ec);
      const std::string local = ScratchPath("save");
      written.column_id = col.column_id;
      written.index_version = index_def->since_version;
      written.file = "vectors/" + col.name + "." + std::to_string(file_id) + ".hnsw";
      written.seq = entry->index->max_seq();
      written.vectors = static_cast<int64_t>(entry->index->size());
      st = entry->index->WriteFile(local, ScratchPath("graph"));
      if (st.ok()) {
        auto digest = filestore::Sha256OfFile(local);
        if (digest.ok()) {
          written.sha256 = digest->sha256;
          written.size_bytes = static_cast<int64_t>(digest->size_bytes);
          st = store.PutFile(JoinKey(folder, written.file), local);
        } else {
          st = digest.status();
        }
      }
      std::error_code ignored;  // our scratch file: a failed removal only costs space
      std::filesystem::remove(local, ignored);
    }
    if (st.ok()) {
      out.push_back(std::move(written));
      release();
      continue;
    }
    release();
    spdlog::warn("Vector index {}.{} (scope '{}') not written to its storage: {}",
                 def.QualifiedName(), col.name, scope, st.ToString());
    if (previous) out.push_back(*previous);  // older, but reconciled with the rows when loaded
  }
  return out;
}

Status VectorIndexes::Forget(catalog::TableId table, std::optional<uint32_t> column) {
  {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [&](const auto& e) {
      return std::get<0>(e.first) == table && (!column || std::get<1>(e.first) == *column);
    });
  }
  table::ColdStore* cold = store_.cold();
  if (!cold) return Status::OK();
  Status first;
  for (const auto& [scope, sm] : cold->ScopesOf(table)) {
    for (const auto& e : sm->manifest.vector_indexes) {
      if (column && e.column_id != *column) continue;
      auto store = cold->StoreFor(sm->storage_id);
      Status st = store.ok() ? (*store)->Delete(JoinKey(sm->folder, e.file)) : store.status();
      if (!st.ok() && first.ok()) first = st;
    }
  }
  return first;
}

size_t VectorIndexes::snapshot_loads() const {
  std::lock_guard lock(mu_);
  return snapshot_loads_;
}

std::optional<std::pair<size_t, size_t>> VectorIndexes::SizeOf(const catalog::TableDef& def,
                                                               size_t column,
                                                               const table::Scope& scope) {
  const auto& index_def = def.columns[column].vector_index;
  if (!index_def) return std::nullopt;
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(
        Key{def.table_id, def.columns[column].column_id, index_def->since_version, scope});
    if (it == entries_.end()) return std::nullopt;
    entry = it->second;
  }
  std::lock_guard index_lock(entry->index_mu);
  if (!entry->index) return std::nullopt;
  if (!ApplyPending(*entry).ok() || !entry->index) return std::nullopt;
  return std::make_pair(entry->index->size(), entry->index->elements());
}

Status VectorIndexes::Build(const Key& key, const catalog::TableDef& def, size_t column,
                            Entry& entry, const std::optional<Source>& source) {
  const VectorMetric metric = def.columns[column].vector_index->metric;
  const int dimension = def.columns[column].type.dimension;
  const table::Scope& scope = std::get<3>(key);
  if (source) {
    // A snapshot is a head start, not a truth: every row is checked against it by `_seq`, so
    // rows written after its watermark are added and rows deleted since are removed.
    auto loaded = LoadSnapshot(*source, metric, dimension);
    if (loaded.ok()) {
      std::unique_ptr<HnswIndex> index = std::move(*loaded);
      std::set<std::string> seen;
      size_t changed = 0;
      Status reconciled = ForEachVector(
          store_, def, column, scope,
          [&](std::string_view key_view, const Value& pk, const std::vector<float>& v,
              int64_t seq) {
            std::string row_key(key_view);
            auto known = index->SeqOf(row_key);
            seen.insert(row_key);
            if (known && *known == seq) return Status::OK();
            ++changed;
            return index->Upsert(row_key, commit::PkDisplay(pk), v, seq);
          });
      if (reconciled.ok()) {
        for (const std::string& k : index->LiveKeys()) {
          if (!seen.count(k)) {
            index->Remove(k);
            ++changed;
          }
        }
        spdlog::info("Vector index {}.{} (scope '{}') loaded from its snapshot {} ({} vectors, "
                     "_seq up to {}); {} changed rows applied",
                     def.QualifiedName(), def.columns[column].name, scope,
                     source->store->Describe(JoinKey(source->folder, source->entry.file)),
                     source->entry.vectors, source->entry.seq, changed);
        entry.index = std::move(index);
        std::lock_guard lock(mu_);
        ++snapshot_loads_;
        return Status::OK();
      }
      spdlog::warn("Vector index of table {} not reconciled with its rows ({}); built from them",
                   def.QualifiedName(), reconciled.ToString());
    } else {
      spdlog::warn("Vector index snapshot of {} (scope '{}') not used ({}); built from the rows",
                   def.QualifiedName(), scope, loaded.status().ToString());
    }
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
