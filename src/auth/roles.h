// Role: the privilege levels of KalamDB users, their wire names, and the aliases SQL accepts
// (PROTOCOL.md §2).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kalam::auth {

// Privilege levels, lowest to highest; each level may do everything the ones below it may.
// kAnonymous is the caller of a request that carries no credentials; no user is ever stored with
// it.
enum class Role : uint8_t { kAnonymous, kUser, kService, kDba, kSystem };

// The wire form, lower case: "anonymous", "user", "service", "dba", "system". Also the form stored
// in the catalog and in the JWT `role` claim. Thread-safe.
std::string_view RoleName(Role role);

// Parses a role name as written in SQL (CREATE USER ... ROLE x) or read back from a token or the
// catalog: case-insensitive, with aliases admin → dba, developer and analyst → service, viewer and
// readonly → user. Returns nullopt for anything else, including "anonymous": it is not a role a
// user can be given, so neither SQL nor a token can name it. Thread-safe.
std::optional<Role> ParseRole(std::string_view text);

// True when `have` is `need` or higher. Thread-safe.
bool RoleAtLeast(Role have, Role need);

}  // namespace kalam::auth
