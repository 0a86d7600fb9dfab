// Authentication.
#include "api/auth_service.h"

#include "auth/jwt.h"
#include "auth/password.h"

namespace kalam::api {

namespace {
AuthFailure Fail(int status, std::string code, std::string message) {
  return AuthFailure{status, std::move(code), std::move(message)};
}
}  // namespace


std::variant<Principal, AuthFailure> AuthService::AuthenticateBearer(
    std::string_view authorization) const {
  if (authorization.empty()) {
    return Fail(401, "MISSING_AUTHORIZATION", "Missing Authorization header");
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return Fail(401, "AUTHENTICATION_ERROR",
                "Only 'Authorization: Bearer <token>' is accepted on this endpoint");
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto v = auth::VerifyJwt(token, settings_.jwt_secret, clock_.NowSeconds());
  if (!v.ok()) {
    if (v.failure == auth::JwtFailure::kExpired) {
      return Fail(401, "TOKEN_EXPIRED", "Token expired");
    }
    return Fail(401, "AUTHENTICATION_ERROR", "Invalid token: " + v.message);
  }
  if (v.claims.token_type != "access") {
    return Fail(401, "AUTHENTICATION_ERROR", "Invalid token: not an access token");
  }
  auto user = catalog_.GetUser(v.claims.sub);
  if (!user || user->deleted()) {
    return Fail(401, "INVALID_CREDENTIALS", "Invalid token: unknown user");
  }
  if (auth::RoleName(user->role) != v.claims.role) {
    return Fail(401, "INVALID_CREDENTIALS", "Invalid token: role does not match the user's role");
  }
  return Principal{user->user_id, user->role};
}

std::variant<catalog::UserRecord, AuthFailure> AuthService::Login(std::string_view user_id,
                                                                  std::string_view password,
                                                                  bool loopback) {
  auto user = catalog_.GetUser(user_id);
  if (!user || user->deleted()) {
    auth::BurnDummyVerify(password);
    return Fail(401, "unauthorized", "Invalid credentials");
  }
  const int64_t now = clock_.NowMicros();
  if (user->locked_until_us > now) {
    return Fail(401, "account_locked",
                "Account is locked after too many failed logins; try again later");
  }
  bool ok = false;
  if (user->password_hash.empty()) {
    if (!loopback) {
      return Fail(403, "forbidden", "This user has no password and can only log in locally");
    }
    auth::BurnDummyVerify(password);
    ok = password.empty();
  } else {
    ok = auth::VerifyPassword(user->password_hash, password);
  }
  if (!ok) {
    user->failed_login_attempts += 1;
    if (user->failed_login_attempts >= settings_.max_failed_logins) {
      user->locked_until_us = now + settings_.lockout_seconds * 1000000;
      user->failed_login_attempts = 0;
    }
    (void)catalog_.PutUser(*user);
    return Fail(401, "unauthorized", "Invalid credentials");
  }
  user->failed_login_attempts = 0;
  user->locked_until_us = 0;
  user->last_login_at_us = now;
  (void)catalog_.PutUser(*user);
  return *user;
}

IssuedTokens AuthService::Issue(const catalog::UserRecord& user) const {
  IssuedTokens t;
  const int64_t now = clock_.NowSeconds();
  auth::JwtClaims c;
  c.sub = user.user_id;
  c.iat = now;
  c.email = user.email;
  c.role = std::string(auth::RoleName(user.role));
  c.exp = t.access_expires_at_s = now + settings_.jwt_expiry_hours * 3600;
  c.token_type = "access";
  t.access_token = auth::SignJwt(c, settings_.jwt_secret);
  c.exp = t.refresh_expires_at_s = now + settings_.jwt_expiry_hours * 3600 * 7;
  c.token_type = "refresh";
  t.refresh_token = auth::SignJwt(c, settings_.jwt_secret);
  return t;
}

}  // namespace kalam::api
