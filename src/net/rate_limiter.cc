// Token-bucket rate limiting per client.
#include "net/rate_limiter.h"

#include <algorithm>

namespace kalam::net {

bool RateLimiter::Allow(std::string_view key, Clock::time_point now) {
  if (per_second_ == 0) return true;
  std::lock_guard lock(mu_);
  if (now - last_sweep_ > std::chrono::seconds(60)) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (now - it->second.last > std::chrono::seconds(60)) it = buckets_.erase(it);
      else ++it;
    }
    last_sweep_ = now;
  }
  auto [it, inserted] = buckets_.try_emplace(std::string(key), Bucket{double(per_second_), now});
  Bucket& b = it->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min<double>(per_second_, b.tokens + elapsed * per_second_);
    b.last = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace kalam::net
