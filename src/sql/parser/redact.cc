// RedactLiterals: the lexer's tokens with literals replaced.
#include "sql/parser/redact.h"

#include "sql/parser/lexer.h"

namespace kalam::sql::parser {

std::string RedactLiterals(std::string_view sql) {
  LexOptions options;
  options.keep_trivia = true;
  auto tokens = Lex(sql, options);
  if (!tokens.ok()) return "<SQL not shown: it could not be tokenized>";
  std::string out;
  out.reserve(sql.size());
  for (const Token& t : *tokens) {
    switch (t.kind) {
      case TokenKind::kString:
      case TokenKind::kInteger:
      case TokenKind::kFloat:
      case TokenKind::kBlob:
        out += '?';
        break;
      default:
        for (char c : t.Raw(sql)) out += (c == '\r' || c == '\n' || c == '\t') ? ' ' : c;
    }
  }
  return out;
}

}  // namespace kalam::sql::parser
