// Page codecs over libzstd, snappy and zlib; each library's errors become a Status here.
#include "parquet/compression.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

namespace kalam::parquet {

namespace {

// Upper bounds on how far each format can expand its input, so a claimed size that no
// compressor could produce is refused before the buffer is allocated. Deflate tops out near
// 1032:1; a ZSTD RLE block turns 4 bytes into 128 KiB.
constexpr size_t kMaxGzipRatio = 1032;
constexpr size_t kMaxZstdRatio = 32768;

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

Status CorruptPage(std::string_view codec, const std::string& what) {
  return Status::Corruption(std::string(codec) + " page does not decompress: " + what);
}

}  // namespace

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kUncompressed:
      return "UNCOMPRESSED";
    case Codec::kSnappy:
      return "SNAPPY";
    case Codec::kGzip:
      return "GZIP";
    case Codec::kZstd:
      return "ZSTD";
  }
  return "UNKNOWN";
}

struct Compressor::State {
  std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> zstd;
};

Compressor::Compressor(Codec codec, int zstd_level)
    : codec_(codec), zstd_level_(zstd_level), state_(std::make_unique<State>()) {}

Compressor::~Compressor() = default;

Status Compressor::Compress(std::string_view in, std::string* out) {
  switch (codec_) {
    case Codec::kUncompressed:
      out->assign(in);
      return Status::OK();
    case Codec::kSnappy: {
      out->resize(snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out->data(), &n);
      out->resize(n);
      return Status::OK();
    }
    case Codec::kGzip: {
      z_stream z{};
      // windowBits 15 + 16: a gzip (RFC 1952) wrapper, as the Parquet spec requires.
      if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
          Z_OK) {
        return Status::Internal("zlib deflateInit2 failed");
      }
      out->resize(deflateBound(&z, in.size()) + 32);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out->data());
      z.avail_out = static_cast<uInt>(out->size());
      int rc = deflate(&z, Z_FINISH);
      size_t n = z.total_out;
      deflateEnd(&z);
      if (rc != Z_STREAM_END) return Status::Internal("zlib deflate failed: " + std::to_string(rc));
      out->resize(n);
      return Status::OK();
    }
    case Codec::kZstd: {
      if (!state_->zstd) state_->zstd.reset(ZSTD_createCCtx());
      if (!state_->zstd) return Status::Internal("ZSTD_createCCtx failed");
      out->resize(ZSTD_compressBound(in.size()));
      size_t n = ZSTD_compressCCtx(state_->zstd.get(), out->data(), out->size(), in.data(),
                                   in.size(), zstd_level_);
      if (ZSTD_isError(n)) {
        return Status::Internal(std::string("ZSTD compression failed: ") + ZSTD_getErrorName(n));
      }
      out->resize(n);
      return Status::OK();
    }
  }
  return Status::Internal("unknown codec");
}

struct Decompressor::State {
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> zstd;
};

Decompressor::Decompressor() : state_(std::make_unique<State>()) {}
Decompressor::~Decompressor() = default;

Result<std::string_view> Decompressor::Decompress(Codec codec, std::string_view in,
                                                  size_t uncompressed_size, std::string* buffer) {
  const std::string_view name = CodecName(codec);
  switch (codec) {
    case Codec::kUncompressed:
      if (in.size() != uncompressed_size) {
        return Status::Corruption("uncompressed page holds " + std::to_string(in.size()) +
                                  " bytes but its header says " +
                                  std::to_string(uncompressed_size));
      }
      return in;
    case Codec::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) {
        return CorruptPage(name, "bad length preamble");
      }
      if (n != uncompressed_size) {
        return CorruptPage(name, "expands to " + std::to_string(n) + " bytes, header says " +
                                     std::to_string(uncompressed_size));
      }
      buffer->resize(n);
      if (!snappy::RawUncompress(in.data(), in.size(), buffer->data())) {
        return CorruptPage(name, "malformed data");
      }
      return std::string_view(*buffer);
    }
    case Codec::kGzip: {
      if (uncompressed_size > in.size() * kMaxGzipRatio + 1024) {
        return CorruptPage(name, "header claims " + std::to_string(uncompressed_size) +
                                     " bytes from " + std::to_string(in.size()));
      }
      buffer->resize(uncompressed_size);
      z_stream z{};
      // 15 + 32: accept a gzip or zlib header.
      if (inflateInit2(&z, 15 + 32) != Z_OK) return Status::Internal("zlib inflateInit2 failed");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(buffer->data());
      z.avail_out = static_cast<uInt>(buffer->size());
      int rc;
      for (;;) {
        rc = inflate(&z, Z_FINISH);
        // Concatenated gzip members: continue with the next one.
        if (rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0) {
          if (inflateReset(&z) != Z_OK) break;
          continue;
        }
        break;
      }
      size_t produced = z.total_out;
      inflateEnd(&z);
      if (rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && z.avail_out == 0)) {
        return CorruptPage(name, "zlib error " + std::to_string(rc));
      }
      if (produced != uncompressed_size || z.avail_in != 0) {
        return CorruptPage(name, "expands to a size other than the header's " +
                                     std::to_string(uncompressed_size) + " bytes");
      }
      return std::string_view(*buffer);
    }
    case Codec::kZstd: {
      unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
      if (declared == ZSTD_CONTENTSIZE_ERROR) return CorruptPage(name, "bad frame header");
      if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != uncompressed_size) {
        return CorruptPage(name, "frame holds " + std::to_string(declared) +
                                     " bytes, header says " + std::to_string(uncompressed_size));
      }
      if (uncompressed_size > in.size() * kMaxZstdRatio + 1024) {
        return CorruptPage(name, "header claims " + std::to_string(uncompressed_size) +
                                     " bytes from " + std::to_string(in.size()));
      }
      if (!state_->zstd) state_->zstd.reset(ZSTD_createDCtx());
      if (!state_->zstd) return Status::Internal("ZSTD_createDCtx failed");
      buffer->resize(uncompressed_size);
      size_t n = ZSTD_decompressDCtx(state_->zstd.get(), buffer->data(), buffer->size(), in.data(),
                                     in.size());
      if (ZSTD_isError(n)) return CorruptPage(name, ZSTD_getErrorName(n));
      if (n != uncompressed_size) {
        return CorruptPage(name, "expands to " + std::to_string(n) + " bytes, header says " +
                                     std::to_string(uncompressed_size));
      }
      return std::string_view(*buffer);
    }
  }
  return Status::Corruption("unknown codec");
}

}  // namespace kalam::parquet
