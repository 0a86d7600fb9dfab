// ShardStateMachine: a shard's Raft state machine over this node's RocksDB. It applies each
// committed commit group — its KV writes plus the group's applied index, in one WriteBatch —
// through CommitPipeline::ApplyGroup, which then publishes the group's change records to this
// node's listeners (live fan-out), so every replica's subscribers see the same `_seq`s.
#pragma once

#include <atomic>
#include <string>

#include "cluster/state_machine.h"
#include "commit/commit_pipeline.h"
#include "replication/group_codec.h"
#include "storage/kv_store.h"

namespace kalam::replication {

// The `meta` partition key holding a group's applied index (8 bytes, big-endian):
// "raft_applied/<group name>".
std::string AppliedIndexKey(std::string_view group_name);

// Apply, Snapshot and Restore run on the Raft loop thread (cluster::StateMachine's contract);
// applied_index() may be read from any thread.
class ShardStateMachine : public cluster::StateMachine {
 public:
  // `group_name` names the group's applied-index key (cluster::GroupName). The store, pipeline
  // and resolver must outlive the machine.
  ShardStateMachine(std::string group_name, storage::KvStore& kv, commit::CommitPipeline& pipeline,
                    TableResolver resolve);

  // Reads the stored applied index. Call once before the group starts.
  Status Open();

  // Skips an entry at or below the stored applied index (libraft replays its log after a
  // restart); else decodes the group and applies it. Any failure is returned (and made sticky
  // by FsmBridge): kCorruption for an entry that is not a valid commit group.
  Status Apply(cluster::LogIndex index, const cluster::LogEntry& entry) override;

  // Not built yet (docs/cluster.md, Snapshots): refuses with kFailedPrecondition, so libraft
  // keeps the whole log (RaftGroupOptions::snapshot_threshold should be set high meanwhile).
  Result<std::string> Snapshot() override;
  Status Restore(std::string_view snapshot) override;

  cluster::LogIndex applied_index() const { return applied_.load(); }
  // Entries skipped because they were at or below the stored applied index.
  uint64_t replays_skipped() const { return skipped_.load(); }

 private:
  const std::string key_;
  storage::KvStore& kv_;
  commit::CommitPipeline& pipeline_;
  const TableResolver resolve_;
  std::atomic<cluster::LogIndex> applied_{0};
  std::atomic<uint64_t> skipped_{0};
};

}  // namespace kalam::replication
