// SubscriptionState: dedup, resume cursor and resubscription decisions for one subscription.
#include "subscription_state.h"

#include <algorithm>

#include "wire.h"

namespace kalam::client {

namespace json = boost::json;

namespace {

// Snowflake epoch of `_seq` (2024-01-01T00:00:00Z) in Unix milliseconds; time bits start at 22.
constexpr int64_t kSeqEpochMs = 1704067200000;
constexpr int kSeqTimeShift = 22;
// Consecutive server-side closes without an ack in between that end a subscription for good.
constexpr int kMaxResubscribeFailures = 10;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SubscriptionState::SubscriptionState(SubscribeRequest request) : request_(std::move(request)) {
  if (request_.from) last_seq_ = cursor_ = *request_.from;
}

std::string SubscriptionState::NextSubscribeMessage(std::chrono::milliseconds clock_slack) {
  sent_ = true;
  acked_ = false;
  resume_deletes_ = false;
  ++attempt_;
  int64_t from = -1;
  if (cursor_ > 0) {
    from = cursor_;
  } else if (ever_acked_ && acked_at_ms_ > 0) {
    // Nothing delivered yet: resume from shortly before the first ack.
    const int64_t ms = acked_at_ms_ - clock_slack.count() - kSeqEpochMs;
    from = ms > 0 ? (ms << kSeqTimeShift) : 0;
  }
  resuming_ = from >= 0 && (ever_acked_ || request_.from.has_value());
  floor_ = resuming_ ? from : 0;
  catching_up_ = resuming_;
  json::object sub;
  sub["id"] = request_.id;
  sub["sql"] = request_.sql;
  const SubscribeRequest& r = request_;
  if (resuming_) {
    json::object o;
    if (r.batch_size) o["batch_size"] = r.batch_size;
    o["from"] = from;
    sub["options"] = std::move(o);
  } else if (r.initial_data || r.last_rows || r.batch_size || r.from) {
    json::object o;
    if (r.batch_size) o["batch_size"] = r.batch_size;
    if (r.last_rows) o["last_rows"] = r.last_rows;
    if (r.from) o["from"] = *r.from;
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
  if (ever_acked_) return;  // a resume: the consumer already knows the subscription
  ever_acked_ = true;
  acked_at_ms_ = NowMs();
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
      if (seq != 0 && seq <= last_seq_) continue;  // delivered before
      last_seq_ = std::max(last_seq_, seq);
      ev.seq = std::max(ev.seq, seq);
      ev.rows.push_back(std::move(row));
    }
  }
  if (!catching_up_) cursor_ = last_seq_;
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
  } else if (resuming_) {
    resume_deletes_ = true;
  }
  // After a resume only batches with rows matter to the consumer.
  if (!resuming_ || !ev.rows.empty()) events->push_back(std::move(ev));
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
  const bool is_delete = ev.type == LiveEventType::kDelete;
  for (const auto& r : is_delete ? ev.old_rows : ev.rows) ev.seq = std::max(ev.seq, r.seq());
  if (ev.seq != 0) {
    if (resuming_ && ev.seq <= floor_) return;  // delivered before the reconnect
    if (catching_up_ && resume_deletes_ && is_delete) {
      // A delete replayed by the resume (or a live one; they cannot be told apart).
      if (!catch_up_deletes_.insert(ev.seq).second) return;  // an earlier catch-up's
      ev.catch_up = true;
    } else if (ev.seq <= last_seq_) {
      return;  // duplicate
    }
    if (catching_up_ && !is_delete) {
      // The first live insert/update: the resume's deletes are all behind us.
      catching_up_ = false;
      resume_deletes_ = false;
    }
    last_seq_ = std::max(last_seq_, ev.seq);
    if (!catching_up_) {
      cursor_ = last_seq_;
      catch_up_deletes_.clear();
    }
  }
  events->push_back(std::move(ev));
}

std::optional<std::chrono::milliseconds> SubscriptionState::OnServerClose(
    std::string_view code, const LiveOptions& options) {
  // A subscription that worked and that the server ended on its own (a slow consumer, KILL
  // LIVE QUERY — possibly again before the resubscription was acknowledged) is subscribed again
  // from the cursor: at once the first time, then with back-off.
  if (!options.resubscribe_on_server_close || !(acked_ || ever_acked_)) return std::nullopt;
  if (code != "SUBSCRIBER_LAGGING" && code != "SUBSCRIPTION_FAILED") return std::nullopt;
  if (++failures_since_ack_ > kMaxResubscribeFailures) return std::nullopt;
  MarkUnsent();
  if (failures_since_ack_ == 1) return std::chrono::milliseconds(0);
  const int doublings = std::min(failures_since_ack_ - 2, 16);
  return std::min(options.reconnect_min_delay * (1 << doublings), options.reconnect_max_delay);
}

}  // namespace kalam::client
