// Whole-server backup, verification and offline restore (docs/backup.md).
#include "jobs/backup.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/time_format.h"
#include "filestore/sha256.h"
#include "jobs/backup_files.h"
#include "storage/rocks_store.h"
#include "table/manifest.h"

namespace kalam::jobs {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

constexpr std::string_view kRocksDir = "rocks";
constexpr std::string_view kStoragesDir = "storages";

Status Io(const std::string& what, const std::error_code& ec) { return BackupIoError(what, ec); }

std::string JoinKey(const std::string& folder, const std::string& name) {
  return folder.empty() ? name : folder + "/" + name;
}

// True when `path` is strictly inside `root` (both lexically normal, absolute): a backup is a
// directory of its own under a root, never the root itself.
bool IsInside(const fs::path& path, const fs::path& root) {
  auto rel = path.lexically_relative(root);
  if (rel.empty() || rel == ".") return false;
  const std::string first = rel.begin()->string();
  return first != ".." && !rel.is_absolute();
}

// Every regular file under `root`/`sub`, as paths relative to `root` with '/' separators, sorted.
Result<std::vector<std::string>> ListFiles(const fs::path& root, std::string_view sub) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path start = root / sub;
  if (!fs::exists(start, ec)) return out;
  for (fs::recursive_directory_iterator it(start, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file()) out.push_back(it->path().lexically_relative(root).generic_string());
  }
  if (ec) return Io("Cannot list '" + start.string() + "'", ec);
  std::sort(out.begin(), out.end());
  return out;
}

// Copies every file of the tree `from` into `to` (created).
Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (!ec) fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  if (ec) return Io("Cannot copy '" + from.string() + "' to '" + to.string() + "'", ec);
  return Status::OK();
}

std::string SegmentIdentity(const table::SegmentEntry& seg) {
  return std::to_string(seg.id) + ":" + std::to_string(seg.min_seq) + ":" +
         std::to_string(seg.max_seq) + ":" + std::to_string(seg.row_count) + ":" +
         std::to_string(seg.created_at_ms);
}

}  // namespace

uint64_t BackupManifest::total_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.size_bytes;
  return n;
}

uint64_t BackupManifest::copied_files() const { return files.size() - reused_files(); }

uint64_t BackupManifest::reused_files() const {
  return static_cast<uint64_t>(
      std::count_if(files.begin(), files.end(), [](const BackupFile& f) { return f.reused; }));
}

std::string BackupManifest::ToJson() const {
  json::array st;
  for (const auto& s : storages) {
    st.push_back(json::object{{"storage_id", s.storage_id},
                              {"storage_type", s.storage_type},
                              {"base_directory", s.base_directory},
                              {"included", s.included}});
  }
  json::array fl;
  for (const auto& f : files) {
    json::object o{{"path", f.path},
                   {"size_bytes", f.size_bytes},
                   {"sha256", f.sha256},
                   {"reused", f.reused}};
    if (!f.segment.empty()) o["segment"] = f.segment;
    if (!f.base.empty()) o["base"] = f.base;
    fl.push_back(std::move(o));
  }
  json::object out{{"format_version", format_version},
                   {"kind", kind},
                   {"server_version", server_version},
                   {"seq", seq},
                   {"created_at_ms", created_at_ms},
                   {"created_at", FormatRfc3339(created_at_ms * 1000)},
                   {"total_bytes", total_bytes()},
                   {"copied_files", copied_files()},
                   {"reused_files", reused_files()}};
  if (!namespace_name.empty()) out["namespace"] = namespace_name;
  if (!namespaces.empty()) {
    json::array names;
    for (const auto& n : namespaces) names.push_back(json::value(n));
    out["namespaces"] = std::move(names);
  }
  if (!incremental_from.empty()) out["incremental_from"] = incremental_from;
  out["storages"] = std::move(st);
  out["files"] = std::move(fl);
  return json::serialize(out) + "\n";
}

Result<BackupManifest> BackupManifest::FromJson(std::string_view text) {
  auto bad = [](std::string what) {
    return Status::Corruption("backup.json is not a valid backup manifest: " + what);
  };
  std::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const json::object& o = v.as_object();
  BackupManifest m;
  try {
    m.format_version = static_cast<int>(o.at("format_version").to_number<int64_t>());
    if (m.format_version != kBackupFormatVersion) {
      return bad("format_version " + std::to_string(m.format_version) + " is not supported (" +
                 std::to_string(kBackupFormatVersion) + " is)");
    }
    if (const auto* k = o.if_contains("kind")) m.kind = std::string(k->as_string());
    if (const auto* n = o.if_contains("namespace")) m.namespace_name = std::string(n->as_string());
    if (const auto* names = o.if_contains("namespaces")) {
      for (const auto& n : names->as_array()) m.namespaces.emplace_back(n.as_string());
    }
    m.server_version = std::string(o.at("server_version").as_string());
    m.seq = o.at("seq").to_number<int64_t>();
    m.created_at_ms = o.at("created_at_ms").to_number<int64_t>();
    if (const auto* inc = o.if_contains("incremental_from")) {
      m.incremental_from = std::string(inc->as_string());
    }
    for (const auto& sv : o.at("storages").as_array()) {
      const json::object& s = sv.as_object();
      m.storages.push_back({std::string(s.at("storage_id").as_string()),
                            std::string(s.at("storage_type").as_string()),
                            std::string(s.at("base_directory").as_string()),
                            s.at("included").as_bool()});
    }
    for (const auto& fv : o.at("files").as_array()) {
      const json::object& f = fv.as_object();
      BackupFile file;
      file.path = std::string(f.at("path").as_string());
      file.size_bytes = f.at("size_bytes").to_number<uint64_t>();
      file.sha256 = std::string(f.at("sha256").as_string());
      if (const auto* seg = f.if_contains("segment")) file.segment = std::string(seg->as_string());
      if (const auto* reused = f.if_contains("reused")) file.reused = reused->as_bool();
      if (const auto* base = f.if_contains("base")) file.base = std::string(base->as_string());
      auto leaves = [](const std::string& path) {
        const fs::path p(path);
        return p.is_absolute() || path.find('\0') != std::string::npos ||
               std::any_of(p.begin(), p.end(), [](const fs::path& c) { return c == ".."; });
      };
      if (file.path.empty() || leaves(file.path)) {
        return bad("file path '" + file.path + "' leaves the backup directory");
      }
      if (leaves(file.base)) return bad("base '" + file.base + "' leaves the storage");
      m.files.push_back(std::move(file));
    }
  } catch (const std::exception& e) {
    return bad(e.what());
  }
  return m;
}

std::vector<std::string> EffectiveBackupRoots(const std::vector<std::string>& allowed_roots,
                                              const std::string& data_dir) {
  if (!allowed_roots.empty()) return allowed_roots;
  return {(fs::absolute(data_dir).lexically_normal().parent_path() / "backups").string()};
}

Result<std::string> ResolveBackupDir(std::string_view dir, const std::vector<std::string>& roots,
                                     bool allow_root) {
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(fs::absolute(fs::path(dir)), ec);
  if (ec) return Io("Cannot resolve backup path '" + std::string(dir) + "'", ec);
  std::string list;
  for (const auto& root : roots) {
    if (!list.empty()) list += ", ";
    list += "'" + root + "'";
    std::error_code rec;
    const fs::path r = fs::weakly_canonical(fs::absolute(fs::path(root)), rec);
    if (rec) continue;
    if (IsInside(resolved.lexically_normal(), r.lexically_normal()) ||
        (allow_root && resolved.lexically_normal() == r.lexically_normal())) {
      return resolved.string();
    }
  }
  return Status::InvalidArgument("Backup path '" + std::string(dir) +
                                 "' is outside the allowed backup directories "
                                 "(backup.allowed_dirs: " +
                                 (list.empty() ? std::string("none") : list) + ")");
}

Result<BackupManifest> CreateBackup(const BackupSources& src, const std::string& dir_text,
                                    int64_t now_ms, const table::TieringContext* ctx,
                                    const BackupBase* base) {
  auto step = [&](std::string s) {
    if (ctx) ctx->ReportProgress(std::move(s));
  };
  KALAM_ASSIGN_OR_RETURN(const fs::path dir, CreateBackupDirectory(dir_text));
  std::error_code ec;
  // From here on a failure removes the partial backup.
  auto fail = [&](Status s) -> Status {
    std::error_code rec;
    fs::remove_all(dir, rec);
    return s;
  };

  BackupManifest m;
  m.server_version = src.server_version;
  m.created_at_ms = now_ms;
  if (base) m.incremental_from = base->location;
  std::map<std::string, catalog::StorageDef> storages;
  for (auto& def : src.storages.List()) storages[def.storage_id] = def;
  for (const auto& [id, def] : storages) {
    m.storages.push_back({id, def.storage_type, def.base_directory, true});
  }
  std::map<std::string, const BackupFile*> base_files;
  if (base) {
    for (const auto& f : base->manifest.files) base_files[f.path] = &f;
  }

  // The consistent point: with no commit group being written and no flush or compaction step
  // running, the last `_seq`, the checkpoint and the cold manifests all describe one state.
  std::vector<std::shared_ptr<const table::ScopeManifest>> manifests;
  // Flushing the memtables first leaves the checkpoint inside the exclusive step only the writes
  // that arrived since, so commits wait for a small flush instead of a large one.
  step("Flushing hot storage");
  if (Status s = src.kv.Flush(); !s.ok()) return fail(s);
  step("Taking the consistent point (checkpoint and segment links)");
  const auto point_start = std::chrono::steady_clock::now();
  bool holding = false;
  Status point = src.pipeline.RunExclusive([&]() -> Status {
    m.seq = src.pipeline.TakeReadPoint().seq;
    if (src.catalog) {
      for (const auto& [name, ns] : src.catalog->snapshot()->namespaces()) m.namespaces.push_back(name);
    }
    KALAM_RETURN_IF_ERROR(src.kv.Checkpoint((dir / kRocksDir).string()));
    // Taken before the manifests are read: every file they name stays until the release below.
    src.cold.HoldDeletes();
    holding = true;
    manifests = src.cold.AllManifests();
    for (const auto& sm : manifests) {
      auto def = storages.find(sm->storage_id);
      if (def == storages.end() || def->second.storage_type != "filesystem") continue;
      for (const auto& seg : sm->manifest.segments) {
        const std::string key = JoinKey(sm->folder, seg.file);
        KALAM_RETURN_IF_ERROR(LinkOrCopy(fs::path(def->second.base_directory) / key,
                                         dir / kStoragesDir / sm->storage_id / key));
      }
    }
    return Status::OK();
  });
  // Released when the backup returns, however it ends.
  struct Release {
    table::ColdStore* cold;
    ~Release() {
      if (!cold) return;
      Status released = cold->ReleaseDeletes();
      if (!released.ok()) {
        spdlog::error("Files of a table dropped during a backup could not be deleted; remove "
                      "them by hand: {}", released.ToString());
      }
    }
  } release{holding ? &src.cold : nullptr};
  if (!point.ok()) return fail(point);
  m.pause_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - point_start)
                   .count();

  // The base file `rel` when it may stand for the new one: same path and size, and the same
  // segment identity for segments.
  auto base_match = [&](const std::string& rel, uint64_t size,
                        const std::string& segment) -> const BackupFile* {
    auto it = base_files.find(rel);
    if (it == base_files.end() || it->second->size_bytes != size) return nullptr;
    if (!segment.empty() && it->second->segment != segment) return nullptr;
    return it->second;
  };
  // Takes the base file over: linked (or copied) from a base directory, else left out of `dir`.
  std::map<std::string, const BackupFile*> reused;
  auto reuse = [&](const std::string& rel, const BackupFile* bf) -> Status {
    std::error_code rec;
    fs::remove(dir / rel, rec);
    if (!base->dir.empty()) KALAM_RETURN_IF_ERROR(LinkOrCopy(fs::path(base->dir) / rel, dir / rel));
    reused[rel] = bf;
    return Status::OK();
  };

  // Outside the exclusive step: S3 storages' segments (deletes are held), manifest mirrors as of
  // the backup point, private copies of hard-linked files, checksums.
  std::map<std::string, std::string> segment_ids;  // backup path → segment identity
  size_t downloaded = 0;
  for (const auto& sm : manifests) {
    auto def = storages.find(sm->storage_id);
    if (def == storages.end()) continue;
    const bool remote = def->second.storage_type != "filesystem";
    std::shared_ptr<filestore::ObjectStore> store;
    for (const auto& seg : sm->manifest.segments) {
      const std::string key = JoinKey(sm->folder, seg.file);
      const std::string rel = std::string(kStoragesDir) + "/" + sm->storage_id + "/" + key;
      const std::string identity = SegmentIdentity(seg);
      segment_ids[rel] = identity;
      if (!remote) continue;
      if (ctx && ctx->cancelled()) return fail(Status::Unavailable("Backup cancelled"));
      if (const BackupFile* bf = base_match(rel, static_cast<uint64_t>(seg.size_bytes), identity)) {
        if (Status s = reuse(rel, bf); !s.ok()) return fail(s);
        continue;
      }
      if (!store) {
        auto opened = src.cold.StoreFor(sm->storage_id);
        if (!opened.ok()) return fail(opened.status());
        store = *opened;
      }
      if (++downloaded % 16 == 0) {
        step("Copying segments of storage '" + sm->storage_id + "': " + std::to_string(downloaded));
      }
      auto bytes = store->Get(key);
      if (!bytes.ok()) return fail(bytes.status().WithPrefix("Cannot copy segment: "));
      const fs::path target = dir / rel;
      fs::create_directories(target.parent_path(), ec);
      if (ec) return fail(Io("Cannot create '" + target.parent_path().string() + "'", ec));
      if (Status s = WriteFileSynced(target, *bytes); !s.ok()) return fail(s);
    }
  }
  step("Writing manifest mirrors");
  for (const auto& sm : manifests) {
    if (storages.find(sm->storage_id) == storages.end()) continue;
    const fs::path mirror =
        dir / kStoragesDir / sm->storage_id / JoinKey(sm->folder, "manifest.json");
    fs::create_directories(mirror.parent_path(), ec);
    if (ec) return fail(Io("Cannot create '" + mirror.parent_path().string() + "'", ec));
    if (Status s = WriteFileSynced(mirror, table::EncodeManifest(sm->manifest)); !s.ok()) {
      return fail(s);
    }
  }
  std::vector<std::string> paths;
  for (std::string_view sub : {kRocksDir, kStoragesDir}) {
    auto listed = ListFiles(dir, sub);
    if (!listed.ok()) return fail(listed.status());
    paths.insert(paths.end(), listed->begin(), listed->end());
  }
  if (base && base->dir.empty()) {
    // Reused files of a storage backup are not in `dir`; they are listed all the same.
    for (const auto& [rel, bf] : reused) paths.push_back(rel);
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  }
  size_t done = 0;
  for (const auto& rel : paths) {
    if (ctx && ctx->cancelled()) return fail(Status::Unavailable("Backup cancelled"));
    if (++done % 64 == 0) {
      step("Checksumming file " + std::to_string(done) + " of " + std::to_string(paths.size()));
    }
    auto seg = segment_ids.find(rel);
    const std::string identity = seg == segment_ids.end() ? std::string() : seg->second;
    const BackupFile* bf = nullptr;
    if (auto r = reused.find(rel); r != reused.end()) {
      bf = r->second;
    } else if (base) {
      std::error_code sec;
      const uint64_t size = fs::file_size(dir / rel, sec);
      if (sec) return fail(Io("Cannot inspect '" + (dir / rel).string() + "'", sec));
      const BackupFile* candidate = base_match(rel, size, identity);
      if (candidate && identity.empty()) {
        // Not a segment: the same name and size is not proof (a manifest mirror is rewritten,
        // an SST number can come back on a restored server), the same SHA-256 is.
        auto digest = filestore::Sha256OfFile((dir / rel).string());
        if (!digest.ok()) return fail(digest.status());
        if (digest->sha256 != candidate->sha256) candidate = nullptr;
      }
      if (candidate) {
        if (Status s = reuse(rel, candidate); !s.ok()) return fail(s);
        bf = candidate;
      }
    }
    if (bf) {
      BackupFile f = *bf;
      f.segment = identity;
      f.reused = true;
      if (!base->dir.empty()) f.base.clear();  // a directory backup holds its own link
      m.files.push_back(std::move(f));
      continue;
    }
    if (Status s = Unshare(dir / rel); !s.ok()) return fail(s);
    auto digest = filestore::Sha256OfFile((dir / rel).string());
    if (!digest.ok()) return fail(digest.status());
    BackupFile f;
    f.path = rel;
    f.size_bytes = digest->size_bytes;
    f.sha256 = std::move(digest->sha256);
    f.segment = identity;
    m.files.push_back(std::move(f));
  }
  // backup.json last, through a rename: its presence means the backup is complete.
  const fs::path tmp = dir / (std::string(kBackupManifestName) + ".tmp");
  if (Status s = WriteFileSynced(tmp, m.ToJson()); !s.ok()) return fail(s);
  fs::rename(tmp, dir / kBackupManifestName, ec);
  if (ec) return fail(Io("Cannot write backup.json in '" + dir_text + "'", ec));
  return m;
}

Result<BackupBase> LoadBackupBase(const std::string& dir_text) {
  const fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound("Base backup '" + dir_text + "' not found");
  if (!fs::exists(dir / kBackupManifestName, ec)) {
    return Status::NotFound("Base backup '" + dir_text +
                            "' is not a complete backup: backup.json is missing");
  }
  KALAM_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(dir / kBackupManifestName));
  BackupBase b;
  KALAM_ASSIGN_OR_RETURN(b.manifest, BackupManifest::FromJson(text));
  b.dir = dir_text;
  b.location = dir_text;
  return b;
}

Result<BackupManifest> VerifyBackup(const std::string& dir_text) {
  const fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    return Status::NotFound("Backup directory '" + dir_text + "' not found");
  }
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("'" + dir_text + "' is not a directory. A backup is a directory.");
  }
  if (!fs::exists(dir / kBackupManifestName, ec)) {
    return Status::NotFound("Backup directory '" + dir_text +
                            "' is not a complete backup: backup.json is missing");
  }
  KALAM_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(dir / kBackupManifestName));
  KALAM_ASSIGN_OR_RETURN(BackupManifest m, BackupManifest::FromJson(text));
  for (const auto& f : m.files) {
    if (!f.base.empty()) {
      return Status::FailedPrecondition(
          "Backup file '" + f.path + "' is kept in the base backup '" + f.base +
          "' of a storage; restore this backup with RESTORE DATABASE FROM STORAGE");
    }
    const fs::path p = dir / f.path;
    if (!fs::is_regular_file(fs::symlink_status(p, ec))) {
      return Status::Corruption("Backup file '" + f.path + "' is missing");
    }
    auto digest = filestore::Sha256OfFile(p.string());
    if (!digest.ok()) return Status::Corruption("Backup file '" + f.path + "' cannot be read");
    if (digest->size_bytes != f.size_bytes) {
      return Status::Corruption("Backup file '" + f.path + "' is damaged: " +
                                std::to_string(digest->size_bytes) + " bytes, expected " +
                                std::to_string(f.size_bytes));
    }
    if (digest->sha256 != f.sha256) {
      return Status::Corruption("Backup file '" + f.path + "' is damaged: SHA-256 mismatch");
    }
  }
  return m;
}

namespace {

// Fills the empty directory `build` with the data directory the backup at `from` (verified
// already, as `m`) restores to, for a server that will open it at `final_dir`: storage base
// directories are set for `final_dir`, not for `build`.
Status BuildDataDir(const std::string& from, const BackupManifest& m, const fs::path& build,
                    const fs::path& final_dir) {
  std::error_code ec;
  const fs::path src(from);
  KALAM_RETURN_IF_ERROR(CopyTree(src / kRocksDir, build / kRocksDir));
  // Always present, so a staged restore also replaces a live `storage` the backup has no files
  // for (no stale segment of the replaced state survives the swap).
  fs::create_directories(build / "storage", ec);
  if (ec) return Io("Cannot create '" + (build / "storage").string() + "'", ec);
  std::vector<std::pair<std::string, std::string>> relocations;  // storage id → new base
  for (const auto& st : m.storages) {
    if (!st.included) continue;
    const bool local = st.storage_id == catalog::kLocalStorageId;
    const fs::path base =
        local ? fs::path("storage") : fs::path("restored_storages") / st.storage_id;
    const fs::path files = src / kStoragesDir / st.storage_id;
    if (fs::exists(files, ec)) KALAM_RETURN_IF_ERROR(CopyTree(files, build / base));
    // An S3 storage the backup holds no file of (no table of it had cold data, or it is where
    // backups go) keeps its definition: there is nothing to re-point, and a restored server can
    // go on backing up to it.
    const std::string prefix = std::string(kStoragesDir) + "/" + st.storage_id + "/";
    const bool has_files = std::any_of(m.files.begin(), m.files.end(), [&](const BackupFile& f) {
      return f.path.compare(0, prefix.size(), prefix) == 0;
    });
    if (!local && (st.storage_type == "filesystem" || has_files)) {
      relocations.emplace_back(st.storage_id, (final_dir / base).string());
    }
  }
  // Point the storages at their new homes; `local` follows the data directory at every start.
  KALAM_ASSIGN_OR_RETURN(auto kv, storage::RocksStore::Open((build / kRocksDir).string(),
                                                            storage::RocksOptions{}));
  {
    KALAM_ASSIGN_OR_RETURN(auto storages, catalog::StorageCatalog::Open(
                                              *kv, Clock::System(), (final_dir / "storage").string()));
    for (const auto& [id, base] : relocations) {
      KALAM_RETURN_IF_ERROR(storages->Relocate(id, base));
    }
  }
  // The first start on this data records the restore gap (RecordRestoreGaps).
  storage::WriteBatch mark;
  mark.Put(storage::Partition::kMeta, kRestoredFromSeqKey, std::to_string(m.seq));
  KALAM_RETURN_IF_ERROR(kv->Write(mark));
  return kv->Close();
}

constexpr std::string_view kPendingDir = "restore_pending";
constexpr std::string_view kPendingBuildDir = "restore_pending.tmp";
constexpr std::string_view kReplacedDir = "restore_replaced";

}  // namespace

Result<BackupManifest> RestoreBackup(const std::string& from, const std::string& data_dir_text) {
  const fs::path data_dir = fs::absolute(data_dir_text).lexically_normal();
  KALAM_ASSIGN_OR_RETURN(bool empty, IsAbsentOrEmpty(data_dir));
  if (!empty) {
    return Status::FailedPrecondition("Data directory '" + data_dir_text +
                                      "' is not empty; restore into a new directory");
  }
  KALAM_ASSIGN_OR_RETURN(BackupManifest m, VerifyBackup(from));
  if (m.kind != kBackupKindDatabase) {
    return Status::InvalidArgument("Backup '" + from + "' is a namespace backup; restore it with "
                                   "RESTORE NAMESPACE into a running server");
  }

  // Built beside the target and renamed into place, so a failed or interrupted restore never
  // leaves a half-filled data directory.
  const fs::path staging = data_dir.string() + ".restoring";
  std::error_code ec;
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Io("Cannot create '" + staging.string() + "'", ec);
  Status built = BuildDataDir(from, m, staging, data_dir);
  // rename(2) replaces an empty directory.
  if (built.ok()) fs::rename(staging, data_dir, ec);
  if (built.ok() && ec) built = Io("Cannot move the restored data into '" + data_dir_text + "'", ec);
  if (!built.ok()) {
    std::error_code rec;
    fs::remove_all(staging, rec);
    return built;
  }
  return m;
}

Result<BackupManifest> StageRestore(const std::string& from, const std::string& data_dir_text) {
  const fs::path data_dir = fs::absolute(data_dir_text).lexically_normal();
  KALAM_ASSIGN_OR_RETURN(BackupManifest m, VerifyBackup(from));
  std::error_code ec;
  const fs::path build = data_dir / kPendingBuildDir;
  const fs::path pending = data_dir / kPendingDir;
  fs::remove_all(build, ec);
  // Left by an earlier applied restore whose clean-up was interrupted; nothing reads it.
  fs::remove_all(data_dir / kReplacedDir, ec);
  fs::create_directories(build, ec);
  if (ec) return Io("Cannot create '" + build.string() + "'", ec);
  Status built = BuildDataDir(from, m, build, data_dir);
  if (built.ok()) {
    fs::remove_all(pending, ec);  // a restore staged earlier is replaced by this one
    fs::rename(build, pending, ec);
    if (ec) built = Io("Cannot stage the restore in '" + pending.string() + "'", ec);
  }
  if (!built.ok()) {
    std::error_code rec;
    fs::remove_all(build, rec);
    return built;
  }
  return m;
}

Result<bool> ApplyStagedRestore(const std::string& data_dir_text) {
  const fs::path data_dir = fs::absolute(data_dir_text).lexically_normal();
  const fs::path pending = data_dir / kPendingDir;
  const fs::path replaced = data_dir / kReplacedDir;
  std::error_code ec;
  fs::remove_all(data_dir / kPendingBuildDir, ec);  // an unfinished staging: never applied
  if (!fs::exists(pending, ec)) {
    fs::remove_all(replaced, ec);
    return false;
  }
  // Each entry moves in two renames (live → replaced, staged → live); an entry still in
  // `pending` has not been moved in, so after a crash the loop simply continues.
  fs::create_directories(replaced, ec);
  if (ec) return Io("Cannot create '" + replaced.string() + "'", ec);
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(pending, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path().filename());
  }
  if (ec) return Io("Cannot list '" + pending.string() + "'", ec);
  for (const auto& name : entries) {
    const fs::path live = data_dir / name;
    if (fs::exists(fs::symlink_status(live, ec))) {
      fs::remove_all(replaced / name, ec);
      fs::rename(live, replaced / name, ec);
      if (ec) return Io("Cannot move '" + live.string() + "' aside", ec);
    }
    fs::rename(pending / name, live, ec);
    if (ec) return Io("Cannot move the restored '" + name.string() + "' into place", ec);
  }
  fs::remove(pending, ec);
  if (ec) return Io("Cannot remove '" + pending.string() + "'", ec);
  fs::remove_all(replaced, ec);  // best effort: a leftover is removed at the next start
  return true;
}

Result<std::vector<BackupListing>> ListBackups(const std::string& dir_text) {
  const fs::path dir(dir_text);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("Backup directory '" + dir_text + "' not found");
  }
  std::vector<fs::path> candidates;
  if (fs::exists(dir / kBackupManifestName, ec)) {
    candidates.push_back(dir);
  } else {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory() && !it->is_symlink() &&
          fs::exists(it->path() / kBackupManifestName)) {
        candidates.push_back(it->path());
      }
    }
    if (ec) return Io("Cannot list '" + dir_text + "'", ec);
    std::sort(candidates.begin(), candidates.end());
  }
  std::vector<BackupListing> out;
  for (const auto& c : candidates) {
    BackupListing l;
    l.path = c.string();
    auto verified = VerifyBackup(l.path);
    if (verified.ok()) {
      l.manifest = std::move(verified).value();
      l.verified = true;
    } else {
      l.problem = verified.status().message();
      auto text = ReadWholeFile(c / kBackupManifestName);
      if (text.ok()) {
        if (auto m = BackupManifest::FromJson(*text); m.ok()) l.manifest = std::move(m).value();
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

Result<std::vector<RestoreGap>> RecordRestoreGaps(storage::KvStore& kv, int64_t next_seq) {
  std::vector<RestoreGap> gaps;
  KALAM_ASSIGN_OR_RETURN(auto stored, kv.Get(storage::Partition::kMeta, kRestoreGapsKey));
  if (stored) {
    boost::system::error_code ec;
    const json::value v = json::parse(*stored, ec);
    if (ec || !v.is_array()) {
      return Status::Corruption("meta '" + std::string(kRestoreGapsKey) + "' is not a JSON array");
    }
    for (const auto& g : v.get_array()) {
      const auto* o = g.if_object();
      const auto* b = o ? o->if_contains("backup_seq") : nullptr;
      const auto* r = o ? o->if_contains("resumed_at_seq") : nullptr;
      if (!b || !r || !b->is_int64() || !r->is_int64()) {
        return Status::Corruption("meta '" + std::string(kRestoreGapsKey) + "' has a bad entry");
      }
      gaps.push_back({b->get_int64(), r->get_int64()});
    }
  }
  KALAM_ASSIGN_OR_RETURN(auto restored, kv.Get(storage::Partition::kMeta, kRestoredFromSeqKey));
  if (!restored) return gaps;
  int64_t backup_seq = 0;
  const auto [end, perr] =
      std::from_chars(restored->data(), restored->data() + restored->size(), backup_seq);
  if (perr != std::errc() || end != restored->data() + restored->size()) {
    return Status::Corruption("meta '" + std::string(kRestoredFromSeqKey) + "' is not a _seq");
  }
  gaps.push_back({backup_seq, next_seq});
  json::array out;
  for (const auto& g : gaps) {
    out.push_back(json::object{{"backup_seq", g.backup_seq}, {"resumed_at_seq", g.resumed_at_seq}});
  }
  // One batch: a crash before it leaves the mark, and the next start records the gap (wider).
  storage::WriteBatch batch;
  batch.Put(storage::Partition::kMeta, kRestoreGapsKey, json::serialize(out));
  batch.Delete(storage::Partition::kMeta, kRestoredFromSeqKey);
  KALAM_RETURN_IF_ERROR(kv.Write(batch));
  return gaps;
}

}  // namespace kalam::jobs
