// ClusterNode: what a `[cluster]` member runs beside the single-node stack (docs/cluster.md):
// the node runtime with one Raft group per group of the cluster (meta, each user shard, shared),
// a CommitPipeline + ShardStateMachine + ReplicatedWriter per data group over the node's one
// RocksDB, and the meta group's store and state machine that carry the catalog's writes.
// A server without [cluster] peers creates none of this.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "cluster/node_runtime.h"
#include "cluster/shard_router.h"
#include "commit/commit_pipeline.h"
#include "commit/commit_shards.h"
#include "common/snowflake.h"
#include "common/table_type.h"
#include "common/status.h"
#include "replication/meta_store.h"
#include "replication/replicated_writer.h"
#include "replication/shard_state_machine.h"
#include "server/config.h"
#include "server/snapshot_fetcher.h"
#include "sql/cluster_status.h"
#include "storage/kv_store.h"

namespace kalam::server {

// Start-up in three steps (the constructor, Start, ReplicateCatalog), stopped by Stop. Not
// thread-safe itself; what it hands out (shards, meta_kv) is.
class ClusterNode : public sql::ClusterStatus {
 public:
  // `kv` (the node's RocksDB) must outlive the node.
  ClusterNode(const ServerConfig& config, storage::KvStore& kv);
  ~ClusterNode();  // Stop()
  ClusterNode(const ClusterNode&) = delete;
  ClusterNode& operator=(const ClusterNode&) = delete;

  // The store the catalog writes through: local writes until ReplicateCatalog, then the meta
  // group's.
  storage::KvStore& meta_kv() { return meta_kv_; }

  // Creates and starts one pipeline per data group (`configure` sets each one's cold store and
  // stream predicate before its start), the state machines (resolving tables from `catalog`),
  // the node runtime with every group (directories <raft_dir>/<group>, ports: docs/cluster.md),
  // then routes each pipeline's groups through its Raft group. `catalog` must outlive the node.
  Status Start(SnowflakeGenerator& ids, const commit::CommitPipelineOptions& options,
               const std::function<void(commit::CommitPipeline&)>& configure,
               catalog::Catalog& catalog);

  // From now on the catalog's writes are proposed to the meta group; another node's catalog
  // change, once applied here, reloads the catalog on this node's reloader thread.
  void ReplicateCatalog();

  // USER/STREAM rows by user shard, SHARED rows to the shared shard. Valid after Start.
  commit::CommitShards shards() const;
  // The shared shard's pipeline (given to the components that take one pipeline; the job
  // system does not run on a cluster node yet).
  commit::CommitPipeline& shared_pipeline() { return *pipelines_.back(); }
  cluster::NodeRuntime* runtime() { return runtime_.get(); }
  // A member's Raft directory (cluster.raft_dir, else "<data_dir>/raft") and its shard snapshot
  // root, "<raft_dir>/snapshots" (served to peers by the API's snapshot route).
  static std::string RaftDir(const ServerConfig& config);
  static std::string SnapshotDir(const ServerConfig& config);
  // Called (on a Raft loop thread) after a data group restored a snapshot: its keys were
  // replaced without change records. Set before Start.
  void SetOnRestored(std::function<void(cluster::GroupId)> fn) { on_restored_ = std::move(fn); }
  // The data group holding rows of a table of type `type` in `scope` (as CommitShards routes).
  cluster::GroupId GroupOf(TableType type, std::string_view scope) const {
    return type == TableType::kUser || type == TableType::kStream ? router_.ForUser(scope)
                                                                    : router_.Shared();
  }

  // system.cluster and system.cluster_groups (sql::ClusterStatus), from the runtime's group
  // views: what this node knows now. Valid after Start.
  std::string cluster_id() const override;
  std::vector<sql::ClusterMemberStatus> Members() const override;
  std::vector<sql::ClusterGroupStatus> Groups() const override;

  // Groups of this node (meta at 0, then the data groups), valid after Start.
  uint32_t group_count() const { return static_cast<uint32_t>(pipelines_.size() + 1); }
  // The index this node's replica of `group` applied last (exact, any thread); 0 for an unknown
  // group. Valid after Start.
  cluster::LogIndex applied_index(uint32_t group) const;
  // The leader's side of a forwarded write: tells every group's followers the commit index now
  // (cluster::NodeRuntime::PushCommitIndex), so the forwarding node applies the write at once.
  // Any thread; nothing before Start.
  void PushCommitIndex() const {
    if (runtime_) runtime_->PushCommitIndex();
  }
  // Whether every group's replica here knows a leader (this node or another), from the group
  // views (refreshed every 10 ms). Any thread; false before Start.
  bool every_group_has_leader() const;
  // The leader this node's replica of `group` knows (0: none, or an unknown group), from the
  // group views. Any thread; 0 before Start.
  cluster::NodeId leader_of(uint32_t group) const;
  // Whether the catalog has reloaded every catalog change of other nodes applied here so far
  // (after a forwarded DDL: the next statement here sees it). Any thread.
  bool catalog_current() const {
    return reloaded_foreign_.load() >= meta_machine_->foreign_applied();
  }

  // Stops the runtime (in-flight proposals end "outcome unknown"), then the pipelines, then the
  // reloader. Idempotent.
  void Stop();

 private:
  void ReloadLoop();
  // Applies what each data group's machine holds for the catalog and now resolves (the
  // reloader thread, after each catalog reload and every 100 ms while entries are held).
  void RetryHeldEntries();

  const ServerConfig config_;
  storage::KvStore& kv_;
  replication::MetaKvStore meta_kv_;
  const cluster::ShardRouter router_;
  std::vector<cluster::Peer> peers_;      // every member's first Raft address (Start)
  std::vector<cluster::Peer> api_peers_;  // cluster.api_peers (Start)
  catalog::Catalog* catalog_ = nullptr;
  std::unique_ptr<replication::MetaStateMachine> meta_machine_;
  // Data groups in ordinal order (user shards, then shared): ordinal = index + 1.
  std::vector<std::unique_ptr<commit::CommitPipeline>> pipelines_;
  std::vector<std::unique_ptr<replication::ShardStateMachine>> machines_;
  std::vector<std::unique_ptr<replication::ReplicatedWriter>> writers_;
  std::unique_ptr<cluster::NodeRuntime> runtime_;
  std::unique_ptr<HttpSnapshotFetcher> fetcher_;
  std::function<void(cluster::GroupId)> on_restored_;
  // Foreign catalog changes the DDL gate has seen loaded; only touched under the catalog's DDL
  // lock (the gate runs there).
  uint64_t loaded_foreign_ = 0;

  std::mutex reload_mu_;
  std::condition_variable reload_cv_;
  bool reload_due_ = false;    // guarded by reload_mu_
  bool reload_stop_ = false;   // guarded by reload_mu_
  std::thread reloader_;
  // foreign_applied() as it was before the reloader's last completed Reload.
  std::atomic<uint64_t> reloaded_foreign_{0};
  std::atomic<bool> machines_ready_{false};  // machines_ is complete (set at the end of Start)
};

}  // namespace kalam::server
