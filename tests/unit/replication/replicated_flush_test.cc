// Flush on a cluster (docs/cluster.md, Cold tier), in one process (three_nodes.h): the shard
// leader writes the segment to the storage the three nodes share and proposes the manifest and
// the hot deletions as one entry (CommitPipeline::CommitTiering); every replica applies it, so
// all three hold the same hot keys and the same installed manifest and read the same segment. A
// follower flushes nothing. A leader that dies between the segment write and the proposal leaves
// every row hot on the survivors; the next leader flushes them, and the dead node, restarted,
// catches up to the same manifest.
#include "three_nodes.h"

#include "catalog/storage_catalog.h"
#include "table/cold_store.h"
#include "table/flusher.h"
#include "table/table_store.h"

namespace kalam::replication {
namespace {

// The flusher's writer gate over one node's shard pipeline, as jobs::JobSystem builds it on a
// cluster node; `fail_commit` makes the step fail before anything is proposed (a crash between
// the segment write and the proposal).
class NodeGate : public table::WriterGate {
 public:
  explicit NodeGate(Node& node) : node_(node) {}
  ReadPoint TakeReadPoint() override { return {node_.kv->GetSnapshot(), 0}; }
  Status RunExclusive(const std::function<Status()>& fn) override {
    return node_.pipeline->RunExclusive(fn);
  }
  Status CommitTiering(const catalog::TableDef&, const table::Scope&,
                       const std::function<Status(storage::WriteBatch*)>& stage) override {
    if (fail_commit) return Status::IoError("killed before the proposal");
    return node_.pipeline->CommitTiering(stage);
  }
  Status Leads(const catalog::TableDef&, const table::Scope&) override {
    return node_.pipeline->CheckLeader();
  }
  bool fail_commit = false;

 private:
  Node& node_;
};

class Job : public table::TieringContext {
 public:
  bool cancelled() const override { return false; }
  void ReportProgress(std::string) const override {}
};

class ReplicatedFlushTest : public ThreeNodeTest {
 protected:
  void SetUp() override {
    ThreeNodeTest::SetUp();
    shared_dir_ = (fs::path(dir_) / "shared_storage").string();
    storages_.resize(3);
    colds_.resize(3);
    configure_ = [this](int n, commit::CommitPipeline& pipeline, storage::KvStore& kv) {
      auto storages = catalog::StorageCatalog::Open(kv, kalam::Clock::System(), shared_dir_);
      ASSERT_TRUE(storages.ok()) << storages.status().ToString();
      storages_[n] = std::move(storages).value();
      colds_[n] = std::make_unique<table::ColdStore>(kv, *storages_[n], 16 << 20);
      ASSERT_TRUE(colds_[n]->Load().ok());
      pipeline.SetColdStore(colds_[n].get());
    };
  }

  Result<table::FlushResult> Flush(int n, bool fail_commit = false) {
    NodeGate gate(*nodes_[n]);
    gate.fail_commit = fail_commit;
    table::TableStore store(*nodes_[n]->kv, colds_[n].get());
    table::Flusher flusher(*nodes_[n]->kv, store, *colds_[n], gate, kalam::Clock::System());
    return flusher.Flush(*table_, Job());
  }

  void Insert(int leader, int64_t from, int64_t to) {
    for (int64_t id = from; id < to; ++id) {
      table::WriteSet ws;
      ws.Stage(Row(id, "v" + std::to_string(id)));
      auto seqs = nodes_[leader]->pipeline->Commit(ws);
      ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
    }
  }

  // The hot row keys of the table on node n, in key order.
  std::vector<std::string> HotKeys(int n) {
    std::vector<std::string> out;
    auto it = nodes_[n]->kv->NewIterator(storage::Partition::kPk);
    for (it->Seek(table::TableBegin(table_->table_id)); it->Valid(); it->Next()) {
      if (it->key() >= table::TableEnd(table_->table_id)) break;
      out.emplace_back(it->key());
    }
    EXPECT_TRUE(it->status().ok());
    return out;
  }

  // The installed manifest of the table's scope on node n, as its manifest.json text ("" when
  // none is installed).
  std::string InstalledManifest(int n) {
    auto sm = colds_[n]->Get(table_->table_id, "");
    return sm ? sm->folder + "|" + table::EncodeManifest(sm->manifest) : std::string();
  }

  // The value of row `id` on node n, merging hot and cold as readers do; "" when absent.
  std::string Read(int n, int64_t id) {
    table::TableStore store(*nodes_[n]->kv, colds_[n].get());
    const std::string key = table::PkKey(table_->table_id, "", Value::Int(id));
    auto hot = nodes_[n]->kv->Get(storage::Partition::kPk, key);
    EXPECT_TRUE(hot.ok());
    if (hot.ok() && *hot) {
      int64_t seq = 0;
      std::string_view bytes;
      EXPECT_TRUE(table::SplitPkEntry(**hot, &seq, &bytes));
      auto row = table::DecodeRow(*table_, bytes);
      EXPECT_TRUE(row.ok());
      return row.ok() && !row->deleted ? std::string(row->values[1].as_text()) : std::string();
    }
    auto cold = colds_[n]->Find(*table_, "", key);
    EXPECT_TRUE(cold.ok()) << cold.status().ToString();
    if (!cold.ok() || !*cold || (*cold)->deleted) return "";
    return std::string((*cold)->values[1].as_text());
  }

  // The group's data on node n — row versions, hot rows, scope manifests — hashed in key order
  // (the whole-store Digest also covers each node's own `local` storage record).
  uint64_t DataDigest(int n) {
    std::string all;
    for (storage::Partition p :
         {storage::Partition::kRows, storage::Partition::kPk, storage::Partition::kMeta}) {
      auto it = nodes_[n]->kv->NewIterator(p);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (p == storage::Partition::kMeta && !it->key().starts_with(table::ColdManifestPrefix())) {
          continue;
        }
        all += std::string(it->key()) + "=" + std::string(it->value()) + ";";
      }
      EXPECT_TRUE(it->status().ok());
    }
    return cluster::Fnv1a64(all);
  }

  // Every running node applied as far as node `leader` and holds the same group data.
  void ExpectSameData(int leader) {
    const cluster::LogIndex target = nodes_[leader]->machine->applied_index();
    ASSERT_TRUE(WaitFor([&] { return AllAppliedTo(target); }));
    for (int n = 0; n < 3; ++n) {
      if (!nodes_[n]->runtime) continue;
      EXPECT_EQ(DataDigest(n), DataDigest(leader)) << "node " << n;
    }
  }

  std::string shared_dir_;
  std::vector<std::unique_ptr<catalog::StorageCatalog>> storages_;
  std::vector<std::unique_ptr<table::ColdStore>> colds_;
};

TEST_F(ReplicatedFlushTest, TheLeaderFlushesAndEveryReplicaSwitchesToTheSameSegment) {
  for (int n = 0; n < 3; ++n) StartNode(n);
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  Insert(leader, 1, 41);
  ExpectSameData(leader);
  const int follower = (leader + 1) % 3;

  // A follower flushes nothing: the scope is its leader's.
  auto skipped = Flush(follower);
  ASSERT_TRUE(skipped.ok()) << skipped.status().ToString();
  EXPECT_EQ(skipped->rows, 0);
  EXPECT_EQ(skipped->scopes, 0);
  EXPECT_EQ(skipped->scopes_elsewhere, 1);
  EXPECT_EQ(InstalledManifest(follower), "");

  auto flushed = Flush(leader);
  ASSERT_TRUE(flushed.ok()) << flushed.status().ToString();
  EXPECT_EQ(flushed->rows, 40);
  EXPECT_EQ(flushed->scopes, 1);
  EXPECT_EQ(flushed->scopes_elsewhere, 0);
  ExpectSameData(leader);  // identical KV on all three: hot deletions and the staged manifest
  const std::string manifest = InstalledManifest(leader);
  ASSERT_NE(manifest, "");
  EXPECT_NE(manifest.find("\"batch-1.parquet\""), std::string::npos) << manifest;
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(HotKeys(n), std::vector<std::string>{}) << "node " << n;
    EXPECT_EQ(InstalledManifest(n), manifest) << "node " << n;
    for (int64_t id = 1; id <= 40; ++id) {
      EXPECT_EQ(Read(n, id), "v" + std::to_string(id)) << "node " << n << " row " << id;
    }
  }

  // Writes after the flush stay hot and merge with the cold rows on every node.
  Insert(leader, 41, 43);
  ExpectSameData(leader);
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(HotKeys(n).size(), 2u) << "node " << n;
    EXPECT_EQ(Read(n, 41), "v41");
    EXPECT_EQ(Read(n, 42), "v42");
    EXPECT_EQ(Read(n, 40), "v40");
    EXPECT_EQ(InstalledManifest(n), manifest) << "node " << n;
  }
}

TEST_F(ReplicatedFlushTest, ALeaderKilledBetweenSegmentAndProposalLosesNoRow) {
  for (int n = 0; n < 3; ++n) StartNode(n);
  const int leader = AwaitLeader();
  ASSERT_GE(leader, 0);
  Insert(leader, 1, 31);
  ExpectSameData(leader);

  // The segment is written to the shared storage, then the leader dies before proposing.
  auto failed = Flush(leader, /*fail_commit=*/true);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "killed before the proposal");
  EXPECT_TRUE(fs::exists(fs::path(shared_dir_) / "ns" / "t" / "batch-1.parquet"));
  nodes_[leader]->Stop();
  std::vector<int> survivors;
  for (int n = 0; n < 3; ++n) {
    if (n != leader) survivors.push_back(n);
  }
  for (int n : survivors) {
    EXPECT_EQ(HotKeys(n).size(), 30u) << "node " << n;
    EXPECT_EQ(InstalledManifest(n), "") << "node " << n;
    for (int64_t id = 1; id <= 30; ++id) EXPECT_EQ(Read(n, id), "v" + std::to_string(id));
  }

  // The next leader flushes the same rows (the unnamed segment's name is reused: no manifest
  // named it); the dead node, restarted, replays the entry and installs the same manifest.
  int next = -1;
  ASSERT_TRUE(WaitFor([&] {
    for (int n : survivors) {
      if (nodes_[n]->runtime->View(0).leader) next = n;
    }
    return next >= 0;
  }));
  auto flushed = Flush(next);
  ASSERT_TRUE(flushed.ok()) << flushed.status().ToString();
  EXPECT_EQ(flushed->rows, 30);
  StartNode(leader);
  ExpectSameData(next);
  const std::string manifest = InstalledManifest(next);
  ASSERT_NE(manifest, "");
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(HotKeys(n), std::vector<std::string>{}) << "node " << n;
    EXPECT_EQ(InstalledManifest(n), manifest) << "node " << n;
    for (int64_t id = 1; id <= 30; ++id) {
      EXPECT_EQ(Read(n, id), "v" + std::to_string(id)) << "node " << n << " row " << id;
    }
  }
}

}  // namespace
}  // namespace kalam::replication
