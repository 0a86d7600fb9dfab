// SQLite 3.40's keywords, as listed by sqlite3_keyword_name() on the Debian 12 libsqlite3.
#include "sql/parser/keywords.h"

#include <algorithm>
#include <array>
#include <string>

#include "sql/parser/lexer.h"

namespace kalam::sql::parser {
namespace {

// Sorted, upper case.
constexpr std::array<std::string_view, 147> kKeywords = {
    "ABORT",      "ACTION",       "ADD",          "AFTER",        "ALL",
    "ALTER",      "ALWAYS",       "ANALYZE",      "AND",          "AS",
    "ASC",        "ATTACH",       "AUTOINCREMENT", "BEFORE",      "BEGIN",
    "BETWEEN",    "BY",           "CASCADE",      "CASE",         "CAST",
    "CHECK",      "COLLATE",      "COLUMN",       "COMMIT",       "CONFLICT",
    "CONSTRAINT", "CREATE",       "CROSS",        "CURRENT",      "CURRENT_DATE",
    "CURRENT_TIME", "CURRENT_TIMESTAMP", "DATABASE", "DEFAULT",   "DEFERRABLE",
    "DEFERRED",   "DELETE",       "DESC",         "DETACH",       "DISTINCT",
    "DO",         "DROP",         "EACH",         "ELSE",         "END",
    "ESCAPE",     "EXCEPT",       "EXCLUDE",      "EXCLUSIVE",    "EXISTS",
    "EXPLAIN",    "FAIL",         "FILTER",       "FIRST",        "FOLLOWING",
    "FOR",        "FOREIGN",      "FROM",         "FULL",         "GENERATED",
    "GLOB",       "GROUP",        "GROUPS",       "HAVING",       "IF",
    "IGNORE",     "IMMEDIATE",    "IN",           "INDEX",        "INDEXED",
    "INITIALLY",  "INNER",        "INSERT",       "INSTEAD",      "INTERSECT",
    "INTO",       "IS",           "ISNULL",       "JOIN",         "KEY",
    "LAST",       "LEFT",         "LIKE",         "LIMIT",        "MATCH",
    "MATERIALIZED", "NATURAL",    "NO",           "NOT",          "NOTHING",
    "NOTNULL",    "NULL",         "NULLS",        "OF",           "OFFSET",
    "ON",         "OR",           "ORDER",        "OTHERS",       "OUTER",
    "OVER",       "PARTITION",    "PLAN",         "PRAGMA",       "PRECEDING",
    "PRIMARY",    "QUERY",        "RAISE",        "RANGE",        "RECURSIVE",
    "REFERENCES", "REGEXP",       "REINDEX",      "RELEASE",      "RENAME",
    "REPLACE",    "RESTRICT",     "RETURNING",    "RIGHT",        "ROLLBACK",
    "ROW",        "ROWS",         "SAVEPOINT",    "SELECT",       "SET",
    "TABLE",      "TEMP",         "TEMPORARY",    "THEN",         "TIES",
    "TO",         "TRANSACTION",  "TRIGGER",      "UNBOUNDED",    "UNION",
    "UNIQUE",     "UPDATE",       "USING",        "VACUUM",       "VALUES",
    "VIEW",       "VIRTUAL",      "WHEN",         "WHERE",        "WINDOW",
    "WITH",       "WITHOUT",
};

}  // namespace

bool IsSqliteKeyword(std::string_view word) {
  if (word.empty() || word.size() > 17) return false;  // longest: CURRENT_TIMESTAMP
  std::string upper = ToUpperAscii(word);
  return std::binary_search(kKeywords.begin(), kKeywords.end(), std::string_view(upper));
}

}  // namespace kalam::sql::parser
