// FileService: FILE column attachments (docs/files.md) — stores uploaded files in their table's
// storage, keeps the durable records that tie each file to the rows referencing it, and deletes
// files only after the commit that stopped referencing them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/table_def.h"
#include "commit/commit_hook.h"
#include "common/snowflake.h"
#include "common/status.h"
#include "files/file_ref.h"
#include "storage/kv_store.h"
#include "table/cold_store.h"

namespace kalam::files {

// [files] settings (docs/files.md).
struct FileLimits {
  // Largest file, in bytes. Default: 25 MiB.
  uint64_t max_size_bytes = 25ull << 20;
  // File parts in one request. Default: 20.
  uint64_t max_files_per_request = 20;
  // Files per `fNNNN` subfolder of a table before the next one is used. Default: 5000.
  uint64_t max_files_per_folder = 5000;
  // Allowed MIME types: exact ("image/png") or prefix ("image/*"). Empty = all.
  std::vector<std::string> allowed_mime_types;
};

// Where a stored file is: its storage and object key.
struct FileLocation {
  std::string storage_id;
  std::string key;
};

// Invariant (docs/architecture.md, "FILE attachments"): a file is deleted only after the commit
// that removed its last reference is durable, and every staged file is either referenced by a
// committed row or deleted (at once when its statement fails, at the next start after a crash).
//
// Records (partition `meta`, owned by this file):
//   file/stg/<table hex>/<id> → storage \n key \n mime      uploaded, no committed row refers to it
//   file/ref/<table hex>/<id> → count \n storage \n key \n mime  committed rows referring to it
//   file/del/<id>             → storage \n key \n mime      to delete (its last reference is gone)
//   file/sub/<table hex>      → files stored so far (subfolder rotation); also marks a table that
//                               has files: once the catalog no longer has it (DROP TABLE, DROP
//                               NAMESPACE … CASCADE), the cleaner deletes all its files.
//
// Thread-safe. As the commit hook, OnStamped/OnWritten run on the commit leader, one group at a
// time; Stage/Discard run on request threads; the cleaner runs on its own thread.
class FileService final : public commit::CommitHook {
 public:
  FileService(storage::KvStore& kv, const catalog::Catalog& catalog, table::ColdStore& cold,
              SnowflakeGenerator& ids, FileLimits limits, std::string staging_dir,
              std::chrono::milliseconds cleanup_interval = std::chrono::seconds(1));
  ~FileService() override;

  // Recovery, before requests are served: deletes every staged file left by a crash (and the
  // spool files under the staging directory), then starts the cleaner thread, which processes
  // pending deletions and dropped tables.
  Status Start();
  // Stops the cleaner thread (pending deletions stay recorded for the next start).
  void Stop();

  const FileLimits& limits() const { return limits_; }
  // Where multipart spool files go (created by Start).
  const std::string& staging_dir() const { return staging_dir_; }
  // True when `mime` passes allowed_mime_types.
  bool MimeAllowed(std::string_view mime) const;

  // Stores the spooled file `local_path` (`size` bytes, SHA-256 `sha256`) as a new attachment of
  // `def`'s scope `scope`, recorded as staged first. kIoError/kNotFound from the storage.
  Result<FileRef> Stage(const catalog::TableDef& def, const table::Scope& scope,
                        const std::string& local_path, std::string name, std::string mime,
                        uint64_t size, std::string sha256);
  // Deletes files Stage stored for a statement that failed (and their staged records).
  void Discard(catalog::TableId table, const std::vector<FileRef>& refs);

  // The location of stored file `<sub>/<stored_name>` of `def`'s scope (not checked to exist).
  Result<FileLocation> Locate(const catalog::TableDef& def, const table::Scope& scope,
                              std::string_view sub, std::string_view stored_name) const;
  // The MIME type of file `id` of `table` if a committed row refers to it, else nullopt.
  Result<std::optional<std::string>> CommittedMime(catalog::TableId table, std::string_view id);
  // The object store of a storage.
  Result<std::shared_ptr<filestore::ObjectStore>> Store(const std::string& storage_id);

  // Asks the cleaner to run now (it also runs every `cleanup_interval`).
  void Wake();
  // Runs one cleaner pass on the calling thread (tests, shutdown): pending deletions, then
  // dropped tables. Returns the first failure (the rest still ran; failures stay recorded).
  Status CleanOnce();

  // commit::CommitHook: moves staged files referenced by the group's rows to `ref`, counts
  // references, and records files whose last reference an UPDATE removed for deletion.
  Status OnStamped(const std::vector<table::ChangeRecord>& records,
                   storage::WriteBatch* batch) override;
  void OnWritten(const Status& written) override;

  // table::FlusherOptions::on_purge: compaction drops the tombstones `rows` of `def` for good,
  // so their FileRefs lose a reference (the last one records the file for deletion) in `batch`.
  // Runs with commits held off (CommitPipeline::RunExclusive). Call Wake after the write.
  Status OnPurge(const catalog::TableDef& def, const std::vector<std::vector<Value>>& rows,
                 storage::WriteBatch* batch);

 private:
  void CleanerLoop();
  Status DeleteObject(const std::string& location_value);
  Status CleanDroppedTable(catalog::TableId table);

  storage::KvStore& kv_;
  const catalog::Catalog& catalog_;
  table::ColdStore& cold_;
  SnowflakeGenerator& ids_;
  const FileLimits limits_;
  const std::string staging_dir_;
  const std::chrono::milliseconds cleanup_interval_;

  std::mutex sub_mu_;  // serialises subfolder counter updates

  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;       // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  bool group_deletes_ = false;  // commit leader only: the group recorded deletions
  std::thread cleaner_;
};

}  // namespace kalam::files
