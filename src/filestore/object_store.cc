// OpenObjectStore: picks the backend named by a StoreConfig.
#include "filestore/object_store.h"

#include "filestore/local_store.h"
#include "filestore/s3_store.h"

namespace kalam::filestore {

Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const StoreConfig& config) {
  if (config.type == "filesystem") {
    KALAM_ASSIGN_OR_RETURN(auto store, LocalStore::Open(config.base_directory));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  if (config.type == "s3") {
    KALAM_ASSIGN_OR_RETURN(auto store, S3Store::Open(config));
    return std::unique_ptr<ObjectStore>(std::move(store));
  }
  return Status::InvalidArgument("unknown storage type '" + config.type +
                                 "'; use 'filesystem' or 's3'");
}

}  // namespace kalam::filestore
