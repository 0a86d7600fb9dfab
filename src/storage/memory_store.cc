// The in-memory KvStore for tests: one ordered map per partition, shared copy-on-write so that
// snapshots and iterators are just references to the maps they captured.
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <utility>

#include "storage/kv_store.h"

namespace kalam::storage {
namespace {

// std::string compares bytes as unsigned char, which is RocksDB's bytewise order.
using Map = std::map<std::string, std::string, std::less<>>;
using Maps = std::array<std::shared_ptr<const Map>, kPartitionCount>;

bool IsValid(Partition p) { return static_cast<int>(p) < kPartitionCount; }

Status BadPartition(Partition p) {
  return Status::InvalidArgument("Unknown storage partition " +
                                 std::to_string(static_cast<int>(p)));
}

// The maps of every partition as of one moment. Immutable.
class MemorySnapshot final : public KvSnapshot {
 public:
  MemorySnapshot(const void* owner, Maps maps) : owner_(owner), maps_(std::move(maps)) {}
  const void* owner() const { return owner_; }
  const std::shared_ptr<const Map>& map(Partition p) const {
    return maps_[static_cast<size_t>(p)];
  }

 private:
  const void* const owner_;  // the store that made it, to reject foreign snapshots
  const Maps maps_;
};


// Iterates one immutable map it co-owns, so writes to the store never disturb it. Bounds follow
// RocksDB: keys in [lower, upper), empty = unbounded; seeks outside the bounds are clamped.
class MemoryIterator final : public KvIterator {
 public:
  MemoryIterator(std::shared_ptr<const Map> map, std::string lower, std::string upper)
      : map_(std::move(map)), lower_(std::move(lower)), upper_(std::move(upper)),
        it_(map_->end()) {}

  void Seek(std::string_view key) override {
    if (key < std::string_view(lower_)) key = lower_;
    it_ = map_->lower_bound(key);
    CheckUpper();
  }
  void SeekForPrev(std::string_view key) override {
    if (!upper_.empty() && key >= std::string_view(upper_)) {
      SeekToLast();
      return;
    }
    it_ = map_->upper_bound(key);  // first key > target; step back once
    StepBack();
  }
  void SeekToFirst() override { Seek(lower_); }
  void SeekToLast() override {
    it_ = upper_.empty() ? map_->end() : map_->lower_bound(upper_);
    StepBack();
  }
  bool Valid() const override { return it_ != map_->end(); }
  void Next() override {
    ++it_;
    CheckUpper();
  }
  void Prev() override { StepBack(); }
  std::string_view key() const override { return it_->first; }
  std::string_view value() const override { return it_->second; }
  Status status() const override { return Status::OK(); }

 private:
  void CheckUpper() {
    if (it_ != map_->end() && !upper_.empty() && it_->first >= upper_) it_ = map_->end();
  }
  // Moves to the entry before it_ (end() = past the last), invalid when there is none or it is
  // below the lower bound.
  void StepBack() {
    if (it_ == map_->begin()) {
      it_ = map_->end();
      return;
    }
    --it_;
    if (it_->first < lower_) it_ = map_->end();
  }

  const std::shared_ptr<const Map> map_;
  const std::string lower_;
  const std::string upper_;
  Map::const_iterator it_;  // end() = not valid
};

// Thread-safe. Writers mutate a partition's map in place when nobody else holds it, and copy it
// first when a snapshot or iterator does (copy-on-write).
class MemoryStore final : public KvStore {
 public:
  MemoryStore() {
    for (auto& m : maps_) m = std::make_shared<Map>();
  }

  Result<std::optional<std::string>> Get(Partition p, std::string_view key,
                                         const KvSnapshot* snapshot) override {
    KALAM_ASSIGN_OR_RETURN(auto map, MapFor(p, snapshot));
    auto it = map->find(key);
    if (it == map->end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Result<std::vector<std::optional<std::string>>> MultiGet(
      Partition p, const std::vector<std::string>& keys, const KvSnapshot* snapshot) override {
    KALAM_ASSIGN_OR_RETURN(auto map, MapFor(p, snapshot));
    std::vector<std::optional<std::string>> out(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = map->find(keys[i]);
      if (it != map->end()) out[i] = it->second;
    }
    return out;
  }

  Status Write(const WriteBatch& batch, const WriteOptions&) override {
    for (const auto& op : batch.ops()) {
      if (!IsValid(op.partition)) return BadPartition(op.partition);
    }
    std::lock_guard lock(mu_);
    std::array<bool, kPartitionCount> owned{};
    for (const auto& op : batch.ops()) {
      auto index = static_cast<size_t>(op.partition);
      if (!owned[index]) {
        MakeExclusive(maps_[index]);
        owned[index] = true;
      }
      Map& map = *maps_[index];
      switch (op.kind) {
        case WriteBatch::OpKind::kPut: map.insert_or_assign(op.key, op.value); break;
        case WriteBatch::OpKind::kDelete: map.erase(op.key); break;
        case WriteBatch::OpKind::kDeleteRange:
          if (op.key < op.value) map.erase(map.lower_bound(op.key), map.lower_bound(op.value));
          break;
      }
    }
    return Status::OK();
  }

  std::unique_ptr<KvIterator> NewIterator(Partition p, const ReadOptions& options) override {
    auto map = MapFor(p, options.snapshot);
    if (!map.ok()) return NewErrorIterator(map.status());
    return std::make_unique<MemoryIterator>(std::move(map).value(), options.lower_bound,
                                            options.upper_bound);
  }

  std::shared_ptr<const KvSnapshot> GetSnapshot() override {
    Maps maps;
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < maps.size(); ++i) maps[i] = maps_[i];
    }
    return std::make_shared<MemorySnapshot>(this, std::move(maps));
  }

  Status Flush() override { return Status::OK(); }
  Status Checkpoint(const std::string& dir) override {
    return Status::FailedPrecondition("The in-memory store cannot write a checkpoint to '" + dir +
                                      "'");
  }

  uint64_t ApproximateSize(Partition p, std::string_view begin, std::string_view end) override {
    auto map = MapFor(p, nullptr);
    if (!map.ok()) return 0;
    uint64_t bytes = 0;
    const Map& m = **map;
    if (!end.empty() && end <= begin) return 0;
    auto last = end.empty() ? m.end() : m.lower_bound(end);
    for (auto it = m.lower_bound(begin); it != last; ++it) {
      bytes += it->first.size() + it->second.size();
    }
    return bytes;
  }

 private:
  // The map to read: the snapshot's, or (shared, so it stays immutable to the reader) the current.
  Result<std::shared_ptr<const Map>> MapFor(Partition p, const KvSnapshot* snapshot) {
    if (!IsValid(p)) return BadPartition(p);
    if (snapshot != nullptr) {
      auto* mine = dynamic_cast<const MemorySnapshot*>(snapshot);
      if (mine == nullptr || mine->owner() != this) {
        return Status::InvalidArgument("Snapshot belongs to another store");
      }
      return mine->map(p);
    }
    std::lock_guard lock(mu_);
    return std::shared_ptr<const Map>(maps_[static_cast<size_t>(p)]);
  }

  // Ensures `map` is referenced only by this store, copying it if a reader shares it. Only called
  // with mu_ held. Readers gain references only under mu_, so a count of 1 cannot grow
  // concurrently; the acquire fence pairs with the release decrement of the last reader that
  // dropped its reference, so its reads happen before our writes.
  static void MakeExclusive(std::shared_ptr<Map>& map) {
    if (map.use_count() == 1) {
      std::atomic_thread_fence(std::memory_order_acquire);
      return;
    }
    map = std::make_shared<Map>(*map);
  }

  std::mutex mu_;
  // One map per partition, guarded by mu_ (the pointers and, while unshared, the maps).
  std::array<std::shared_ptr<Map>, kPartitionCount> maps_;
};

}  // namespace

std::unique_ptr<KvStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

}  // namespace kalam::storage
