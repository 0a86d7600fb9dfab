// Propose: raft_apply with a heap request that carries the C++ callback.
#include "cluster/proposer.h"

#include <cstring>
#include <memory>

namespace kalam::cluster {

namespace {

struct ProposeRequest {
  struct raft_apply apply{};  // apply.data points back at this request
  raft* r = nullptr;
  ProposeCallback done;
};

ProposeOutcome NotLeader(raft* r) {
  ProposeOutcome outcome;
  outcome.kind = ProposeOutcome::Kind::kNotLeader;
  CurrentLeader(r, &outcome.leader_id, &outcome.leader_address);
  outcome.status = Status::Unavailable(
      outcome.leader_address.empty() ? "Not leader for shard. Leader unknown"
                                     : "Not leader for shard. Leader: " + outcome.leader_address);
  return outcome;
}

void ApplyDone(struct raft_apply* req, int status, void* /*result: FsmBridge sets none*/) {
  std::unique_ptr<ProposeRequest> request(static_cast<ProposeRequest*>(req->data));
  ProposeOutcome outcome;
  if (status == 0) {
    outcome.kind = ProposeOutcome::Kind::kCommitted;
    outcome.index = req->index;
  } else {
    outcome.kind = ProposeOutcome::Kind::kOutcomeUnknown;
    outcome.index = req->index;
    CurrentLeader(request->r, &outcome.leader_id, &outcome.leader_address);
    outcome.status = Status::Unavailable(std::string("The Raft proposal's outcome is unknown: ") +
                                         raft_strerror(status));
  }
  request->done(std::move(outcome));
}

struct BarrierRequest {
  struct raft_barrier barrier{};  // barrier.data points back at this request
  raft* r = nullptr;
  ProposeCallback done;
};

void BarrierDone(struct raft_barrier* req, int status) {
  std::unique_ptr<BarrierRequest> request(static_cast<BarrierRequest*>(req->data));
  ProposeOutcome outcome;
  outcome.index = req->index;
  if (status == 0) {
    outcome.kind = ProposeOutcome::Kind::kCommitted;
  } else {
    outcome.kind = ProposeOutcome::Kind::kOutcomeUnknown;
    CurrentLeader(request->r, &outcome.leader_id, &outcome.leader_address);
    outcome.status = Status::Unavailable(std::string("The Raft barrier's outcome is unknown: ") +
                                         raft_strerror(status));
  }
  request->done(std::move(outcome));
}

}  // namespace

void Barrier(raft* r, ProposeCallback done) {
  if (raft_state(r) != RAFT_LEADER) return done(NotLeader(r));
  auto request = std::make_unique<BarrierRequest>();
  request->r = r;
  request->barrier.data = request.get();
  request->done = std::move(done);
  const int rv = raft_barrier(r, &request->barrier, &BarrierDone);
  if (rv == 0) {
    (void)request.release();  // owned by libraft until BarrierDone
    return;
  }
  if (rv == RAFT_NOTLEADER) return request->done(NotLeader(r));
  ProposeOutcome outcome;
  outcome.status = Status::Unavailable(std::string("The Raft barrier was refused: ") +
                                       raft_strerror(rv));
  request->done(std::move(outcome));
}

void CurrentLeader(raft* r, NodeId* id, std::string* address) {
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(r, &leader_id, &leader_address);
  *id = leader_id;
  *address = leader_address == nullptr ? "" : leader_address;
}

void Propose(raft* r, const LogEntry& entry, ProposeCallback done) {
  if (raft_state(r) != RAFT_LEADER) return done(NotLeader(r));
  const std::string bytes = EncodeLogEntry(entry);
  raft_buffer buf;
  buf.len = bytes.size();
  buf.base = raft_malloc(bytes.size());
  if (buf.base == nullptr) {
    ProposeOutcome outcome;
    outcome.status = Status::ResourceExhausted("Out of memory for a Raft proposal");
    return done(std::move(outcome));
  }
  std::memcpy(buf.base, bytes.data(), bytes.size());
  auto request = std::make_unique<ProposeRequest>();
  request->r = r;
  request->apply.data = request.get();
  request->done = std::move(done);
  const int rv = raft_apply(r, &request->apply, &buf, 1, &ApplyDone);
  if (rv == 0) {
    (void)request.release();  // owned by libraft until ApplyDone
    return;
  }
  raft_free(buf.base);  // ownership passes to libraft only on success
  if (rv == RAFT_NOTLEADER) return request->done(NotLeader(r));
  ProposeOutcome outcome;
  outcome.status = Status::Unavailable(std::string("The Raft proposal was refused: ") +
                                       raft_strerror(rv));
  request->done(std::move(outcome));
}

}  // namespace kalam::cluster
