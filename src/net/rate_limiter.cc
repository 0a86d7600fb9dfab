// Token-bucket rate limiting per client and per connection.
#include "net/rate_limiter.h"

#include <algorithm>

namespace kalam::net {

bool TokenBucket::Take(uint32_t per_second, Clock::time_point now) {
  if (per_second == 0) return true;
  if (!started_) {
    started_ = true;
    tokens_ = per_second;
  } else {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(per_second, tokens_ + elapsed * per_second);
  }
  last_ = now;
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

bool RateLimiter::Allow(std::string_view key, Clock::time_point now) {
  if (per_second_ == 0) return true;
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > std::chrono::seconds(60)) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (now - it->second.last_take() > std::chrono::seconds(60)) it = buckets_.erase(it);
      else ++it;
    }
    last_sweep_ = now;
  }
  return buckets_[std::string(key)].Take(per_second_, now);
}

}  // namespace kalam::net
