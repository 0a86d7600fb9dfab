// Topic HTTP handlers: JSON in and out, the work in topics::TopicService.
#include "api/topics_routes.h"

#include <chrono>

#include <boost/json.hpp>

#include "api/sql_response_json.h"
#include "auth/base64.h"
#include "common/value_json.h"
#include "topics/topic_service.h"

namespace kalam::api {

namespace json = boost::json;
using net::HttpRequest;
using net::HttpResponse;
using net::Responder;

namespace {

constexpr std::chrono::seconds kMaxWait{60};

HttpResponse TopicError(int status, std::string_view code, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = EncodeCodedError(code, message);
  return r;
}

// Authenticates the Bearer token and checks the role; responds and returns false on failure.
bool Authorize(ApiContext* ctx, const HttpRequest& req, const Responder& respond,
               std::string_view denied) {
  std::optional<Principal> who = AuthenticateOrRespond(*ctx->auth, req, respond);
  if (!who) return false;
  if (!auth::RoleAtLeast(who->role, auth::Role::kService)) {
    respond(TopicError(403, "FORBIDDEN", denied));
    return false;
  }
  if (!ctx->topics) {
    respond(TopicError(503, "UNAVAILABLE", "Topics are not available on this server"));
    return false;
  }
  return true;
}

// Parses the body as a JSON object; responds 400 and returns nullopt when it is not one.
std::optional<json::object> ParseBody(const HttpRequest& req, const Responder& respond) {
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec || !v.is_object()) {
    respond(TopicError(400, "BAD_REQUEST",
                       ec ? "Invalid JSON body: " + ec.message()
                          : std::string("Invalid JSON body: expected an object")));
    return std::nullopt;
  }
  return std::move(v.as_object());
}

// A required non-empty string field; responds 400 and returns nullopt otherwise.
std::optional<std::string> RequiredString(const json::object& o, std::string_view key,
                                          const Responder& respond) {
  const json::value* v = o.if_contains(key);
  if (!v || !v->is_string() || v->as_string().empty()) {
    respond(TopicError(400, "BAD_REQUEST",
                       "Field '" + std::string(key) + "' must be a non-empty string"));
    return std::nullopt;
  }
  return std::string(v->as_string());
}

// An optional unsigned integer field (default `dflt`, at most `max`); responds 400 otherwise.
std::optional<uint64_t> OptionalUnsigned(const json::object& o, std::string_view key,
                                         uint64_t dflt, uint64_t max, const Responder& respond) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return dflt;
  if (v->is_uint64() && v->as_uint64() <= max) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0 && static_cast<uint64_t>(v->as_int64()) <= max) {
    return static_cast<uint64_t>(v->as_int64());
  }
  respond(TopicError(400, "BAD_REQUEST", "Field '" + std::string(key) +
                                             "' must be a non-negative integer up to " +
                                             std::to_string(max)));
  return std::nullopt;
}

void AppendMessages(ApiContext* ctx, const topics::ConsumeResult& r, std::string* out) {
  *out += "{\"messages\":[";
  for (size_t i = 0; i < r.messages.size(); ++i) {
    const auto& m = r.messages[i];
    if (i) out->push_back(',');
    *out += "{\"topic_id\":";
    AppendJsonString(r.topic_id, out);
    *out += ",\"partition_id\":" + std::to_string(r.partition);
    *out += ",\"offset\":" + std::to_string(m.offset);
    *out += ",\"payload\":\"" + auth::Base64Encode(m.message.payload) + "\"";
    *out += ",\"key\":";
    if (m.message.key) AppendJsonString(*m.message.key, out);
    else *out += "null";
    *out += ",\"timestamp_ms\":" + std::to_string(m.message.timestamp_ms);
    if (m.message.user_id && ctx->catalog && ctx->catalog->GetUser(*m.message.user_id)) {
      *out += ",\"user\":";
      AppendJsonString(*m.message.user_id, out);
    }
    *out += ",\"op\":\"" + std::string(sql::parser::TopicOpTitle(m.message.op)) + "\"}";
  }
  *out += "]";
}

void HandleConsume(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!Authorize(ctx, req, respond, "Topic consumption requires service, dba, or system role")) {
    return;
  }
  auto body = ParseBody(req, respond);
  if (!body) return;
  topics::ConsumeRequest r;
  auto topic = RequiredString(*body, "topic_id", respond);
  if (!topic) return;
  auto group = RequiredString(*body, "group_id", respond);
  if (!group) return;
  r.topic_id = *topic;
  r.group = *group;
  if (const json::value* start = body->if_contains("start"); start && !start->is_null()) {
    bool ok = false;
    if (start->is_string()) {
      std::string s(start->as_string());
      for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (s == "latest") r.start = sql::parser::TopicStatement::Start::kLatest, ok = true;
      if (s == "earliest") r.start = sql::parser::TopicStatement::Start::kEarliest, ok = true;
    } else if (start->is_object() && start->as_object().size() == 1) {
      const auto& [key, value] = *start->as_object().begin();
      if ((key == "Offset" || key == "offset") && (value.is_uint64() ||
                                                    (value.is_int64() && value.as_int64() >= 0))) {
        r.start = sql::parser::TopicStatement::Start::kOffset;
        r.start_offset = value.is_uint64() ? value.as_uint64()
                                           : static_cast<uint64_t>(value.as_int64());
        ok = true;
      }
    }
    if (!ok) {
      respond(TopicError(400, "BAD_REQUEST",
                         "Field 'start' must be \"Latest\", \"Earliest\" or {\"Offset\": n}"));
      return;
    }
  }
  auto limit = OptionalUnsigned(*body, "limit", 100, 100000, respond);
  if (!limit) return;
  auto partition = OptionalUnsigned(*body, "partition_id", 0, UINT32_MAX, respond);
  if (!partition) return;
  auto timeout = OptionalUnsigned(*body, "timeout_seconds", 0, UINT32_MAX, respond);
  if (!timeout) return;
  r.limit = *limit;
  r.partition = static_cast<uint32_t>(*partition);
  r.wait = std::chrono::seconds(std::min<uint64_t>(*timeout, kMaxWait.count()));
  auto shared = std::make_shared<Responder>(std::move(respond));
  auto done = [ctx, shared, limit = r.limit](Result<topics::ConsumeResult> result) {
    if (!result.ok()) {
      const Status& s = result.status();
      if (s.code() == StatusCode::kNotFound) {
        (*shared)(TopicError(404, "NOT_FOUND", s.message()));
      } else if (s.code() == StatusCode::kInvalidArgument) {
        (*shared)(TopicError(400, "BAD_REQUEST", s.message()));
      } else {
        (*shared)(TopicError(500, "INTERNAL_ERROR", "Failed to fetch messages: " + s.message()));
      }
      return;
    }
    HttpResponse out;
    AppendMessages(ctx, *result, &out.body);
    out.body += ",\"next_offset\":" + std::to_string(result->next_offset);
    out.body += ",\"has_more\":";
    out.body += limit > 0 && result->messages.size() == limit ? "true}" : "false}";
    (*shared)(std::move(out));
  };
  bool queued = ctx->workers->Submit([ctx, r = std::move(r), done]() mutable {
    ctx->topics->Consume(std::move(r), done);
  });
  if (!queued) (*shared)(TopicError(503, "SHUTTING_DOWN", "Server is shutting down"));
}

void HandleAck(ApiContext* ctx, HttpRequest&& req, Responder respond) {
  if (!Authorize(ctx, req, respond,
                 "Topic acknowledgment requires service, dba, or system role")) {
    return;
  }
  auto body = ParseBody(req, respond);
  if (!body) return;
  auto topic = RequiredString(*body, "topic_id", respond);
  if (!topic) return;
  auto group = RequiredString(*body, "group_id", respond);
  if (!group) return;
  auto partition = OptionalUnsigned(*body, "partition_id", 0, UINT32_MAX, respond);
  if (!partition) return;
  if (!body->if_contains("upto_offset")) {
    respond(TopicError(400, "BAD_REQUEST", "Field 'upto_offset' is required"));
    return;
  }
  auto offset = OptionalUnsigned(*body, "upto_offset", 0, INT64_MAX, respond);
  if (!offset) return;
  auto shared = std::make_shared<Responder>(std::move(respond));
  bool queued = ctx->workers->Submit([ctx, shared, topic = *topic, group = *group,
                                      partition = static_cast<uint32_t>(*partition),
                                      offset = *offset] {
    auto acked = ctx->topics->Ack(topic, group, partition, offset);
    if (!acked.ok()) {
      const Status& s = acked.status();
      if (s.code() == StatusCode::kNotFound) {
        (*shared)(TopicError(404, "NOT_FOUND", s.message()));
      } else if (s.code() == StatusCode::kInvalidArgument) {
        (*shared)(TopicError(400, "BAD_REQUEST", s.message()));
      } else {
        (*shared)(TopicError(500, "INTERNAL_ERROR", "Failed to acknowledge offset: " +
                                                        s.message()));
      }
      return;
    }
    HttpResponse out;
    out.body = "{\"success\":true,\"acknowledged_offset\":" + std::to_string(offset) + "}";
    (*shared)(std::move(out));
  });
  if (!queued) (*shared)(TopicError(503, "SHUTTING_DOWN", "Server is shutting down"));
}

}  // namespace

void AddTopicRoutes(net::Router& router, const std::function<net::Handler(RouteFn)>& bind) {
  router.Add("POST", "/v1/api/topics/consume", bind(HandleConsume));
  router.Add("POST", "/v1/api/topics/ack", bind(HandleAck));
  router.SetExtraHandlerTime("/v1/api/topics/consume", kMaxWait + std::chrono::seconds(5));
}

}  // namespace kalam::api
