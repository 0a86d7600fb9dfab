// ClusterNode: the Raft groups, per-shard pipelines and the meta group of a cluster member.
#include "server/cluster_node.h"

#include <algorithm>
#include <filesystem>
#include <random>

#include <spdlog/spdlog.h>

#include "cluster/group_plan.h"
#include "cluster/peer.h"
#include "table/keys.h"

namespace kalam::server {

namespace {

uint64_t RandomOrigin() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (uint64_t{rd()} << 32) | rd();
  return v;
}

// Whether a key of a data group's partitions belongs to `group`: a `rows`/`pk`/`stream` key by
// its table and scope, a `meta` cold manifest key ("cold/" · table · scope) likewise; other
// `meta` keys (the catalog, applied indexes) belong to no data group. The table's type comes
// from the catalog, routed as CommitShards routes commits (USER/STREAM by the scope's user
// shard, SHARED to the shared shard). A table the catalog does not know (dropped, or not
// reloaded yet on this node) is routed by its scope alone — empty: shared, else its user
// shard — which is where a USER/STREAM scope (a user id) or a SHARED one (empty) lives.
replication::GroupKeyPredicate ShardKeyOwner(const cluster::ShardRouter& router,
                                             const catalog::Catalog& catalog,
                                             cluster::GroupId group) {
  return [router, &catalog, group](storage::Partition partition, std::string_view key) {
    table::TableId table = 0;
    table::Scope scope;
    if (partition == storage::Partition::kMeta) {
      if (!table::ParseColdManifestKey(key, &table, &scope)) return false;
    } else if (!table::ConsumeScopePrefix(&key, &table, &scope)) {
      return false;
    }
    bool user = !scope.empty();
    if (auto def = catalog.snapshot()->FindTableById(table)) {
      user = def->type == TableType::kUser || def->type == TableType::kStream;
    }
    return (user ? router.ForUser(scope) : router.Shared()) == group;
  };
}

}  // namespace

ClusterNode::ClusterNode(const ServerConfig& config, storage::KvStore& kv)
    : config_(config), kv_(kv), meta_kv_(kv), router_(config.cluster.user_shards) {}

ClusterNode::~ClusterNode() { Stop(); }

std::string ClusterNode::RaftDir(const ServerConfig& config) {
  return config.cluster.raft_dir.empty()
             ? (std::filesystem::path(config.storage.data_dir) / "raft").string()
             : config.cluster.raft_dir;
}

std::string ClusterNode::SnapshotDir(const ServerConfig& config) {
  return (std::filesystem::path(RaftDir(config)) / "snapshots").string();
}

Status ClusterNode::Start(SnowflakeGenerator& ids, const commit::CommitPipelineOptions& options,
                          const std::function<void(commit::CommitPipeline&)>& configure,
                          catalog::Catalog& catalog) {
  catalog_ = &catalog;
  KALAM_ASSIGN_OR_RETURN(auto peers, cluster::ParsePeers(config_.cluster.peers));
  peers_ = peers;
  KALAM_ASSIGN_OR_RETURN(api_peers_, cluster::ParsePeers(config_.cluster.api_peers));
  cluster::GroupPlanInput in;
  in.node_id = config_.cluster.node_id;
  in.peers = std::move(peers);
  in.user_shards = config_.cluster.user_shards;
  in.raft_dir = RaftDir(config_);
  in.election_timeout = std::chrono::milliseconds(config_.cluster.election_timeout_ms);
  in.heartbeat_timeout = std::chrono::milliseconds(config_.cluster.heartbeat_timeout_ms);
  KALAM_ASSIGN_OR_RETURN(auto plan, cluster::PlanGroups(in));
  KALAM_ASSIGN_OR_RETURN(auto api_peers, cluster::ParsePeers(config_.cluster.api_peers));
  KALAM_ASSIGN_OR_RETURN(fetcher_, HttpSnapshotFetcher::Create(api_peers, config_.cluster.secret));
  // Snapshots compact the Raft log, so a follower that needs an older entry gets the leader's
  // snapshot instead and must fetch its files. Without the secret (or the members' API
  // addresses) no node can fetch one: then no node takes one either, and every group keeps its
  // whole log (a follower always catches up from it).
  const bool snapshots = !config_.cluster.secret.empty() && !api_peers.empty();
  if (!snapshots) {
    spdlog::warn("cluster.secret or cluster.api_peers is empty: this node takes no snapshots "
                 "(its Raft logs are kept whole), serves none and fetches none, so a member that "
                 "lost its data cannot rejoin (docs/cluster.md, Snapshots)");
  }

  // A replica resolves a change record's table by id and version: the published snapshot, else
  // the stored schema history (a version this node applied in the meta group but has not
  // reloaded yet, or an older one). Not there: kTableNotFound when the store shows the table
  // was dropped (the entry is applied without it), else kUnavailable — the meta group has not
  // applied that CREATE / ALTER here yet, and the machine holds the entry until it has
  // (docs/cluster.md, Apply path). Runs on the loop thread or the reloader: it never takes the
  // DDL lock.
  replication::TableResolver resolve =
      [&catalog](catalog::TableId id,
                 uint32_t version) -> Result<std::shared_ptr<const catalog::TableDef>> {
    if (auto def = catalog.snapshot()->FindTableById(id); def && def->schema_version == version) {
      return def;
    }
    KALAM_ASSIGN_OR_RETURN(auto history, catalog.SchemaHistory(id));
    for (auto& def : history) {
      if (def->schema_version == version) return std::shared_ptr<const catalog::TableDef>(def);
    }
    KALAM_ASSIGN_OR_RETURN(bool dropped, catalog.WasDropped(id));
    if (dropped) {
      return Status::TableNotFound("Table id " + std::to_string(id) + " was dropped");
    }
    return Status::Unavailable("Table id " + std::to_string(id) + " version " +
                               std::to_string(version) + " is not in this node's catalog yet");
  };

  meta_machine_ = std::make_unique<replication::MetaStateMachine>(kv_, RandomOrigin(), [this] {
    {
      std::lock_guard lock(reload_mu_);
      reload_due_ = true;
    }
    reload_cv_.notify_one();
  });
  KALAM_RETURN_IF_ERROR(meta_machine_->Open());
  reloader_ = std::thread([this] { ReloadLoop(); });

  std::vector<cluster::GroupSpec> specs;
  for (auto& g : plan) {
    cluster::GroupSpec spec;
    spec.options = g.options;
    if (g.group.kind == cluster::GroupKind::kMeta) {
      // The meta group's machine takes no snapshots (docs/cluster.md): keep its whole log.
      spec.options.snapshot_threshold = 1u << 30;
      spec.machine = meta_machine_.get();
    } else {
      auto pipeline = std::make_unique<commit::CommitPipeline>(kv_, ids, options);
      configure(*pipeline);
      KALAM_RETURN_IF_ERROR(pipeline->Start());
      auto machine = std::make_unique<replication::ShardStateMachine>(g.name, kv_, *pipeline, resolve);
      if (!snapshots) {
        spec.options.snapshot_threshold = 1u << 30;  // as the meta group: the log kept whole
      } else {
        spec.options.snapshot_threshold = config_.cluster.snapshot_threshold;
        spec.options.snapshot_trailing = config_.cluster.snapshot_trailing;
      }
      replication::ShardSnapshotOptions snap;
      snap.dir = SnapshotDir(config_);
      snap.node = config_.cluster.node_id;
      snap.fetcher = fetcher_.get();
      snap.owns = ShardKeyOwner(router_, catalog, g.group);
      snap.on_restored = [this, group = g.group, name = g.name](cluster::LogIndex index) {
        spdlog::warn("Group {} restored a snapshot at index {}: its rows were replaced without "
                     "change records", name, index);
        if (on_restored_) on_restored_(group);
      };
      if (snapshots) machine->EnableSnapshots(std::move(snap));
      KALAM_RETURN_IF_ERROR(machine->Open());
      spec.machine = machine.get();
      pipelines_.push_back(std::move(pipeline));
      machines_.push_back(std::move(machine));
    }
    specs.push_back(std::move(spec));
  }
  cluster::NodeRuntimeOptions runtime_options;
  runtime_options.push_each_commit = {0};  // catalog changes reach followers before their data
  KALAM_ASSIGN_OR_RETURN(runtime_, cluster::NodeRuntime::Start(std::move(specs), runtime_options));
  for (size_t i = 0; i < pipelines_.size(); ++i) {
    writers_.push_back(std::make_unique<replication::ReplicatedWriter>(
        *runtime_, static_cast<uint32_t>(i + 1), *machines_[i]));
    pipelines_[i]->SetGroupWriter(writers_.back().get());
  }
  machines_ready_.store(true);
  spdlog::info("Cluster node {}: {} Raft groups (meta, {} user shards, shared), Raft logs in {}",
               config_.cluster.node_id, plan.size(), config_.cluster.user_shards, in.raft_dir);
  return Status::OK();
}

void ClusterNode::ReplicateCatalog() {
  // Before each DDL: this node must lead the meta group and have applied every entry committed
  // before its term (else NOT_LEADER, nothing written), and its catalog must hold every change
  // applied so far — a new leader's reloader may not have caught up yet, and a DDL computed on
  // a stale catalog could, for one, hand out a table id already taken.
  catalog_->SetDdlGate([this]() -> Result<bool> {
    cluster::ProposeOutcome ready = runtime_->AwaitLeaderReady(0).get();
    if (ready.kind != cluster::ProposeOutcome::Kind::kCommitted) {
      return Status::Unavailable(ready.status.message());
    }
    const uint64_t applied = meta_machine_->foreign_applied();
    const bool stale = applied != loaded_foreign_;
    loaded_foreign_ = applied;
    return stale;
  });
  meta_kv_.Replicate(runtime_.get(), 0, meta_machine_->origin());
}

commit::CommitShards ClusterNode::shards() const {
  std::vector<commit::CommitPipeline*> users;
  for (size_t i = 0; i + 1 < pipelines_.size(); ++i) users.push_back(pipelines_[i].get());
  return commit::CommitShards(std::move(users), pipelines_.back().get(),
                              [router = router_](std::string_view user) {
                                return router.ForUser(user).shard;
                              });
}

bool ClusterNode::every_group_has_leader() const {
  if (!runtime_) return false;
  for (uint32_t g = 0; g < runtime_->group_count(); ++g) {
    if (runtime_->View(g).leader_id == 0) return false;
  }
  return true;
}

cluster::NodeId ClusterNode::leader_of(uint32_t group) const {
  if (!runtime_ || group >= runtime_->group_count()) return 0;
  return runtime_->View(group).leader_id;
}

cluster::LogIndex ClusterNode::applied_index(uint32_t group) const {
  if (group == 0) return meta_machine_->applied_index();
  if (group <= machines_.size()) return machines_[group - 1]->applied_index();
  return 0;
}

std::string ClusterNode::cluster_id() const { return "kalamdb"; }

std::vector<sql::ClusterMemberStatus> ClusterNode::Members() const {
  std::vector<sql::ClusterMemberStatus> out;
  if (!runtime_) return out;
  const size_t groups = runtime_->group_count();
  std::vector<cluster::GroupView> views;
  for (size_t g = 0; g < groups; ++g) views.push_back(runtime_->View(static_cast<uint32_t>(g)));
  const cluster::NodeId self = config_.cluster.node_id;
  for (const cluster::Peer& p : peers_) {
    sql::ClusterMemberStatus m;
    m.node_id = static_cast<int64_t>(p.id);
    m.rpc_addr = p.address();
    for (const cluster::Peer& a : api_peers_) {
      if (a.id == p.id) m.api_addr = a.address();
    }
    if (p.id == self && m.api_addr.empty()) {
      m.api_addr = config_.server.host + ":" + std::to_string(config_.server.port);
    }
    m.is_self = p.id == self;
    m.total_groups = static_cast<int32_t>(groups);
    for (const cluster::GroupView& v : views) {
      if (v.leader_id == p.id) ++m.groups_leading;
    }
    m.is_leader = !views.empty() && views[0].leader_id == p.id;
    if (m.is_self) {
      const cluster::GroupView& meta = views.at(0);
      m.role = m.is_leader ? "leader" : meta.state == "Candidate" ? "candidate" : "follower";
      m.status = "active";
      m.current_term = static_cast<int64_t>(meta.term);
      m.last_applied_log = static_cast<int64_t>(meta.last_applied);
      m.replication_lag = static_cast<int64_t>(meta.commit_index - std::min(meta.commit_index,
                                                                            meta.last_applied));
    } else {
      // Another member is known to be up while it leads a group this node follows, or while it
      // answers a group this node leads; down when it answers none of the groups this node leads.
      m.role = m.is_leader ? "leader" : "follower";
      bool leads_one = false, heard = false;
      for (const cluster::GroupView& v : views) {
        if (!v.leader) continue;
        leads_one = true;
        for (const cluster::GroupView::Replica& r : v.replicas) {
          if (r.id == p.id && r.reachable) heard = true;
        }
      }
      m.status = m.groups_leading > 0 || heard ? "active" : leads_one ? "offline" : "unknown";
      // The per-member figures of the meta group, which only its leader knows.
      const cluster::GroupView& meta = views.at(0);
      for (const cluster::GroupView::Replica& r : meta.replicas) {  // empty unless leading
        if (r.id != p.id) continue;
        const cluster::LogIndex last = meta.last_log_index;
        const cluster::LogIndex match = std::min(r.match_index, last);
        m.leader_last_log_index = static_cast<int64_t>(last);
        m.replication_lag = static_cast<int64_t>(last - match);
        m.catchup_progress_pct = last == 0 ? 100 : static_cast<int64_t>(match * 100 / last);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<sql::ClusterGroupStatus> ClusterNode::Groups() const {
  std::vector<sql::ClusterGroupStatus> out;
  if (!runtime_) return out;
  const size_t groups = runtime_->group_count();
  for (size_t g = 0; g < groups; ++g) {
    const cluster::GroupView v = runtime_->View(static_cast<uint32_t>(g));
    sql::ClusterGroupStatus s;
    s.group_id = static_cast<int64_t>(g);
    s.group_type = g == 0 ? "meta" : g + 1 == groups ? "shared_data" : "user_data";
    s.current_term = static_cast<int64_t>(v.term);
    s.voted_for = static_cast<int64_t>(v.voted_for);
    s.last_log_index = static_cast<int64_t>(v.last_log_index);
    s.last_applied = static_cast<int64_t>(v.last_applied);
    s.committed = static_cast<int64_t>(v.commit_index);
    s.state = v.state;
    s.current_leader = static_cast<int64_t>(v.leader_id);
    s.failed = v.failed;
    s.proposals = v.proposals;
    out.push_back(std::move(s));
  }
  return out;
}

void ClusterNode::ReloadLoop() {
  std::unique_lock lock(reload_mu_);
  while (true) {
    // Wakes for a catalog change, and every 100 ms to retry entries held for the catalog.
    reload_cv_.wait_for(lock, std::chrono::milliseconds(100),
                        [&] { return reload_due_ || reload_stop_; });
    if (reload_stop_) return;
    const bool due = reload_due_;
    reload_due_ = false;
    lock.unlock();
    if (due) {
      const uint64_t seen = meta_machine_->foreign_applied();
      Status st = catalog_->Reload();
      if (st.ok()) {
        reloaded_foreign_.store(seen);
      } else {
        spdlog::error("Reloading the catalog after a catalog change failed: {}", st.ToString());
      }
    }
    RetryHeldEntries();
    lock.lock();
  }
}

void ClusterNode::RetryHeldEntries() {
  if (!machines_ready_.load()) return;  // machines_ is still being built by Start
  for (auto& machine : machines_) {
    if (machine->held_entries() == 0 || machine->failed()) continue;
    // A failure is sticky in the machine and stops its group at the next entry (FsmBridge);
    // logged here once per try.
    if (Status st = machine->RetryHeld(); !st.ok()) {
      spdlog::error("Applying the entries held for the catalog failed: {}", st.ToString());
    }
  }
}

void ClusterNode::Stop() {
  // The reloader first: it applies held entries through the pipelines stopped below.
  {
    std::lock_guard lock(reload_mu_);
    reload_stop_ = true;
  }
  reload_cv_.notify_one();
  if (reloader_.joinable()) reloader_.join();
  if (runtime_) runtime_->Stop();
  for (auto& p : pipelines_) p->Stop();
}

}  // namespace kalam::server
