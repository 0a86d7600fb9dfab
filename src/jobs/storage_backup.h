// Backups in a configured storage (BACKUP DATABASE TO STORAGE, docs/backup.md): the layout of a
// backup directory (jobs/backup.h) under a key prefix of an ObjectStore (S3 or filesystem), with
// backup.json written last; verification, listing and download of such a backup.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "filestore/object_store.h"
#include "jobs/backup.h"

namespace kalam::jobs {

// Reads `<prefix>backup.json` as the base of an incremental backup in the same store.
// kNotFound "Base backup '<where>' is not a complete backup: backup.json is missing".
Result<BackupBase> LoadStoreBackupBase(filestore::ObjectStore& store, const std::string& prefix);

// Whether anything is stored under `prefix` (a backup goes into a new prefix).
Result<bool> StorePrefixIsEmpty(filestore::ObjectStore& store, const std::string& prefix);

// Writes a backup of the whole server to `store` under `prefix` (must hold no object): built by
// CreateBackup in `staging_dir` (a new directory on the data's file system, removed at the end),
// then uploaded file by file, backup.json last. With `base` (LoadStoreBackupBase, same store),
// reused files are not uploaded: backup.json records for each the prefix holding its bytes
// (BackupFile::base, always the backup that uploaded it, never a chain). On failure the objects
// uploaded so far are deleted (best effort; without backup.json they are never restored).
Result<BackupManifest> CreateBackupInStore(const BackupSources& sources,
                                           filestore::ObjectStore& store,
                                           const std::string& prefix,
                                           const std::string& staging_dir, int64_t now_ms,
                                           const table::TieringContext* ctx,
                                           const BackupBase* base);

// Downloads and checks every file of the backup at `prefix` (reused files from their base
// prefix): present, size, SHA-256 — the same messages as VerifyBackup, plus "Backup file '<f>' is
// missing from its base backup '<base>'". With `download_dir` non-empty (a new directory) the
// files and a self-contained backup.json are written there, a directory backup RestoreBackup /
// StageRestore accept; on failure it is removed.
Result<BackupManifest> VerifyStoreBackup(filestore::ObjectStore& store, const std::string& prefix,
                                         const std::string& download_dir);

// The backup at `prefix` (when it holds backup.json), else every backup directly under it, each
// verified (downloading every file); BackupListing::path is the store's Describe of the prefix.
Result<std::vector<BackupListing>> ListStoreBackups(filestore::ObjectStore& store,
                                                    const std::string& prefix);

}  // namespace kalam::jobs
