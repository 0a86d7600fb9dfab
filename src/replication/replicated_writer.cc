// ReplicatedWriter: propose, wait, map the Raft outcome to the commit's status.
#include "replication/replicated_writer.h"

#include "replication/group_codec.h"

namespace kalam::replication {

namespace {

Status OutcomeUnknown(const std::string& why) {
  return Status::Unavailable(
      "The commit's outcome is unknown (" + why +
      "): it may still be written by the new leader. Check for it before retrying");
}

}  // namespace

Status ReplicatedWriter::BeginGroup() {
  cluster::ProposeOutcome outcome = runtime_.AwaitLeaderReady(group_).get();
  if (outcome.kind == cluster::ProposeOutcome::Kind::kCommitted) {
    // Entries still held for the catalog have not advanced this node's `_seq` generator: a
    // commit stamped now could reuse their `_seq`s.
    if (const size_t held = machine_.held_entries(); held != 0) {
      return Status::Unavailable("This node leads the group but still holds " +
                                 std::to_string(held) +
                                 " entries waiting for its catalog; retry shortly");
    }
    return Status::OK();
  }
  // Not leader, or the barrier's fate unknown: this commit wrote nothing yet either way.
  return Status::Unavailable(outcome.status.message());
}

Status ReplicatedWriter::Write(const storage::WriteBatch& batch,
                               std::vector<table::ChangeRecord> records, int64_t max_seq) {
  cluster::LogEntry entry{cluster::EntryKind::kCommitGroup,
                          EncodeCommitGroup(batch, records, max_seq)};
  cluster::ProposeOutcome outcome = runtime_.Propose(group_, std::move(entry)).get();
  switch (outcome.kind) {
    case cluster::ProposeOutcome::Kind::kCommitted:
      // libraft reports a commit after this node's state machine applied it; a machine that
      // failed leaves the index behind (its failure is sticky).
      if (machine_.applied_index() < outcome.index) {
        return OutcomeUnknown("committed at Raft index " + std::to_string(outcome.index) +
                              " but not applied on this node");
      }
      return Status::OK();
    case cluster::ProposeOutcome::Kind::kNotLeader:
      return Status::Unavailable(outcome.status.message());
    case cluster::ProposeOutcome::Kind::kOutcomeUnknown:
      return OutcomeUnknown(outcome.status.message());
    case cluster::ProposeOutcome::Kind::kFailed:
      return outcome.status;
  }
  return Status::Internal("Unknown Raft proposal outcome");
}

}  // namespace kalam::replication
