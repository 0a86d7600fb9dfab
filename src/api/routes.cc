// HTTP handlers.
#include "api/routes.h"

#include <chrono>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/cluster_health.h"
#include "api/inline_reads.h"
#include "api/sql_response_json.h"
#include "api/export_routes.h"
#include "api/file_routes.h"
#include "api/snapshot_routes.h"
#include "api/ui_routes.h"
#include "api/topics_routes.h"
#include "audit/audit_log.h"
#include "common/metrics.h"
#include "common/time_format.h"
#include "common/value_convert.h"
#include "common/value_json.h"
#include "net/multipart.h"
#include "sql/parser/file_placeholders.h"

namespace kalam::api {

namespace json = boost::json;
using net::HttpRequest;
using net::HttpResponse;
using net::JsonResponse;
using net::Responder;

namespace {

using SteadyClock = std::chrono::steady_clock;


// Runs `fn` on the worker pool; answers 503 if the pool is shutting down.
void OnWorker(ApiContext* ctx, Responder respond, std::function<void(Responder)> fn) {
  auto shared = std::make_shared<Responder>(std::move(respond));
  bool queued = ctx->workers->Submit([shared, fn = std::move(fn)]() mutable { fn(*shared); });
  if (!queued) (*shared)(JsonResponse(503, EncodeError("SHUTTING_DOWN", "Server is shutting down")));
}

void HandleHealth(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!req.remote_is_loopback) {
    respond(JsonResponse(403, EncodeError("FORBIDDEN", "Health checks are only answered on loopback")));
    return;
  }
  std::string body = "{\"status\":\"healthy\",\"version\":";
  AppendJsonString(ctx->version, &body);
  body += ",\"api_version\":\"v1\",\"build_date\":";
  AppendJsonString(ctx->build_date, &body);
  body += "}";
  respond(JsonResponse(200, std::move(body)));
}

// GET /v1/api/cluster/health, loopback only, in the original's shape. A cluster node answers from
// its running groups (api/cluster_health.h); a server without [cluster] is a healthy cluster of
// one: this node leads, no Raft groups, no terms (docs/cluster.md).
void HandleClusterHealth(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!req.remote_is_loopback) {
    respond(JsonResponse(403, EncodeError("FORBIDDEN", "Health checks are only answered on loopback")));
    return;
  }
  if (ctx->cluster) {
    ClusterHealthAnswer health =
        ClusterHealth(*ctx->cluster, ctx->node_id, ctx->version, ctx->build_date);
    respond(JsonResponse(health.http_status, std::move(health.body)));
    return;
  }
  const std::string node = std::to_string(ctx->node_id);
  std::string body = "{\"status\":\"healthy\",\"version\":";
  AppendJsonString(ctx->version, &body);
  body += ",\"build_date\":";
  AppendJsonString(ctx->build_date, &body);
  body += ",\"is_cluster_mode\":false,\"cluster_id\":\"standalone\",\"node_id\":" + node +
          ",\"is_leader\":true,\"total_groups\":0,\"groups_leading\":0,\"current_term\":null,"
          "\"last_applied\":null,\"millis_since_quorum_ack\":null,\"nodes\":[{\"node_id\":" +
          node + ",\"role\":\"leader\",\"status\":\"active\",\"api_addr\":";
  AppendJsonString(ctx->api_addr, &body);
  body += ",\"is_self\":true,\"is_leader\":true,\"replication_lag\":null,"
          "\"catchup_progress_pct\":null}]}";
  respond(JsonResponse(200, std::move(body)));
}

// GET /metrics: the Prometheus text exposition format 0.0.4 (docs/metrics.md). Loopback only
// unless [metrics] allow_remote; forwarding headers are not trusted.
void HandleMetrics(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!req.remote_is_loopback && !ctx->metrics_allow_remote) {
    respond(JsonResponse(403, EncodeError("FORBIDDEN",
                                "Metrics are only answered on loopback (set [metrics] "
                                "allow_remote = true to allow other machines)")));
    return;
  }
  // Scrape callbacks read RocksDB properties, /proc and job lists: off the I/O thread.
  OnWorker(ctx, std::move(respond), [](Responder respond) {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics::Registry::Default().RenderPrometheus();
    respond(std::move(r));
  });
}

// ---- SQL ------------------------------------------------------------------------------------

// Answers `request` with the executor's response. A single SELECT whose text has proved short runs
// here, on the I/O thread, when InlineReads admits it and a SQLite connection is free; every
// other request is run on the worker pool. Run times of single SELECTs feed InlineReads.
// A cluster node's view of the request for forwarding (docs/cluster.md): set only when
// ctx->forwarder is.
struct Hop {
  bool forwarded = false;  // the request carries the hop header: answer it here, never forward
  std::string path;
  std::optional<std::string> authorization;
  std::string body;  // the original JSON body (only when not forwarded)
};

void RunSql(ApiContext* ctx, Principal who, sql::SqlRequest request, SteadyClock::time_point start,
            Responder respond, std::shared_ptr<const Hop> hop = nullptr) {
  InlineReads* inline_reads = ctx->inline_reads;
  const bool select = inline_reads && InlineReads::IsSingleSelect(request.sql);
  const uint64_t key = select ? InlineReads::Key(request.namespace_id, request.sql) : 0;
  auto answer = [ctx, start, hop](const Principal& who, const sql::SqlResponse& response,
                                  const Responder& respond) {
    int status = 200;
    std::string out = EncodeSqlResponse(response, MillisSince(start), who.role, &status);
    net::HttpResponse r = JsonResponse(status, std::move(out));
    // Read after the statements ran: covers every entry they committed.
    if (hop && hop->forwarded) {
      r.headers.emplace_back(std::string(kAppliedHeader), ctx->forwarder->AppliedIndexes());
    }
    respond(std::move(r));
  };
  if (select) {
    if (auto ticket = inline_reads->Admit(key)) {
      const auto began = SteadyClock::now();
      std::optional<sql::SqlResponse> response = ctx->executor->TryExecute(
          request, sql::Caller{who.user_id, who.role}, inline_reads->budget());
      const auto took = SteadyClock::now() - began;
      // No response: no connection was free (nothing ran), or the run was cancelled past its
      // budget — remembered as long. Either way a worker runs the request below.
      if (!response && took >= inline_reads->budget()) inline_reads->Record(key, took);
      if (response) {
        inline_reads->Record(key, took);
        static metrics::Counter& inline_runs = metrics::Registry::Default().GetCounter(
            "kalamdb_sql_inline_requests_total",
            "SQL requests run on the HTTP I/O thread instead of a worker", {});
        inline_runs.Inc();
        return answer(who, *response, respond);
      }
    }
  }
  OnWorker(ctx, std::move(respond),
           [ctx, who = std::move(who), request = std::move(request), answer, select, key,
            hop](Responder respond) {
             const auto began = SteadyClock::now();
             sql::SqlResponse response =
                 ctx->executor->Execute(request, sql::Caller{who.user_id, who.role});
             if (select) ctx->inline_reads->Record(key, SteadyClock::now() - began);
             // NOT_LEADER on the first statement: nothing ran here (docs/cluster.md, "Forwarding,
             // not NOT_LEADER"). "Leader unknown": an election is running; once a leader is known
             // (at most one election timeout) the request runs again. A known leader: the whole
             // request is sent to it. A leader that could not be reached never saw it: once the
             // group names another leader the request runs again here (this node may lead now)
             // or goes to that one. Bounded: a few forwards and elections at most.
             constexpr int kForwardAttempts = 3;
             constexpr int kRounds = 2 * kForwardAttempts;
             int forwards = 0;
             for (int round = 0; round < kRounds && hop && !hop->forwarded &&
                                 response.results.empty() && IsNotLeader(response.error);
                  ++round) {
               if (ctx->forwarder->AwaitLeader(response.error.message())) {
                 response = ctx->executor->Execute(request, sql::Caller{who.user_id, who.role});
                 continue;
               }
               auto fwd = ctx->forwarder->Forward(response.error.message(), hop->path,
                                                  hop->authorization, hop->body);
               if (!fwd) break;  // no leader known after the wait: the NOT_LEADER answer stands
               if (fwd->delivered || ++forwards == kForwardAttempts) {
                 return respond(JsonResponse(fwd->status, std::move(fwd->body)));
               }
               response = ctx->executor->Execute(request, sql::Caller{who.user_id, who.role});
             }
             answer(who, response, respond);
           });
}

void HandleSql(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  const auto start = SteadyClock::now();
  Principal who;
  const std::string_view authorization = req.Header("Authorization");
  // "Without any Authorization header": an empty header is still a header (and is rejected).
  if (!req.HasHeader("Authorization") && req.remote_is_loopback &&
      ctx->auth_options.localhost_bypass) {
    auto local = ctx->auth->LocalPrincipal(ctx->auth_options.localhost_user);
    if (!local) {
      respond(JsonResponse(401, EncodeSqlError("AUTHENTICATION_ERROR",
                                       "auth.localhost_user '" + ctx->auth_options.localhost_user +
                                           "' does not exist",
                                       MillisSince(start))));
      return;
    }
    who = *local;
  } else {
    auto auth = ctx->auth->AuthenticateBearer(authorization);
    if (auto* f = std::get_if<AuthFailure>(&auth)) {
      respond(JsonResponse(f->http_status, EncodeSqlError(f->code, f->message, MillisSince(start))));
      return;
    }
    who = std::get<Principal>(auth);
  }

  if (net::IsMultipartFormData(req.Header("Content-Type"))) {
    return HandleMultipartSql(ctx, std::move(req), std::move(respond), who, start);
  }
  boost::system::error_code ec;
  // The parsed body lives only in this function: its values come from a stack buffer (a typical
  // request needs no heap allocation to parse), larger bodies continue on the heap.
  unsigned char parse_buffer[4096];
  json::monotonic_resource parse_memory(parse_buffer, sizeof parse_buffer);
  json::value body = json::parse(req.body, ec, &parse_memory);
  auto bad = [&](std::string_view code, std::string message) {
    respond(JsonResponse(400, EncodeSqlError(code, message, MillisSince(start))));
  };
  if (ec) return bad("INVALID_INPUT", "Invalid JSON payload: " + ec.message());
  if (!body.is_object()) return bad("INVALID_INPUT", "Invalid JSON payload: expected an object");
  const json::object& obj = body.as_object();

  sql::SqlRequest request;
  const json::value* sql = obj.if_contains("sql");
  if (!sql || !sql->is_string()) {
    return bad("INVALID_INPUT", "Invalid JSON payload: field 'sql' must be a string");
  }
  request.sql = std::string(sql->as_string());
  if (request.sql.size() > ctx->limits.max_sql_length) {
    // The original's text, which its clients match on.
    return bad("INVALID_SQL", "SQL query too long: " + std::to_string(request.sql.size()) +
                                  " bytes (maximum " +
                                  std::to_string(ctx->limits.max_sql_length) + " bytes)");
  }
  if (sql::parser::MayContainFilePlaceholder(request.sql)) {
    auto placeholders = sql::parser::FindFilePlaceholders(request.sql);
    if (placeholders.ok() && !placeholders->empty()) {
      return bad("INVALID_INPUT", "FILE placeholders require multipart/form-data");
    }
  }
  if (const json::value* ns = obj.if_contains("namespace_id"); ns && !ns->is_null()) {
    if (!ns->is_string()) {
      return bad("INVALID_INPUT", "Invalid JSON payload: field 'namespace_id' must be a string");
    }
    request.namespace_id = std::string(ns->as_string());
  }
  if (const json::value* params = obj.if_contains("params"); params && !params->is_null()) {
    if (!params->is_array()) {
      return bad("INVALID_PARAMETER", "Parameter list invalid: 'params' must be an array");
    }
    const auto& arr = params->as_array();
    if (arr.size() > ctx->limits.max_parameters) {
      return bad("INVALID_PARAMETER", "Too many parameters: " + std::to_string(arr.size()) +
                                          " given, at most " +
                                          std::to_string(ctx->limits.max_parameters) + " allowed");
    }
    request.has_params = true;
    for (size_t i = 0; i < arr.size(); ++i) {
      auto v = ValueFromJsonParam(arr[i], static_cast<int>(i + 1));
      if (!v.ok()) return bad("INVALID_PARAMETER", v.status().message());
      request.params.push_back(std::move(*v));
    }
  }
  request.client_ip = req.remote_ip;
  std::shared_ptr<Hop> hop;
  if (ctx->forwarder) {
    hop = std::make_shared<Hop>();
    hop->forwarded = req.HasHeader(kForwardedHeader);
    if (!hop->forwarded) {
      hop->path = req.path;
      if (req.HasHeader("Authorization")) hop->authorization = std::string(authorization);
      hop->body = req.body;
    }
  }
  RunSql(ctx, std::move(who), std::move(request), start, std::move(respond), std::move(hop));
}

// ---- auth -----------------------------------------------------------------------------------

// Records an authentication event in the audit log (docs/audit.md). `reason` (an error code) goes
// into details; passwords and tokens never do. A record that cannot be stored is logged: the
// login itself has already been decided.
void AuditAuth(ApiContext* ctx, std::string_view action, const std::string& user,
               const std::string& ip, bool ok, std::string_view reason = {}) {
  if (!ctx->audit) return;
  audit::AuditRecord r;
  r.actor_user_id = user;
  r.subject_user_id = user;
  r.action = std::string(action);
  r.target = user.empty() ? "unknown" : "user:" + user;
  r.ip_address = ip;
  r.outcome = std::string(ok ? audit::kOutcomeSuccess : audit::kOutcomeFailure);
  if (!reason.empty()) {
    r.details = "{\"reason\":";
    AppendJsonString(reason, &r.details);
    r.details += "}";
  }
  auto stored = ctx->audit->Append(std::move(r));
  if (!stored.ok()) {
    spdlog::error("Audit log: cannot record {} of '{}': {}", action, user,
                  stored.status().ToString());
  }
}

std::string Rfc3339Seconds(int64_t unix_seconds) { return FormatRfc3339(unix_seconds * 1000000); }

void AppendUserJson(const catalog::UserRecord& u, std::string* out) {
  *out += "{\"id\":";
  AppendJsonString(u.user_id, out);
  *out += ",\"role\":";
  AppendJsonString(auth::RoleName(u.role), out);
  *out += ",\"email\":";
  if (u.email) AppendJsonString(*u.email, out);
  else *out += "null";
  *out += ",\"created_at\":";
  AppendJsonString(FormatRfc3339(u.created_at_us), out);
  *out += ",\"updated_at\":";
  AppendJsonString(FormatRfc3339(u.updated_at_us), out);
  *out += "}";
}

HttpResponse TokenResponse(ApiContext* ctx, const catalog::UserRecord& user) {
  IssuedTokens t = ctx->auth->Issue(user);
  std::string body = "{\"user\":";
  AppendUserJson(user, &body);
  body += ",\"admin_ui_access\":";
  body += auth::RoleAtLeast(user.role, auth::Role::kDba) ? "true" : "false";
  body += ",\"expires_at\":";
  AppendJsonString(Rfc3339Seconds(t.access_expires_at_s), &body);
  body += ",\"access_token\":";
  AppendJsonString(t.access_token, &body);
  body += ",\"refresh_token\":";
  AppendJsonString(t.refresh_token, &body);
  body += ",\"refresh_expires_at\":";
  AppendJsonString(Rfc3339Seconds(t.refresh_expires_at_s), &body);
  body += "}";
  HttpResponse r = JsonResponse(200, std::move(body));
  const int64_t now = t.access_expires_at_s - ctx->auth->settings().jwt_expiry_hours * 3600;
  r.headers.emplace_back("Set-Cookie", "kalamdb_auth=" + t.access_token +
                                           "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                                           std::to_string(t.access_expires_at_s - now));
  r.headers.emplace_back("Set-Cookie", "kalamdb_refresh=" + t.refresh_token +
                                           "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" +
                                           std::to_string(t.refresh_expires_at_s - now));
  return r;
}

void HandleLogin(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec || !body.is_object()) {
    respond(JsonResponse(400, EncodeError("bad_request", "Invalid JSON payload: expected an object with "
                                               "'user' and 'password'")));
    return;
  }
  std::string user, password;
  bool have_user = false, have_password = false;
  for (const auto& [key, value] : body.as_object()) {
    if ((key == "user" || key == "username") && value.is_string()) {
      user = std::string(value.as_string());
      have_user = true;
    } else if (key == "password" && value.is_string()) {
      password = std::string(value.as_string());
      have_password = true;
    } else {
      respond(JsonResponse(400, EncodeError("bad_request", "Unknown or invalid field '" +
                                                     std::string(key) + "'")));
      return;
    }
  }
  if (!have_user || !have_password) {
    respond(JsonResponse(400, EncodeError("bad_request", "Fields 'user' and 'password' are required")));
    return;
  }
  bool loopback = req.remote_is_loopback;
  std::string ip = req.remote_ip;
  OnWorker(ctx, std::move(respond), [ctx, user, password, loopback, ip](Responder respond) {
    auto result = ctx->auth->Login(user, password, loopback);
    if (auto* f = std::get_if<AuthFailure>(&result)) {
      AuditAuth(ctx, "LOGIN", user, ip, false, f->code);
      if (f->locked_now) AuditAuth(ctx, "LOCKOUT", user, ip, true, "too_many_failed_logins");
      respond(JsonResponse(f->http_status, EncodeError(f->code, f->message)));
      return;
    }
    AuditAuth(ctx, "LOGIN", user, ip, true);
    respond(TokenResponse(ctx, std::get<catalog::UserRecord>(result)));
  });
}

void HandleLogout(ApiContext*, HttpRequest&&, Responder respond) {
  HttpResponse r = JsonResponse(200, "{\"message\":\"Logged out successfully\"}");
  r.headers.emplace_back("Set-Cookie", "kalamdb_auth=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  r.headers.emplace_back("Set-Cookie",
                         "kalamdb_refresh=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  respond(std::move(r));
}

// The value of cookie `name` in the Cookie header, or empty.
std::string_view CookieValue(const HttpRequest& req, std::string_view name) {
  std::string_view cookies = req.Header("Cookie");
  while (!cookies.empty()) {
    size_t end = cookies.find(';');
    std::string_view pair = cookies.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (end == std::string_view::npos) break;
    cookies.remove_prefix(end + 1);
  }
  return {};
}

// The token of `Authorization: Bearer <token>`, or empty.
std::string_view BearerToken(const HttpRequest& req) {
  std::string_view h = req.Header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (h.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) !=
        std::tolower(static_cast<unsigned char>(kBearer[i]))) {
      return {};
    }
  }
  h.remove_prefix(kBearer.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  return h;
}

HttpResponse AuthError(const AuthFailure& f) {
  // Token failures on the auth endpoints use the lower-case login error shape.
  std::string code = f.code;
  if (code == "TOKEN_EXPIRED" || code == "AUTHENTICATION_ERROR" || code == "INVALID_CREDENTIALS" ||
      code == "MISSING_AUTHORIZATION") {
    code = "unauthorized";
  }
  return JsonResponse(f.http_status, EncodeError(code, f.message));
}

void HandleRefresh(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  std::string token(CookieValue(req, "kalamdb_refresh"));
  if (token.empty()) token = std::string(BearerToken(req));
  if (token.empty()) {
    respond(JsonResponse(401, EncodeError("unauthorized",
                                "No refresh token: send the kalamdb_refresh cookie or "
                                "'Authorization: Bearer <refresh token>'")));
    return;
  }
  auto user = ctx->auth->VerifyToken(token, "refresh");
  if (auto* f = std::get_if<AuthFailure>(&user)) {
    // The token named no user we trust: record the attempt without one.
    AuditAuth(ctx, "TOKEN_REFRESH", "", req.remote_ip, false, f->code);
    respond(AuthError(*f));
    return;
  }
  const auto& u = std::get<catalog::UserRecord>(user);
  AuditAuth(ctx, "TOKEN_REFRESH", u.user_id, req.remote_ip, true);
  respond(TokenResponse(ctx, u));
}

void HandleMe(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  std::string token(BearerToken(req));
  if (token.empty()) token = std::string(CookieValue(req, "kalamdb_auth"));
  if (token.empty()) {
    respond(JsonResponse(401, EncodeError("unauthorized", "Not logged in")));
    return;
  }
  auto user = ctx->auth->VerifyToken(token, "access");
  if (auto* f = std::get_if<AuthFailure>(&user)) {
    respond(AuthError(*f));
    return;
  }
  const auto& u = std::get<catalog::UserRecord>(user);
  std::string body = "{\"user\":";
  AppendUserJson(u, &body);
  body += ",\"admin_ui_access\":";
  body += auth::RoleAtLeast(u.role, auth::Role::kDba) ? "true" : "false";
  body += "}";
  respond(JsonResponse(200, std::move(body)));
}

bool SetupAllowedFrom(ApiContext* ctx, const HttpRequest& req, const Responder& respond) {
  if (req.remote_is_loopback || ctx->auth_options.allow_remote_setup) return true;
  respond(JsonResponse(403, EncodeError("forbidden",
                              "Setup is only available from this machine (auth.allow_remote_setup "
                              "is off)")));
  return false;
}

void HandleStatus(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!SetupAllowedFrom(ctx, req, respond)) return;
  const bool needs = ctx->auth->NeedsSetup();
  std::string body = std::string("{\"needs_setup\":") + (needs ? "true" : "false") +
                     ",\"message\":" +
                     (needs ? "\"Server requires setup: set the root password and create an "
                              "admin user with POST /v1/api/auth/setup\""
                            : "\"Server is configured\"") +
                     "}";
  respond(JsonResponse(200, std::move(body)));
}

void HandleSetup(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!SetupAllowedFrom(ctx, req, respond)) return;
  boost::system::error_code ec;
  json::value body = json::parse(req.body, ec);
  if (ec || !body.is_object()) {
    respond(JsonResponse(400, EncodeError("bad_request", "Invalid JSON payload: expected an object")));
    return;
  }
  std::string user, password, root_password;
  std::optional<std::string> email;
  for (const auto& [key, value] : body.as_object()) {
    if ((key == "user" || key == "username") && value.is_string()) {
      user = std::string(value.as_string());
    } else if (key == "password" && value.is_string()) {
      password = std::string(value.as_string());
    } else if (key == "root_password" && value.is_string()) {
      root_password = std::string(value.as_string());
    } else if (key == "email" && (value.is_string() || value.is_null())) {
      if (value.is_string()) email = std::string(value.as_string());
    } else {
      respond(JsonResponse(400, EncodeError("bad_request", "Unknown or invalid field '" +
                                                     std::string(key) + "'")));
      return;
    }
  }
  OnWorker(ctx, std::move(respond),
           [ctx, user, password, root_password, email](Responder respond) {
             auto result = ctx->auth->Setup(user, password, root_password, email);
             if (auto* f = std::get_if<AuthFailure>(&result)) {
               respond(JsonResponse(f->http_status, EncodeError(f->code, f->message)));
               return;
             }
             std::string out = "{\"user\":";
             AppendUserJson(std::get<catalog::UserRecord>(result), &out);
             out += ",\"message\":\"Setup complete: root password set and user created with "
                    "role dba\"}";
             respond(JsonResponse(200, std::move(out)));
           });
}

}  // namespace

std::shared_ptr<net::Router> BuildRouter(ApiContext* ctx) {
  auto router = std::make_shared<net::Router>();
  auto bind = [ctx](void (*fn)(ApiContext*, HttpRequest&&, Responder), bool auth_route = false) {
    return [ctx, fn, auth_route](HttpRequest&& req, Responder respond) {
      if (!ctx->ready || !ctx->ready->load(std::memory_order_acquire)) {
        respond(JsonResponse(503, EncodeError("UNAVAILABLE", "Server is starting or shutting down")));
        return;
      }
      // Request-level guards run per client IP, before authentication.
      if (ctx->request_limiter && !ctx->request_limiter->Allow(req.remote_ip)) {
        HttpResponse r = JsonResponse(429, "{\"error\":\"RATE_LIMIT_EXCEEDED\",\"message\":\"Too many "
                                   "requests from this address; retry later\","
                                   "\"retry_after_seconds\":1}");
        r.headers.emplace_back("Retry-After", "1");
        respond(std::move(r));
        return;
      }
      if (auth_route && ctx->auth_limiter && !ctx->auth_limiter->Allow(req.remote_ip)) {
        HttpResponse r = JsonResponse(429, EncodeError("rate_limited",
                                             "Too many authentication requests from this "
                                             "address; retry later"));
        r.headers.emplace_back("Retry-After", "1");
        respond(std::move(r));
        return;
      }
      fn(ctx, std::move(req), std::move(respond));
    };
  };
  router->Add("GET", "/health", bind(HandleHealth));
  router->Add("GET", "/v1/api/healthcheck", bind(HandleHealth));
  router->Add("GET", "/v1/api/cluster/health", bind(HandleClusterHealth));
  router->Add("GET", "/metrics", bind(HandleMetrics));
  router->Add("POST", "/v1/api/sql", bind(HandleSql));
  router->Add("POST", "/api/sql", bind(HandleSql));
  router->Add("POST", "/v1/api/auth/login", bind(HandleLogin, true));
  router->Add("POST", "/v1/api/auth/logout", bind(HandleLogout, true));
  router->Add("POST", "/v1/api/auth/refresh", bind(HandleRefresh, true));
  router->Add("GET", "/v1/api/auth/me", bind(HandleMe, true));
  router->Add("GET", "/v1/api/auth/status", bind(HandleStatus, true));
  router->Add("POST", "/v1/api/auth/setup", bind(HandleSetup, true));
  AddTopicRoutes(*router, [&](RouteFn fn) -> net::Handler { return bind(fn); });
  AddExportRoutes(*router, [&](RouteFn fn) -> net::Handler { return bind(fn); });
  AddFileRoutes(*router, [&](RouteFn fn) -> net::Handler { return bind(fn); });
  AddUiRoutes(*router, [&](RouteFn fn) -> net::Handler { return bind(fn); });
  AddSnapshotRoutes(*router, [&](RouteFn fn) -> net::Handler { return bind(fn); });
  return router;
}

}  // namespace kalam::api
