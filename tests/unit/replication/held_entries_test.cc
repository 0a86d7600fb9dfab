// Shard entries that outrun a node's catalog (three_nodes.h, libraft over loopback): an entry
// naming a table version the node's meta replica has not applied yet is held there, with every
// later entry of the group behind it, and applied in log order once the catalog knows it (no
// snapshot meanwhile); an entry naming a table the catalog knows was dropped is applied without
// that table; past the hold bounds the replica stops instead of growing.
#include "three_nodes.h"

namespace kalam::replication {
namespace {

class HeldEntriesTest : public ThreeNodeTest {
 protected:
  void SetUp() override {
    ThreeNodeTest::SetUp();
    snapshots_ = true;  // libraft asks for snapshots while entries are held (threshold 64)
  }

  // `count` commits of one row each into `table` on node `leader`, one at a time (one Raft entry
  // each), ids first…first+count-1.
  void Commit(int leader, const std::shared_ptr<const catalog::TableDef>& table, int64_t first,
              int count) {
    for (int64_t id = first; id < first + count; ++id) {
      table::WriteSet ws;
      ws.Stage(Row(id, "v" + std::to_string(id), 0, false, true, table));
      auto seqs = nodes_[leader]->pipeline->Commit(ws);
      ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
    }
  }

  // Keys of `table` in the rows and pk partitions of node n.
  size_t KeysOf(int n, catalog::TableId table) {
    size_t count = 0;
    for (storage::Partition p : {storage::Partition::kRows, storage::Partition::kPk}) {
      auto it = nodes_[n]->kv->NewIterator(p);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        std::string_view key = it->key();
        catalog::TableId id = 0;
        table::Scope scope;
        if (table::ConsumeScopePrefix(&key, &id, &scope) && id == table) ++count;
      }
      EXPECT_TRUE(it->status().ok());
    }
    return count;
  }

  void StartAll() {
    for (int n = 0; n < 3; ++n) StartNode(n);
  }
};

TEST_F(HeldEntriesTest, EntriesAheadOfTheCatalogAreHeldThenAppliedInOrder) {
  StartAll();
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  const int lag = (leader + 1) % 3;
  const int other = 3 - leader - lag;
  Commit(leader, table_, 1, 10);
  ExpectConverged(leader);
  const cluster::LogIndex before = nodes_[lag]->machine->applied_index();
  const uint64_t taken_before = nodes_[lag]->machine->snapshots_taken();

  // CREATE TABLE u applied by the meta replicas of two nodes, not yet by `lag`'s.
  auto second = MakeTable(8, "u");
  catalogs_[leader].Add(second);
  catalogs_[other].Add(second);
  Commit(leader, second, 1, 1);
  const cluster::LogIndex first_held = nodes_[leader]->machine->applied_index();
  Commit(leader, second, 2, 49);
  Commit(leader, table_, 11, 50);  // table t, which `lag` knows, behind the held entries
  const cluster::LogIndex target = nodes_[leader]->machine->applied_index();

  // libraft on `lag` counts all 100 entries as applied; the machine applied none of them.
  ASSERT_TRUE(WaitFor([&] { return nodes_[lag]->runtime->View(0).last_applied >= target; }));
  ASSERT_TRUE(WaitFor([&] { return nodes_[other]->machine->applied_index() == target; }));
  EXPECT_EQ(nodes_[lag]->machine->applied_index(), before);
  EXPECT_EQ(nodes_[lag]->machine->held_entries(), 100u);
  EXPECT_FALSE(nodes_[lag]->runtime->View(0).failed);
  EXPECT_FALSE(nodes_[lag]->machine->failed());
  EXPECT_EQ(SeqOf(lag, 11), 0);  // a known table's row, held behind the entries of u
  EXPECT_EQ(KeysOf(lag, 8), 0u);
  // 100 entries passed the snapshot threshold (64): every snapshot was refused, none taken.
  auto snap = nodes_[lag]->machine->Snapshot();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(snap.status().message(),
            "Group 'shared' holds 100 entries (from Raft index " + std::to_string(first_held) +
                ") waiting for this node's catalog: no snapshot until they apply");
  EXPECT_EQ(nodes_[lag]->machine->snapshots_taken(), taken_before);
  EXPECT_GT(nodes_[leader]->machine->snapshots_taken(), 0u);

  // Retrying before the catalog knows u applies nothing and fails nothing.
  ASSERT_TRUE(nodes_[lag]->machine->RetryHeld().ok());
  EXPECT_EQ(nodes_[lag]->machine->held_entries(), 100u);

  // `lag`'s meta replica catches up: everything applies in log order.
  catalogs_[lag].Add(second);
  ASSERT_TRUE(nodes_[lag]->machine->RetryHeld().ok());
  EXPECT_EQ(nodes_[lag]->machine->held_entries(), 0u);
  ExpectConverged(leader);
  EXPECT_EQ(KeysOf(lag, 8), 100u);  // 50 rows of u: a rows and a pk key each
  EXPECT_EQ(nodes_[lag]->Published(), nodes_[leader]->Published());
  for (int64_t id = 11; id <= 60; ++id) EXPECT_EQ(SeqOf(lag, id), SeqOf(leader, id)) << id;

  // And it goes on: new entries apply directly, and snapshots are taken again.
  Commit(leader, table_, 61, 70);
  ExpectConverged(leader);
  EXPECT_TRUE(WaitFor([&] { return nodes_[lag]->machine->snapshots_taken() > taken_before; }));
  EXPECT_EQ(nodes_[lag]->Published(), nodes_[leader]->Published());
}

TEST_F(HeldEntriesTest, AnEntryNamingADroppedTableIsAppliedWithoutIt) {
  StartAll();
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  const int lag = (leader + 1) % 3;
  auto second = MakeTable(8, "u");
  for (auto& cat : catalogs_) cat.Add(second);
  Commit(leader, table_, 1, 5);
  Commit(leader, second, 1, 5);
  ExpectConverged(leader);

  // `lag`'s catalog has already applied DROP TABLE u while entries writing u still arrive.
  catalogs_[lag].Drop(8);
  Commit(leader, second, 6, 5);
  Commit(leader, table_, 6, 5);
  const cluster::LogIndex target = nodes_[leader]->machine->applied_index();
  ASSERT_TRUE(WaitFor([&] { return nodes_[lag]->machine->applied_index() == target; }));
  EXPECT_EQ(nodes_[lag]->machine->held_entries(), 0u);
  EXPECT_FALSE(nodes_[lag]->runtime->View(0).failed);
  EXPECT_EQ(nodes_[lag]->machine->dropped_table_entries(), 5u);
  EXPECT_EQ(nodes_[leader]->machine->dropped_table_entries(), 0u);
  EXPECT_EQ(KeysOf(leader, 8), 20u);
  EXPECT_EQ(KeysOf(lag, 8), 10u);  // u's rows 6..10 left out
  for (int64_t id = 1; id <= 10; ++id) EXPECT_EQ(SeqOf(lag, id), SeqOf(leader, id)) << id;
  // The same changes in the same order, but none of u's rows 6..10 (published 11th to 15th).
  std::vector<Seen> expected = nodes_[leader]->Published();
  ASSERT_EQ(expected.size(), 20u);
  expected.erase(expected.begin() + 10, expected.begin() + 15);
  EXPECT_EQ(nodes_[lag]->Published(), expected);
}

TEST_F(HeldEntriesTest, PastTheHoldBoundsTheReplicaStops) {
  StartAll();
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  const int lag = (leader + 1) % 3;
  nodes_[lag]->machine->SetHoldLimits(3, 1 << 20);
  Commit(leader, table_, 1, 2);
  ExpectConverged(leader);
  const cluster::LogIndex before = nodes_[lag]->machine->applied_index();
  auto second = MakeTable(8, "u");
  for (int n = 0; n < 3; ++n) {
    if (n != lag) catalogs_[n].Add(second);
  }
  Commit(leader, second, 1, 1);
  const cluster::LogIndex first_held = nodes_[leader]->machine->applied_index();
  Commit(leader, second, 2, 4);
  ASSERT_TRUE(WaitFor([&] { return nodes_[lag]->runtime->View(0).failed; }));
  EXPECT_TRUE(nodes_[lag]->machine->failed());
  EXPECT_EQ(nodes_[lag]->machine->held_entries(), 3u);
  EXPECT_EQ(nodes_[lag]->machine->applied_index(), before);
  Status st = nodes_[lag]->machine->RetryHeld();
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  const std::string head = "Group 'shared' holds 3 entries (";
  const std::string tail = " bytes, from Raft index " + std::to_string(first_held) +
                           ") waiting for tables this node's catalog does not know; the limit "
                           "is 3 entries / 1048576 bytes. Restart the node: it replays them "
                           "against the catalog it loads";
  EXPECT_TRUE(st.message().starts_with(head)) << st.message();
  EXPECT_TRUE(st.message().ends_with(tail)) << st.message();
  // The catalog catching up does not revive it: the failure is sticky.
  catalogs_[lag].Add(second);
  EXPECT_EQ(nodes_[lag]->machine->RetryHeld().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(nodes_[lag]->machine->applied_index(), before);
  // The two others go on.
  Commit(leader, table_, 3, 3);
  const int other = 3 - leader - lag;
  ASSERT_TRUE(WaitFor([&] {
    return nodes_[other]->machine->applied_index() == nodes_[leader]->machine->applied_index();
  }));
  EXPECT_EQ(Digest(other), Digest(leader));
}

}  // namespace
}  // namespace kalam::replication
