// Snowflake ids (PROTOCOL.md §5): `_seq` values and SNOWFLAKE_ID() defaults.
#pragma once

#include <cstdint>
#include <mutex>

#include "common/clock.h"

namespace kalam {

// Milliseconds of 2024-01-01T00:00:00Z since the Unix epoch: the Snowflake epoch.
inline constexpr int64_t kSnowflakeEpochMillis = 1704067200000;
inline constexpr int kSnowflakeNodeBits = 10;
inline constexpr int kSnowflakeSequenceBits = 12;

// Unix milliseconds encoded in a Snowflake id.
inline int64_t SnowflakeMillis(int64_t id) { return (id >> 22) + kSnowflakeEpochMillis; }

// The smallest Snowflake id whose time is `unix_millis` (for `_seq` range bounds).
inline int64_t SnowflakeFloor(int64_t unix_millis) {
  return (unix_millis - kSnowflakeEpochMillis) << 22;
}

// Generates strictly increasing 64-bit ids: 41 bits of milliseconds since 2024-01-01, 10 bits of
// node id, 12 bits of per-millisecond sequence. If the clock goes backwards or one millisecond's
// 4096 ids run out, it borrows from the next millisecond instead of blocking, so ids never repeat
// and never decrease. Thread-safe.
class SnowflakeGenerator {
 public:
  SnowflakeGenerator(uint32_t node_id, const Clock& clock);

  int64_t Next();

  // Makes every later id greater than `id` (used at startup with the largest persisted `_seq`).
  void AdvancePast(int64_t id);

  uint32_t node_id() const { return node_id_; }

 private:
  const uint32_t node_id_;
  const Clock& clock_;
  std::mutex mu_;
  int64_t last_ms_ = 0;   // guarded by mu_: ms since the Snowflake epoch of the last id
  int64_t sequence_ = 0;  // guarded by mu_
};

}  // namespace kalam
