// RocksStore: the RocksDB backend of KvStore, one column family per Partition (ARCHITECTURE.md §4).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "storage/kv_store.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace kalam::storage {

// A KvStore over one RocksDB database. Column families are named by PartitionName ("rows", "pk",
// "stream", "system", "meta") and created on open when missing; the default column family stays
// unused. The write-ahead log is always on; WriteOptions::sync fsyncs it per write.
//
// Thread-safe: every KvStore method may be called concurrently, except Close() (and the
// destructor), which must not run concurrently with any other call.
//
// Lifetime: the store must outlive every snapshot and iterator it hands out. Snapshots hold a
// raw pointer to the database and release their RocksDB snapshot when destroyed; destroying the
// store first is undefined behaviour.
class RocksStore final : public KvStore {
 public:
  // Opens (creating if `options.create_if_missing`) the database at `path`. Fails with kIoError
  // "Cannot open data directory '<path>': <reason>" when the directory cannot be used: missing
  // without create_if_missing, not a directory, not writable, or locked by another process (or by
  // another RocksStore in this process). Fails with kCorruption when the files are damaged.
  static Result<std::unique_ptr<RocksStore>> Open(const std::string& path,
                                                  const RocksOptions& options);

  // Closes the database if Close() was not called; errors are lost (call Close() to see them).
  ~RocksStore() override;

  // Use Open(); the key keeps construction private while allowing std::make_unique.
  class ConstructionKey {
    friend class RocksStore;
    ConstructionKey() = default;
  };
  RocksStore(ConstructionKey, std::string path, std::shared_ptr<rocksdb::Cache> cache);

  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  Result<std::optional<std::string>> Get(Partition p, std::string_view key,
                                         const KvSnapshot* snapshot = nullptr) override;
  Result<std::vector<std::optional<std::string>>> MultiGet(
      Partition p, const std::vector<std::string>& keys,
      const KvSnapshot* snapshot = nullptr) override;
  // A kDeleteRange op whose begin is not below its end deletes nothing.
  Status Write(const WriteBatch& batch, const WriteOptions& options = {}) override;
  // The iterator copies the bounds of `options`; `options` need not outlive it. A bad partition
  // or a foreign snapshot yields an iterator that is never Valid() and whose status() says why.
  std::unique_ptr<KvIterator> NewIterator(Partition p, const ReadOptions& options = {}) override;
  // Null only after Close().
  std::shared_ptr<const KvSnapshot> GetSnapshot() override;
  // Flushes the memtables of every column family to SST files, then fsyncs the WAL.
  Status Flush() override;
  // Sums rocksdb.cur-size-all-mem-tables, rocksdb.estimate-pending-compaction-bytes and
  // rocksdb.live-sst-files-size over the partitions, and the sizes of the live WAL files.
  KvEngineStats EngineStats() override;
  // Includes memtables. An empty `end` means "to the end of the partition". 0 after Close().
  uint64_t ApproximateSize(Partition p, std::string_view begin, std::string_view end) override;
  // A RocksDB checkpoint (rocksdb::Checkpoint): memtables are flushed first, SST files are
  // hard-linked when `dir` is on the same file system, the rest copied.
  Status Checkpoint(const std::string& dir) override;

  // Closes the database, reporting what RocksDB reports (kFailedPrecondition when snapshots are
  // still alive, which is a caller bug). Afterwards the store is closed whatever the outcome and
  // every call fails with kUnavailable. Idempotent. Not thread-safe: call it once all other users
  // are gone.
  Status Close();

  // The directory this store was opened on.
  const std::string& path() const { return path_; }

 private:
  // Validates `p` and returns its column family, or kInvalidArgument / kUnavailable.
  Result<rocksdb::ColumnFamilyHandle*> Handle(Partition p) const;

  const std::string path_;
  // Shared LRU block cache of every column family; kept alive as long as the DB.
  std::shared_ptr<rocksdb::Cache> block_cache_;
  std::unique_ptr<rocksdb::DB> db_;  // null once closed
  // Column family handles indexed by Partition; owned, destroyed in Close().
  std::array<rocksdb::ColumnFamilyHandle*, kPartitionCount> partitions_{};
  // Handles of the default column family and of any column family this version does not know
  // (left by a newer version); opened because RocksDB requires it, never used. Owned.
  std::vector<rocksdb::ColumnFamilyHandle*> other_handles_;
};

}  // namespace kalam::storage
