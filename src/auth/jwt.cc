// HS256 JWT signing and verification: base64url segments, Boost.JSON for header and claims,
// libsodium HMAC-SHA256 with a constant-time comparison.
#include "auth/jwt.h"

#include <sodium.h>

#include <array>
#include <limits>
#include <utility>

#include <boost/json.hpp>

#include "auth/base64.h"
#include "auth/sodium_init.h"

namespace kalam::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view kHeaderJson = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::string_view kIssuer = "kalamdb";

using Mac = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

// HMAC-SHA256 of `data`. The init/update/final API takes keys of any length (RFC 2104: longer
// keys are hashed first), unlike crypto_auth_hmacsha256 which wants exactly 32 bytes.
Mac Hmac(std::string_view data, std::string_view secret) {
  EnsureSodium();
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  Mac mac;
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

JwtVerification Fail(JwtFailure failure, std::string message) {
  JwtVerification v;
  v.failure = failure;
  v.message = std::move(message);
  return v;
}

JwtVerification Malformed() { return Fail(JwtFailure::kMalformed, "Malformed token"); }

JwtVerification BadClaim(std::string_view what) {
  return Fail(JwtFailure::kClaims, "Invalid token claims: " + std::string(what));
}

// The base64url-decoded segment parsed as a JSON object, or nullopt.
std::optional<json::object> DecodeObject(std::string_view segment) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::value value = json::parse(*bytes, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.as_object());
}

// Attacker-chosen text made safe to echo in a message: printable ASCII, at most 32 characters.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 32)) out.push_back(c >= 0x20 && c <= 0x7e ? c : '?');
  if (text.size() > 32) out += "...";
  return out;
}

// A non-empty string claim.
bool ReadString(const json::object& claims, std::string_view name, std::string* out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr || !v->is_string() || v->as_string().empty()) return false;
  *out = std::string(v->as_string());
  return true;
}

// An integer claim that fits int64 (1.5 or 1e9 are not integers here).
bool ReadInt(const json::object& claims, std::string_view name, int64_t* out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return false;
  if (v->is_int64()) {
    *out = v->get_int64();
    return true;
  }
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    *out = static_cast<int64_t>(v->get_uint64());
    return true;
  }
  return false;
}

// a > b + c for c ≥ 0, without overflowing.
bool ExceedsBy(int64_t a, int64_t b, int64_t c) {
  if (b > std::numeric_limits<int64_t>::max() - c) return false;
  return a > b + c;
}

}  // namespace

std::string SignJwt(const JwtClaims& claims, std::string_view secret) {
  json::object body;
  body["sub"] = claims.sub;
  body["iss"] = claims.iss;
  body["iat"] = claims.iat;
  body["exp"] = claims.exp;
  if (claims.email) {
    body["email"] = *claims.email;
  } else {
    body["email"] = nullptr;
  }
  body["role"] = claims.role;
  body["token_type"] = claims.token_type;

  std::string token = Base64UrlEncode(kHeaderJson);
  token += '.';
  token += Base64UrlEncode(json::serialize(body));
  Mac mac = Hmac(token, secret);
  token += '.';
  token += Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

JwtVerification VerifyJwt(std::string_view token, std::string_view secret, int64_t now_seconds,
                          int64_t leeway_seconds) {
  if (leeway_seconds < 0) leeway_seconds = 0;
  if (token.size() > kMaxJwtBytes) return Malformed();

  // Structure: exactly three segments.
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Malformed();
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed();
  }
  std::string_view header_b64 = token.substr(0, dot1);
  std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view signature_b64 = token.substr(dot2 + 1);
  std::string_view signed_part = token.substr(0, dot2);

  // Header: the algorithm decides how (and whether) we check the signature, so it is pinned.
  auto header = DecodeObject(header_b64);
  if (!header) return Malformed();
  if (header->contains("crit")) {
    return Fail(JwtFailure::kAlgorithm, "Unsupported token header parameter 'crit'");
  }
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr) return Fail(JwtFailure::kAlgorithm, "Token has no algorithm");
  if (!alg->is_string()) return Fail(JwtFailure::kAlgorithm, "Unsupported token algorithm");
  if (alg->as_string() != "HS256") {
    return Fail(JwtFailure::kAlgorithm,
                "Unsupported token algorithm '" + Printable(alg->as_string()) + "'");
  }

  // Signature, before anything in the payload is looked at.
  auto signature = Base64UrlDecode(signature_b64);
  if (!signature) return Malformed();
  Mac expected = Hmac(signed_part, secret);
  if (signature->size() != expected.size() ||
      crypto_verify_32(reinterpret_cast<const unsigned char*>(signature->data()),
                       expected.data()) != 0) {
    return Fail(JwtFailure::kSignature, "Invalid token signature");
  }

  // Claims.
  auto payload = DecodeObject(payload_b64);
  if (!payload) return Malformed();
  JwtClaims claims;
  if (!ReadString(*payload, "sub", &claims.sub)) {
    return BadClaim("'sub' must be a non-empty string");
  }
  if (!ReadString(*payload, "iss", &claims.iss) || claims.iss != kIssuer) {
    return BadClaim("'iss' must be \"kalamdb\"");
  }
  if (!ReadInt(*payload, "iat", &claims.iat)) return BadClaim("'iat' must be an integer");
  if (!ReadInt(*payload, "exp", &claims.exp)) return BadClaim("'exp' must be an integer");
  if (!ReadString(*payload, "role", &claims.role)) {
    return BadClaim("'role' must be a non-empty string");
  }
  if (!ReadString(*payload, "token_type", &claims.token_type)) {
    return BadClaim("'token_type' must be a non-empty string");
  }
  if (const json::value* email = payload->if_contains("email");
      email != nullptr && !email->is_null()) {
    if (!email->is_string()) return BadClaim("'email' must be a string or null");
    claims.email = std::string(email->as_string());
  }

  return CheckJwtTimes(std::move(claims), now_seconds, leeway_seconds);
}

JwtVerification CheckJwtTimes(JwtClaims claims, int64_t now_seconds, int64_t leeway_seconds) {
  if (leeway_seconds < 0) leeway_seconds = 0;
  JwtVerification result;
  if (ExceedsBy(now_seconds, claims.exp, leeway_seconds)) {
    result.failure = JwtFailure::kExpired;
    result.message = "Token expired";
  } else if (ExceedsBy(claims.iat, now_seconds, leeway_seconds)) {
    result.failure = JwtFailure::kIssuedInFuture;
    result.message = "Token issued in the future";
  }
  result.claims = std::move(claims);
  return result;
}

JwtVerification VerifiedJwtCache::Verify(std::string_view token, std::string_view secret,
                                         int64_t now_seconds, int64_t leeway_seconds) {
  std::optional<JwtClaims> known;
  {
    std::lock_guard lock(mu_);
    if (auto it = verified_.find(token); it != verified_.end()) known = it->second;
  }
  if (known) return CheckJwtTimes(std::move(*known), now_seconds, leeway_seconds);
  JwtVerification v = VerifyJwt(token, secret, now_seconds, leeway_seconds);
  if (v.ok()) {
    std::lock_guard lock(mu_);
    if (verified_.size() >= max_tokens_) verified_.clear();
    verified_.emplace(std::string(token), v.claims);
  }
  return v;
}

size_t VerifiedJwtCache::size() const {
  std::lock_guard lock(mu_);
  return verified_.size();
}

}  // namespace kalam::auth
