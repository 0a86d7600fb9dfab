// Snowflake id generation.
#include "common/snowflake.h"

namespace kalam {

SnowflakeGenerator::SnowflakeGenerator(uint32_t node_id, const Clock& clock)
    : node_id_(node_id & ((1u << kSnowflakeNodeBits) - 1)), clock_(clock) {}

int64_t SnowflakeGenerator::Next() {
  std::lock_guard lock(mu_);
  int64_t ms = clock_.NowMillis() - kSnowflakeEpochMillis;
  if (ms > last_ms_) {
    last_ms_ = ms;
    sequence_ = 0;
  } else if (++sequence_ >= (1 << kSnowflakeSequenceBits)) {
    ++last_ms_;
    sequence_ = 0;
  }
  return (last_ms_ << 22) | (static_cast<int64_t>(node_id_) << kSnowflakeSequenceBits) |
         sequence_;
}

void SnowflakeGenerator::AdvancePast(int64_t id) {
  std::lock_guard lock(mu_);
  int64_t ms = id >> 22;
  int64_t seq = id & ((1 << kSnowflakeSequenceBits) - 1);
  if (ms > last_ms_ || (ms == last_ms_ && seq > sequence_)) {
    last_ms_ = ms;
    sequence_ = seq;
  }
}

}  // namespace kalam
