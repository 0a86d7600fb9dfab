// NodeRuntime: the loop thread, the uv_async proposal queue, the tick (views, idle barrier) and
// the orderly close of every group.
#include "cluster/node_runtime.h"

namespace kalam::cluster {

Result<std::unique_ptr<NodeRuntime>> NodeRuntime::Start(std::vector<GroupSpec> groups,
                                                        NodeRuntimeOptions options) {
  auto runtime = std::make_unique<NodeRuntime>(Token{}, options);
  NodeRuntime& rt = *runtime;
  if (int rv = uv_loop_init(&rt.loop_); rv != 0) {
    rt.stopped_ = true;
    return Status::IoError(std::string("Cannot create the Raft loop: ") + uv_strerror(rv));
  }
  // Groups are started on this thread, before the loop thread exists; from then on they are
  // touched only on the loop thread.
  for (size_t g = 0; g < groups.size(); ++g) {
    Status failed;
    if (groups[g].machine == nullptr) {
      failed = Status::InvalidArgument("Raft group " + std::to_string(g) + " has no state machine");
    } else {
      auto group = RaftGroup::Start(&rt.loop_, groups[g].options, *groups[g].machine);
      if (group.ok()) {
        rt.slots_.emplace_back();
        rt.slots_.back().group = std::move(group).value();
        rt.slots_.back().election_timeout = groups[g].options.election_timeout;
        rt.slots_.back().push_each_commit =
            std::find(options.push_each_commit.begin(), options.push_each_commit.end(), g) !=
            options.push_each_commit.end();
        continue;
      }
      failed = group.status();
    }
    rt.slots_.clear();  // each destructor closes its group, running the loop on this thread
    while (uv_loop_close(&rt.loop_) == UV_EBUSY) uv_run(&rt.loop_, UV_RUN_ONCE);
    rt.stopped_ = true;
    return failed;
  }
  rt.views_.resize(rt.slots_.size());
  (void)uv_async_init(&rt.loop_, &rt.async_, &NodeRuntime::OnAsync);  // 0 on an open loop
  rt.async_.data = &rt;
  (void)uv_timer_init(&rt.loop_, &rt.timer_);  // 0 on an open loop
  rt.timer_.data = &rt;
  const auto tick = static_cast<uint64_t>(std::max<int64_t>(1, options.tick.count()));
  (void)uv_timer_start(&rt.timer_, &NodeRuntime::OnTick, tick, tick);  // 0: callback is set
  rt.thread_ = std::thread([&rt] { rt.Run(); });
  return runtime;
}

NodeRuntime::~NodeRuntime() { Stop(); }

void NodeRuntime::Run() {
  // Returns once BeginClose has closed the handles and every group has released its own.
  (void)uv_run(&loop_, UV_RUN_DEFAULT);  // its result only says whether handles remain
}

void NodeRuntime::Stop() {
  std::lock_guard stop_lock(stop_mu_);
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopping_ = true;
    (void)uv_async_send(&async_);  // fails only on a closed handle; the loop closes it after this
  }
  thread_.join();
  slots_.clear();  // every group is closed: the destructors do not run the loop
  while (uv_loop_close(&loop_) == UV_EBUSY) uv_run(&loop_, UV_RUN_ONCE);
  {
    std::lock_guard lock(views_mu_);
    for (auto& view : views_) view.leader = false;
  }
  std::lock_guard lock(mu_);
  stopped_ = true;
}

void NodeRuntime::Propose(uint32_t group, LogEntry entry, ProposeCallback done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Queued{group, std::move(entry), std::move(done)});
      // The handle stays open while stopping_ is false: the loop closes it only after seeing
      // stopping_ under mu_.
      (void)uv_async_send(&async_);  // 0 on an open handle
      return;
    }
  }
  Fail(done, "The node is shutting down");
}

std::future<ProposeOutcome> NodeRuntime::Propose(uint32_t group, LogEntry entry) {
  auto promise = std::make_shared<std::promise<ProposeOutcome>>();
  std::future<ProposeOutcome> future = promise->get_future();
  Propose(group, std::move(entry),
          [promise](ProposeOutcome outcome) { promise->set_value(std::move(outcome)); });
  return future;
}

std::future<ProposeOutcome> NodeRuntime::AwaitLeaderReady(uint32_t group) {
  auto promise = std::make_shared<std::promise<ProposeOutcome>>();
  std::future<ProposeOutcome> future = promise->get_future();
  ProposeCallback done = [promise](ProposeOutcome outcome) {
    promise->set_value(std::move(outcome));
  };
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Queued{group, LogEntry{}, std::move(done), /*ready_check=*/true});
      (void)uv_async_send(&async_);  // 0 on an open handle (see Propose)
      return future;
    }
  }
  Fail(done, "The node is shutting down");
  return future;
}

void NodeRuntime::PushCommitIndex() {
  std::lock_guard lock(mu_);
  if (stopping_) return;  // nothing to tell: the groups are closing
  queue_.push_back(Queued{0, LogEntry{}, [](ProposeOutcome) {}, false, /*push=*/true});
  (void)uv_async_send(&async_);  // 0 on an open handle (see Propose)
}

void NodeRuntime::Push() {
  for (uint32_t g = 0; g < slots_.size(); ++g) {
    Slot& slot = slots_[g];
    RaftGroup& group = *slot.group;
    if (!group.is_leader() || group.commit_index() <= slot.announced_commit) continue;
    slot.needs_barrier = false;  // this barrier is the idle one, early
    commit_pushes_.fetch_add(1);
    CarrierBarrier(g);
  }
}

void NodeRuntime::CarrierBarrier(uint32_t g) {
  Slot& slot = slots_[g];
  slot.announced_commit = slot.group->commit_index();
  // It only carries the commit index to the followers: its own commit carries no data, so it
  // needs no announcing (else every push would call for another).
  slot.group->Barrier([this, g](ProposeOutcome outcome) {
    if (outcome.kind != ProposeOutcome::Kind::kCommitted || closing_) return;
    Slot& s = slots_[g];
    // Nothing but this barrier committed since the commit index it carried.
    if (s.announced_commit + 1 == outcome.index && s.group->commit_index() == outcome.index) {
      s.announced_commit = outcome.index;
    }
  });
}

void NodeRuntime::ReadyCheck(uint32_t group, ProposeCallback done) {
  Slot& slot = slots_[group];
  RaftGroup& raft_group = *slot.group;
  const uint64_t term = raft_group.term();
  if (raft_group.is_leader() && slot.ready_term == term) {
    ProposeOutcome outcome;
    outcome.kind = ProposeOutcome::Kind::kCommitted;
    outcome.index = raft_group.last_applied();
    return done(std::move(outcome));
  }
  // Not leader: Barrier answers kNotLeader at once. Leader: once the barrier commits, every
  // entry before it is applied here.
  raft_group.Barrier([this, group, term, done = std::move(done)](ProposeOutcome outcome) {
    if (outcome.kind == ProposeOutcome::Kind::kCommitted && !closing_ &&
        slots_[group].group->term() == term) {
      slots_[group].ready_term = term;
    }
    done(std::move(outcome));
  });
}

GroupView NodeRuntime::View(uint32_t group) const {
  std::lock_guard lock(views_mu_);
  return group < views_.size() ? views_[group] : GroupView{};
}

void NodeRuntime::Fail(ProposeCallback& done, const std::string& why) {
  ProposeOutcome outcome;
  outcome.kind = ProposeOutcome::Kind::kFailed;
  outcome.status = Status::Unavailable(why);
  done(std::move(outcome));
}

void NodeRuntime::OnAsync(uv_async_t* handle) { static_cast<NodeRuntime*>(handle->data)->Drain(); }

void NodeRuntime::OnTick(uv_timer_t* handle) { static_cast<NodeRuntime*>(handle->data)->Tick(); }

void NodeRuntime::Drain() {
  std::vector<Queued> batch;
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    batch.swap(queue_);
    stopping = stopping_;
  }
  const auto now = std::chrono::steady_clock::now();
  bool push = false;
  for (Queued& q : batch) {
    if (stopping || closing_) {
      Fail(q.done, "The node is shutting down");
    } else if (q.push) {
      push = true;  // after the proposals of this batch, which may carry the commit index
    } else if (q.group >= slots_.size()) {
      Fail(q.done, "Raft group " + std::to_string(q.group) + " does not exist on this node");
    } else if (q.ready_check) {
      ReadyCheck(q.group, std::move(q.done));
    } else {
      Slot& slot = slots_[q.group];
      slot.needs_barrier = true;
      slot.last_proposal = now;
      slot.announced_commit = slot.group->commit_index();
      ++slot.proposals;
      if (slot.push_each_commit) {
        // Not from inside libraft's apply callback: flagged, and pushed by the next Drain.
        const uint32_t g = q.group;
        q.done = [this, g, done = std::move(q.done)](ProposeOutcome outcome) {
          if (outcome.kind == ProposeOutcome::Kind::kCommitted && !closing_) {
            slots_[g].push_due = true;
            (void)uv_async_send(&async_);  // 0: the handle is open while not closing
          }
          done(std::move(outcome));
        };
      }
      slot.group->Propose(q.entry, std::move(q.done));
    }
  }
  if (!stopping && !closing_) {
    for (uint32_t g = 0; g < slots_.size(); ++g) {
      Slot& slot = slots_[g];
      if (!slot.push_due) continue;
      slot.push_due = false;
      if (slot.group->is_leader() && slot.group->commit_index() > slot.announced_commit) {
        slot.needs_barrier = false;
        commit_pushes_.fetch_add(1);
        CarrierBarrier(g);
      }
    }
  }
  if (push && !stopping && !closing_) Push();
  if (stopping && !closing_) BeginClose();
}

void NodeRuntime::Tick() {
  if (closing_) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<GroupView> views(slots_.size());
  for (size_t g = 0; g < slots_.size(); ++g) {
    Slot& slot = slots_[g];
    RaftGroup& group = *slot.group;
    views[g].leader = group.is_leader();
    views[g].leader_id = group.leader_id();
    views[g].last_applied = group.last_applied();
    views[g].failed = group.bridge().failure().has_value();
    views[g].term = group.term();
    views[g].voted_for = group.voted_for();
    views[g].commit_index = group.commit_index();
    views[g].last_log_index = group.last_log_index();
    views[g].state = group.state_name();
    views[g].proposals = slot.proposals;
    Heard(slot, now, views[g]);
    if (!slot.needs_barrier) continue;
    if (!views[g].leader) {
      slot.needs_barrier = false;  // another node leads; it sends its own barriers
    } else if (now - slot.last_proposal >= options_.idle_barrier) {
      slot.needs_barrier = false;
      idle_barriers_.fetch_add(1);
      CarrierBarrier(static_cast<uint32_t>(g));
    }
  }
  std::lock_guard lock(views_mu_);
  views_ = std::move(views);
}

void NodeRuntime::Heard(Slot& slot, std::chrono::steady_clock::time_point now, GroupView& view) {
  if (!view.leader) {
    slot.last_heard.clear();
    slot.heard_term = 0;
    return;
  }
  if (slot.heard_term != view.term) {  // a won term: everyone counts as heard at its start
    slot.last_heard.clear();
    slot.heard_term = view.term;
  }
  for (const RaftGroup::ReplicaProgress& p : slot.group->Progress()) {
    auto it = std::find_if(slot.last_heard.begin(), slot.last_heard.end(),
                           [&](const auto& h) { return h.first == p.id; });
    if (it == slot.last_heard.end()) {
      slot.last_heard.emplace_back(p.id, now);
      it = slot.last_heard.end() - 1;
    } else if (p.recent_recv) {
      it->second = now;
    }
    // libraft clears recent_recv every election timeout; a live voter sets it again within a
    // heartbeat, a dead one never: unheard for longer than an election timeout = unreachable.
    view.replicas.push_back(
        GroupView::Replica{p.id, p.match_index, now - it->second <= slot.election_timeout});
  }
}

void NodeRuntime::BeginClose() {
  closing_ = true;
  (void)uv_timer_stop(&timer_);  // always 0
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  // Each group's close cancels its in-flight proposals (kOutcomeUnknown) and releases its
  // handles; uv_run returns in Run once the last one is gone.
  for (Slot& slot : slots_) slot.group->Close(nullptr);
}

}  // namespace kalam::cluster
