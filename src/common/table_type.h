// TableType and AccessLevel: what kind of table a table is and who may use a SHARED one
// (SQL.md §2). One definition for the parser, which reads them from statements, and the catalog,
// which stores them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kalam {

// USER and STREAM tables keep one scope of rows per user; SHARED tables one scope for everyone.
// SYSTEM marks the synthetic definitions of system.* and information_schema tables; statements
// never create one.
enum class TableType : uint8_t { kUser, kShared, kStream, kSystem };

// "USER", "SHARED", "STREAM" or "SYSTEM".
std::string_view TableTypeName(TableType type);

// Who may read and write a SHARED table (SQL.md §5); meaningless for other table types.
enum class AccessLevel : uint8_t { kPublic, kPrivate, kRestricted, kDba };

// "PUBLIC", "PRIVATE", "RESTRICTED" or "DBA".
std::string_view AccessLevelName(AccessLevel level);

// The level named `name` (any case), or nullopt.
std::optional<AccessLevel> ParseAccessLevel(std::string_view name);

}  // namespace kalam
