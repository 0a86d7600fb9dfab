// Backups in a configured storage: upload, verification, download and listing (docs/backup.md).
#include "jobs/storage_backup.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "filestore/path_template.h"
#include "filestore/sha256.h"

namespace kalam::jobs {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kManifest = "backup.json";

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("Cannot read '" + path.string() + "'");
  std::ostringstream s;
  s << in.rdbuf();
  if (!in.good() && !in.eof()) return Status::IoError("Cannot read '" + path.string() + "'");
  return s.str();
}

Status WriteFile(const fs::path& path, std::string_view data) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status::IoError("Cannot create '" + path.parent_path().string() + "': " + ec.message());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Status::IoError("Cannot write '" + path.string() + "'");
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size() &&
                  std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok) return Status::IoError("Cannot write '" + path.string() + "'");
  return Status::OK();
}

Result<BackupManifest> ReadManifest(filestore::ObjectStore& store, const std::string& prefix,
                                    std::string_view what) {
  auto text = store.Get(prefix + std::string(kManifest));
  if (!text.ok()) {
    if (text.status().code() != StatusCode::kNotFound) return text.status();
    return Status::NotFound(std::string(what) + " '" + store.Describe(prefix) +
                            "' is not a complete backup: backup.json is missing");
  }
  return BackupManifest::FromJson(*text);
}

}  // namespace

Result<BackupBase> LoadStoreBackupBase(filestore::ObjectStore& store, const std::string& prefix) {
  BackupBase b;
  KALAM_ASSIGN_OR_RETURN(b.manifest, ReadManifest(store, prefix, "Base backup"));
  b.location = prefix;
  return b;
}

Result<bool> StorePrefixIsEmpty(filestore::ObjectStore& store, const std::string& prefix) {
  KALAM_ASSIGN_OR_RETURN(auto listed, store.List(prefix));
  return listed.empty();
}

Result<BackupManifest> CreateBackupInStore(const BackupSources& sources,
                                           filestore::ObjectStore& store,
                                           const std::string& prefix,
                                           const std::string& staging_dir, int64_t now_ms,
                                           const table::TieringContext* ctx,
                                           const BackupBase* base) {
  KALAM_ASSIGN_OR_RETURN(bool empty, StorePrefixIsEmpty(store, prefix));
  if (!empty) {
    return Status::AlreadyExists("Backup location '" + store.Describe(prefix) +
                                 "' is not empty; back up into a new path");
  }
  struct RemoveStaging {
    std::string dir;
    ~RemoveStaging() {
      std::error_code ec;
      fs::remove_all(dir, ec);  // best effort: a leftover is only a temporary directory
    }
  } staging{staging_dir};
  KALAM_ASSIGN_OR_RETURN(BackupManifest m,
                         CreateBackup(sources, staging_dir, now_ms, ctx, base));
  std::vector<std::string> uploaded;
  auto fail = [&](Status s) -> Status {
    for (const auto& key : uploaded) {
      Status removed = store.Delete(key);
      (void)removed;  // best effort: without backup.json these objects are never restored
    }
    return s;
  };
  size_t done = 0;
  for (auto& f : m.files) {
    if (ctx && ctx->cancelled()) return fail(Status::Unavailable("Backup cancelled"));
    if (f.reused) {
      if (f.base.empty()) f.base = base->location;  // the base uploaded it itself
      continue;
    }
    if (ctx && ++done % 16 == 0) {
      ctx->ReportProgress("Uploading file " + std::to_string(done) + " of " +
                          std::to_string(m.copied_files()));
    }
    auto bytes = ReadFile(fs::path(staging_dir) / f.path);
    if (!bytes.ok()) return fail(bytes.status());
    const std::string key = prefix + f.path;
    if (Status s = store.Put(key, *bytes); !s.ok()) return fail(s);
    uploaded.push_back(key);
  }
  const std::string manifest_key = prefix + std::string(kManifest);
  if (Status s = store.Put(manifest_key, m.ToJson()); !s.ok()) return fail(s);
  return m;
}

Result<BackupManifest> VerifyStoreBackup(filestore::ObjectStore& store, const std::string& prefix,
                                         const std::string& download_dir) {
  KALAM_ASSIGN_OR_RETURN(BackupManifest m, ReadManifest(store, prefix, "Backup"));
  auto fail = [&](Status s) -> Status {
    std::error_code ec;
    if (!download_dir.empty()) fs::remove_all(download_dir, ec);
    return s;
  };
  for (auto& f : m.files) {
    const std::string key = (f.base.empty() ? prefix : f.base) + f.path;
    auto bytes = store.Get(key);
    if (!bytes.ok()) {
      if (bytes.status().code() != StatusCode::kNotFound) return fail(bytes.status());
      if (!f.base.empty()) {
        return fail(Status::Corruption("Backup file '" + f.path +
                                       "' is missing from its base backup '" + f.base + "'"));
      }
      return fail(Status::Corruption("Backup file '" + f.path + "' is missing"));
    }
    if (bytes->size() != f.size_bytes) {
      return fail(Status::Corruption("Backup file '" + f.path + "' is damaged: " +
                                     std::to_string(bytes->size()) + " bytes, expected " +
                                     std::to_string(f.size_bytes)));
    }
    if (filestore::Sha256Hex(*bytes) != f.sha256) {
      return fail(Status::Corruption("Backup file '" + f.path + "' is damaged: SHA-256 mismatch"));
    }
    if (!download_dir.empty()) {
      if (Status s = WriteFile(fs::path(download_dir) / f.path, *bytes); !s.ok()) return fail(s);
    }
  }
  if (!download_dir.empty()) {
    BackupManifest local = m;
    for (auto& f : local.files) f.base.clear();  // every file is in the download now
    if (Status s = WriteFile(fs::path(download_dir) / kManifest, local.ToJson()); !s.ok()) {
      return fail(s);
    }
  }
  return m;
}

Result<std::vector<BackupListing>> ListStoreBackups(filestore::ObjectStore& store,
                                                    const std::string& prefix) {
  std::vector<std::string> candidates;
  auto direct = store.Get(prefix + std::string(kManifest));
  if (direct.ok()) {
    candidates.push_back(prefix);
  } else if (direct.status().code() != StatusCode::kNotFound) {
    return direct.status();
  } else {
    KALAM_ASSIGN_OR_RETURN(auto listed, store.List(prefix));
    for (const auto& o : listed) {
      const std::string rest = o.key.substr(prefix.size());
      const size_t slash = rest.find('/');
      if (slash != std::string::npos && rest.substr(slash + 1) == kManifest) {
        candidates.push_back(prefix + rest.substr(0, slash + 1));
      }
    }
    std::sort(candidates.begin(), candidates.end());
  }
  std::vector<BackupListing> out;
  for (const auto& c : candidates) {
    BackupListing l;
    l.path = store.Describe(c);
    auto verified = VerifyStoreBackup(store, c, "");
    if (verified.ok()) {
      l.manifest = std::move(verified).value();
      l.verified = true;
    } else {
      l.problem = verified.status().message();
      auto text = store.Get(c + std::string(kManifest));
      if (text.ok()) {
        if (auto m = BackupManifest::FromJson(*text); m.ok()) l.manifest = std::move(m).value();
      }
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace kalam::jobs
