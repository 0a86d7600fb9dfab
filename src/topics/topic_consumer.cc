// TopicService: fetches, claims, acknowledgements and the long-poll notifier.
#include "topics/topic_service.h"

#include <algorithm>
#include <limits>

#include <spdlog/spdlog.h>

namespace kalam::topics {

using sql::parser::TopicStatement;
using storage::Partition;

// ---- consumption ------------------------------------------------------------------------------

Result<ConsumeResult> TopicService::ConsumeNow(const ConsumeRequest& request) {
  auto topic = Find(request.topic_id);
  if (!topic) return TopicNotFound(request.topic_id);
  if (request.partition >= topic->def.partitions) {
    return Status::InvalidArgument("Partition " +
                                   std::to_string(request.partition) + " does not exist in topic '" +
                                   request.topic_id + "' (it has " +
                                   std::to_string(topic->def.partitions) + " partition(s))");
  }
  const TopicNum num = topic->def.num;
  const PartitionKey pk{num, request.partition};
  std::unique_lock groups(groups_mu_, std::defer_lock);
  if (request.group) groups.lock();
  uint64_t latest = 0, low = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = next_.find(pk); it != next_.end()) latest = it->second;
    if (auto it = low_.find(pk); it != low_.end()) low = it->second;
  }
  uint64_t start = 0;
  switch (request.start) {
    case TopicStatement::Start::kEarliest:
    case TopicStatement::Start::kDefault: start = low; break;
    case TopicStatement::Start::kLatest: start = latest; break;
    case TopicStatement::Start::kOffset: start = request.start_offset; break;
  }
  const int64_t now_ms = clock_.NowMillis();
  uint64_t stop = std::numeric_limits<uint64_t>::max();
  ConsumerGroup* group = nullptr;
  uint64_t begin = start;
  if (request.group) {
    GroupKey gk{num, request.partition, *request.group};
    auto it = groups_.find(gk);
    if (it == groups_.end()) it = groups_.emplace(gk, StoredGroup(gk)).first;
    group = &it->second;
    begin = group->NextWindow(start, now_ms, &stop);
  }
  begin = std::max(begin, low);
  ConsumeResult result;
  result.topic_id = request.topic_id;
  result.partition = request.partition;
  result.next_offset = begin;
  const uint64_t end = std::min(latest, stop);
  if (request.limit == 0 || begin >= end) return result;
  storage::ReadOptions ro;
  ro.lower_bound = MessageKey(num, request.partition, begin);
  ro.upper_bound = MessageKey(num, request.partition, end);
  auto it = kv_.NewIterator(Partition::kTopic, ro);
  for (it->SeekToFirst(); it->Valid() && result.messages.size() < request.limit; it->Next()) {
    TopicNum n = 0;
    uint32_t p = 0;
    uint64_t offset = 0;
    if (!ParseMessageKey(it->key(), &n, &p, &offset)) {
      return Status::Corruption("Bad topic message key");
    }
    KALAM_ASSIGN_OR_RETURN(Message m, Message::Decode(it->value()));
    result.messages.push_back(ConsumedMessage{offset, std::move(m)});
  }
  KALAM_RETURN_IF_ERROR(it->status());
  if (!result.messages.empty()) {
    result.next_offset = result.messages.back().offset + 1;
    if (group) {
      group->Take(result.messages.front().offset, result.next_offset,
                  now_ms + options_.visibility_timeout.count());
    }
  }
  return result;
}

void TopicService::Consume(ConsumeRequest request, ConsumeCallback done) {
  uint64_t latest_seen = 0;
  if (auto topic = Find(request.topic_id)) {
    std::lock_guard lock(mu_);
    if (auto it = next_.find({topic->def.num, request.partition}); it != next_.end()) {
      latest_seen = it->second;
    }
  }
  auto result = ConsumeNow(request);
  if (!result.ok() || !result->messages.empty() || request.wait.count() <= 0 ||
      request.limit == 0) {
    done(std::move(result));
    return;
  }
  const auto wait = std::min<std::chrono::milliseconds>(request.wait, options_.max_wait);
  Waiter w;
  w.deadline = std::chrono::steady_clock::now() + wait;
  w.empty = std::move(*result);
  w.request = std::move(request);
  w.done = std::move(done);
  Register(std::move(w), latest_seen);
}

void TopicService::Register(Waiter waiter, uint64_t latest_seen) {
  auto topic = Find(waiter.request.topic_id);
  {
    std::unique_lock lock(mu_);
    if (!stopping_ && topic) {
      const PartitionKey pk{topic->def.num, waiter.request.partition};
      auto it = next_.find(pk);
      // A commit between the fetch and now must not be missed: look again at once.
      if (it != next_.end() && it->second != latest_seen) dirty_.insert(pk);
      waiters_[pk].push_back(std::move(waiter));
      waiters_changed_ = true;
      lock.unlock();
      cv_.notify_all();
      return;
    }
  }
  waiter.done(std::move(waiter.empty));
}

void TopicService::NotifierLoop() {
  std::unique_lock lock(mu_);
  auto last_retention = std::chrono::steady_clock::now();
  while (!stopping_) {
    auto wake = std::chrono::steady_clock::time_point::max();
    for (const auto& [k, list] : waiters_) {
      for (const auto& w : list) wake = std::min(wake, w.deadline);
    }
    if (options_.retention_check_interval.count() > 0) {
      wake = std::min(wake, last_retention + options_.retention_check_interval);
    }
    waiters_changed_ = false;
    cv_.wait_until(lock, wake, [&] { return stopping_ || !dirty_.empty() || waiters_changed_; });
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    std::vector<Waiter> retry, expired;
    for (const auto& pk : dirty_) {
      auto it = waiters_.find(pk);
      if (it == waiters_.end()) continue;
      for (auto& w : it->second) retry.push_back(std::move(w));
      waiters_.erase(it);
    }
    dirty_.clear();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      auto& list = it->second;
      for (auto w = list.begin(); w != list.end();) {
        if (w->deadline <= now) {
          expired.push_back(std::move(*w));
          w = list.erase(w);
        } else {
          ++w;
        }
      }
      it = list.empty() ? waiters_.erase(it) : std::next(it);
    }
    const bool retention_due = options_.retention_check_interval.count() > 0 &&
                               now >= last_retention + options_.retention_check_interval;
    if (retention_due) last_retention = now;
    lock.unlock();
    for (auto& w : retry) {
      uint64_t latest_seen = 0;
      if (auto topic = Find(w.request.topic_id)) {
        std::lock_guard l(mu_);
        if (auto it = next_.find({topic->def.num, w.request.partition}); it != next_.end()) {
          latest_seen = it->second;
        }
      }
      auto result = ConsumeNow(w.request);
      if (!result.ok() || !result->messages.empty() || w.deadline <= now) {
        w.done(std::move(result));
      } else {
        Register(std::move(w), latest_seen);
      }
    }
    for (auto& w : expired) w.done(std::move(w.empty));
    if (retention_due && RetentionDue()) {
      if (jobs_) {
        bool already = false;
        auto job = jobs_->Submit("TR", "topic_retention", "topic_retention", "{}",
                                 [this](jobs::JobContext&) { return EnforceRetention(); },
                                 &already);
        if (!job.ok()) spdlog::error("Topic retention job not queued: {}", job.status().ToString());
      } else {
        auto r = EnforceRetention();
        if (!r.ok()) spdlog::error("Topic retention failed: {}", r.status().ToString());
      }
    }
    lock.lock();
  }
}

ConsumerGroup TopicService::StoredGroup(const GroupKey& gk) const {
  auto c = committed_.find(gk);
  if (c == committed_.end()) return ConsumerGroup(std::nullopt);
  return ConsumerGroup(c->second.committed, c->second.acked);
}

Result<uint64_t> TopicService::Ack(const std::string& topic_id, const std::string& group,
                                   uint32_t partition, uint64_t offset) {
  auto topic = Find(topic_id);
  if (!topic) return TopicNotFound(topic_id);
  if (partition >= topic->def.partitions) {
    return Status::InvalidArgument("Partition " + std::to_string(partition) +
                                   " does not exist in topic '" + topic_id + "' (it has " +
                                   std::to_string(topic->def.partitions) + " partition(s))");
  }
  const TopicNum num = topic->def.num;
  std::lock_guard groups(groups_mu_);
  uint64_t latest = 0, low = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = next_.find({num, partition}); it != next_.end()) latest = it->second;
    if (auto it = low_.find({num, partition}); it != low_.end()) low = it->second;
  }
  if (offset >= latest) {
    return Status::InvalidArgument(
        "Cannot acknowledge offset " + std::to_string(offset) +
        " of topic '" + topic_id + "' partition " + std::to_string(partition) + ": " +
        (latest == 0 ? std::string("the partition has no messages")
                     : "the newest offset is " + std::to_string(latest - 1)));
  }
  GroupKey gk{num, partition, group};
  auto it = groups_.find(gk);
  if (it == groups_.end()) it = groups_.emplace(gk, StoredGroup(gk)).first;
  ConsumerGroup& g = it->second;
  const std::optional<uint64_t> before = g.committed();
  g.Ack(offset, low);
  // Persist the committed offset and the acknowledged ranges above it, so a restart redelivers
  // only what nobody acknowledged.
  GroupRecord rec;
  rec.committed = g.committed();
  rec.acked = g.acked();
  rec.updated_ms = g.committed() != before || !committed_.count(gk)
                       ? clock_.NowMillis()
                       : committed_[gk].updated_ms;
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, GroupOffsetKey(num, partition, group), rec.Encode());
  KALAM_RETURN_IF_ERROR(kv_.Write(batch));
  committed_[gk] = std::move(rec);
  return offset;
}

}  // namespace kalam::topics
