// KvStore: the ordered key-value store under KalamDB's hot tier (ARCHITECTURE.md §4). A few fixed
// partitions; tables are key prefixes inside them. Backends: RocksDB (rocks_store) and memory.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::storage {

// The fixed partitions (RocksDB column families).
enum class Partition : uint8_t {
  kRows = 0,    // table_id · scope · _seq → encoded row version
  kPk = 1,      // table_id · scope · encoded PK → _seq of the newest version
  kStream = 2,  // table_id · scope · _seq → stream row
  kSystem = 3,  // kind · id → catalog entity
  kMeta = 4,    // name → counters, format version, node id
  kTopic = 5,   // topic_id · partition · offset → topic message (topics/message_log.h)
};
inline constexpr int kPartitionCount = 6;
std::string_view PartitionName(Partition p);

// A consistent read view. Immutable; thread-safe; released when the last owner drops it.
class KvSnapshot {
 public:
  virtual ~KvSnapshot() = default;
};

// Mutations applied atomically by KvStore::Write. Not thread-safe.
class WriteBatch {
 public:
  enum class OpKind : uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    OpKind kind;
    Partition partition;
    std::string key;    // kDeleteRange: begin (inclusive)
    std::string value;  // kDeleteRange: end (exclusive)
  };

  void Put(Partition p, std::string_view key, std::string_view value);
  void Delete(Partition p, std::string_view key);
  // Deletes every key in [begin, end).
  void DeleteRange(Partition p, std::string_view begin, std::string_view end);

  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  void Clear() { ops_.clear(); bytes_ = 0; }
  // Approximate payload bytes, for limits and metrics.
  size_t bytes() const { return bytes_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

struct ReadOptions {
  // Read as of this snapshot; null = latest.
  const KvSnapshot* snapshot = nullptr;
  // Iterator bounds: keys in [lower_bound, upper_bound). Empty = unbounded.
  std::string lower_bound;
  std::string upper_bound;
};

// Forward/backward iteration over one partition. Not thread-safe; owned by one reader.
// The store must outlive it.
class KvIterator {
 public:
  virtual ~KvIterator() = default;
  virtual void Seek(std::string_view key) = 0;          // first key ≥ key
  virtual void SeekForPrev(std::string_view key) = 0;   // last key ≤ key
  virtual void SeekToFirst() = 0;
  virtual void SeekToLast() = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  virtual void Prev() = 0;
  virtual std::string_view key() const = 0;    // valid until the next move
  virtual std::string_view value() const = 0;  // valid until the next move
  // Non-OK if iteration stopped because of an error (not at the end of data).
  virtual Status status() const = 0;
};

struct WriteOptions {
  // fsync the write-ahead log before returning. Without it an acknowledged write survives a
  // process crash (kill -9) but not a power loss.
  bool sync = false;
};

// An ordered key-value store with atomic batches and snapshots. Thread-safe.
// Engine figures for metrics (docs/metrics.md); 0 where the engine has no such thing.
struct KvEngineStats {
  uint64_t memtable_bytes = 0;            // all memtables, every partition
  uint64_t pending_compaction_bytes = 0;  // estimated bytes compaction still has to rewrite
  uint64_t live_sst_bytes = 0;            // SST files of the current version
  uint64_t wal_bytes = 0;                 // live write-ahead log files
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // Engine figures, read now. Thread-safe; must not be called concurrently with closing the
  // store. Default: all zero (in-memory stores).
  virtual KvEngineStats EngineStats() { return {}; }

  // Value of `key`, or nullopt when absent.
  virtual Result<std::optional<std::string>> Get(Partition p, std::string_view key,
                                                 const KvSnapshot* snapshot = nullptr) = 0;
  // Values of `keys` in the same order (nullopt where absent).
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(
      Partition p, const std::vector<std::string>& keys, const KvSnapshot* snapshot = nullptr) = 0;

  // Applies every op of `batch` atomically: all or none, also across a crash.
  virtual Status Write(const WriteBatch& batch, const WriteOptions& options = {}) = 0;

  virtual std::unique_ptr<KvIterator> NewIterator(Partition p, const ReadOptions& options = {}) = 0;

  virtual std::shared_ptr<const KvSnapshot> GetSnapshot() = 0;

  // Makes everything written so far durable on disk (memtable flush + WAL sync).
  virtual Status Flush() = 0;

  // Approximate number of bytes stored under [begin, end) of a partition (for stats).
  virtual uint64_t ApproximateSize(Partition p, std::string_view begin, std::string_view end) = 0;

  // Writes a complete, openable copy of the store as of one moment into the directory `dir`,
  // which must not exist yet (its parent must). Every write that returned before the call is in
  // the copy; writes racing the call may or may not be (callers that need one exact point hold
  // writers off around it). Files are hard-linked where the file system allows, else copied.
  // kIoError naming `dir` on failure (a partial `dir` may be left for the caller to remove);
  // kFailedPrecondition for a backend that keeps nothing on disk.
  virtual Status Checkpoint(const std::string& dir) = 0;
};

struct RocksOptions {
  // Block cache size. Default 256 MiB.
  uint64_t block_cache_bytes = 256ull << 20;
  // Memtable size per partition. Default 64 MiB.
  uint64_t write_buffer_bytes = 64ull << 20;
  // Create the database if missing. Default true.
  bool create_if_missing = true;
};

// Opens (creating if allowed) a RocksDB store at `path` with one column family per Partition.
// Fails with kIoError naming the path when the directory cannot be used (also when another
// process holds its lock).
Result<std::unique_ptr<KvStore>> OpenRocksStore(const std::string& path, const RocksOptions& options);

// An iterator that is never valid and reports `status` (for a read that could not start).
std::unique_ptr<KvIterator> NewErrorIterator(Status status);

// A store held in memory only, for tests. Same semantics as RocksDB's (snapshots, batches).
std::unique_ptr<KvStore> NewMemoryStore();

}  // namespace kalam::storage
