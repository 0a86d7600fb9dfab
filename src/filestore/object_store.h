// ObjectStore: where Parquet segments, manifests and FILE attachments live — a local directory or
// an S3 bucket prefix — addressed by relative keys ("chat/messages/u1/seg-00001.parquet").
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::filestore {

struct ObjectInfo {
  std::string key;     // relative to the store's base
  uint64_t size_bytes = 0;
};

// Connection settings of one storage (a row of system.storages).
struct StoreConfig {
  // "filesystem" or "s3".
  std::string type = "filesystem";
  // filesystem: an absolute directory (created on first write).
  // s3: "s3://bucket/optional/prefix" (or just the bucket name with `bucket` below).
  std::string base_directory;
  // s3 only.
  std::string bucket;
  std::string region = "us-east-1";
  // e.g. "http://127.0.0.1:9000"; empty = https://s3.<region>.amazonaws.com (virtual-host style).
  // A custom endpoint uses path-style addressing (http://host:port/bucket/key).
  std::string endpoint;
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional
  // Per-request timeout. Default: 30 s.
  int timeout_ms = 30000;
};

// Thread-safe: every method may be called concurrently.
// Keys must pass ValidateKey (see path_template.h); a bad key is kInvalidArgument and touches
// nothing. Failures of the disk or network are kIoError with the path/URL and the cause.
class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `data` under `key` atomically and durably: when Put returns OK the object survives a
  // crash, and a reader sees either the previous object or the whole new one, never a part.
  // (filesystem: write a temporary file in the same directory, fsync it, rename over the key,
  // fsync the directory; s3: one PUT.)
  virtual Status Put(std::string_view key, std::string_view data) = 0;

  // The whole object. kNotFound when there is none.
  virtual Result<std::string> Get(std::string_view key) = 0;

  // Stores the contents of the local file `local_path` under `key`, with Put's guarantees.
  // Default: reads the file into memory and calls Put (LocalStore and S3Store stream it).
  virtual Status PutFile(std::string_view key, const std::string& local_path);
  // Bytes [offset, offset + length) of the object (fewer at its end; empty past it).
  // kNotFound when there is none. Default: Get, then the slice (LocalStore and S3Store read only
  // the range).
  virtual Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length);
  // The object's size in bytes. kNotFound when there is none. Default: Get's size (LocalStore
  // and S3Store ask for the size only).
  virtual Result<uint64_t> Size(std::string_view key);
  // Removes the object; OK when it did not exist.
  virtual Status Delete(std::string_view key) = 0;

  // Every object whose key starts with `prefix` (recursively), sorted by key. Temporary files of
  // unfinished Puts are not listed.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;

  // STORAGE CHECK: writes, reads back, lists and deletes a probe object under ".kalam-check/".
  // OK, or the first step that failed and why.
  virtual Status Check() = 0;

  // A readable location for messages: "/data/storage/chat/m/seg-1.parquet",
  // "s3://bucket/prefix/chat/m/seg-1.parquet".
  virtual std::string Describe(std::string_view key) const = 0;
};

// Opens the store described by `config`. kInvalidArgument for an unknown type, a relative
// filesystem base directory, or an S3 config without bucket/credentials.
Result<std::unique_ptr<ObjectStore>> OpenObjectStore(const StoreConfig& config);

}  // namespace kalam::filestore
