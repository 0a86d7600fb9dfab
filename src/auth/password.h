// Password hashing for stored users: argon2id through libsodium, in the standard
// "$argon2id$v=19$m=...,t=...,p=1$salt$hash" string form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::auth {

// Cost of one argon2id hash. The defaults are OWASP's recommended minimum for argon2id
// (m = 19 MiB, t = 2, p = 1): about 20-60 ms per hash on a server core. Raising either makes
// brute force and logins slower alike.
struct PasswordHashParams {
  // Passes over memory (argon2 t). At least 1. Default: 2.
  uint64_t ops_limit = 2;
  // Memory per hash in bytes (argon2 m, KiB granularity). At least 8 KiB. Default: 19 MiB.
  size_t mem_limit_bytes = 19 << 20;
};

// Hashes `password` with a fresh random salt. The result embeds the salt and the parameters, so
// VerifyPassword needs nothing else. Fails with kInvalidArgument when `params` are outside
// libsodium's limits, kResourceExhausted when the memory cannot be allocated. Thread-safe; takes
// tens of milliseconds by design, so never call it on an I/O thread.
Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params = {});

// True when `password` matches `stored_hash` (made by HashPassword, with any parameters).
// False for a wrong password and for a malformed or empty hash; never crashes on bad input.
// Thread-safe; as slow as HashPassword with the hash's parameters.
bool VerifyPassword(std::string_view stored_hash, std::string_view password);

// True when `stored_hash` was made with parameters other than `params` (or is not an argon2id
// hash), so it should be replaced by HashPassword(password, params) after the next successful
// login. Thread-safe and cheap.
bool PasswordNeedsRehash(std::string_view stored_hash, const PasswordHashParams& params = {});

// The password policy (PROTOCOL §2): at least `min_chars` and at most `max_chars` characters,
// counted as Unicode code points of the UTF-8 text (so "éééé" is 4 characters, not 8 bytes).
// kInvalidArgument "Password is too short: at least N characters required" / "Password is too
// long: at most N characters allowed", or OK. Cheap; thread-safe.
Status CheckPasswordPolicy(std::string_view password, size_t min_chars, size_t max_chars);

// Spends the time of one VerifyPassword against a hash made with `params`, and discards the
// outcome. Called when a login names an unknown user, so that it takes as long as a wrong
// password and response time does not reveal which user names exist. The reference hash is made
// once per distinct `params` (the first call for them pays one extra hash); call it once at
// startup to prepay. Thread-safe.
void BurnDummyVerify(std::string_view password, const PasswordHashParams& params = {});

}  // namespace kalam::auth
