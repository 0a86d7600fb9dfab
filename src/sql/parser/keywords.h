// SQLite's keyword list, used to normalise keyword case and to tell names from keywords.
#pragma once

#include <string_view>

namespace kalam::sql::parser {

// True if `word` (any ASCII case) is one of the 147 keywords of SQLite 3.40
// (sqlite3_keyword_name), e.g. "select", "Key", "CURRENT_TIMESTAMP".
bool IsSqliteKeyword(std::string_view word);

}  // namespace kalam::sql::parser
