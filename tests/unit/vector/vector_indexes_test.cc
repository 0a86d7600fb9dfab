// VectorIndexes over a real commit pipeline, table store and cold store: built from the rows, kept
// current by the commit hook (also while it is being built), scopes apart, exact search without
// an index, snapshots written to a storage and named by the cold manifest, loaded, verified and
// reconciled with the rows.
#include "vector/vector_indexes.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "commit/commit_pipeline.h"
#include "table/keys.h"

namespace kalam::vector {
namespace {

constexpr int kDim = 8;

std::shared_ptr<const catalog::TableDef> Table(catalog::TableType type, bool indexed) {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = 9;
  d->namespace_id = "ns";
  d->table_name = "docs";
  d->type = type;
  catalog::ColumnDef id;
  id.column_id = 1;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  catalog::ColumnDef emb;
  emb.column_id = 2;
  emb.name = "emb";
  emb.type = DataType{TypeKind::kEmbedding, 0, 0, kDim};
  if (indexed) emb.vector_index = catalog::VectorIndexDef{VectorMetric::kL2, 1};
  d->columns = {id, emb};
  return d;
}

Value Embedding(const std::vector<float>& v) {
  std::string bytes(v.size() * 4, '\0');
  std::memcpy(bytes.data(), v.data(), bytes.size());
  return Value::Bytes(std::move(bytes));
}

class VectorIndexesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pipeline_.SetCommitHook(&indexes_);
    ASSERT_TRUE(pipeline_.Start().ok());
  }
  void TearDown() override {
    pipeline_.Stop();
    std::filesystem::remove_all(dir_);
  }

  static std::string TestDir() {
    return ::testing::TempDir() + "/vix_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  static std::unique_ptr<catalog::StorageCatalog> OpenStorages(storage::KvStore& kv,
                                                               const std::string& dir) {
    std::filesystem::remove_all(dir);
    auto storages = catalog::StorageCatalog::Open(kv, Clock::System(), dir + "/storage");
    EXPECT_TRUE(storages.ok());
    return storages.ok() ? std::move(*storages) : nullptr;
  }

  // Writes the snapshots of `scope` with `idx` as a flush does (file number `id`) and installs the
  // manifest naming them; returns its entries.
  std::vector<table::VectorIndexEntry> Snapshot(VectorIndexes& idx, const table::Scope& scope,
                                                int64_t id, bool rebuild = false) {
    auto current = cold_.Get(def_->table_id, scope);
    auto next = std::make_shared<table::ScopeManifest>();
    if (current) {
      *next = *current;
    } else {
      auto loc = cold_.Locate(*def_, scope);
      EXPECT_TRUE(loc.ok());
      next->storage_id = loc->first;
      next->folder = loc->second;
    }
    auto store = cold_.StoreFor(next->storage_id);
    EXPECT_TRUE(store.ok());
    next->manifest.vector_indexes = idx.SnapshotScope(*def_, scope, rebuild, **store, next->folder,
                                                      id, next->manifest.vector_indexes);
    next->manifest.next_segment_id = id + 1;
    storage::WriteBatch batch;
    table::ColdStore::StageManifest(def_->table_id, scope, next.get(), &batch);
    EXPECT_TRUE(kv_->Write(batch).ok());
    cold_.Install(def_->table_id, scope, next);
    return next->manifest.vector_indexes;
  }
  // The local path of a scope's file `name`.
  std::string FileOf(const table::Scope& scope, const std::string& name) {
    auto loc = cold_.Locate(*def_, scope);
    EXPECT_TRUE(loc.ok());
    return dir_ + "/storage/" + loc->second + "/" + name;
  }

  // Writes row `id` of `scope`: its vector, or a delete when `v` is empty.
  void Write(const table::Scope& scope, int64_t id, const std::vector<float>& v) {
    table::StagedRow r;
    r.table = def_;
    r.scope = scope;
    r.pk = Value::Int(id);
    r.pk_key = table::PkKey(def_->table_id, scope, r.pk);
    auto current = store_.GetByKey(*def_, scope, r.pk_key);
    ASSERT_TRUE(current.ok());
    if (*current) {  // a tombstone is a version too: the commit checks it was not replaced
      r.base_seq = (*current)->seq;
      r.base_live = !(*current)->deleted;
      if (r.base_live) r.base_values = (*current)->values;
    }
    r.live = !v.empty();
    r.values = r.live ? std::vector<Value>{r.pk, Embedding(v)} : r.base_values;
    if (!r.live && !r.base_live) return;  // deleting a missing row
    table::WriteSet ws;
    ws.Stage(std::move(r));
    auto seqs = pipeline_.Commit(ws);
    ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
  }

  std::vector<float> Random() {
    std::vector<float> v(kDim);
    for (float& x : v) x = dist_(rng_);
    return v;
  }

  std::vector<std::string> Search(const table::Scope& scope, const std::vector<float>& q,
                                  size_t k) {
    auto hits = indexes_.Search(*def_, 1, scope, q, k);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::string> out;
    if (hits.ok()) {
      for (const auto& h : *hits) out.push_back(h.pk_text);
    }
    return out;
  }

  std::vector<std::string> Exact(const table::Scope& scope, const std::vector<float>& q,
                                 size_t k) {
    auto hits = indexes_.ExactSearch(*def_, 1, scope, VectorMetric::kL2, q, k);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::vector<std::string> out;
    if (hits.ok()) {
      for (const auto& h : *hits) out.push_back(h.pk_text);
    }
    return out;
  }

  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  SnowflakeGenerator ids_{1, Clock::System()};
  commit::CommitPipeline pipeline_{*kv_, ids_};
  const std::string dir_ = TestDir();
  std::unique_ptr<catalog::StorageCatalog> storages_ = OpenStorages(*kv_, dir_);
  table::ColdStore cold_{*kv_, *storages_, 1 << 20};
  table::TableStore store_{*kv_, &cold_};
  VectorIndexes indexes_{store_, dir_ + "/scratch"};
  std::shared_ptr<const catalog::TableDef> def_ = Table(catalog::TableType::kUser, true);
  std::mt19937 rng_{42};
  std::uniform_real_distribution<float> dist_{-1.0f, 1.0f};
};

TEST_F(VectorIndexesTest, BuiltFromRowsThenKeptCurrentByCommits) {
  for (int i = 0; i < 200; ++i) Write("u1", i, Random());
  const auto q = Random();
  EXPECT_EQ(indexes_.index_count(), 0u);
  const auto first = Search("u1", q, 10);  // builds the graph
  EXPECT_EQ(indexes_.index_count(), 1u);
  EXPECT_EQ(first, Exact("u1", q, 10));
  // Deleted rows never come back; updated rows are found where they are now.
  for (int n = 0; n < 3; ++n) Write("u1", std::stoll(first[n]), {});
  const auto after_delete = Search("u1", q, 10);
  EXPECT_EQ(after_delete, Exact("u1", q, 10));
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(std::count(after_delete.begin(), after_delete.end(), first[n]), 0) << first[n];
  }
  Write("u1", 150, q);  // moved onto the query
  EXPECT_EQ(Search("u1", q, 1), (std::vector<std::string>{"150"}));
  Write("u1", 150, std::vector<float>(kDim, 100.0f));  // and far away
  EXPECT_EQ(Search("u1", q, 10), Exact("u1", q, 10));
  // A deleted row written again comes back with its new vector.
  Write("u1", std::stoll(first[0]), q);
  EXPECT_EQ(Search("u1", q, 1), (std::vector<std::string>{first[0]}));
}

TEST_F(VectorIndexesTest, ScopesAreSeparateIndexes) {
  Write("u1", 1, std::vector<float>(kDim, 0.5f));
  Write("u2", 2, std::vector<float>(kDim, 0.5f));
  const std::vector<float> q(kDim, 0.4f);
  EXPECT_EQ(Search("u1", q, 10), (std::vector<std::string>{"1"}));
  EXPECT_EQ(Search("u2", q, 10), (std::vector<std::string>{"2"}));
  EXPECT_EQ(Search("u3", q, 10), (std::vector<std::string>{}));
  Write("u2", 3, q);
  EXPECT_EQ(Search("u1", q, 10), (std::vector<std::string>{"1"}));
  EXPECT_EQ(Search("u2", q, 10), (std::vector<std::string>{"3", "2"}));
  EXPECT_EQ(indexes_.index_count(), 3u);
}

TEST_F(VectorIndexesTest, WritesDuringTheBuildAreNotLost) {
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys; ++i) Write("", i, Random());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (int n = 0; n < 1500; ++n) {
      const int64_t id = static_cast<int64_t>(rng() % kKeys);
      std::vector<float> v;
      if (rng() % 4 != 0) {
        v.resize(kDim);
        for (float& x : v) x = dist(rng);
      }
      Write("", id, v);
    }
    done = true;
  });
  const auto q = Random();
  while (!done) Search("", q, 5);  // builds, then applies queues, while writes go on
  writer.join();
  // Every live row is in the graph, with its latest vector, and nothing else.
  auto all = Search("", q, kKeys);
  auto exact = Exact("", q, kKeys);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()),
            std::set<std::string>(exact.begin(), exact.end()));
  EXPECT_EQ(Search("", q, 10), Exact("", q, 10));
}

TEST_F(VectorIndexesTest, SnapshotsAreLoadedVerifiedAndReconciledWithTheRows) {
  VectorIndexes saved(store_, dir_ + "/scratch");
  for (int i = 0; i < 100; ++i) Write("u1", i, Random());
  const auto q = Random();
  // A flush writes the snapshot (building the graph first) into the scope's storage folder.
  auto entries = Snapshot(saved, "u1", 3);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].file, "vectors/emb.3.hnsw");
  EXPECT_EQ(entries[0].column_id, 2u);
  EXPECT_EQ(entries[0].index_version, 1u);
  EXPECT_EQ(entries[0].vectors, 100);
  EXPECT_GT(entries[0].seq, 0);
  EXPECT_EQ(entries[0].size_bytes,
            static_cast<int64_t>(std::filesystem::file_size(FileOf("u1", entries[0].file))));
  EXPECT_EQ(saved.snapshot_loads(), 0u);
  EXPECT_EQ(saved.index_count(), 0u);  // built for the flush only: freed once written
  // Written after the snapshot (as if the server had been killed since): the snapshot is stale.
  const auto before = Exact("u1", q, 3);
  Write("u1", std::stoll(before[0]), {});                               // deleted
  Write("u1", std::stoll(before[1]), std::vector<float>(kDim, 50.0f));  // moved away
  Write("u1", 500, q);                                                  // new
  auto search = [&](VectorIndexes& idx) {
    auto hits = idx.Search(*def_, 1, "u1", q, 10);
    EXPECT_TRUE(hits.ok());
    std::vector<std::string> got;
    if (hits.ok()) {
      for (const auto& h : *hits) got.push_back(h.pk_text);
    }
    return got;
  };
  const auto expected = Exact("u1", q, 10);
  ASSERT_EQ(expected[0], "500");
  ASSERT_EQ(std::count(expected.begin(), expected.end(), before[0]), 0);
  VectorIndexes restarted(store_, dir_ + "/scratch");
  EXPECT_EQ(search(restarted), expected);
  EXPECT_EQ(restarted.snapshot_loads(), 1u);
  // A damaged snapshot (one byte changed: its checksum no longer matches) is not used: the
  // graph is built from the rows, with the same answer.
  const std::string file = FileOf("u1", entries[0].file);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x7f');
  }
  VectorIndexes corrupt(store_, dir_ + "/scratch");
  EXPECT_EQ(search(corrupt), expected);
  EXPECT_EQ(corrupt.snapshot_loads(), 0u);
  // So is a missing one.
  std::filesystem::remove(file);
  VectorIndexes missing(store_, dir_ + "/scratch");
  EXPECT_EQ(search(missing), expected);
  EXPECT_EQ(missing.snapshot_loads(), 0u);
  // No scratch file is left behind.
  EXPECT_TRUE(std::filesystem::is_empty(dir_ + "/scratch"));
}

// A rebuild (compaction, or removed vectors over a fifth of the graph) drops the removed ones;
// the new snapshot replaces the old entry, and a deleted row never comes back.
TEST_F(VectorIndexesTest, RebuildDropsRemovedVectorsAndTheSnapshotFollows) {
  for (int i = 0; i < 50; ++i) Write("u1", i, Random());
  const auto q = Random();
  ASSERT_EQ(Search("u1", q, 50).size(), 50u);
  for (int i = 0; i < 5; ++i) Write("u1", i, {});  // 10%: kept as tombstones
  auto first = Snapshot(indexes_, "u1", 4);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].vectors, 45);
  EXPECT_EQ(indexes_.SizeOf(*def_, 1, "u1"), std::make_pair(size_t{45}, size_t{50}));
  auto rebuilt = Snapshot(indexes_, "u1", 5, /*rebuild=*/true);  // compaction
  ASSERT_EQ(rebuilt.size(), 1u);
  EXPECT_EQ(rebuilt[0].file, "vectors/emb.5.hnsw");
  EXPECT_EQ(indexes_.SizeOf(*def_, 1, "u1"), std::make_pair(size_t{45}, size_t{45}));
  for (int i = 5; i < 20; ++i) Write("u1", i, {});  // 15 of 45 removed: over a fifth
  auto flushed = Snapshot(indexes_, "u1", 6);
  ASSERT_EQ(flushed.size(), 1u);
  EXPECT_EQ(flushed[0].vectors, 30);
  EXPECT_EQ(indexes_.SizeOf(*def_, 1, "u1"), std::make_pair(size_t{30}, size_t{30}));
  VectorIndexes restarted(store_, dir_ + "/scratch");
  auto hits = restarted.Search(*def_, 1, "u1", q, 50);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(restarted.snapshot_loads(), 1u);
  std::set<std::string> got;
  for (const auto& h : *hits) got.insert(h.pk_text);
  std::set<std::string> live;
  for (int i = 20; i < 50; ++i) live.insert(std::to_string(i));
  EXPECT_EQ(got, live);
  // Every row deleted: no snapshot is kept.
  for (int i = 20; i < 50; ++i) Write("u1", i, {});
  EXPECT_TRUE(Snapshot(indexes_, "u1", 7).empty());
}

// A dropped table or index: its graphs leave memory and its snapshot files the storage, and
// nothing of another column goes with them.
TEST_F(VectorIndexesTest, ForgetDropsTheIndexesAndSnapshotsOfOneTableOrColumn) {
  for (int i = 0; i < 20; ++i) {
    Write("u1", i, Random());
    Write("u2", i, Random());
  }
  const auto q = Random();
  ASSERT_EQ(Search("u1", q, 5).size(), 5u);
  ASSERT_EQ(Search("u2", q, 5).size(), 5u);
  ASSERT_EQ(indexes_.index_count(), 2u);
  ASSERT_EQ(Snapshot(indexes_, "u1", 2).size(), 1u);
  ASSERT_EQ(Snapshot(indexes_, "u2", 2).size(), 1u);
  const std::string f1 = FileOf("u1", "vectors/emb.2.hnsw");
  const std::string f2 = FileOf("u2", "vectors/emb.2.hnsw");
  ASSERT_TRUE(std::filesystem::exists(f1));
  ASSERT_TRUE(std::filesystem::exists(f2));
  ASSERT_TRUE(indexes_.Forget(def_->table_id, 99).ok());  // another column: nothing changes
  EXPECT_EQ(indexes_.index_count(), 2u);
  EXPECT_TRUE(std::filesystem::exists(f1));
  ASSERT_TRUE(indexes_.Forget(def_->table_id, 2).ok());
  EXPECT_EQ(indexes_.index_count(), 0u);
  EXPECT_FALSE(std::filesystem::exists(f1));
  EXPECT_FALSE(std::filesystem::exists(f2));
  // Searching again builds from the rows (the manifest names a missing file): nothing was lost
  // but derived data.
  EXPECT_EQ(Search("u1", q, 5), Exact("u1", q, 5));
  EXPECT_EQ(indexes_.snapshot_loads(), 0u);
}

TEST_F(VectorIndexesTest, WithoutAnIndexSearchIsExactCosine) {
  def_ = Table(catalog::TableType::kShared, false);
  Write("", 1, {1, 0, 0, 0, 0, 0, 0, 0});
  Write("", 2, {10, 10, 0, 0, 0, 0, 0, 0});
  Write("", 3, {0, 1, 0, 0, 0, 0, 0, 0});
  auto hits = indexes_.Search(*def_, 1, "", {1, 0.1f, 0, 0, 0, 0, 0, 0}, 3);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 3u);
  EXPECT_EQ((*hits)[0].pk_text, "1");
  EXPECT_EQ((*hits)[1].pk_text, "2");
  EXPECT_EQ((*hits)[2].pk_text, "3");
  EXPECT_EQ(indexes_.index_count(), 0u);  // no graph was built
  auto wrong = indexes_.Search(*def_, 1, "", {1, 2}, 3);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "Query vector has 2 dimensions but column 'emb' of table 'ns.docs' is EMBEDDING(8)");
}

}  // namespace
}  // namespace kalam::vector
