// WsTransport: a net::WsServer whose service gives each upgraded socket a Handshake — the
// authentication of PROTOCOL.md §4 while the session is pending, then the `type` dispatch — and
// hands the application a Connection (the session's handle plus the principal).
#include "api/ws_transport.h"

#include <optional>
#include <utility>
#include <variant>

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "api/ws_protocol.h"
#include "common/utf8.h"
#include "net/http_types.h"
#include "net/rate_limiter.h"

namespace kalam::api {

namespace json = boost::json;

namespace {

// True unless `query` (without '?') has compress=false (or compress=0).
bool CompressionWanted(std::string_view query) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != "compress") continue;
    std::string_view value = pair.substr(eq + 1);
    if (net::EqualsIgnoreCase(value, "false") || value == "0") return false;
  }
  return true;
}

net::WsSessionOptions SessionOptions(const WsTransportOptions& o) {
  net::WsSessionOptions s;
  s.open_timeout = o.auth_timeout;
  s.client_timeout = o.client_timeout;
  s.max_message_bytes = o.max_message_bytes;
  s.outbound_queue_messages = o.outbound_queue_messages;
  s.compress_min_bytes = o.compress_min_bytes;
  s.close_timeout = o.close_timeout;
  return s;
}

// What the application holds: the session's handle and who authenticated it.
class Connection final : public WsConnection {
 public:
  Connection(std::shared_ptr<net::WsConnection> session, Principal principal)
      : session_(std::move(session)), principal_(std::move(principal)) {}

  uint64_t id() const override { return session_->id(); }
  const Principal& principal() const override { return principal_; }
  bool Send(std::string json) override { return session_->Send(std::move(json)); }
  size_t SendMany(std::vector<WsMessage>& messages) override {
    return session_->SendMany(messages);
  }
  bool SendControl(std::string json) override { return session_->SendControl(std::move(json)); }
  bool SendError(std::string_view subscription_id, std::string_view code,
                 std::string_view message, bool control) override {
    std::string json = WsErrorJson(subscription_id, code, message);
    return control ? SendControl(std::move(json)) : Send(std::move(json));
  }
  void Close(uint16_t code, std::string reason) override {
    session_->Close(code, std::move(reason));
  }

 private:
  const std::shared_ptr<net::WsConnection> session_;
  const Principal principal_;
};

}  // namespace

class WsTransport::Service final : public net::WsService {
 public:
  Service(WsTransportOptions options, AuthService& auth, WsApplication& app)
      : options(std::move(options)), auth(auth), app(app) {}

  bool Accepts(std::string_view path) const override { return path == "/v1/ws" || path == "/ws"; }
  std::unique_ptr<net::WsHandler> NewHandler(const net::HttpRequest& request) override;

  const WsTransportOptions options;
  AuthService& auth;
  WsApplication& app;
};

namespace {

// One connection of `/v1/ws`: authenticates it while the session is pending (Bearer header on
// the upgrade, else the first message), then dispatches its messages by `type`.
class Handshake final : public net::WsHandler {
 public:
  Handshake(WsTransport::Service& service, const net::HttpRequest& request)
      : service_(service), compress_(CompressionWanted(request.query)) {
    if (request.HasHeader("Authorization")) {
      header_auth_ = service_.auth.AuthenticateBearer(request.Header("Authorization"));
    }
  }

  void OnHandshake(net::WsSession& session) override {
    session.set_compress(compress_);
    if (!header_auth_) return;  // wait for `authenticate`, within open_timeout
    if (auto* failure = std::get_if<AuthFailure>(&*header_auth_)) {
      return FailAuthentication(session, failure->message);
    }
    Principal who = std::get<Principal>(std::move(*header_auth_));
    header_auth_.reset();
    Open(session, std::move(who));
  }

  void OnMessage(net::WsSession& session, std::string_view text) override {
    if (!conn_) return HandleAuthenticate(session, text);
    std::optional<json::object> msg = ParseObject(session, text);
    if (!msg) return;
    std::string_view type = msg->at("type").as_string();
    // The rate limit is for requests that cost the server work on their own: subscribe,
    // unsubscribe, authenticate. Keep-alives and next_batch (flow control the server paces: it
    // answers only when it has a batch waiting) are never dropped — a dropped next_batch would
    // stall a snapshot for good.
    const bool limited = type == "subscribe" || type == "unsubscribe" || type == "authenticate";
    if (limited && !bucket_.Take(service_.options.max_messages_per_sec,
                                 net::TokenBucket::Clock::now())) {
      session.Reply(WsRateLimitExceededJson(service_.options.max_messages_per_sec));
      return;
    }
    if (type == "ping") {
      session.Reply(WsPongJson());
    } else if (type == "subscribe" || type == "next_batch" || type == "unsubscribe") {
      service_.app.OnMessage(conn_, std::move(*msg));
    } else if (type == "authenticate") {
      Reauthenticate(session, *msg);
    } else {
      std::string shown(type.substr(0, Utf8CutLength(type, 64)));
      session.Close(net::kWsCloseInternalError, "Invalid message: unknown type '" + shown + "'");
    }
  }

  void OnOpenTimeout(net::WsSession& session) override {
    FailAuthentication(session, WsAuthTimeoutMessage(service_.options.auth_timeout));
  }

  void OnTooLarge(net::WsSession& session) override {
    session.Reply(WsMessageTooLargeJson(service_.options.max_message_bytes));
  }

  void OnClose(net::WsSession& session) override { service_.app.OnClose(session.id()); }

 private:
  struct Authenticated {
    Principal principal;
    bool compress = true;  // the connection's compression, as the message asked
  };

  void Open(net::WsSession& session, Principal who) {
    conn_ = std::make_shared<Connection>(session.Open(), who);
    session.Reply(WsAuthSuccessJson(who, session.compress()));
    spdlog::debug("WebSocket {}: authenticated as '{}'", session.id(), who.user_id);
    service_.app.OnOpen(conn_);
  }

  void FailAuthentication(net::WsSession& session, const std::string& message) {
    session.Reply(WsAuthErrorJson(message));
    session.Close(net::kWsClosePolicy, message);
  }

  // The first message of a connection without header auth.
  void HandleAuthenticate(net::WsSession& session, std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    const json::object* msg = !ec && value.is_object() ? &value.as_object() : nullptr;
    const json::value* type = msg ? msg->if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->as_string() != "authenticate") {
      return FailAuthentication(
          session,
          "Authentication required: the first message must be "
          "{\"type\":\"authenticate\",\"method\":\"jwt\",\"token\":\"<JWT>\"}");
    }
    auto result = VerifyAuthenticate(session, *msg);
    if (auto* failure = std::get_if<std::string>(&result)) {
      return FailAuthentication(session, *failure);
    }
    auto& accepted = std::get<Authenticated>(result);
    session.set_compress(accepted.compress);
    Open(session, std::move(accepted.principal));
  }

  // Checks an `authenticate` message: the principal and compression (`"protocol":{"compression":
  // "none"}` turns it off), or the auth_error text.
  std::variant<Authenticated, std::string> VerifyAuthenticate(const net::WsSession& session,
                                                              const json::object& msg) {
    if (const json::value* method = msg.if_contains("method")) {
      if (!method->is_string()) return std::string("Field 'method' must be a string");
      if (method->as_string() != "jwt") {
        return "Authentication method '" + std::string(method->as_string()) +
               "' is not supported: log in with POST /v1/api/auth/login and send the access "
               "token with method 'jwt'";
      }
    }
    const json::value* token = msg.if_contains("token");
    if (token == nullptr || !token->is_string() || token->as_string().empty()) {
      return std::string("Field 'token' must be a non-empty string (an access JWT)");
    }
    bool compress = session.compress();
    const json::value* protocol = msg.if_contains("protocol");
    if (protocol != nullptr && !protocol->is_null()) {
      if (!protocol->is_object()) return std::string("Field 'protocol' must be an object");
      const json::object& p = protocol->as_object();
      if (const json::value* s = p.if_contains("serialization")) {
        if (!s->is_string() || s->as_string() != "json") {
          return std::string("Unsupported serialization: this server speaks \"json\"");
        }
      }
      if (const json::value* c = p.if_contains("compression")) {
        if (c->is_string() && c->as_string() == "none") {
          compress = false;
        } else if (!c->is_string() || c->as_string() != "gzip") {
          return std::string("Unsupported compression: use \"gzip\" or \"none\"");
        }
      }
    }
    auto user = service_.auth.VerifyToken(std::string_view(token->as_string()), "access");
    if (auto* failure = std::get_if<AuthFailure>(&user)) return failure->message;
    const auto& record = std::get<catalog::UserRecord>(user);
    return Authenticated{Principal{record.user_id, record.role}, compress};
  }

  // `authenticate` on an open connection (a client that sent both the header and the message):
  // the same user again gets auth_success again; anything else fails like a first attempt.
  void Reauthenticate(net::WsSession& session, const json::object& msg) {
    auto result = VerifyAuthenticate(session, msg);
    if (auto* failure = std::get_if<std::string>(&result)) {
      return FailAuthentication(session, *failure);
    }
    // Compression stays as it was: other threads may be compressing for this connection.
    const Principal& who = std::get<Authenticated>(result).principal;
    const Principal& current = conn_->principal();
    if (who.user_id != current.user_id || who.role != current.role) {
      return FailAuthentication(
          session, "This connection is already authenticated as '" + current.user_id + "'");
    }
    session.Reply(WsAuthSuccessJson(who, session.compress()));
  }

  // Parses a client message of an open connection; closes 1011 (and returns nullopt) when it is
  // not a JSON object with a string `type`.
  static std::optional<json::object> ParseObject(net::WsSession& session, std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec) {
      session.Close(net::kWsCloseInternalError, "Invalid message: " + ec.message());
      return std::nullopt;
    }
    if (!value.is_object()) {
      session.Close(net::kWsCloseInternalError, "Invalid message: expected a JSON object");
      return std::nullopt;
    }
    const json::value* type = value.as_object().if_contains("type");
    if (type == nullptr || !type->is_string()) {
      session.Close(net::kWsCloseInternalError, "Invalid message: field 'type' must be a string");
      return std::nullopt;
    }
    return std::move(value.as_object());
  }

  WsTransport::Service& service_;
  const bool compress_;  // from the upgrade URL (`?compress=false`)
  // The Authorization header's verdict, until the handshake completes.
  std::optional<std::variant<Principal, AuthFailure>> header_auth_;
  std::shared_ptr<Connection> conn_;  // set once authenticated
  net::TokenBucket bucket_;  // rate_limit.max_messages_per_sec, of an open connection
};

}  // namespace

std::unique_ptr<net::WsHandler> WsTransport::Service::NewHandler(
    const net::HttpRequest& request) {
  return std::make_unique<Handshake>(*this, request);
}

WsTransport::WsTransport(WsTransportOptions options, AuthService& auth, WsApplication& app)
    : service_(std::make_unique<Service>(options, auth, app)),
      server_(SessionOptions(options), *service_) {}

WsTransport::~WsTransport() { Shutdown(); }

net::UpgradeHook WsTransport::Hook() { return server_.Hook(); }

void WsTransport::Shutdown() { server_.Shutdown(); }

size_t WsTransport::open_connections() const { return server_.open_connections(); }

}  // namespace kalam::api
