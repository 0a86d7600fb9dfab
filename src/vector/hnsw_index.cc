// HnswIndex over hnswlib. hnswlib throws (std::runtime_error, std::bad_alloc); every call into it
// is wrapped so that nothing crosses this file as an exception.
#include "vector/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>

#include "vector/vector_math.h"

namespace kalam::vector {

size_t SearchEf(size_t ef_search, size_t k, size_t n) {
  const double base = static_cast<double>(std::max(ef_search, 2 * k));
  const double scale = std::max(1.0, std::sqrt(static_cast<double>(n) / 100000.0));
  return static_cast<size_t>(std::ceil(base * scale));
}

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
  max_seq_ = std::max(max_seq_, seq);
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

void HnswIndex::Remove(const std::string& key, int64_t seq) {
  max_seq_ = std::max(max_seq_, seq);
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
  const size_t want =
      std::min(live_, std::max({k, ef, SearchEf(params_.ef_search, k, pk_text_.size())}));
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

// Snapshot file: magic, metric, dimension, max `_seq`, the label count, one record per graph
// label (key, PK text, `_seq`, live), the graph's size, then hnswlib's graph file as it wrote it.
namespace {

constexpr char kMagic[8] = {'K', 'V', 'I', 'X', '0', '0', '2', '\n'};
constexpr size_t kCopyChunk = 1 << 20;

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
// Copies `n` bytes from `in` to `out`; false when `in` ends first or `out` fails.
bool CopyBytes(std::istream& in, std::ostream& out, uint64_t n) {
  std::vector<char> buf(kCopyChunk);
  while (n > 0) {
    const auto chunk = static_cast<std::streamsize>(std::min<uint64_t>(n, buf.size()));
    if (!in.read(buf.data(), chunk)) return false;
    if (!out.write(buf.data(), chunk)) return false;
    n -= static_cast<uint64_t>(chunk);
  }
  return true;
}

}  // namespace

Status HnswIndex::WriteFile(const std::string& path, const std::string& scratch) const {
  std::error_code ignored;  // scratch files are ours; a failed removal only costs space
  try {
    graph_->saveIndex(scratch);
  } catch (const std::exception& e) {
    std::filesystem::remove(scratch, ignored);
    return Status::IoError("Cannot write vector index graph '" + scratch + "': " + e.what());
  }
  std::error_code ec;
  const uint64_t graph_size = std::filesystem::file_size(scratch, ec);
  std::ifstream graph(scratch, std::ios::binary);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  bool ok = !ec && graph && out;
  if (ok) {
    out.write(kMagic, 8);
    PutU64(out, static_cast<uint64_t>(metric_));
    PutU64(out, static_cast<uint64_t>(dimension_));
    PutU64(out, static_cast<uint64_t>(max_seq_));
    std::vector<const std::pair<const std::string, Slot>*> by_label(pk_text_.size(), nullptr);
    for (const auto& entry : by_key_) by_label[entry.second.label] = &entry;
    PutU64(out, by_label.size());
    for (size_t label = 0; label < by_label.size(); ++label) {
      PutStr(out, by_label[label]->first);
      PutStr(out, pk_text_[label]);
      PutU64(out, static_cast<uint64_t>(by_label[label]->second.seq));
      PutU64(out, by_label[label]->second.live ? 1 : 0);
    }
    PutU64(out, graph_size);
    ok = CopyBytes(graph, out, graph_size);
    out.flush();
    ok = ok && static_cast<bool>(out);
  }
  graph.close();
  std::filesystem::remove(scratch, ignored);
  if (!ok) return Status::IoError("Cannot write vector index snapshot '" + path + "'");
  return Status::OK();
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::ReadFile(const std::string& path,
                                                       const std::string& scratch,
                                                       VectorMetric metric, int dimension,
                                                       HnswParams params) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("No vector index snapshot at '" + path + "'");
  auto corrupt = [&] {
    return Status::Corruption("Vector index snapshot '" + path + "' is unreadable");
  };
  char magic[8];
  uint64_t stored_metric = 0, dim = 0, max_seq = 0, count = 0;
  if (!in.read(magic, 8) || std::memcmp(magic, kMagic, 8) != 0 || !GetU64(in, &stored_metric) ||
      !GetU64(in, &dim) || !GetU64(in, &max_seq) || !GetU64(in, &count)) {
    return corrupt();
  }
  if (stored_metric != static_cast<uint64_t>(metric) || dim != static_cast<uint64_t>(dimension)) {
    return Status::Corruption("Vector index snapshot '" + path + "' is of another metric or size");
  }
  auto index = std::make_unique<HnswIndex>(metric, dimension, params);
  index->max_seq_ = static_cast<int64_t>(max_seq);
  if (count > (uint64_t{1} << 40)) return corrupt();
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
  uint64_t graph_size = 0;
  if (index->by_key_.size() != count || !GetU64(in, &graph_size)) return corrupt();
  {
    std::ofstream graph(scratch, std::ios::binary | std::ios::trunc);
    if (!CopyBytes(in, graph, graph_size) || in.peek() != EOF || !graph.flush()) {
      std::error_code ignored;  // our scratch file
      std::filesystem::remove(scratch, ignored);
      return corrupt();
    }
  }
  Status loaded;
  try {
    auto graph =
        std::make_unique<hnswlib::HierarchicalNSW<float>>(index->space_.get(), scratch);
    if (graph->cur_element_count != count) {
      loaded = corrupt();
    } else {
      graph->setEf(params.ef_search);
      index->capacity_ = graph->max_elements_;
      index->graph_ = std::move(graph);
    }
  } catch (const std::exception&) {
    loaded = corrupt();
  }
  std::error_code ignored;  // our scratch file
  std::filesystem::remove(scratch, ignored);
  if (!loaded.ok()) return loaded;
  return index;
}

}  // namespace kalam::vector
