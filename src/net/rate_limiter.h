// Token-bucket rate limiting: TokenBucket (one client or connection) and RateLimiter (per-key
// buckets, for the request-level guards of PROTOCOL.md §1–§2); the WebSocket per-connection
// message limit of §4 is a TokenBucket too.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kalam::net {

// One token bucket: `per_second` tokens a second on average, at most `per_second` held (the
// burst); full at the first Take. The rate is passed to each Take, so many buckets of one rate
// cost no more than their state. Not thread-safe.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // True if a token is available at `now` (and takes it); false if the bucket is empty. Always
  // true when per_second is 0 (unlimited).
  bool Take(uint32_t per_second, Clock::time_point now);

  // The time of the last Take that counted (the epoch before any).
  Clock::time_point last_take() const { return last_; }

 private:
  double tokens_ = 0;
  Clock::time_point last_{};
  bool started_ = false;
};

// Each key may make `per_second` requests per second on average, with bursts up to `per_second`.
// Keys idle for a minute are forgotten, so memory stays bounded by the number of active clients.
// Thread-safe.
class RateLimiter {
 public:
  using Clock = TokenBucket::Clock;

  // per_second == 0 disables the limiter (Allow always true).
  explicit RateLimiter(uint32_t per_second) : per_second_(per_second) {}

  // True if `key` may make a request now (and counts it); false if it is over its rate.
  bool Allow(std::string_view key, Clock::time_point now = Clock::now());

  bool enabled() const { return per_second_ > 0; }

 private:
  const uint32_t per_second_;
  std::mutex mu_;
  std::unordered_map<std::string, TokenBucket> buckets_;  // guarded by mu_
  Clock::time_point last_sweep_{};                         // guarded by mu_
};

}  // namespace kalam::net
