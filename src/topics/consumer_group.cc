// Claims, acknowledgements and cursors of a consumer group on one partition.
#include "topics/consumer_group.h"

#include <algorithm>
#include <limits>

#include "topics/topic_def.h"

namespace kalam::topics {

uint64_t ConsumerGroup::NextWindow(uint64_t start, int64_t now_ms, uint64_t* stop) {
  for (auto it = claims_.begin(); it != claims_.end();) {
    if (it->expires_ms <= now_ms) {
      if (cursor_) cursor_ = std::min(*cursor_, it->begin);
      expired_.push_back({it->begin, it->end});
      it = claims_.erase(it);
    } else {
      ++it;
    }
  }
  if (!cursor_) {
    cursor_ = committed_ ? *committed_ + 1 : start;
    if (!first_) first_ = *cursor_;
    AdvanceCommitted();  // acknowledgements that arrived before the first fetch
  }
  if (committed_) cursor_ = std::max(*cursor_, *committed_ + 1);
  // Skip what is claimed or acknowledged (both sorted; a skip may land in the other list).
  uint64_t begin = *cursor_;
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& c : claims_) {
      if (c.begin <= begin && begin < c.end) begin = c.end, moved = true;
    }
    for (const auto& r : acked_) {
      if (r.begin <= begin && begin < r.end) begin = r.end, moved = true;
    }
  }
  *stop = std::numeric_limits<uint64_t>::max();
  for (const auto& r : expired_) {
    if (r.begin > begin) *stop = std::min(*stop, r.begin);
  }
  for (const auto& c : claims_) {
    if (c.begin >= begin) {
      *stop = std::min(*stop, c.begin);
      break;
    }
  }
  for (const auto& r : acked_) {
    if (r.begin >= begin) {
      *stop = std::min(*stop, r.begin);
      break;
    }
  }
  return begin;
}

void ConsumerGroup::Take(uint64_t begin, uint64_t end, int64_t expires_ms) {
  Claim c{begin, end, expires_ms};
  auto pos = std::lower_bound(claims_.begin(), claims_.end(), begin,
                              [](const Claim& a, uint64_t b) { return a.begin < b; });
  claims_.insert(pos, c);
  cursor_ = end;
  // What is delivered again now is no longer waiting for redelivery.
  std::vector<Range> left;
  for (const auto& r : expired_) {
    if (r.end <= begin || end <= r.begin) {
      left.push_back(r);
      continue;
    }
    if (r.begin < begin) left.push_back({r.begin, begin});
    if (end < r.end) left.push_back({end, r.end});
  }
  expired_ = std::move(left);
}

std::optional<uint64_t> ConsumerGroup::Ack(uint64_t offset, uint64_t first_available) {
  if (committed_ && offset <= *committed_) return committed_;
  first_available_ = first_available;
  auto holder = std::find_if(claims_.begin(), claims_.end(), [&](const Claim& c) {
    return c.begin <= offset && offset < c.end;
  });
  if (holder == claims_.end()) {
    AddAcked(offset, offset + 1);
  } else {
    AddAcked(holder->begin, offset + 1);
    if (offset + 1 < holder->end) {
      holder->begin = offset + 1;
    } else {
      claims_.erase(holder);
    }
  }
  AdvanceCommitted();
  return committed_;
}

void ConsumerGroup::AddAcked(uint64_t begin, uint64_t end) {
  std::vector<Range> merged;
  merged.reserve(acked_.size() + 1);
  Range add{begin, end};
  bool placed = false;
  for (const auto& r : acked_) {
    if (r.end < add.begin) {
      merged.push_back(r);
    } else if (add.end < r.begin) {
      if (!placed) merged.push_back(add), placed = true;
      merged.push_back(r);
    } else {
      add.begin = std::min(add.begin, r.begin);
      add.end = std::max(add.end, r.end);
    }
  }
  if (!placed) merged.push_back(add);
  acked_ = std::move(merged);
}

void ConsumerGroup::AdvanceCommitted() {
  // The first offset not yet committed: after the committed one, else where the group's cursor
  // started, else the partition's first offset.
  std::optional<uint64_t> next = committed_ ? *committed_ + 1 : first_.value_or(first_available_);
  while (!acked_.empty() && acked_.front().end <= *next) acked_.erase(acked_.begin());
  if (!acked_.empty() && acked_.front().begin <= *next) {
    committed_ = acked_.front().end - 1;
    acked_.erase(acked_.begin());
    if (cursor_) cursor_ = std::max(*cursor_, *committed_ + 1);
  }
}

namespace {

// The range count: 4 bytes big-endian.
void PutU32(uint32_t v, std::string* out) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t U64At(std::string_view b, size_t at) { return *ReadU64(b.substr(at, 8)); }

}  // namespace

std::string GroupRecord::Encode() const {
  std::string out;
  out.reserve(21 + 16 * acked.size());
  out += U64Bytes(committed.value_or(0));
  out += U64Bytes(static_cast<uint64_t>(updated_ms));
  out.push_back(committed ? 1 : 0);
  PutU32(static_cast<uint32_t>(acked.size()), &out);
  for (const auto& r : acked) {
    out += U64Bytes(r.begin);
    out += U64Bytes(r.end);
  }
  return out;
}

std::optional<GroupRecord> GroupRecord::Decode(std::string_view b) {
  GroupRecord rec;
  if (b.size() == 16) {  // the first format: a committed offset and its time
    rec.committed = U64At(b, 0);
    rec.updated_ms = static_cast<int64_t>(U64At(b, 8));
    return rec;
  }
  if (b.size() < 21) return std::nullopt;
  uint64_t n = 0;
  for (size_t i = 17; i < 21; ++i) n = (n << 8) | static_cast<unsigned char>(b[i]);
  if (b.size() != 21 + 16 * n || (b[16] != 0 && b[16] != 1)) return std::nullopt;
  if (b[16] == 1) rec.committed = U64At(b, 0);
  rec.updated_ms = static_cast<int64_t>(U64At(b, 8));
  for (uint64_t i = 0; i < n; ++i) {
    const ConsumerGroup::Range r{U64At(b, 21 + 16 * i), U64At(b, 29 + 16 * i)};
    if (r.end <= r.begin || (!rec.acked.empty() && r.begin <= rec.acked.back().end)) {
      return std::nullopt;
    }
    rec.acked.push_back(r);
  }
  return rec;
}

}  // namespace kalam::topics
