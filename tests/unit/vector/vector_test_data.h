// Synthetic clustered vectors for the vector index tests and bench/vector_bench.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "vector/vector_math.h"

namespace kalam::vector::testing {

// n vectors of `dim` floats around `clusters` random centres (Gaussian, spread `spread`).
inline std::vector<std::vector<float>> ClusteredVectors(size_t n, size_t dim, size_t clusters,
                                                        float spread, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(dim));
  for (auto& c : centres) {
    for (float& x : c) x = gauss(rng);
  }
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (size_t i = 0; i < n; ++i) {
    const auto& c = centres[rng() % clusters];
    for (size_t d = 0; d < dim; ++d) out[i][d] = c[d] + spread * gauss(rng);
  }
  return out;
}

// `count` queries, each a stored vector (every (n/count)-th) moved by Gaussian noise of `noise`:
// like real queries, they have near neighbours (a query from the clusters' distribution at large
// has none in 384 dimensions: every point of its cluster is about equally far).
inline std::vector<std::vector<float>> NearQueries(const std::vector<std::vector<float>>& data,
                                                   size_t count, float noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<std::vector<float>> out;
  const size_t step = std::max<size_t>(1, data.size() / count);
  for (size_t i = 0; i < count; ++i) {
    std::vector<float> q = data[(i * step) % data.size()];
    for (float& x : q) x += noise * gauss(rng);
    out.push_back(std::move(q));
  }
  return out;
}

// The indexes of the k nearest of `data` to `q` under `metric`, nearest first.
inline std::vector<size_t> ExactKnn(const std::vector<std::vector<float>>& data,
                                    const std::vector<float>& q, size_t k, VectorMetric metric) {
  std::vector<std::pair<float, size_t>> d(data.size());
  for (size_t i = 0; i < data.size(); ++i) {
    d[i] = {Distance(metric, data[i].data(), q.data(), q.size()), i};
  }
  k = std::min(k, d.size());
  std::partial_sort(d.begin(), d.begin() + static_cast<ptrdiff_t>(k), d.end());
  std::vector<size_t> out(k);
  for (size_t i = 0; i < k; ++i) out[i] = d[i].second;
  return out;
}

}  // namespace kalam::vector::testing
