// Storage path templates (SQL.md §2): "{namespace}/{tableName}/{userId}" expanded into the
// relative folder of one table scope, validated so that no value can leave the base directory.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam::filestore {

struct TemplateValues {
  std::string namespace_id;
  std::string table_name;
  std::string user_id;  // empty for SHARED tables
  std::string shard = "0";
};

// Checks a template: only the placeholders {namespace}, {tableName}, {userId}, {shard} (aliases
// {table_name}, {user_id}), balanced braces, no absolute path, no "." or ".." segment, no
// backslash, NUL or control character, no empty segment. `user_table`: must contain {userId}
// (a SHARED template must not). kInvalidArgument with a message naming the problem.
Status ValidateTemplate(std::string_view tmpl, bool user_table);

// Expands a validated template. Every substituted value must be one safe path segment
// (non-empty, no '/', '\\', NUL or control characters, not "." or ".."); otherwise
// kInvalidArgument and nothing is returned. The result has no leading or trailing '/'.
Result<std::string> ExpandTemplate(std::string_view tmpl, const TemplateValues& values);

// Checks an object key: relative, '/'-separated, no empty, "." or ".." segment, no backslash,
// NUL or control character, at most 1024 bytes.
Status ValidateKey(std::string_view key);

// Checks a List prefix: empty (everything), or a string that is a valid key once a single trailing
// '/' is dropped ("chat/", "chat/messages/seg-"). kInvalidArgument otherwise ("/", "a//", "../").
Status ValidatePrefix(std::string_view prefix);

}  // namespace kalam::filestore
