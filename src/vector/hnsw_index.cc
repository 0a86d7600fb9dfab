// HnswIndex over hnswlib. hnswlib throws (std::runtime_error, std::bad_alloc); every call into it
// is wrapped so that nothing crosses this file as an exception.
#include "vector/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>

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
                         const std::vector<float>& v, int64_t seq) {
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
      by_key_.emplace(key, Slot{label, true, seq});
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
  it->second.seq = seq;
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

std::optional<int64_t> HnswIndex::SeqOf(const std::string& key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end() || !it->second.live) return std::nullopt;
  return it->second.seq;
}

std::vector<std::string> HnswIndex::LiveKeys() const {
  std::vector<std::string> out;
  out.reserve(live_);
  for (const auto& [key, slot] : by_key_) {
    if (slot.live) out.push_back(key);
  }
  return out;
}

// Snapshot keys file: magic, metric, dimension, the graph file's token, then one record per graph
// label: key, PK text, `_seq`, live. The graph itself is hnswlib's file "<path>.<token>.graph".
namespace {

constexpr char kMagic[8] = {'K', 'V', 'I', 'X', '0', '0', '1', '\n'};

void PutU64(std::ostream& out, uint64_t v) { out.write(reinterpret_cast<const char*>(&v), 8); }
void PutStr(std::ostream& out, const std::string& s) {
  PutU64(out, s.size());
  out.write(s.data(), static_cast<std::streamsize>(s.size()));
}
bool GetU64(std::istream& in, uint64_t* v) {
  return static_cast<bool>(in.read(reinterpret_cast<char*>(v), 8));
}
bool GetStr(std::istream& in, std::string* s) {
  uint64_t n = 0;
  if (!GetU64(in, &n) || n > (1u << 20)) return false;
  s->resize(n);
  return static_cast<bool>(in.read(s->data(), static_cast<std::streamsize>(n)));
}
std::string GraphPath(const std::string& path, uint64_t token) {
  return path + "." + std::to_string(token) + ".graph";
}
// The token of the snapshot at `path`, or 0.
uint64_t CurrentToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8];
  uint64_t metric = 0, dim = 0, token = 0;
  if (!in.read(magic, 8) || !GetU64(in, &metric) || !GetU64(in, &dim) || !GetU64(in, &token)) {
    return 0;
  }
  return token;
}

}  // namespace

Status HnswIndex::Save(const std::string& path) const {
  const uint64_t old_token = CurrentToken(path);
  uint64_t token = std::random_device{}();
  token = (token << 32) ^ std::random_device{}();
  if (token == 0 || token == old_token) ++token;
  const std::string graph = GraphPath(path, token);
  try {
    graph_->saveIndex(graph);
  } catch (const std::exception& e) {
    return Status::IoError("Cannot write vector index graph '" + graph + "': " + e.what());
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kMagic, 8);
    PutU64(out, static_cast<uint64_t>(metric_));
    PutU64(out, static_cast<uint64_t>(dimension_));
    PutU64(out, token);
    std::vector<const std::pair<const std::string, Slot>*> by_label(pk_text_.size(), nullptr);
    for (const auto& entry : by_key_) by_label[entry.second.label] = &entry;
    PutU64(out, by_label.size());
    for (size_t label = 0; label < by_label.size(); ++label) {
      PutStr(out, by_label[label]->first);
      PutStr(out, pk_text_[label]);
      PutU64(out, static_cast<uint64_t>(by_label[label]->second.seq));
      PutU64(out, by_label[label]->second.live ? 1 : 0);
    }
    out.flush();
    if (!out) {
      std::error_code ignored;  // the graph file is unreferenced: remove it if we can
      std::filesystem::remove(graph, ignored);
      return Status::IoError("Cannot write vector index keys '" + tmp + "'");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IoError("Cannot replace vector index '" + path + "': " + ec.message());
  if (old_token != 0) {
    std::error_code ignored;  // an old graph left behind is only wasted space
    std::filesystem::remove(GraphPath(path, old_token), ignored);
  }
  return Status::OK();
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Load(const std::string& path, VectorMetric metric,
                                                   int dimension, HnswParams params) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("No vector index snapshot at '" + path + "'");
  auto corrupt = [&] {
    return Status::Corruption("Vector index snapshot '" + path + "' is unreadable");
  };
  char magic[8];
  uint64_t stored_metric = 0, dim = 0, token = 0, count = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 || !GetU64(in, &stored_metric) ||
      !GetU64(in, &dim) || !GetU64(in, &token) || !GetU64(in, &count)) {
    return corrupt();
  }
  if (stored_metric != static_cast<uint64_t>(metric) || dim != static_cast<uint64_t>(dimension)) {
    return Status::Corruption("Vector index snapshot '" + path + "' is of another metric or size");
  }
  auto index = std::make_unique<HnswIndex>(metric, dimension, params);
  index->pk_text_.resize(count);
  for (uint64_t label = 0; label < count; ++label) {
    std::string key;
    uint64_t seq = 0, live = 0;
    if (!GetStr(in, &key) || !GetStr(in, &index->pk_text_[label]) || !GetU64(in, &seq) ||
        !GetU64(in, &live)) {
      return corrupt();
    }
    index->by_key_[key] = Slot{label, live != 0, static_cast<int64_t>(seq)};
    if (live != 0) ++index->live_;
  }
  if (index->by_key_.size() != count) return corrupt();
  try {
    auto graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space_.get(),
                                                                   GraphPath(path, token));
    if (graph->cur_element_count != count) return corrupt();
    graph->setEf(params.ef_search);
    index->capacity_ = graph->max_elements_;
    index->graph_ = std::move(graph);
  } catch (const std::exception&) {
    return corrupt();
  }
  return index;
}

}  // namespace kalam::vector
