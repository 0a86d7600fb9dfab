// ClusterHealth: the status rule (healthy / degraded / unhealthy) and the exact JSON of a cluster
// node's GET /v1/api/cluster/health, from a fake sql::ClusterStatus.
#include "api/cluster_health.h"

#include <gtest/gtest.h>

namespace kalam::api {
namespace {

class FakeCluster : public sql::ClusterStatus {
 public:
  std::string cluster_id() const override { return "kalamdb"; }
  std::vector<sql::ClusterMemberStatus> Members() const override { return members; }
  std::vector<sql::ClusterGroupStatus> Groups() const override { return groups; }
  std::vector<sql::ClusterMemberStatus> members;
  std::vector<sql::ClusterGroupStatus> groups;
};

sql::ClusterGroupStatus Group(int64_t id, int64_t leader, int64_t committed, int64_t applied) {
  sql::ClusterGroupStatus g;
  g.group_id = id;
  g.current_leader = leader;
  g.committed = committed;
  g.last_applied = applied;
  return g;
}

// Node 1 leads the meta group and one of two data groups; node 3 answers nothing.
FakeCluster ThreeNodes() {
  FakeCluster c;
  sql::ClusterMemberStatus one;
  one.node_id = 1;
  one.role = "leader";
  one.status = "active";
  one.api_addr = "127.0.0.1:8081";
  one.is_self = true;
  one.is_leader = true;
  one.groups_leading = 2;
  one.current_term = 3;
  one.last_applied_log = 17;
  one.replication_lag = 0;
  sql::ClusterMemberStatus two;
  two.node_id = 2;
  two.role = "follower";
  two.status = "active";
  two.api_addr = "127.0.0.1:8082";
  two.groups_leading = 1;
  two.replication_lag = 0;
  two.catchup_progress_pct = 100;
  sql::ClusterMemberStatus three = two;
  three.node_id = 3;
  three.api_addr = "127.0.0.1:8083";
  three.groups_leading = 0;
  c.members = {one, two, three};
  c.groups = {Group(0, 1, 17, 17), Group(1, 1, 5, 5), Group(2, 2, 9, 9)};
  return c;
}

constexpr char kNodes[] =
    R"("nodes":[{"node_id":1,"role":"leader","status":"active","api_addr":"127.0.0.1:8081",)"
    R"("is_self":true,"is_leader":true,"replication_lag":0,"catchup_progress_pct":null},)"
    R"({"node_id":2,"role":"follower","status":"active","api_addr":"127.0.0.1:8082",)"
    R"("is_self":false,"is_leader":false,"replication_lag":0,"catchup_progress_pct":100},)";

TEST(ClusterHealthTest, HealthyWhenEveryGroupHasALeaderAndEveryMemberAnswers) {
  FakeCluster c = ThreeNodes();
  ClusterHealthAnswer a = ClusterHealth(c, 1, "0.1.0", "2026-12-07T10:31:10Z");
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body,
            std::string(R"({"status":"healthy","version":"0.1.0","build_date":"2026-12-07T10:31:10Z",)"
                        R"("is_cluster_mode":true,"cluster_id":"kalamdb","node_id":1,"is_leader":true,)"
                        R"("total_groups":3,"groups_leading":2,"current_term":3,"last_applied":17,)"
                        R"("millis_since_quorum_ack":null,)") +
                kNodes +
                R"({"node_id":3,"role":"follower","status":"active","api_addr":"127.0.0.1:8083",)"
                R"("is_self":false,"is_leader":false,"replication_lag":0,"catchup_progress_pct":100}]})");
}

TEST(ClusterHealthTest, DegradedWhenAMemberIsOffline) {
  FakeCluster c = ThreeNodes();
  c.members[2].status = "offline";
  c.members[2].replication_lag = 4;
  c.members[2].catchup_progress_pct = 76;
  ClusterHealthAnswer a = ClusterHealth(c, 1, "0.1.0", "d");
  EXPECT_EQ(a.http_status, 200);
  EXPECT_EQ(a.body.substr(0, 22), R"({"status":"degraded",")");
  EXPECT_NE(a.body.find(R"({"node_id":3,"role":"follower","status":"offline","api_addr":"127.0.0.1:8083",)"
                        R"("is_self":false,"is_leader":false,"replication_lag":4,"catchup_progress_pct":76}]})"),
            std::string::npos)
      << a.body;
}

TEST(ClusterHealthTest, DegradedWhenThisReplicaAppliesTooFarBehind) {
  FakeCluster c = ThreeNodes();
  c.groups[2] = Group(2, 2, 9 + kHealthyApplyLag + 1, 9);
  EXPECT_EQ(ClusterHealth(c, 1, "v", "d").body.substr(0, 22), R"({"status":"degraded",")");
  c.groups[2] = Group(2, 2, 9 + kHealthyApplyLag, 9);  // at the bound: still healthy
  EXPECT_EQ(ClusterHealth(c, 1, "v", "d").body.substr(0, 21), R"({"status":"healthy",")");
}

TEST(ClusterHealthTest, UnhealthyWithoutALeaderOrWithAFailedReplica) {
  FakeCluster c = ThreeNodes();
  c.members[2].status = "offline";
  c.groups[1].current_leader = 0;  // an election runs or the quorum is lost
  ClusterHealthAnswer a = ClusterHealth(c, 1, "v", "d");
  EXPECT_EQ(a.http_status, 503);
  EXPECT_EQ(a.body.substr(0, 23), R"({"status":"unhealthy",")");
  c = ThreeNodes();
  c.groups[0].failed = true;
  a = ClusterHealth(c, 1, "v", "d");
  EXPECT_EQ(a.http_status, 503);
  EXPECT_EQ(a.body.substr(0, 23), R"({"status":"unhealthy",")");
}

}  // namespace
}  // namespace kalam::api
