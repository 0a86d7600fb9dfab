// The meta group's side of a cluster node (docs/cluster.md, "DDL through the meta group"): the
// catalog and its neighbours keep writing their `system` and `meta` entries with
// KvStore::Write, and on a cluster node that store is a MetaKvStore, whose Write proposes the
// batch as one `catalog_change` entry of the meta group and returns once it is committed and
// applied here. Every replica's MetaStateMachine applies the entry to its own RocksDB; a
// replica that did not propose it then reloads its in-memory catalog (off the Raft loop thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cluster/node_runtime.h"
#include "cluster/state_machine.h"
#include "common/status.h"
#include "storage/kv_store.h"

namespace kalam::replication {

// Thread-safe. Reads go to `base`. Writes go to `base` too until Replicate is called (a node's
// start-up writes: the default namespace, the root user, generated secrets — each node's own),
// then through the meta group. Not owning.
class MetaKvStore : public storage::KvStore {
 public:
  explicit MetaKvStore(storage::KvStore& base) : base_(base) {}

  // From now on Write proposes to group `group` of `runtime`, tagged with `origin` (this
  // process's MetaStateMachine origin, so that it does not reload for its own entries).
  void Replicate(cluster::NodeRuntime* runtime, uint32_t group, uint64_t origin) {
    group_ = group;
    origin_ = origin;
    runtime_.store(runtime, std::memory_order_release);
  }

  // Replicating: OK once a majority has the batch and this node applied it. kUnavailable
  // "Not leader for shard. Leader: <addr>" (nothing written) on a node that does not lead the
  // meta group; kUnavailable "The change's outcome is unknown (…)" when it was appended but its
  // fate is unknown. `options.sync` is implied (the Raft log is fsynced).
  Status Write(const storage::WriteBatch& batch, const storage::WriteOptions& options = {}) override;

  storage::KvEngineStats EngineStats() override { return base_.EngineStats(); }
  Result<std::optional<std::string>> Get(storage::Partition p, std::string_view key,
                                         const storage::KvSnapshot* snapshot = nullptr) override {
    return base_.Get(p, key, snapshot);
  }
  Result<std::vector<std::optional<std::string>>> MultiGet(
      storage::Partition p, const std::vector<std::string>& keys,
      const storage::KvSnapshot* snapshot = nullptr) override {
    return base_.MultiGet(p, keys, snapshot);
  }
  std::unique_ptr<storage::KvIterator> NewIterator(storage::Partition p,
                                                   const storage::ReadOptions& options = {}) override {
    return base_.NewIterator(p, options);
  }
  std::shared_ptr<const storage::KvSnapshot> GetSnapshot() override { return base_.GetSnapshot(); }
  Status Flush() override { return base_.Flush(); }
  uint64_t ApproximateSize(storage::Partition p, std::string_view begin,
                           std::string_view end) override {
    return base_.ApproximateSize(p, begin, end);
  }
  Status Checkpoint(const std::string& dir) override { return base_.Checkpoint(dir); }

 private:
  storage::KvStore& base_;
  std::atomic<cluster::NodeRuntime*> runtime_{nullptr};
  uint32_t group_ = 0;   // written before runtime_ is published
  uint64_t origin_ = 0;  // written before runtime_ is published
};

// The payload of a `catalog_change` entry: the proposing process's origin (8 bytes, big-endian),
// then the batch in the commit-group encoding (no change records).
std::string EncodeCatalogChange(uint64_t origin, const storage::WriteBatch& batch);

// Apply, Snapshot and Restore run on the Raft loop thread; origin() from any thread.
class MetaStateMachine : public cluster::StateMachine {
 public:
  // `on_foreign_change` runs on the loop thread after an entry proposed by another process is
  // applied: it must be quick and must not wait for the catalog (hand the reload to another
  // thread — the proposing thread of this node's own DDL holds the catalog's lock while it
  // waits for this loop). `kv` (the node's RocksDB, not the MetaKvStore) must outlive the
  // machine. `origin`: a number unique to this process (random).
  MetaStateMachine(storage::KvStore& kv, uint64_t origin, std::function<void()> on_foreign_change);

  // Reads the stored applied index. Call once before the group starts.
  Status Open();

  // Skips an entry at or below the stored applied index; else writes its batch and the applied
  // index in one WriteBatch (synced). kCorruption for an entry that is not a catalog change.
  Status Apply(cluster::LogIndex index, const cluster::LogEntry& entry) override;

  // Not built yet (as for ShardStateMachine): libraft keeps the whole log.
  Result<std::string> Snapshot() override;
  Status Restore(std::string_view snapshot) override;

  uint64_t origin() const { return origin_; }
  // Entries proposed by other processes applied so far (any thread).
  uint64_t foreign_applied() const { return foreign_applied_.load(); }
  cluster::LogIndex applied_index() const { return applied_.load(); }

 private:
  storage::KvStore& kv_;
  const uint64_t origin_;
  const std::function<void()> on_foreign_change_;
  std::atomic<cluster::LogIndex> applied_{0};
  std::atomic<uint64_t> foreign_applied_{0};
};

}  // namespace kalam::replication
