// ShardStateMachine: a shard's Raft state machine over this node's RocksDB. It applies each
// committed commit group — its KV writes plus the group's applied index, in one WriteBatch —
// through CommitPipeline::ApplyGroup, which then publishes the group's change records to this
// node's listeners (live fan-out), so every replica's subscribers see the same `_seq`s.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "cluster/state_machine.h"
#include "commit/commit_pipeline.h"
#include "replication/group_codec.h"
#include "replication/shard_snapshot.h"
#include "storage/kv_store.h"

namespace kalam::replication {

// The `meta` partition key holding a group's applied index (8 bytes, big-endian):
// "raft_applied/<group name>".
std::string AppliedIndexKey(std::string_view group_name);

// How a ShardStateMachine takes and installs snapshots (docs/cluster.md, Snapshots).
struct ShardSnapshotOptions {
  // This node's snapshot root: a snapshot at index I is written to "<dir>/<group>/<I>/keys.kv".
  std::string dir;
  // This node's id, named in descriptors as the node serving the files.
  cluster::NodeId node = 0;
  // Gets a peer's files on restore; must outlive the machine. Null: only files already in `dir`
  // can be restored.
  SnapshotFetcher* fetcher = nullptr;
  // The keys of the group (besides its applied-index key).
  GroupKeyPredicate owns = EveryDataKey;
  // Snapshots kept on disk (older ones are deleted after each new one); at least 1.
  size_t keep = 2;
  // Runs on the Raft loop thread after a restore replaced the group's keys, with the restored
  // applied index. No change records are published for a restore: the server must re-snapshot
  // the live subscriptions of the group's tables here.
  std::function<void(cluster::LogIndex)> on_restored;
};

// Apply, Snapshot and Restore run on the Raft loop thread (cluster::StateMachine's contract);
// applied_index() may be read from any thread.
class ShardStateMachine : public cluster::StateMachine {
 public:
  // `group_name` names the group's applied-index key (cluster::GroupName). The store, pipeline
  // and resolver must outlive the machine.
  ShardStateMachine(std::string group_name, storage::KvStore& kv, commit::CommitPipeline& pipeline,
                    TableResolver resolve);

  // Turns snapshots on (without it Snapshot and Restore refuse, kFailedPrecondition). Call
  // before the group starts.
  void EnableSnapshots(ShardSnapshotOptions options);

  // Reads the stored applied index. Call once before the group starts.
  Status Open();

  // Skips an entry at or below the stored applied index (libraft replays its log after a
  // restart); else decodes the group and applies it. Any failure is returned (and made sticky
  // by FsmBridge): kCorruption for an entry that is not a valid commit group.
  Status Apply(cluster::LogIndex index, const cluster::LogEntry& entry) override;

  // Writes the group's keys as of the applied index to "<dir>/<group>/<index>/keys.kv" (from
  // a RocksDB snapshot, synchronously on the loop thread) and returns the encoded
  // SnapshotDescriptor. kFailedPrecondition when snapshots are not enabled (libraft then keeps
  // its log whole); kIoError when the file cannot be written.
  Result<std::string> Snapshot() override;

  // Installs a descriptor's state: does nothing when this replica already applied as far (a
  // restart restores its own latest snapshot, and committed entries are the same everywhere).
  // Else gets each file (kept locally when its size and SHA-256 match, else through the
  // fetcher), verifies size and SHA-256, then replaces the group's keys and its applied index in
  // one atomic WriteBatch through CommitPipeline::ApplyGroup (watermark and `_seq` generator
  // advanced past the snapshot's largest `_seq`; no change records). Any failure leaves the
  // group's keys as they were: kCorruption for a bad descriptor or a file that does not match
  // it, the fetcher's status when a file cannot be got.
  Status Restore(std::string_view snapshot) override;

  cluster::LogIndex applied_index() const { return applied_.load(); }
  // Entries (and snapshots, in Restore) skipped because they were at or below the stored applied
  // index.
  uint64_t replays_skipped() const { return skipped_.load(); }
  // Snapshots written / installed (Restore that replaced the keys) since construction.
  uint64_t snapshots_taken() const { return taken_.load(); }
  uint64_t snapshots_restored() const { return restored_.load(); }

 private:
  // Gets each descriptor file into the snapshot root and checks it.
  Status FetchAndVerify(const SnapshotDescriptor& descriptor);
  void PruneSnapshots();

  const std::string group_;
  const std::string key_;
  storage::KvStore& kv_;
  commit::CommitPipeline& pipeline_;
  const TableResolver resolve_;
  std::atomic<cluster::LogIndex> applied_{0};
  std::atomic<uint64_t> skipped_{0};
  std::atomic<uint64_t> taken_{0};
  std::atomic<uint64_t> restored_{0};
  bool snapshots_enabled_ = false;
  ShardSnapshotOptions snap_;
  SnapshotDescriptor last_;  // the last snapshot written (loop thread)
};

}  // namespace kalam::replication
