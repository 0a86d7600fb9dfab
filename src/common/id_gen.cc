// UUIDv7 and ULID generation with libsodium randomness, and UUID canonicalisation.
#include "common/id_gen.h"

#include <sodium.h>

#include <cstdlib>

namespace kalam {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr uint64_t kMax48 = (uint64_t{1} << 48) - 1;

// Fills `buf` from libsodium's CSPRNG, initialising libsodium exactly once per process.
void RandomBytes(void* buf, size_t n) {
  // C++ guarantees thread-safe one-time initialisation of function-local statics.
  static const bool initialised = sodium_init() >= 0;
  if (!initialised) std::abort();  // no usable randomness source: ids would not be unique
  randombytes_buf(buf, n);
}

uint64_t Clamp48(int64_t unix_millis) {
  if (unix_millis < 0) return 0;
  return static_cast<uint64_t>(unix_millis) > kMax48 ? kMax48 : static_cast<uint64_t>(unix_millis);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FormatUuid(const unsigned char b[16]) {
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHexDigits[b[i] >> 4];
    out += kHexDigits[b[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string NewUuidV7(int64_t unix_millis) {
  unsigned char b[16];
  RandomBytes(b + 6, 10);
  const uint64_t ms = Clamp48(unix_millis);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // variant 10xx (RFC 9562)
  return FormatUuid(b);
}

std::string NewUlid(int64_t unix_millis) {
  unsigned char rnd[10];
  RandomBytes(rnd, sizeof rnd);
  // 128 bits = 48 time bits, then 80 random bits; 26 base32 digits hold 130 bits, so the first
  // digit carries only 3 bits (always 0..7).
  const uint64_t hi = (Clamp48(unix_millis) << 16) | (uint64_t{rnd[0]} << 8) | rnd[1];
  uint64_t lo = 0;
  for (int i = 2; i < 10; ++i) lo = (lo << 8) | rnd[i];
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    const int shift = 5 * (25 - i);  // bit offset of this digit from the least significant end
    uint64_t bits;
    if (shift + 5 <= 64) {
      bits = lo >> shift;
    } else if (shift >= 64) {
      bits = hi >> (shift - 64);
    } else {
      bits = (lo >> shift) | (hi << (64 - shift));
    }
    out[i] = kCrockford[bits & 0x1F];
  }
  return out;
}

Result<std::string> CanonicalUuid(std::string_view text) {
  unsigned char b[16];
  bool ok = text.size() == 36 || text.size() == 32;
  const bool hyphenated = text.size() == 36;
  size_t pos = 0;
  for (int i = 0; ok && i < 16; ++i) {
    if (hyphenated && (i == 4 || i == 6 || i == 8 || i == 10)) {
      if (text[pos] != '-') {
        ok = false;
        break;
      }
      ++pos;
    }
    const int hi = HexValue(text[pos]);
    const int lo = HexValue(text[pos + 1]);
    if (hi < 0 || lo < 0) {
      ok = false;
      break;
    }
    b[i] = static_cast<unsigned char>(hi << 4 | lo);
    pos += 2;
  }
  if (!ok) {
    std::string shown(text.substr(0, 64));
    if (text.size() > 64) shown += "...";
    return Status::InvalidArgument(
        "'" + shown +
        "' is not a valid UUID (expected 32 hex digits as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
  }
  return FormatUuid(b);
}

Result<std::string> CanonicalUuidFromBytes(std::string_view bytes) {
  if (bytes.size() != 16) {
    return Status::InvalidArgument("a binary UUID must be 16 bytes, got " +
                                   std::to_string(bytes.size()));
  }
  unsigned char b[16];
  for (int i = 0; i < 16; ++i) b[i] = static_cast<unsigned char>(bytes[i]);
  return FormatUuid(b);
}

}  // namespace kalam
