// ProbeIndex: one table scope's rows held in memory and hashed on one column, so that repeated
// equality probes of the same virtual-table cursor (the inner side of a join, the values of an
// IN list) cost a hash lookup instead of a scan each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "catalog/table_def.h"
#include "common/value.h"

namespace kalam::sql {

class ProbeIndex {
 public:
  struct Row {
    std::string key;  // pk_key
    int64_t seq = 0;
    bool deleted = false;
    std::vector<Value> values;
  };

  // Whether SQLite's `=` on `col` compares its stored values exactly (no affinity conversion of
  // the stored value, BINARY collation): INTEGER-affinity and BINARY TEXT columns.
  static bool CanIndex(const catalog::ColumnDef& col);

  // The hash key of a stored value (or of an operand already in stored form, see PkOperand) of an
  // indexable column; nullopt for a kind the column's index cannot hold exactly.
  static std::optional<std::string> KeyOf(const catalog::ColumnDef& col, const Value& v);

  ProbeIndex(int column, bool include_deleted) : column_(column), include_deleted_(include_deleted) {}

  int column() const { return column_; }
  bool include_deleted() const { return include_deleted_; }
  size_t size() const { return rows_.size(); }
  // About the memory the rows hold.
  size_t bytes() const { return bytes_; }

  // Adds a row (scan order). False when its value of the column cannot be indexed exactly: the
  // index must then not be used. NULLs are held but never found (NULL equals nothing).
  bool Add(const catalog::ColumnDef& col, std::string_view key, int64_t seq, bool deleted,
           const Value* values, size_t n);

  // The rows whose column has hash key `key`, in scan order (null: none).
  const std::vector<uint32_t>* Find(const std::string& key) const;
  const Row& row(uint32_t i) const { return rows_[i]; }

 private:
  int column_;
  bool include_deleted_;
  std::vector<Row> rows_;
  size_t bytes_ = 0;
  std::unordered_map<std::string, std::vector<uint32_t>> by_value_;
};

}  // namespace kalam::sql
