// The syntax trees of KalamDB's own statements (SQL.md §2), as produced by parser.h. Plain value
// types: names are kept as written (identifiers are case-insensitive, so whoever looks a name up
// compares without case), column types as their SQL text for DataType::Parse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/table_type.h"
#include "common/types.h"
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {

// `ns.name` or just `name`.
struct QualifiedName {
  std::string ns;  // empty: the request's current namespace applies
  std::string name;

  // "ns.name", or "name" when unqualified.
  std::string ToString() const { return ns.empty() ? name : ns + "." + name; }
  bool operator==(const QualifiedName&) const = default;
};

enum class LiteralKind : uint8_t { kNull, kBoolean, kInteger, kFloat, kString, kBlob };

// A literal value as written in a statement.
struct Literal {
  LiteralKind kind = LiteralKind::kNull;
  // kInteger/kFloat: the number as written with a leading '-' when negated ("-5", "0x1F", "1e3");
  // kString: the text with '' undone; kBoolean: "TRUE" or "FALSE"; kNull: "NULL";
  // kBlob: the hex digits.
  std::string text;

  bool operator==(const Literal&) const = default;
};

// ---- Namespaces ----

struct CreateNamespaceStmt {
  std::string name;
  bool if_not_exists = false;
};

struct DropNamespaceStmt {
  std::string name;
  bool if_exists = false;
  bool cascade = false;  // also drop the namespace's tables
};

// One `key = value` of ALTER NAMESPACE … SET OPTIONS (…).
struct NamespaceOption {
  std::string key;  // as written; keys are unique ignoring case
  Literal value;
};

struct AlterNamespaceStmt {
  std::string name;
  std::vector<NamespaceOption> options;  // in written order, at least one
};

struct ShowNamespacesStmt {};

// USE ns / USE NAMESPACE ns / SET NAMESPACE ns.
struct UseNamespaceStmt {
  std::string name;
};

// ---- Tables ----

// Table types and access levels: common/table_type.h (TableType::kSystem is never parsed).

// DEFAULT of a column.
struct DefaultExpr {
  enum class Kind : uint8_t {
    kNone,         // no DEFAULT: NULL
    kLiteral,      // DEFAULT 42, 'x', -1.5, TRUE, NULL
    kNow,          // NOW(), CURRENT_TIMESTAMP
    kSnowflakeId,  // SNOWFLAKE_ID(); also implied by AUTO_INCREMENT, SERIAL, … AS IDENTITY
    kUuidV7,       // UUID_V7()
    kUlid,         // ULID()
    kCurrentUser,  // CURRENT_USER(), CURRENT_USER
  };
  Kind kind = Kind::kNone;
  Literal literal;  // kind == kLiteral only

  bool operator==(const DefaultExpr&) const = default;
};

// A column definition as written (CREATE TABLE, ALTER TABLE … ADD COLUMN): syntax only. The
// executor builds the catalog's catalog::ColumnDef from it (sql/column_builder.h), checking the
// type and converting the DEFAULT.
struct ParsedColumn {
  std::string name;
  // The type as SQL text for DataType::Parse: words upper-cased and single-spaced, arguments
  // without spaces ("BIGINT", "DOUBLE PRECISION", "DECIMAL(10,2)", "EMBEDDING(384)").
  // SERIAL and BIGSERIAL become "BIGINT" (with auto_increment set).
  std::string type_text;
  bool nullable = true;      // false with NOT NULL, and always for the PRIMARY KEY column
  bool primary_key = false;  // set on the one key column, however the key was declared
  // AUTO_INCREMENT (also AUTOINCREMENT), SERIAL, BIGSERIAL or GENERATED … AS IDENTITY was given;
  // default_value is then kSnowflakeId.
  bool auto_increment = false;
  DefaultExpr default_value;
  std::string comment;  // COMMENT 'text'; empty when none
};

// FLUSH_POLICY = 'rows:N' | 'interval:S' | 'rows:N,interval:S' (either order).
struct FlushPolicySpec {
  std::optional<uint64_t> row_limit;         // rows:N, N ≥ 1
  std::optional<uint64_t> interval_seconds;  // interval:S, S ≥ 1
  bool operator==(const FlushPolicySpec&) const = default;
};

// The WITH (…) options of CREATE TABLE; unset means "not given" (the executor applies defaults).
struct TableOptions {
  std::optional<std::string> storage_id;               // STORAGE_ID
  std::optional<bool> use_user_storage;                // USE_USER_STORAGE
  std::optional<FlushPolicySpec> flush_policy;         // FLUSH_POLICY
  std::optional<uint64_t> deleted_retention_hours;     // DELETED_RETENTION_HOURS
  std::optional<uint64_t> ttl_seconds;                 // TTL_SECONDS: STREAM only, required there
  std::optional<AccessLevel> access_level;             // ACCESS_LEVEL: SHARED only
  std::optional<uint64_t> max_rows_per_user;           // MAX_ROWS_PER_USER: STREAM only (ours)
  std::optional<bool> ephemeral;                       // EPHEMERAL: STREAM only (ours)
};

struct CreateTableStmt {
  QualifiedName table;  // table.ns is never "system"
  // From CREATE USER|SHARED|STREAM TABLE or WITH (TYPE = …); SHARED when neither is given.
  TableType table_type = TableType::kShared;
  bool if_not_exists = false;
  std::vector<ParsedColumn> columns;  // in written order; names unique ignoring case
  // columns[primary_key_index].primary_key when has_primary_key; only a STREAM table may have
  // no primary key.
  size_t primary_key_index = 0;
  bool has_primary_key = false;
  TableOptions options;
};

// ALTER TABLE [ns.]t <action>: one change per statement, each a new schema version.
struct AlterTableStmt {
  enum class Action : uint8_t {
    kAddColumn,       // ADD [COLUMN] <column definition>
    kDropColumn,      // DROP [COLUMN] c
    kModifyColumn,    // MODIFY [COLUMN] c TYPE [NOT NULL | NULL]; ALTER [COLUMN] c [SET DATA] TYPE t
    kSetNotNull,      // ALTER [COLUMN] c SET NOT NULL
    kDropNotNull,     // ALTER [COLUMN] c DROP NOT NULL
    kSetDefault,      // ALTER [COLUMN] c SET DEFAULT expr
    kDropDefault,     // ALTER [COLUMN] c DROP DEFAULT
    kRenameColumn,    // RENAME [COLUMN] a TO b
    kSetAccessLevel,  // SET ACCESS LEVEL x; SET TBLPROPERTIES (ACCESS_LEVEL = 'x')
    kCreateVectorIndex,  // CREATE [VECTOR] INDEX c [USING COSINE|L2|DOT]
    kDropVectorIndex,    // DROP [VECTOR] INDEX c
  };
  QualifiedName table;
  Action action = Action::kAddColumn;
  // The column acted on, as written; empty for kAddColumn (see `column`) and kSetAccessLevel.
  std::string column_name;
  // kAddColumn: the new column (never primary_key). kModifyColumn: name and type_text only.
  ParsedColumn column;
  // kModifyColumn: NOT NULL → false, NULL → true; unset keeps the column's nullability.
  std::optional<bool> nullable;
  DefaultExpr default_value;  // kSetDefault
  std::string new_name;       // kRenameColumn: as written
  AccessLevel access_level = AccessLevel::kPrivate;  // kSetAccessLevel
  VectorMetric vector_metric = VectorMetric::kCosine;  // kCreateVectorIndex (default COSINE)
};

struct DropTableStmt {
  QualifiedName table;
  std::optional<TableType> table_type;  // DROP USER|SHARED|STREAM TABLE: must match the table
  bool if_exists = false;
};

// SHOW TABLES [IN [NAMESPACE] ns].
struct ShowTablesStmt {
  std::string ns;  // empty when no IN clause was given
};

// DESCRIBE|DESC [TABLE] [ns.]t [HISTORY].
struct DescribeTableStmt {
  QualifiedName table;
  bool history = false;  // list every schema version
};

// SHOW STATS FOR TABLE [ns.]t.
struct ShowStatsStmt {
  QualifiedName table;
};

// ---- Users ----

struct CreateUserStmt {
  std::string name;
  std::string password;
  std::string role;  // as written; the executor checks it names a role
  std::optional<std::string> email;
};

struct AlterUserStmt {
  enum class Change : uint8_t { kPassword, kRole, kEmail };
  std::string name;
  Change change = Change::kPassword;
  std::string value;  // the new password, role or email
};

struct DropUserStmt {
  std::string name;
  bool if_exists = false;
};

// ---- Impersonation ----

// EXECUTE AS USER 'alice' ( <one statement> ).
struct ExecuteAsStmt {
  std::string user;
  SqlStatement inner;  // the statement inside the parentheses, without a trailing ';'
};

// EXPLAIN [ANALYZE] <SELECT> (docs/explain.md).
struct ExplainStmt {
  bool analyze = false;
  SqlStatement inner;  // the SELECT
};

}  // namespace kalam::sql::parser
