// Names of the fixed KvStore partitions; they are the RocksDB column family names on disk, so
// they never change once released.
#include "storage/kv_store.h"

namespace kalam::storage {

std::string_view PartitionName(Partition p) {
  switch (p) {
    case Partition::kRows: return "rows";
    case Partition::kPk: return "pk";
    case Partition::kStream: return "stream";
    case Partition::kSystem: return "system";
    case Partition::kMeta: return "meta";
    case Partition::kTopic: return "topic";
  }
  return "unknown";
}

}  // namespace kalam::storage
