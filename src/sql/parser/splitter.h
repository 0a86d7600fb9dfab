// The statement splitter: cuts a request's SQL into statements on top-level `;`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/parser/lexer.h"

namespace kalam::sql::parser {

// One statement of a request: its text and its significant tokens (no whitespace or comments).
// Value type.
struct SqlStatement {
  // The statement's text, from its first token to its last, without the terminating `;`.
  // Comments between tokens are kept; leading and trailing ones are not.
  std::string text;
  // Byte offset of `text` in the text it was cut from (the request, or the enclosing statement
  // for SliceStatement).
  size_t offset = 0;
  // The tokens of `text`, never empty. Token offsets are relative to `text`.
  std::vector<Token> tokens;

  // The raw text of token `i` ("'it''s'" for the string whose value is "it's").
  std::string_view Raw(size_t i) const { return tokens[i].Raw(text); }
};

// Splits `sql` on every `;` that is outside quotes, comments and parentheses (so the `;` inside
// `EXECUTE AS USER 'u' ( … ; … )` does not split). Empty statements (";;", a trailing ";",
// comment-only text) are dropped, so an empty result means there is nothing to run. Fails with
// kInvalidSql when the text does not lex (see Lex).
Result<std::vector<SqlStatement>> SplitStatements(std::string_view sql);

// The statement made of tokens [begin, end) of `stmt` (begin < end ≤ stmt.tokens.size()), with
// its own text and rebased token offsets; `offset` is relative to `stmt.text`.
SqlStatement SliceStatement(const SqlStatement& stmt, size_t begin, size_t end);

}  // namespace kalam::sql::parser
