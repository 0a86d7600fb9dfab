// Three NodeRuntimes in one process on 127.0.0.1, each running two Raft groups on its own loop
// thread: concurrent proposals from many threads, identical apply order on every replica, the
// idle barrier, NOT_LEADER answers, leader stop → new leader, and a restarted node catching up.
#include "cluster/node_runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace kalam::cluster {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// Records every applied entry (index, payload) in order; read from test threads under its mutex.
class RecordingMachine : public StateMachine {
 public:
  Status Apply(LogIndex index, const LogEntry& entry) override {
    std::lock_guard lock(mu_);
    if (index <= last_) return Status::Internal("entry " + std::to_string(index) + " repeated");
    last_ = index;
    applied_.push_back(entry.payload);
    return Status::OK();
  }
  Result<std::string> Snapshot() override { return Status::FailedPrecondition("no snapshots"); }
  Status Restore(std::string_view) override { return Status::FailedPrecondition("no snapshots"); }

  std::vector<std::string> applied() const {
    std::lock_guard lock(mu_);
    return applied_;
  }

 private:
  mutable std::mutex mu_;
  LogIndex last_ = 0;
  std::vector<std::string> applied_;
};

constexpr int kNodes = 3;
constexpr int kGroups = 2;

class NodeRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/kalam_node_runtime_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    for (int g = 0; g < kGroups; ++g) {
      std::vector<Peer> peers;
      for (NodeId id = 1; id <= kNodes; ++id) peers.push_back(Peer{id, "127.0.0.1", FreePort()});
      peers_.push_back(peers);
    }
    runtimes_.resize(kNodes);
    machines_.resize(kNodes);
  }

  void TearDown() override {
    runtimes_.clear();
    fs::remove_all(dir_);
  }

  void StartNode(int node, NodeRuntimeOptions options = {},
                 std::chrono::milliseconds election = std::chrono::milliseconds(1000),
                 std::chrono::milliseconds heartbeat = std::chrono::milliseconds(100)) {
    std::vector<GroupSpec> specs;
    machines_[node].clear();
    for (int g = 0; g < kGroups; ++g) {
      machines_[node].push_back(std::make_unique<RecordingMachine>());
      GroupSpec spec;
      spec.options.id = static_cast<NodeId>(node + 1);
      spec.options.peers = peers_[g];
      spec.options.dir =
          (fs::path(dir_) / ("node" + std::to_string(node + 1)) / ("g" + std::to_string(g)))
              .string();
      spec.options.election_timeout = election;
      spec.options.heartbeat_timeout = heartbeat;
      spec.machine = machines_[node].back().get();
      specs.push_back(std::move(spec));
    }
    auto runtime = NodeRuntime::Start(std::move(specs), options);
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    runtimes_[node] = std::move(runtime).value();
  }

  static bool WaitFor(const std::function<bool()>& cond,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = Clock::now() + timeout;
    while (!cond()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // The node leading `group` that every running node follows, or -1.
  int StableLeader(uint32_t group) {
    int leader = -1;
    for (int n = 0; n < kNodes; ++n) {
      if (runtimes_[n] && runtimes_[n]->View(group).leader) leader = n;
    }
    if (leader < 0) return -1;
    for (int n = 0; n < kNodes; ++n) {
      if (runtimes_[n] && runtimes_[n]->View(group).leader_id != NodeId(leader + 1)) return -1;
    }
    return leader;
  }

  int AwaitLeader(uint32_t group) {
    int leader = -1;
    EXPECT_TRUE(WaitFor([&] { return (leader = StableLeader(group)) >= 0; }));
    return leader;
  }

  // Every running node applied exactly `count` entries of `group`, in the same order.
  void ExpectConverged(uint32_t group, size_t count) {
    EXPECT_TRUE(WaitFor([&] {
      for (int n = 0; n < kNodes; ++n) {
        if (runtimes_[n] && machines_[n][group]->applied().size() < count) return false;
      }
      return true;
    })) << "group " << group;
    std::vector<std::string> reference;
    for (int n = 0; n < kNodes; ++n) {
      if (!runtimes_[n]) continue;
      auto applied = machines_[n][group]->applied();
      EXPECT_EQ(applied.size(), count) << "node " << n;
      if (reference.empty()) reference = applied;
      EXPECT_EQ(applied, reference) << "node " << n << " group " << group;
    }
  }

  // `threads` threads each propose `per_thread` entries to `node`; returns how many committed.
  int ProposeConcurrently(int node, uint32_t group, int threads, int per_thread,
                          const std::string& tag) {
    std::atomic<int> committed{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          LogEntry entry{EntryKind::kCommitGroup,
                         tag + "/" + std::to_string(t) + "/" + std::to_string(i)};
          ProposeOutcome outcome = runtimes_[node]->Propose(group, std::move(entry)).get();
          if (outcome.kind == ProposeOutcome::Kind::kCommitted) ++committed;
        }
      });
    }
    for (auto& w : workers) w.join();
    return committed.load();
  }

  std::string dir_;
  std::vector<std::vector<Peer>> peers_;  // per group
  std::vector<std::unique_ptr<NodeRuntime>> runtimes_;
  std::vector<std::vector<std::unique_ptr<RecordingMachine>>> machines_;  // per node, per group
};

TEST_F(NodeRuntimeTest, ConcurrentProposalsApplyInTheSameOrderEverywhere) {
  for (int n = 0; n < kNodes; ++n) StartNode(n);
  for (uint32_t g = 0; g < kGroups; ++g) {
    const int leader = AwaitLeader(g);
    ASSERT_GE(leader, 0);
    EXPECT_EQ(ProposeConcurrently(leader, g, 6, 50, "g" + std::to_string(g)), 300);
    // A follower answers NOT_LEADER and names the leader's address.
    const int follower = (leader + 1) % kNodes;
    ProposeOutcome outcome =
        runtimes_[follower]->Propose(g, LogEntry{EntryKind::kCommitGroup, "x"}).get();
    EXPECT_EQ(outcome.kind, ProposeOutcome::Kind::kNotLeader);
    EXPECT_EQ(outcome.leader_id, NodeId(leader + 1));
    EXPECT_EQ(outcome.leader_address, peers_[g][leader].address());
    EXPECT_EQ(outcome.status.message(), "Not leader for shard. Leader: " + peers_[g][leader].address());
    // The leader is ready (everything before its term applied) after one barrier; a follower
    // never is.
    ProposeOutcome ready = runtimes_[leader]->AwaitLeaderReady(g).get();
    EXPECT_EQ(ready.kind, ProposeOutcome::Kind::kCommitted);
    EXPECT_GE(machines_[leader][g]->applied().size(), 300u);
    EXPECT_EQ(runtimes_[leader]->AwaitLeaderReady(g).get().kind, ProposeOutcome::Kind::kCommitted);
    ProposeOutcome not_ready = runtimes_[follower]->AwaitLeaderReady(g).get();
    EXPECT_EQ(not_ready.kind, ProposeOutcome::Kind::kNotLeader);
    EXPECT_EQ(not_ready.leader_id, NodeId(leader + 1));
  }
  // Followers learn the commit of the last entries (the idle barrier carries it).
  for (uint32_t g = 0; g < kGroups; ++g) ExpectConverged(g, 300);
  // The idle barrier follows 50 ms after the last proposal of each group.
  EXPECT_TRUE(WaitFor([&] {
    uint64_t barriers = 0;
    for (auto& rt : runtimes_) barriers += rt->idle_barriers();
    return barriers >= kGroups;
  }, std::chrono::seconds(5)));

  ProposeOutcome unknown = runtimes_[0]->Propose(7, LogEntry{EntryKind::kCommitGroup, "x"}).get();
  EXPECT_EQ(unknown.kind, ProposeOutcome::Kind::kFailed);
  EXPECT_EQ(unknown.status.message(), "Raft group 7 does not exist on this node");

  runtimes_[0]->Stop();
  ProposeOutcome stopped = runtimes_[0]->Propose(0, LogEntry{EntryKind::kCommitGroup, "x"}).get();
  EXPECT_EQ(stopped.kind, ProposeOutcome::Kind::kFailed);
  EXPECT_EQ(stopped.status.message(), "The node is shutting down");
  runtimes_[0]->Stop();  // idempotent
}

// With heartbeats every 1.5 s and no idle barrier, a follower learns a commit only from the next
// append: PushCommitIndex sends one at once, so each follower applies within a fraction of a
// heartbeat, and the leader's view lists both followers, caught up and reachable.
TEST_F(NodeRuntimeTest, PushCommitIndexTellsTheFollowersAtOnce) {
  NodeRuntimeOptions options;
  options.idle_barrier = std::chrono::hours(1);
  for (int n = 0; n < kNodes; ++n) {
    StartNode(n, options, std::chrono::milliseconds(4000), std::chrono::milliseconds(1500));
  }
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % kNodes;
  // A first push tells every group this node leads its start-up commits (group 1 too, when this
  // node leads it); from then on only new commits call for one.
  runtimes_[leader]->PushCommitIndex();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const uint64_t base = runtimes_[leader]->commit_pushes();
  size_t count = machines_[leader][0]->applied().size();
  for (int round = 0; round < 5; ++round) {
    ProposeOutcome outcome =
        runtimes_[leader]->Propose(0, LogEntry{EntryKind::kCommitGroup, "p" + std::to_string(round)})
            .get();
    ASSERT_EQ(outcome.kind, ProposeOutcome::Kind::kCommitted);
    ++count;
    runtimes_[leader]->PushCommitIndex();
    const auto pushed = Clock::now();
    EXPECT_TRUE(WaitFor([&] { return machines_[follower][0]->applied().size() >= count; },
                        std::chrono::milliseconds(500)))
        << "round " << round;
    std::printf("push round %d: follower applied after %.1f ms\n", round,
                std::chrono::duration<double, std::milli>(Clock::now() - pushed).count());
  }
  EXPECT_EQ(runtimes_[leader]->commit_pushes(), base + 5);
  EXPECT_EQ(runtimes_[leader]->idle_barriers(), 0u);
  // Nothing new committed: a second push appends nothing.
  ASSERT_TRUE(WaitFor([&] {
    const GroupView v = runtimes_[leader]->View(0);
    return v.replicas.size() == 2 && v.replicas[0].match_index == v.last_log_index &&
           v.replicas[1].match_index == v.last_log_index;
  }));
  runtimes_[leader]->PushCommitIndex();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(runtimes_[leader]->commit_pushes(), base + 5);
  const GroupView view = runtimes_[leader]->View(0);
  EXPECT_EQ(view.proposals, 5u);
  std::vector<NodeId> ids;
  for (const GroupView::Replica& r : view.replicas) {
    ids.push_back(r.id);
    EXPECT_TRUE(r.reachable) << r.id;
  }
  std::vector<NodeId> others;
  for (int n = 0; n < kNodes; ++n) {
    if (n != leader) others.push_back(static_cast<NodeId>(n + 1));
  }
  EXPECT_EQ(ids, others);
  EXPECT_TRUE(runtimes_[follower]->View(0).replicas.empty());
}

TEST_F(NodeRuntimeTest, LeaderStopElectsANewLeaderAndARestartedNodeCatchesUp) {
  for (int n = 0; n < kNodes; ++n) StartNode(n);
  const int leader = AwaitLeader(0);
  ASSERT_GE(leader, 0);
  ASSERT_EQ(ProposeConcurrently(leader, 0, 4, 25, "before"), 100);

  // Stop the leader while proposals are in flight: each ends committed or in doubt, or (queued
  // after the stop) failed; never lost silently.
  std::atomic<int> answered{0}, committed{0};
  std::map<ProposeOutcome::Kind, int> kinds;
  std::mutex kinds_mu;
  for (int i = 0; i < 50; ++i) {
    runtimes_[leader]->Propose(0, LogEntry{EntryKind::kCommitGroup, "inflight/" + std::to_string(i)},
                               [&](ProposeOutcome o) {
                                 std::lock_guard lock(kinds_mu);
                                 ++kinds[o.kind];
                                 if (o.kind == ProposeOutcome::Kind::kCommitted) ++committed;
                                 ++answered;
                               });
  }
  const auto stopped_at = Clock::now();
  runtimes_[leader]->Stop();
  EXPECT_EQ(answered.load(), 50);
  EXPECT_EQ(kinds.count(ProposeOutcome::Kind::kNotLeader), 0u);
  runtimes_[leader].reset();

  const int next = AwaitLeader(0);
  ASSERT_GE(next, 0);
  ASSERT_NE(next, leader);
  const double failover_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - stopped_at).count();
  std::printf("node runtime failover ms (election_timeout 1000): %.0f\n", failover_ms);
  EXPECT_LT(failover_ms, 8000.0);
  ASSERT_EQ(ProposeConcurrently(next, 0, 4, 25, "after"), 100);

  // Every committed in-flight entry and every later one is on both survivors, in one order.
  const auto survivor = machines_[next][0]->applied();
  size_t inflight_applied = 0;
  for (const auto& p : survivor) inflight_applied += p.rfind("inflight/", 0) == 0;
  EXPECT_GE(inflight_applied, static_cast<size_t>(committed.load()));
  ExpectConverged(0, 200 + inflight_applied);

  // The old leader restarts from its directories with empty machines and replays its log.
  StartNode(leader);
  ExpectConverged(0, 200 + inflight_applied);
}

}  // namespace
}  // namespace kalam::cluster
