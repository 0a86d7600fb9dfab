#include "commit/commit_shards.h"

#include <utility>

namespace kalam::commit {

CommitShards::CommitShards(CommitPipeline& only) : all_{&only} {}

CommitShards::CommitShards(std::vector<CommitPipeline*> user_shards, CommitPipeline* shared,
                           UserShardOf user_shard_of)
    : single_(false), all_(std::move(user_shards)), user_shard_of_(std::move(user_shard_of)) {
  all_.push_back(shared);
}

CommitPipeline& CommitShards::ForCluster(TableType type, std::string_view scope) const {
  if (type == TableType::kUser || type == TableType::kStream) {
    return *all_[user_shard_of_(scope)];
  }
  return *all_.back();  // SHARED (system tables commit nothing through a pipeline)
}

Result<std::vector<int64_t>> CommitShards::Commit(const table::WriteSet& ws) const {
  if (single_) return all_.front()->Commit(ws);
  CommitPipeline* target = nullptr;
  const table::StagedRow* first = nullptr;
  for (const auto& [key, row] : ws.rows()) {
    CommitPipeline* p = &ForCluster(row.table->type, row.scope);
    if (target == nullptr) {
      target = p;
      first = &row;
    } else if (p != target) {
      return Status::InvalidArgument(
          "A transaction cannot write to two shards: the rows of " + first->table->QualifiedName() +
          (first->scope.empty() ? "" : " for user '" + first->scope + "'") + " and of " +
          row.table->QualifiedName() + (row.scope.empty() ? "" : " for user '" + row.scope + "'") +
          " are replicated by different groups. Commit them in separate transactions.");
    }
  }
  if (target == nullptr) return std::vector<int64_t>{};
  return target->Commit(ws);
}

namespace {

// RunSchemaChange on pipelines[i..], each nested inside the previous one: `change` runs once,
// while none of them writes a group.
Status NestedSchemaChange(const std::vector<CommitPipeline*>& pipelines, size_t i,
                          table::TableId table, const std::function<Result<uint32_t>()>& change) {
  if (i + 1 == pipelines.size()) return pipelines[i]->RunSchemaChange(table, change);
  uint32_t version = 0;
  return pipelines[i]->RunSchemaChange(table, [&]() -> Result<uint32_t> {
    KALAM_RETURN_IF_ERROR(NestedSchemaChange(pipelines, i + 1, table, [&]() -> Result<uint32_t> {
      KALAM_ASSIGN_OR_RETURN(version, change());
      return version;
    }));
    return version;
  });
}

}  // namespace

Status CommitShards::RunSchemaChange(TableType type, table::TableId table,
                                     const std::function<Result<uint32_t>()>& change) const {
  if (single_) return all_.front()->RunSchemaChange(table, change);
  if (type == TableType::kUser || type == TableType::kStream) {
    const std::vector<CommitPipeline*> users(all_.begin(), all_.end() - 1);
    return NestedSchemaChange(users, 0, table, change);
  }
  return all_.back()->RunSchemaChange(table, change);
}

void CommitShards::AddListener(const ChangeListener& listener) const {
  for (CommitPipeline* p : all_) p->AddListener(listener);
}

CommitStats CommitShards::stats() const {
  CommitStats total;
  for (const CommitPipeline* p : all_) {
    const CommitStats s = p->stats();
    total.commits += s.commits;
    total.groups += s.groups;
    total.rows += s.rows;
    total.conflicts += s.conflicts;
  }
  return total;
}

}  // namespace kalam::commit
