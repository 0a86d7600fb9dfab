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

// The candidate list (hnswlib's ef) of a search for the k nearest of n graph elements: at least
// `ef_search` and 2·k, widened beyond 100,000 elements by sqrt(n / 100,000), since at a fixed
// list recall falls as a graph grows (bench/vector_bench, docs/vectors.md).
size_t SearchEf(size_t ef_search, size_t k, size_t n);

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

  // Removes `key`'s vector (deleted or nulled by the row version `seq`); no-op when it has none.
  void Remove(const std::string& key, int64_t seq = 0);

  struct Hit {
    std::string pk_text;
    float distance = 0;  // vector::Distance of the index's metric
  };
  // The (about) k nearest live vectors to `query`, nearest first, searched with a candidate list
  // of SearchEf (or `ef` when larger). Fails with kInvalidArgument on a dimension mismatch.
  Result<std::vector<Hit>> Search(const std::vector<float>& query, size_t k, size_t ef = 0) const;

  size_t size() const { return live_; }  // live vectors
  VectorMetric metric() const { return metric_; }

  // The `_seq` recorded for `key`'s live vector; nullopt when it has none.
  std::optional<int64_t> SeqOf(const std::string& key) const;
  // The keys with a live vector.
  std::vector<std::string> LiveKeys() const;

  // Labels in the graph, removed ones included: size() plus the tombstones a rebuild drops.
  size_t elements() const { return pk_text_.size(); }
  // The newest `_seq` the index has seen (an Upsert or a Remove): its snapshot's watermark.
  int64_t max_seq() const { return max_seq_; }

  // Writes the index as one file at `path` (keys and hnswlib graph; replaced, not durable: the
  // caller copies it into an ObjectStore). `scratch` is a file name it may use meanwhile.
  Status WriteFile(const std::string& path, const std::string& scratch) const;
  // Reads a file written by WriteFile. Fails (kCorruption) when it is unreadable or not of
  // `metric` and `dimension`: the caller then builds from the rows. `scratch` as for WriteFile.
  static Result<std::unique_ptr<HnswIndex>> ReadFile(const std::string& path,
                                                     const std::string& scratch,
                                                     VectorMetric metric, int dimension,
                                                     HnswParams params = {});

 private:
  VectorMetric metric_;
  int dimension_;
  HnswParams params_;
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph_;
  size_t capacity_ = 0;
  size_t live_ = 0;
  int64_t max_seq_ = 0;
  struct Slot {
    uint64_t label = 0;
    bool live = false;
    int64_t seq = 0;
  };
  std::unordered_map<std::string, Slot> by_key_;  // PK key → graph label
  std::vector<std::string> pk_text_;               // graph label → PK as text
};

}  // namespace kalam::vector
