// ProbeIndex: an in-memory hash of one table scope on one column.
#include "sql/sqlite/probe_index.h"

#include <cstring>

#include "sql/sqlite/sqlite_values.h"

namespace kalam::sql {

bool ProbeIndex::CanIndex(const catalog::ColumnDef& col) {
  const char* affinity = AffinityName(col.type);
  if (std::strcmp(affinity, "INTEGER") == 0) return true;
  // TEXT columns compare under BINARY unless declared otherwise (large DECIMALs: kalam_decimal).
  return std::strcmp(affinity, "TEXT") == 0 && col.type.kind != TypeKind::kDecimal;
}

std::optional<std::string> ProbeIndex::KeyOf(const catalog::ColumnDef& col, const Value& v) {
  const bool integral = std::strcmp(AffinityName(col.type), "INTEGER") == 0;
  if (integral && v.kind() == Value::Kind::kInt) {
    const int64_t n = v.as_int();
    std::string key(1 + sizeof(n), 'i');
    std::memcpy(key.data() + 1, &n, sizeof(n));
    return key;
  }
  if (!integral && v.kind() == Value::Kind::kText) return "t" + v.as_text();
  return std::nullopt;
}

bool ProbeIndex::Add(const catalog::ColumnDef& col, std::string_view key, int64_t seq,
                     bool deleted, const Value* values, size_t n) {
  const Value& probed = values[column_];
  std::optional<std::string> hash_key;
  if (!probed.is_null()) {
    hash_key = KeyOf(col, probed);
    if (!hash_key) return false;
  }
  const auto index = static_cast<uint32_t>(rows_.size());
  bytes_ += sizeof(Row) + key.size() + n * sizeof(Value);
  for (size_t i = 0; i < n; ++i) {
    if (values[i].kind() == Value::Kind::kText) bytes_ += values[i].as_text().size();
    if (values[i].kind() == Value::Kind::kBlob) bytes_ += values[i].as_bytes().size();
  }
  rows_.push_back(Row{std::string(key), seq, deleted, std::vector<Value>(values, values + n)});
  if (hash_key) by_value_[std::move(*hash_key)].push_back(index);
  return true;
}

const std::vector<uint32_t>* ProbeIndex::Find(const std::string& key) const {
  auto it = by_value_.find(key);
  return it == by_value_.end() ? nullptr : &it->second;
}

}  // namespace kalam::sql
