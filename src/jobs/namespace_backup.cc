// BACKUP NAMESPACE / RESTORE NAMESPACE (jobs/namespace_backup.h, docs/backup.md).
#include "jobs/namespace_backup.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "filestore/sha256.h"
#include "jobs/backup_files.h"
#include "table/keys.h"
#include "table/table_store.h"

namespace kalam::jobs {

namespace fs = std::filesystem;
namespace json = boost::json;
using catalog::TableDef;
using catalog::TableId;
using storage::Partition;

namespace {

constexpr std::string_view kNamespaceFile = "namespace.json";
constexpr size_t kHotChunkBytes = 4u << 20;  // hot.kv write buffer and restore batch size

std::string TableDir(TableId id) { return "tables/" + std::to_string(id); }

std::string JoinKey(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

void PutU32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>((v >> shift) & 0xff));
}

bool GetU32(std::string_view data, size_t* pos, uint32_t* v) {
  if (data.size() - *pos < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v = (*v << 8) | static_cast<unsigned char>(data[*pos + i]);
  *pos += 4;
  return true;
}

// A file written piece by piece and fsynced at the end.
class SyncedWriter {
 public:
  explicit SyncedWriter(const fs::path& path) : path_(path), f_(std::fopen(path.c_str(), "wb")) {}
  ~SyncedWriter() {
    if (f_) std::fclose(f_);
  }
  Status Append(std::string_view data) {
    if (!f_ || std::fwrite(data.data(), 1, data.size(), f_) != data.size()) {
      return Status::IoError("Cannot write '" + path_.string() + "'");
    }
    return Status::OK();
  }
  Status Close() {
    const bool ok = f_ && std::fflush(f_) == 0 && ::fsync(fileno(f_)) == 0;
    const bool closed = f_ && std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok || !closed) return Status::IoError("Cannot write '" + path_.string() + "'");
    return Status::OK();
  }

 private:
  fs::path path_;
  std::FILE* f_;
};

// One cold scope of a table as the backup records it.
struct ScopeEntry {
  table::Scope scope;
  std::string storage_id;
  std::string folder;
  std::string dir;  // "tables/<id>/cold/<n>", relative to the backup
  table::Manifest manifest;
};

// One table as the backup records it.
struct TableEntry {
  TableId id = 0;
  std::vector<std::shared_ptr<TableDef>> versions;  // oldest first
  bool has_hot = false;
  std::vector<ScopeEntry> scopes;
};

std::string TableEntryJson(const TableEntry& t) {
  json::array versions;
  for (const auto& v : t.versions) versions.push_back(json::parse(v->ToJson()));
  json::array scopes;
  for (const auto& s : t.scopes) {
    scopes.push_back(json::object{{"scope", s.scope},
                                  {"storage_id", s.storage_id},
                                  {"folder", s.folder},
                                  {"dir", s.dir},
                                  {"manifest", json::parse(table::EncodeManifest(s.manifest))}});
  }
  return json::serialize(json::object{{"table_id", t.id},
                                      {"table_name", t.versions.back()->table_name},
                                      {"has_hot", t.has_hot},
                                      {"versions", std::move(versions)},
                                      {"scopes", std::move(scopes)}}) +
         "\n";
}

Result<TableEntry> TableEntryFromJson(std::string_view text, const std::string& file) {
  auto bad = [&](const std::string& what) {
    return Status::Corruption("Backup file '" + file + "' is not valid: " + what);
  };
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  TableEntry t;
  try {
    const json::object& o = v.as_object();
    t.id = o.at("table_id").to_number<uint64_t>();
    t.has_hot = o.at("has_hot").as_bool();
    for (const auto& ver : o.at("versions").as_array()) {
      KALAM_ASSIGN_OR_RETURN(auto def, TableDef::FromJson(json::serialize(ver)));
      t.versions.push_back(std::move(def));
    }
    for (const auto& sv : o.at("scopes").as_array()) {
      const json::object& s = sv.as_object();
      ScopeEntry e;
      e.scope = std::string(s.at("scope").as_string());
      e.storage_id = std::string(s.at("storage_id").as_string());
      e.folder = std::string(s.at("folder").as_string());
      e.dir = std::string(s.at("dir").as_string());
      KALAM_ASSIGN_OR_RETURN(e.manifest, table::DecodeManifest(json::serialize(s.at("manifest"))));
      t.scopes.push_back(std::move(e));
    }
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  if (t.versions.empty()) return bad("no schema version");
  return t;
}

}  // namespace

std::string RestoredSegmentFile(int64_t segment_id, TableId table) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "batch-%lld-t%llu.parquet", static_cast<long long>(segment_id),
                static_cast<unsigned long long>(table));
  return buf;
}

table::Manifest RetargetManifest(const table::Manifest& m, TableId table,
                                 int64_t min_next_segment_id) {
  table::Manifest out = m;
  for (auto& seg : out.segments) seg.file = RestoredSegmentFile(seg.id, table);
  // Vector index snapshots are not part of a backup (derived data): rebuilt from the rows.
  out.vector_indexes.clear();
  out.next_segment_id = std::max(out.next_segment_id, min_next_segment_id);
  return out;
}

void AppendHotEntry(Partition p, std::string_view key, std::string_view value, std::string* out) {
  out->push_back(static_cast<char>(p));
  PutU32(static_cast<uint32_t>(key.size()), out);
  out->append(key);
  PutU32(static_cast<uint32_t>(value.size()), out);
  out->append(value);
}

bool ReadHotEntry(std::string_view data, size_t* pos, Partition* p, std::string_view* key,
                  std::string_view* value) {
  if (*pos >= data.size()) return false;
  const auto part = static_cast<uint8_t>(data[*pos]);
  if (part != static_cast<uint8_t>(Partition::kRows) && part != static_cast<uint8_t>(Partition::kPk)) {
    return false;
  }
  size_t at = *pos + 1;
  uint32_t klen = 0, vlen = 0;
  if (!GetU32(data, &at, &klen) || data.size() - at < klen) return false;
  *key = data.substr(at, klen);
  at += klen;
  if (!GetU32(data, &at, &vlen) || data.size() - at < vlen) return false;
  *value = data.substr(at, vlen);
  *pos = at + vlen;
  *p = static_cast<Partition>(part);
  return true;
}

Result<BackupManifest> CreateNamespaceBackup(const NamespaceBackupSources& src, std::string_view ns_in,
                                             const std::string& dir_text, int64_t now_ms,
                                             const table::TieringContext* ctx) {
  auto step = [&](std::string s) {
    if (ctx) ctx->ReportProgress(std::move(s));
  };
  const std::string ns = catalog::LowerName(ns_in);
  KALAM_ASSIGN_OR_RETURN(const fs::path dir, CreateBackupDirectory(dir_text));
  std::error_code ec;
  auto fail = [&](Status s) -> Status {
    std::error_code rec;
    fs::remove_all(dir, rec);
    return s;
  };

  BackupManifest m;
  m.kind = std::string(kBackupKindNamespace);
  m.namespace_name = ns;
  m.namespaces = {ns};
  m.server_version = src.server_version;
  m.created_at_ms = now_ms;
  catalog::NamespaceDef nsdef;
  std::vector<TableEntry> tables;
  commit::CommitPipeline::ReadPoint rp;
  std::vector<std::string> paths;  // every file written, relative to `dir`

  // The consistent point: no commit group is being written and no flush or compaction installs a
  // manifest, so the read point's snapshot, its `_seq` and the cold manifests describe one state.
  step("Taking the consistent point (snapshot and segment links)");
  const auto point_start = std::chrono::steady_clock::now();
  Status point = src.pipeline.RunExclusive([&]() -> Status {
    rp = src.pipeline.TakeReadPoint();
    auto snap = src.catalog.snapshot();
    const catalog::NamespaceDef* found = snap->FindNamespace(ns);
    if (!found) return Status::NotFound("Namespace '" + ns + "' does not exist");
    nsdef = *found;
    for (const auto& def : snap->TablesIn(ns)) {
      TableEntry t;
      t.id = def->table_id;
      KALAM_ASSIGN_OR_RETURN(auto history, src.catalog.SchemaHistory(def->table_id));
      for (auto& v : history) {
        if (v->schema_version <= def->schema_version) t.versions.push_back(std::move(v));
      }
      if (t.versions.empty() || t.versions.back()->schema_version != def->schema_version) {
        t.versions.push_back(std::make_shared<TableDef>(*def));
      }
      t.has_hot = def->type != catalog::TableType::kStream;
      if (t.has_hot) {
        size_t n = 0;
        for (const auto& [scope, sm] : src.cold.ScopesOf(def->table_id)) {
          ScopeEntry e{scope, sm->storage_id, sm->folder,
                       TableDir(def->table_id) + "/cold/" + std::to_string(n++), sm->manifest};
          auto storage = src.storages.Find(sm->storage_id);
          if (!storage) {
            return Status::NotFound("Storage '" + sm->storage_id + "' of table '" +
                                    def->QualifiedName() + "' does not exist");
          }
          for (const auto& seg : sm->manifest.segments) {
            const std::string rel = e.dir + "/" + seg.file;
            if (storage->storage_type == "filesystem") {
              KALAM_RETURN_IF_ERROR(LinkOrCopy(
                  fs::path(storage->base_directory) / JoinKey(sm->folder, seg.file), dir / rel));
            } else {
              // Another kind of store (S3): its objects are read now, while no compaction can
              // replace them.
              KALAM_ASSIGN_OR_RETURN(auto store, src.cold.StoreFor(sm->storage_id));
              KALAM_ASSIGN_OR_RETURN(std::string bytes, store->Get(JoinKey(sm->folder, seg.file)));
              fs::create_directories((dir / rel).parent_path(), ec);
              if (ec) return BackupIoError("Cannot create '" + (dir / rel).parent_path().string() + "'", ec);
              KALAM_RETURN_IF_ERROR(WriteFileSynced(dir / rel, bytes));
            }
            paths.push_back(rel);
          }
          t.scopes.push_back(std::move(e));
        }
      }
      tables.push_back(std::move(t));
    }
    return Status::OK();
  });
  if (!point.ok()) return fail(point);
  m.seq = rp.seq;
  m.pause_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - point_start)
                   .count();

  // Outside the exclusive step: the hot rows from the snapshot, the descriptions, checksums.
  json::array ids;
  for (const auto& t : tables) {
    if (ctx && ctx->cancelled()) return fail(Status::Unavailable("Backup cancelled"));
    ids.push_back(t.id);
    const fs::path tdir = dir / TableDir(t.id);
    fs::create_directories(tdir, ec);
    if (ec) return fail(BackupIoError("Cannot create '" + tdir.string() + "'", ec));
    if (t.has_hot) {
      step("Writing the hot rows of " + t.versions.back()->QualifiedName());
      SyncedWriter out(tdir / "hot.kv");
      std::string buf(kHotFileMagic);
      for (Partition p : {Partition::kRows, Partition::kPk}) {
        storage::ReadOptions ro;
        ro.snapshot = rp.snapshot.get();
        ro.lower_bound = table::TableBegin(t.id);
        ro.upper_bound = table::TableEnd(t.id);
        auto it = src.kv.NewIterator(p, ro);
        for (it->Seek(ro.lower_bound); it->Valid(); it->Next()) {
          AppendHotEntry(p, it->key(), it->value(), &buf);
          if (buf.size() >= kHotChunkBytes) {
            if (Status s = out.Append(buf); !s.ok()) return fail(s);
            buf.clear();
          }
        }
        if (!it->status().ok()) return fail(it->status());
      }
      if (Status s = out.Append(buf); !s.ok()) return fail(s);
      if (Status s = out.Close(); !s.ok()) return fail(s);
      paths.push_back(TableDir(t.id) + "/hot.kv");
    }
    if (Status s = WriteFileSynced(tdir / "schema.json", TableEntryJson(t)); !s.ok()) return fail(s);
    paths.push_back(TableDir(t.id) + "/schema.json");
  }
  rp.snapshot.reset();  // the snapshot pins old versions in RocksDB: released as soon as possible
  const std::string ns_json =
      json::serialize(json::object{{"name", nsdef.name},
                                   {"options", nsdef.options_json},
                                   {"created_at_us", nsdef.created_at_us},
                                   {"tables", std::move(ids)}}) +
      "\n";
  if (Status s = WriteFileSynced(dir / kNamespaceFile, ns_json); !s.ok()) return fail(s);
  paths.push_back(std::string(kNamespaceFile));
  std::sort(paths.begin(), paths.end());
  size_t done = 0;
  for (const auto& rel : paths) {
    if (ctx && ctx->cancelled()) return fail(Status::Unavailable("Backup cancelled"));
    if (++done % 64 == 0) {
      step("Checksumming file " + std::to_string(done) + " of " + std::to_string(paths.size()));
    }
    if (Status s = Unshare(dir / rel); !s.ok()) return fail(s);
    auto digest = filestore::Sha256OfFile((dir / rel).string());
    if (!digest.ok()) return fail(digest.status());
    BackupFile f;
    f.path = rel;
    f.size_bytes = digest->size_bytes;
    f.sha256 = std::move(digest->sha256);
    m.files.push_back(std::move(f));
  }
  const fs::path tmp = dir / (std::string(kBackupManifestName) + ".tmp");
  if (Status s = WriteFileSynced(tmp, m.ToJson()); !s.ok()) return fail(s);
  fs::rename(tmp, dir / kBackupManifestName, ec);
  if (ec) return fail(BackupIoError("Cannot write backup.json in '" + dir_text + "'", ec));
  return m;
}

Result<NamespaceRestoreResult> RestoreNamespaceBackup(const NamespaceBackupSources& src,
                                                      const std::string& from,
                                                      const BackupManifest& m,
                                                      const std::string& target_in, bool replace,
                                                      const table::TieringContext* ctx,
                                                      std::chrono::milliseconds test_pause) {
  auto step = [&](std::string s) {
    if (ctx) ctx->ReportProgress(std::move(s));
  };
  const fs::path dir(from);
  const std::string target = catalog::LowerName(target_in);
  if (m.kind != kBackupKindNamespace) {
    return Status::InvalidArgument("Backup '" + from + "' is a database backup; use RESTORE DATABASE");
  }
  if (!replace && src.catalog.snapshot()->FindNamespace(target)) {
    return Status::AlreadyExists("Namespace '" + target + "' already exists");
  }

  // Read the descriptions (checked by VerifyBackup already).
  KALAM_ASSIGN_OR_RETURN(std::string ns_text, ReadWholeFile(dir / kNamespaceFile));
  boost::system::error_code jec;
  json::value nsv = json::parse(ns_text, jec);
  if (jec || !nsv.is_object()) {
    return Status::Corruption("Backup file 'namespace.json' is not valid: not a JSON object");
  }
  catalog::NamespaceDef nsdef;
  std::vector<TableEntry> tables;
  try {
    const json::object& o = nsv.as_object();
    nsdef.name = target;
    nsdef.options_json = std::string(o.at("options").as_string());
    nsdef.created_at_us = o.at("created_at_us").to_number<int64_t>();
    for (const auto& idv : o.at("tables").as_array()) {
      const std::string rel = TableDir(idv.to_number<uint64_t>()) + "/schema.json";
      KALAM_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(dir / rel));
      KALAM_ASSIGN_OR_RETURN(TableEntry t, TableEntryFromJson(text, rel));
      tables.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("Backup file 'namespace.json' is not valid: ") + e.what());
  }

  NamespaceRestoreResult result;
  result.ns = target;
  result.tables = tables.size();
  KALAM_ASSIGN_OR_RETURN(TableId first_id, src.catalog.ReserveTableIds(tables.size()));

  // What the restore wrote before publishing, removed again when it fails.
  std::vector<std::pair<std::string, std::string>> objects;  // storage id, key
  auto fail = [&](Status s) -> Status {
    storage::WriteBatch undo;
    for (size_t i = 0; i < tables.size(); ++i) table::TableStore::AppendDropTable(first_id + i, &undo);
    // The ids are reserved and named by no catalog entry, so rows left behind by a failed undo
    // are never read; they only cost space, which the log names.
    if (Status undone = src.kv.Write(undo); !undone.ok()) {
      spdlog::warn("RESTORE NAMESPACE {} failed and its restored rows could not be removed "
                   "(unreadable, they only take space): {}", target, undone.ToString());
    }
    for (const auto& [sid, key] : objects) {
      // A segment no manifest names is never read: a failed delete only costs space.
      auto store = src.cold.StoreFor(sid);
      Status deleted = store.ok() ? (*store)->Delete(key) : store.status();
      if (!deleted.ok()) {
        spdlog::warn("RESTORE NAMESPACE {} failed and segment '{}' of storage '{}' could not be "
                     "removed; delete it by hand: {}", target, key, sid, deleted.ToString());
      }
    }
    return s;
  };

  const auto old_snap = src.catalog.snapshot();
  std::vector<std::vector<std::shared_ptr<TableDef>>> histories;
  struct RestoredScope {
    TableId table = 0;
    table::Scope scope;
    std::shared_ptr<const table::ScopeManifest> sm;
  };
  std::vector<RestoredScope> restored;
  storage::WriteBatch manifests;
  for (size_t i = 0; i < tables.size(); ++i) {
    if (ctx && ctx->cancelled()) return fail(Status::Unavailable("Restore cancelled"));
    const TableEntry& t = tables[i];
    const TableId id = first_id + i;
    std::vector<std::shared_ptr<TableDef>> history;
    for (const auto& v : t.versions) {
      auto def = std::make_shared<TableDef>(*v);
      def->table_id = id;
      def->namespace_id = target;
      history.push_back(std::move(def));
    }
    const TableDef& latest = *history.back();
    step("Restoring " + latest.QualifiedName());
    if (t.has_hot) {
      const std::string rel = TableDir(t.id) + "/hot.kv";
      // Streamed: a window of the file at a time (an entry may span windows), so memory stays
      // at about two batches whatever the table's size.
      std::ifstream in(dir / rel, std::ios::binary);
      if (!in) return fail(Status::IoError("Cannot read '" + (dir / rel).string() + "'"));
      std::string buf;
      size_t pos = 0;
      bool at_eof = false;
      auto refill = [&]() -> Status {
        buf.erase(0, pos);
        pos = 0;
        const size_t had = buf.size();
        buf.resize(had + kHotChunkBytes);
        in.read(buf.data() + had, static_cast<std::streamsize>(kHotChunkBytes));
        buf.resize(had + static_cast<size_t>(in.gcount()));
        if (in.bad()) return Status::IoError("Cannot read '" + (dir / rel).string() + "'");
        at_eof = in.eof();
        return Status::OK();
      };
      if (Status s = refill(); !s.ok()) return fail(s);
      if (!std::string_view(buf).starts_with(kHotFileMagic)) {
        return fail(Status::Corruption("Backup file '" + rel + "' is not a hot-row file"));
      }
      pos = kHotFileMagic.size();
      uint64_t consumed = 0;  // bytes of the file before buf[0]
      storage::WriteBatch batch;
      int64_t rows = 0;
      std::string key;
      while (pos < buf.size() || !at_eof) {
        Partition p{};
        std::string_view k, v;
        size_t next = pos;
        if (!ReadHotEntry(buf, &next, &p, &k, &v)) {
          if (!at_eof) {  // the entry may continue in the next window
            consumed += pos;
            if (Status s = refill(); !s.ok()) return fail(s);
            continue;
          }
          return fail(Status::Corruption("Backup file '" + rel + "' has a malformed entry at byte " +
                                         std::to_string(consumed + pos)));
        }
        if (!table::RetargetTableKey(k, t.id, id, &key)) {
          return fail(Status::Corruption("Backup file '" + rel + "' has a key of another table at "
                                         "byte " + std::to_string(consumed + pos)));
        }
        pos = next;
        batch.Put(p, key, v);
        if (p == Partition::kRows) ++rows;
        ++result.hot_entries;
        if (batch.bytes() >= kHotChunkBytes) {
          if (Status s = src.kv.Write(batch); !s.ok()) return fail(s);
          batch.Clear();
        }
      }
      if (Status s = src.kv.Write(batch); !s.ok()) return fail(s);
      result.hot_rows.emplace_back(id, rows);
    }
    std::shared_ptr<const TableDef> replaced =
        replace ? old_snap->FindTable(target, latest.table_name) : nullptr;
    for (const auto& e : t.scopes) {
      auto located = src.cold.Locate(latest, e.scope);
      if (!located.ok()) return fail(located.status());
      const auto& [sid, folder] = *located;
      auto store = src.cold.StoreFor(sid);
      if (!store.ok()) return fail(store.status());
      int64_t min_next = 0;
      if (replaced) {
        auto prev = src.cold.Get(replaced->table_id, e.scope);
        if (prev && prev->storage_id == sid && prev->folder == folder) {
          min_next = prev->manifest.next_segment_id;
        }
      }
      auto sm = std::make_shared<table::ScopeManifest>();
      sm->storage_id = sid;
      sm->folder = folder;
      sm->manifest = RetargetManifest(e.manifest, id, min_next);
      for (size_t s = 0; s < e.manifest.segments.size(); ++s) {
        const std::string rel = e.dir + "/" + e.manifest.segments[s].file;
        auto bytes = ReadWholeFile(dir / rel);
        if (!bytes.ok()) return fail(bytes.status());
        const std::string key = JoinKey(folder, sm->manifest.segments[s].file);
        objects.emplace_back(sid, key);
        if (Status st = (*store)->Put(key, *bytes); !st.ok()) return fail(st);
        ++result.segments;
      }
      table::ColdStore::StageManifest(id, e.scope, sm.get(), &manifests);
      restored.push_back({id, e.scope, std::move(sm)});
    }
    histories.push_back(std::move(history));
  }

  if (test_pause.count() > 0) std::this_thread::sleep_for(test_pause);
  // Publish: namespace, tables, schema history and cold manifests in one write.
  step("Publishing namespace " + target);
  Status published = src.catalog.RestoreNamespace(
      nsdef, histories, replace, std::move(manifests),
      [](const TableDef& t, storage::WriteBatch* b) {
        table::TableStore::AppendDropTable(t.table_id, b);
        table::ColdStore::StageDropTable(t.table_id, b);
      },
      &result.replaced);
  if (!published.ok()) return fail(published);
  // A brand-new table id has no previous manifest to get back.
  for (const auto& r : restored) src.cold.Install(r.table, r.scope, r.sm);
  // The replaced tables are gone from the catalog and their manifests from `meta`; a file
  // ForgetTable fails to delete is named by no manifest and never read, so it only costs space.
  for (TableId id : result.replaced) {
    if (Status forgot = src.cold.ForgetTable(id); !forgot.ok()) {
      spdlog::warn("RESTORE NAMESPACE {} REPLACE: files of replaced table {} could not all be "
                   "deleted; remove them by hand: {}", target, id, forgot.ToString());
    }
  }
  // The manifest.json mirrors (for external readers) last: a replaced table in the same folder
  // had its mirror deleted by ForgetTable just now.
  for (const auto& r : restored) {
    auto store = src.cold.StoreFor(r.sm->storage_id);
    if (!store.ok()) continue;  // the storage was usable a moment ago; the mirror is advisory
    // The mirror is a copy for external readers; `meta` holds the manifest, so a failure is
    // logged, not returned (the restore is already published).
    if (Status put = (*store)->Put(JoinKey(r.sm->folder, "manifest.json"),
                                   table::EncodeManifest(r.sm->manifest));
        !put.ok()) {
      spdlog::warn("RESTORE NAMESPACE {}: manifest.json mirror of '{}' not written: {}", target,
                   r.sm->folder, put.ToString());
    }
  }
  return result;
}

}  // namespace kalam::jobs
