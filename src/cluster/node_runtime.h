// NodeRuntime: one libuv loop thread running every Raft group this node holds a replica of, with
// a thread-safe proposal queue in front of it (libraft is single-threaded) and the idle barrier.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cluster/log_entry.h"
#include "cluster/proposer.h"
#include "cluster/raft_c.h"
#include "cluster/raft_group.h"
#include "cluster/state_machine.h"
#include "common/status.h"

namespace kalam::cluster {

// One replica the runtime runs: its options (own port and directory per group) and the state
// machine its committed entries are applied to. The machine must outlive the runtime; its
// callbacks run on the runtime's loop thread.
struct GroupSpec {
  RaftGroupOptions options;
  StateMachine* machine = nullptr;
};

struct NodeRuntimeOptions {
  // A group this node leads gets a Barrier once it has seen no new proposal for this long after
  // its last one: libraft 0.15 followers can miss the commit index of a burst's last entries in
  // heartbeats (docs/cluster.md), and the barrier's AppendEntries carries it.
  std::chrono::milliseconds idle_barrier{50};
  // How often the loop refreshes the group views (GroupView) and checks for idle groups.
  std::chrono::milliseconds tick{10};
};

// What the runtime last saw of one group (refreshed on the loop every `tick`).
struct GroupView {
  bool leader = false;       // this replica leads the group
  NodeId leader_id = 0;      // the leader this replica knows of (0: none)
  LogIndex last_applied = 0;
  bool failed = false;       // the state machine failed (FsmBridge::failure()); sticky
  uint64_t term = 0;         // the latest term this replica has seen
  NodeId voted_for = 0;      // its vote in that term (0: none)
  LogIndex commit_index = 0;     // the highest entry it knows to be committed
  LogIndex last_log_index = 0;   // the last entry of its log
  std::string state;         // "Leader", "Follower", "Candidate" (libraft's state)
};

// Thread-safe: Propose, View and Stop may be called from any thread (Stop not from the loop
// thread, i.e. not from a ProposeCallback or a StateMachine callback).
class NodeRuntime {
 public:
  // Starts every group of `groups` (in this order; a group's number is its position) on a new
  // loop thread. Fails, with nothing left running, when a group cannot start.
  static Result<std::unique_ptr<NodeRuntime>> Start(std::vector<GroupSpec> groups,
                                                    NodeRuntimeOptions options = {});

  // Use Start; the token keeps construction inside it.
  struct Token {
    explicit Token() = default;
  };
  NodeRuntime(Token, NodeRuntimeOptions options) : options_(options) {}
  ~NodeRuntime();  // Stop()
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // Queues `entry` for group `group` and returns at once; `done` runs exactly once, on the loop
  // thread (it must be quick and must not call Stop): kCommitted once a majority has the entry
  // durably and this node applied it; kNotLeader (with the leader) when this node does not lead
  // the group; kOutcomeUnknown when leadership was lost or the runtime stopped after the entry
  // was appended; kFailed when it was never appended (unknown group, runtime stopped).
  void Propose(uint32_t group, LogEntry entry, ProposeCallback done);
  // The same, waited on through a future.
  std::future<ProposeOutcome> Propose(uint32_t group, LogEntry entry);

  // Completes kCommitted once this node leads `group` AND has applied every entry committed
  // before its current term (a Barrier, appended once per term won): a new leader's applied state
  // may lag entries its predecessor committed, and whoever checks writes against that state (the
  // commit pipeline's re-check, `_seq` stamping) must wait for them. Immediate after the first
  // call of a term. kNotLeader / kOutcomeUnknown / kFailed as for Propose.
  std::future<ProposeOutcome> AwaitLeaderReady(uint32_t group);

  // Closes every group (their pending proposals end kOutcomeUnknown, queued ones kFailed) and
  // joins the loop thread. Idempotent.
  void Stop();

  size_t group_count() const { return views_.size(); }
  GroupView View(uint32_t group) const;
  // Barriers the idle rule appended so far (all groups).
  uint64_t idle_barriers() const { return idle_barriers_.load(); }

 private:
  struct Queued {
    uint32_t group = 0;
    LogEntry entry;
    ProposeCallback done;
    bool ready_check = false;  // AwaitLeaderReady, not a proposal
  };
  struct Slot {
    std::unique_ptr<RaftGroup> group;
    // Loop thread only: whether an entry was proposed since the last barrier, and when the last
    // one was.
    bool needs_barrier = false;
    std::chrono::steady_clock::time_point last_proposal{};
    // Loop thread only: the term in which this node, leading, applied everything committed
    // before it (AwaitLeaderReady's barrier committed); 0 = none yet.
    uint64_t ready_term = 0;
  };

  void Run();
  static void OnAsync(uv_async_t* handle);
  static void OnTick(uv_timer_t* handle);
  void Drain();
  void ReadyCheck(uint32_t group, ProposeCallback done);
  void Tick();
  void BeginClose();
  void Fail(ProposeCallback& done, const std::string& why);

  const NodeRuntimeOptions options_;
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_timer_t timer_{};
  std::thread thread_;
  std::vector<Slot> slots_;  // loop thread only once started

  std::mutex stop_mu_;  // serialises Stop
  std::mutex mu_;
  std::vector<Queued> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  bool stopped_ = false;       // guarded by mu_: Stop has joined the thread

  mutable std::mutex views_mu_;
  std::vector<GroupView> views_;  // guarded by views_mu_ (size fixed at Start)
  std::atomic<uint64_t> idle_barriers_{0};
  bool closing_ = false;  // loop thread only: BeginClose ran
};

}  // namespace kalam::cluster
