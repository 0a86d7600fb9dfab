// ConsumerGroup: one group's delivery state on one partition — its committed offset, its cursor
// and the claims of messages delivered and not yet acknowledged (docs/topics.md "Consumer
// groups"). Claims live in memory only.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace kalam::topics {

// Not thread-safe (the topic service guards it).
class ConsumerGroup {
 public:
  // A delivered, unacknowledged range [begin, end) that expires at `expires_ms`.
  struct Claim {
    uint64_t begin = 0;
    uint64_t end = 0;
    int64_t expires_ms = 0;
  };

  explicit ConsumerGroup(std::optional<uint64_t> committed) : committed_(committed) {}

  // Where the next fetch starts and where it must stop: expired claims are dropped first (their
  // ranges become deliverable again); the cursor is created at committed + 1, else at `start`;
  // ranges still claimed are skipped. `*stop` is the start of the next live claim above the
  // returned offset, or UINT64_MAX.
  uint64_t NextWindow(uint64_t start, int64_t now_ms, uint64_t* stop);
  // Records the delivery of [begin, end) (end > begin), claimed until `expires_ms`, and moves
  // the cursor past it.
  void Take(uint64_t begin, uint64_t end, int64_t expires_ms);
  // Commits `offset` (max with the existing), drops claims ending at or below offset + 1 and
  // moves the cursor to at least offset + 1. Returns the committed offset afterwards.
  uint64_t Ack(uint64_t offset);

  std::optional<uint64_t> committed() const { return committed_; }
  const std::vector<Claim>& claims() const { return claims_; }

 private:
  std::optional<uint64_t> committed_;
  std::optional<uint64_t> cursor_;
  std::vector<Claim> claims_;  // disjoint, sorted by begin
};

}  // namespace kalam::topics
