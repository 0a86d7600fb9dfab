// ClusterHealth: the status rule and the JSON of a cluster node's health answer.
#include "api/cluster_health.h"

#include "common/value_json.h"

namespace kalam::api {

namespace {

void AppendOptional(const std::optional<int64_t>& v, std::string* out) {
  *out += v ? std::to_string(*v) : "null";
}

}  // namespace

ClusterHealthAnswer ClusterHealth(const sql::ClusterStatus& cluster, uint64_t node_id,
                                  const std::string& version, const std::string& build_date) {
  const std::vector<sql::ClusterMemberStatus> members = cluster.Members();
  const std::vector<sql::ClusterGroupStatus> groups = cluster.Groups();
  // unhealthy: a group without a known leader here (an election is running, or its quorum is
  // lost) or a replica here whose state machine stopped; degraded: a member this node knows to
  // be offline, or a replica here applying more than kHealthyApplyLag entries behind its commit
  // index; else healthy.
  bool unhealthy = groups.empty();
  bool degraded = false;
  for (const sql::ClusterGroupStatus& g : groups) {
    if (g.current_leader == 0 || g.failed) unhealthy = true;
    if (g.committed - g.last_applied > kHealthyApplyLag) degraded = true;
  }
  for (const sql::ClusterMemberStatus& m : members) {
    if (m.status == "offline") degraded = true;
  }
  const sql::ClusterMemberStatus* self = nullptr;
  for (const sql::ClusterMemberStatus& m : members) {
    if (m.is_self) self = &m;
  }
  const char* status = unhealthy ? "unhealthy" : degraded ? "degraded" : "healthy";

  std::string body = "{\"status\":\"";
  body += status;
  body += "\",\"version\":";
  AppendJsonString(version, &body);
  body += ",\"build_date\":";
  AppendJsonString(build_date, &body);
  body += ",\"is_cluster_mode\":true,\"cluster_id\":";
  AppendJsonString(cluster.cluster_id(), &body);
  body += ",\"node_id\":" + std::to_string(node_id);
  body += ",\"is_leader\":";
  body += self && self->is_leader ? "true" : "false";
  body += ",\"total_groups\":" + std::to_string(groups.size());
  body += ",\"groups_leading\":" + std::to_string(self ? self->groups_leading : 0);
  body += ",\"current_term\":";
  AppendOptional(self ? self->current_term : std::nullopt, &body);
  body += ",\"last_applied\":";
  AppendOptional(self ? self->last_applied_log : std::nullopt, &body);
  // libraft 0.15 does not record when a quorum last acknowledged the leader (docs/cluster.md).
  body += ",\"millis_since_quorum_ack\":null,\"nodes\":[";
  for (size_t i = 0; i < members.size(); ++i) {
    const sql::ClusterMemberStatus& m = members[i];
    if (i > 0) body += ",";
    body += "{\"node_id\":" + std::to_string(m.node_id) + ",\"role\":";
    AppendJsonString(m.role, &body);
    body += ",\"status\":";
    AppendJsonString(m.status, &body);
    body += ",\"api_addr\":";
    AppendJsonString(m.api_addr, &body);
    body += ",\"is_self\":";
    body += m.is_self ? "true" : "false";
    body += ",\"is_leader\":";
    body += m.is_leader ? "true" : "false";
    body += ",\"replication_lag\":";
    AppendOptional(m.replication_lag, &body);
    body += ",\"catchup_progress_pct\":";
    AppendOptional(m.catchup_progress_pct, &body);
    body += "}";
  }
  body += "]}";
  return {unhealthy ? 503 : 200, std::move(body)};
}

}  // namespace kalam::api
