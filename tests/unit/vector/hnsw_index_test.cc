// HnswIndex and vector math: exact updates and deletes, and recall against exact search.
#include "vector/hnsw_index.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <string>

#include "vector/vector_math.h"
#include "vector_test_data.h"

namespace kalam::vector {
namespace {

std::vector<std::string> Keys(const std::vector<HnswIndex::Hit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.pk_text);
  return out;
}

TEST(VectorMathTest, ParsesJsonArrays) {
  auto v = ParseVectorText(" [1, -2.5 ,3e1] ");
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(*v, (std::vector<float>{1.0f, -2.5f, 30.0f}));
  auto empty = ParseVectorText("[]");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  for (const char* bad : {"", "1,2", "[1,", "[1 2]", "[1,]x", "[\"a\"]", "[nan]", "[1] 2"}) {
    auto r = ParseVectorText(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    }
  }
}

TEST(VectorMathTest, DistancesAndScores) {
  const float a[] = {1, 0}, b[] = {0, 1}, z[] = {0, 0}, c[] = {2, 0};
  EXPECT_FLOAT_EQ(Distance(VectorMetric::kCosine, a, b, 2), 1.0f);
  EXPECT_FLOAT_EQ(Distance(VectorMetric::kCosine, a, c, 2), 0.0f);
  EXPECT_FLOAT_EQ(Distance(VectorMetric::kCosine, a, z, 2), 1.0f);  // zero norm
  EXPECT_FLOAT_EQ(Distance(VectorMetric::kL2, a, c, 2), 1.0f);        // squared
  EXPECT_FLOAT_EQ(Distance(VectorMetric::kL2, b, c, 2), 5.0f);
  EXPECT_FLOAT_EQ(Distance(VectorMetric::kDot, a, c, 2), -1.0f);     // 1 − 2
  EXPECT_FLOAT_EQ(Score(VectorMetric::kCosine, 0.25f), 0.75f);
  EXPECT_FLOAT_EQ(Score(VectorMetric::kDot, -1.0f), 2.0f);
  EXPECT_FLOAT_EQ(Score(VectorMetric::kL2, 5.0f), -5.0f);
}

TEST(HnswIndexTest, UpsertRemoveAndReplace) {
  HnswIndex index(VectorMetric::kL2, 2, HnswParams{.initial_capacity = 16});
  for (int i = 0; i < 100; ++i) {  // grows past the initial capacity
    ASSERT_TRUE(index.Upsert("k" + std::to_string(i), std::to_string(i),
                             {static_cast<float>(i), 0}).ok());
  }
  EXPECT_EQ(index.size(), 100u);
  auto hits = index.Search({10.2f, 0}, 3);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Keys(*hits), (std::vector<std::string>{"10", "11", "9"}));
  EXPECT_NEAR((*hits)[0].distance, 0.04f, 1e-4);

  index.Remove("k10");
  index.Remove("k10");       // twice: no-op
  index.Remove("missing");   // unknown: no-op
  EXPECT_EQ(index.size(), 99u);
  hits = index.Search({10.2f, 0}, 3);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Keys(*hits), (std::vector<std::string>{"11", "9", "12"}));

  // Moving a row's vector: it is found at its new place only.
  ASSERT_TRUE(index.Upsert("k11", "11", {500, 0}).ok());
  hits = index.Search({10.2f, 0}, 2);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Keys(*hits), (std::vector<std::string>{"9", "12"}));
  // A removed key comes back with its new vector.
  ASSERT_TRUE(index.Upsert("k10", "10", {-50, 0}).ok());
  EXPECT_EQ(index.size(), 100u);
  hits = index.Search({-49, 0}, 1);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Keys(*hits), (std::vector<std::string>{"10"}));

  EXPECT_EQ(index.Upsert("k1", "1", {1, 2, 3}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.Search({1, 2, 3}, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(HnswIndexTest, CosineAndDotOrder) {
  HnswIndex cosine(VectorMetric::kCosine, 2);
  HnswIndex dot(VectorMetric::kDot, 2);
  for (auto* index : {&cosine, &dot}) {
    ASSERT_TRUE(index->Upsert("a", "a", {1, 0}).ok());
    ASSERT_TRUE(index->Upsert("b", "b", {10, 10}).ok());
    ASSERT_TRUE(index->Upsert("c", "c", {0, 3}).ok());
  }
  auto hits = cosine.Search({2, 0.1f}, 3);  // by angle: a, b, c
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Keys(*hits), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_NEAR((*hits)[0].distance, Distance(VectorMetric::kCosine, std::vector<float>{1, 0}.data(),
                                           std::vector<float>{2, 0.1f}.data(), 2), 1e-5);
  hits = dot.Search({2, 0.1f}, 3);  // by inner product: b (21), a (2), c (0.3)
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(Keys(*hits), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_NEAR((*hits)[0].distance, 1.0f - 21.0f, 1e-4);
}

// recall@10 of the default parameters against exact search: `n` clustered 384-d vectors, 100
// queries near them.
double RecallAt10(VectorMetric metric, size_t n, size_t clusters, uint32_t seed) {
  constexpr size_t kDim = 384, kQueries = 100, kK = 10;
  auto data = testing::ClusteredVectors(n, kDim, clusters, 0.5f, seed);
  auto queries = testing::NearQueries(data, kQueries, 0.3f, seed + 1);
  HnswIndex index(metric, kDim);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_TRUE(index.Upsert("k" + std::to_string(i), std::to_string(i), data[i]).ok());
  }
  size_t found = 0;
  for (const auto& q : queries) {
    auto hits = index.Search(q, kK);
    EXPECT_TRUE(hits.ok() && hits->size() == kK);
    if (!hits.ok()) return 0;
    const std::vector<std::string> keys = Keys(*hits);
    const std::set<std::string> got(keys.begin(), keys.end());
    for (size_t i : testing::ExactKnn(data, q, kK, metric)) found += got.count(std::to_string(i));
  }
  return static_cast<double>(found) / (kQueries * kK);
}

TEST(HnswIndexTest, RecallAt10OnClusteredVectors) {
  for (VectorMetric metric : {VectorMetric::kCosine, VectorMetric::kL2}) {
    EXPECT_GE(RecallAt10(metric, 20000, 50, 7), 0.95) << VectorMetricName(metric);
  }
}

// The scale: 100,000 vectors (cosine; L2 is covered at 20,000 above). About 30 s on two
// quiet cores.
TEST(HnswIndexTest, RecallAt10On100kClusteredVectors) {
  const double recall = RecallAt10(VectorMetric::kCosine, 100000, 100, 11);
  std::printf("recall@10 on 100000 x 384 clustered vectors: %.3f\n", recall);
  EXPECT_GE(recall, 0.95);
}

}  // namespace
}  // namespace kalam::vector
