// LiveManager's fan-out: the commit listener, the dispatcher loop (filters evaluated once per
// distinct filter and row version, bodies encoded once per projection, each connection's events
// handed over with one SendMany) and lagging subscribers.
#include <algorithm>
#include <array>
#include <map>
#include <string_view>
#include <unordered_map>

#include "live/event_encoder.h"
#include "live/live_manager.h"
#include "live/subscription.h"

namespace kalam::live {

using table::ChangeKind;
using catalog::TableDef;
using table::ChangeRecord;

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
  event.tail = *body;
  return event;
}

}  // namespace kalam::live
