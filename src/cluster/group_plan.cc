#include "cluster/group_plan.h"

#include <algorithm>
#include <filesystem>

namespace kalam::cluster {

Result<std::vector<PlannedGroup>> PlanGroups(const GroupPlanInput& in) {
  if (std::none_of(in.peers.begin(), in.peers.end(),
                   [&](const Peer& p) { return p.id == in.node_id; })) {
    return Status::InvalidArgument("cluster.node_id " + std::to_string(in.node_id) +
                                   " is not among cluster.peers");
  }
  const ShardRouter router(in.user_shards);
  const uint32_t last = router.group_count() - 1;
  for (const Peer& p : in.peers) {
    if (uint32_t{p.port} + last > 65535) {
      return Status::InvalidArgument(
          "cluster.peers '" + std::to_string(p.id) + "=" + p.address() + "': with " +
          std::to_string(router.group_count()) + " Raft groups the node uses ports " +
          std::to_string(p.port) + " to " + std::to_string(uint32_t{p.port} + last) +
          ", past 65535: choose a lower port");
    }
  }
  for (size_t i = 0; i < in.peers.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const Peer& a = in.peers[j];
      const Peer& b = in.peers[i];
      if (a.host == b.host && uint32_t{a.port} + last >= b.port && uint32_t{b.port} + last >= a.port) {
        return Status::InvalidArgument(
            "cluster.peers '" + std::to_string(a.id) + "=" + a.address() + "' and '" +
            std::to_string(b.id) + "=" + b.address() + "' share a host and their port ranges overlap: each node uses " +
            std::to_string(router.group_count()) + " consecutive ports (one per Raft group), so put their ports at least " +
            std::to_string(router.group_count()) + " apart");
      }
    }
  }
  std::vector<PlannedGroup> plan;
  plan.reserve(router.group_count());
  for (uint32_t ordinal = 0; ordinal <= last; ++ordinal) {
    PlannedGroup g;
    g.group = ordinal == 0      ? router.Meta()
              : ordinal == last ? router.Shared()
                                : GroupId{GroupKind::kUserShard, ordinal - 1};
    g.name = GroupName(g.group);
    g.options.id = in.node_id;
    for (Peer p : in.peers) {
      p.port = static_cast<uint16_t>(p.port + ordinal);
      g.options.peers.push_back(std::move(p));
    }
    g.options.dir = (std::filesystem::path(in.raft_dir) / g.name).string();
    g.options.election_timeout = in.election_timeout;
    g.options.heartbeat_timeout = in.heartbeat_timeout;
    plan.push_back(std::move(g));
  }
  return plan;
}

}  // namespace kalam::cluster
