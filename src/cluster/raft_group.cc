// RaftGroup: setting up and tearing down raft_uv + TCP transport + raft for one replica.
#include "cluster/raft_group.h"

#include <filesystem>

namespace kalam::cluster {

namespace {

Status RaftError(int rv, const std::string& what) {
  return Status::IoError(what + ": " + raft_strerror(rv));
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

NodeId RaftGroup::leader_id() {
  NodeId id = 0;
  std::string address;
  CurrentLeader(&raft_, &id, &address);
  return id;
}

}  // namespace kalam::cluster
