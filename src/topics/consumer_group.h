// ConsumerGroup: one group's delivery state on one partition — its committed offset, its cursor,
// the claims of messages delivered and not yet acknowledged, and the acknowledged ranges not yet
// contiguous with the committed offset (docs/topics.md "Consumer groups"). In memory only; the
// committed offset is persisted by the topic service.
//
// An acknowledgement covers the batch (claim) that holds its offset, from the batch's first
// message up to that offset — never another consumer's batch. The committed offset advances only
// over a contiguous run of acknowledged messages, so a consumer that crashes holding a batch gets
// that batch redelivered (after the visibility timeout) however far other consumers of the group
// acknowledged beyond it: duplicates are possible, losses are not.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
  // An acknowledged range [begin, end) above the committed offset.
  struct Range {
    uint64_t begin = 0;
    uint64_t end = 0;
  };

  // A group's persisted progress: what Ack committed and acknowledged, as last stored.
  explicit ConsumerGroup(std::optional<uint64_t> committed, std::vector<Range> acked = {})
      : committed_(committed), acked_(std::move(acked)) {}

  // Where the next fetch starts and where it must stop: expired claims are dropped first (their
  // ranges become deliverable again); the cursor is created at committed + 1, else at `start`;
  // ranges still claimed or already acknowledged are skipped. `*stop` is the start of the next
  // claimed or acknowledged range, or of the next expired batch, above the returned offset, or
  // UINT64_MAX: a redelivery never spans two earlier batches (it may run on into messages never
  // delivered), so a late ack by a batch's first consumer covers only messages of its own batch.
  uint64_t NextWindow(uint64_t start, int64_t now_ms, uint64_t* stop);
  // Records the delivery of [begin, end) (end > begin), claimed until `expires_ms`, and moves
  // the cursor past it.
  void Take(uint64_t begin, uint64_t end, int64_t expires_ms);
  // Acknowledges `offset`: the claim holding it is acknowledged from its start through `offset`
  // (the rest of it stays claimed); an offset no claim holds acknowledges itself only. The
  // committed offset then advances over the contiguous acknowledged run after it (from the
  // group's first position when nothing is committed yet). Offsets at or below the committed one
  // change nothing. `first_available` is the partition's first offset: where the run starts for
  // a group that has neither committed nor fetched yet (so it never skips a message the group
  // may not have seen). Returns the committed offset afterwards (nullopt while none).
  std::optional<uint64_t> Ack(uint64_t offset, uint64_t first_available = 0);

  std::optional<uint64_t> committed() const { return committed_; }
  const std::vector<Claim>& claims() const { return claims_; }
  const std::vector<Range>& acked() const { return acked_; }

 private:
  void AddAcked(uint64_t begin, uint64_t end);
  void AdvanceCommitted();

  std::optional<uint64_t> committed_;
  std::optional<uint64_t> cursor_;
  std::optional<uint64_t> first_;  // where the cursor was created: the first deliverable offset
  uint64_t first_available_ = 0;   // Ack's first_available, used until the cursor exists
  std::vector<Claim> claims_;      // disjoint, sorted by begin
  std::vector<Range> acked_;       // disjoint, sorted, all above committed_
  std::vector<Range> expired_;     // batches whose claims expired, not yet delivered again
};

// What the topic service persists per (topic, partition, group) (`system` key "tpo/…"): the
// committed offset, when it was last changed, and the acknowledged ranges above it, so that a
// restart redelivers only messages nobody acknowledged.
struct GroupRecord {
  std::optional<uint64_t> committed;
  int64_t updated_ms = 0;
  std::vector<ConsumerGroup::Range> acked;

  // committed (8B BE, 0 when absent) · updated_ms (8B BE) · flags (1B: 1 = committed present) ·
  // range count (4B BE) · (begin, end) (8B BE each) per range.
  std::string Encode() const;
  // Also reads the first format (16 bytes: committed · updated_ms). nullopt when malformed.
  static std::optional<GroupRecord> Decode(std::string_view bytes);
};

}  // namespace kalam::topics
