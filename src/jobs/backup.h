// Whole-server backups (docs/backup.md): writing one at a single `_seq` while writes go on,
// verifying one file by file, and restoring one into an empty data directory.
//
// A backup directory holds
//   rocks/                       a RocksDB checkpoint of the hot tier, catalog, users, storages,
//                                cold manifests and jobs, all as of one `_seq`;
//   storages/<id>/<folder>/…     the Parquet segments (and manifest.json mirrors) those manifests
//                                name, for every storage (filesystem and S3);
//   backup.json                  written last: format version, server version, the `_seq` read
//                                point, creation time, the storages, and every file above with its
//                                size and SHA-256, and whether it was copied or reused from the
//                                base of an incremental backup.
// The same layout in a storage (BACKUP DATABASE TO STORAGE) is in jobs/storage_backup.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/storage_catalog.h"
#include "commit/commit_pipeline.h"
#include "common/status.h"
#include "storage/kv_store.h"
#include "table/cold_store.h"
#include "table/flusher.h"

namespace kalam::jobs {

inline constexpr int kBackupFormatVersion = 1;
inline constexpr std::string_view kBackupManifestName = "backup.json";
inline constexpr std::string_view kBackupKindDatabase = "database";
inline constexpr std::string_view kBackupKindNamespace = "namespace";

// One file of a backup, relative to the backup directory ("rocks/000012.sst").
struct BackupFile {
  std::string path;
  uint64_t size_bytes = 0;
  std::string sha256;  // lower-case hex
  // For a Parquet segment, its manifest entry's identity ("<id>:<min_seq>:<max_seq>:<row_count>:
  // <created_at_ms>"); "" for other files. A later incremental backup takes a segment over when
  // path, size and identity match, without reading it (segments are immutable; a segment name
  // alone can come back after DROP + CREATE TABLE, the identity cannot).
  std::string segment;
  bool reused = false;  // taken over from the base backup instead of copied
  // Backups in a storage only: the prefix (in the same storage) of the earlier backup holding the
  // bytes, when this backup reuses them without a copy of its own. "" = in this backup.
  std::string base;
};

// A storage as it was at the backup point, and whether its files are in the backup.
struct BackupStorage {
  std::string storage_id;
  std::string storage_type;    // "filesystem" | "s3"
  std::string base_directory;  // as the source server had it
  bool included = true;        // always true since S3 storages' segments are backed up too
};

// The contents of backup.json.
struct BackupManifest {
  int format_version = kBackupFormatVersion;
  // "database" (BACKUP DATABASE) or "namespace" (BACKUP NAMESPACE, jobs/namespace_backup.h,
  // which also names the namespace). Absent in backup.json = "database".
  std::string kind = std::string(kBackupKindDatabase);
  std::string namespace_name;
  // The namespaces the backup holds (sorted): every namespace of the catalog at the backup point
  // for a database backup, the one namespace for a namespace backup. Empty in backups written
  // before this field existed.
  std::vector<std::string> namespaces;
  std::string server_version;
  int64_t seq = 0;  // every commit with `_seq` ≤ seq is in the backup, none above it
  int64_t created_at_ms = 0;
  std::vector<BackupStorage> storages;
  std::vector<BackupFile> files;
  // The base backup of an incremental backup (its directory or storage prefix), "" for a full one.
  std::string incremental_from;
  // How long the consistent point held commits off (waiting for the writer included); reported
  // by CreateBackup, not stored in backup.json.
  int64_t pause_ms = 0;

  uint64_t total_bytes() const;
  uint64_t copied_files() const;  // files whose bytes this backup wrote
  uint64_t reused_files() const;  // files taken over from the base backup
  std::string ToJson() const;
  // kCorruption naming what is wrong when `json` is not a backup.json this code wrote.
  static Result<BackupManifest> FromJson(std::string_view json);
};

// What a backup is taken from. All references outlive the backup.
struct BackupSources {
  storage::KvStore& kv;
  commit::CommitPipeline& pipeline;
  table::ColdStore& cold;
  const catalog::StorageCatalog& storages;
  std::string server_version;
  // For backup.json's namespace list, read at the backup point; may be null (no list).
  const catalog::Catalog* catalog = nullptr;
};

// The directories backups may be written to and restored from: `allowed_roots` as configured
// (backup.allowed_dirs), or, when that list is empty, `<data_dir>/../backups`.
std::vector<std::string> EffectiveBackupRoots(const std::vector<std::string>& allowed_roots,
                                              const std::string& data_dir);

// Resolves `dir` (absolute, or relative to the working directory) for a backup or restore:
// symlinks in the existing part of the path are resolved, and the result must lie strictly inside
// one of `roots` (also resolved). Returns the resolved absolute path; kInvalidArgument
// "Backup path '<dir>' is outside the allowed backup directories (backup.allowed_dirs: …)".
// With `allow_root` (SHOW BACKUPS lists a root) a root itself is accepted too.
Result<std::string> ResolveBackupDir(std::string_view dir, const std::vector<std::string>& roots,
                                     bool allow_root = false);

// The earlier backup an incremental backup reuses files of.
struct BackupBase {
  BackupManifest manifest;
  // Its directory: reused files are hard-linked from it (copied across file systems), so the new
  // backup stays self-contained. "" for a backup in a storage: reused files are left out of the
  // new backup's directory and recorded with BackupFile::base (jobs/storage_backup.h).
  std::string dir;
  std::string location;  // recorded as BackupManifest::incremental_from
};

// Reads the backup.json of the directory backup `dir` as a base for an incremental backup (its
// files are not re-read: a damaged base file makes the new backup fail verification, naming it).
// kNotFound "Base backup '<dir>' not found" / "… is not a complete backup: backup.json is
// missing"; kCorruption for a bad backup.json.
Result<BackupBase> LoadBackupBase(const std::string& dir);

// Writes a backup of the whole server into `dir`, which must not exist or be empty (its parent is
// created). Only the consistent point — the RocksDB checkpoint and the hard links (or copies, when
// `dir` is on another file system) of the filesystem storages' segment files — runs with commits
// held off; S3 storages' segments are downloaded afterwards while ColdStore deletes are held (a
// concurrent compaction or DROP TABLE cannot remove them before they are copied); checksums are
// computed afterwards too. With `base`, a file with the same path and size as a base file is
// reused instead of copied: a segment when its identity matches too, any other file (RocksDB SST,
// manifest mirror) when its SHA-256 matches. `ctx` (may be null) is told each step and asked
// between files whether to stop (KILL JOB): a cancelled backup fails with kUnavailable
// "Backup cancelled". On failure the partial backup is removed and the error returned; the
// server is unchanged.
Result<BackupManifest> CreateBackup(const BackupSources& sources, const std::string& dir,
                                    int64_t now_ms, const table::TieringContext* ctx,
                                    const BackupBase* base = nullptr);

// Reads `dir`/backup.json and checks every file it lists: present, its size, its SHA-256.
// kNotFound "Backup directory '<dir>' not found" / "… is not a backup (no backup.json)";
// kCorruption naming the first damaged file:
// "Backup file 'rocks/000012.sst' is damaged: SHA-256 mismatch". kFailedPrecondition for a
// storage backup's backup.json whose files live in a base backup (restore it from the storage).
Result<BackupManifest> VerifyBackup(const std::string& dir);

// Restores the backup at `from` into the data directory `data_dir`, which must not exist or be
// empty. Verifies the whole backup first and writes nothing when that fails. Then places the
// checkpoint at `<data_dir>/rocks`, the `local` storage's files at `<data_dir>/storage`, and every
// other filesystem storage's files at `<data_dir>/restored_storages/<id>`, pointing that storage
// there. A server started on `data_dir` then serves exactly the backed-up state. When a step after
// verification fails, what was written into `data_dir` is removed.
Result<BackupManifest> RestoreBackup(const std::string& from, const std::string& data_dir);

// RESTORE DATABASE from SQL, first half (the server is running on `data_dir`): verifies the
// backup at `from`, then builds the restored data directory in `<data_dir>/restore_pending.tmp`
// (storages pointed at `data_dir`) and renames it to `<data_dir>/restore_pending`, replacing a
// restore staged earlier. The live data is not touched. Fails like VerifyBackup, or kIoError.
Result<BackupManifest> StageRestore(const std::string& from, const std::string& data_dir);

// RESTORE DATABASE, second half, at server start before anything is opened: when
// `<data_dir>/restore_pending` exists, moves each of its entries into `data_dir` (the live entry
// of the same name is first moved to `<data_dir>/restore_replaced`, then deleted). Rename-based
// and resumable: after a crash at any point the next call completes the swap, so the server never
// opens a mix. Returns whether a staged restore was applied.
Result<bool> ApplyStagedRestore(const std::string& data_dir);

// A restore's break in `_seq` history: the restored server holds every commit up to backup_seq,
// and its own commits start at resumed_at_seq. A `_seq` strictly between them was issued by the
// server whose later history the restore discarded; a live query resuming from one would silently
// keep rows that no longer exist, so it is refused (docs/backup.md).
struct RestoreGap {
  int64_t backup_seq = 0;
  int64_t resumed_at_seq = 0;
};

// `meta` keys owned by this file: the backup `_seq` a restored data directory was built from
// (written by the restore, consumed by the first start), and the list of restore gaps.
inline constexpr std::string_view kRestoredFromSeqKey = "restored_from_seq";
inline constexpr std::string_view kRestoreGapsKey = "restore_gaps";

// At server start, after the commit pipeline started, with `next_seq` a `_seq` larger than any
// issued before this start and smaller than any issued after it: when the data was just restored,
// records the gap (backup's seq, next_seq) and clears the restore mark, in one write. Returns
// every gap recorded so far (oldest first). kCorruption if the stored list cannot be read.
Result<std::vector<RestoreGap>> RecordRestoreGaps(storage::KvStore& kv, int64_t next_seq);

// One backup found by ListBackups.
struct BackupListing {
  std::string path;
  BackupManifest manifest;  // as backup.json says (empty when it cannot be read)
  bool verified = false;    // every file checked against its size and SHA-256
  std::string problem;      // why not verified
};

// The backup at `dir` (when it holds backup.json), else every backup directly under `dir`, by
// path; each verified. kNotFound when `dir` is not a directory.
Result<std::vector<BackupListing>> ListBackups(const std::string& dir);

}  // namespace kalam::jobs
