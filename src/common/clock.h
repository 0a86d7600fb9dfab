// Clock: the one source of wall time, injectable so tests never sleep on timers.
#pragma once

#include <atomic>
#include <cstdint>

namespace kalam {

// Wall-clock time source. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  int64_t NowMillis() const { return NowMicros() / 1000; }
  int64_t NowSeconds() const { return NowMicros() / 1000000; }

  // The process-wide real clock.
  static Clock& System();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_micros = 1767225600000000) : now_(now_micros) {}
  int64_t NowMicros() const override { return now_.load(std::memory_order_relaxed); }
  void Set(int64_t micros) { now_.store(micros, std::memory_order_relaxed); }
  void AdvanceMicros(int64_t d) { now_.fetch_add(d, std::memory_order_relaxed); }
  void AdvanceSeconds(int64_t s) { AdvanceMicros(s * 1000000); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace kalam
