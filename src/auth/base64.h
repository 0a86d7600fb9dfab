// Base64url without padding (RFC 4648 §5), the encoding of every JWT segment, and standard
// base64 with padding (RFC 4648 §4), the encoding of topic message payloads over HTTP.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kalam::auth {

// Encodes `bytes` as base64url without '=' padding. Never fails. Thread-safe.
std::string Base64UrlEncode(std::string_view bytes);

// Encodes `bytes` as standard base64 (alphabet A-Za-z0-9+/) with '=' padding. Never fails.
// Thread-safe.
std::string Base64Encode(std::string_view bytes);

// Decodes base64url without padding. Returns nullopt for anything that is not the canonical
// encoding of some bytes: '=' padding, characters outside [A-Za-z0-9_-] (including whitespace
// and the '+' '/' of standard base64), an impossible length, or non-zero unused trailing bits.
// Thread-safe.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace kalam::auth
