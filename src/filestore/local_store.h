// LocalStore: an ObjectStore kept in a directory of the local filesystem (storage type
// "filesystem"), with atomic, durable writes and no way out of its base directory.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "filestore/object_store.h"

namespace kalam::filestore {

// Objects are plain files: key "a/b/c" is <base>/a/b/c.
//
// Safety: besides ValidateKey, every directory under the base is opened with O_NOFOLLOW one
// segment at a time, so a symbolic link anywhere below the base (a directory or the object itself)
// is refused with kIoError instead of being followed out of the base. The base directory itself is
// configuration and may be (or lie under) a symbolic link.
//
// Put writes ".tmp-<unique>" in the object's directory, fsyncs it, renames it over the key and
// fsyncs the directory (and the parent of every directory it had to create). A crash leaves at
// most a ".tmp-" file behind, which List never shows. Keys whose last segment starts with ".tmp-"
// are therefore reserved and refused with kInvalidArgument.
//
// Thread-safe: the store keeps no mutable state; concurrent Puts of one key leave one of the
// written objects, whole.
class LocalStore final : public ObjectStore {
 public:
  // `base_directory` must be absolute (trailing '/' ignored); it is created by the first Put.
  // kInvalidArgument when it is relative, empty or holds a NUL byte. Does no I/O.
  static Result<std::unique_ptr<LocalStore>> Open(std::string_view base_directory);

  Status Put(std::string_view key, std::string_view data) override;
  Result<std::string> Get(std::string_view key) override;
  // Streams the file in 1 MiB pieces into the temporary file (same atomic, durable write as Put).
  Status PutFile(std::string_view key, const std::string& local_path) override;
  Result<std::string> GetRange(std::string_view key, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Size(std::string_view key) override;
  // Opens object `key` for reading (with the same refusal of symbolic links as Get): an open
  // descriptor the caller owns and must close, and the object's size. kNotFound when absent.
  Result<std::pair<int, uint64_t>> OpenForRead(std::string_view key);
  Status Delete(std::string_view key) override;
  // Lists regular files only; symbolic links, ".tmp-" files and file names that are not valid
  // keys (control characters, backslashes...) are skipped.
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Status Check() override;
  std::string Describe(std::string_view key) const override;

  // The absolute base directory, without a trailing '/'.
  const std::string& base_directory() const { return base_; }

 private:
  // Put's protocol with `write` filling the temporary file (fd, its path for messages).
  Status PutWith(std::string_view key, const std::function<Status(int, const std::string&)>& write);
  explicit LocalStore(std::string base) : base_(std::move(base)) {}

  const std::string base_;
};

}  // namespace kalam::filestore
