// Live-query messages over WebSocket.
#include "api/live_ws.h"

#include <boost/json.hpp>

namespace kalam::api {

namespace json = boost::json;

namespace {

void SendError(WsConnection& conn, std::string_view id, std::string_view code,
               std::string_view message) {
  conn.SendError(id, code, message, /*control=*/false);
}

std::optional<int64_t> Int64Field(const json::object& o, std::string_view key, bool* bad) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64() && v->as_uint64() <= INT64_MAX) return static_cast<int64_t>(v->as_uint64());
  if (v->is_string()) {
    try {
      size_t used = 0;
      int64_t n = std::stoll(std::string(v->as_string()), &used);
      if (used == v->as_string().size()) return n;
    } catch (...) {
    }
  }
  *bad = true;
  return std::nullopt;
}

}  // namespace

void LiveWsApplication::OnOpen(const std::shared_ptr<WsConnection>& conn) {
  std::lock_guard lock(mu_);
  lanes_[conn->id()] = std::make_shared<Lane>();
}

void LiveWsApplication::OnClose(uint64_t connection_id) {
  Enqueue(connection_id, [this, connection_id] { live_.CloseConnection(connection_id); });
  std::lock_guard lock(mu_);
  lanes_.erase(connection_id);
}

void LiveWsApplication::Enqueue(uint64_t connection_id, std::function<void()> task) {
  std::shared_ptr<Lane> lane;
  {
    std::lock_guard lock(mu_);
    auto it = lanes_.find(connection_id);
    if (it == lanes_.end()) {
      task();  // the connection is gone: only cleanup tasks get here; run them now
      return;
    }
    lane = it->second;
  }
  {
    std::lock_guard lock(lane->mu);
    lane->tasks.push_back(std::move(task));
    if (lane->running) return;
    lane->running = true;
  }
  workers_.Submit([lane] {
    while (true) {
      std::function<void()> next;
      {
        std::lock_guard lock(lane->mu);
        if (lane->tasks.empty()) {
          lane->running = false;
          return;
        }
        next = std::move(lane->tasks.front());
        lane->tasks.pop_front();
      }
      next();
    }
  });
}

void LiveWsApplication::OnMessage(const std::shared_ptr<WsConnection>& conn,
                                  json::object message) {
  Enqueue(conn->id(), [this, conn, message = std::move(message)] { Handle(conn, message); });
}

void LiveWsApplication::Handle(const std::shared_ptr<WsConnection>& conn,
                               const json::object& message) {
  const std::string_view type = message.at("type").as_string();
  const Principal& who = conn->principal();
  if (type == "subscribe") {
    const json::value* sub = message.if_contains("subscription");
    if (!sub || !sub->is_object()) {
      return SendError(*conn, "", "INVALID_SQL", "subscribe needs a `subscription` object");
    }
    const json::object& s = sub->as_object();
    const json::value* id = s.if_contains("id");
    if (!id || !id->is_string() || id->as_string().empty()) {
      return SendError(*conn, "", "INVALID_SUBSCRIPTION_ID",
                       "subscription.id must be a non-empty string");
    }
    const std::string sid(id->as_string());
    const json::value* sql = s.if_contains("sql");
    if (!sql || !sql->is_string()) {
      return SendError(*conn, sid, "INVALID_SQL", "subscription.sql must be a string");
    }
    live::SubscribeOptions options;
    if (const json::value* o = s.if_contains("options"); o && !o->is_null()) {
      if (!o->is_object()) {
        return SendError(*conn, sid, "INVALID_SQL", "subscription.options must be an object");
      }
      const json::object& opts = o->as_object();
      options.snapshot = true;
      options.json = json::serialize(opts);
      bool bad = false;
      if (auto b = Int64Field(opts, "batch_size", &bad); b && *b > 0) {
        options.batch_size = static_cast<uint32_t>(std::min<int64_t>(*b, UINT32_MAX));
      }
      if (auto n = Int64Field(opts, "last_rows", &bad); n && *n > 0) {
        options.last_rows = static_cast<uint32_t>(std::min<int64_t>(*n, UINT32_MAX));
      }
      auto from = Int64Field(opts, "from", &bad);
      if (!from) from = Int64Field(opts, "from_seq_id", &bad);
      if (from) options.from = *from;
      if (bad) {
        return SendError(*conn, sid, "INVALID_SQL",
                         "options batch_size, last_rows and from must be integers");
      }
    }
    live_.Subscribe(conn, sql::Caller{who.user_id, who.role}, sid,
                    std::string(sql->as_string()), std::move(options));
  } else if (type == "next_batch" || type == "unsubscribe") {
    const json::value* id = message.if_contains("subscription_id");
    if (!id || !id->is_string()) {
      return SendError(*conn, "", "INVALID_SUBSCRIPTION_ID", "subscription_id must be a string");
    }
    if (type == "next_batch") live_.NextBatch(conn->id(), std::string(id->as_string()));
    else live_.Unsubscribe(conn->id(), std::string(id->as_string()));
  }
}

}  // namespace kalam::api
