// Catalog changes through the meta group.
#include "replication/meta_store.h"

#include "common/value_codec.h"
#include "replication/group_codec.h"
#include "replication/shard_state_machine.h"

namespace kalam::replication {

namespace {

constexpr std::string_view kMetaGroupName = "meta";

Result<std::shared_ptr<const catalog::TableDef>> NoTables(catalog::TableId, uint32_t) {
  return Status::Corruption("A catalog change carries no change records");
}

}  // namespace

std::string EncodeCatalogChange(uint64_t origin, const storage::WriteBatch& batch) {
  std::string out;
  AppendOrderedU64(origin, &out);
  out += EncodeCommitGroup(batch, {}, 0);
  return out;
}

Status MetaKvStore::Write(const storage::WriteBatch& batch, const storage::WriteOptions& options) {
  cluster::NodeRuntime* runtime = runtime_.load(std::memory_order_acquire);
  if (runtime == nullptr) return base_.Write(batch, options);
  cluster::LogEntry entry{cluster::EntryKind::kCatalogChange, EncodeCatalogChange(origin_, batch)};
  cluster::ProposeOutcome outcome = runtime->Propose(group_, std::move(entry)).get();
  switch (outcome.kind) {
    case cluster::ProposeOutcome::Kind::kCommitted:
      return Status::OK();
    case cluster::ProposeOutcome::Kind::kNotLeader:
      return Status::Unavailable(outcome.status.message());
    case cluster::ProposeOutcome::Kind::kOutcomeUnknown:
      return Status::Unavailable("The change's outcome is unknown (" + outcome.status.message() +
                                 "): it may still be applied by the new leader of the meta "
                                 "group. Check for it before retrying");
    case cluster::ProposeOutcome::Kind::kFailed:
      return outcome.status;
  }
  return Status::Internal("Unknown Raft proposal outcome");
}

MetaStateMachine::MetaStateMachine(storage::KvStore& kv, uint64_t origin,
                                   std::function<void()> on_foreign_change)
    : kv_(kv), origin_(origin), on_foreign_change_(std::move(on_foreign_change)) {}

Status MetaStateMachine::Open() {
  KALAM_ASSIGN_OR_RETURN(uint64_t index, ReadAppliedIndex(kv_, kMetaGroupName));
  applied_.store(index);
  return Status::OK();
}

Status MetaStateMachine::Apply(cluster::LogIndex index, const cluster::LogEntry& entry) {
  if (index != 0 && index <= applied_.load()) return Status::OK();
  if (entry.kind != cluster::EntryKind::kCatalogChange) {
    return Status::Corruption("Raft entry " + std::to_string(index) +
                              " of the meta group is not a catalog change");
  }
  std::string_view in = entry.payload;
  uint64_t origin = 0;
  if (!ReadOrderedU64(&in, &origin)) {
    return Status::Corruption("Raft entry " + std::to_string(index) +
                              ": catalog change too short for its origin");
  }
  KALAM_ASSIGN_OR_RETURN(CommitGroup change, DecodeCommitGroup(in, NoTables));
  std::string stored;
  AppendOrderedU64(index, &stored);
  change.batch.Put(storage::Partition::kMeta, AppliedIndexKey(kMetaGroupName), stored);
  KALAM_RETURN_IF_ERROR(kv_.Write(change.batch, {.sync = true}));
  applied_.store(index);
  if (origin != origin_) {
    foreign_applied_.fetch_add(1);
    if (on_foreign_change_) on_foreign_change_();
  }
  return Status::OK();
}

Result<std::string> MetaStateMachine::Snapshot() {
  return Status::FailedPrecondition(
      "Snapshots of the meta group are not built yet; the Raft log is kept whole");
}

Status MetaStateMachine::Restore(std::string_view /*snapshot*/) {
  return Status::FailedPrecondition(
      "Snapshots of the meta group are not built yet; this replica cannot install one");
}

}  // namespace kalam::replication
