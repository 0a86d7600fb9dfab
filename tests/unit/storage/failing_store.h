// FailingStore: a KvStore over another one whose writes can be made to fail on demand, for tests
// of how callers surface a storage error (a full disk, a broken WAL).
#pragma once

#include <atomic>
#include <memory>

#include "storage/kv_store.h"

namespace kalam::storage {

// Forwards everything to `base` (which must outlive it), except that while FailWrites(true) is in
// effect every Write returns kIoError and changes nothing. Thread-safe.
class FailingStore final : public KvStore {
 public:
  explicit FailingStore(KvStore& base) : base_(base) {}

  void FailWrites(bool fail) { fail_writes_.store(fail); }
  // Writes refused so far.
  int failed_writes() const { return failed_writes_.load(); }

  Result<std::optional<std::string>> Get(Partition p, std::string_view key,
                                         const KvSnapshot* snapshot = nullptr) override {
    return base_.Get(p, key, snapshot);
  }
  Result<std::vector<std::optional<std::string>>> MultiGet(
      Partition p, const std::vector<std::string>& keys,
      const KvSnapshot* snapshot = nullptr) override {
    return base_.MultiGet(p, keys, snapshot);
  }
  Status Write(const WriteBatch& batch, const WriteOptions& options = {}) override {
    if (fail_writes_.load()) {
      failed_writes_.fetch_add(1);
      return Status::IoError("injected write failure: disk full");
    }
    return base_.Write(batch, options);
  }
  std::unique_ptr<KvIterator> NewIterator(Partition p, const ReadOptions& options = {}) override {
    return base_.NewIterator(p, options);
  }
  std::shared_ptr<const KvSnapshot> GetSnapshot() override { return base_.GetSnapshot(); }
  Status Flush() override { return base_.Flush(); }
  Status Checkpoint(const std::string& dir) override { return base_.Checkpoint(dir); }
  uint64_t ApproximateSize(Partition p, std::string_view begin, std::string_view end) override {
    return base_.ApproximateSize(p, begin, end);
  }

 private:
  KvStore& base_;
  std::atomic<bool> fail_writes_{false};
  std::atomic<int> failed_writes_{0};
};

}  // namespace kalam::storage
