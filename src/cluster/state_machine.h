// The interface a replicated shard implements: apply committed entries in log order, take and
// restore snapshots. Bridged to libraft's raft_fsm by FsmBridge.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/log_entry.h"
#include "common/status.h"

namespace kalam::cluster {

// A Raft log index (1-based; 0 = nothing).
using LogIndex = uint64_t;

// Not thread-safe: every call comes from the group's Raft loop thread, one at a time.
class StateMachine {
 public:
  virtual ~StateMachine() = default;

  // Applies the committed entry at `index`. Entries arrive in strictly increasing index order
  // (with gaps: Raft's own configuration and barrier entries take indices too). After a restart
  // they resume from the index after the last restored snapshot, so a state machine that
  // persists its own applied index skips entries at or below it. It must be
  // deterministic: every replica applying the same entries reaches the same state. A failure
  // is sticky (FsmBridge applies nothing more on this replica until it is rebuilt) because
  // skipping an entry would make the replica diverge.
  virtual Status Apply(LogIndex index, const LogEntry& entry) = 0;

  // The whole state as bytes, consistent as of the last applied entry (or a small descriptor of
  // files holding it, as replication::ShardStateMachine returns).
  virtual Result<std::string> Snapshot() = 0;

  // Replaces the whole state by `snapshot` (bytes a Snapshot() produced, on any replica).
  virtual Status Restore(std::string_view snapshot) = 0;
};

}  // namespace kalam::cluster
