// The replicated commit path end to end, in one process (three_nodes.h): commits from many
// threads on the leader; identical KV contents and identical published `_seq` order on every
// node; the leader stopped under load with every acknowledged commit on both survivors; the
// stopped node restarted, replaying and converging.
#include "three_nodes.h"

namespace kalam::replication {
namespace {

class ReplicatedCommitTest : public ThreeNodeTest {};

TEST_F(ReplicatedCommitTest, ReplicatesFailsOverAndReplays) {
  for (int n = 0; n < 3; ++n) StartNode(n);
  int leader = AwaitLeader();
  ASSERT_GE(leader, 0);

  // 1. Eight threads commit on the leader: inserts of two rows, then an update and a delete.
  constexpr int kThreads = 8, kPerThread = 30;
  std::mutex acked_mu;
  std::map<int64_t, int64_t> acked;  // row id → acknowledged `_seq` (0: deleted)
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t a = t * 100000 + i * 2, b = a + 1;
        table::WriteSet ws;
        ws.Stage(Row(a, "a"));
        ws.Stage(Row(b, "b"));
        auto seqs = nodes_[leader]->pipeline->Commit(ws);
        if (!seqs.ok()) {
          ++failures;
          continue;
        }
        table::WriteSet change;
        change.Stage(Row(a, "a2", (*seqs)[0], true));
        change.Stage(Row(b, "", (*seqs)[1], true, false));
        auto changed = nodes_[leader]->pipeline->Commit(change);
        if (!changed.ok()) {
          ++failures;
          continue;
        }
        std::lock_guard lock(acked_mu);
        acked[a] = (*changed)[0];
        acked[b] = 0;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_EQ(acked.size(), size_t{kThreads * kPerThread * 2});

  // A follower refuses, naming the leader, and writes nothing.
  const int follower = (leader + 1) % 3;
  table::WriteSet refused;
  refused.Stage(Row(-1, "x"));
  auto no = nodes_[follower]->pipeline->Commit(refused);
  ASSERT_FALSE(no.ok());
  EXPECT_EQ(no.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(no.status().message(), "Not leader for shard. Leader: " + peers_[leader].address());

  ExpectConverged(leader);
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(SeqOf(n, -1), 0) << "node " << n;
    for (const auto& [id, seq] : acked) {
      if (seq != 0) {
        ASSERT_EQ(SeqOf(n, id), seq) << "node " << n << " row " << id;
      }
    }
  }
  // Every node's listener saw the same changes, in strictly increasing `_seq` order: 2 inserts,
  // an update and a delete per commit pair.
  const auto reference = nodes_[leader]->Published();
  ASSERT_EQ(reference.size(), size_t{kThreads * kPerThread * 4});
  for (size_t i = 1; i < reference.size(); ++i) ASSERT_LT(reference[i - 1].seq, reference[i].seq);
  for (int n = 0; n < 3; ++n) {
    EXPECT_TRUE(WaitFor([&] { return nodes_[n]->Published().size() == reference.size(); }));
    EXPECT_EQ(nodes_[n]->Published(), reference) << "node " << n;
  }

  // 2. Stop the leader under load: four threads insert fresh rows until their node is gone.
  std::map<int64_t, int64_t> acked_inserts;
  std::vector<Status> errors;
  std::atomic<bool> stop_load{false};
  threads.clear();
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop_load.load(); ++i) {
        const int64_t id = 1000000 + t * 100000 + i;
        table::WriteSet ws;
        ws.Stage(Row(id, "load"));
        auto seqs = nodes_[leader]->pipeline->Commit(ws);
        std::lock_guard lock(acked_mu);
        if (seqs.ok()) {
          acked_inserts[id] = (*seqs)[0];
        } else {
          errors.push_back(seqs.status());
          return;
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard lock(acked_mu);
    return acked_inserts.size() >= 40;
  }));
  const auto stopped_at = Clock::now();
  nodes_[leader]->runtime->Stop();  // Raft gone: in-flight commits end in doubt
  stop_load = true;
  for (auto& th : threads) th.join();
  nodes_[leader]->Stop();
  const int old_leader = leader;
  // Each failed commit failed as unavailable: in doubt, or refused before it was appended.
  for (const Status& s : errors) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    const bool in_doubt = s.message().rfind("The commit's outcome is unknown (", 0) == 0;
    const bool refused = s.message() == "The node is shutting down" ||
                         s.message() == "Server is shutting down";
    EXPECT_TRUE(in_doubt || refused) << s.message();
  }

  std::printf("under load: %zu commits acknowledged, %zu failed when the leader stopped\n",
              acked_inserts.size(), errors.size());
  leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  ASSERT_NE(leader, old_leader);
  std::printf("replicated commit failover ms (election_timeout 1000): %.0f\n",
              std::chrono::duration<double, std::milli>(Clock::now() - stopped_at).count());
  for (int i = 0; i < 50; ++i) {
    table::WriteSet ws;
    ws.Stage(Row(5000000 + i, "after"));
    auto seqs = nodes_[leader]->pipeline->Commit(ws);
    ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
    acked_inserts[5000000 + i] = (*seqs)[0];
  }
  ExpectConverged(leader);
  for (int n = 0; n < 3; ++n) {
    if (!nodes_[n]->runtime) continue;
    for (const auto& [id, seq] : acked_inserts) {
      ASSERT_EQ(SeqOf(n, id), seq) << "node " << n << " row " << id;
    }
    for (const auto& [id, seq] : acked) {
      if (seq != 0) {
        ASSERT_EQ(SeqOf(n, id), seq) << "node " << n << " row " << id;
      }
    }
  }
  // The survivors published the same changes in the same order, `_seq` still increasing across
  // the change of leader.
  const int other = 3 - leader - old_leader;
  EXPECT_TRUE(WaitFor([&] {
    return nodes_[other]->Published().size() == nodes_[leader]->Published().size();
  }));
  const auto after = nodes_[leader]->Published();
  EXPECT_EQ(nodes_[other]->Published(), after);
  for (size_t i = 1; i < after.size(); ++i) ASSERT_LT(after[i - 1].seq, after[i].seq);

  // 3. The stopped node restarts from its RocksDB and Raft log: entries it had applied are
  // skipped, the rest applied; it converges to the same bytes.
  StartNode(old_leader);
  ExpectConverged(leader);
  EXPECT_GT(nodes_[old_leader]->machine->replays_skipped(), 0u);
  for (const auto& [id, seq] : acked_inserts) {
    ASSERT_EQ(SeqOf(old_leader, id), seq) << "row " << id;
  }
  // It publishes only what it applied after the restart: a suffix of the survivors' stream.
  const auto replayed = nodes_[old_leader]->Published();
  ASSERT_LE(replayed.size(), after.size());
  EXPECT_TRUE(std::equal(replayed.begin(), replayed.end(), after.end() - replayed.size()));
  EXPECT_EQ(replayed.back().id, 5000049);
}

TEST_F(ReplicatedCommitTest, ACommitNoMajorityConfirmsEndsOutcomeUnknown) {
  for (int n = 0; n < 3; ++n) StartNode(n);
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  table::WriteSet first;
  first.Stage(Row(1, "first"));
  ASSERT_TRUE(nodes_[leader]->pipeline->Commit(first).ok());  // the leader is ready this term
  // Both followers die: the next group is appended on the leader alone and can never be
  // confirmed; the leader steps down after an election timeout without a majority.
  for (int n = 0; n < 3; ++n) {
    if (n != leader) nodes_[n]->Stop();
  }
  table::WriteSet second;
  second.Stage(Row(2, "second"));
  auto seqs = nodes_[leader]->pipeline->Commit(second);
  ASSERT_FALSE(seqs.ok());
  EXPECT_EQ(seqs.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(seqs.status().message().rfind("The commit's outcome is unknown (", 0), 0u)
      << seqs.status().message();
  EXPECT_NE(seqs.status().message().find(
                "): it may still be written by the new leader. Check for it before retrying"),
            std::string::npos)
      << seqs.status().message();
  EXPECT_EQ(SeqOf(leader, 2), 0);  // not applied here: never committed
  EXPECT_NE(SeqOf(leader, 1), 0);
  // Without a leader, the next commit is refused before anything is appended.
  table::WriteSet third;
  third.Stage(Row(3, "third"));
  auto refused = nodes_[leader]->pipeline->Commit(third);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "Not leader for shard. Leader unknown");
}

TEST_F(ReplicatedCommitTest, AStoppedRuntimeFailsTheCommitWithNothingWritten) {
  StartNode(0);
  nodes_[0]->runtime->Stop();
  table::WriteSet ws;
  ws.Stage(Row(1, "x"));
  auto seqs = nodes_[0]->pipeline->Commit(ws);
  ASSERT_FALSE(seqs.ok());
  EXPECT_EQ(seqs.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(seqs.status().message(), "The node is shutting down");
  EXPECT_EQ(SeqOf(0, 1), 0);
  EXPECT_TRUE(nodes_[0]->Published().empty());
}

}  // namespace
}  // namespace kalam::replication
