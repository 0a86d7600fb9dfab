// Gzip over zlib: thread-local deflate states, a growing bounded inflate, stored-block splicing.
#include "common/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>

namespace kalam {
namespace {

// One reusable gzip deflate state at one level.
struct Deflater {
  z_stream zs{};
  bool ok = false;
  explicit Deflater(int level) {
    ok = deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok) deflateEnd(&zs);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
};

}  // namespace

bool Gzip(std::string_view in, int level, std::string* out) {
  if (level < -1 || level > 9) return false;
  thread_local std::array<std::unique_ptr<Deflater>, 11> deflaters;  // by level + 1
  std::unique_ptr<Deflater>& deflater = deflaters[level + 1];
  if (!deflater) deflater = std::make_unique<Deflater>(level);
  if (!deflater->ok || deflateReset(&deflater->zs) != Z_OK) return false;
  z_stream& zs = deflater->zs;
  out->assign(deflateBound(&zs, static_cast<uLong>(in.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data());
  zs.avail_out = static_cast<uInt>(out->size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return false;
  out->resize(zs.total_out);
  return true;
}

GunzipResult Gunzip(std::string_view in, const GunzipOptions& options, std::string* out,
                    int* zlib_status) {
  z_stream zs{};
  int rc = inflateInit2(&zs, 15 + (options.accept_zlib ? 32 : 16));
  if (rc != Z_OK) {
    if (zlib_status) *zlib_status = rc;
    return GunzipResult::kCorrupt;
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  out->clear();
  const size_t step = std::max<size_t>(in.size() * 4, 4096);
  size_t room = options.initial_bytes != 0 ? options.initial_bytes : step;
  GunzipResult result = GunzipResult::kCorrupt;
  for (;;) {
    const size_t have = out->size();
    room = std::min(room, options.max_bytes + 1 - have);
    out->resize(have + room);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + have);
    zs.avail_out = static_cast<uInt>(room);
    rc = inflate(&zs, Z_NO_FLUSH);
    out->resize(have + room - zs.avail_out);
    room = step;
    if (out->size() > options.max_bytes) {
      result = GunzipResult::kTooLarge;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        result = GunzipResult::kOk;
        break;
      }
      if (!options.concatenated_members || (rc = inflateReset(&zs)) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // truncated input
  }
  inflateEnd(&zs);
  if (result == GunzipResult::kCorrupt && zlib_status) *zlib_status = rc;
  return result;
}

DeflatedTail DeflateTail(std::string_view text) {
  DeflatedTail tail;
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return tail;
  std::string raw(deflateBound(&zs, static_cast<uLong>(text.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(raw.data());
  zs.avail_out = static_cast<uInt>(raw.size());
  const bool done = deflate(&zs, Z_FINISH) == Z_STREAM_END;
  raw.resize(zs.total_out);
  deflateEnd(&zs);
  if (!done) return tail;
  tail.raw = std::move(raw);
  tail.crc = static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
  tail.crc_combine_op = crc32_combine_gen(static_cast<z_off_t>(text.size()));
  tail.text_bytes = text.size();
  tail.ok = true;
  return tail;
}

std::optional<std::string> GzipWithTail(std::string_view head, const DeflatedTail& tail) {
  if (!tail.ok || head.size() > 0xffff) return std::nullopt;
  std::string out;
  out.reserve(10 + 5 + head.size() + tail.raw.size() + 8);
  // ID1 ID2, CM = deflate, FLG = 0, MTIME = 0, XFL = 0, OS = 3 (as zlib writes it).
  out.append("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
  // A stored block, not final: BFINAL 0, BTYPE 00 (padded to the byte), LEN, NLEN, the bytes.
  const uint16_t len = static_cast<uint16_t>(head.size());
  const uint16_t nlen = static_cast<uint16_t>(~len);
  const char stored[5] = {0, static_cast<char>(len & 0xff), static_cast<char>(len >> 8),
                          static_cast<char>(nlen & 0xff), static_cast<char>(nlen >> 8)};
  out.append(stored, 5);
  out.append(head);
  out += tail.raw;
  const uLong head_crc = crc32(0L, reinterpret_cast<const Bytef*>(head.data()),
                               static_cast<uInt>(head.size()));
  const uint32_t crc =
      static_cast<uint32_t>(crc32_combine_op(head_crc, tail.crc, tail.crc_combine_op));
  const uint32_t isize = static_cast<uint32_t>(head.size() + tail.text_bytes);
  for (uint32_t v : {crc, isize}) {
    for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  return out;
}

const DeflatedTail& SharedTail::deflated() const {
  std::call_once(once_, [this] { deflated_ = DeflateTail(text_); });
  return deflated_;
}

}  // namespace kalam
