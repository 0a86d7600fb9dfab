// Key encodings for table rows.
#include "table/keys.h"

#include "common/value_codec.h"

namespace kalam::table {

std::string ScopePrefix(TableId table, std::string_view scope) {
  std::string k;
  k.reserve(8 + scope.size() + 2);
  AppendOrderedU64(table, &k);
  AppendOrderedString(scope, &k);
  return k;
}

std::string RowKey(TableId table, std::string_view scope, int64_t seq) {
  std::string k = ScopePrefix(table, scope);
  AppendOrderedU64(static_cast<uint64_t>(seq), &k);
  return k;
}

std::string StreamKey(TableId table, std::string_view scope, int64_t seq) {
  return RowKey(table, scope, seq);
}

bool ParseStreamKey(std::string_view key, TableId* table, Scope* scope, int64_t* seq) {
  uint64_t s = 0;
  if (!ConsumeScopePrefix(&key, table, scope) || !ReadOrderedU64(&key, &s) || !key.empty()) {
    return false;
  }
  *seq = static_cast<int64_t>(s);
  return true;
}

std::string StreamInsertStagingKey(TableId table, std::string_view scope, uint64_t n) {
  std::string k = ScopePrefix(table, scope);
  k.push_back('\x01');
  AppendOrderedU64(n, &k);
  return k;
}

std::string EncodePk(const Value& pk) {
  std::string k;
  AppendOrderedValue(pk, &k);
  return k;
}

std::string PkKey(TableId table, std::string_view scope, const Value& pk) {
  std::string k = ScopePrefix(table, scope);
  AppendOrderedValue(pk, &k);
  return k;
}

std::string TableBegin(TableId table) {
  std::string k;
  AppendOrderedU64(table, &k);
  return k;
}

std::string TableEnd(TableId table) {
  std::string k;
  AppendOrderedU64(table + 1, &k);
  return k;
}

bool ConsumeScopePrefix(std::string_view* key, TableId* table, Scope* scope) {
  uint64_t id = 0;
  if (!ReadOrderedU64(key, &id) || !ReadOrderedString(key, scope)) return false;
  *table = id;
  return true;
}

bool RetargetTableKey(std::string_view key, TableId from, TableId to, std::string* out) {
  TableId table = 0;
  Scope scope;
  if (!ConsumeScopePrefix(&key, &table, &scope) || table != from) return false;
  std::string k = ScopePrefix(to, scope);
  k.append(key);  // what follows the prefix: `_seq` or the encoded PK, unchanged
  *out = std::move(k);
  return true;
}

namespace {
constexpr std::string_view kColdPrefix = "cold/";
}  // namespace

std::string_view ColdManifestPrefix() { return kColdPrefix; }

std::string ColdManifestKey(TableId table, std::string_view scope) {
  std::string k(kColdPrefix);
  AppendOrderedU64(table, &k);
  AppendOrderedString(scope, &k);
  return k;
}

std::string ColdManifestsBegin(TableId table) {
  std::string k(kColdPrefix);
  AppendOrderedU64(table, &k);
  return k;
}

std::string ColdManifestsEnd(TableId table) { return ColdManifestsBegin(table + 1); }

bool ParseColdManifestKey(std::string_view key, TableId* table, Scope* scope) {
  if (!key.starts_with(kColdPrefix)) return false;
  key.remove_prefix(kColdPrefix.size());
  return ConsumeScopePrefix(&key, table, scope);
}

std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xFF) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // empty = unbounded
}

}  // namespace kalam::table
