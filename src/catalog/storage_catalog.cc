// StorageCatalog persistence and validation.
#include "catalog/storage_catalog.h"

#include <boost/json.hpp>

#include "catalog/catalog.h"
#include "filestore/path_template.h"

namespace kalam::catalog {

namespace json = boost::json;
using storage::Partition;

namespace {

constexpr std::string_view kStoragePrefix = "stg/";

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                  : std::string();
}

}  // namespace

std::string StorageDef::ToJson() const {
  return json::serialize(json::object{
      {"storage_id", storage_id},
      {"storage_name", storage_name},
      {"description", description},
      {"storage_type", storage_type},
      {"base_directory", base_directory},
      {"bucket", bucket},
      {"region", region},
      {"endpoint", endpoint},
      {"credentials", credentials_json},
      {"shared_tables_template", shared_tables_template},
      {"user_tables_template", user_tables_template},
      {"created_at_us", created_at_us},
      {"updated_at_us", updated_at_us},
  });
}

Result<StorageDef> StorageDef::FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("Stored storage is not valid JSON");
  const auto& o = v.as_object();
  StorageDef d;
  d.storage_id = Str(o, "storage_id");
  if (d.storage_id.empty()) return Status::Corruption("Stored storage has no storage_id");
  d.storage_name = Str(o, "storage_name");
  d.description = Str(o, "description");
  d.storage_type = Str(o, "storage_type");
  d.base_directory = Str(o, "base_directory");
  d.bucket = Str(o, "bucket");
  d.region = Str(o, "region");
  d.endpoint = Str(o, "endpoint");
  d.credentials_json = Str(o, "credentials");
  d.shared_tables_template = Str(o, "shared_tables_template");
  d.user_tables_template = Str(o, "user_tables_template");
  if (auto* p = o.if_contains("created_at_us"); p && p->is_int64()) d.created_at_us = p->as_int64();
  if (auto* p = o.if_contains("updated_at_us"); p && p->is_int64()) d.updated_at_us = p->as_int64();
  return d;
}

Result<filestore::StoreConfig> StorageDef::ToStoreConfig() const {
  filestore::StoreConfig c;
  c.type = storage_type;
  c.base_directory = base_directory;
  c.bucket = bucket;
  if (!region.empty()) c.region = region;
  c.endpoint = endpoint;
  if (!credentials_json.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(credentials_json, ec);
    if (ec || !v.is_object()) {
      return Status::InvalidArgument("Storage '" + storage_id +
                                     "': CREDENTIALS must be a JSON object such as "
                                     "{\"access_key_id\":\"…\",\"secret_access_key\":\"…\"}");
    }
    const auto& o = v.as_object();
    for (const auto& [k, val] : o) {
      if (!val.is_string()) {
        return Status::InvalidArgument("Storage '" + storage_id + "': credential '" +
                                       std::string(k) + "' must be a string");
      }
    }
    c.access_key_id = Str(o, "access_key_id");
    c.secret_access_key = Str(o, "secret_access_key");
    c.session_token = Str(o, "session_token");
  }
  return c;
}

std::string StorageDef::MaskedCredentials() const {
  if (credentials_json.empty()) return "";
  boost::system::error_code ec;
  json::value v = json::parse(credentials_json, ec);
  if (ec || !v.is_object()) return "***";
  json::object masked;
  for (const auto& [k, val] : v.as_object()) {
    masked[k] = (k == "access_key_id" || k == "region") ? val : json::value("***");
  }
  return json::serialize(masked);
}

Status ValidateStorageId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64 && id[0] >= 'a' && id[0] <= 'z';
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (!ok) {
    return Status::InvalidArgument("Invalid storage id '" + std::string(id) +
                                   "': use 1-64 characters a-z, 0-9, '_' or '-', starting with a "
                                   "letter");
  }
  return Status::OK();
}

namespace {

Status ValidateDef(const StorageDef& d) {
  KALAM_RETURN_IF_ERROR(ValidateStorageId(d.storage_id));
  if (d.storage_type != "filesystem" && d.storage_type != "s3") {
    return Status::InvalidArgument("Unknown storage type '" + d.storage_type +
                                   "': use 'filesystem' or 's3'");
  }
  KALAM_RETURN_IF_ERROR(filestore::ValidateTemplate(d.shared_tables_template, false));
  KALAM_RETURN_IF_ERROR(filestore::ValidateTemplate(d.user_tables_template, true));
  if (d.storage_type == "filesystem") {
    if (d.base_directory.empty() || d.base_directory[0] != '/') {
      return Status::InvalidArgument("Storage '" + d.storage_id +
                                     "': BASE_DIRECTORY must be an absolute path");
    }
    for (char c : d.base_directory) {
      if (static_cast<unsigned char>(c) < 0x20) {
        return Status::InvalidArgument("Storage '" + d.storage_id +
                                       "': BASE_DIRECTORY contains a control character");
      }
    }
  } else if (d.bucket.empty() && !d.base_directory.starts_with("s3://")) {
    return Status::InvalidArgument("Storage '" + d.storage_id +
                                   "': an s3 storage needs BUCKET '…' or BASE_DIRECTORY "
                                   "'s3://bucket/prefix'");
  }
  KALAM_ASSIGN_OR_RETURN(auto config, d.ToStoreConfig());
  if (d.storage_type == "s3" && (config.access_key_id.empty() || config.secret_access_key.empty())) {
    return Status::InvalidArgument("Storage '" + d.storage_id +
                                   "': an s3 storage needs CREDENTIALS with access_key_id and "
                                   "secret_access_key");
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<StorageCatalog>> StorageCatalog::Open(storage::KvStore& store,
                                                             const Clock& clock,
                                                             std::string local_base_directory) {
  std::unique_ptr<StorageCatalog> c(new StorageCatalog(store, clock));
  auto it = store.NewIterator(Partition::kSystem);
  for (it->Seek(kStoragePrefix); it->Valid() && it->key().starts_with(kStoragePrefix); it->Next()) {
    KALAM_ASSIGN_OR_RETURN(StorageDef d, StorageDef::FromJson(it->value()));
    c->storages_[d.storage_id] = std::move(d);
  }
  KALAM_RETURN_IF_ERROR(it->status());
  // The built-in storage follows the data directory wherever the server is started from.
  StorageDef local;
  if (auto found = c->storages_.find(std::string(kLocalStorageId)); found != c->storages_.end()) {
    local = found->second;
  } else {
    local.storage_id = std::string(kLocalStorageId);
    local.storage_name = "Local storage";
    local.description = "Built-in storage under the data directory";
    local.created_at_us = clock.NowMicros();
    local.updated_at_us = local.created_at_us;
  }
  local.storage_type = "filesystem";
  if (local.base_directory != local_base_directory) {
    local.base_directory = std::move(local_base_directory);
    KALAM_RETURN_IF_ERROR(ValidateDef(local));
    KALAM_RETURN_IF_ERROR(c->Persist(local));
  }
  c->storages_[local.storage_id] = local;
  return c;
}

Status StorageCatalog::Persist(const StorageDef& def) {
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, std::string(kStoragePrefix) + def.storage_id, def.ToJson());
  return store_.Write(batch, {.sync = true});
}

std::optional<StorageDef> StorageCatalog::Find(std::string_view storage_id) const {
  std::lock_guard lock(mu_);
  auto it = storages_.find(LowerName(storage_id));
  if (it == storages_.end()) return std::nullopt;
  return it->second;
}

std::vector<StorageDef> StorageCatalog::List() const {
  std::lock_guard lock(mu_);
  std::vector<StorageDef> out;
  for (const auto& [id, d] : storages_) out.push_back(d);
  return out;
}

uint64_t StorageCatalog::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

Status StorageCatalog::Create(StorageDef def) {
  def.storage_id = LowerName(def.storage_id);
  if (def.storage_name.empty()) def.storage_name = def.storage_id;
  KALAM_RETURN_IF_ERROR(ValidateDef(def));
  std::lock_guard lock(mu_);
  if (storages_.count(def.storage_id)) {
    return Status::AlreadyExists("Storage '" + def.storage_id + "' already exists");
  }
  def.created_at_us = def.updated_at_us = clock_.NowMicros();
  KALAM_RETURN_IF_ERROR(Persist(def));
  storages_[def.storage_id] = std::move(def);
  ++version_;
  return Status::OK();
}

Status StorageCatalog::Alter(const StorageDef& def) {
  KALAM_RETURN_IF_ERROR(ValidateDef(def));
  std::lock_guard lock(mu_);
  auto it = storages_.find(def.storage_id);
  if (it == storages_.end()) {
    return Status::NotFound("Storage '" + def.storage_id + "' not found");
  }
  StorageDef next = it->second;
  next.storage_name = def.storage_name;
  next.description = def.description;
  next.shared_tables_template = def.shared_tables_template;
  next.user_tables_template = def.user_tables_template;
  next.updated_at_us = clock_.NowMicros();
  KALAM_RETURN_IF_ERROR(Persist(next));
  it->second = std::move(next);
  ++version_;
  return Status::OK();
}

Status StorageCatalog::Relocate(std::string_view storage_id, std::string base_directory) {
  std::lock_guard lock(mu_);
  auto it = storages_.find(LowerName(storage_id));
  if (it == storages_.end()) {
    return Status::NotFound("Storage '" + std::string(storage_id) + "' not found");
  }
  StorageDef next = it->second;
  next.storage_type = "filesystem";
  next.bucket.clear();
  next.region.clear();
  next.endpoint.clear();
  next.credentials_json.clear();
  next.base_directory = std::move(base_directory);
  next.updated_at_us = clock_.NowMicros();
  KALAM_RETURN_IF_ERROR(Persist(next));
  it->second = std::move(next);
  ++version_;
  return Status::OK();
}

Status StorageCatalog::Drop(std::string_view storage_id, bool if_exists, bool* dropped) {
  *dropped = false;
  std::string id = LowerName(storage_id);
  if (id == kLocalStorageId) {
    return Status::PermissionDenied("Storage 'local' is built in and cannot be dropped");
  }
  std::lock_guard lock(mu_);
  if (!storages_.count(id)) {
    if (if_exists) return Status::OK();
    return Status::NotFound("Storage '" + id + "' not found");
  }
  storage::WriteBatch batch;
  batch.Delete(Partition::kSystem, std::string(kStoragePrefix) + id);
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  storages_.erase(id);
  ++version_;
  *dropped = true;
  return Status::OK();
}

}  // namespace kalam::catalog
