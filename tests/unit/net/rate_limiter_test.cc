// Tests for the per-client token-bucket rate limiter.
#include "net/rate_limiter.h"

#include <gtest/gtest.h>

namespace kalam::net {
namespace {

TEST(RateLimiterTest, AllowsABurstOfTheRateThenRefillsOverTime) {
  RateLimiter limiter(5);
  auto t = RateLimiter::Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Allow("1.2.3.4", t)) << i;
  EXPECT_FALSE(limiter.Allow("1.2.3.4", t));
  EXPECT_TRUE(limiter.Allow("5.6.7.8", t));  // other clients are unaffected
  EXPECT_FALSE(limiter.Allow("1.2.3.4", t + std::chrono::milliseconds(100)));
  EXPECT_TRUE(limiter.Allow("1.2.3.4", t + std::chrono::milliseconds(250)));
}

TEST(RateLimiterTest, ZeroMeansUnlimited) {
  RateLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Allow("x"));
  EXPECT_FALSE(limiter.enabled());
}

TEST(TokenBucketTest, StartsFullRefillsAtTheRateAndNeverHoldsMoreThanOneSecond) {
  TokenBucket bucket;
  auto t = TokenBucket::Clock::now();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.Take(4, t)) << i;
  EXPECT_FALSE(bucket.Take(4, t));
  EXPECT_EQ(bucket.last_take(), t);
  EXPECT_TRUE(bucket.Take(4, t + std::chrono::milliseconds(250)));
  EXPECT_FALSE(bucket.Take(4, t + std::chrono::milliseconds(300)));
  const auto later = t + std::chrono::seconds(60);  // a long pause refills only the burst
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.Take(4, later)) << i;
  EXPECT_FALSE(bucket.Take(4, later));
  EXPECT_TRUE(TokenBucket().Take(0, t));  // 0 = unlimited
}

}  // namespace
}  // namespace kalam::net
