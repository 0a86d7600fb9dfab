// EXPORT USER DATA / SHOW EXPORT parsing.
#include "sql/parser/export_parser.h"

#include <string>

#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {

namespace {

// Nothing may follow `head`; otherwise the rest of the statement's text is quoted.
Status ExpectNothingAfter(const TokenCursor& cursor, std::string_view head) {
  if (cursor.AtEnd()) return Status::OK();
  const SqlStatement& stmt = cursor.statement();
  const std::string rest = stmt.text.substr(stmt.tokens[cursor.position()].offset);
  return Status::InvalidSql("Unexpected tokens after " + std::string(head) + ": '" + rest + "'");
}

}  // namespace

Status ParseExportUserData(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("EXPORT", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("USER", "EXPORT"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("DATA", "EXPORT USER"));
  return ExpectNothingAfter(cursor, "EXPORT USER DATA");
}

Status ParseShowExport(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("SHOW", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("EXPORT", "SHOW"));
  return ExpectNothingAfter(cursor, "SHOW EXPORT");
}

}  // namespace kalam::sql::parser
