// Gunzip through zlib's inflate with gzip framing.
#include "gzip.h"

#include <zlib.h>

namespace kalam::client {

Result<std::string> Gunzip(std::string_view data, size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    return Status(StatusCode::kProtocolError, "zlib: cannot initialise inflate");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return Status(StatusCode::kProtocolError, "Corrupt gzip frame from the server");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&zs);
      return Status(StatusCode::kProtocolError, "Gzip frame inflates beyond the size limit");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      inflateEnd(&zs);
      return Status(StatusCode::kProtocolError, "Truncated gzip frame from the server");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace kalam::client
