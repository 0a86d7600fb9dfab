// AuthService: turns credentials into a Principal — password login with lockout, JWT issue, and
// Bearer-token validation against the user store (PROTOCOL.md §2).
#pragma once

#include <mutex>
#include <optional>
#include <variant>
#include <string>

#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/roles.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "net/http_types.h"

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
  size_t min_password_length = 8;
  size_t max_password_length = 1024;
  auth::PasswordHashParams password_hash;  // cost of the hashes setup makes
};

// A failed authentication, with its wire form.
struct AuthFailure {
  int http_status = 401;
  std::string code;     // SQL-endpoint code (MISSING_AUTHORIZATION, TOKEN_EXPIRED, …)
  std::string message;
  // Login only: this failed attempt locked the account (the audit log records a LOCKOUT).
  bool locked_now = false;
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
  // (unauthorized, account_locked, forbidden). Every attempt's outcome is stored (failure count
  // and lockout, or their reset and the login time); when that write fails the attempt is
  // refused with 500 internal_error, whatever the password, so an unrecorded failure can never
  // be an unlimited guess.
  std::variant<catalog::UserRecord, AuthFailure> Login(std::string_view user,
                                                       std::string_view password, bool loopback);

  // The user behind a token of `token_type` ("access" or "refresh"), checked like a Bearer
  // token (signature, expiry, type, user exists and is not deleted, role unchanged).
  std::variant<catalog::UserRecord, AuthFailure> VerifyToken(std::string_view token,
                                                             std::string_view token_type) const;

  IssuedTokens Issue(const catalog::UserRecord& user) const;

  // True while `root` has no password (first-run setup pending).
  bool NeedsSetup() const;

  // First-run setup (PROTOCOL.md §2): sets root's password and creates `user` with role dba.
  // Failures: 409 already_configured / user_exists, 400 weak_password / invalid_user.
  std::variant<catalog::UserRecord, AuthFailure> Setup(std::string_view user,
                                                       std::string_view password,
                                                       std::string_view root_password,
                                                       std::optional<std::string> email);

  // The principal a password-less loopback request runs as (auth.localhost_bypass), if that user
  // exists and is not deleted.
  std::optional<Principal> LocalPrincipal(std::string_view user_id) const;

  // auth::CheckPasswordPolicy with this service's limits.
  Status CheckPasswordPolicy(std::string_view password) const;

  const AuthSettings& settings() const { return settings_; }

 private:
  catalog::Catalog& catalog_;
  const AuthSettings settings_;
  const Clock& clock_;
  std::mutex setup_mu_;  // one setup at a time
  std::mutex login_mu_;  // serialises updates of failed-login counters and lockouts
  // Signature and claims of tokens seen before; the user checks of VerifyToken (exists, not
  // deleted, same role) still run on every request.
  mutable auth::VerifiedJwtCache verified_tokens_;
};

// For the HTTP routes outside /v1/api/sql (topics, exports): the principal of the request's
// `Authorization: Bearer …`, or nullopt after answering it with the failure's status in the SQL
// error envelope (`took` 0).
std::optional<Principal> AuthenticateOrRespond(const AuthService& auth,
                                               const net::HttpRequest& req,
                                               const net::Responder& respond);

}  // namespace kalam::api
