// WriteSet bookkeeping.
#include "table/write_set.h"

namespace kalam::table {

std::string_view ChangeKindName(ChangeKind k) {
  switch (k) {
    case ChangeKind::kInsert: return "insert";
    case ChangeKind::kUpdate: return "update";
    case ChangeKind::kDelete: return "delete";
  }
  return "insert";
}

StagedRow* WriteSet::Find(const std::string& pk_key) {
  auto it = rows_.find(pk_key);
  return it == rows_.end() ? nullptr : &it->second;
}

void WriteSet::Stage(StagedRow row) {
  auto it = rows_.find(row.pk_key);
  if (it == rows_.end()) {
    order_.push_back(row.pk_key);
    std::string key = row.pk_key;
    rows_.emplace(std::move(key), std::move(row));
  } else {
    it->second = std::move(row);
  }
}

std::vector<const StagedRow*> WriteSet::InOrder() const {
  std::vector<const StagedRow*> out;
  out.reserve(order_.size());
  for (const auto& k : order_) out.push_back(&rows_.at(k));
  return out;
}

}  // namespace kalam::table
