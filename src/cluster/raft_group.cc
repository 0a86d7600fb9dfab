// RaftGroup: setting up and tearing down raft_uv + TCP transport + raft for one replica.
#include "cluster/raft_group.h"

#include <atomic>
#include <filesystem>

namespace kalam::cluster {

namespace {

Status RaftError(int rv, const std::string& what) {
  return Status::IoError(what + ": " + raft_strerror(rv));
}

// TCP_NODELAY on every Raft connection. libraft 0.15's TCP transport leaves Nagle's algorithm on:
// with several AppendEntries (or their results) in flight on one connection, a small message
// waited for the peer's delayed ACK, about 40 ms (the p99 of a replicated commit was ~50 ms; see
// docs/cluster.md, "Pipelining"). The transport's own functions are wrapped: the callbacks they
// are given are libraft's (the same for every transport), so they are kept in statics.
std::atomic<int (*)(struct raft_uv_transport*, raft_uv_accept_cb)> g_tcp_listen{nullptr};
std::atomic<int (*)(struct raft_uv_transport*, struct raft_uv_connect*, raft_id, const char*,
                    raft_uv_connect_cb)>
    g_tcp_connect{nullptr};
std::atomic<raft_uv_accept_cb> g_accept_cb{nullptr};
std::atomic<raft_uv_connect_cb> g_connect_cb{nullptr};

void NoDelay(struct uv_stream_s* stream) {
  if (stream == nullptr || stream->type != UV_TCP) return;
  // Safe to ignore: only latency depends on it, a socket without it still carries every message.
  (void)uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(stream), 1);  // latency only: see above
}

void AcceptNoDelay(struct raft_uv_transport* t, raft_id id, const char* address,
                   struct uv_stream_s* stream) {
  NoDelay(stream);
  g_accept_cb.load()(t, id, address, stream);
}

int ListenNoDelay(struct raft_uv_transport* t, raft_uv_accept_cb cb) {
  g_accept_cb.store(cb);
  return g_tcp_listen.load()(t, &AcceptNoDelay);
}

void ConnectedNoDelay(struct raft_uv_connect* req, struct uv_stream_s* stream, int status) {
  if (status == 0) NoDelay(stream);
  g_connect_cb.load()(req, stream, status);
}

int ConnectNoDelay(struct raft_uv_transport* t, struct raft_uv_connect* req, raft_id id,
                   const char* address, raft_uv_connect_cb cb) {
  g_connect_cb.store(cb);
  return g_tcp_connect.load()(t, req, id, address, &ConnectedNoDelay);
}

}  // namespace

Result<std::unique_ptr<RaftGroup>> RaftGroup::Start(uv_loop_t* loop,
                                                    const RaftGroupOptions& options,
                                                    StateMachine& machine) {
  const Peer* self = nullptr;
  for (const auto& peer : options.peers) {
    if (peer.id == options.id) self = &peer;
  }
  if (self == nullptr) {
    return Status::InvalidArgument("Raft node " + std::to_string(options.id) +
                                   " is not one of the group's peers");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) {
    return Status::IoError("Cannot create the Raft directory '" + options.dir + "': " +
                           ec.message());
  }
  auto group = std::make_unique<RaftGroup>(Token{}, loop, machine);
  const std::string address = self->address();
  if (int rv = raft_uv_tcp_init(&group->transport_, loop); rv != 0) {
    return RaftError(rv, "Cannot set up the Raft transport");
  }
  group->transport_ready_ = true;
  g_tcp_listen.store(group->transport_.listen);
  g_tcp_connect.store(group->transport_.connect);
  group->transport_.listen = &ListenNoDelay;
  group->transport_.connect = &ConnectNoDelay;
  if (int rv = raft_uv_init(&group->io_, loop, options.dir.c_str(), &group->transport_); rv != 0) {
    return RaftError(rv, "Cannot open the Raft directory '" + options.dir + "'");
  }
  group->io_ready_ = true;
  if (options.segment_size_bytes != 0) {
    raft_uv_set_segment_size(&group->io_, options.segment_size_bytes);
  }
  if (int rv = raft_init(&group->raft_, &group->io_, group->bridge_.fsm(), options.id,
                         address.c_str());
      rv != 0) {
    return RaftError(rv, "Cannot initialise Raft node " + std::to_string(options.id));
  }
  group->raft_ready_ = true;
  group->raft_.data = group.get();
  group->bridge_.Attach(&group->raft_);
  raft_set_election_timeout(&group->raft_, static_cast<unsigned>(options.election_timeout.count()));
  raft_set_heartbeat_timeout(&group->raft_,
                             static_cast<unsigned>(options.heartbeat_timeout.count()));
  raft_set_snapshot_threshold(&group->raft_, options.snapshot_threshold);
  raft_set_snapshot_trailing(&group->raft_, options.snapshot_trailing);
  raft_set_install_snapshot_timeout(
      &group->raft_, static_cast<unsigned>(options.install_snapshot_timeout.count()));

  struct raft_configuration conf;
  raft_configuration_init(&conf);
  int rv = 0;
  for (const auto& peer : options.peers) {
    rv = raft_configuration_add(&conf, peer.id, peer.address().c_str(), RAFT_VOTER);
    if (rv != 0) break;
  }
  if (rv == 0) rv = raft_bootstrap(&group->raft_, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {  // CANTBOOTSTRAP: existing state, resume from it
    return RaftError(rv, "Cannot bootstrap Raft node " + std::to_string(options.id));
  }
  if (int start = raft_start(&group->raft_); start != 0) {
    return RaftError(start, "Cannot start Raft node " + std::to_string(options.id) + " on " +
                                address);
  }
  return group;
}

void RaftGroup::OnClosed(struct raft* r) {
  auto* group = static_cast<RaftGroup*>(r->data);
  raft_uv_close(&group->io_);
  raft_uv_tcp_close(&group->transport_);
  group->closed_ = true;
  if (group->on_closed_) group->on_closed_();
}

void RaftGroup::Close(std::function<void()> done) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(done);
  if (raft_ready_) {
    raft_close(&raft_, &RaftGroup::OnClosed);
    return;
  }
  // Start failed before raft_init: release what was set up, synchronously.
  if (io_ready_) raft_uv_close(&io_);
  if (transport_ready_) raft_uv_tcp_close(&transport_);
  closed_ = true;
  if (on_closed_) on_closed_();
}

RaftGroup::~RaftGroup() {
  if (!closing_) Close(nullptr);
  while (!closed_) uv_run(loop_, UV_RUN_ONCE);
}

void RaftGroup::Propose(const LogEntry& entry, ProposeCallback done) {
  cluster::Propose(&raft_, entry, std::move(done));
}

void RaftGroup::Barrier(ProposeCallback done) { cluster::Barrier(&raft_, std::move(done)); }

std::vector<RaftGroup::ReplicaProgress> RaftGroup::Progress() const {
  std::vector<ReplicaProgress> out;
  if (raft_.state != RAFT_LEADER || raft_.leader_state.progress == nullptr) return out;
  // libraft 0.15 keeps leader_state.progress parallel to configuration.servers.
  for (unsigned i = 0; i < raft_.configuration.n; ++i) {
    const raft_server& server = raft_.configuration.servers[i];
    if (server.id == raft_.id) continue;
    const raft_progress& p = raft_.leader_state.progress[i];
    out.push_back(ReplicaProgress{server.id, p.match_index, p.recent_recv});
  }
  return out;
}

NodeId RaftGroup::leader_id() {
  NodeId id = 0;
  std::string address;
  CurrentLeader(&raft_, &id, &address);
  return id;
}

}  // namespace kalam::cluster
