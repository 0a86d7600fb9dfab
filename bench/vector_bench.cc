// vector_bench: HNSW index build time and k=10 query latency (p50/p99) and recall@10 against
// exact brute force, on synthetic clustered 384-d vectors (docs/benchmarks.md): with the default
// candidate list (vector::SearchEf) and with fixed lists 64 to 512.
//   vector_bench [N …]   (default: 100000)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "../tests/unit/vector/vector_test_data.h"
#include "vector/hnsw_index.h"
#include "vector/vector_math.h"

namespace {

using Clock = std::chrono::steady_clock;
using kalam::VectorMetric;
using kalam::vector::HnswIndex;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void Run(size_t n) {
  constexpr size_t kDim = 384, kK = 10, kQueries = 200, kBruteQueries = 50;
  auto data = kalam::vector::testing::ClusteredVectors(n, kDim, 100, 0.5f, 11);
  auto queries = kalam::vector::testing::NearQueries(data, kQueries, 0.3f, 12);
  // ef_search 1: every search below uses the list it asks for (at least 2·k, scaled with n).
  kalam::vector::HnswParams params;
  params.ef_search = 1;
  HnswIndex index(VectorMetric::kCosine, kDim, params);
  const auto t0 = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    if (!index.Upsert("k" + std::to_string(i), std::to_string(i), data[i]).ok()) std::abort();
  }
  const double build_s = Ms(Clock::now() - t0) / 1000;
  std::vector<double> brute_ms;
  std::vector<std::vector<size_t>> exact(kBruteQueries);
  for (size_t q = 0; q < kBruteQueries; ++q) {
    const auto b = Clock::now();
    exact[q] = kalam::vector::testing::ExactKnn(data, queries[q], kK, VectorMetric::kCosine);
    brute_ms.push_back(Ms(Clock::now() - b));
  }
  std::printf("N=%zu dim=%zu: build %.1f s (%.0f vectors/s); brute force p50 %.1f ms p99 %.1f ms\n",
              n, kDim, build_s, static_cast<double>(n) / build_s, Percentile(brute_ms, 0.5),
              Percentile(brute_ms, 0.99));
  // The default (ef_search 128 widened by SearchEf), then fixed lists for comparison.
  const size_t policy = kalam::vector::SearchEf(128, kK, n);
  std::vector<size_t> lists = {policy};
  for (size_t ef : {64, 128, 256, 512}) {
    if (ef != policy) lists.push_back(ef);
  }
  for (size_t ef : lists) {
    std::vector<double> ann_ms;
    size_t found = 0, checked = 0;
    for (size_t q = 0; q < kQueries; ++q) {
      const auto s = Clock::now();
      auto hits = index.Search(queries[q], kK, ef);
      ann_ms.push_back(Ms(Clock::now() - s));
      if (!hits.ok()) std::abort();
      if (q < kBruteQueries) {
        std::set<std::string> got;
        for (const auto& h : *hits) got.insert(h.pk_text);
        for (size_t i : exact[q]) found += got.count(std::to_string(i));
        checked += kK;
      }
    }
    std::printf("  ef %zu%s: HNSW k=10 p50 %.3f ms p99 %.3f ms; recall@10 %.3f\n", ef,
                ef == policy ? " (default: ef_search 128)" : "", Percentile(ann_ms, 0.5),
                Percentile(ann_ms, 0.99),
                static_cast<double>(found) / static_cast<double>(checked));
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Run(100000);
    return 0;
  }
  for (int i = 1; i < argc; ++i) Run(std::strtoull(argv[i], nullptr, 10));
  return 0;
}
