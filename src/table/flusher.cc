// Flush and compaction of table scopes into Parquet segments.
#include "table/flusher.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/snowflake.h"
#include "table/cold_format.h"
#include "table/keys.h"
#include "table/manifest.h"
#include "table/row_codec.h"

namespace kalam::table {

using catalog::TableDef;
using storage::Partition;

namespace {

// Hot deletions per exclusive step: short enough that commits waiting behind it barely notice.
constexpr size_t kDeleteChunk = 16384;

std::string Join(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

// The files of `before` that `after` no longer names.
std::vector<std::string> ReplacedFiles(const std::vector<VectorIndexEntry>& before,
                                       const std::vector<VectorIndexEntry>& after) {
  std::vector<std::string> out;
  for (const auto& b : before) {
    bool kept = false;
    for (const auto& a : after) kept = kept || a.file == b.file;
    if (!kept) out.push_back(b.file);
  }
  return out;
}

// After a manifest change was committed, deletes every vector index snapshot of the scope's
// folder that `manifest` does not name: the files it replaced, and any left by a crash or a
// failed flush (an unnamed file is never read). A failure is logged: it only costs space.
void DeleteUnnamedSnapshots(filestore::ObjectStore& store, const std::string& folder,
                            const Manifest& manifest) {
  auto listed = store.List(Join(folder, "vectors/"));
  if (!listed.ok()) {
    spdlog::warn("Vector index snapshots of {} not listed: {}", store.Describe(folder),
                 listed.status().ToString());
    return;
  }
  for (const auto& object : *listed) {
    bool named = false;
    for (const auto& e : manifest.vector_indexes) {
      named = named || Join(folder, e.file) == object.key;
    }
    if (named) continue;
    if (Status st = store.Delete(object.key); !st.ok()) {
      spdlog::warn("Vector index snapshot {} not deleted: {}", store.Describe(object.key),
                   st.ToString());
    }
  }
}

}  // namespace

std::string SegmentFileName(int64_t id) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "batch-%lld.parquet", static_cast<long long>(id));
  return buf;
}

Flusher::Flusher(storage::KvStore& kv, TableStore& store, ColdStore& cold, WriterGate& writer,
                 const Clock& clock, FlusherOptions options)
    : kv_(kv), store_(store), cold_(cold), writer_(writer), clock_(clock), options_(options) {}

void Flusher::Step(const TieringContext& job, std::string step) const {
  job.ReportProgress(std::move(step));
  if (options_.test_pause.count() <= 0) return;
  // Test pause point: real time on purpose (a crash test waits for the server to sit here), cut
  // short by KILL JOB or shutdown.
  const auto until = std::chrono::steady_clock::now() + options_.test_pause;
  while (!job.cancelled() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool Flusher::HasHotRows(catalog::TableId table) const {
  auto it = store_.NewPkIterator(TableBegin(table), TableEnd(table));
  it->Seek(TableBegin(table));
  return it->Valid();
}

int64_t Flusher::CountHotRows(catalog::TableId table) const {
  auto it = store_.NewPkIterator(TableBegin(table), TableEnd(table));
  int64_t n = 0;
  for (it->Seek(TableBegin(table)); it->Valid(); it->Next()) ++n;
  return n;
}

Result<FlushResult> Flusher::Flush(const TableDef& def, const TieringContext& job) {
  FlushResult result;
  auto rp = writer_.TakeReadPoint();
  auto it = store_.NewPkIterator(TableBegin(def.table_id), TableEnd(def.table_id),
                                 rp.snapshot.get());
  Scope scope;
  bool have_scope = false;
  bool owned = false;  // this node may flush `scope` (WriterGate::Leads)
  std::vector<ColdRow> rows;
  for (it->Seek(TableBegin(def.table_id)); it->Valid(); it->Next()) {
    std::string_view rest = it->key();
    catalog::TableId table_id = 0;
    Scope key_scope;
    if (!ConsumeScopePrefix(&rest, &table_id, &key_scope)) {
      return Status::Corruption("Malformed pk key in table " + def.QualifiedName());
    }
    if (!have_scope || key_scope != scope) {
      if (have_scope && !rows.empty()) {
        if (job.cancelled()) return result;
        KALAM_RETURN_IF_ERROR(FlushScope(def, scope, std::move(rows), job, &result));
        rows.clear();
      }
      scope = std::move(key_scope);
      have_scope = true;
      owned = writer_.Leads(def, scope).ok();
      if (!owned) ++result.scopes_elsewhere;
    }
    if (!owned) continue;
    int64_t seq = 0;
    std::string_view bytes;
    if (!SplitPkEntry(it->value(), &seq, &bytes)) {
      return Status::Corruption("Truncated pk entry in table " + def.QualifiedName());
    }
    KALAM_ASSIGN_OR_RETURN(RowVersion version, DecodeRow(def, bytes));
    ColdRow row;
    row.pk_key.assign(it->key());
    row.seq = seq;
    row.deleted = version.deleted;
    row.values = std::move(version.values);
    rows.push_back(std::move(row));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  if (have_scope && !rows.empty() && !job.cancelled()) {
    KALAM_RETURN_IF_ERROR(FlushScope(def, scope, std::move(rows), job, &result));
  }
  if (result.rows > 0) {
    // The hot versions just deleted stay in RocksDB's memtable, under range tombstones, until it
    // is flushed, and every scan of the table steps over each of them (a quarter of a warm cold
    // scan in bench/cold_bench.py). Flushing it now drops them (this job's snapshot released).
    it.reset();
    rp.snapshot.reset();
    KALAM_RETURN_IF_ERROR(kv_.Flush());
  }
  return result;
}

Status Flusher::FlushScope(const TableDef& def, const Scope& scope, std::vector<ColdRow> rows,
                           const TieringContext& job, FlushResult* result) {
  // The scope's row versions (`rows` partition) up to the newest flushed `_seq` are deleted with
  // the last chunk. A version committed after the read point has a larger `_seq` than every
  // version of the scope in it (one writer stamps a scope's `_seq`s in commit order: the single
  // node's pipeline, or the leader of the scope's shard), so it stays.
  int64_t read_seq = 0;
  for (const auto& r : rows) read_seq = std::max(read_seq, r.seq);
  auto existing = cold_.Get(def.table_id, scope);
  auto next = std::make_shared<ScopeManifest>();
  if (existing) {
    *next = *existing;
  } else {
    KALAM_ASSIGN_OR_RETURN(auto location, cold_.Locate(def, scope));
    next->storage_id = location.first;
    next->folder = location.second;
  }
  KALAM_ASSIGN_OR_RETURN(auto store, cold_.StoreFor(next->storage_id));
  int64_t id = next->manifest.next_segment_id;
  if (options_.unique_file_id) id = std::max(id, options_.unique_file_id());
  KALAM_ASSIGN_OR_RETURN(EncodedSegment enc, EncodeSegment(def, rows));
  enc.entry.file = SegmentFileName(id);
  enc.entry.id = id;
  enc.entry.created_at_ms = clock_.NowMicros() / 1000;
  // 1. The segment, durably, under a name no manifest refers to yet.
  KALAM_RETURN_IF_ERROR(store->Put(Join(next->folder, enc.entry.file), enc.file));
  next->manifest.segments.push_back(enc.entry);
  next->manifest.next_segment_id = id + 1;
  // 2. The vector index snapshots (files no manifest names yet), then the manifest mirror for
  // external readers.
  if (options_.snapshot_vectors) {
    auto current = next->manifest.vector_indexes;
    next->manifest.vector_indexes =
        options_.snapshot_vectors(def, scope, false, *store, next->folder, id, current);
  }
  KALAM_RETURN_IF_ERROR(
      store->Put(Join(next->folder, "manifest.json"), EncodeManifest(next->manifest)));
  Step(job, "Scope '" + scope + "': segment " + enc.entry.file + " written (" +
                std::to_string(rows.size()) + " rows); publishing its manifest");
  // 3. Visible, then the hot versions it holds deleted, a chunk at a time between commits.
  std::shared_ptr<const ScopeManifest> installed = next;
  const size_t chunks = (rows.size() + kDeleteChunk - 1) / kDeleteChunk;
  for (size_t start = 0; start < rows.size(); start += kDeleteChunk) {
    if (start > 0) {
      Step(job, "Scope '" + scope + "': flushed hot rows deleted, chunk " +
                    std::to_string(start / kDeleteChunk) + " of " + std::to_string(chunks));
    }
    const size_t end = std::min(rows.size(), start + kDeleteChunk);
    const bool first = start == 0;
    const bool last = end == rows.size();
    KALAM_RETURN_IF_ERROR(writer_.CommitTiering(def, scope, [&](storage::WriteBatch* out) -> Status {
      storage::WriteBatch& batch = *out;
      if (first) ColdStore::StageManifest(def.table_id, scope, installed.get(), &batch);
      // Walk the current pk entries of the chunk's key range beside the flushed rows (both in key
      // order). When the range holds exactly the flushed versions — the common case — one range
      // deletion replaces them all; otherwise each entry still holding its flushed `_seq` is
      // deleted on its own and newer versions stay hot.
      storage::ReadOptions ro;
      ro.lower_bound = rows[start].pk_key;
      ro.upper_bound = rows[end - 1].pk_key + '\0';
      auto it = kv_.NewIterator(Partition::kPk, ro);
      bool exact = true;
      std::vector<size_t> unchanged;
      size_t i = start;
      for (it->Seek(ro.lower_bound); it->Valid(); it->Next()) {
        const std::string_view key = it->key();
        while (i < end && std::string_view(rows[i].pk_key) < key) {
          exact = false;
          ++i;
        }
        if (i < end && std::string_view(rows[i].pk_key) == key) {
          int64_t seq = 0;
          std::string_view bytes;
          if (SplitPkEntry(it->value(), &seq, &bytes) && seq == rows[i].seq) {
            unchanged.push_back(i);
          } else {
            exact = false;
          }
          ++i;
        } else {
          exact = false;  // a key inserted since the read point
        }
      }
      KALAM_RETURN_IF_ERROR(it->status());
      if (i < end) exact = false;
      if (exact) {
        batch.DeleteRange(Partition::kPk, ro.lower_bound, ro.upper_bound);
      } else {
        for (size_t k : unchanged) batch.Delete(Partition::kPk, rows[k].pk_key);
      }
      if (last) {
        batch.DeleteRange(Partition::kRows, RowKey(def.table_id, scope, 0),
                          RowKey(def.table_id, scope, read_seq + 1));
      }
      return Status::OK();
    }));
  }
  // 4. Snapshots the committed manifest does not name (none when the flush failed before).
  if (options_.snapshot_vectors) DeleteUnnamedSnapshots(*store, next->folder, next->manifest);
  result->rows += static_cast<int64_t>(rows.size());
  result->scopes += 1;
  result->bytes += enc.entry.size_bytes;
  return Status::OK();
}

Result<Flusher::CompactResult> Flusher::Compact(const TableDef& def, const TieringContext& job) {
  CompactResult result;
  const int64_t now_ms = clock_.NowMicros() / 1000;
  const int64_t retention_ms = static_cast<int64_t>(def.options.deleted_retention_hours) * 3600000;
  for (const auto& [scope, sm] : cold_.ScopesOf(def.table_id)) {
    if (job.cancelled()) break;
    if (!writer_.Leads(def, scope).ok()) {
      ++result.scopes_elsewhere;
      continue;
    }
    int64_t tombstones = 0;
    for (const auto& seg : sm->manifest.segments) tombstones += seg.tombstones;
    if (sm->manifest.segments.size() < 2 && tombstones == 0) continue;
    const std::string prefix = ScopePrefix(def.table_id, scope);
    KALAM_ASSIGN_OR_RETURN(auto cursor,
                           cold_.Scan(def, scope, prefix, PrefixSuccessor(prefix)));
    std::vector<ColdRow> rows;
    std::vector<std::vector<Value>> purged;
    bool dropped_any = false;
    for (; cursor->Valid(); cursor->Next()) {
      const ColdRowView r = cursor->row();
      if (r.deleted && now_ms - SnowflakeMillis(r.seq) >= retention_ms) {
        dropped_any = true;
        if (options_.on_purge) purged.push_back(r.ToRow(def.columns.size()).values);
        continue;
      }
      rows.push_back(r.ToRow(def.columns.size()));
    }
    if (sm->manifest.segments.size() < 2 && !dropped_any) continue;
    KALAM_ASSIGN_OR_RETURN(auto store, cold_.StoreFor(sm->storage_id));
    auto next = std::make_shared<ScopeManifest>();
    next->storage_id = sm->storage_id;
    next->folder = sm->folder;
    next->manifest.next_segment_id = sm->manifest.next_segment_id;
    if (options_.unique_file_id) {
      next->manifest.next_segment_id =
          std::max(next->manifest.next_segment_id, options_.unique_file_id());
    }
    if (!rows.empty()) {
      const int64_t id = next->manifest.next_segment_id++;
      KALAM_ASSIGN_OR_RETURN(EncodedSegment enc, EncodeSegment(def, rows));
      enc.entry.file = SegmentFileName(id);
      enc.entry.id = id;
      enc.entry.created_at_ms = now_ms;
      KALAM_RETURN_IF_ERROR(store->Put(Join(next->folder, enc.entry.file), enc.file));
      next->manifest.segments.push_back(enc.entry);
    }
    // The vector indexes, rebuilt from the surviving rows (their tombstones dropped); the old
    // snapshots are obsolete once the new manifest is committed, like the old segments.
    next->manifest.vector_indexes = sm->manifest.vector_indexes;
    if (options_.snapshot_vectors) {
      next->manifest.vector_indexes =
          options_.snapshot_vectors(def, scope, true, *store, next->folder,
                                    next->manifest.next_segment_id, sm->manifest.vector_indexes);
      // A new snapshot used the number: no later file of the scope may.
      if (!ReplacedFiles(next->manifest.vector_indexes, sm->manifest.vector_indexes).empty()) {
        ++next->manifest.next_segment_id;
      }
    }
    KALAM_RETURN_IF_ERROR(
        store->Put(Join(next->folder, "manifest.json"), EncodeManifest(next->manifest)));
    std::shared_ptr<const ScopeManifest> installed = next;
    KALAM_RETURN_IF_ERROR(writer_.CommitTiering(def, scope, [&](storage::WriteBatch* batch) {
      // A scope whose every row was an expired tombstone keeps its manifest (empty), so that its
      // next segment id keeps growing and no file name is ever reused.
      ColdStore::StageManifest(def.table_id, scope, installed.get(), batch);
      if (!purged.empty()) KALAM_RETURN_IF_ERROR(options_.on_purge(def, purged, batch));
      return Status::OK();
    }));
    if (!purged.empty() && options_.after_purge) options_.after_purge();
    for (const auto& seg : sm->manifest.segments) {
      result.obsolete.emplace_back(sm->storage_id, Join(sm->folder, seg.file));
    }
    const auto& old_vectors = sm->manifest.vector_indexes;
    for (const auto& f : ReplacedFiles(old_vectors, next->manifest.vector_indexes)) {
      result.obsolete.emplace_back(sm->storage_id, Join(sm->folder, f));
    }
    result.scopes += 1;
    result.segments_merged += static_cast<int64_t>(sm->manifest.segments.size());
    result.rows += static_cast<int64_t>(rows.size());
  }
  return result;
}

}  // namespace kalam::table
