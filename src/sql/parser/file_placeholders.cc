// FILE("name") placeholder search over lexer tokens.
#include "sql/parser/file_placeholders.h"

#include "sql/parser/lexer.h"

namespace kalam::sql::parser {

Result<std::vector<FilePlaceholder>> FindFilePlaceholders(std::string_view sql) {
  KALAM_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(sql));
  std::vector<FilePlaceholder> out;
  for (size_t i = 0; i + 3 < tokens.size(); ++i) {
    const Token& word = tokens[i];
    if (!word.IsWord("FILE") || !tokens[i + 1].IsPunct('(')) continue;
    const Token& arg = tokens[i + 2];
    if (arg.kind != TokenKind::kString && arg.kind != TokenKind::kQuotedIdentifier) continue;
    // `name` and [name] are quoted identifiers too, but not placeholder forms.
    const char quote = sql[arg.offset];
    if (quote != '"' && quote != '\'') continue;
    if (!tokens[i + 3].IsPunct(')')) continue;
    // `x.FILE("a")` would be a qualified column, not a placeholder.
    if (i > 0 && tokens[i - 1].IsPunct('.')) continue;
    FilePlaceholder p;
    p.name = arg.value;
    p.offset = word.offset;
    p.length = tokens[i + 3].offset + 1 - word.offset;
    out.push_back(std::move(p));
    i += 3;
  }
  return out;
}

std::string ReplaceFilePlaceholders(std::string_view sql,
                                    const std::vector<FilePlaceholder>& placeholders,
                                    const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(sql.size());
  size_t at = 0;
  for (const auto& p : placeholders) {
    out.append(sql.substr(at, p.offset - at));
    out += QuoteToken(values.at(p.name), '\'');
    at = p.offset + p.length;
  }
  out.append(sql.substr(at));
  return out;
}

bool MayContainFilePlaceholder(std::string_view sql) {
  for (size_t i = 0; i + 4 <= sql.size(); ++i) {
    if ((sql[i] | 0x20) == 'f' && (sql[i + 1] | 0x20) == 'i' && (sql[i + 2] | 0x20) == 'l' &&
        (sql[i + 3] | 0x20) == 'e') {
      return true;
    }
  }
  return false;
}

}  // namespace kalam::sql::parser
