// LiveManager: the registry of subscriptions (subscribe with its checks and limits, unsubscribe,
// closed connections, system.live, KILL). Fan-out is in live/fanout.cc, snapshots and resume in
// live/snapshot.cc, event encoding in live/event_encoder.
#include "live/live_manager.h"

#include <algorithm>
#include <string_view>

#include "live/subscription.h"
#include "sql/access.h"

namespace kalam::live {

using table::ChangeRecord;

LiveManager::LiveManager(catalog::Catalog& catalog, sql::Executor& executor,
                         commit::CommitShards shards, const Clock& clock,
                         LiveManagerOptions options)
    : catalog_(catalog),
      executor_(executor),
      shards_(std::move(shards)),
      clock_(clock),
      options_(std::move(options)) {}

LiveManager::~LiveManager() { Stop(); }

Status LiveManager::Start() {
  RegisterMetrics();
  KALAM_ASSIGN_OR_RETURN(filters_, FilterEngine::Create());
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  shards_.AddListener([this](const std::vector<ChangeRecord>& recs) { OnCommit(recs); });
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
    if (gone != v.end()) {
      subscriptions_.fetch_sub(1, std::memory_order_seq_cst);
      std::lock_guard scopes(scopes_mu_);
      auto count = scope_counts_.find(it->first);
      if (count != scope_counts_.end() && --count->second == 0) scope_counts_.erase(count);
    }
    v.erase(gone, v.end());
    if (v.empty()) index_.erase(it);
  }
  by_conn_.erase({sub->conn_id, sub->subscription_id});
  by_live_id_.erase(sub->live_id);
  if (auto u = per_user_.find(sub->caller.user_id); u != per_user_.end() && --u->second == 0) {
    per_user_.erase(u);
  }
}

void LiveManager::Subscribe(const std::shared_ptr<LiveSink>& sink, const sql::Caller& caller,
                            const std::string& subscription_id, const std::string& query,
                            SubscribeOptions options) {
  if (subscription_id.empty() || subscription_id.size() > 128) {
    return SendError(sink, subscription_id, "INVALID_SUBSCRIPTION_ID",
                     "Subscription id must be 1 to 128 characters");
  }
  if (options.from) {
    for (const auto& [backup_seq, resumed_at] : options_.foreign_seq_ranges) {
      if (*options.from > backup_seq && *options.from < resumed_at) {
        return SendError(
            sink, subscription_id, "SUBSCRIPTION_FAILED",
            "Cannot resume from _seq " + std::to_string(*options.from) +
                ": this server was restored from a backup taken at _seq " +
                std::to_string(backup_seq) +
                ", and changes after that point are not part of its data. Subscribe again "
                "without 'from' to load a fresh snapshot");
      }
    }
  }
  auto parsed = ParseSubscriptionQuery(query);
  if (auto* e = std::get_if<LiveError>(&parsed)) {
    return SendError(sink, subscription_id, e->code, e->message);
  }
  SubscriptionQuery& q = std::get<SubscriptionQuery>(parsed);
  const std::string ns = q.ns.empty() ? std::string(catalog::kDefaultNamespace)
                                      : catalog::LowerName(q.ns);
  if (ns == catalog::kSystemNamespace) {
    if (!sql::MayReadSystemTables(caller.role)) {
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
    for (const auto& c : sub->columns) cols += QuoteIdentifier(c) + ", ";
    sql::SqlRequest probe;
    probe.sql = "SELECT " + cols + "_seq FROM " + QuoteIdentifier(ns) + "." + QuoteIdentifier(def->table_name) +
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
    sub->resume_from = options.from.value_or(0);  // before any change can reach it
    // Registered (holding changes) before the read point is taken: every commit after the read
    // point reaches `held`, every commit before it is in the snapshot.
    // Kept grouped by connection, so that the dispatcher knows when a connection's subscribers
    // of a change are done.
    auto& subs = index_[{def->table_id, sub->scope}];
    auto last = std::find_if(subs.rbegin(), subs.rend(),
                             [&](const SubPtr& s) { return s->conn_id == sub->conn_id; });
    subs.insert(last == subs.rend() ? subs.end() : last.base(), sub);
    subscriptions_.fetch_add(1, std::memory_order_seq_cst);
    {
      std::lock_guard scopes(scopes_mu_);
      ++scope_counts_[{def->table_id, sub->scope}];
    }
    by_conn_[{sub->conn_id, subscription_id}] = sub;
    by_live_id_[sub->live_id] = sub;
    ++per_user_[caller.user_id];
  }
  // `_seq`s are ordered within a shard only: the snapshot/resume boundary is the scope's shard's.
  sub->read_point = shards_.For(def->type, sub->scope).TakeReadPoint();
  sub->cursor_seq = options.from.value_or(0);
  SendBatch(sub);
}

bool LiveManager::HasSubscriber(catalog::TableId table, const std::string& scope) const {
  std::lock_guard lock(scopes_mu_);
  return scope_counts_.count({table, scope}) > 0;
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

size_t LiveManager::EndWhere(
    const std::function<bool(const catalog::TableDef& table, const std::string& scope)>& matches,
    const std::string& message) {
  std::lock_guard lock(mu_);
  std::vector<SubPtr> ended;
  for (const auto& [key, subs] : index_) {
    for (const auto& sub : subs) {
      if (matches(*sub->table, sub->scope)) ended.push_back(sub);
    }
  }
  for (auto& sub : ended) {
    SendError(sub->sink, sub->subscription_id, "SUBSCRIPTION_FAILED", message);
    Drop(sub);
  }
  return ended.size();
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
