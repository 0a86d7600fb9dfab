// RateLimiter: per-key (client IP) token buckets, for the request-level guards of PROTOCOL.md §1–§2.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kalam::net {

// Each key may make `per_second` requests per second on average, with bursts up to `per_second`.
// Keys idle for a minute are forgotten, so memory stays bounded by the number of active clients.
// Thread-safe.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // per_second == 0 disables the limiter (Allow always true).
  explicit RateLimiter(uint32_t per_second) : per_second_(per_second) {}

  // True if `key` may make a request now (and counts it); false if it is over its rate.
  bool Allow(std::string_view key, Clock::time_point now = Clock::now());

  bool enabled() const { return per_second_ > 0; }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  const uint32_t per_second_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
  Clock::time_point last_sweep_{};                    // guarded by mu_
};

}  // namespace kalam::net
