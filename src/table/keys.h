// Hot-storage key layout of table rows (ARCHITECTURE.md §4): table_id · scope · (_seq | PK), and
// the `meta` keys of cold manifests. Every key of the `rows`, `pk` and `stream` partitions and
// every `cold/` key of `meta` is built (and parsed) here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "catalog/table_def.h"
#include "common/value.h"

namespace kalam::table {

using catalog::TableId;

// The row scope: the user id for USER and STREAM tables, empty for SHARED tables.
using Scope = std::string;

// table_id · scope: the prefix of every key of one table scope (in `rows` and `pk`).
std::string ScopePrefix(TableId table, std::string_view scope);
// `rows` key of one version.
std::string RowKey(TableId table, std::string_view scope, int64_t seq);
// `pk` key of one primary-key value (already in the column's stored form).
std::string PkKey(TableId table, std::string_view scope, const Value& pk);
// The encoded PK alone (the suffix of PkKey after the scope prefix).
std::string EncodePk(const Value& pk);
// `stream` key of one stream row (or delete marker): table_id · scope · `_seq`(8B BE), so a
// scope's entries are ordered by `_seq`, which is time (docs/streams.md).
std::string StreamKey(TableId table, std::string_view scope, int64_t seq);
// The table, scope and `_seq` of a `stream` key; false when `key` is not one.
bool ParseStreamKey(std::string_view key, TableId* table, Scope* scope, int64_t* seq);
// The WriteSet key of the `n`th stream insert a request stages into `table`'s `scope`: never
// equal to a StreamKey (its suffix is 9 bytes, not 8) and never written to storage.
std::string StreamInsertStagingKey(TableId table, std::string_view scope, uint64_t n);
// [begin, end) covering every key of `table` in any partition keyed by table id.
std::string TableBegin(TableId table);
std::string TableEnd(TableId table);
// Consumes the table_id · scope prefix of a `rows` or `pk` key from the front of `*key`; false
// when `*key` does not start with one.
bool ConsumeScopePrefix(std::string_view* key, TableId* table, Scope* scope);
// A `rows`, `pk` or `stream` key of table `from` moved to table `to` (RESTORE NAMESPACE gives a
// restored table a new id): the same scope and suffix (`_seq` or PK) under `to`'s prefix. False,
// with `*out` untouched, when `key` is not a key of table `from` (no valid table · scope prefix,
// or another table's).
bool RetargetTableKey(std::string_view key, TableId from, TableId to, std::string* out);

// `meta` key of one scope's cold manifest: "cold/" · table_id · scope.
std::string ColdManifestKey(TableId table, std::string_view scope);
// The prefix of every cold manifest key, and [begin, end) covering those of `table`.
std::string_view ColdManifestPrefix();
std::string ColdManifestsBegin(TableId table);
std::string ColdManifestsEnd(TableId table);
// The table and scope of a cold manifest key; false when `key` is not one.
bool ParseColdManifestKey(std::string_view key, TableId* table, Scope* scope);

// The smallest key greater than every key that starts with `prefix`.
std::string PrefixSuccessor(std::string prefix);

}  // namespace kalam::table
