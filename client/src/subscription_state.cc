// SubscriptionState: dedup, resume position and resubscription decisions for one subscription.
#include "subscription_state.h"

#include <algorithm>

#include "wire.h"

namespace kalam::client {

namespace json = boost::json;

namespace {

// Consecutive server-side closes without an ack in between that end a subscription for good.
constexpr int kMaxResubscribeFailures = 10;

}  // namespace

SubscriptionState::SubscriptionState(SubscribeRequest request) : request_(std::move(request)) {
  if (request_.from) {
    last_seq_ = *request_.from;
    positioned_ = true;
  }
}

bool SubscriptionState::Advance(int64_t seq) {
  if (seq == 0) return true;  // nothing to order by
  if (seq <= last_seq_) return false;
  last_seq_ = seq;
  positioned_ = true;
  return true;
}

std::string SubscriptionState::NextSubscribeMessage() {
  sent_ = true;
  acked_ = false;
  ++attempt_;
  resuming_ = positioned_;
  const SubscribeRequest& r = request_;
  changes_only_ = !resuming_ && !(r.initial_data || r.last_rows || r.batch_size);
  json::object sub;
  sub["id"] = r.id;
  sub["sql"] = r.sql;
  if (resuming_) {
    json::object o;
    if (r.batch_size) o["batch_size"] = r.batch_size;
    o["from"] = last_seq_;
    sub["options"] = std::move(o);
  } else if (!changes_only_) {
    json::object o;
    if (r.batch_size) o["batch_size"] = r.batch_size;
    if (r.last_rows) o["last_rows"] = r.last_rows;
    sub["options"] = std::move(o);
  }
  json::object msg;
  msg["type"] = "subscribe";
  msg["subscription"] = std::move(sub);
  return json::serialize(msg);
}

void SubscriptionState::OnAck(const json::object& msg, std::vector<LiveEvent>* events) {
  if (auto* schema = msg.if_contains("schema")) schema_ = wire::ParseSchema(*schema);
  acked_ = true;
  failures_since_ack_ = 0;
  // A changes-only subscription starts at the read point its ack names. (On a subscription with
  // initial data the position comes from the rows themselves.)
  if (changes_only_) {
    if (auto* bc = msg.if_contains("batch_control"); bc && bc->is_object()) {
      if (auto* ls = bc->get_object().if_contains("last_seq_id"); ls && ls->is_number()) {
        Advance(ls->to_number<int64_t>());
      }
    }
  }
  if (ever_acked_) return;  // a resume: the consumer already knows the subscription
  ever_acked_ = true;
  LiveEvent ev;
  ev.type = LiveEventType::kSubscribed;
  ev.subscription_id = request_.id;
  ev.schema = schema_;
  events->push_back(std::move(ev));
}

void SubscriptionState::OnBatch(const json::object& msg, std::vector<LiveEvent>* events,
                                std::vector<std::string>* replies) {
  LiveEvent ev;
  ev.type = LiveEventType::kInitialRows;
  ev.subscription_id = request_.id;
  ev.catch_up = resuming_;
  if (auto* rows = msg.if_contains("rows"); rows && rows->is_array()) {
    for (const auto& r : rows->get_array()) {
      if (!r.is_object()) continue;
      LiveRow row = wire::DecodeLiveRow(r.get_object(), schema_);
      const int64_t seq = row.seq();
      if (!Advance(seq)) continue;  // delivered before
      ev.seq = std::max(ev.seq, seq);
      ev.rows.push_back(std::move(row));
    }
  }
  bool has_more = false;
  json::value last_seq_id = nullptr;
  if (auto* bc = msg.if_contains("batch_control"); bc && bc->is_object()) {
    if (auto* hm = bc->get_object().if_contains("has_more"); hm && hm->is_bool()) {
      has_more = hm->get_bool();
    }
    if (auto* ls = bc->get_object().if_contains("last_seq_id")) last_seq_id = *ls;
  }
  ev.ready = !has_more;
  if (has_more) {
    json::object next;
    next["type"] = "next_batch";
    next["subscription_id"] = request_.id;
    next["last_seq_id"] = last_seq_id;
    replies->push_back(json::serialize(next));
  }
  // After a resume only batches with rows matter to the consumer.
  if (!resuming_ || !ev.rows.empty()) events->push_back(std::move(ev));
  if (!has_more) resuming_ = false;  // caught up: what follows is live
}

void SubscriptionState::OnChange(const json::object& msg, std::vector<LiveEvent>* events) {
  const std::string kind = wire::StringField(msg, "change_type");
  LiveEvent ev;
  ev.subscription_id = request_.id;
  if (kind == "insert") {
    ev.type = LiveEventType::kInsert;
  } else if (kind == "update") {
    ev.type = LiveEventType::kUpdate;
  } else if (kind == "delete") {
    ev.type = LiveEventType::kDelete;
  } else {
    return;
  }
  auto decode = [&](std::string_view key, std::vector<LiveRow>* out) {
    if (auto* rows = msg.if_contains(key); rows && rows->is_array()) {
      for (const auto& r : rows->get_array()) {
        if (r.is_object()) out->push_back(wire::DecodeLiveRow(r.get_object(), schema_));
      }
    }
  };
  decode("rows", &ev.rows);
  decode("old_values", &ev.old_rows);
  for (const auto& r : ev.type == LiveEventType::kDelete ? ev.old_rows : ev.rows) {
    ev.seq = std::max(ev.seq, r.seq());
  }
  if (!Advance(ev.seq)) return;  // duplicate
  ev.catch_up = resuming_;        // a delete the resume replays between its batches
  events->push_back(std::move(ev));
}

std::optional<std::chrono::milliseconds> SubscriptionState::OnServerClose(
    std::string_view code, const LiveOptions& options) {
  // A subscription that worked and that the server ended on its own (a slow consumer, KILL
  // LIVE QUERY — possibly again before the resubscription was acknowledged) is subscribed again
  // from last_seq: at once the first time, then with back-off.
  if (!options.resubscribe_on_server_close || !(acked_ || ever_acked_)) return std::nullopt;
  if (code != "SUBSCRIBER_LAGGING" && code != "SUBSCRIPTION_FAILED") return std::nullopt;
  if (++failures_since_ack_ > kMaxResubscribeFailures) return std::nullopt;
  MarkUnsent();
  if (failures_since_ack_ == 1) return std::chrono::milliseconds(0);
  const int doublings = std::min(failures_since_ack_ - 2, 16);
  return std::min(options.reconnect_min_delay * (1 << doublings), options.reconnect_max_delay);
}

}  // namespace kalam::client
