// WriteBatch: the backend-neutral list of mutations a KvStore applies atomically.
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

}  // namespace kalam::storage
