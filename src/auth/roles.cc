// Role names, aliases and ordering.
#include "auth/roles.h"

#include <array>
#include <utility>

namespace kalam::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAnonymous: return "anonymous";
    case Role::kUser: return "user";
    case Role::kService: return "service";
    case Role::kDba: return "dba";
    case Role::kSystem: return "system";
  }
  return "unknown";
}

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<Role> ParseRole(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, Role>, 9> kNames = {{
      {"user", Role::kUser},
      {"service", Role::kService},
      {"dba", Role::kDba},
      {"system", Role::kSystem},
      {"admin", Role::kDba},
      {"developer", Role::kService},
      {"analyst", Role::kService},
      {"viewer", Role::kUser},
      {"readonly", Role::kUser},
  }};
  for (const auto& [name, role] : kNames) {
    if (EqualsIgnoreCase(text, name)) return role;
  }
  return std::nullopt;
}

bool RoleAtLeast(Role have, Role need) {
  return static_cast<uint8_t>(have) >= static_cast<uint8_t>(need);
}

}  // namespace kalam::auth
