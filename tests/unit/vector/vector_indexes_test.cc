// VectorIndexes over a real commit pipeline and table store: built from the rows, kept current by
// the commit hook (also while it is being built), scopes apart, exact search without an index.
#include "vector/vector_indexes.h"

#include <gtest/gtest.h>

#include <unistd.h>

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
  void TearDown() override { pipeline_.Stop(); }

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
  table::TableStore store_{*kv_};
  VectorIndexes indexes_{store_};
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

TEST_F(VectorIndexesTest, SnapshotsAreLoadedAndReconciledWithTheRows) {
  const std::string dir = ::testing::TempDir() + "/vix_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  VectorIndexes saved(store_, dir);
  for (int i = 0; i < 100; ++i) Write("u1", i, Random());
  const auto q = Random();
  EXPECT_EQ(saved.Search(*def_, 1, "u1", q, 10)->size(), 10u);  // builds
  ASSERT_TRUE(saved.SaveAll().ok());
  // Written after the snapshot (as if the server had been killed since): the snapshot is stale.
  const auto before = Exact("u1", q, 3);
  Write("u1", std::stoll(before[0]), {});             // deleted
  Write("u1", std::stoll(before[1]), std::vector<float>(kDim, 50.0f));  // moved away
  Write("u1", 500, q);                                // new
  VectorIndexes restarted(store_, dir);
  auto hits = restarted.Search(*def_, 1, "u1", q, 10);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(restarted.snapshot_loads(), 1u);
  std::vector<std::string> got;
  for (const auto& h : *hits) got.push_back(h.pk_text);
  EXPECT_EQ(got, Exact("u1", q, 10));
  EXPECT_EQ(got[0], "500");
  // An unreadable snapshot is ignored: the graph is built from the rows.
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().extension() != ".graph") std::ofstream(f.path()) << "garbage";
  }
  VectorIndexes corrupt(store_, dir);
  hits = corrupt.Search(*def_, 1, "u1", q, 10);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(corrupt.snapshot_loads(), 0u);
  got.clear();
  for (const auto& h : *hits) got.push_back(h.pk_text);
  EXPECT_EQ(got, Exact("u1", q, 10));
  std::filesystem::remove_all(dir);
}

// A dropped table or index: its graphs leave memory and its snapshots the disk, and nothing of
// another table (even one whose id starts with the same digits) goes with them.
TEST_F(VectorIndexesTest, ForgetDropsTheIndexesAndSnapshotsOfOneTableOrColumn) {
  const std::string dir = ::testing::TempDir() + "/vix_forget_" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  VectorIndexes idx(store_, dir);
  for (int i = 0; i < 20; ++i) {
    Write("u1", i, Random());
    Write("u2", i, Random());
  }
  const auto q = Random();
  ASSERT_EQ(idx.Search(*def_, 1, "u1", q, 5)->size(), 5u);
  ASSERT_EQ(idx.Search(*def_, 1, "u2", q, 5)->size(), 5u);
  ASSERT_EQ(idx.index_count(), 2u);
  ASSERT_TRUE(idx.SaveAll().ok());
  const std::string other = dir + "/vix-" + std::to_string(def_->table_id) + "0-1-1-s00";
  std::ofstream(other) << "another table's snapshot";
  auto own_files = [&] {
    size_t n = 0;
    const std::string prefix = "vix-" + std::to_string(def_->table_id) + "-";
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      n += f.path().filename().string().starts_with(prefix) ? 1 : 0;
    }
    return n;
  };
  ASSERT_GT(own_files(), 0u);
  ASSERT_TRUE(idx.Forget(def_->table_id, 99).ok());  // another column: nothing changes
  EXPECT_EQ(idx.index_count(), 2u);
  EXPECT_GT(own_files(), 0u);
  ASSERT_TRUE(idx.Forget(def_->table_id).ok());
  EXPECT_EQ(idx.index_count(), 0u);
  EXPECT_EQ(own_files(), 0u);
  EXPECT_TRUE(std::filesystem::exists(other));
  // Searching again builds from the rows: nothing was lost but derived data.
  EXPECT_EQ(idx.Search(*def_, 1, "u1", q, 5)->size(), 5u);
  EXPECT_EQ(idx.snapshot_loads(), 0u);
  std::filesystem::remove_all(dir);
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
