// WebSocket protocol messages of api: JSON text of auth results, pong and errors.
#include "api/ws_protocol.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "auth/roles.h"
#include "common/value_json.h"

namespace kalam::api {

namespace json = boost::json;

std::string WsErrorJson(std::optional<std::string_view> subscription_id, std::string_view code,
                        std::string_view message) {
  std::string out = "{\"type\":\"error\"";
  if (subscription_id) {
    out += ",\"subscription_id\":";
    AppendJsonString(*subscription_id, &out);
  }
  out += ",\"code\":";
  AppendJsonString(code, &out);
  out += ",\"message\":";
  AppendJsonString(message, &out);
  out += "}";
  return out;
}

std::string WsAuthErrorJson(std::string_view message) {
  json::object o;
  o["type"] = "auth_error";
  o["message"] = message;
  return json::serialize(o);
}

std::string WsAuthSuccessJson(const Principal& who, bool compress) {
  json::object protocol;
  protocol["serialization"] = "json";
  protocol["compression"] = compress ? "gzip" : "none";
  json::object o;
  o["type"] = "auth_success";
  o["user"] = who.user_id;
  o["role"] = auth::RoleName(who.role);
  o["protocol"] = std::move(protocol);
  return json::serialize(o);
}

std::string WsRateLimitExceededJson(uint32_t max_per_sec) {
  return WsErrorJson(std::nullopt, "RATE_LIMIT_EXCEEDED",
                     "Too many messages: at most " + std::to_string(max_per_sec) +
                         " per second per connection; this message was dropped");
}

std::string WsMessageTooLargeJson(size_t max_bytes) {
  return WsErrorJson(std::nullopt, "MESSAGE_TOO_LARGE",
                     "Message exceeds the maximum size of " + std::to_string(max_bytes) +
                         " bytes");
}

std::string WsPongJson() { return R"({"type":"pong"})"; }

std::string WsAuthTimeoutMessage(std::chrono::seconds timeout) {
  return "Authentication timeout - no auth message received within " +
         std::to_string(timeout.count()) + " seconds";
}

}  // namespace kalam::api
