// Client and Client::Core: authentication, token renewal, pooled requests with retries, SQL and
// health calls.
#include "kalam/client.h"

#include <algorithm>
#include <condition_variable>
#include <ctime>

#include <boost/json.hpp>

#include "client_core.h"
#include "kalam/format.h"
#include "kalam/live.h"
#include "kalam/sql_script.h"
#include "wire.h"

namespace kalam::client {

namespace json = boost::json;

namespace {

std::string Base64UrlDecode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, buf = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;
    buf = (buf << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return out;
}

json::object JwtClaims(const std::string& token) {
  const size_t a = token.find('.');
  if (a == std::string::npos) return {};
  const size_t b = token.find('.', a + 1);
  if (b == std::string::npos) return {};
  json::error_code ec;
  json::value v = json::parse(Base64UrlDecode(std::string_view(token).substr(a + 1, b - a - 1)), ec);
  if (ec || !v.is_object()) return {};
  return v.get_object();
}

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

// Sleeps up to `d`; returns false when `stop` was requested meanwhile.
bool SleepFor(std::chrono::milliseconds d, const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

bool RetryableStatus(int status) { return status == 429 || status == 503; }

}  // namespace

int64_t JwtExpiry(const std::string& token) {
  auto claims = JwtClaims(token);
  if (auto* exp = claims.if_contains("exp"); exp && exp->is_number()) {
    return exp->to_number<int64_t>();
  }
  return 0;
}

std::string JwtSubject(const std::string& token) {
  auto claims = JwtClaims(token);
  if (auto* sub = claims.if_contains("sub"); sub && sub->is_string()) {
    return std::string(sub->get_string());
  }
  return {};
}

std::string Param::ToJson() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return b_ ? "true" : "false";
    case Kind::kInt: return std::to_string(i_);
    case Kind::kDouble: return json::serialize(json::value(d_));
    case Kind::kString: return JsonQuote(s_);
  }
  return "null";
}

int QueryResult::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// ---- Core -------------------------------------------------------------------------------------

Client::Core::Core(ClientOptions options, Endpoint endpoint)
    : options_(std::move(options)), endpoint_(std::move(endpoint)) {
  tokens_.access_token = options_.access_token;
  tokens_.refresh_token = options_.refresh_token;
  tokens_.access_expires_at = JwtExpiry(options_.access_token);
  tokens_.refresh_expires_at = JwtExpiry(options_.refresh_token);
  user_ = !options_.user.empty() ? options_.user : JwtSubject(options_.access_token);
  password_ = options_.password;
  namespace_ = options_.namespace_id;
}

std::unique_ptr<HttpConnection> Client::Core::TakeConnection() {
  {
    std::lock_guard lock(pool_mu_);
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->Usable()) return conn;
    }
  }
  return std::make_unique<HttpConnection>(endpoint_);
}

void Client::Core::ReturnConnection(std::unique_ptr<HttpConnection> conn) {
  if (!conn->Usable()) return;
  std::lock_guard lock(pool_mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

Result<HttpResponse> Client::Core::SendOnce(const HttpRequest& request,
                                            const SendOptions& options) {
  const auto timeout = options.timeout.count() > 0 ? options.timeout : options_.request_timeout;
  std::chrono::milliseconds backoff = options_.retry_backoff;
  for (int attempt = 0;; ++attempt) {
    const bool last = attempt >= options_.max_retries;
    auto conn = TakeConnection();
    FailurePoint failure;
    auto r = conn->RoundTrip(request, options_.connect_timeout, timeout, options.stop, &failure);
    if (r.ok()) {
      ReturnConnection(std::move(conn));
      if (!last && options.idempotent && RetryableStatus(r->status)) {
        auto wait = backoff;
        if (!r->retry_after.empty()) {
          const int secs = std::atoi(r->retry_after.c_str());
          if (secs > 0) wait = std::chrono::seconds(std::min(secs, 30));
        }
        if (!SleepFor(wait, options.stop)) return Status(StatusCode::kCancelled, "Cancelled");
        backoff *= 2;
        continue;
      }
      return r;
    }
    const Status st = r.status();
    if (st.code() == StatusCode::kCancelled) return st;
    // A reused keep-alive connection the server closed just as we sent: nothing was processed
    // if the server closed it before reading, but only idempotent requests may assume that.
    const bool safe = options.idempotent || failure == FailurePoint::kBeforeSending;
    const bool network = st.code() == StatusCode::kConnectionFailed ||
                         st.code() == StatusCode::kTimeout;
    if (last || !safe || !network) return st;
    if (!SleepFor(backoff, options.stop)) return Status(StatusCode::kCancelled, "Cancelled");
    backoff *= 2;
  }
}

Result<HttpResponse> Client::Core::Send(HttpRequest request, const SendOptions& options) {
  if (!options.authenticate) return SendOnce(request, options);
  KALAM_CLIENT_RETURN_IF_ERROR(EnsureFresh());
  const size_t auth_index = request.headers.size();
  auto with_token = [&](HttpRequest* req) {
    req->headers.resize(auth_index);
    const std::string token = AccessToken();
    if (!token.empty()) req->headers.emplace_back("Authorization", "Bearer " + token);
  };
  with_token(&request);
  auto r = SendOnce(request, options);
  if (!r.ok() || r->status != 401 || !CanRenew()) return r;
  // Expired or revoked access token: renew once and send again.
  KALAM_CLIENT_RETURN_IF_ERROR(Renew());
  with_token(&request);
  return SendOnce(request, options);
}

Status Client::Core::StoreLoginResponse(const HttpResponse& response) {
  if (response.status != 200) return wire::ErrorFromResponse(response.status, response.body);
  json::error_code ec;
  json::value v = json::parse(response.body, ec);
  if (ec || !v.is_object()) {
    return Status(StatusCode::kProtocolError, "Login answer is not JSON", "", response.status);
  }
  const auto& o = v.get_object();
  auto str = [&](std::string_view key) -> std::string {
    if (auto* f = o.if_contains(key); f && f->is_string()) return std::string(f->get_string());
    return {};
  };
  Tokens t;
  t.access_token = str("access_token");
  t.refresh_token = str("refresh_token");
  if (t.access_token.empty()) {
    return Status(StatusCode::kProtocolError, "Login answer has no access_token", "",
                  response.status);
  }
  t.access_expires_at = JwtExpiry(t.access_token);
  t.refresh_expires_at = JwtExpiry(t.refresh_token);
  std::string user, role;
  if (auto* u = o.if_contains("user"); u && u->is_object()) {
    if (auto* id = u->get_object().if_contains("id"); id && id->is_string()) {
      user = std::string(id->get_string());
    }
    if (auto* r = u->get_object().if_contains("role"); r && r->is_string()) {
      role = std::string(r->get_string());
    }
  }
  std::lock_guard lock(mu_);
  tokens_ = std::move(t);
  if (!user.empty()) user_ = user;
  if (!role.empty()) role_ = role;
  return Status::OK();
}

Status Client::Core::Login(const std::string& user, const std::string& password) {
  HttpRequest req;
  req.target = "/v1/api/auth/login";
  req.body = "{\"user\":" + JsonQuote(user) + ",\"password\":" + JsonQuote(password) + "}";
  SendOptions so;
  so.idempotent = true;
  so.authenticate = false;
  KALAM_CLIENT_ASSIGN_OR_RETURN(HttpResponse res, SendOnce(req, so));
  KALAM_CLIENT_RETURN_IF_ERROR(StoreLoginResponse(res));
  std::lock_guard lock(mu_);
  user_ = user;
  password_ = password;
  return Status::OK();
}

Status Client::Core::Renew() {
  std::string refresh, access_before, user, password;
  {
    std::lock_guard lock(mu_);
    access_before = tokens_.access_token;
  }
  std::lock_guard renew(renew_mu_);
  {
    std::lock_guard lock(mu_);
    // Another thread renewed while we waited: use its tokens.
    if (tokens_.access_token != access_before) return Status::OK();
    refresh = tokens_.refresh_token;
    user = user_;
    password = password_;
  }
  Status refreshed(StatusCode::kUnauthenticated, "No refresh token");
  if (!refresh.empty()) {
    HttpRequest req;
    req.target = "/v1/api/auth/refresh";
    req.headers.emplace_back("Authorization", "Bearer " + refresh);
    SendOptions so;
    so.idempotent = true;
    so.authenticate = false;
    auto res = SendOnce(req, so);
    if (!res.ok()) return res.status();
    refreshed = StoreLoginResponse(*res);
    if (refreshed.ok()) return refreshed;
  }
  if (!password.empty()) return Login(user, password);
  return refreshed;
}

Status Client::Core::EnsureFresh() {
  int64_t expires;
  bool can_renew;
  {
    std::lock_guard lock(mu_);
    expires = tokens_.access_expires_at;
    can_renew = !tokens_.refresh_token.empty() || !password_.empty();
  }
  if (expires == 0 || !can_renew) return Status::OK();
  if (NowSeconds() + options_.refresh_margin.count() < expires) return Status::OK();
  return Renew();
}

Status Client::Core::CheckToken() {
  HttpRequest req;
  req.post = false;
  req.target = "/v1/api/auth/me";
  SendOptions so;
  so.idempotent = true;
  KALAM_CLIENT_ASSIGN_OR_RETURN(HttpResponse res, Send(req, so));
  if (res.status != 200) return wire::ErrorFromResponse(res.status, res.body);
  json::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (!ec && v.is_object()) {
    if (auto* u = v.get_object().if_contains("user"); u && u->is_object()) {
      std::lock_guard lock(mu_);
      if (auto* id = u->get_object().if_contains("id"); id && id->is_string()) {
        user_ = std::string(id->get_string());
      }
      if (auto* r = u->get_object().if_contains("role"); r && r->is_string()) {
        role_ = std::string(r->get_string());
      }
    }
  }
  return Status::OK();
}

std::string Client::Core::AccessToken() const {
  std::lock_guard lock(mu_);
  return tokens_.access_token;
}

Tokens Client::Core::tokens() const {
  std::lock_guard lock(mu_);
  return tokens_;
}

std::string Client::Core::user() const {
  std::lock_guard lock(mu_);
  return user_;
}

std::string Client::Core::role() const {
  std::lock_guard lock(mu_);
  return role_;
}

std::string Client::Core::current_namespace() const {
  std::lock_guard lock(mu_);
  return namespace_;
}

void Client::Core::set_current_namespace(std::string ns) {
  std::lock_guard lock(mu_);
  namespace_ = std::move(ns);
}

bool Client::Core::CanRenew() const {
  std::lock_guard lock(mu_);
  return !tokens_.refresh_token.empty() || !password_.empty();
}

// ---- Client -----------------------------------------------------------------------------------

Client::Client(std::shared_ptr<Core> core) : core_(std::move(core)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  KALAM_CLIENT_ASSIGN_OR_RETURN(Endpoint ep, ParseServerUrl(options.url));
  if (!options.user.empty() && options.access_token.empty() && options.password.empty()) {
    return Status(StatusCode::kInvalidArgument, "A password is required to log in as '" +
                                                    options.user + "'");
  }
  auto core = std::make_shared<Core>(options, ep);
  if (!options.access_token.empty()) {
    KALAM_CLIENT_RETURN_IF_ERROR(core->CheckToken());
  } else if (!options.user.empty()) {
    KALAM_CLIENT_RETURN_IF_ERROR(core->Login(options.user, options.password));
  }
  return std::unique_ptr<Client>(new Client(std::move(core)));
}

Result<SqlResponse> Client::Execute(std::string_view sql, const std::vector<Param>& params,
                                    const QueryOptions& options) {
  if (sql.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status(StatusCode::kInvalidArgument, "Empty SQL");
  }
  std::string body = "{\"sql\":" + JsonQuote(sql);
  if (!params.empty()) {
    body += ",\"params\":[";
    for (size_t i = 0; i < params.size(); ++i) {
      if (i) body.push_back(',');
      body += params[i].ToJson();
    }
    body += "]";
  }
  const std::string ns =
      !options.namespace_id.empty() ? options.namespace_id : core_->current_namespace();
  if (!ns.empty()) body += ",\"namespace_id\":" + JsonQuote(ns);
  body += "}";
  HttpRequest req;
  req.target = "/v1/api/sql";
  req.body = std::move(body);
  SendOptions so;
  so.idempotent = options.idempotent.value_or(IsReadOnlyStatement(sql) &&
                                              SplitStatements(sql).size() <= 1);
  if (options.timeout) so.timeout = *options.timeout;
  so.stop = options.stop;
  KALAM_CLIENT_ASSIGN_OR_RETURN(HttpResponse res, core_->Send(std::move(req), so));
  return wire::ParseSqlResponse(res.status, res.body);
}

Result<HealthInfo> Client::Health() {
  HttpRequest req;
  req.post = false;
  req.target = "/health";
  SendOptions so;
  so.idempotent = true;
  so.authenticate = false;
  KALAM_CLIENT_ASSIGN_OR_RETURN(HttpResponse res, core_->Send(std::move(req), so));
  if (res.status != 200) return wire::ErrorFromResponse(res.status, res.body);
  json::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (ec || !v.is_object()) {
    return Status(StatusCode::kProtocolError, "Health answer is not JSON", "", res.status);
  }
  HealthInfo h;
  auto str = [&](std::string_view key) -> std::string {
    if (auto* f = v.get_object().if_contains(key); f && f->is_string()) {
      return std::string(f->get_string());
    }
    return {};
  };
  h.status = str("status");
  h.version = str("version");
  h.api_version = str("api_version");
  h.build_date = str("build_date");
  return h;
}

Status Client::Login(const std::string& user, const std::string& password) {
  return core_->Login(user, password);
}

Status Client::Refresh() {
  if (!core_->CanRenew()) return Status(StatusCode::kUnauthenticated, "No refresh token held");
  return core_->Renew();
}

Tokens Client::tokens() const { return core_->tokens(); }
std::string Client::user() const { return core_->user(); }
std::string Client::role() const { return core_->role(); }
std::string Client::url() const { return core_->endpoint().Base(); }
std::string Client::current_namespace() const { return core_->current_namespace(); }
void Client::set_current_namespace(std::string namespace_id) {
  core_->set_current_namespace(std::move(namespace_id));
}

}  // namespace kalam::client
