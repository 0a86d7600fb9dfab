// ShardStateMachine: a shard's Raft state machine over this node's RocksDB. It applies each
// committed commit group — its KV writes plus the group's applied index, in one WriteBatch —
// through CommitPipeline::ApplyGroup, which then publishes the group's change records to this
// node's listeners (live fan-out), so every replica's subscribers see the same `_seq`s.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
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
// The group's applied index stored under AppliedIndexKey (0 when none is stored yet);
// kCorruption for a value that is not 8 bytes.
Result<uint64_t> ReadAppliedIndex(storage::KvStore& kv, std::string_view group_name);

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

// Entries held back until this node's catalog knows their tables (docs/cluster.md, Apply path):
// past either bound the replica stops (a sticky kResourceExhausted failure) rather than grow.
// A restart then replays them from the Raft log against the catalog it loaded.
inline constexpr size_t kDefaultMaxHeldEntries = 100000;
inline constexpr size_t kDefaultMaxHeldBytes = size_t{256} << 20;

// Apply, Snapshot and Restore run on the Raft loop thread (cluster::StateMachine's contract);
// RetryHeld and the accessors may be called from any thread (a mutex serialises them with the
// loop thread's calls).
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
  // restart); else decodes the group and applies it. An entry naming a table version this
  // node's catalog does not know yet (the resolver's kUnavailable) is HELD, in memory, with
  // every later entry of the group behind it, and applied in log order by a later Apply or
  // RetryHeld once the catalog knows it; libraft counts held entries as applied, applied_index()
  // does not. Any other failure is returned (and made sticky by FsmBridge): kCorruption for an
  // entry that is not a valid commit group, kResourceExhausted past the held-entry bounds.
  Status Apply(cluster::LogIndex index, const cluster::LogEntry& entry) override;

  // Applies the held entries the catalog now resolves, in log order, up to the first one it
  // still does not. Call after this node's catalog changed (the server: after each reload).
  // Returns the replica's sticky failure, if any (then nothing more is applied; FsmBridge sees
  // it at the next Apply).
  Status RetryHeld();

  // Entries waiting for the catalog (0 in the steady state). A leader with held entries refuses
  // new commits (ReplicatedWriter::BeginGroup): its `_seq` generator is not past them yet.
  size_t held_entries() const { return held_count_.load(); }
  // The machine's own sticky failure (a held entry that failed in RetryHeld, or the bounds).
  bool failed() const { return failed_.load(); }

  // Bounds for held entries (defaults above); for tests.
  void SetHoldLimits(size_t max_entries, size_t max_bytes);

  // Writes the group's keys as of the applied index to "<dir>/<group>/<index>/keys.kv" (from
  // a RocksDB snapshot, synchronously on the loop thread) and returns the encoded
  // SnapshotDescriptor. kFailedPrecondition when snapshots are not enabled (libraft then keeps
  // its log whole); kUnavailable while entries are held (libraft would record the snapshot at
  // its own applied index, past them: FsmBridge answers RAFT_BUSY and libraft retries after a
  // later entry); kIoError when the file cannot be written.
  Result<std::string> Snapshot() override;

  // Installs a descriptor's state: does nothing when this replica already applied as far (a
  // restart restores its own latest snapshot, and committed entries are the same everywhere).
  // Else gets each file (kept locally when its size and SHA-256 match, else through the
  // fetcher), verifies size and SHA-256, then replaces the group's keys and its applied index in
  // one atomic WriteBatch through CommitPipeline::ApplyGroup (watermark and `_seq` generator
  // advanced past the snapshot's largest `_seq`; no change records). Any failure leaves the
  // group's keys as they were: kCorruption for a bad descriptor or a file that does not match
  // it, the fetcher's status when a file cannot be got. Held entries at or below the
  // snapshot's index are dropped (the snapshot holds their effect).
  Status Restore(std::string_view snapshot) override;

  cluster::LogIndex applied_index() const { return applied_.load(); }
  // Entries whose records named a dropped table (left out of the group) since construction.
  uint64_t dropped_table_entries() const { return dropped_tables_.load(); }
  // Entries (and snapshots, in Restore) skipped because they were at or below the stored applied
  // index.
  uint64_t replays_skipped() const { return skipped_.load(); }
  // Snapshots written / installed (Restore that replaced the keys) since construction.
  uint64_t snapshots_taken() const { return taken_.load(); }
  uint64_t snapshots_restored() const { return restored_.load(); }

 private:
  struct Held {
    cluster::LogIndex index;
    std::string payload;
  };

  // Decodes and applies one commit group: true once applied, false (nothing written) when the
  // catalog does not know a table of it yet. Requires mu_.
  Result<bool> ApplyPayload(cluster::LogIndex index, std::string_view payload);
  // Applies held entries from the front while they resolve. Requires mu_.
  Status DrainHeld();
  // Makes `status` the machine's sticky failure. Requires mu_.
  void Fail(Status status);
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
  std::atomic<uint64_t> dropped_tables_{0};
  // Serialises Apply / Snapshot / Restore (loop thread) with RetryHeld (any thread).
  mutable std::mutex mu_;
  std::deque<Held> held_;              // guarded by mu_, in log order
  size_t held_bytes_ = 0;              // guarded by mu_
  size_t max_held_entries_ = kDefaultMaxHeldEntries;  // guarded by mu_
  size_t max_held_bytes_ = kDefaultMaxHeldBytes;      // guarded by mu_
  std::optional<Status> failure_;      // guarded by mu_; sticky
  // Mirrors of held_.size() and failure_.has_value(), read without mu_ (a Restore holds it
  // while it fetches files).
  std::atomic<size_t> held_count_{0};
  std::atomic<bool> failed_{false};
  bool hold_logged_ = false;           // guarded by mu_: the current hold was logged
  bool snapshots_enabled_ = false;
  ShardSnapshotOptions snap_;
  SnapshotDescriptor last_;  // the last snapshot written (loop thread)
};

}  // namespace kalam::replication
