// ClusterHealth: the body of GET /v1/api/cluster/health on a cluster node, in the original's shape,
// from what this node knows of its running groups (sql::ClusterStatus). docs/reference/http.md
// defines the status: healthy, degraded or unhealthy.
#pragma once

#include <cstdint>
#include <string>

#include "sql/cluster_status.h"

namespace kalam::api {

// A group whose replica here has more committed entries than applied ones than this is lagging:
// the node answers `degraded`.
inline constexpr int64_t kHealthyApplyLag = 1000;

struct ClusterHealthAnswer {
  int http_status = 200;  // 503 when unhealthy
  std::string body;       // JSON
};

// `node_id`: this node (server.node_id == cluster.node_id).
ClusterHealthAnswer ClusterHealth(const sql::ClusterStatus& cluster, uint64_t node_id,
                                  const std::string& version, const std::string& build_date);

}  // namespace kalam::api
