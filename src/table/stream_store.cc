// STREAM table rows: scans, eviction and the commit group's stream writes.
#include "table/stream_store.h"

#include <algorithm>

#include "common/snowflake.h"

namespace kalam::table {

using storage::Partition;

int64_t StreamCutoffSeq(uint32_t ttl_seconds, int64_t now_ms) {
  return std::max<int64_t>(0, SnowflakeFloor(now_ms - int64_t{ttl_seconds} * 1000 + 1));
}

void StreamScan::Settle() {
  valid_ = false;
  for (; it_->Valid(); it_->Next()) {
    std::string_view key = it_->key();
    TableId table = 0;
    Scope scope;
    if (!ParseStreamKey(key, &table, &scope, &seq_)) {
      status_ = Status::Corruption("Malformed stream key");
      return;
    }
    if (!include_deleted_ && IsDeletedVersion(it_->value())) continue;
    auto row = DecodeRow(*def_, it_->value());
    if (!row.ok()) {
      status_ = row.status();
      return;
    }
    deleted_ = row->deleted;
    values_ = std::move(row->values);
    valid_ = true;
    return;
  }
  status_ = it_->status();
}

void StreamScan::Next() {
  if (!valid_) return;
  it_->Next();
  Settle();
}

Result<std::unique_ptr<StreamScan>> StreamStore::NewScan(const catalog::TableDef& def,
                                                         const Scope& scope, int64_t min_seq,
                                                         int64_t max_seq, int64_t now_ms,
                                                         bool include_deleted,
                                                         const storage::KvSnapshot* snapshot) const {
  auto scan = std::unique_ptr<StreamScan>(new StreamScan());
  scan->def_ = &def;
  scan->include_deleted_ = include_deleted;
  min_seq = std::max({min_seq, int64_t{0}, StreamCutoffSeq(def.options.ttl_seconds, now_ms)});
  storage::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.lower_bound = StreamKey(def.table_id, scope, min_seq);
  ro.upper_bound = max_seq == INT64_MAX ? PrefixSuccessor(ScopePrefix(def.table_id, scope))
                                        : StreamKey(def.table_id, scope, max_seq + 1);
  const bool empty = max_seq < min_seq;
  std::string lower = ro.lower_bound;
  scan->it_ = kv_.NewIterator(Partition::kStream, ro);
  if (empty) return scan;  // never valid: nothing sought
  scan->it_->Seek(lower);
  scan->Settle();
  KALAM_RETURN_IF_ERROR(scan->status());
  return scan;
}

Result<std::optional<RowVersion>> StreamStore::Get(const catalog::TableDef& def,
                                                   const Scope& scope, int64_t seq) const {
  KALAM_ASSIGN_OR_RETURN(auto bytes,
                         kv_.Get(Partition::kStream, StreamKey(def.table_id, scope, seq)));
  if (!bytes) return std::optional<RowVersion>();
  KALAM_ASSIGN_OR_RETURN(RowVersion row, DecodeRow(def, *bytes));
  row.seq = seq;
  return std::optional<RowVersion>(std::move(row));
}

namespace {

// Calls `fn(scope, first_seq)` for the first entry of every scope of `table`, seeking from one
// scope to the next scope's first key (never reading a scope's other entries); stops when fn
// returns false.
Status ForEachScope(storage::KvStore& kv, TableId table,
                    const std::function<bool(const Scope&, int64_t)>& fn) {
  storage::ReadOptions ro;
  ro.lower_bound = TableBegin(table);
  ro.upper_bound = TableEnd(table);
  auto it = kv.NewIterator(Partition::kStream, ro);
  for (it->Seek(ro.lower_bound); it->Valid();) {
    TableId t = 0;
    Scope scope;
    int64_t seq = 0;
    if (!ParseStreamKey(it->key(), &t, &scope, &seq)) {
      return Status::Corruption("Malformed stream key");
    }
    if (!fn(scope, seq)) return Status::OK();
    it->Seek(PrefixSuccessor(ScopePrefix(table, scope)));
  }
  return it->status();
}

}  // namespace

Result<bool> StreamStore::HasExpired(const catalog::TableDef& def, int64_t now_ms) const {
  const int64_t cutoff = StreamCutoffSeq(def.options.ttl_seconds, now_ms);
  bool expired = false;
  KALAM_RETURN_IF_ERROR(ForEachScope(kv_, def.table_id, [&](const Scope&, int64_t first) {
    expired = first < cutoff;
    return !expired;
  }));
  return expired;
}

Result<StreamEviction> StreamStore::EvictExpired(const catalog::TableDef& def, int64_t now_ms,
                                                 WriterGate* gate) const {
  const int64_t cutoff = StreamCutoffSeq(def.options.ttl_seconds, now_ms);
  StreamEviction out;
  storage::WriteBatch batch;
  std::vector<Scope> scopes;
  KALAM_RETURN_IF_ERROR(ForEachScope(kv_, def.table_id, [&](const Scope& scope, int64_t first) {
    if (first < cutoff) scopes.push_back(scope);
    return true;
  }));
  for (const Scope& scope : scopes) {
    const std::string begin = ScopePrefix(def.table_id, scope);
    const std::string end = StreamKey(def.table_id, scope, cutoff);
    // Counted key by key: the number reported is exact (rows and delete markers removed).
    storage::ReadOptions ro;
    ro.lower_bound = begin;
    ro.upper_bound = end;
    auto it = kv_.NewIterator(Partition::kStream, ro);
    for (it->Seek(begin); it->Valid(); it->Next()) ++out.entries;
    KALAM_RETURN_IF_ERROR(it->status());
    batch.DeleteRange(Partition::kStream, begin, end);
    ++out.scopes;
  }
  if (batch.empty()) return out;
  auto write = [&] { return kv_.Write(batch); };
  KALAM_RETURN_IF_ERROR(gate ? gate->RunExclusive(write) : write());
  return out;
}

Status StreamGroupWriter::Check(const StagedRow& row) {
  if (!row.live) {
    // A delete: the row it read must still be stored.
    if (gone_.count(row.pk_key)) {
      return Status::Conflict("A row of stream '" + row.table->QualifiedName() +
                              "' was deleted by a concurrent transaction; retry");
    }
    KALAM_ASSIGN_OR_RETURN(auto stored, kv_.Get(Partition::kStream, row.pk_key));
    if (!stored || IsDeletedVersion(*stored)) {
      return Status::Conflict("A row of stream '" + row.table->QualifiedName() +
                              "' was deleted or evicted by a concurrent transaction; retry");
    }
    return Status::OK();
  }
  const uint64_t cap = row.table->options.max_rows_per_user;
  if (cap == 0) return Status::OK();
  ScopeId id{row.table->table_id, row.scope};
  if (capped_.count(id)) return Status::OK();
  // Load the scope's stored rows (at most about `cap` of them: the cap keeps it so).
  CappedScope scope;
  const std::string prefix = ScopePrefix(id.first, id.second);
  storage::ReadOptions ro;
  ro.lower_bound = prefix;
  ro.upper_bound = PrefixSuccessor(prefix);
  auto it = kv_.NewIterator(Partition::kStream, ro);
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    if (IsDeletedVersion(it->value())) continue;
    std::string key(it->key());
    if (!gone_.count(key)) scope.keys.push_back(std::move(key));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  scope.stored = scope.keys.size();
  capped_.emplace(std::move(id), std::move(scope));
  return Status::OK();
}

bool StreamGroupWriter::Append(const StagedRow& row, int64_t seq, storage::WriteBatch* batch) {
  const catalog::TableDef& def = *row.table;
  const std::string key = StreamKey(def.table_id, row.scope, seq);
  if (!row.live) {
    batch->Put(Partition::kStream, key, EncodeRow(def, row.base_values, true));
    batch->Delete(Partition::kStream, row.pk_key);
    gone_.insert(row.pk_key);
    if (auto c = capped_.find({def.table_id, row.scope}); c != capped_.end()) {
      CappedScope& scope = c->second;
      if (std::binary_search(scope.keys.begin() + scope.front, scope.keys.end(), row.pk_key)) {
        --scope.stored;
      }
    }
    return true;
  }
  if (def.options.ephemeral &&
      !(has_subscriber_ && *has_subscriber_ && (*has_subscriber_)(def.table_id, row.scope))) {
    return false;
  }
  batch->Put(Partition::kStream, key, EncodeRow(def, row.values, false));
  if (def.options.max_rows_per_user == 0) return true;
  auto capped = capped_.find({def.table_id, row.scope});
  if (capped == capped_.end()) return true;  // not checked: cannot happen (Check loads it)
  CappedScope& scope = capped->second;
  scope.keys.push_back(key);
  ++scope.stored;
  // Oldest first; rows a DELETE of this group removed are no longer counted in `stored`.
  while (scope.stored > def.options.max_rows_per_user && scope.front < scope.keys.size()) {
    const std::string& oldest = scope.keys[scope.front++];
    if (gone_.insert(oldest).second) {
      batch->Delete(Partition::kStream, oldest);
      --scope.stored;
    }
  }
  return true;
}

}  // namespace kalam::table
