// CommitShards: which CommitPipeline a table's rows commit through. A single-node server has one
// pipeline for every table; a cluster node has one per data group (docs/cluster.md): USER and
// STREAM rows commit through their user's shard, SHARED rows through the shared shard.
//
// `_seq`s and read points are per pipeline: two shards' leaders stamp independently, so `_seq`s
// are ordered within a shard, never across shards. Whatever needs a read point (a live
// subscription's snapshot and resume boundary) takes it from the pipeline of its (table, scope).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "commit/commit_pipeline.h"
#include "common/status.h"
#include "common/table_type.h"
#include "table/keys.h"
#include "table/write_set.h"

namespace kalam::commit {

// A small value: non-owning pointers to pipelines that outlive every copy. Immutable after
// construction, so thread-safe.
class CommitShards {
 public:
  // The user shard (0 ≤ index < user shard count) holding `user_id`'s rows: the cluster's
  // ShardRouter::ForUser (the commit module does not depend on cluster/).
  using UserShardOf = std::function<uint32_t(std::string_view user_id)>;

  // A single node: `only` serves every table. Implicit on purpose: a lone pipeline IS the
  // single-node shard set, so every component built over one pipeline keeps compiling unchanged.
  CommitShards(CommitPipeline& only);  // NOLINT(google-explicit-constructor)

  // A cluster node: `user_shards[i]` serves user shard i, `shared` the SHARED tables. Pointers
  // not null; `user_shards` not empty.
  CommitShards(std::vector<CommitPipeline*> user_shards, CommitPipeline* shared,
               UserShardOf user_shard_of);

  // The pipeline of table type `type`'s rows of `scope` (a user id for USER and STREAM tables,
  // empty for SHARED). A single node returns its one pipeline without looking.
  CommitPipeline& For(TableType type, std::string_view scope) const {
    if (single_) return *all_.front();
    return ForCluster(type, scope);
  }

  // Commits `ws` through its rows' pipeline (CommitPipeline::Commit). A write set whose rows
  // belong to two shards is refused (kInvalidArgument), nothing written: a transaction stays
  // within one shard.
  Result<std::vector<int64_t>> Commit(const table::WriteSet& ws) const;

  // CommitPipeline::RunSchemaChange on every pipeline that can hold rows of a table of type
  // `type` (all user shards for USER and STREAM tables, the shared one for SHARED), nested in a
  // fixed order so no commit of that table is written on any of them while `change` runs.
  Status RunSchemaChange(TableType type, table::TableId table,
                         const std::function<Result<uint32_t>()>& change) const;

  // Listens to every pipeline. In a cluster, listeners are called from each pipeline's writer
  // thread, possibly concurrently.
  void AddListener(const ChangeListener& listener) const;

  // Totals over every pipeline.
  CommitStats stats() const;

  bool single() const { return single_; }
  // Every pipeline: the one of a single node; user shards in order, then shared, in a cluster.
  const std::vector<CommitPipeline*>& all() const { return all_; }

 private:
  CommitPipeline& ForCluster(TableType type, std::string_view scope) const;

  bool single_ = true;
  std::vector<CommitPipeline*> all_;  // single: {only}; cluster: user shards..., shared
  UserShardOf user_shard_of_;         // cluster only
};

}  // namespace kalam::commit
