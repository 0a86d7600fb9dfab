// Claims and cursors of a consumer group on one partition.
#include "topics/consumer_group.h"

#include <algorithm>
#include <limits>

namespace kalam::topics {

uint64_t ConsumerGroup::NextWindow(uint64_t start, int64_t now_ms, uint64_t* stop) {
  for (auto it = claims_.begin(); it != claims_.end();) {
    if (it->expires_ms <= now_ms) {
      if (cursor_) cursor_ = std::min(*cursor_, it->begin);
      it = claims_.erase(it);
    } else {
      ++it;
    }
  }
  if (!cursor_) cursor_ = committed_ ? *committed_ + 1 : start;
  if (committed_) cursor_ = std::max(*cursor_, *committed_ + 1);
  uint64_t begin = *cursor_;
  for (const auto& c : claims_) {
    if (c.begin <= begin && begin < c.end) begin = c.end;
  }
  *stop = std::numeric_limits<uint64_t>::max();
  for (const auto& c : claims_) {
    if (c.begin >= begin) {
      *stop = c.begin;
      break;
    }
  }
  return begin;
}

void ConsumerGroup::Take(uint64_t begin, uint64_t end, int64_t expires_ms) {
  Claim c{begin, end, expires_ms};
  auto pos = std::lower_bound(claims_.begin(), claims_.end(), begin,
                              [](const Claim& a, uint64_t b) { return a.begin < b; });
  claims_.insert(pos, c);
  cursor_ = end;
}

uint64_t ConsumerGroup::Ack(uint64_t offset) {
  committed_ = committed_ ? std::max(*committed_, offset) : offset;
  std::erase_if(claims_, [&](const Claim& c) { return c.end <= *committed_ + 1; });
  cursor_ = std::max(cursor_.value_or(0), *committed_ + 1);
  return *committed_;
}

}  // namespace kalam::topics
