// FILE("name") placeholders of a multipart SQL request (docs/files.md): found with the lexer, so
// text inside string literals, comments and longer identifiers (`PROFILE('x')`) never matches.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::sql::parser {

// One `FILE ( "name" )` or `FILE ( 'name' )` in the source (any case, any spacing).
struct FilePlaceholder {
  std::string name;   // the file part's name, without quotes
  size_t offset = 0;  // of `FILE` in the source
  size_t length = 0;  // through the closing ')'
};

// Every placeholder of `sql`, in source order (a name may repeat). kInvalidSql when `sql` does
// not lex (unterminated string, …).
Result<std::vector<FilePlaceholder>> FindFilePlaceholders(std::string_view sql);

// `sql` with each placeholder replaced by the SQL string literal of `values[name]` (quotes
// doubled). Every placeholder's name must be in `values`.
std::string ReplaceFilePlaceholders(std::string_view sql,
                                    const std::vector<FilePlaceholder>& placeholders,
                                    const std::map<std::string, std::string>& values);

// A cheap pre-check: false when `sql` cannot contain a placeholder (no "file" in any case).
bool MayContainFilePlaceholder(std::string_view sql);

}  // namespace kalam::sql::parser
