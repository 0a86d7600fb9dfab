// WriteSet: the row changes a request has staged but not yet committed, keyed by row, holding
// each row's net effect. Reads inside a transaction overlay it on committed data.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/table_def.h"
#include "common/value.h"
#include "table/keys.h"

namespace kalam::table {

enum class ChangeKind : uint8_t { kInsert, kUpdate, kDelete };
std::string_view ChangeKindName(ChangeKind k);  // "insert", "update", "delete"

// The net staged effect on one row, and the committed version it was based on (which the commit
// pipeline re-checks: optimistic concurrency).
struct StagedRow {
  std::shared_ptr<const catalog::TableDef> table;
  Scope scope;
  Value pk;
  std::string pk_key;  // PkKey(table, scope, pk)

  int64_t base_seq = 0;  // _seq of the committed version read; 0 = none
  bool base_live = false;
  std::vector<Value> base_values;  // the committed values (for update/delete events)

  bool live = false;          // false = deleted by this transaction
  std::vector<Value> values;  // staged values when live (else the values being deleted)

  // What committing this row does; nullopt when it cancels out (inserted then deleted).
  std::optional<ChangeKind> kind() const {
    if (base_live) return live ? ChangeKind::kUpdate : ChangeKind::kDelete;
    if (live) return ChangeKind::kInsert;
    return std::nullopt;
  }
};

// Staged rows of one request in first-touch order. Not thread-safe: owned by one request.
class WriteSet {
 public:
  using Map = std::map<std::string, StagedRow>;

  StagedRow* Find(const std::string& pk_key);
  const Map& rows() const { return rows_; }
  // Adds or replaces the staged state of `row.pk_key`, keeping its first-touch position.
  void Stage(StagedRow row);
  // Rows in first-touch order.
  std::vector<const StagedRow*> InOrder() const;
  bool empty() const { return rows_.empty(); }
  size_t size() const { return rows_.size(); }
  void Clear() {
    rows_.clear();
    order_.clear();
  }
 private:
  Map rows_;
  std::vector<std::string> order_;
};

}  // namespace kalam::table
