// ReplicatedWriter: the cluster's commit::GroupWriter. It encodes a commit group, proposes it to
// the shard's Raft group through the node runtime and returns once the group is committed by a
// majority and applied on this node (by the group's ShardStateMachine, which also publishes it).
#pragma once

#include <cstdint>

#include "cluster/node_runtime.h"
#include "commit/group_writer.h"
#include "replication/shard_state_machine.h"

namespace kalam::replication {

// Thread-safe (the pipeline calls it from one thread at a time anyway). Not owning.
class ReplicatedWriter : public commit::GroupWriter {
 public:
  // `group` is the group's number in `runtime`, `machine` its state machine on this node.
  ReplicatedWriter(cluster::NodeRuntime& runtime, uint32_t group, const ShardStateMachine& machine)
      : runtime_(runtime), group_(group), machine_(machine) {}

  // OK once this node leads the group and has applied every entry committed before its term
  // (NodeRuntime::AwaitLeaderReady); else kUnavailable "Not leader for shard. Leader: <addr>"
  // (or "… Leader unknown"), or the runtime's status; kUnavailable too while the machine holds
  // entries waiting for the catalog (ShardStateMachine::held_entries). Nothing is written
  // either way.
  Status BeginGroup() override;

  // OK once committed and applied here. kUnavailable "Not leader for shard. Leader: <addr>"
  // (nothing written) when this node does not lead the group; kUnavailable naming the outcome
  // as unknown when the entry was appended but its fate is not known (leadership lost, node
  // stopping, or committed but not applied here); the runtime's status when it was never
  // appended.
  Status Write(const storage::WriteBatch& batch, std::vector<table::ChangeRecord> records,
               int64_t max_seq) override;

 private:
  cluster::NodeRuntime& runtime_;
  const uint32_t group_;
  const ShardStateMachine& machine_;
};

}  // namespace kalam::replication
