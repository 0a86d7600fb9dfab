// Tests for PlanGroups: the groups, ports and directories of a cluster node.
#include "cluster/group_plan.h"

#include <gtest/gtest.h>

namespace kalam::cluster {
namespace {

GroupPlanInput Input(uint32_t user_shards) {
  GroupPlanInput in;
  in.node_id = 2;
  in.peers = {{1, "10.0.0.1", 9100}, {2, "10.0.0.2", 9100}, {3, "10.0.0.3", 9200}};
  in.user_shards = user_shards;
  in.raft_dir = "/data/raft";
  in.election_timeout = std::chrono::milliseconds(700);
  in.heartbeat_timeout = std::chrono::milliseconds(70);
  return in;
}

TEST(GroupPlan, OneGroupPerOrdinalWithThePeersPortPlusTheOrdinal) {
  auto plan = PlanGroups(Input(2));
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->size(), 4u);
  const std::vector<std::string> names = {"meta", "user_0", "user_1", "shared"};
  const ShardRouter router(2);
  for (uint32_t g = 0; g < 4; ++g) {
    const PlannedGroup& p = (*plan)[g];
    EXPECT_EQ(p.name, names[g]);
    EXPECT_EQ(router.Ordinal(p.group), g);
    EXPECT_EQ(p.options.id, 2u);
    EXPECT_EQ(p.options.dir, "/data/raft/" + names[g]);
    EXPECT_EQ(p.options.election_timeout, std::chrono::milliseconds(700));
    EXPECT_EQ(p.options.heartbeat_timeout, std::chrono::milliseconds(70));
    ASSERT_EQ(p.options.peers.size(), 3u);
    EXPECT_EQ(p.options.peers[0].address(), "10.0.0.1:" + std::to_string(9100 + g));
    EXPECT_EQ(p.options.peers[1].address(), "10.0.0.2:" + std::to_string(9100 + g));
    EXPECT_EQ(p.options.peers[2].address(), "10.0.0.3:" + std::to_string(9200 + g));
    EXPECT_EQ(p.options.peers[2].id, 3u);
  }
  EXPECT_EQ((*plan)[1].group, (GroupId{GroupKind::kUserShard, 0}));
  EXPECT_EQ((*plan)[3].group, router.Shared());
}

TEST(GroupPlan, RefusesPortsPast65535AndAnUnknownNode) {
  GroupPlanInput in = Input(8);
  in.peers[2].port = 65526;  // 10 groups: 65526..65535 fits
  EXPECT_TRUE(PlanGroups(in).ok());
  in.peers[2].port = 65527;
  auto plan = PlanGroups(in);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plan.status().message(),
            "cluster.peers '3=10.0.0.3:65527': with 10 Raft groups the node uses ports 65527 to "
            "65536, past 65535: choose a lower port");
  in = Input(2);
  in.peers[1].host = "10.0.0.1";
  in.peers[1].port = 9104;  // 4 groups: 9100..9103 and 9104..9107 do not overlap
  EXPECT_TRUE(PlanGroups(in).ok());
  in.peers[1].port = 9103;
  EXPECT_EQ(PlanGroups(in).status().message(),
            "cluster.peers '1=10.0.0.1:9100' and '2=10.0.0.1:9103' share a host and their port "
            "ranges overlap: each node uses 4 consecutive ports (one per Raft group), so put their "
            "ports at least 4 apart");
  in = Input(8);
  in.node_id = 4;
  EXPECT_EQ(PlanGroups(in).status().message(), "cluster.node_id 4 is not among cluster.peers");
}

}  // namespace
}  // namespace kalam::cluster
