// Propose: hand one LogEntry to a Raft group's leader and learn, asynchronously, whether it was
// committed (with its index), refused because this node does not lead (with the leader to go
// to), or left in doubt.
#pragma once

#include "cluster/raft_c.h"

#include <functional>
#include <string>

#include "cluster/log_entry.h"
#include "cluster/peer.h"
#include "cluster/state_machine.h"
#include "common/status.h"

namespace kalam::cluster {

struct ProposeOutcome {
  enum class Kind {
    // Committed by a majority (durable on each of them) and applied to this node's state
    // machine; `index` is its log index.
    kCommitted,
    // Not appended: this node is not the leader. `leader_id` / `leader_address` name the leader
    // this node knows of (0 / "" while an election runs). Safe to retry elsewhere.
    kNotLeader,
    // Appended, then leadership was lost or the node shut down before the commit was known: a
    // new leader may still commit it. Also: committed, but this node's state machine failed to
    // apply it (FsmBridge::failure()). The caller must not report "not written"; it finds out
    // by reading the applied state (for a commit group: whether its `_seq`s exist).
    kOutcomeUnknown,
    // Not appended for another reason (`status` says which); nothing was written.
    kFailed,
  };
  Kind kind = Kind::kFailed;
  LogIndex index = 0;
  NodeId leader_id = 0;
  std::string leader_address;
  Status status;
};

// Called exactly once, on the Raft loop thread (possibly before Propose returns).
using ProposeCallback = std::function<void(ProposeOutcome)>;

// Proposes `entry` (EncodeLogEntry'd) to raft instance `r`. Must be called on r's loop thread
// (libraft is single-threaded); a cross-thread queue in front of it belongs to the node runtime.
void Propose(raft* r, const LogEntry& entry, ProposeCallback done);

// Appends a barrier (an empty entry) on leader `r`; `done` gets kCommitted once every entry
// before it is committed and applied here, else kNotLeader / kOutcomeUnknown / kFailed as for
// Propose. The node runtime issues one after a burst of writes goes quiet: libraft 0.15
// followers can miss the commit index of the last entries in heartbeats (seen on the fixture;
// docs/cluster.md), and the barrier's AppendEntries carries it.
void Barrier(raft* r, ProposeCallback done);

// The leader as `r` knows it (id 0 and "" when unknown).
void CurrentLeader(raft* r, NodeId* id, std::string* address);

}  // namespace kalam::cluster
