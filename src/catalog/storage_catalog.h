// StorageCatalog: the storages of system.storages (where flushed Parquet segments go), persisted in
// the `system` partition, with the built-in `local` storage under the data directory.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "filestore/object_store.h"
#include "storage/kv_store.h"

namespace kalam::catalog {

inline constexpr std::string_view kLocalStorageId = "local";
inline constexpr std::string_view kDefaultSharedTemplate = "{namespace}/{tableName}";
inline constexpr std::string_view kDefaultUserTemplate = "{namespace}/{tableName}/{userId}";

struct StorageDef {
  std::string storage_id;    // lower case
  std::string storage_name;
  std::string description;
  std::string storage_type = "filesystem";  // "filesystem" | "s3"
  std::string base_directory;  // filesystem: absolute dir; s3: "s3://bucket/prefix"
  std::string bucket;          // s3
  std::string region;          // s3
  std::string endpoint;        // s3 (custom endpoint, path-style)
  std::string credentials_json;  // s3: {"access_key_id": …, "secret_access_key": …}
  std::string shared_tables_template = std::string(kDefaultSharedTemplate);
  std::string user_tables_template = std::string(kDefaultUserTemplate);
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;

  std::string ToJson() const;
  static Result<StorageDef> FromJson(std::string_view json);
  // The connection settings for filestore::OpenObjectStore (credentials parsed from
  // credentials_json). kInvalidArgument for malformed credentials.
  Result<filestore::StoreConfig> ToStoreConfig() const;
  // credentials_json with every secret replaced by "***" (what system.storages shows).
  std::string MaskedCredentials() const;
};

// Thread-safe. DDL is serialised by an internal mutex; reads copy under it.
class StorageCatalog {
 public:
  // Loads stored storages and creates/updates the built-in `local` storage rooted at
  // `local_base_directory` (absolute).
  static Result<std::unique_ptr<StorageCatalog>> Open(storage::KvStore& store, const Clock& clock,
                                                      std::string local_base_directory);

  std::optional<StorageDef> Find(std::string_view storage_id) const;
  std::vector<StorageDef> List() const;  // sorted by id

  // Validates (id syntax, type, templates, base directory/bucket, credentials JSON) and persists.
  // kAlreadyExists: `Storage 'x' already exists`.
  Status Create(StorageDef def);
  // Replaces the mutable fields (name, description, templates). kNotFound when absent.
  Status Alter(const StorageDef& def);
  // Points the storage `storage_id` at the local directory `base_directory` (absolute): a restore
  // moving a storage's files into the restored data directory. An S3 storage becomes a
  // filesystem storage (bucket, region, endpoint and credentials cleared). kNotFound when absent.
  Status Relocate(std::string_view storage_id, std::string base_directory);
  // kPermissionDenied for `local`; kNotFound unless if_exists; the caller checks table use first.
  Status Drop(std::string_view storage_id, bool if_exists, bool* dropped);

  // Monotonic version: bumps on every change (callers cache opened stores by it).
  uint64_t version() const;

 private:
  StorageCatalog(storage::KvStore& store, const Clock& clock) : store_(store), clock_(clock) {}
  Status Persist(const StorageDef& def);

  storage::KvStore& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, StorageDef> storages_;  // guarded by mu_
  uint64_t version_ = 1;                        // guarded by mu_
};

// Checks a storage id: 1–64 characters of [a-z0-9_-], starting with a letter.
Status ValidateStorageId(std::string_view id);

}  // namespace kalam::catalog
