// TableDef: a table's identity, type, options and one schema version (its columns), as the catalog
// persists them (SQL.md §1–§2).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/table_type.h"
#include "common/types.h"
#include "common/value.h"

namespace kalam::catalog {

// Internal numeric table id: the key prefix of the table's rows in hot storage. Never reused.
using TableId = uint64_t;

// Table types and access levels are defined once, in common/table_type.h, so that the parser
// can produce them too; the catalog names them as its own.
using kalam::AccessLevel;
using kalam::AccessLevelName;
using kalam::ParseAccessLevel;
using kalam::TableType;
using kalam::TableTypeName;

// When hot rows of a table are flushed to Parquet (cold-tier milestone). 0 = no trigger.
struct FlushPolicy {
  uint64_t row_limit = 0;
  uint64_t interval_seconds = 0;
  bool operator==(const FlushPolicy&) const = default;
};

// How a column's value is produced when an INSERT omits it.
struct DefaultSpec {
  enum class Kind : uint8_t { kNone, kLiteral, kNow, kSnowflakeId, kUuidV7, kUlid, kCurrentUser };
  Kind kind = Kind::kNone;
  Value literal;  // kLiteral: already converted to the column's stored form
  // SQL text as the user would write it ("NOW()", "'abc'", "42"), for DESCRIBE.
  std::string ToSql(const DataType& type) const;
};

// An approximate-nearest-neighbour index on an EMBEDDING column (ALTER TABLE … CREATE INDEX;
// docs/vectors.md). The index itself is derived data kept by vector::VectorIndexes.
struct VectorIndexDef {
  VectorMetric metric = VectorMetric::kCosine;
  // The schema version the index was created in: an index created again after DROP INDEX is a
  // new index (an in-memory one built before the drop missed the writes made while dropped).
  uint32_t since_version = 0;
  bool operator==(const VectorIndexDef&) const = default;
};

struct ColumnDef {
  uint32_t column_id = 0;  // stable across ALTER; row versions store values by column id
  std::string name;        // lower case
  DataType type;
  bool nullable = true;
  bool primary_key = false;
  DefaultSpec default_value;
  std::string comment;
  // What a row version written before this column existed reads as: the literal DEFAULT the
  // column was added with by ALTER TABLE … ADD COLUMN, else NULL. Fixed when the column is added
  // (SET/DROP DEFAULT change only what new inserts get); versions written since always carry it.
  Value missing_value;
  // EMBEDDING columns only: the vector index on the column, if one was created.
  std::optional<VectorIndexDef> vector_index;
};

struct TableOptions {
  std::string storage_id = "local";
  bool use_user_storage = false;
  FlushPolicy flush_policy;
  uint32_t deleted_retention_hours = 168;
  uint32_t ttl_seconds = 0;  // STREAM only: rows are visible for this long after their `_seq`
  // STREAM only: a user's stream keeps at most this many rows; an insert beyond it evicts that
  // user's oldest rows in the same commit. 0 = no limit (docs/streams.md).
  uint64_t max_rows_per_user = 0;
  // STREAM only: an insert into a user's stream nobody subscribes to is acknowledged and dropped.
  bool ephemeral = false;
  AccessLevel access_level = AccessLevel::kPrivate;  // SHARED only
};

// One schema version of a table. Immutable once published in a catalog snapshot; shared by
// readers through shared_ptr<const TableDef>.
struct TableDef {
  TableId table_id = 0;
  std::string namespace_id;  // lower case
  std::string table_name;    // lower case
  TableType type = TableType::kShared;
  uint32_t schema_version = 1;
  std::vector<ColumnDef> columns;  // user columns only, in ordinal order
  // The column_id the next added column gets: above every id this table ever used, so that the
  // id of a dropped column is never given to another (old row versions still hold its values).
  // 0 until the catalog assigns ids.
  uint32_t next_column_id = 0;
  TableOptions options;
  std::string comment;
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;

  // Whether a column is the primary key (always for USER/SHARED; optional for STREAM).
  bool has_pk() const;
  // Index into `columns` of the primary-key column (0 when there is none: check has_pk()).
  size_t pk_index() const;
  const ColumnDef& pk_column() const { return columns[pk_index()]; }
  // Index into `columns` of the column named `name` (case-insensitive), or -1.
  int FindColumn(std::string_view name) const;
  // "ns.table".
  std::string QualifiedName() const { return namespace_id + "." + table_name; }

  // JSON form stored in the `system` partition and shown in system.schemas.
  std::string ToJson() const;
  static Result<std::shared_ptr<TableDef>> FromJson(std::string_view json);
};

}  // namespace kalam::catalog
