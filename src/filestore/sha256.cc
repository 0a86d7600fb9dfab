// SHA-256 of strings and files through OpenSSL's EVP interface.
#include "filestore/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "filestore/s3_signer.h"

namespace kalam::filestore {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

Result<FileDigest> Sha256OfFile(const std::string& path) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    return Status::IoError("Cannot read '" + path + "': " + std::strerror(errno));
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Internal("SHA-256 is not available");
  }
  FileDigest out;
  std::vector<char> buf(1 << 20);
  while (true) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
    if (n > 0) {
      EVP_DigestUpdate(ctx.get(), buf.data(), n);
      out.size_bytes += n;
    }
    if (n < buf.size()) {
      if (std::ferror(file.get())) {
        return Status::IoError("Cannot read '" + path + "': " + std::strerror(errno));
      }
      break;
    }
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  out.sha256 = HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
  return out;
}

}  // namespace kalam::filestore
