// AuthService: turns credentials into a Principal — password login with lockout, JWT issue, and
// Bearer-token validation against the user store (PROTOCOL.md §2).
#pragma once

#include <optional>
#include <string>

#include "auth/roles.h"
#include "catalog/catalog.h"
#include "common/clock.h"

namespace kalam::api {

// Who a request runs as.
struct Principal {
  std::string user_id;
  auth::Role role = auth::Role::kAnonymous;
};

struct AuthSettings {
  std::string jwt_secret;
  int64_t jwt_expiry_hours = 24;  // access token lifetime; refresh lives 7× as long
  uint32_t max_failed_logins = 5;
  int64_t lockout_seconds = 15 * 60;
};

// A failed authentication, with its wire form.
struct AuthFailure {
  int http_status = 401;
  std::string code;     // SQL-endpoint code (MISSING_AUTHORIZATION, TOKEN_EXPIRED, …)
  std::string message;
};

struct IssuedTokens {
  std::string access_token;
  int64_t access_expires_at_s = 0;
  std::string refresh_token;
  int64_t refresh_expires_at_s = 0;
};

// Thread-safe.
class AuthService {
 public:
  AuthService(catalog::Catalog& catalog, AuthSettings settings, const Clock& clock)
      : catalog_(catalog), settings_(std::move(settings)), clock_(clock) {}

  // Validates `Authorization: Bearer <access JWT>`; anything else (absent, Basic, bad, expired,
  // refresh token, role changed, user deleted) is an AuthFailure.
  std::variant<Principal, AuthFailure> AuthenticateBearer(std::string_view authorization) const;

  // Checks a password login. Unknown user and wrong password fail identically and take the same
  // time. `loopback` allows a password-less root. Failures use the login error codes
  // (unauthorized, account_locked, forbidden).
  std::variant<catalog::UserRecord, AuthFailure> Login(std::string_view user,
                                                       std::string_view password, bool loopback);

  IssuedTokens Issue(const catalog::UserRecord& user) const;

  const AuthSettings& settings() const { return settings_; }

 private:
  catalog::Catalog& catalog_;
  const AuthSettings settings_;
  const Clock& clock_;
};

}  // namespace kalam::api
