// SHA-256 digests of byte strings and of files (S3 request signing, backup checksums): the
// server's one SHA-256 implementation, over OpenSSL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::filestore {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// A file's size and lower-case hex SHA-256, read in one pass.
struct FileDigest {
  uint64_t size_bytes = 0;
  std::string sha256;
};

// Reads the regular file at `path` to its end. kIoError naming the path when it cannot be opened
// or read.
Result<FileDigest> Sha256OfFile(const std::string& path);

}  // namespace kalam::filestore
