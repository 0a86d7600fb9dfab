// Base64url (no padding) and standard base64 (padded) over libsodium's constant-time codec.
#include "auth/base64.h"

#include <sodium.h>

#include "auth/sodium_init.h"

namespace kalam::auth {

namespace {
constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

std::string Encode(std::string_view bytes, int variant) {
  EnsureSodium();
  // sodium_base64_ENCODED_LEN counts the terminating NUL that sodium_bin2base64 writes.
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.pop_back();
  return out;
}
}  // namespace

std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kVariant); }

std::string Base64Encode(std::string_view bytes) {
  return Encode(bytes, sodium_base64_VARIANT_ORIGINAL);
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  EnsureSodium();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  size_t written = 0;
  // A null b64_end makes libsodium reject any character it could not decode (including '=').
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), /*ignore=*/nullptr, &written, /*b64_end=*/nullptr,
                        kVariant) != 0) {
    return std::nullopt;
  }
  out.resize(written);
  return out;
}

}  // namespace kalam::auth
