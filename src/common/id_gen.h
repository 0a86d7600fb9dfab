// Random-and-time identifiers for UUID_V7() and ULID() defaults, and the canonical UUID text form.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam {

// A new RFC 9562 version-7 UUID in canonical lower-case form
// ("0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091"): 48 bits of `unix_millis` (clamped to 0..2^48-1), the
// version and variant bits, and 74 random bits from libsodium's CSPRNG. Ids made in different
// milliseconds sort by time; ids made in the same millisecond are in random order. Thread-safe.
std::string NewUuidV7(int64_t unix_millis);

// A new ULID: 26 characters of Crockford base32 (upper case) encoding 48 bits of `unix_millis`
// (clamped to 0..2^48-1) followed by 80 random bits. Sorts by time as text. Thread-safe.
std::string NewUlid(int64_t unix_millis);

// The canonical form (lower-case, hyphenated 8-4-4-4-12) of a UUID written as 8-4-4-4-12 hex
// digits or as 32 hex digits without hyphens, in any case. Fails with kInvalidArgument
// ("'xyz' is not a valid UUID ...") on any other text.
Result<std::string> CanonicalUuid(std::string_view text);

// The canonical text of a UUID given as its 16 raw bytes. Fails with kInvalidArgument when
// `bytes` is not exactly 16 bytes long.
Result<std::string> CanonicalUuidFromBytes(std::string_view bytes);

}  // namespace kalam
