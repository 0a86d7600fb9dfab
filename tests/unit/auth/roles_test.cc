// Role names, SQL aliases and privilege order (PROTOCOL.md §2).
#include "auth/roles.h"

#include <gtest/gtest.h>

namespace kalam::auth {
namespace {

TEST(RolesTest, WireNamesAreLowerCase) {
  EXPECT_EQ(RoleName(Role::kAnonymous), "anonymous");
  EXPECT_EQ(RoleName(Role::kUser), "user");
  EXPECT_EQ(RoleName(Role::kService), "service");
  EXPECT_EQ(RoleName(Role::kDba), "dba");
  EXPECT_EQ(RoleName(Role::kSystem), "system");
}

TEST(RolesTest, ParseAcceptsEveryAssignableNameInAnyCase) {
  EXPECT_EQ(ParseRole("user"), Role::kUser);
  EXPECT_EQ(ParseRole("SERVICE"), Role::kService);
  EXPECT_EQ(ParseRole("Dba"), Role::kDba);
  EXPECT_EQ(ParseRole("sYsTeM"), Role::kSystem);
  for (Role r : {Role::kUser, Role::kService, Role::kDba, Role::kSystem}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r) << RoleName(r);
  }
}

TEST(RolesTest, ParseAcceptsAliases) {
  EXPECT_EQ(ParseRole("admin"), Role::kDba);
  EXPECT_EQ(ParseRole("ADMIN"), Role::kDba);
  EXPECT_EQ(ParseRole("developer"), Role::kService);
  EXPECT_EQ(ParseRole("Analyst"), Role::kService);
  EXPECT_EQ(ParseRole("viewer"), Role::kUser);
  EXPECT_EQ(ParseRole("READONLY"), Role::kUser);
}

TEST(RolesTest, ParseRejectsAnonymousAndUnknownNames) {
  EXPECT_EQ(ParseRole("anonymous"), std::nullopt);
  EXPECT_EQ(ParseRole("ANONYMOUS"), std::nullopt);
  EXPECT_EQ(ParseRole(""), std::nullopt);
  EXPECT_EQ(ParseRole("root"), std::nullopt);
  EXPECT_EQ(ParseRole(" user"), std::nullopt);
  EXPECT_EQ(ParseRole("user "), std::nullopt);
  EXPECT_EQ(ParseRole("users"), std::nullopt);
  EXPECT_EQ(ParseRole("read_only"), std::nullopt);
  EXPECT_EQ(ParseRole(std::string_view("user\0", 5)), std::nullopt);
}

TEST(RolesTest, RoleAtLeastFollowsPrivilegeOrder) {
  const Role order[] = {Role::kAnonymous, Role::kUser, Role::kService, Role::kDba, Role::kSystem};
  for (int have = 0; have < 5; ++have) {
    for (int need = 0; need < 5; ++need) {
      EXPECT_EQ(RoleAtLeast(order[have], order[need]), have >= need)
          << RoleName(order[have]) << " vs " << RoleName(order[need]);
    }
  }
}

}  // namespace
}  // namespace kalam::auth
