// Access control for SQL: role requirements, shared-table access levels, EXECUTE AS.
#include "sql/access.h"

namespace kalam::sql {

Status RequireRole(const Caller& caller, auth::Role needed, std::string_view what) {
  if (auth::RoleAtLeast(caller.role, needed)) return Status::OK();
  return Status::PermissionDenied("Permission denied: " + std::string(what) + " requires role '" +
                                  std::string(auth::RoleName(needed)) + "' or higher (you are '" +
                                  std::string(auth::RoleName(caller.role)) + "')");
}

Status CheckTableAccess(const Caller& caller, const catalog::TableDef& table, bool write) {
  if (table.type == catalog::TableType::kUser || table.type == catalog::TableType::kStream) {
    return Status::OK();
  }
  if (auth::RoleAtLeast(caller.role, auth::Role::kDba)) return Status::OK();
  const auto level = table.options.access_level;
  const bool service = auth::RoleAtLeast(caller.role, auth::Role::kService);
  bool allowed = false;
  switch (level) {
    case catalog::AccessLevel::kPublic: allowed = !write || service; break;
    case catalog::AccessLevel::kPrivate:
    case catalog::AccessLevel::kRestricted: allowed = service; break;
    case catalog::AccessLevel::kDba: allowed = false; break;
  }
  if (allowed) return Status::OK();
  return Status::PermissionDenied("Permission denied: role '" +
                                  std::string(auth::RoleName(caller.role)) + "' cannot " +
                                  (write ? "write" : "read") + " shared table '" +
                                  table.QualifiedName() + "' (access level " +
                                  std::string(catalog::AccessLevelName(level)) + ")");
}

bool MayReadSystemTables(auth::Role role) { return auth::RoleAtLeast(role, auth::Role::kDba); }

// SQL.md §5: whom each role may act as.
bool MayExecuteAs(auth::Role caller, const std::string& caller_id, auth::Role target,
                  const std::string& target_id) {
  switch (caller) {
    case auth::Role::kSystem: return true;
    case auth::Role::kDba:
      return target == auth::Role::kDba || target == auth::Role::kService ||
             target == auth::Role::kUser;
    case auth::Role::kService:
      return target == auth::Role::kService || target == auth::Role::kUser;
    case auth::Role::kUser: return target_id == caller_id;
    default: return false;
  }
}

}  // namespace kalam::sql
