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
#include <utility>
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
  // Groups whose followers learn each commit at once: after a proposal of such a group commits,
  // the runtime pushes the commit index (as PushCommitIndex does) unless a newer entry already
  // carries it. For the meta group: a catalog change must reach the followers before the data
  // entries that use it (docs/cluster.md, Failures).
  std::vector<uint32_t> push_each_commit;
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
  uint64_t proposals = 0;    // entries proposed to the group through this runtime (any outcome)
  // While this replica leads: every other voter, with the last entry it reported as replicated
  // and whether it answered within the last election timeout (`reachable`). Empty otherwise.
  struct Replica {
    NodeId id = 0;
    LogIndex match_index = 0;
    bool reachable = false;
  };
  std::vector<Replica> replicas;
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

  // Tells the followers of every group this node leads the commit index now, at once: appends a
  // Barrier to each such group whose commit index moved past what its last append carried (its
  // AppendEntries carries the new commit index; libraft itself sends it only with the next
  // heartbeat or entry). Returns at once; the barriers go out on the loop thread. A leader calls
  // it before answering a forwarded write, whose forwarding node waits for its own apply
  // (docs/cluster.md, Forwarding).
  void PushCommitIndex();
  // Barriers PushCommitIndex appended so far (all groups).
  uint64_t commit_pushes() const { return commit_pushes_.load(); }

 private:
  struct Queued {
    uint32_t group = 0;
    LogEntry entry;
    ProposeCallback done;
    bool ready_check = false;  // AwaitLeaderReady, not a proposal
    bool push = false;         // PushCommitIndex (every group), not a proposal
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
    // Loop thread only: the commit index the group's last append (proposal or barrier) carried
    // to the followers, as far as this node knows (heartbeats carry it too, unseen here).
    LogIndex announced_commit = 0;
    // Loop thread only: entries proposed so far; while leading, when each other voter was last
    // seen answering (libraft's recent_recv), reset on each won term.
    uint64_t proposals = 0;
    uint64_t heard_term = 0;
    std::vector<std::pair<NodeId, std::chrono::steady_clock::time_point>> last_heard;
    std::chrono::milliseconds election_timeout{1000};
    bool push_each_commit = false;  // options.push_each_commit names this group
    bool push_due = false;          // loop thread only: a proposal committed; push in Drain
  };

  void Run();
  static void OnAsync(uv_async_t* handle);
  static void OnTick(uv_timer_t* handle);
  void Drain();
  void ReadyCheck(uint32_t group, ProposeCallback done);
  void Push();
  // Appends a Barrier to group `g` (led here) that tells its followers the commit index now.
  void CarrierBarrier(uint32_t g);
  void Tick();
  void Heard(Slot& slot, std::chrono::steady_clock::time_point now, GroupView& view);
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
  std::atomic<uint64_t> commit_pushes_{0};
  bool closing_ = false;  // loop thread only: BeginClose ran
};

}  // namespace kalam::cluster
