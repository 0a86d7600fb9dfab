// Names of table types and access levels.
#include "common/table_type.h"

#include <cctype>

namespace kalam {

std::string_view TableTypeName(TableType type) {
  switch (type) {
    case TableType::kUser: return "USER";
    case TableType::kShared: return "SHARED";
    case TableType::kStream: return "STREAM";
    case TableType::kSystem: return "SYSTEM";
  }
  return "SHARED";
}

std::string_view AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kPublic: return "PUBLIC";
    case AccessLevel::kPrivate: return "PRIVATE";
    case AccessLevel::kRestricted: return "RESTRICTED";
    case AccessLevel::kDba: return "DBA";
  }
  return "PRIVATE";
}

std::optional<AccessLevel> ParseAccessLevel(std::string_view name) {
  for (auto level : {AccessLevel::kPublic, AccessLevel::kPrivate, AccessLevel::kRestricted,
                     AccessLevel::kDba}) {
    const std::string_view want = AccessLevelName(level);
    if (name.size() != want.size()) continue;
    bool equal = true;
    for (size_t i = 0; i < name.size() && equal; ++i) {
      equal = std::toupper(static_cast<unsigned char>(name[i])) == want[i];
    }
    if (equal) return level;
  }
  return std::nullopt;
}

}  // namespace kalam
