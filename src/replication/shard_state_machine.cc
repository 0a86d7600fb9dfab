// ShardStateMachine: applying commit groups to the local store.
#include "replication/shard_state_machine.h"

#include "common/value_codec.h"

namespace kalam::replication {

std::string AppliedIndexKey(std::string_view group_name) {
  return "raft_applied/" + std::string(group_name);
}

ShardStateMachine::ShardStateMachine(std::string group_name, storage::KvStore& kv,
                                     commit::CommitPipeline& pipeline, TableResolver resolve)
    : key_(AppliedIndexKey(group_name)), kv_(kv), pipeline_(pipeline), resolve_(std::move(resolve)) {}

Status ShardStateMachine::Open() {
  KALAM_ASSIGN_OR_RETURN(auto stored, kv_.Get(storage::Partition::kMeta, key_));
  if (!stored) return Status::OK();
  std::string_view in = *stored;
  uint64_t index = 0;
  if (!ReadOrderedU64(&in, &index) || !in.empty()) {
    return Status::Corruption("Bad applied index in meta key '" + key_ + "'");
  }
  applied_.store(index);
  return Status::OK();
}

Status ShardStateMachine::Apply(cluster::LogIndex index, const cluster::LogEntry& entry) {
  if (index != 0 && index <= applied_.load()) {
    skipped_.fetch_add(1);
    return Status::OK();
  }
  if (entry.kind != cluster::EntryKind::kCommitGroup) {
    return Status::Corruption("Raft entry " + std::to_string(index) +
                              " of a shard group is not a commit group");
  }
  KALAM_ASSIGN_OR_RETURN(CommitGroup group, DecodeCommitGroup(entry.payload, resolve_));
  std::string stored;
  AppendOrderedU64(index, &stored);
  group.batch.Put(storage::Partition::kMeta, key_, stored);
  KALAM_RETURN_IF_ERROR(pipeline_.ApplyGroup(group.batch, group.records, group.max_seq));
  applied_.store(index);
  return Status::OK();
}

Result<std::string> ShardStateMachine::Snapshot() {
  return Status::FailedPrecondition(
      "Snapshots of a RocksDB shard are not built yet; the Raft log is kept whole");
}

Status ShardStateMachine::Restore(std::string_view /*snapshot*/) {
  return Status::FailedPrecondition(
      "Snapshots of a RocksDB shard are not built yet; this replica cannot install one");
}

}  // namespace kalam::replication
