// FsmBridge: libraft's C `raft_fsm` (apply / snapshot / restore callbacks) forwarding to a C++
// StateMachine, with entries and snapshots in the checksummed LogEntry envelope.
#pragma once

#include "cluster/raft_c.h"

#include <optional>

#include "cluster/state_machine.h"

namespace kalam::cluster {

// Owns the raft_fsm struct libraft calls into; its address is handed to raft_init (or to
// raft_fixture_grow), so the bridge is neither copyable nor movable and must outlive the raft
// instance. Not thread-safe: used from the Raft loop thread only.
class FsmBridge {
 public:
  explicit FsmBridge(StateMachine& machine);
  FsmBridge(const FsmBridge&) = delete;
  FsmBridge& operator=(const FsmBridge&) = delete;

  // The struct to pass to raft_init / raft_fixture_grow.
  raft_fsm* fsm() { return &fsm_; }

  // Tells the bridge which raft instance drives it, so Apply can name the entry's index
  // (raft_last_applied + 1 while an entry is being applied). Call once, before raft_start;
  // without it the index passed to StateMachine::Apply is 0.
  void Attach(raft* r) { raft_ = r; }

  // The first Apply or Restore failure, or a refused entry; once set, nothing more is applied.
  const std::optional<Status>& failure() const { return failure_; }
  // Entries applied successfully since construction.
  uint64_t applied_entries() const { return applied_entries_; }

 private:
  static int ApplyCb(raft_fsm* fsm, const raft_buffer* buf, void** result);
  static int SnapshotCb(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs);
  static int RestoreCb(raft_fsm* fsm, raft_buffer* buf);

  int Apply(const raft_buffer& buf);
  int Snapshot(raft_buffer* bufs[], unsigned* n_bufs);
  int Restore(raft_buffer* buf);
  void Fail(Status status);

  StateMachine& machine_;
  raft_fsm fsm_{};
  raft* raft_ = nullptr;
  std::optional<Status> failure_;
  uint64_t applied_entries_ = 0;
};

}  // namespace kalam::cluster
