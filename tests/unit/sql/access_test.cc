// Tests for the SQL access rules: roles, shared-table access levels, system tables, EXECUTE AS.
#include "sql/access.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

catalog::TableDef Shared(catalog::AccessLevel level) {
  catalog::TableDef t;
  t.namespace_id = "app";
  t.table_name = "config";
  t.type = catalog::TableType::kShared;
  t.options.access_level = level;
  return t;
}

TEST(AccessTest, RequireRoleNamesTheNeededAndTheCallersRole) {
  EXPECT_TRUE(RequireRole(Caller{"u1", auth::Role::kDba}, auth::Role::kDba, "DROP TABLE").ok());
  Status st = RequireRole(Caller{"u1", auth::Role::kUser}, auth::Role::kDba, "DROP TABLE");
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "Permission denied: DROP TABLE requires role 'dba' or higher (you are 'user')");
}

TEST(AccessTest, UserTablesAreOpenToEveryoneBecauseTheScopeLimitsTheRows) {
  catalog::TableDef t;
  t.type = catalog::TableType::kUser;
  EXPECT_TRUE(CheckTableAccess(Caller{"u1", auth::Role::kUser}, t, /*write=*/true).ok());
}

TEST(AccessTest, SharedTablesFollowTheirAccessLevel) {
  const Caller user{"u1", auth::Role::kUser};
  const Caller service{"s1", auth::Role::kService};
  const Caller dba{"d1", auth::Role::kDba};
  const auto pub = Shared(catalog::AccessLevel::kPublic);
  EXPECT_TRUE(CheckTableAccess(user, pub, false).ok());
  EXPECT_FALSE(CheckTableAccess(user, pub, true).ok());
  EXPECT_TRUE(CheckTableAccess(service, pub, true).ok());
  const auto priv = Shared(catalog::AccessLevel::kPrivate);
  EXPECT_FALSE(CheckTableAccess(user, priv, false).ok());
  EXPECT_TRUE(CheckTableAccess(service, priv, true).ok());
  const auto dba_only = Shared(catalog::AccessLevel::kDba);
  EXPECT_FALSE(CheckTableAccess(service, dba_only, false).ok());
  EXPECT_TRUE(CheckTableAccess(dba, dba_only, true).ok());
  EXPECT_EQ(CheckTableAccess(user, priv, false).message(),
            "Permission denied: role 'user' cannot read shared table 'app.config' (access level "
            "PRIVATE)");
}

TEST(AccessTest, SystemTablesAreForDbaAndSystemOnly) {
  EXPECT_FALSE(MayReadSystemTables(auth::Role::kUser));
  EXPECT_FALSE(MayReadSystemTables(auth::Role::kService));
  EXPECT_TRUE(MayReadSystemTables(auth::Role::kDba));
  EXPECT_TRUE(MayReadSystemTables(auth::Role::kSystem));
}

TEST(AccessTest, ExecuteAsFollowsTheRoleLadder) {
  using auth::Role;
  EXPECT_TRUE(MayExecuteAs(Role::kSystem, "root", Role::kSystem, "other"));
  EXPECT_TRUE(MayExecuteAs(Role::kDba, "d", Role::kDba, "d2"));
  EXPECT_FALSE(MayExecuteAs(Role::kDba, "d", Role::kSystem, "root"));
  EXPECT_TRUE(MayExecuteAs(Role::kService, "s", Role::kUser, "u"));
  EXPECT_FALSE(MayExecuteAs(Role::kService, "s", Role::kDba, "d"));
  EXPECT_TRUE(MayExecuteAs(Role::kUser, "u", Role::kUser, "u"));
  EXPECT_FALSE(MayExecuteAs(Role::kUser, "u", Role::kUser, "v"));
}

}  // namespace
}  // namespace kalam::sql
