// ColdStore: manifests, segment cache and merged cold reads.
#include "table/cold_store.h"

#include <algorithm>

#include <boost/json.hpp>

#include "common/metrics.h"
#include "filestore/path_template.h"
#include "table/keys.h"

namespace kalam::table {

namespace {

metrics::Counter& ColdCacheCounter(bool hit) {
  static metrics::Counter& hits = metrics::Registry::Default().GetCounter(
      "kalamdb_cold_cache_hits_total", "Cold segment reads answered from the decoded-segment cache");
  static metrics::Counter& misses = metrics::Registry::Default().GetCounter(
      "kalamdb_cold_cache_misses_total",
      "Cold segment reads that fetched and decoded the segment file");
  return hit ? hits : misses;
}

}  // namespace


namespace json = boost::json;
using catalog::TableDef;
using storage::Partition;

namespace {


std::string EncodeScopeManifest(const ScopeManifest& sm) {
  return json::serialize(json::object{{"storage_id", sm.storage_id},
                                      {"folder", sm.folder},
                                      {"manifest", EncodeManifest(sm.manifest)}});
}

Result<ScopeManifest> DecodeScopeManifest(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("Stored cold manifest is not valid JSON");
  const auto& o = v.as_object();
  const auto* sid = o.if_contains("storage_id");
  const auto* folder = o.if_contains("folder");
  const auto* m = o.if_contains("manifest");
  if (!sid || !sid->is_string() || !folder || !folder->is_string() || !m || !m->is_string()) {
    return Status::Corruption("Stored cold manifest lacks storage_id/folder/manifest");
  }
  ScopeManifest sm;
  sm.storage_id = std::string(sid->as_string());
  sm.folder = std::string(folder->as_string());
  KALAM_ASSIGN_OR_RETURN(sm.manifest, DecodeManifest(m->as_string()));
  return sm;
}

int CompareValues(const Value& a, const Value& b, bool* comparable) {
  *comparable = !a.is_null() && !b.is_null() && a.kind() == b.kind() &&
                (a.kind() == Value::Kind::kInt || a.kind() == Value::Kind::kDouble ||
                 a.kind() == Value::Kind::kText);
  if (!*comparable) return 0;
  switch (a.kind()) {
    case Value::Kind::kInt: return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    case Value::Kind::kDouble:
      return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
    default: return a.as_text().compare(b.as_text()) < 0 ? -1 : a.as_text() != b.as_text();
  }
}

const ColumnRange* RangeOf(const SegmentEntry& seg, uint32_t column_id) {
  for (const auto& r : seg.columns) {
    if (r.column_id == column_id) return &r;
  }
  return nullptr;
}

// Whether statistics prove no row of `seg` satisfies every bound.
bool ExcludedByBounds(const TableDef& def, const SegmentEntry& seg,
                      const std::vector<ColdBound>& bounds) {
  for (const auto& b : bounds) {
    const auto* r = RangeOf(seg, def.columns[static_cast<size_t>(b.column)].column_id);
    if (!r || r->min.is_null() || r->max.is_null()) continue;
    bool ok1 = false, ok2 = false;
    const int vs_min = CompareValues(b.operand, r->min, &ok1);
    const int vs_max = CompareValues(b.operand, r->max, &ok2);
    if (!ok1 || !ok2) continue;
    switch (b.op) {
      case ColdBound::Op::kEq: if (vs_min < 0 || vs_max > 0) return true; break;
      case ColdBound::Op::kGt: if (vs_max >= 0) return true; break;   // col > x, max ≤ x
      case ColdBound::Op::kGe: if (vs_max > 0) return true; break;
      case ColdBound::Op::kLt: if (vs_min <= 0) return true; break;   // col < x, min ≥ x
      case ColdBound::Op::kLe: if (vs_min < 0) return true; break;
    }
  }
  return false;
}

// The pk-key range [first, last] a segment covers, or false when its statistics do not say.
bool KeyRangeOf(const TableDef& def, const Scope& scope, const SegmentEntry& seg,
                std::string* first, std::string* last) {
  const auto* r = RangeOf(seg, def.pk_column().column_id);
  if (!r || r->min.is_null() || r->max.is_null()) return false;
  *first = PkKey(def.table_id, scope, r->min);
  *last = PkKey(def.table_id, scope, r->max);
  return true;
}

size_t LowerBound(const SegmentRows& rows, const std::string& key) {
  auto it = std::lower_bound(rows.keys.begin(), rows.keys.end(), key);
  return static_cast<size_t>(it - rows.keys.begin());
}

}  // namespace

void ColdCursor::NextMerged() {
  while (true) {
    const std::string* min_key = nullptr;
    for (const Head& h : heads_) {
      if (h.pos < h.end && (!min_key || h.rows->keys[h.pos] < *min_key)) {
        min_key = &h.rows->keys[h.pos];
      }
    }
    if (!min_key) {
      current_ = nullptr;
      return;
    }
    // A reference into its segment's rows (kept alive by the heads): no copy per row.
    const std::string& key = *min_key;
    const SegmentRows* chosen = nullptr;
    size_t chosen_index = 0;
    // Newest segment first: the first version at or below max_seq wins.
    for (size_t i = heads_.size(); i-- > 0;) {
      Head& h = heads_[i];
      if (h.pos < h.end && h.rows->keys[h.pos] == key) {
        if (!chosen && h.rows->seqs[h.pos] <= max_seq_) {
          chosen = h.rows.get();
          chosen_index = h.pos;
        }
        ++h.pos;
      }
    }
    if (chosen) {
      current_ = chosen;
      current_index_ = chosen_index;
      return;
    }
  }
}

ColdStore::ColdStore(storage::KvStore& kv, const catalog::StorageCatalog& storages,
                     size_t cache_bytes)
    : kv_(kv), storages_(storages), cache_bytes_(cache_bytes) {
  ColdCacheCounter(true);  // the metrics' series exist (at 0) before the first read
  ColdCacheCounter(false);
}

Status ColdStore::Load() {
  auto it = kv_.NewIterator(Partition::kMeta);
  std::map<Key, std::shared_ptr<const ScopeManifest>> loaded;
  const std::string_view prefix = ColdManifestPrefix();
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    catalog::TableId table = 0;
    Scope scope;
    if (!ParseColdManifestKey(it->key(), &table, &scope)) {
      return Status::Corruption("Malformed cold manifest key");
    }
    KALAM_ASSIGN_OR_RETURN(ScopeManifest sm, DecodeScopeManifest(it->value()));
    loaded[{table, scope}] = std::make_shared<const ScopeManifest>(std::move(sm));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  std::lock_guard lock(mu_);
  manifests_ = std::move(loaded);
  return Status::OK();
}

std::shared_ptr<const ScopeManifest> ColdStore::Get(catalog::TableId table,
                                                    const Scope& scope) const {
  std::lock_guard lock(mu_);
  auto it = manifests_.find({table, scope});
  return it == manifests_.end() ? nullptr : it->second;
}

std::vector<std::pair<Scope, std::shared_ptr<const ScopeManifest>>> ColdStore::ScopesOf(
    catalog::TableId table) const {
  std::vector<std::pair<Scope, std::shared_ptr<const ScopeManifest>>> out;
  std::lock_guard lock(mu_);
  for (auto it = manifests_.lower_bound({table, ""});
       it != manifests_.end() && it->first.first == table; ++it) {
    out.emplace_back(it->first.second, it->second);
  }
  return out;
}

std::vector<std::shared_ptr<const ScopeManifest>> ColdStore::AllManifests() const {
  std::vector<std::shared_ptr<const ScopeManifest>> out;
  std::lock_guard lock(mu_);
  out.reserve(manifests_.size());
  for (const auto& [key, sm] : manifests_) out.push_back(sm);
  return out;
}

bool ColdStore::HasTable(catalog::TableId table) const {
  std::lock_guard lock(mu_);
  auto it = manifests_.lower_bound({table, ""});
  return it != manifests_.end() && it->first.first == table;
}

ColdStats ColdStore::StatsOf(catalog::TableId table) const {
  ColdStats s;
  for (const auto& [scope, sm] : ScopesOf(table)) {
    for (const auto& seg : sm->manifest.segments) {
      ++s.segments;
      s.rows += seg.row_count;
      s.tombstones += seg.tombstones;
      s.bytes += seg.size_bytes;
      s.last_flush_at_ms = std::max(s.last_flush_at_ms, seg.created_at_ms);
    }
  }
  return s;
}

Result<std::pair<std::string, std::string>> ColdStore::Locate(const TableDef& def,
                                                               const Scope& scope) const {
  auto storage = storages_.Find(def.options.storage_id);
  if (!storage) {
    return Status::NotFound("Storage '" + def.options.storage_id + "' of table '" +
                            def.QualifiedName() + "' does not exist");
  }
  filestore::TemplateValues values;
  values.namespace_id = def.namespace_id;
  values.table_name = def.table_name;
  values.user_id = scope;
  const bool user_scoped = def.type != catalog::TableType::kShared;
  const std::string& tmpl =
      user_scoped ? storage->user_tables_template : storage->shared_tables_template;
  KALAM_ASSIGN_OR_RETURN(std::string folder, filestore::ExpandTemplate(tmpl, values));
  return std::make_pair(storage->storage_id, std::move(folder));
}

Result<std::shared_ptr<filestore::ObjectStore>> ColdStore::StoreFor(const std::string& storage_id) {
  const uint64_t version = storages_.version();
  {
    std::lock_guard lock(mu_);
    auto it = stores_.find(storage_id);
    if (it != stores_.end() && it->second.first == version) return it->second.second;
  }
  auto def = storages_.Find(storage_id);
  if (!def) return Status::NotFound("Storage '" + storage_id + "' does not exist");
  KALAM_ASSIGN_OR_RETURN(auto config, def->ToStoreConfig());
  KALAM_ASSIGN_OR_RETURN(auto opened, filestore::OpenObjectStore(config));
  std::shared_ptr<filestore::ObjectStore> store = std::move(opened);
  std::lock_guard lock(mu_);
  stores_[storage_id] = {version, store};
  return store;
}

Result<std::shared_ptr<const SegmentRows>> ColdStore::LoadSegment(
    const TableDef& def, const Scope& scope, const ScopeManifest& sm,
    const SegmentEntry& seg) {
  std::string key = sm.storage_id + "\n" + sm.folder + "/" + seg.file + "\n" +
                    std::to_string(def.table_id) + "@" + std::to_string(def.schema_version);
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      ColdCacheCounter(true).Inc();
      return it->second.rows;
    }
  }
  ColdCacheCounter(false).Inc();
  KALAM_ASSIGN_OR_RETURN(auto store, StoreFor(sm.storage_id));
  const std::string object = sm.folder.empty() ? seg.file : sm.folder + "/" + seg.file;
  auto file = store->Get(object);
  if (!file.ok()) {
    return Status(file.status().code(), "Cannot read cold segment " + store->Describe(object) +
                                            ": " + file.status().message());
  }
  auto rows = DecodeSegment(def, scope, *file);
  if (!rows.ok()) {
    return Status(rows.status().code(), "Cold segment " + store->Describe(object) + ": " +
                                            rows.status().message());
  }
  std::lock_guard lock(cache_mu_);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second.rows;  // loaded concurrently
  lru_.push_front(key);
  cache_[key] = CacheEntry{*rows, lru_.begin()};
  cached_bytes_ += (*rows)->approx_bytes;
  while (cached_bytes_ > cache_bytes_ && lru_.size() > 1) {
    auto victim = cache_.find(lru_.back());
    cached_bytes_ -= victim->second.rows->approx_bytes;
    cache_.erase(victim);
    lru_.pop_back();
  }
  return *rows;
}

Result<std::optional<RowVersion>> ColdStore::Find(const TableDef& def, const Scope& scope,
                                                  const std::string& pk_key, int64_t max_seq) {
  auto sm = Get(def.table_id, scope);
  if (!sm) return std::optional<RowVersion>();
  const auto& segs = sm->manifest.segments;
  for (size_t i = segs.size(); i-- > 0;) {
    const auto& seg = segs[i];
    if (seg.min_seq > max_seq) continue;
    std::string first, last;
    if (KeyRangeOf(def, scope, seg, &first, &last) && (pk_key < first || pk_key > last)) continue;
    KALAM_ASSIGN_OR_RETURN(auto rows, LoadSegment(def, scope, *sm, seg));
    size_t pos = LowerBound(*rows, pk_key);
    if (pos < rows->size() && rows->keys[pos] == pk_key && rows->seqs[pos] <= max_seq) {
      const ColdRowView r = rows->row(pos);
      RowVersion v;
      v.seq = r.seq;
      v.deleted = r.deleted;
      v.schema_version = def.schema_version;
      v.values.assign(r.values, r.values + rows->ncols);
      return std::optional<RowVersion>(std::move(v));
    }
  }
  return std::optional<RowVersion>();
}

namespace {

// The segments of `sm` a scan of [lower, upper) with `bounds` and `max_seq` reads, oldest first;
// `stats` counts the selection. Segments that cannot hold a row in range, or whose statistics
// exclude every row satisfying `bounds`, are skipped (by `bounds` only when no older segment it
// could shadow is read).
std::vector<const SegmentEntry*> SelectSegments(const TableDef& def, const Scope& scope,
                                                const ScopeManifest& sm, const std::string& lower,
                                                const std::string& upper,
                                                const std::vector<ColdBound>& bounds,
                                                int64_t max_seq, ColdScanStats* stats) {
  std::vector<const SegmentEntry*> out;
  const auto& segs = sm.manifest.segments;
  stats->segments += static_cast<int64_t>(segs.size());
  // Key ranges of the segments that will be read, to decide whether a newer segment may be
  // skipped by its statistics without letting an older version it shadows show through.
  std::vector<std::pair<std::string, std::string>> read_ranges;
  bool read_unbounded = false;
  for (const auto& seg : segs) {
    if (seg.min_seq > max_seq || seg.row_count == 0) {
      ++stats->skipped_key_range;
      continue;
    }
    std::string first, last;
    const bool ranged = KeyRangeOf(def, scope, seg, &first, &last);
    if (ranged && (last < lower || (!upper.empty() && first >= upper))) {
      ++stats->skipped_key_range;
      continue;
    }
    if (ExcludedByBounds(def, seg, bounds)) {
      bool shadows = read_unbounded || !ranged;
      for (const auto& [f, l] : read_ranges) {
        if (shadows) break;
        shadows = !(l < first || last < f);
      }
      if (!shadows) {
        ++stats->skipped_stats;
        continue;
      }
    }
    out.push_back(&seg);
    ++stats->read;
    if (ranged) read_ranges.emplace_back(first, last);
    else read_unbounded = true;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ColdCursor>> ColdStore::Scan(const TableDef& def, const Scope& scope,
                                                    const std::string& lower,
                                                    const std::string& upper,
                                                    const std::vector<ColdBound>& bounds,
                                                    int64_t max_seq, ColdScanStats* stats) {
  auto cursor = std::unique_ptr<ColdCursor>(new ColdCursor());
  cursor->max_seq_ = max_seq;
  auto sm = Get(def.table_id, scope);
  if (!sm) return cursor;
  ColdScanStats local;
  for (const SegmentEntry* seg : SelectSegments(def, scope, *sm, lower, upper, bounds, max_seq,
                                                stats ? stats : &local)) {
    KALAM_ASSIGN_OR_RETURN(auto rows, LoadSegment(def, scope, *sm, *seg));
    ColdCursor::Head h;
    h.pos = LowerBound(*rows, lower);
    h.end = upper.empty() ? rows->size() : LowerBound(*rows, upper);
    h.rows = std::move(rows);
    cursor->heads_.push_back(std::move(h));
  }
  cursor->Next();
  return cursor;
}

ColdScanStats ColdStore::PlanScan(const TableDef& def, const Scope& scope,
                                  const std::string& lower, const std::string& upper,
                                  const std::vector<ColdBound>& bounds, int64_t max_seq,
                                  std::vector<std::string>* files) const {
  ColdScanStats stats;
  if (auto sm = Get(def.table_id, scope)) {
    for (const SegmentEntry* seg :
         SelectSegments(def, scope, *sm, lower, upper, bounds, max_seq, &stats)) {
      if (files) files->push_back(seg->file);
    }
  }
  return stats;
}

void ColdStore::StageManifest(catalog::TableId table, const Scope& scope, const ScopeManifest* sm,
                              storage::WriteBatch* batch) {
  if (sm) {
    batch->Put(Partition::kMeta, ColdManifestKey(table, scope), EncodeScopeManifest(*sm));
  } else {
    batch->Delete(Partition::kMeta, ColdManifestKey(table, scope));
  }
}

Status ColdStore::ApplyTieringBatch(const storage::WriteBatch& batch,
                                     const std::function<Status()>& write) {
  struct Staged {
    catalog::TableId table = 0;
    Scope scope;
    std::shared_ptr<const ScopeManifest> sm;  // null: the scope's manifest removed
  };
  std::vector<Staged> staged;
  for (const auto& op : batch.ops()) {
    if (op.partition != Partition::kMeta || !op.key.starts_with(ColdManifestPrefix())) continue;
    if (op.kind == storage::WriteBatch::OpKind::kDeleteRange) continue;  // StageDropTable
    Staged st;
    if (!ParseColdManifestKey(op.key, &st.table, &st.scope)) {
      return Status::Corruption("Malformed cold manifest key in a tiering batch");
    }
    if (op.kind == storage::WriteBatch::OpKind::kPut) {
      KALAM_ASSIGN_OR_RETURN(ScopeManifest sm, DecodeScopeManifest(op.value));
      st.sm = std::make_shared<const ScopeManifest>(std::move(sm));
    }
    staged.push_back(std::move(st));
  }
  std::vector<Staged> previous;
  for (auto& st : staged) {
    previous.push_back(Staged{st.table, st.scope, Install(st.table, st.scope, st.sm)});
  }
  Status s = write();
  if (!s.ok()) {
    for (auto it = previous.rbegin(); it != previous.rend(); ++it) {
      Install(it->table, it->scope, it->sm);
    }
  }
  return s;
}

std::shared_ptr<const ScopeManifest> ColdStore::Install(catalog::TableId table, const Scope& scope,
                                                        std::shared_ptr<const ScopeManifest> sm) {
  std::lock_guard lock(mu_);
  auto& slot = manifests_[{table, scope}];
  auto previous = std::move(slot);
  if (sm) {
    slot = std::move(sm);
  } else {
    manifests_.erase({table, scope});
  }
  return previous;
}

void ColdStore::StageDropTable(catalog::TableId table, storage::WriteBatch* batch) {
  batch->DeleteRange(Partition::kMeta, ColdManifestsBegin(table), ColdManifestsEnd(table));
}

Status ColdStore::ForgetTable(catalog::TableId table) {
  auto scopes = ScopesOf(table);
  std::vector<std::pair<std::string, std::string>> keys;  // (storage id, key)
  for (const auto& [scope, sm] : scopes) {
    for (const auto& seg : sm->manifest.segments) {
      keys.emplace_back(sm->storage_id, sm->folder + "/" + seg.file);
    }
    for (const auto& vix : sm->manifest.vector_indexes) {
      keys.emplace_back(sm->storage_id, sm->folder + "/" + vix.file);
    }
    keys.emplace_back(sm->storage_id, sm->folder + "/manifest.json");
  }
  {
    std::lock_guard lock(mu_);
    for (const auto& [scope, sm] : scopes) manifests_.erase({table, scope});
    if (delete_holds_ > 0) {
      deferred_deletes_.insert(deferred_deletes_.end(), keys.begin(), keys.end());
      return Status::OK();
    }
  }
  return DeleteKeys(keys);
}

Status ColdStore::DeleteKeys(const std::vector<std::pair<std::string, std::string>>& keys) {
  Status first_error;
  for (const auto& [storage_id, key] : keys) {
    auto store = StoreFor(storage_id);
    Status s = store.ok() ? (*store)->Delete(key) : store.status();
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

void ColdStore::HoldDeletes() {
  std::lock_guard lock(mu_);
  ++delete_holds_;
}

Status ColdStore::ReleaseDeletes() {
  std::vector<std::pair<std::string, std::string>> keys;
  {
    std::lock_guard lock(mu_);
    if (--delete_holds_ > 0) return Status::OK();
    keys.swap(deferred_deletes_);
  }
  return DeleteKeys(keys);
}

bool ColdStore::DeletesHeld() const {
  std::lock_guard lock(mu_);
  return delete_holds_ > 0;
}

}  // namespace kalam::table
