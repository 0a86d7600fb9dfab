// FsmBridge: the raft_fsm trampolines. Memory: snapshot buffers are allocated with raft_malloc
// and owned by libraft from then on (fsm version 1); a restored snapshot's buffer becomes ours
// on success and is released with raft_free.
#include "cluster/fsm_bridge.h"

#include <cstring>

namespace kalam::cluster {

FsmBridge::FsmBridge(StateMachine& machine) : machine_(machine) {
  fsm_.version = 1;
  fsm_.data = this;
  fsm_.apply = &FsmBridge::ApplyCb;
  fsm_.snapshot = &FsmBridge::SnapshotCb;
  fsm_.restore = &FsmBridge::RestoreCb;
}

int FsmBridge::ApplyCb(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  *result = nullptr;
  return static_cast<FsmBridge*>(fsm->data)->Apply(*buf);
}

int FsmBridge::SnapshotCb(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs) {
  return static_cast<FsmBridge*>(fsm->data)->Snapshot(bufs, n_bufs);
}

int FsmBridge::RestoreCb(raft_fsm* fsm, raft_buffer* buf) {
  return static_cast<FsmBridge*>(fsm->data)->Restore(buf);
}

void FsmBridge::Fail(Status status) {
  if (!failure_) failure_ = std::move(status);
}

int FsmBridge::Apply(const raft_buffer& buf) {
  if (failure_) return RAFT_IOERR;
  auto entry = DecodeLogEntry(
      std::string_view(static_cast<const char*>(buf.base), buf.len));
  if (!entry.ok()) {
    Fail(entry.status());
    return RAFT_CORRUPT;
  }
  if (entry->kind == EntryKind::kSnapshot) {
    Fail(Status::Corruption("A snapshot envelope arrived as a Raft log entry"));
    return RAFT_CORRUPT;
  }
  const LogIndex index = raft_ == nullptr ? 0 : raft_last_applied(raft_) + 1;
  Status status = machine_.Apply(index, *entry);
  if (!status.ok()) {
    Fail(std::move(status));
    return RAFT_IOERR;
  }
  ++applied_entries_;
  return 0;
}

int FsmBridge::Snapshot(raft_buffer* bufs[], unsigned* n_bufs) {
  if (failure_) return RAFT_IOERR;  // a failed replica's state must not be copied anywhere
  auto state = machine_.Snapshot();
  // No compaction this time; the log keeps its entries. kUnavailable is a transient refusal
  // (entries held, docs/cluster.md): libraft 0.15 treats RAFT_BUSY as "retry later".
  if (!state.ok()) return state.status().code() == StatusCode::kUnavailable ? RAFT_BUSY : RAFT_IOERR;
  LogEntry envelope;
  envelope.kind = EntryKind::kSnapshot;
  envelope.payload = std::move(state).value();
  const std::string bytes = EncodeLogEntry(envelope);
  auto* array = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  void* base = raft_malloc(bytes.size());
  if (array == nullptr || base == nullptr) {
    raft_free(array);
    raft_free(base);
    return RAFT_NOMEM;
  }
  std::memcpy(base, bytes.data(), bytes.size());
  array[0].base = base;
  array[0].len = bytes.size();
  *bufs = array;
  *n_bufs = 1;
  return 0;
}

int FsmBridge::Restore(raft_buffer* buf) {
  auto envelope = DecodeLogEntry(std::string_view(static_cast<const char*>(buf->base), buf->len));
  if (!envelope.ok()) {
    Fail(envelope.status());
    return RAFT_CORRUPT;
  }
  if (envelope->kind != EntryKind::kSnapshot) {
    Fail(Status::Corruption("A Raft snapshot does not hold a snapshot envelope"));
    return RAFT_CORRUPT;
  }
  Status status = machine_.Restore(envelope->payload);
  if (!status.ok()) {
    Fail(std::move(status));
    return RAFT_IOERR;
  }
  // The state is now a whole, consistent copy: whatever failed before no longer matters.
  failure_.reset();
  raft_free(buf->base);
  return 0;
}

}  // namespace kalam::cluster
