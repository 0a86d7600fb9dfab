// LiveManager's fan-out: the commit listener, the dispatcher loop (filters evaluated once per
// distinct filter and row version, bodies encoded once per projection, each connection's events
// handed over with one SendMany) and lagging subscribers.
#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <string_view>
#include <unordered_map>

#include "common/metrics.h"
#include "live/event_encoder.h"
#include "live/live_manager.h"
#include "live/subscription.h"

namespace kalam::live {

using table::ChangeKind;
using catalog::TableDef;
using table::ChangeRecord;

namespace {

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

metrics::Counter& EventsDelivered() {
  static metrics::Counter& c = metrics::Registry::Default().GetCounter(
      "kalamdb_live_events_delivered_total",
      "Live-query change events queued on subscribers' connections");
  return c;
}

metrics::Counter& LaggingCloses() {
  static metrics::Counter& c = metrics::Registry::Default().GetCounter(
      "kalamdb_live_lagging_closes_total",
      "Subscriptions closed with SUBSCRIBER_LAGGING because their connection's queue was full");
  return c;
}

metrics::Histogram& NotifyLatency() {
  static metrics::Histogram& h = metrics::Registry::Default().GetHistogram(
      "kalamdb_live_notify_latency_seconds",
      "From a commit group's write to its events queued on every subscriber's connection",
      metrics::LatencyBuckets());
  return h;
}

}  // namespace

void LiveManager::RegisterMetrics() {
  // Registered up front so the series are scraped (at 0) before the first event.
  EventsDelivered();
  LaggingCloses();
  NotifyLatency();
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
    queue_commit_ns_.push_back(SteadyNanos());
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
  std::deque<int64_t> commit_ns;  // when each of `batches` was committed
  std::vector<int64_t> matched_ns;  // commit times of this round's batches with subscribers
  while (true) {
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      batches.swap(queue_);  // every group committed so far, in commit order
      commit_ns.swap(queue_commit_ns_);
    }
    std::lock_guard lock(mu_);
    const int64_t now_us = clock_.NowMicros();
    const bool one_change = batches.size() == 1 && batches.front().size() == 1;
    for (size_t b = 0; b < batches.size(); ++b) {
      for (const ChangeRecord& rec : batches[b]) {
        auto it = index_.find({rec.table->table_id, rec.scope});
        if (it == index_.end()) continue;
        if (matched_ns.empty() || matched_ns.back() != commit_ns[b]) {
          matched_ns.push_back(commit_ns[b]);
        }
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
    commit_ns.clear();
    if (!matched_ns.empty()) {
      const int64_t done_ns = SteadyNanos();
      for (int64_t t : matched_ns) NotifyLatency().Observe((done_ns - t) / 1e9);
      matched_ns.clear();
    }
  }
}

void LiveManager::Hand(OutBox& box, int64_t now_us, std::vector<Sub*>& lagging) {
  if (box.messages.empty()) return;
  const size_t sent = box.sink->SendMany(box.messages);
  EventsDelivered().Inc(sent);
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
  LaggingCloses().Inc();
  if (!sub.sink->SendError(sub.subscription_id, "SUBSCRIBER_LAGGING",
                           "The subscriber fell behind and the subscription was closed; "
                           "resubscribe with from = the last _seq received",
                           /*control=*/true)) {
    sub.sink->Close(1011, "SUBSCRIBER_LAGGING");
  }
}

std::optional<LiveEvent> LiveManager::EncodeEvent(const Sub& sub, const ChangeRecord& rec,
                                                  RecordScratch* scratch) {
  if (rec.seq <= sub.read_point.seq) return std::nullopt;  // already in the snapshot
  // A resume on a node behind the client's position: the client has it already.
  if (rec.seq <= sub.resume_from) return std::nullopt;
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
  event.tail = *body;
  return event;
}

}  // namespace kalam::live
