// Literal redaction: SQL text with its values replaced by `?`, for logs and the audit log, so
// passwords, tokens and personal data never reach them.
#pragma once

#include <string>
#include <string_view>

namespace kalam::sql::parser {

// `sql` with every string, number and blob literal replaced by `?`, and every CR, LF and tab
// turned into a space (one line per statement in the logs). Identifiers, keywords, operators,
// parameters and comments are kept as written; runs of whitespace are kept. Text the lexer
// cannot tokenize (an unterminated string) gives "<SQL not shown: it could not be tokenized>",
// never the raw text.
std::string RedactLiterals(std::string_view sql);

}  // namespace kalam::sql::parser
