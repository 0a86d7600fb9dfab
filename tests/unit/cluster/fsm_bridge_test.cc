// FsmBridge driven directly through its raft_fsm callbacks, as libraft calls them: envelope
// checks, sticky failures, and buffer ownership (run under valgrind to see a leak).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "cluster/fsm_bridge.h"
#include "kv_machine.h"

namespace kalam::cluster {
namespace {

// A raft_buffer holding a copy of `bytes`, allocated as libraft allocates it.
raft_buffer RaftCopy(const std::string& bytes) {
  raft_buffer buf;
  buf.len = bytes.size();
  buf.base = raft_malloc(bytes.size());
  std::memcpy(buf.base, bytes.data(), bytes.size());
  return buf;
}

int Apply(FsmBridge& bridge, const LogEntry& entry) {
  raft_buffer buf = RaftCopy(EncodeLogEntry(entry));
  void* result = nullptr;
  const int rv = bridge.fsm()->apply(bridge.fsm(), &buf, &result);
  raft_free(buf.base);  // apply never takes the entry's buffer
  return rv;
}

// A KvMachine whose Snapshot and Apply can be made to fail. With no raft attached the bridge
// passes index 0, so entries are numbered here.
class TestMachine : public KvMachine {
 public:
  bool fail_snapshot = false;
  bool fail_apply = false;
  Status Apply(LogIndex index, const LogEntry& entry) override {
    EXPECT_EQ(index, 0u);
    if (fail_apply) return Status::IoError("disk full");
    return KvMachine::Apply(++next_index_, entry);
  }
  Result<std::string> Snapshot() override {
    if (fail_snapshot) return Status::IoError("no space for a checkpoint");
    return KvMachine::Snapshot();
  }
  Status Restore(std::string_view snapshot) override {
    KALAM_RETURN_IF_ERROR(KvMachine::Restore(snapshot));
    next_index_ = last_index();
    return Status::OK();
  }

 private:
  LogIndex next_index_ = 0;
};

TEST(FsmBridgeTest, AppliesCommitGroupsAndRefusesSnapshotEnvelopes) {
  TestMachine machine;
  FsmBridge bridge(machine);
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kCommitGroup, "a=1"}), 0);
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kCatalogChange, "b=2"}), 0);
  EXPECT_EQ(bridge.applied_entries(), 2u);
  EXPECT_EQ(machine.kv(), (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kSnapshot, "c=3"}), RAFT_CORRUPT);
  ASSERT_TRUE(bridge.failure().has_value());
  EXPECT_EQ(bridge.failure()->message(), "A snapshot envelope arrived as a Raft log entry");
  // Sticky: nothing more is applied, not even a valid entry.
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kCommitGroup, "d=4"}), RAFT_IOERR);
  EXPECT_EQ(machine.kv().count("d"), 0u);
  EXPECT_EQ(bridge.applied_entries(), 2u);
}

TEST(FsmBridgeTest, AStateMachineFailureIsStickyAndKeptVerbatim) {
  TestMachine machine;
  FsmBridge bridge(machine);
  machine.fail_apply = true;
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kCommitGroup, "a=1"}), RAFT_IOERR);
  ASSERT_TRUE(bridge.failure().has_value());
  EXPECT_EQ(bridge.failure()->code(), StatusCode::kIoError);
  EXPECT_EQ(bridge.failure()->message(), "disk full");
  machine.fail_apply = false;
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kCommitGroup, "a=1"}), RAFT_IOERR);
  EXPECT_TRUE(machine.kv().empty());
  // A failed replica's state is never shipped as a snapshot.
  raft_buffer* bufs = nullptr;
  unsigned n = 0;
  EXPECT_EQ(bridge.fsm()->snapshot(bridge.fsm(), &bufs, &n), RAFT_IOERR);
}

TEST(FsmBridgeTest, SnapshotRoundTripsIntoAnotherReplicaAndClearsItsFailure) {
  TestMachine source;
  FsmBridge source_bridge(source);
  ASSERT_EQ(Apply(source_bridge, LogEntry{EntryKind::kCommitGroup, "a=1"}), 0);
  ASSERT_EQ(Apply(source_bridge, LogEntry{EntryKind::kCommitGroup, "b=2"}), 0);
  raft_buffer* bufs = nullptr;
  unsigned n = 0;
  ASSERT_EQ(source_bridge.fsm()->snapshot(source_bridge.fsm(), &bufs, &n), 0);
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(bufs[0].len % 8, 0u);

  TestMachine target;
  FsmBridge target_bridge(target);
  target.fail_apply = true;
  ASSERT_EQ(Apply(target_bridge, LogEntry{EntryKind::kCommitGroup, "x=9"}), RAFT_IOERR);
  ASSERT_TRUE(target_bridge.failure().has_value());
  // restore takes the buffer on success (frees it); the array stays libraft's.
  ASSERT_EQ(target_bridge.fsm()->restore(target_bridge.fsm(), &bufs[0]), 0);
  raft_free(bufs);
  EXPECT_FALSE(target_bridge.failure().has_value());
  EXPECT_EQ(target.kv(), source.kv());
  EXPECT_EQ(target.Digest(), source.Digest());
}

TEST(FsmBridgeTest, RestoreRefusesWhatIsNotASnapshotAndLeavesTheBufferToLibraft) {
  TestMachine machine;
  FsmBridge bridge(machine);
  raft_buffer wrong_kind = RaftCopy(EncodeLogEntry(LogEntry{EntryKind::kCommitGroup, "0\n"}));
  EXPECT_EQ(bridge.fsm()->restore(bridge.fsm(), &wrong_kind), RAFT_CORRUPT);
  raft_free(wrong_kind.base);  // on failure libraft still owns (and frees) it
  ASSERT_TRUE(bridge.failure().has_value());
  EXPECT_EQ(bridge.failure()->message(), "A Raft snapshot does not hold a snapshot envelope");

  TestMachine other;
  FsmBridge other_bridge(other);
  raft_buffer garbage = RaftCopy("not an envelope at all");
  EXPECT_EQ(other_bridge.fsm()->restore(other_bridge.fsm(), &garbage), RAFT_CORRUPT);
  raft_free(garbage.base);
  EXPECT_EQ(other_bridge.failure()->message(), "Raft log entry has version 110; this server "
                                               "reads version 1");
}

TEST(FsmBridgeTest, SnapshotFailureOnlySkipsCompaction) {
  TestMachine machine;
  FsmBridge bridge(machine);
  ASSERT_EQ(Apply(bridge, LogEntry{EntryKind::kCommitGroup, "a=1"}), 0);
  machine.fail_snapshot = true;
  raft_buffer* bufs = nullptr;
  unsigned n = 0;
  EXPECT_EQ(bridge.fsm()->snapshot(bridge.fsm(), &bufs, &n), RAFT_IOERR);
  EXPECT_FALSE(bridge.failure().has_value());  // the replica is healthy; it just keeps its log
  EXPECT_EQ(Apply(bridge, LogEntry{EntryKind::kCommitGroup, "b=2"}), 0);
}

}  // namespace
}  // namespace kalam::cluster
