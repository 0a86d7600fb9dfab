// LiveManager: registry, snapshots and fan-out; change events are encoded by live/event_encoder.
#include "live/live_manager.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <boost/json.hpp>

#include "common/value_json.h"
#include "live/event_encoder.h"

namespace kalam::live {

namespace json = boost::json;
using catalog::TableDef;
using table::ChangeKind;
using table::ChangeRecord;

struct LiveManager::Sub {
  std::string live_id;
  std::string subscription_id;
  std::shared_ptr<LiveSink> sink;
  uint64_t conn_id = 0;
  sql::Caller caller;
  std::shared_ptr<const TableDef> table;  // as subscribed; changes may carry newer versions
  std::string scope;
  std::string ns, table_name;
  std::vector<std::string> columns;  // projected user columns (lower case), in order
  std::string projection_key;        // `columns` as one string: equal keys, equal bodies
  std::shared_ptr<const FilterEngine::Filter> filter;
  std::string query, where_sql;
  SubscribeOptions options;

  // Snapshot state (guarded by LiveManager::mu_).
  bool loading = true;
  commit::CommitPipeline::ReadPoint read_point;
  int64_t cursor_seq = 0;     // the snapshot (or resume) has been read up to this `_seq`
  int64_t delivered_seq = 0;  // the largest `_seq` handed to the client so far (0: none)
  int batch_num = 0;
  bool awaiting_next = false;
  std::vector<ChangeRecord> held;  // changes committed while loading

  bool lagging = false;  // told SUBSCRIBER_LAGGING; being dropped (guarded by mu_)
  uint64_t changes = 0;
  int64_t created_at_us = 0;
  int64_t last_update_us = 0;
};

namespace {

std::string Quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

LiveManager::LiveManager(catalog::Catalog& catalog, sql::Executor& executor,
                         commit::CommitPipeline& pipeline, const Clock& clock,
                         LiveManagerOptions options)
    : catalog_(catalog),
      executor_(executor),
      pipeline_(pipeline),
      clock_(clock),
      options_(std::move(options)) {}

LiveManager::~LiveManager() { Stop(); }

Status LiveManager::Start() {
  KALAM_ASSIGN_OR_RETURN(filters_, FilterEngine::Create());
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  pipeline_.AddListener([this](const std::vector<ChangeRecord>& recs) { OnCommit(recs); });
  return Status::OK();
}

void LiveManager::Stop() {
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
}

struct LiveManager::RecordScratch {
  // Bodies by projection key, then ChangeEventKind (insert, update, delete); null = not encoded
  // yet. The keys view Sub::projection_key of subscriptions alive for the whole record.
  std::unordered_map<std::string_view, std::array<std::shared_ptr<const SharedTail>, 3>> bodies;
  // Filter results by (filter, old row version?).
  std::map<std::pair<const FilterEngine::Filter*, bool>, bool> matches;
  void Clear() {
    bodies.clear();
    matches.clear();
  }
};

void LiveManager::OnCommit(const std::vector<ChangeRecord>& records) {
  // Runs on the committing thread before the next group may commit: with no subscription at
  // all, copy nothing. (A subscription registers before it takes its read point, which waits for
  // the group being written, so a commit after that read point always sees it counted here.)
  if (subscriptions_.load(std::memory_order_seq_cst) == 0) return;
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return;
    queue_.push_back(records);
  }
  queue_cv_.notify_one();
}

struct LiveManager::OutBox {
  std::shared_ptr<LiveSink> sink;
  std::vector<LiveEvent> messages;
  std::vector<Sub*> subs;  // subs[i] is whom messages[i] is for (alive: mu_ is held)
};

struct LiveManager::Outboxes {
  std::unordered_map<uint64_t, OutBox> boxes;  // by connection id
  size_t messages = 0;                         // in all boxes
};

namespace {
// A dispatch round hands a connection its events (one SendMany) when its subscribers of a change
// are done if the round is that one change (nothing to batch with: hand over early, so that
// writing overlaps encoding); otherwise at the end of the round, or once the connection has
// kMaxBoxMessages (far below the transport's queue, 1024 by default, so that batching never makes
// a subscriber that keeps up look lagging), or once kMaxRoundMessages are waiting in all.
constexpr size_t kMaxBoxMessages = 128;
constexpr size_t kMaxRoundMessages = 16384;
}  // namespace

void LiveManager::DispatchLoop() {
  std::deque<std::vector<ChangeRecord>> batches;
  RecordScratch scratch;
  Outboxes outboxes;
  std::vector<Sub*> lagging;
  while (true) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      batches.swap(queue_);  // every group committed so far, in commit order
    }
    std::lock_guard lock(mu_);
    const int64_t now_us = clock_.NowMicros();
    const bool one_change = batches.size() == 1 && batches.front().size() == 1;
    for (const auto& batch : batches) {
      for (const ChangeRecord& rec : batch) {
        auto it = index_.find({rec.table->table_id, rec.scope});
        if (it == index_.end()) continue;
        scratch.Clear();
        const std::vector<SubPtr>& subs = it->second;  // grouped by connection
        for (size_t i = 0; i < subs.size(); ++i) {
          Sub& sub = *subs[i];
          if (sub.loading) {
            sub.held.push_back(rec);
          } else if (!sub.lagging) {  // (a lagging one is dropped after this change)
            if (std::optional<LiveEvent> event = EncodeEvent(sub, rec, &scratch)) {
              OutBox& box = outboxes.boxes[sub.conn_id];
              if (!box.sink) box.sink = sub.sink;
              box.messages.push_back(std::move(*event));
              box.subs.push_back(&sub);
              ++outboxes.messages;
              if (box.messages.size() >= kMaxBoxMessages) {
                outboxes.messages -= box.messages.size();
                Hand(box, now_us, lagging);
              }
            }
          }
          if (one_change && (i + 1 == subs.size() || subs[i + 1]->conn_id != sub.conn_id)) {
            if (auto box = outboxes.boxes.find(sub.conn_id); box != outboxes.boxes.end()) {
              outboxes.messages -= box->second.messages.size();
              Hand(box->second, now_us, lagging);
            }
          }
        }
        if (outboxes.messages >= kMaxRoundMessages) {
          for (auto& [key, box] : outboxes.boxes) Hand(box, now_us, lagging);
          outboxes.messages = 0;
        }
        DropLagging(lagging);  // after the loop over `subs`, which Drop edits
      }
    }
    scratch.Clear();
    for (auto& [key, box] : outboxes.boxes) Hand(box, now_us, lagging);
    outboxes.boxes.clear();
    outboxes.messages = 0;
    DropLagging(lagging);
    batches.clear();
  }
}

void LiveManager::Hand(OutBox& box, int64_t now_us, std::vector<Sub*>& lagging) {
  if (box.messages.empty()) return;
  const size_t sent = box.sink->SendMany(box.messages);
  for (size_t i = 0; i < box.subs.size(); ++i) {
    Sub* sub = box.subs[i];
    if (i < sent) {
      ++sub->changes;
      sub->last_update_us = now_us;
    } else if (!sub->lagging) {
      // Never a silent gap: what was queued is a prefix of its events, then this notice.
      sub->lagging = true;
      ReportLagging(*sub);
      lagging.push_back(sub);
    }
  }
  box.messages.clear();
  box.subs.clear();
}

void LiveManager::DropLagging(std::vector<Sub*>& lagging) {
  for (Sub* sub : lagging) {
    auto it = by_live_id_.find(sub->live_id);
    if (it != by_live_id_.end() && it->second.get() == sub) Drop(it->second);
  }
  lagging.clear();
}

void LiveManager::ReportLagging(const Sub& sub) {
  if (!sub.sink->SendError(sub.subscription_id, "SUBSCRIBER_LAGGING",
                           "The subscriber fell behind and the subscription was closed; "
                           "resubscribe with from = the last _seq received",
                           /*control=*/true)) {
    sub.sink->Close(1011, "SUBSCRIBER_LAGGING");
  }
}

void LiveManager::SendError(const std::shared_ptr<LiveSink>& sink,
                            const std::string& subscription_id, const std::string& code,
                            const std::string& message) {
  sink->SendError(subscription_id, code, message, /*control=*/false);
}

void LiveManager::Drop(SubPtr sub) {
  auto it = index_.find({sub->table->table_id, sub->scope});
  if (it != index_.end()) {
    auto& v = it->second;
    auto gone = std::remove(v.begin(), v.end(), sub);
    if (gone != v.end()) subscriptions_.fetch_sub(1, std::memory_order_seq_cst);
    v.erase(gone, v.end());
    if (v.empty()) index_.erase(it);
  }
  by_conn_.erase({sub->conn_id, sub->subscription_id});
  by_live_id_.erase(sub->live_id);
  if (auto u = per_user_.find(sub->caller.user_id); u != per_user_.end() && --u->second == 0) {
    per_user_.erase(u);
  }
}

std::optional<LiveEvent> LiveManager::EncodeEvent(const Sub& sub, const ChangeRecord& rec,
                                                  RecordScratch* scratch) {
  if (rec.seq <= sub.read_point.seq) return std::nullopt;  // already in the snapshot
  const TableDef& t = *rec.table;
  // `old_row`: the version being replaced (update, delete) rather than the new one.
  auto matches = [&](const std::vector<Value>& values, int64_t seq, bool old_row) {
    if (!sub.filter) return true;
    if (!scratch) return filters_->Matches(*sub.filter, t, values, seq, false);
    auto [it, fresh] = scratch->matches.try_emplace({sub.filter.get(), old_row}, false);
    if (fresh) it->second = filters_->Matches(*sub.filter, t, values, seq, false);
    return it->second;
  };
  bool now = false, before = false;
  switch (rec.kind) {
    case ChangeKind::kInsert: now = matches(rec.values, rec.seq, false); break;
    case ChangeKind::kUpdate:
      now = matches(rec.values, rec.seq, false);
      before = matches(rec.old_values, rec.previous_seq, true);
      break;
    case ChangeKind::kDelete: before = matches(rec.values, rec.previous_seq, true); break;
  }
  if (!now && !before) return std::nullopt;
  const ChangeEventKind kind = now && before ? ChangeEventKind::kUpdate
                              : now             ? ChangeEventKind::kInsert
                                                : ChangeEventKind::kDelete;
  std::shared_ptr<const SharedTail> local;
  std::shared_ptr<const SharedTail>* body = &local;  // everything after the subscription_id
  if (scratch) body = &scratch->bodies[sub.projection_key][static_cast<size_t>(kind)];
  if (!*body) {
    *body = std::make_shared<const SharedTail>(ChangeEventBody(t, sub.columns, rec, kind));
  }
  LiveEvent event;
  event.head = ChangeEventHead(sub.subscription_id);
  event.body = *body;
  return event;
}

void LiveManager::Subscribe(const std::shared_ptr<LiveSink>& sink, const sql::Caller& caller,
                            const std::string& subscription_id, const std::string& query,
                            SubscribeOptions options) {
  if (subscription_id.empty() || subscription_id.size() > 128) {
    return SendError(sink, subscription_id, "INVALID_SUBSCRIPTION_ID",
                     "Subscription id must be 1 to 128 characters");
  }
  auto parsed = ParseSubscriptionQuery(query);
  if (auto* e = std::get_if<LiveError>(&parsed)) {
    return SendError(sink, subscription_id, e->code, e->message);
  }
  SubscriptionQuery& q = std::get<SubscriptionQuery>(parsed);
  const std::string ns = q.ns.empty() ? std::string(catalog::kDefaultNamespace)
                                      : catalog::LowerName(q.ns);
  if (ns == catalog::kSystemNamespace) {
    if (!auth::RoleAtLeast(caller.role, auth::Role::kDba)) {
      return SendError(sink, subscription_id, "UNAUTHORIZED",
                       "System tables are readable by dba and system roles only");
    }
    return SendError(sink, subscription_id, "UNSUPPORTED",
                     "Live queries on system tables are not supported");
  }
  auto def = catalog_.snapshot()->FindTable(ns, q.table);
  if (!def) {
    return SendError(sink, subscription_id, "NOT_FOUND",
                     "Table '" + ns + "." + catalog::LowerName(q.table) + "' does not exist");
  }
  auto sub = std::make_shared<Sub>();
  sub->subscription_id = subscription_id;
  sub->sink = sink;
  sub->conn_id = sink->connection_id();
  sub->caller = caller;
  sub->table = def;
  sub->scope = def->type == catalog::TableType::kShared ? std::string() : caller.user_id;
  sub->ns = ns;
  sub->table_name = def->table_name;
  sub->query = query;
  sub->where_sql = q.where_sql;
  options.batch_size = std::clamp<uint32_t>(options.batch_size, 1, options_.max_batch_size);
  if (options.last_rows) options.last_rows = std::min(*options.last_rows, options.batch_size);
  sub->options = options;
  sub->live_id = caller.user_id + "-" + std::to_string(sub->conn_id) + "-" + subscription_id;
  sub->created_at_us = sub->last_update_us = clock_.NowMicros();
  if (q.columns.empty()) {
    for (const auto& c : def->columns) sub->columns.push_back(c.name);
  } else {
    for (const auto& c : q.columns) {
      std::string name = catalog::LowerName(c);
      if (name == "_seq") continue;  // always delivered
      if (def->FindColumn(name) < 0) {
        return SendError(sink, subscription_id, "INVALID_SQL",
                         "Column '" + c + "' does not exist in table '" + def->QualifiedName() +
                             "'");
      }
      sub->columns.push_back(name);
    }
  }
  for (const auto& c : sub->columns) {
    sub->projection_key += std::to_string(c.size()) + ":" + c;  // unambiguous for any name
  }
  if (!q.where_tokens.empty()) {
    auto filter = filters_->Compile(*def, q.where_tokens, q.statement_text);
    if (!filter.ok()) {
      return SendError(sink, subscription_id, "INVALID_SQL", filter.status().message());
    }
    sub->filter = std::move(*filter);
  }
  // Permission and validity: the subscriber's own SELECT over the table, with no rows.
  {
    std::string cols;
    for (const auto& c : sub->columns) cols += Quote(c) + ", ";
    sql::SqlRequest probe;
    probe.sql = "SELECT " + cols + "_seq FROM " + Quote(ns) + "." + Quote(def->table_name) +
                " WHERE (" + (q.where_sql.empty() ? std::string("1") : q.where_sql) +
                ") AND 0";
    auto r = executor_.Execute(probe, caller);
    if (!r.error.ok()) {
      const StatusCode c = r.error.code();
      std::string code = c == StatusCode::kPermissionDenied ? "UNAUTHORIZED"
                         : c == StatusCode::kTableNotFound  ? "NOT_FOUND"
                         : c == StatusCode::kInvalidSql     ? "INVALID_SQL"
                                                            : "SUBSCRIPTION_FAILED";
      return SendError(sink, subscription_id, code, r.error.message());
    }
  }
  {
    std::lock_guard lock(mu_);
    if (by_conn_.count({sub->conn_id, subscription_id})) {
      return SendError(sink, subscription_id, "INVALID_SUBSCRIPTION_ID",
                       "Subscription '" + subscription_id + "' already exists on this connection");
    }
    size_t on_conn = 0;
    for (auto it = by_conn_.lower_bound({sub->conn_id, ""});
         it != by_conn_.end() && it->first.first == sub->conn_id; ++it) {
      ++on_conn;
    }
    if (on_conn >= options_.max_subscriptions_per_connection) {
      return SendError(sink, subscription_id, "SUBSCRIPTION_LIMIT_EXCEEDED",
                       "Too many subscriptions on this connection (at most " +
                           std::to_string(options_.max_subscriptions_per_connection) + ")");
    }
    auto user_count = per_user_.find(caller.user_id);
    if (options_.max_subscriptions_per_user != 0 && user_count != per_user_.end() &&
        user_count->second >= options_.max_subscriptions_per_user) {
      return SendError(sink, subscription_id, "SUBSCRIPTION_LIMIT_EXCEEDED",
                       "Too many subscriptions for user '" + caller.user_id + "' (at most " +
                           std::to_string(options_.max_subscriptions_per_user) +
                           " across all connections)");
    }
    // Registered (holding changes) before the read point is taken: every commit after the read
    // point reaches `held`, every commit before it is in the snapshot.
    // Kept grouped by connection, so that the dispatcher knows when a connection's subscribers
    // of a change are done.
    auto& subs = index_[{def->table_id, sub->scope}];
    auto last = std::find_if(subs.rbegin(), subs.rend(),
                             [&](const SubPtr& s) { return s->conn_id == sub->conn_id; });
    subs.insert(last == subs.rend() ? subs.end() : last.base(), sub);
    subscriptions_.fetch_add(1, std::memory_order_seq_cst);
    by_conn_[{sub->conn_id, subscription_id}] = sub;
    by_live_id_[sub->live_id] = sub;
    ++per_user_[caller.user_id];
  }
  sub->read_point = pipeline_.TakeReadPoint();
  sub->cursor_seq = options.from.value_or(0);
  SendBatch(sub);
}

void LiveManager::SendBatch(const SubPtr& sub) {
  const SubscribeOptions& o = sub->options;
  std::string cols;
  for (const auto& c : sub->columns) cols += Quote(c) + ", ";
  const std::string from = Quote(sub->ns) + "." + Quote(sub->table_name);
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
    out.push_back(LiveEvent{
        SubscriptionAckJson(sub->subscription_id, ack_control, res.schema, user_cols), nullptr});
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

void LiveManager::Unsubscribe(uint64_t connection_id, const std::string& subscription_id) {
  std::lock_guard lock(mu_);
  auto it = by_conn_.find({connection_id, subscription_id});
  if (it != by_conn_.end()) Drop(it->second);
}

void LiveManager::CloseConnection(uint64_t connection_id) {
  std::lock_guard lock(mu_);
  std::vector<SubPtr> subs;
  for (auto it = by_conn_.lower_bound({connection_id, ""});
       it != by_conn_.end() && it->first.first == connection_id; ++it) {
    subs.push_back(it->second);
  }
  for (const auto& s : subs) Drop(s);
}

size_t LiveManager::CountOnTable(catalog::TableId table) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto it = index_.lower_bound({table, ""}); it != index_.end() && it->first.first == table;
       ++it) {
    n += it->second.size();
  }
  return n;
}

std::vector<sql::LiveQueryInfo> LiveManager::List() const {
  std::lock_guard lock(mu_);
  std::vector<sql::LiveQueryInfo> out;
  for (const auto& [id, s] : by_live_id_) {
    sql::LiveQueryInfo i;
    i.live_id = s->live_id;
    i.connection_id = std::to_string(s->conn_id);
    i.subscription_id = s->subscription_id;
    i.namespace_id = s->ns;
    i.table_name = s->table_name;
    i.user_id = s->caller.user_id;
    i.query = s->query;
    i.options_json = s->options.json;
    i.status = s->loading ? "loading" : "active";
    i.created_at_us = s->created_at_us;
    i.last_update_us = s->last_update_us;
    i.changes = s->changes;
    i.node_id = options_.node_id;
    out.push_back(std::move(i));
  }
  return out;
}

Status LiveManager::Kill(std::string_view live_id) {
  std::lock_guard lock(mu_);
  auto it = by_live_id_.find(std::string(live_id));
  if (it == by_live_id_.end()) {
    return Status::NotFound("Live query '" + std::string(live_id) + "' does not exist");
  }
  SubPtr sub = it->second;
  SendError(sub->sink, sub->subscription_id, "SUBSCRIPTION_FAILED",
            "Live query killed by an administrator");
  Drop(sub);
  return Status::OK();
}

}  // namespace kalam::live
