// Backend-neutral parts of the KvStore interface: WriteBatch and the error iterator.
#include "storage/kv_store.h"

namespace kalam::storage {

void WriteBatch::Put(Partition p, std::string_view key, std::string_view value) {
  ops_.push_back(Op{OpKind::kPut, p, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
}

void WriteBatch::Delete(Partition p, std::string_view key) {
  ops_.push_back(Op{OpKind::kDelete, p, std::string(key), std::string()});
  bytes_ += key.size();
}

void WriteBatch::DeleteRange(Partition p, std::string_view begin, std::string_view end) {
  ops_.push_back(Op{OpKind::kDeleteRange, p, std::string(begin), std::string(end)});
  bytes_ += begin.size() + end.size();
}

namespace {

class ErrorIterator final : public KvIterator {
 public:
  explicit ErrorIterator(Status status) : status_(std::move(status)) {}
  void Seek(std::string_view) override {}
  void SeekForPrev(std::string_view) override {}
  void SeekToFirst() override {}
  void SeekToLast() override {}
  bool Valid() const override { return false; }
  void Next() override {}
  void Prev() override {}
  std::string_view key() const override { return {}; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};

}  // namespace

std::unique_ptr<KvIterator> NewErrorIterator(Status status) {
  return std::make_unique<ErrorIterator>(std::move(status));
}

}  // namespace kalam::storage
