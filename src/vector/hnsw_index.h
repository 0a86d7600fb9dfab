// HnswIndex: one approximate-nearest-neighbour graph (hnswlib HNSW) over the vectors of one
// table scope's EMBEDDING column, addressed by the rows' PK keys.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/types.h"

namespace hnswlib {
template <typename T>
class HierarchicalNSW;
template <typename T>
class SpaceInterface;
}  // namespace hnswlib

namespace kalam::vector {

// Graph parameters. Defaults give recall@10 ≥ 0.95 on 100k × 384 clustered vectors
// (tests/unit/vector/hnsw_index_test.cc, bench/vector_bench.cc).
struct HnswParams {
  size_t m = 16;                 // links per node
  size_t ef_construction = 100;  // candidate list while inserting
  size_t ef_search = 128;        // minimum candidate list while searching
  size_t initial_capacity = 1024;  // grows by doubling
};

// Not thread-safe: the owner serialises every call (vector::VectorIndexes holds a mutex per index).
class HnswIndex {
 public:
  HnswIndex(VectorMetric metric, int dimension, HnswParams params = {});
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  // Adds the vector of the row with PK key `key` (its PK as text in `pk_text`, the row version's
  // `_seq` in `seq`), or replaces the one it had (a removed key comes back with the new vector).
  // Fails with kInvalidArgument when `v` does not have the index's dimension, kResourceExhausted
  // when the graph cannot grow.
  Status Upsert(const std::string& key, const std::string& pk_text, const std::vector<float>& v,
                int64_t seq = 0);

  // Removes `key`'s vector; no-op when it has none.
  void Remove(const std::string& key);

  struct Hit {
    std::string pk_text;
    float distance = 0;  // vector::Distance of the index's metric
  };
  // The (about) k nearest live vectors to `query`, nearest first; `ef` ≥ k widens the search
  // (0 = the default). Fails with kInvalidArgument on a dimension mismatch.
  Result<std::vector<Hit>> Search(const std::vector<float>& query, size_t k, size_t ef = 0) const;

  size_t size() const { return live_; }  // live vectors
  VectorMetric metric() const { return metric_; }

  // The `_seq` recorded for `key`'s live vector; nullopt when it has none.
  std::optional<int64_t> SeqOf(const std::string& key) const;
  // The keys with a live vector.
  std::vector<std::string> LiveKeys() const;

  // Writes the index to `path` (the keys, replaced atomically by rename) and a graph file beside
  // it that `path` names. A crash leaves the previous snapshot or the new one, never a mix.
  Status Save(const std::string& path) const;
  // Reads a snapshot written by Save. Fails (kNotFound, kCorruption) when it is missing,
  // unreadable or not of `metric` and `dimension`: the caller then builds from the rows.
  static Result<std::unique_ptr<HnswIndex>> Load(const std::string& path, VectorMetric metric,
                                                 int dimension, HnswParams params = {});

 private:
  VectorMetric metric_;
  int dimension_;
  HnswParams params_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
  size_t capacity_ = 0;
  size_t live_ = 0;
  struct Slot {
    uint64_t label = 0;
    bool live = false;
    int64_t seq = 0;
  };
  std::unordered_map<std::string, Slot> by_key_;  // PK key → graph label
  std::vector<std::string> pk_text_;               // graph label → PK as text
};

}  // namespace kalam::vector
