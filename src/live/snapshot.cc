// LiveManager's snapshot and resume: each step (ack, one initial_data_batch, replayed deletes,
// then the changes held meanwhile) read at the subscription's read point in `_seq` order and
// handed over with one SendMany.
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "common/value_json.h"
#include "live/event_encoder.h"
#include "live/live_manager.h"
#include "live/subscription.h"

namespace kalam::live {

using table::ChangeRecord;
namespace json = boost::json;

void LiveManager::SendBatch(const SubPtr& sub) {
  const SubscribeOptions& o = sub->options;
  std::string cols;
  for (const auto& c : sub->columns) cols += QuoteIdentifier(c) + ", ";
  const std::string from = QuoteIdentifier(sub->ns) + "." + QuoteIdentifier(sub->table_name);
  const std::string where = sub->where_sql.empty() ? "1" : sub->where_sql;
  const bool resume = o.from.has_value();
  std::string sql;
  if (!o.snapshot) {
    sql = "SELECT " + cols + "_seq FROM " + from + " WHERE 0";
  } else if (resume) {
    sql = "SELECT " + cols + "_seq, _deleted, CASE WHEN (" + where +
          ") THEN 1 ELSE 0 END AS kalam_match FROM " + from + " WHERE _deleted >= 0 AND _seq > " +
          std::to_string(sub->cursor_seq) + " ORDER BY _seq LIMIT " +
          std::to_string(o.batch_size + 1);
  } else if (o.last_rows) {
    sql = "SELECT * FROM (SELECT " + cols + "_seq FROM " + from + " WHERE (" + where +
          ") ORDER BY _seq DESC LIMIT " + std::to_string(*o.last_rows) + ") ORDER BY _seq";
  } else {
    sql = "SELECT " + cols + "_seq FROM " + from + " WHERE (" + where + ") AND _seq > " +
          std::to_string(sub->cursor_seq) + " ORDER BY _seq LIMIT " +
          std::to_string(o.batch_size + 1);
  }
  sql::SqlRequest req;
  req.sql = sql;
  req.read_snapshot = sub->read_point.snapshot;
  req.read_seq = sub->read_point.seq;
  auto r = executor_.Execute(req, sub->caller);
  // The ack's total_rows: the rows a full snapshot will deliver, counted at the same read point
  // when they do not all fit in the first batch (one extra scan, only then); for a resume, the
  // rows of its first step when that step is all there is, else 0 (unknown).
  uint64_t total_rows = 0;
  const bool first_step = sub->batch_num == 0;
  if (first_step && o.snapshot && !resume && !o.last_rows && r.error.ok() && !r.results.empty() &&
      (r.results[0].row_count > o.batch_size || r.results[0].truncated)) {
    sql::SqlRequest count;
    count.sql = "SELECT count(*) FROM " + from + " WHERE (" + where + ")";
    count.read_snapshot = sub->read_point.snapshot;
    count.read_seq = sub->read_point.seq;
    auto counted = executor_.Execute(count, sub->caller);
    // A failed count leaves total_rows 0 ("unknown", as the protocol allows); the snapshot query
    // above is what reports a real failure to the subscriber.
    if (counted.error.ok() && !counted.results.empty()) {
      // rows_json is `["<n>"]`: count(*) is a BIGINT, sent as a JSON string.
      const json::value n = json::parse(counted.results[0].rows_json);
      total_rows = std::stoull(std::string(n.as_array()[0].as_string()));
    }
  }
  std::lock_guard lock(mu_);
  if (!by_live_id_.count(sub->live_id)) return;  // unsubscribed meanwhile
  if (!r.error.ok() || r.results.empty()) {
    SendError(sub->sink, sub->subscription_id, "SUBSCRIPTION_FAILED",
              r.error.ok() ? "Snapshot query returned nothing" : r.error.message());
    Drop(sub);
    return;
  }
  const sql::StatementResult& res = r.results[0];
  // Rows come as JSON arrays in schema order; WebSocket rows are objects keyed by column name.
  json::value parsed = json::parse("[" + res.rows_json + "]");
  const auto& arr = parsed.as_array();
  const size_t user_cols = sub->columns.size() + 1;  // + _seq
  // One step of the snapshot, in `_seq` order: the batch's rows, then (on a resume) the deletes
  // that follow them — tombstones, and rows that no longer match — as `delete` events. The step
  // ends before a row that follows a delete: that row goes in the next batch, so everything the
  // subscription delivers has a larger `_seq` than what it delivered before.
  std::string rows;
  size_t sent = 0;
  std::vector<LiveEvent> deletes;
  int64_t batch_last_seq = sub->delivered_seq;  // last_seq_id: what the client has after the batch
  int64_t step_last_seq = sub->delivered_seq;
  bool more = false;
  for (size_t i = 0; i < arr.size(); ++i) {
    if (o.snapshot && !o.last_rows && i >= o.batch_size) {
      more = true;
      break;
    }
    const auto& row = arr[i].as_array();
    const bool gone =
        resume && (row[user_cols].as_bool() || row[user_cols + 1].as_string() != "1");
    if (!gone && !deletes.empty()) {
      more = true;
      break;
    }
    const int64_t seq = std::stoll(std::string(row[sub->columns.size()].as_string()));
    sub->cursor_seq = step_last_seq = seq;
    std::string obj = "{";
    for (size_t c = 0; c < user_cols; ++c) {
      if (c) obj.push_back(',');
      AppendJsonString(c < sub->columns.size() ? sub->columns[c] : std::string("_seq"), &obj);
      obj.push_back(':');
      obj += json::serialize(row[c]);
    }
    if (gone) {
      std::string ev = ChangeEventHead(sub->subscription_id);
      ev += ",\"change_type\":\"delete\",\"old_values\":[" + obj + ",\"_deleted\":true}]}";
      deletes.push_back(LiveEvent{std::move(ev), nullptr});
      continue;
    }
    batch_last_seq = seq;
    obj.push_back('}');
    if (sent++) rows.push_back(',');
    rows += obj;
  }
  // The probe row (LIMIT batch_size + 1) can be cut by limits.max_query_limit when the batch is
  // that large: a truncated result has rows past the ones read, so the snapshot goes on.
  if (res.truncated && !o.last_rows) more = true;
  // `ready` comes last: a step that ends with deletes has more to come, if only an empty batch.
  const bool has_more = more || !deletes.empty();
  const bool first = sub->batch_num == 0;
  // last_seq_id never names a `_seq` the client has not been sent: on a batch, the largest it has
  // got (null before anything); on the ack, the read point of a changes-only subscription (its
  // position: every earlier commit is behind it, every later one will be delivered), else null.
  auto control = [&](std::optional<int64_t> last_seq_id) {
    return BatchControlJson(sub->batch_num, has_more, last_seq_id);
  };
  std::vector<LiveEvent> out;
  if (first) {
    const std::string ack_control =
        control(o.snapshot ? std::nullopt : std::optional<int64_t>(sub->read_point.seq));
    if (total_rows == 0 && o.snapshot && !has_more) total_rows = sent;  // it all fits in batch 0
    out.push_back(LiveEvent{SubscriptionAckJson(sub->subscription_id, total_rows, ack_control,
                                                res.schema, user_cols),
                            nullptr});
  }
  if (o.snapshot) {
    const std::string batch_control =
        control(batch_last_seq > 0 ? std::optional<int64_t>(batch_last_seq) : std::nullopt);
    out.push_back(
        LiveEvent{InitialDataBatchJson(sub->subscription_id, rows, batch_control), nullptr});
  }
  const size_t first_change = out.size();
  for (auto& d : deletes) out.push_back(std::move(d));
  sub->delivered_seq = step_last_seq;
  ++sub->batch_num;
  sub->awaiting_next = has_more;
  if (!has_more) {
    // Snapshot complete: the changes held meanwhile follow, skipping what the snapshot already
    // contains (EncodeEvent drops `_seq` at or below the read point).
    sub->loading = false;
    std::vector<ChangeRecord> held;
    held.swap(sub->held);
    sub->read_point.snapshot.reset();
    for (const auto& rec : held) {
      if (auto event = EncodeEvent(*sub, rec, nullptr)) out.push_back(std::move(*event));
    }
  }
  // The whole step at one go; what does not fit in the connection's queue makes the subscription
  // lag (never a silent gap).
  const size_t queued = sub->sink->SendMany(out);
  if (queued > first_change) {
    sub->changes += queued - first_change;
    sub->last_update_us = clock_.NowMicros();
  }
  if (queued < out.size()) {
    sub->lagging = true;
    ReportLagging(*sub);
    Drop(sub);
  }
}

void LiveManager::NextBatch(uint64_t connection_id, const std::string& subscription_id) {
  SubPtr sub;
  {
    std::lock_guard lock(mu_);
    auto it = by_conn_.find({connection_id, subscription_id});
    if (it == by_conn_.end() || !it->second->awaiting_next) return;
    sub = it->second;
    sub->awaiting_next = false;
  }
  SendBatch(sub);
}

}  // namespace kalam::live
