// The read-only system tables (SQL.md §4) — `system.*` for roles dba and system, and
// `information_schema.tables` / `.columns` for everyone — and the `kalam_system` SQLite
// virtual-table module that exposes them. Rows are computed from the running statement's
// ExecContext when a scan starts and kept for the rest of the statement.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/roles.h"
#include "catalog/table_def.h"
#include "common/status.h"
#include "sql/exec_context.h"

namespace kalam::sql {

class SqlConnection;

inline constexpr std::string_view kInformationSchemaNamespace = "information_schema";

// One system table. Immutable; every instance lives for the whole process.
struct SystemTable {
  // Name, columns and their KalamDB types (table_type kSystem, namespace "system" or
  // "information_schema"). Result columns read from the table are typed from these columns.
  std::shared_ptr<const catalog::TableDef> def;
  // The table's SQLite name on every connection: "ks_<name>", "ks_is_<name>" for
  // information_schema. The authorizer denies `ks_*` tables a statement did not name.
  std::string sqlite_name;
  // Readable by roles dba and system only (all of system.*). information_schema tables are
  // readable by everyone and list only what the caller may read.
  bool dba_only = true;
  // Computes every row: one value per column, in the column type's stored form (TIMESTAMP as µs,
  // BOOLEAN as 0/1, JSON as text). Reads only `ctx`.
  Result<MaterializedRows> (*produce)(const ExecContext& ctx) = nullptr;
};

// True for the namespaces whose tables are system tables: "system" and "information_schema"
// (lower case, as the executor resolves them).
bool IsSystemNamespace(std::string_view ns);

// Every system table, system.* first, each group in name order.
const std::vector<SystemTable>& AllSystemTables();
// The system table `ns.name` (ns lower case, name in any case), or null.
const SystemTable* FindSystemTable(std::string_view ns, std::string_view name);
// The system table whose SQLite name is `sqlite_name`, or null.
const SystemTable* FindSystemTableBySqliteName(std::string_view sqlite_name);

// The system table a statement names as `ns.name`, if `role` may use it that way. Fails with
// kTableNotFound for an unknown name (`System table 'system.nope' does not exist`), with
// kPermissionDenied for system.* unless `role` is dba or system, and with kPermissionDenied for
// any write (`System table 'system.users' is read-only`).
Result<const SystemTable*> ResolveSystemTable(std::string_view ns, std::string_view name,
                                              auth::Role role, bool write);

// Registers the `kalam_system` module on `db`. A table is created with
// `CREATE VIRTUAL TABLE temp.<sqlite_name> USING kalam_system(<sqlite_name>)`; it has no xUpdate,
// so SQLite itself refuses writes as a second wall. `conn` must outlive `db`'s use of it.
int RegisterSystemModule(sqlite3* db, SqlConnection* conn);

}  // namespace kalam::sql
