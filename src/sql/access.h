// Access control for SQL: who runs a statement (Caller) and what that caller may do — role
// requirements, shared-table access levels, system tables and EXECUTE AS (SQL.md §5). The
// executor, the system tables and live queries all decide through these functions.
#pragma once

#include <string>
#include <string_view>

#include "auth/roles.h"
#include "catalog/table_def.h"
#include "common/status.h"

namespace kalam::sql {

// Who runs a request: the user whose scope USER tables open, and that user's role.
struct Caller {
  std::string user_id;
  auth::Role role = auth::Role::kUser;
};

// OK if `caller` has at least role `needed`; else kPermissionDenied "Permission denied: <what>
// requires role '<needed>' or higher (you are '<role>')".
Status RequireRole(const Caller& caller, auth::Role needed, std::string_view what);

// OK if `caller` may read (write = false) or write `table`: USER and STREAM tables always (the
// scope limits the rows), SHARED tables by their access level (dba and system: all). Else
// kPermissionDenied naming the role, the table and its access level.
Status CheckTableAccess(const Caller& caller, const catalog::TableDef& table, bool write);

// Whether `role` may read the tables of namespace `system` (dba and system only).
bool MayReadSystemTables(auth::Role role);

// Whether a caller (`caller`, user `caller_id`) may run statements as the user `target_id` whose
// role is `target` (EXECUTE AS USER).
bool MayExecuteAs(auth::Role caller, const std::string& caller_id, auth::Role target,
                  const std::string& target_id);

}  // namespace kalam::sql
