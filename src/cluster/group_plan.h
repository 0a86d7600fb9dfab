// The Raft groups a cluster node runs, planned from its [cluster] configuration: one replica of
// every group (meta, each user shard, shared) in the order of their ordinals, each with its own
// port and directory (docs/cluster.md, "Ports and directories").
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "cluster/peer.h"
#include "cluster/raft_group.h"
#include "cluster/shard_router.h"
#include "common/status.h"

namespace kalam::cluster {

struct GroupPlanInput {
  NodeId node_id = 0;          // this node; one of `peers`
  std::vector<Peer> peers;     // every member, with its cluster (base) port
  uint32_t user_shards = 8;    // >= 1
  std::string raft_dir;        // the node's Raft root ("<data_dir>/raft" by default)
  std::chrono::milliseconds election_timeout{1000};
  std::chrono::milliseconds heartbeat_timeout{100};
};

struct PlannedGroup {
  GroupId group;
  std::string name;           // GroupName(group): "meta", "user_0", "shared"
  RaftGroupOptions options;   // this node's replica
};

// One entry per group, index = the group's ordinal (meta 0, user shard i at 1 + i, shared at
// 1 + user_shards). Group g of every peer listens on the peer's port + g, and keeps its Raft log
// in <raft_dir>/<name>. kInvalidArgument, naming the peer, when a peer's port + the last
// ordinal passes 65535, when two peers on one host have overlapping port ranges, or when node_id
// is not among the peers.
Result<std::vector<PlannedGroup>> PlanGroups(const GroupPlanInput& in);

}  // namespace kalam::cluster
