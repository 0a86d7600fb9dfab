// Namespace backups (docs/backup.md, "Namespace backup and restore"): BACKUP NAMESPACE writes one
// namespace — its tables with every schema version, their hot row versions and cold segments, per
// scope — at a single `_seq` while writes go on; RESTORE NAMESPACE puts it back into the running
// server, under its own name or another one, with new table ids.
//
// A namespace backup directory holds
//   namespace.json                     the namespace (name, options, created_at) and its tables
//   tables/<id>/schema.json            one table (by its id in the source server): every schema
//                                      version, its cold scopes (scope, storage, folder, manifest)
//   tables/<id>/hot.kv                 the table's `rows` and `pk` entries as of the backup's
//                                      `_seq` (USER and SHARED tables; STREAM tables have none)
//   tables/<id>/cold/<n>/batch-….parquet the segments of the table's n-th cold scope
//   backup.json                        written last: kind "namespace", the namespace, `_seq`, and
//                                      every file above with its size and SHA-256 (jobs/backup.h)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/storage_catalog.h"
#include "commit/commit_pipeline.h"
#include "common/status.h"
#include "jobs/backup.h"
#include "storage/kv_store.h"
#include "table/cold_store.h"
#include "table/flusher.h"
#include "table/manifest.h"

namespace kalam::jobs {

// What a namespace backup is taken from and restored into. All references outlive the call.
struct NamespaceBackupSources {
  storage::KvStore& kv;
  commit::CommitPipeline& pipeline;
  table::ColdStore& cold;
  catalog::Catalog& catalog;
  const catalog::StorageCatalog& storages;
  std::string server_version;
};

// Writes a backup of namespace `ns` into `dir`, which must not exist or be empty. The consistent
// point — the `_seq` read point with its hot-storage snapshot, the catalog entries, the cold
// manifests and the links (or copies) of their segment files — is taken in one
// CommitPipeline::RunExclusive step; the hot rows are then read from the snapshot and the files
// checksummed while writes go on. kNotFound "Namespace 'x' does not exist". On failure the partial
// backup is removed. `ctx` (may be null) is told each step and asked whether to stop.
Result<BackupManifest> CreateNamespaceBackup(const NamespaceBackupSources& src, std::string_view ns,
                                             const std::string& dir, int64_t now_ms,
                                             const table::TieringContext* ctx);

// What a restore did.
struct NamespaceRestoreResult {
  std::string ns;  // the namespace restored into
  size_t tables = 0;
  int64_t hot_entries = 0;  // `rows` + `pk` entries written
  int64_t segments = 0;
  std::vector<std::pair<catalog::TableId, int64_t>> hot_rows;  // new table id → `rows` entries
  std::vector<catalog::TableId> replaced;                      // ids of the tables REPLACE dropped
};

// Restores the namespace backup at `from` — already verified as `m` (VerifyBackup), of kind
// "namespace" — into the running server as namespace `target`. Rows keep their `_seq`; every
// table gets a new id. Order: reserve the ids, write the hot entries under them and the segments
// into the target's storage folders (nothing names them yet: invisible), then publish the
// namespace, its tables with their whole schema history and their cold manifests in one catalog
// write (Catalog::RestoreNamespace), and make the manifests visible. With `replace`, an existing
// `target` is dropped in that same write; without it: kAlreadyExists "Namespace 'x' already
// exists". On a failure before the publishing write, what was written is removed and nothing is
// visible. `test_pause` (tests only) sleeps just before the publishing write.
Result<NamespaceRestoreResult> RestoreNamespaceBackup(const NamespaceBackupSources& src,
                                                      const std::string& from,
                                                      const BackupManifest& m,
                                                      const std::string& target, bool replace,
                                                      const table::TieringContext* ctx,
                                                      std::chrono::milliseconds test_pause = {});

// ---- pieces, exposed for tests ----

// The file name a restored segment gets: "batch-<id>-t<table>.parquet" — never a name the
// flusher gives ("batch-<id>.parquet"), so it cannot collide with a file of a dropped or replaced
// table in the same folder that is still waiting for its deferred deletion.
std::string RestoredSegmentFile(int64_t segment_id, catalog::TableId table);

// The manifest of a restored scope: each segment renamed by RestoredSegmentFile for `table`, and
// next_segment_id raised to at least `min_next_segment_id` (the replaced table's, when it flushed
// into the same folder), so later flushes name no file of the replaced table.
table::Manifest RetargetManifest(const table::Manifest& m, catalog::TableId table,
                                 int64_t min_next_segment_id);

// hot.kv: "KALAMHOT1\n", then per entry [partition u8][key length u32 BE][key][value length u32
// BE][value]. Appends one entry to `out`.
void AppendHotEntry(storage::Partition p, std::string_view key, std::string_view value,
                    std::string* out);
inline constexpr std::string_view kHotFileMagic = "KALAMHOT1\n";
// Reads the entry at `*pos` of `data` and advances `*pos`; false at a malformed entry.
bool ReadHotEntry(std::string_view data, size_t* pos, storage::Partition* p, std::string_view* key,
                  std::string_view* value);

}  // namespace kalam::jobs
