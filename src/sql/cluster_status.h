// ClusterStatus: what the SQL layer may ask of a cluster member for system.cluster and
// system.cluster_groups (docs/cluster.md, Visibility). Implemented by server::ClusterNode; a
// server without [cluster] has none, and the views show a cluster of one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kalam::sql {

// One member as this node sees it (one row of system.cluster, before the host figures that
// only the node itself knows).
struct ClusterMemberStatus {
  int64_t node_id = 0;
  std::string role;    // "leader" (leads the meta group), "follower", "candidate", "shutdown"
  // "active" (this node, a leader of a group this node follows, or a voter that answered one of
  // this node's groups within an election timeout), "offline" (this node leads a group and the
  // member did not answer it within an election timeout), else "unknown".
  std::string status;
  std::string rpc_addr;  // its first Raft address, host:port
  std::string api_addr;  // its API host:port ("" when not configured)
  bool is_self = false;
  bool is_leader = false;   // leads the meta group
  int32_t groups_leading = 0;  // groups this node knows it leads
  int32_t total_groups = 0;
  // Known for this node only (NULL for the others).
  std::optional<int64_t> current_term;      // the meta group's
  std::optional<int64_t> last_applied_log;  // the meta group's
  std::optional<int64_t> replication_lag;   // meta: commit index - applied index
  // Known for another member while this node leads the meta group (NULL otherwise): the meta
  // leader's last log index, that index minus the member's replicated (match) index as its
  // replication_lag, and match * 100 / last (rounded down) as catchup_progress_pct.
  std::optional<int64_t> leader_last_log_index;
  std::optional<int64_t> catchup_progress_pct;
};

// One Raft group replica of this node (one row of system.cluster_groups).
struct ClusterGroupStatus {
  int64_t group_id = 0;      // ordinal: meta 0, user shard i 1 + i, shared 1 + user_shards
  std::string group_type;    // "meta", "user_data", "shared_data"
  int64_t current_term = 0;
  int64_t voted_for = 0;     // 0: none
  int64_t last_log_index = 0;
  int64_t last_applied = 0;
  int64_t committed = 0;
  std::string state;         // "Leader", "Follower", "Candidate", "Unavailable"
  int64_t current_leader = 0;  // 0: none known
  bool failed = false;       // the state machine stopped applying (docs/cluster.md, Failures)
  uint64_t proposals = 0;    // entries proposed to the group on this node (any outcome)
};

class ClusterStatus {
 public:
  virtual ~ClusterStatus() = default;
  virtual std::string cluster_id() const = 0;
  virtual std::vector<ClusterMemberStatus> Members() const = 0;
  virtual std::vector<ClusterGroupStatus> Groups() const = 0;
};

}  // namespace kalam::sql
