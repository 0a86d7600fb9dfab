// Authentication.
#include "api/auth_service.h"

#include <spdlog/spdlog.h>

#include "api/sql_response_json.h"
#include "auth/jwt.h"
#include "auth/password.h"

namespace kalam::api {

namespace {
AuthFailure Fail(int status, std::string code, std::string message) {
  return AuthFailure{status, std::move(code), std::move(message)};
}

// The answer to a login whose outcome (failure counter, lockout, or the reset after a success)
// could not be stored. Logged with the cause; the caller learns only that it may retry.
AuthFailure LoginNotRecorded(std::string_view user_id, const Status& cause) {
  spdlog::error("Login of user '{}' refused: its login state could not be saved: {}", user_id,
                cause.ToString());
  return Fail(500, "internal_error", "The login could not be recorded; try again later");
}
}  // namespace


std::variant<catalog::UserRecord, AuthFailure> AuthService::VerifyToken(
    std::string_view token, std::string_view token_type) const {
  auto v = verified_tokens_.Verify(token, settings_.jwt_secret, clock_.NowSeconds());
  if (!v.ok()) {
    if (v.failure == auth::JwtFailure::kExpired) {
      return Fail(401, "TOKEN_EXPIRED", "Token expired");
    }
    return Fail(401, "AUTHENTICATION_ERROR", "Invalid token: " + v.message);
  }
  if (v.claims.token_type != token_type) {
    return Fail(401, "AUTHENTICATION_ERROR",
                "Invalid token: not " + std::string(token_type == "access" ? "an " : "a ") +
                    std::string(token_type) + " token");
  }
  auto user = catalog_.GetUser(v.claims.sub);
  if (!user || user->deleted()) {
    return Fail(401, "INVALID_CREDENTIALS", "Invalid token: unknown user");
  }
  if (auth::RoleName(user->role) != v.claims.role) {
    return Fail(401, "INVALID_CREDENTIALS", "Invalid token: role does not match the user's role");
  }
  return std::move(*user);
}

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
  auto user = VerifyToken(token, "access");
  if (auto* f = std::get_if<AuthFailure>(&user)) return *f;
  auto& u = std::get<catalog::UserRecord>(user);
  return Principal{std::move(u.user_id), u.role};
}

bool AuthService::NeedsSetup() const {
  auto root = catalog_.GetUser("root");
  return root && root->password_hash.empty();
}

Status AuthService::CheckPasswordPolicy(std::string_view password) const {
  return auth::CheckPasswordPolicy(password, settings_.min_password_length,
                                   settings_.max_password_length);
}

std::variant<catalog::UserRecord, AuthFailure> AuthService::Setup(
    std::string_view user_id, std::string_view password, std::string_view root_password,
    std::optional<std::string> email) {
  std::lock_guard lock(setup_mu_);
  if (!NeedsSetup()) return Fail(409, "already_configured", "The server is already set up");
  if (user_id.empty() || user_id == "root" || user_id.size() > 128 ||
      user_id.find_first_of(" \t\r\n'\"") != std::string_view::npos) {
    return Fail(400, "invalid_user",
                "Choose a user name other than 'root' (1 to 128 characters, no spaces or quotes)");
  }
  if (catalog_.GetUser(user_id)) return Fail(409, "user_exists", "That user already exists");
  for (std::string_view pw : {password, root_password}) {
    Status policy = CheckPasswordPolicy(pw);
    if (!policy.ok()) return Fail(400, "weak_password", policy.message());
  }
  auto root = catalog_.GetUser("root");
  auto root_hash = auth::HashPassword(root_password, settings_.password_hash);
  auto user_hash = auth::HashPassword(password, settings_.password_hash);
  if (!root_hash.ok() || !user_hash.ok()) {
    return Fail(500, "internal_error", "Password hashing failed");
  }
  const int64_t now = clock_.NowMicros();
  catalog::UserRecord admin;
  admin.user_id = std::string(user_id);
  admin.role = auth::Role::kDba;
  admin.email = std::move(email);
  admin.password_hash = std::move(*user_hash);
  admin.created_at_us = admin.updated_at_us = now;
  root->password_hash = std::move(*root_hash);
  root->updated_at_us = now;
  if (!catalog_.PutUser(admin).ok() || !catalog_.PutUser(*root).ok()) {
    return Fail(500, "internal_error", "Could not save the users");
  }
  return admin;
}

std::optional<Principal> AuthService::LocalPrincipal(std::string_view user_id) const {
  auto user = catalog_.GetUser(user_id);
  if (!user || user->deleted()) return std::nullopt;
  return Principal{user->user_id, user->role};
}

std::variant<catalog::UserRecord, AuthFailure> AuthService::Login(std::string_view user_id,
                                                                  std::string_view password,
                                                                  bool loopback) {
  auto user = catalog_.GetUser(user_id);
  if (!user || user->deleted()) {
    auth::BurnDummyVerify(password, settings_.password_hash);
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
    auth::BurnDummyVerify(password, settings_.password_hash);
    ok = password.empty();
  } else {
    ok = auth::VerifyPassword(user->password_hash, password);
  }
  // The password was checked without a lock (it is slow); the counters are updated under one,
  // re-reading the user, so concurrent attempts cannot lose failures or outlive a lockout.
  std::lock_guard lock(login_mu_);
  auto current = catalog_.GetUser(user_id);
  if (!current || current->deleted()) return Fail(401, "unauthorized", "Invalid credentials");
  if (current->locked_until_us > now) {
    return Fail(401, "account_locked",
                "Account is locked after too many failed logins; try again later");
  }
  if (!ok) {
    current->failed_login_attempts += 1;
    if (current->failed_login_attempts >= settings_.max_failed_logins) {
      current->locked_until_us = now + settings_.lockout_seconds * 1000000;
      current->failed_login_attempts = 0;
    }
    // A failure that cannot be counted must not look like an ordinary wrong password: the caller
    // could then guess without ever reaching the lockout.
    Status saved = catalog_.PutUserLoginState(*current);
    if (!saved.ok()) return LoginNotRecorded(user_id, saved);
    AuthFailure failure = Fail(401, "unauthorized", "Invalid credentials");
    failure.locked_now = current->locked_until_us > now;
    return failure;
  }
  current->failed_login_attempts = 0;
  current->locked_until_us = 0;
  current->last_login_at_us = now;
  Status saved = catalog_.PutUserLoginState(*current);
  if (!saved.ok()) return LoginNotRecorded(user_id, saved);
  return *current;
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

std::optional<Principal> AuthenticateOrRespond(const AuthService& auth,
                                               const net::HttpRequest& req,
                                               const net::Responder& respond) {
  auto result = auth.AuthenticateBearer(req.Header("Authorization"));
  if (auto* f = std::get_if<AuthFailure>(&result)) {
    net::HttpResponse r;
    r.status = f->http_status;
    r.body = EncodeSqlError(f->code, f->message, 0.0);
    respond(std::move(r));
    return std::nullopt;
  }
  return std::get<Principal>(std::move(result));
}

}  // namespace kalam::api
