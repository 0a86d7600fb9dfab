// TopicService: the bodies of the topic_cleanup and topic_retention jobs.
#include "topics/topic_service.h"

#include <algorithm>

namespace kalam::topics {

using storage::Partition;

Status TopicService::DeleteMessages(TopicNum num, uint32_t p, uint64_t from, uint64_t to,
                                    uint64_t* messages, uint64_t* bytes) {
  if (from >= to) return Status::OK();
  storage::ReadOptions ro;
  ro.lower_bound = MessageKey(num, p, from);
  ro.upper_bound = MessageKey(num, p, to);
  auto it = kv_.NewIterator(Partition::kTopic, ro);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++*messages;
    *bytes += it->key().size() + it->value().size();
  }
  KALAM_RETURN_IF_ERROR(it->status());
  storage::WriteBatch batch;
  batch.DeleteRange(Partition::kTopic, ro.lower_bound, ro.upper_bound);
  return kv_.Write(batch);
}

Result<std::string> TopicService::ScheduleCleanup(const std::string& topic_id, TopicNum num,
                                                  bool drop, std::map<uint32_t, uint64_t> upto,
                                                  size_t offsets_deleted) {
  auto body = [this, topic_id, num, drop, upto, offsets_deleted](
                  jobs::JobContext&) -> Result<std::string> {
    uint64_t messages = 0, bytes = 0;
    if (drop) {
      // Every partition of the topic: the key range of `num`.
      storage::ReadOptions ro;
      ro.lower_bound = MessageKey(num, 0, 0);
      ro.upper_bound = MessageKey(num + 1, 0, 0);
      auto it = kv_.NewIterator(Partition::kTopic, ro);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ++messages;
        bytes += it->key().size() + it->value().size();
      }
      KALAM_RETURN_IF_ERROR(it->status());
      storage::WriteBatch batch;
      batch.DeleteRange(Partition::kTopic, ro.lower_bound, ro.upper_bound);
      for (uint32_t p = 0; p < kMaxTopicPartitions; ++p) {
        batch.Delete(Partition::kMeta, NextOffsetKey(num, p));
        batch.Delete(Partition::kMeta, LowOffsetKey(num, p));
      }
      KALAM_RETURN_IF_ERROR(kv_.Write(batch));
      std::lock_guard lock(mu_);
      std::erase_if(next_, [&](const auto& e) { return e.first.first == num; });
      std::erase_if(low_, [&](const auto& e) { return e.first.first == num; });
    } else {
      for (const auto& [p, to] : upto) {
        KALAM_RETURN_IF_ERROR(DeleteMessages(num, p, 0, to, &messages, &bytes));
      }
    }
    return "Cleaned up topic '" + topic_id + "' - " + std::to_string(offsets_deleted) +
           " consumer group offsets deleted, " + std::to_string(messages) +
           " messages deleted, " + std::to_string(bytes) + " bytes freed";
  };
  const std::string params = "{\"topic_id\":\"" + topic_id + "\"}";
  const std::string key = std::string(drop ? "drop_topic:" : "clear_topic:") + std::to_string(num);
  if (!jobs_) {
    jobs::JobContext ctx;
    KALAM_ASSIGN_OR_RETURN(std::string message, body(ctx));
    (void)message;  // no job record to carry it without a job manager (unit tests)
    return std::string("TC-inline");
  }
  bool already = false;
  return jobs_->Submit("TC", "topic_cleanup", key, params, body, &already);
}

// ---- retention --------------------------------------------------------------------------------

bool TopicService::RetentionDue() {
  std::vector<std::shared_ptr<const Topic>> topics;
  std::map<PartitionKey, std::pair<uint64_t, uint64_t>> ranges;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, t] : topics_) {
      topics.push_back(t);
      for (uint32_t p = 0; p < t->def.partitions; ++p) {
        const PartitionKey pk{t->def.num, p};
        ranges[pk] = {low_.count(pk) ? low_[pk] : 0, next_.count(pk) ? next_[pk] : 0};
      }
    }
  }
  const int64_t now_ms = clock_.NowMillis();
  for (const auto& t : topics) {
    for (uint32_t p = 0; p < t->def.partitions; ++p) {
      auto [low, next] = ranges[{t->def.num, p}];
      if (low >= next) continue;
      storage::ReadOptions ro;
      ro.lower_bound = MessageKey(t->def.num, p, 0);
      ro.upper_bound = MessageKey(t->def.num, p, next);
      auto it = kv_.NewIterator(Partition::kTopic, ro);
      it->SeekToFirst();
      if (!it->Valid()) continue;
      uint64_t offset = 0;
      TopicNum n = 0;
      uint32_t part = 0;
      if (ParseMessageKey(it->key(), &n, &part, &offset) && offset < low) return true;
      auto m = Message::Decode(it->value());
      if (t->def.retention_seconds > 0 && m.ok() &&
          m->timestamp_ms < now_ms - t->def.retention_seconds * 1000) {
        return true;
      }
      if (t->def.retention_max_bytes > 0 &&
          kv_.ApproximateSize(Partition::kTopic, ro.lower_bound, ro.upper_bound) >
              static_cast<uint64_t>(t->def.retention_max_bytes)) {
        return true;
      }
    }
  }
  return false;
}

Result<std::string> TopicService::EnforceRetention() {
  std::vector<std::shared_ptr<const Topic>> topics;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, t] : topics_) topics.push_back(t);
  }
  const int64_t now_ms = clock_.NowMillis();
  uint64_t messages = 0, bytes = 0;
  size_t partitions = 0;
  for (const auto& t : topics) {
    const TopicNum num = t->def.num;
    for (uint32_t p = 0; p < t->def.partitions; ++p) {
      uint64_t low = 0, next = 0;
      {
        std::lock_guard lock(mu_);
        if (auto it = low_.find({num, p}); it != low_.end()) low = it->second;
        if (auto it = next_.find({num, p}); it != next_.end()) next = it->second;
      }
      uint64_t cut = low;
      storage::ReadOptions ro;
      ro.lower_bound = MessageKey(num, p, 0);
      ro.upper_bound = MessageKey(num, p, next);
      if (t->def.retention_seconds > 0) {
        const int64_t cutoff = now_ms - t->def.retention_seconds * 1000;
        auto it = kv_.NewIterator(Partition::kTopic, ro);
        for (it->Seek(MessageKey(num, p, low)); it->Valid(); it->Next()) {
          KALAM_ASSIGN_OR_RETURN(Message m, Message::Decode(it->value()));
          if (m.timestamp_ms >= cutoff) break;
          TopicNum n = 0;
          uint32_t part = 0;
          uint64_t offset = 0;
          if (ParseMessageKey(it->key(), &n, &part, &offset)) cut = std::max(cut, offset + 1);
        }
        KALAM_RETURN_IF_ERROR(it->status());
      }
      if (t->def.retention_max_bytes > 0) {
        uint64_t total = 0;
        auto it = kv_.NewIterator(Partition::kTopic, ro);
        for (it->SeekToLast(); it->Valid(); it->Prev()) {
          total += it->key().size() + it->value().size();
          if (total > static_cast<uint64_t>(t->def.retention_max_bytes)) {
            TopicNum n = 0;
            uint32_t part = 0;
            uint64_t offset = 0;
            if (ParseMessageKey(it->key(), &n, &part, &offset)) cut = std::max(cut, offset + 1);
            break;
          }
        }
        KALAM_RETURN_IF_ERROR(it->status());
      }
      const uint64_t before = messages;
      // Everything below `cut` goes, including what CLEAR TOPIC already hid below `low`.
      KALAM_RETURN_IF_ERROR(DeleteMessages(num, p, 0, cut, &messages, &bytes));
      if (cut > low) {
        storage::WriteBatch batch;
        batch.Put(Partition::kMeta, LowOffsetKey(num, p), U64Bytes(cut));
        KALAM_RETURN_IF_ERROR(kv_.Write(batch));
        std::lock_guard lock(mu_);
        low_[{num, p}] = std::max(low_[{num, p}], cut);
      }
      if (messages > before) ++partitions;
    }
  }
  return "Topic retention: " + std::to_string(messages) + " messages deleted (" +
         std::to_string(bytes) + " bytes) from " + std::to_string(partitions) + " partition(s)";
}

}  // namespace kalam::topics
