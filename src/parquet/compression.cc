// Page codecs over libzstd, snappy and common/gzip (zlib); each library's errors become a Status
// here.
#include "parquet/compression.h"

#include <snappy.h>
#include <zstd.h>

#include "common/gzip.h"

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
    case Codec::kGzip:
      // A gzip (RFC 1952) wrapper, as the Parquet spec requires.
      if (!Gzip(in, kGzipDefault, out)) return Status::Internal("zlib deflate failed");
      return Status::OK();
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
      GunzipOptions options;
      options.max_bytes = uncompressed_size;
      options.initial_bytes = uncompressed_size + 1;  // +1: to see that nothing more follows
      options.accept_zlib = true;
      options.concatenated_members = true;
      int zlib_status = 0;
      const GunzipResult result = Gunzip(in, options, buffer, &zlib_status);
      if (result == GunzipResult::kCorrupt) {
        return CorruptPage(name, "zlib error " + std::to_string(zlib_status));
      }
      if (result == GunzipResult::kTooLarge || buffer->size() != uncompressed_size) {
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
