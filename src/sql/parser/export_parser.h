// Parsers of the user data export statements (docs/export.md): EXPORT USER DATA and SHOW EXPORT.
// Both take no arguments; the user is the session's.
#pragma once

#include "common/status.h"
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {

// EXPORT USER DATA. Fails with kInvalidSql "Unexpected tokens after EXPORT USER DATA: '<rest>'"
// when anything follows (<rest> is the statement's text after DATA).
Status ParseExportUserData(const SqlStatement& stmt);

// SHOW EXPORT. Fails with kInvalidSql "Unexpected tokens after SHOW EXPORT: '<rest>'".
Status ParseShowExport(const SqlStatement& stmt);

}  // namespace kalam::sql::parser
