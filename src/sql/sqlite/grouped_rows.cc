// GroupedRows: rows held by a virtual-table cursor, ordered by hashing them into groups and
// sorting the groups.
#include "sql/sqlite/grouped_rows.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "sql/parser/typed_operands.h"
#include "sql/sqlite/sqlite_values.h"

namespace kalam::sql {

namespace {

using Key = GroupedRows::Key;

// A number as SQLite holds it, into `*k`: integral reals within int64 range become integers, so
// that equal numbers have equal keys (SQLite compares 2 and 2.0 as equal); NaN is NULL (SQLite
// stores a NaN result as NULL).
void NumberKeyInto(double d, Key* k) {
  if (std::isnan(d)) return;
  k->cls = 1;
  if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::trunc(d)) {
    k->is_int = true;
    k->i = static_cast<int64_t>(d);
  } else {
    k->d = d;
  }
}

// The key of `v` as xColumn hands it to SQLite (ResultValue), into `*k` field by field (a Key
// built apart and copied whole cost a store-forwarding stall per row): small DECIMALs' text is
// a real.
void KeyInto(const catalog::ColumnDef& col, const Value& v, Key* k) {
  k->cls = 0;
  k->is_int = false;
  k->i = 0;
  k->d = 0;
  k->bytes = {};
  switch (v.kind()) {
    case Value::Kind::kNull: return;
    case Value::Kind::kInt:
      k->cls = 1;
      k->is_int = true;
      k->i = v.as_int();
      return;
    case Value::Kind::kDouble: NumberKeyInto(v.as_double(), k); return;
    case Value::Kind::kText:
      if (col.type.kind == TypeKind::kDecimal &&
          col.type.precision <= parser::kMaxRealDecimalPrecision) {
        NumberKeyInto(std::strtod(v.as_text().c_str(), nullptr), k);
        return;
      }
      k->cls = 2;
      k->bytes = v.as_text();
      return;
    case Value::Kind::kBlob:
      k->cls = 3;
      k->bytes = v.as_bytes();
      return;
  }
}

Key KeyOf(const catalog::ColumnDef& col, const Value& v) {
  Key k;
  KeyInto(col, v, &k);
  return k;
}

bool SameKey(const Key& a, const Key& b) {
  if (a.cls != b.cls) return false;
  switch (a.cls) {
    case 0: return true;
    case 1: return a.is_int == b.is_int && (a.is_int ? a.i == b.i : a.d == b.d);
    default: {
      // Group keys are mostly short: compare up to 8 bytes as two overlapping words, not by a
      // call to memcmp.
      const size_t n = a.bytes.size();
      if (n != b.bytes.size()) return false;
      if (n > 8) return std::memcmp(a.bytes.data(), b.bytes.data(), n) == 0;
      if (n >= 4) {
        uint32_t a1, a2, b1, b2;
        std::memcpy(&a1, a.bytes.data(), 4);
        std::memcpy(&a2, a.bytes.data() + n - 4, 4);
        std::memcpy(&b1, b.bytes.data(), 4);
        std::memcpy(&b2, b.bytes.data() + n - 4, 4);
        return a1 == b1 && a2 == b2;
      }
      for (size_t i = 0; i < n; ++i) {
        if (a.bytes[i] != b.bytes[i]) return false;
      }
      return true;
    }
  }
}

// SQLite's order of two values under BINARY collation: <0, 0, >0.
int CompareKey(const Key& a, const Key& b) {
  if (a.cls != b.cls) return a.cls < b.cls ? -1 : 1;
  switch (a.cls) {
    case 0: return 0;
    case 1: {
      if (a.is_int && b.is_int) return a.i < b.i ? -1 : a.i > b.i;
      // x86-64's long double holds every int64 exactly.
      const long double x = a.is_int ? static_cast<long double>(a.i) : a.d;
      const long double y = b.is_int ? static_cast<long double>(b.i) : b.d;
      return x < y ? -1 : x > y;
    }
    default: {
      const int c = a.bytes.compare(b.bytes);
      return c < 0 ? -1 : c > 0;
    }
  }
}

uint64_t Mix(uint64_t h);

// A fast hash of short byte strings (group keys are mostly a few bytes), 8 bytes at a time; Mix
// spreads it.
uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w = 0;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 29;
  }
  // The last 0–7 bytes by loads of fixed size (bytes copied into a word on the stack and read
  // back whole stall the load).
  uint64_t w = 0;
  if (n >= 4) {
    uint32_t a = 0, b = 0;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    w = (uint64_t{a} << 32) | b;
  } else if (n > 0) {
    w = uint64_t{static_cast<uint8_t>(p[0])} | uint64_t{static_cast<uint8_t>(p[n / 2])} << 8 |
        uint64_t{static_cast<uint8_t>(p[n - 1])} << 16;
  }
  return (h ^ w) * 0x94d049bb133111ebULL;
}

// Not mixed: Add mixes (each key's, when several).
uint64_t HashKey(const Key& k) {
  uint64_t h = k.cls;
  switch (k.cls) {
    case 0: break;
    case 1: {
      uint64_t bits = 0;
      if (k.is_int) {
        bits = static_cast<uint64_t>(k.i);
      } else {
        std::memcpy(&bits, &k.d, sizeof(bits));
        bits ^= 0x9e3779b97f4a7c15ULL;
      }
      h ^= bits;
      break;
    }
    default: h ^= HashBytes(k.bytes); break;
  }
  return h;
}

// A 64-bit mixer (splitmix64's finaliser): every bit of the result depends on every bit of `h`
// (low bits pick a slot, high ones a range of passes).
uint64_t Mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

bool GroupedRows::CanOrderBy(const catalog::ColumnDef& col) {
  return !(col.type.kind == TypeKind::kDecimal &&
           col.type.precision > parser::kMaxRealDecimalPrecision);
}

namespace {
std::atomic<size_t> max_grouped_bytes{64u << 20};
}  // namespace

size_t GroupedRows::max_bytes() { return max_grouped_bytes.load(std::memory_order_relaxed); }
void GroupedRows::set_max_bytes(size_t bytes) {
  max_grouped_bytes.store(bytes, std::memory_order_relaxed);
}

GroupedRows::GroupedRows(const catalog::TableDef& def, std::vector<OrderColumn> by,
                         std::vector<bool> keep, const std::vector<Value>* from)
    : def_(def),
      by_(std::move(by)),
      keep_(std::move(keep)),
      slot_of_(def.columns.size(), -1),
      slots_(64, UINT32_MAX),
      scratch_(by_.size()) {
  for (size_t c = 0; c < def.columns.size(); ++c) {
    if (keep_.empty() || keep_[c]) {
      slot_of_[c] = static_cast<int>(kept_.size());
      kept_.push_back(c);
    }
  }
  width_ = kept_.size();
  if (from) {
    has_from_ = true;
    from_values_ = *from;
    for (size_t j = 0; j < by_.size(); ++j) {
      from_keys_.push_back(KeyOf(def_.columns[static_cast<size_t>(by_[j].column)],
                                 from_values_[j]));
    }
  }
}

int GroupedRows::CompareKeys(const Key* a, const Key* b) const {
  for (size_t j = 0; j < by_.size(); ++j) {
    const int c = CompareKey(a[j], b[j]);
    if (c != 0) return by_[j].desc ? -c : c;
  }
  return 0;
}

void GroupedRows::RebuildSlots() {
  size_t size = 64;
  while (size < groups_.size() * 2) size *= 2;
  slots_.assign(size, UINT32_MAX);
  const size_t mask = size - 1;
  for (uint32_t k = 0; k < groups_.size(); ++k) {
    size_t s = groups_[k].hash & mask;
    while (slots_[s] != UINT32_MAX) s = (s + 1) & mask;
    slots_[s] = k;
  }
  last_ = UINT32_MAX;
}

bool GroupedRows::DropLastGroups() {
  std::vector<uint32_t> order(groups_.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return CompareKeys(groups_[a].keys.data(), groups_[b].keys.data()) < 0;
  });
  size_t keep = order.size();
  while (keep > 1 && bytes_ > max_bytes() / 2) bytes_ -= groups_[order[--keep]].bytes;
  if (keep == order.size()) return bytes_ <= max_bytes();
  upper_values_ = groups_[order[keep]].key_values;  // the first group dropped
  upper_keys_.clear();
  for (size_t j = 0; j < by_.size(); ++j) {
    upper_keys_.push_back(KeyOf(def_.columns[static_cast<size_t>(by_[j].column)],
                                upper_values_[j]));
  }
  has_upper_ = true;
  // The groups kept, renumbered, and their rows (with their bytes) copied in the order added.
  std::vector<uint32_t> renumber(groups_.size(), UINT32_MAX);
  std::vector<Group> kept;
  kept.reserve(keep);
  for (size_t i = 0; i < keep; ++i) {
    renumber[order[i]] = static_cast<uint32_t>(i);
    kept.push_back(std::move(groups_[order[i]]));
  }
  groups_ = std::move(kept);
  std::vector<Cell> cells;
  std::string buffer;
  std::vector<int64_t> seqs;
  std::vector<uint8_t> deleted;
  std::vector<uint32_t> group_of;
  for (size_t r = 0; r < group_of_.size(); ++r) {
    const uint32_t g = renumber[group_of_[r]];
    if (g == UINT32_MAX) continue;
    for (size_t k = 0; k < width_; ++k) {
      Cell c = cells_[r * width_ + k];
      if (c.kind == Value::Kind::kText || c.kind == Value::Kind::kBlob) {
        const std::string_view bytes = bytes_of(c);
        c.offset = buffer.size();
        buffer.append(bytes);
      }
      cells.push_back(c);
    }
    seqs.push_back(seqs_[r]);
    deleted.push_back(deleted_[r]);
    group_of.push_back(g);
  }
  cells_ = std::move(cells);
  buffer_ = std::move(buffer);
  seqs_ = std::move(seqs);
  deleted_ = std::move(deleted);
  group_of_ = std::move(group_of);
  RebuildSlots();
  return bytes_ <= max_bytes();
}

uint32_t GroupedRows::GroupOf(const Value* values, const std::vector<Key>& keys, uint64_t h) {
  const size_t width = by_.size();
  auto same = [&](const Group& g) {
    for (size_t j = 0; j < width; ++j) {
      if (!SameKey(keys[j], g.keys[j])) return false;
    }
    return true;
  };
  if (last_ != UINT32_MAX && groups_[last_].hash == h && same(groups_[last_])) return last_;
  const size_t mask = slots_.size() - 1;
  size_t slot = h & mask;
  for (; slots_[slot] != UINT32_MAX; slot = (slot + 1) & mask) {
    const uint32_t g = slots_[slot];
    if (groups_[g].hash == h && same(groups_[g])) return last_ = g;
  }
  const auto g = static_cast<uint32_t>(groups_.size());
  Group& group = groups_.emplace_back();
  group.hash = h;
  group.key_values.reserve(width);
  for (const OrderColumn& o : by_) group.key_values.push_back(values[o.column]);
  for (size_t j = 0; j < width; ++j) {
    group.keys.push_back(KeyOf(def_.columns[static_cast<size_t>(by_[j].column)],
                               group.key_values[j]));
  }
  bytes_ += sizeof(Group) + width * (sizeof(Value) + sizeof(Key));
  slots_[slot] = g;
  if (groups_.size() * 2 > slots_.size()) RebuildSlots();  // keep the table at most half full
  return last_ = g;
}

GroupedRows::Added GroupedRows::Add(const Value* values, int64_t seq, bool deleted) {
  for (size_t j = 0; j < by_.size(); ++j) {
    const int c = by_[j].column;
    KeyInto(def_.columns[static_cast<size_t>(c)], values[c], &scratch_[j]);
  }
  if ((has_from_ && CompareKeys(scratch_.data(), from_keys_.data()) < 0) ||
      (has_upper_ && CompareKeys(scratch_.data(), upper_keys_.data()) >= 0)) {
    return Added::kSkipped;
  }
  uint64_t h = 0;
  if (scratch_.size() == 1) {
    h = Mix(HashKey(scratch_[0]));
  } else {
    for (const Key& k : scratch_) h = h * 31 + Mix(HashKey(k));
    h = Mix(h);
  }
  size_t row_bytes = width_ * sizeof(Cell) + sizeof(int64_t) + sizeof(uint32_t) * 2 + 1;
  for (size_t c : kept_) {
    if (values[c].kind() == Value::Kind::kText) row_bytes += values[c].as_text().size();
    if (values[c].kind() == Value::Kind::kBlob) row_bytes += values[c].as_bytes().size();
  }
  // A row this large fills a group of its own beyond the limit; a cell's size must fit 32 bits.
  if (row_bytes > max_bytes() || row_bytes > UINT32_MAX) return Added::kGroupTooLarge;
  const size_t before = bytes_;
  const uint32_t g = GroupOf(values, scratch_, h);
  Group& group = groups_[g];
  group.bytes += bytes_ - before + row_bytes;  // a new group's own bytes too
  ++group.rows;
  bytes_ += row_bytes;
  for (size_t c : kept_) {
    const Value& v = values[c];
    Cell cell;
    cell.kind = v.kind();
    switch (v.kind()) {
      case Value::Kind::kNull: break;
      case Value::Kind::kInt: cell.i = v.as_int(); break;
      case Value::Kind::kDouble: cell.d = v.as_double(); break;
      case Value::Kind::kText:
      case Value::Kind::kBlob: {
        const std::string& bytes = v.kind() == Value::Kind::kText ? v.as_text() : v.as_bytes();
        cell.size = static_cast<uint32_t>(bytes.size());
        cell.offset = buffer_.size();
        buffer_.append(bytes);
        break;
      }
    }
    cells_.push_back(cell);
  }
  seqs_.push_back(seq);
  deleted_.push_back(deleted ? 1 : 0);
  group_of_.push_back(g);
  if (bytes_ > max_bytes() && !DropLastGroups()) return Added::kGroupTooLarge;
  return Added::kHeld;
}

void GroupedRows::Order() {
  // Counting sort of the rows by their group's rank (stable: a group's rows keep their order).
  std::vector<uint32_t> order(groups_.size());
  for (uint32_t g = 0; g < order.size(); ++g) order[g] = g;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return CompareKeys(groups_[a].keys.data(), groups_[b].keys.data()) < 0;
  });
  std::vector<uint32_t> next(groups_.size());
  uint32_t start = 0;
  for (uint32_t g : order) {
    next[g] = start;
    start += groups_[g].rows;
  }
  // The rows moved into that order (cells are plain words): xColumn then walks memory in order.
  const size_t n = group_of_.size();
  std::vector<Cell> cells(n * width_);
  std::vector<int64_t> seqs(n);
  std::vector<uint8_t> deleted(n);
  for (size_t r = 0; r < n; ++r) {
    const uint32_t to = next[group_of_[r]]++;
    std::copy_n(cells_.data() + r * width_, width_, cells.data() + size_t{to} * width_);
    seqs[to] = seqs_[r];
    deleted[to] = deleted_[r];
  }
  cells_ = std::move(cells);
  seqs_ = std::move(seqs);
  deleted_ = std::move(deleted);
  group_of_.clear();
}

}  // namespace kalam::sql
