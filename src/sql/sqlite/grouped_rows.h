// GroupedRows: the rows one virtual-table filter yields, held in memory and handed back ordered by
// some of their columns, so that SQLite can group them (GROUP BY, DISTINCT) as they stream past
// instead of sorting them itself (xBestIndex sets orderByConsumed; see vtab_module.cc).
//
// Rows are grouped by hashing and only the distinct groups are sorted, so the cost is about one
// hash probe per row. The order is exactly SQLite's for the values xColumn returns (ResultValue):
// NULLs first, then numbers (integers and reals compared by value), then text (BINARY), then
// blobs; DESC reverses it. Rows of one group keep the order they were added in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/table_def.h"
#include "common/value.h"

namespace kalam::sql {

// Not thread-safe.
class GroupedRows {
 public:
  struct OrderColumn {
    int column = 0;  // index into TableDef::columns
    bool desc = false;
  };

  // One ordered value as SQLite sees it.
  struct Key {
    uint8_t cls = 0;  // 0 NULL, 1 number, 2 text, 3 blob: SQLite's order of storage classes
    bool is_int = false;  // a number held in `i` (every integral real in range is one), else `d`
    int64_t i = 0;
    double d = 0;
    std::string_view bytes;  // text or blob
  };

  // Whether SQLite compares `col`'s values as this class orders them: every column declared with
  // the BINARY collation (all but large DECIMALs, whose text compares under kalam_decimal).
  static bool CanOrderBy(const catalog::ColumnDef& col);

  // The most memory the rows are held in (64 MiB). When they would take more, the groups last
  // in order are dropped and rows from the first of them on are not held (upper()): the cursor
  // reads its source again for them (vtab_module.cc). Tests lower it.
  static size_t max_bytes();
  static void set_max_bytes(size_t bytes);

  // `keep` flags the columns rows are held with (the others read as NULL); empty = all. With
  // `from` (an earlier GroupedRows' upper()), rows ordered before it are not held.
  GroupedRows(const catalog::TableDef& def, std::vector<OrderColumn> by, std::vector<bool> keep,
              const std::vector<Value>* from = nullptr);

  enum class Added : uint8_t { kHeld, kSkipped, kGroupTooLarge };
  // Copies one row (`values` has one entry per column of the TableDef) into its group, or skips
  // it when it is ordered before `from` or at or after upper(); kGroupTooLarge when one group's
  // rows alone take more than max_bytes().
  Added Add(const Value* values, int64_t seq, bool deleted);

  // Whether every row from `from` on was held; else upper() is the ordering columns' values of
  // the first group not held.
  bool complete() const { return !has_upper_; }
  const std::vector<Value>& upper() const { return upper_values_; }

  // Puts the rows in order; call once, after the last Add.
  void Order();

  // One held cell: a number inline, text or blob bytes in the rows' shared buffer (no string
  // per cell: holding a row copies a few words and its bytes).
  struct Cell {
    Value::Kind kind = Value::Kind::kNull;
    uint32_t size = 0;  // text or blob: its length
    union {
      int64_t i;
      double d;
      uint64_t offset;  // text or blob: where its bytes start in the buffer
    };
    Cell() : i(0) {}
  };

  size_t size() const { return seqs_.size(); }
  // About the memory the rows hold.
  size_t bytes() const { return bytes_; }
  // The held cells of the i-th row in order (after Order), one per held column; cell_slot()
  // says which one a column of the TableDef is.
  const Cell* row_cells(size_t i) const { return cells_.data() + i * width_; }
  // Column `column`'s slot in row_cells(), or -1 for a column not held (it reads as NULL).
  int cell_slot(size_t column) const { return slot_of_[column]; }
  // The bytes of a text or blob cell.
  std::string_view bytes_of(const Cell& c) const {
    return std::string_view(buffer_.data() + c.offset, c.size);
  }
  int64_t seq(size_t i) const { return seqs_[i]; }
  bool deleted(size_t i) const { return deleted_[i] != 0; }

 private:
  struct Group {
    std::vector<Value> key_values;  // the ordering columns' values of its first row
    std::vector<Key> keys;          // views into key_values (its buffer never moves)
    uint64_t hash = 0;
    uint32_t rows = 0;
    size_t bytes = 0;  // what its key and rows take
  };
  // The group of a row whose keys are `keys` and group hash `h`, created when new.
  uint32_t GroupOf(const Value* values, const std::vector<Key>& keys, uint64_t h);
  // <0, 0, >0 as keys `a` are ordered before, with, after `b` (one key per ordering column).
  int CompareKeys(const Key* a, const Key* b) const;
  // Drops the groups last in order until the rows take at most half of max_bytes() (keeping one
  // group) and sets upper(); false when the one group left takes more than max_bytes().
  bool DropLastGroups();
  void RebuildSlots();

  const catalog::TableDef& def_;
  // The bounds of the rows held, as values and keys (views into the values).
  std::vector<Value> from_values_, upper_values_;
  std::vector<Key> from_keys_, upper_keys_;
  bool has_from_ = false, has_upper_ = false;
  std::vector<OrderColumn> by_;
  std::vector<bool> keep_;
  std::vector<size_t> kept_;    // the columns held, in order
  std::vector<int> slot_of_;    // per column: its index in a held row, or -1
  size_t width_;                // kept_.size()
  std::vector<Group> groups_;
  std::vector<uint32_t> slots_;  // open addressing over groups_ by hash; UINT32_MAX = free
  uint32_t last_ = UINT32_MAX;   // the group of the previous row (rows often come in runs)
  std::vector<Key> scratch_;     // the keys of the row being added
  // The rows held, in the order added (after Order: in order): width_ cells each, their text
  // and blob bytes, `_seq`, deleted flag and group (until Order).
  std::vector<Cell> cells_;
  std::string buffer_;
  std::vector<int64_t> seqs_;
  std::vector<uint8_t> deleted_;
  std::vector<uint32_t> group_of_;
  size_t bytes_ = 0;
};

}  // namespace kalam::sql
