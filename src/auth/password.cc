// argon2id password hashing and verification over libsodium's crypto_pwhash_str API.
#include "auth/password.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <optional>
#include <mutex>
#include <utility>

#include "auth/sodium_init.h"

namespace kalam::auth {
namespace {

// A stored hash, NUL-terminated as libsodium requires, or nullopt when it cannot be one.
std::optional<std::string> AsHashString(std::string_view stored_hash) {
  if (stored_hash.empty() || stored_hash.size() >= crypto_pwhash_STRBYTES ||
      stored_hash.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  return std::string(stored_hash);
}

}  // namespace

Result<std::string> HashPassword(std::string_view password, const PasswordHashParams& params) {
  EnsureSodium();
  if (params.ops_limit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params.ops_limit > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    return Status::InvalidArgument("Password hash ops_limit must be between " +
                                   std::to_string(crypto_pwhash_argon2id_OPSLIMIT_MIN) + " and " +
                                   std::to_string(crypto_pwhash_argon2id_OPSLIMIT_MAX) + ", got " +
                                   std::to_string(params.ops_limit));
  }
  if (params.mem_limit_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      params.mem_limit_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    return Status::InvalidArgument(
        "Password hash mem_limit_bytes must be between " +
        std::to_string(crypto_pwhash_argon2id_MEMLIMIT_MIN) + " and " +
        std::to_string(static_cast<uint64_t>(crypto_pwhash_argon2id_MEMLIMIT_MAX)) + ", got " +
        std::to_string(params.mem_limit_bytes));
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit,
                            params.mem_limit_bytes, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::ResourceExhausted("Not enough memory to hash a password (" +
                                     std::to_string(params.mem_limit_bytes) + " bytes needed)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view stored_hash, std::string_view password) {
  EnsureSodium();
  auto hash = AsHashString(stored_hash);
  if (!hash) return false;
  return crypto_pwhash_str_verify(hash->c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view stored_hash, const PasswordHashParams& params) {
  EnsureSodium();
  auto hash = AsHashString(stored_hash);
  if (!hash) return true;
  // Returns 0 (same parameters), 1 (different) or -1 (not an argon2id hash).
  return crypto_pwhash_argon2id_str_needs_rehash(hash->c_str(), params.ops_limit,
                                                 params.mem_limit_bytes) != 0;
}

Status CheckPasswordPolicy(std::string_view password, size_t min_chars, size_t max_chars) {
  // Every byte except a UTF-8 continuation byte (10xxxxxx) starts a character.
  const auto chars = static_cast<size_t>(std::count_if(
      password.begin(), password.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  if (chars < min_chars) {
    return Status::InvalidArgument("Password is too short: at least " + std::to_string(min_chars) +
                                   " characters required");
  }
  if (chars > max_chars) {
    return Status::InvalidArgument("Password is too long: at most " + std::to_string(max_chars) +
                                   " characters allowed");
  }
  return Status::OK();
}

void BurnDummyVerify(std::string_view password, const PasswordHashParams& params) {
  static std::mutex mu;
  // Reference hashes by (ops_limit, mem_limit_bytes), guarded by mu. Entries are never removed,
  // so the strings stay put once made.
  static std::map<std::pair<uint64_t, size_t>, std::string> hashes;

  const std::string* reference = nullptr;
  {
    std::lock_guard lock(mu);
    auto it = hashes.find({params.ops_limit, params.mem_limit_bytes});
    if (it != hashes.end()) reference = &it->second;
  }
  if (reference == nullptr) {
    // Hash a random password so that no input ever matches. Made outside the lock: two racing
    // first calls both pay, and the first inserted wins.
    EnsureSodium();
    unsigned char random[16];
    randombytes_buf(random, sizeof random);
    auto made = HashPassword(std::string_view(reinterpret_cast<char*>(random), sizeof random),
                             params);
    if (!made.ok()) {
      // Invalid params: a real verify would fail the same way, instantly.
      return;
    }
    std::lock_guard lock(mu);
    reference = &hashes.try_emplace({params.ops_limit, params.mem_limit_bytes},
                                    std::move(made).value())
                     .first->second;
  }
  // The answer carries nothing (the reference hashes random bytes no input matches): the call
  // is made only for the time it takes.
  (void)VerifyPassword(*reference, password);
}

}  // namespace kalam::auth
