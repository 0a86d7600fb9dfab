// HnswIndex over hnswlib. hnswlib throws (std::runtime_error, std::bad_alloc); every call into it
// is wrapped so that nothing crosses this file as an exception.
#include "vector/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <exception>

#include "vector/vector_math.h"

namespace kalam::vector {

HnswIndex::HnswIndex(VectorMetric metric, int dimension, HnswParams params)
    : metric_(metric), dimension_(dimension), params_(params) {
  // Cosine: unit vectors under inner product (distance 1 − a·b = 1 − cos).
  if (metric == VectorMetric::kL2) {
    space_ = std::make_unique<hnswlib::L2Space>(static_cast<size_t>(dimension));
  } else {
    space_ = std::make_unique<hnswlib::InnerProductSpace>(static_cast<size_t>(dimension));
  }
  capacity_ = std::max<size_t>(params_.initial_capacity, 16);
  graph_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(space_.get(), capacity_, params_.m,
                                                             params_.ef_construction);
  graph_->setEf(params_.ef_search);
}

HnswIndex::~HnswIndex() = default;

Status HnswIndex::Upsert(const std::string& key, const std::string& pk_text,
                         const std::vector<float>& v) {
  if (static_cast<int>(v.size()) != dimension_) {
    return Status::InvalidArgument("vector has " + std::to_string(v.size()) +
                                   " dimensions, the index " + std::to_string(dimension_));
  }
  std::vector<float> point = v;
  if (metric_ == VectorMetric::kCosine) Normalize(&point);
  auto it = by_key_.find(key);
  try {
    if (it == by_key_.end()) {
      if (pk_text_.size() >= capacity_) {
        graph_->resizeIndex(capacity_ * 2);
        capacity_ *= 2;
      }
      const uint64_t label = pk_text_.size();
      graph_->addPoint(point.data(), label);
      pk_text_.push_back(pk_text);
      by_key_.emplace(key, Slot{label, true});
      ++live_;
      return Status::OK();
    }
    // An existing label is updated in place (and unmarked if it was removed).
    graph_->addPoint(point.data(), it->second.label);
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("Vector index cannot add a vector: ") + e.what());
  }
  if (!it->second.live) ++live_;
  it->second.live = true;
  pk_text_[it->second.label] = pk_text;
  return Status::OK();
}

void HnswIndex::Remove(const std::string& key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end() || !it->second.live) return;
  try {
    graph_->markDelete(it->second.label);
  } catch (const std::exception&) {
    // Only thrown for an unknown or already deleted label, which `live` rules out.
  }
  it->second.live = false;
  --live_;
}

Result<std::vector<HnswIndex::Hit>> HnswIndex::Search(const std::vector<float>& query, size_t k,
                                                      size_t ef) const {
  if (static_cast<int>(query.size()) != dimension_) {
    return Status::InvalidArgument("query vector has " + std::to_string(query.size()) +
                                   " dimensions, the column " + std::to_string(dimension_));
  }
  std::vector<Hit> hits;
  if (live_ == 0 || k == 0) return hits;
  std::vector<float> q = query;
  if (metric_ == VectorMetric::kCosine) Normalize(&q);
  // hnswlib searches with a candidate list of max(ef, k) and returns its k best.
  const size_t want = std::min(live_, std::max(k, ef));
  std::priority_queue<std::pair<float, hnswlib::labeltype>> found;
  try {
    found = graph_->searchKnn(q.data(), want);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("Vector index search failed: ") + e.what());
  }
  hits.resize(found.size());
  for (size_t i = found.size(); i-- > 0;) {  // the queue pops farthest first
    hits[i] = Hit{pk_text_[found.top().second], found.top().first};
    found.pop();
  }
  if (hits.size() > k) hits.resize(k);
  return hits;
}

}  // namespace kalam::vector
