// OpenObjectStore: picks the backend named by a StoreConfig.
#include "filestore/object_store.h"

#include <fstream>
#include <iterator>

#include "filestore/local_store.h"
#include "filestore/s3_store.h"

namespace kalam::filestore {

Status ObjectStore::PutFile(std::string_view key, const std::string& local_path) {
  std::ifstream in(local_path, std::ios::binary);
  if (!in) return Status::IoError("cannot open '" + local_path + "' for reading");
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IoError("cannot read '" + local_path + "'");
  return Put(key, data);
}

Result<std::string> ObjectStore::GetRange(std::string_view key, uint64_t offset, uint64_t length) {
  KALAM_ASSIGN_OR_RETURN(std::string all, Get(key));
  if (offset >= all.size()) return std::string();
  return all.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
}

Result<uint64_t> ObjectStore::Size(std::string_view key) {
  KALAM_ASSIGN_OR_RETURN(std::string all, Get(key));
  return static_cast<uint64_t>(all.size());
}

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
