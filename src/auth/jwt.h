// JSON Web Tokens as KalamDB issues them: HS256-signed compact JWTs carrying the claims of
// PROTOCOL.md §2, and their verification.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kalam::auth {

// The claims of an access or refresh token. Value type.
struct JwtClaims {
  std::string sub;                   // user id
  std::string iss = "kalamdb";       // issuer; VerifyJwt accepts only "kalamdb"
  int64_t iat = 0;                   // issued at, seconds since the Unix epoch
  int64_t exp = 0;                   // expires at, seconds since the Unix epoch
  std::optional<std::string> email;  // JSON null when absent
  std::string role;                  // lower-case RoleName
  std::string token_type;            // "access" or "refresh"
};

// Largest token VerifyJwt looks at; ours are a few hundred bytes. Anything longer is kMalformed
// before any decoding, so oversized input costs nothing.
inline constexpr size_t kMaxJwtBytes = 8192;

// Signs `claims` as a compact JWT: base64url(header) "." base64url(claims) "." base64url(HMAC),
// header {"alg":"HS256","typ":"JWT"}, claims in the order sub, iss, iat, exp, email, role,
// token_type (email null when absent), HMAC-SHA256 keyed with `secret` (any length; the caller
// is responsible for it being long and random). Never fails. Thread-safe.
std::string SignJwt(const JwtClaims& claims, std::string_view secret);

// Why a token was rejected.
enum class JwtFailure {
  kNone,            // valid
  kMalformed,       // not three base64url segments of JSON objects, or too long
  kAlgorithm,       // header alg is not exactly "HS256", is missing, or the header has "crit"
  kSignature,       // the HMAC does not match (tampered, or signed with another secret)
  kExpired,         // exp + leeway < now
  kIssuedInFuture,  // iat > now + leeway
  kClaims,          // a claim is missing, of the wrong type, or iss is not "kalamdb"
};

// The outcome of VerifyJwt. `message` is for a person ("Token expired") and is empty when ok().
// `claims` is filled when the signature and claims checked out, i.e. when ok() and also for
// kExpired and kIssuedInFuture (so a caller can log whose token it was); otherwise it is
// default-constructed and must not be trusted.
struct JwtVerification {
  JwtFailure failure = JwtFailure::kNone;
  std::string message;
  JwtClaims claims;
  bool ok() const { return failure == JwtFailure::kNone; }
};

// Verifies a compact JWT signed with `secret`, in this order (the first failing check decides):
// structure; header alg exactly "HS256" ("none", "HS512", "hs256", a missing alg, and any header
// carrying "crit" are rejected); signature, compared in constant time; claim presence and types
// (sub, role, token_type non-empty strings; iss the string "kalamdb"; exp and iat integers; email
// absent, null or a string); exp + leeway ≥ now; iat ≤ now + leeway. The payload is parsed only
// after the signature matched. Does not check token_type, role or sub against the user store:
// the caller does (a refresh token must never pass as an access token). `leeway_seconds` below 0
// counts as 0. Thread-safe.
JwtVerification VerifyJwt(std::string_view token, std::string_view secret, int64_t now_seconds,
                          int64_t leeway_seconds = 60);

// VerifyJwt's last step: the time checks on claims whose signature already checked out (ok, or
// kExpired, or kIssuedInFuture, with `claims` filled).
JwtVerification CheckJwtTimes(JwtClaims claims, int64_t now_seconds, int64_t leeway_seconds);

// VerifyJwt with a memory: the claims of every token that verified ok are kept (under the token's
// full text), so a token sent again is not decoded and HMAC-checked again. The time checks are
// redone on every call, so each answer is exactly what VerifyJwt would say now. Failed tokens are
// never kept. One cache per secret (the secret is not part of the key). Holds at most
// `max_tokens`; when full it starts over. Thread-safe.
class VerifiedJwtCache {
 public:
  explicit VerifiedJwtCache(size_t max_tokens = 4096) : max_tokens_(max_tokens) {}

  JwtVerification Verify(std::string_view token, std::string_view secret, int64_t now_seconds,
                         int64_t leeway_seconds = 60);

  // Tokens remembered (for tests).
  size_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const size_t max_tokens_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, JwtClaims, Hash, std::equal_to<>> verified_;  // by mu_
};

}  // namespace kalam::auth
