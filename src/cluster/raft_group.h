// RaftGroup: this node's replica of one Raft group on libuv — libraft's disk I/O (raft_uv) and
// TCP transport, a raft instance, and the FsmBridge to the group's StateMachine — owned together.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cluster/fsm_bridge.h"
#include "cluster/peer.h"
#include "cluster/proposer.h"
#include "cluster/raft_c.h"
#include "cluster/state_machine.h"
#include "common/status.h"

namespace kalam::cluster {

struct RaftGroupOptions {
  NodeId id = 0;                // this replica's id; one of `peers`
  std::vector<Peer> peers;      // the group's voters (bootstrap configuration), this node included
  std::string dir;              // the group's Raft log and snapshots; created when missing
  std::chrono::milliseconds election_timeout{1000};   // cluster.election_timeout_ms
  std::chrono::milliseconds heartbeat_timeout{100};   // cluster.heartbeat_timeout_ms
  unsigned snapshot_threshold = 1024;  // entries between snapshots (libraft's default)
  unsigned snapshot_trailing = 8192;   // entries kept in the log behind a snapshot
  // How long a leader waits for an InstallSnapshot answer before sending the snapshot again.
  std::chrono::milliseconds install_snapshot_timeout{30000};  // libraft's default
  // Size of a new open log segment on disk (libraft: 8 MiB); 0 keeps libraft's. Entries leave
  // the disk only once their segment is closed, so small test logs need small segments.
  size_t segment_size_bytes = 0;
};

// Not thread-safe: every call, and the StateMachine's callbacks, run on the thread that runs
// `loop`. The group lives at a fixed address (libraft holds pointers into it).
class RaftGroup {
 public:
  // Opens the replica in options.dir on `loop` and starts it: bootstraps the configuration from
  // options.peers when the directory holds no Raft state, else resumes from it (the peers are
  // then taken from the log). kInvalidArgument when options.id is not among the peers;
  // kIoError when the directory or the port cannot be used. The process must ignore SIGPIPE
  // (kalamdb-server's main does): libuv writes to peers' sockets with write(2), and a peer that
  // dies must not kill this node.
  static Result<std::unique_ptr<RaftGroup>> Start(uv_loop_t* loop, const RaftGroupOptions& options,
                                                  StateMachine& machine);

  // Use Start; the token keeps construction inside it.
  struct Token {
    explicit Token() = default;
  };
  RaftGroup(Token, uv_loop_t* loop, StateMachine& machine) : loop_(loop), bridge_(machine) {}

  // Closes the group if Close was not called, running `loop` until libraft has released it.
  // Call on the loop's thread while the loop is not running.
  ~RaftGroup();
  RaftGroup(const RaftGroup&) = delete;
  RaftGroup& operator=(const RaftGroup&) = delete;

  // Stops the replica (no more votes, heartbeats or applies); `done` runs on the loop once
  // libraft has released everything. The object may be destroyed after that.
  void Close(std::function<void()> done);

  // See cluster::Propose / cluster::Barrier.
  void Propose(const LogEntry& entry, ProposeCallback done);
  void Barrier(ProposeCallback done);

  bool is_leader() { return raft_state(&raft_) == RAFT_LEADER; }
  // The leader this replica knows of (0 / "" when none).
  NodeId leader_id();
  LogIndex last_applied() { return raft_last_applied(&raft_); }
  // The latest term this replica has seen.
  uint64_t term() const { return raft_.current_term; }
  const FsmBridge& bridge() const { return bridge_; }
  bool closed() const { return closed_; }

 private:
  static void OnClosed(struct raft* r);

  uv_loop_t* loop_;
  FsmBridge bridge_;
  struct raft_uv_transport transport_ {};
  struct raft_io io_ {};
  struct raft raft_ {};
  bool transport_ready_ = false;  // raft_uv_tcp_init succeeded
  bool io_ready_ = false;         // raft_uv_init succeeded
  bool raft_ready_ = false;       // raft_init succeeded
  bool closing_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;
};

}  // namespace kalam::cluster
