// The statement splitter: paren depth over the lexer's tokens decides which `;` end a statement.
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {
namespace {

// The statement spanning tokens [begin, end) of `tokens`, lexed from `source`.
SqlStatement MakeStatement(std::string_view source, const std::vector<Token>& tokens,
                           size_t begin, size_t end) {
  SqlStatement stmt;
  const size_t start = tokens[begin].offset;
  const size_t stop = tokens[end - 1].offset + tokens[end - 1].length;
  stmt.text = std::string(source.substr(start, stop - start));
  stmt.offset = start;
  stmt.tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(begin),
                     tokens.begin() + static_cast<std::ptrdiff_t>(end));
  for (Token& token : stmt.tokens) token.offset -= start;
  return stmt;
}

}  // namespace

Result<std::vector<SqlStatement>> SplitStatements(std::string_view sql) {
  KALAM_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(sql));
  std::vector<SqlStatement> statements;
  size_t depth = 0;
  size_t begin = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& token = tokens[i];
    if (token.IsPunct('(')) {
      ++depth;
    } else if (token.IsPunct(')')) {
      if (depth > 0) --depth;  // an unmatched ')' is SQLite's to report
    } else if (token.IsPunct(';') && depth == 0) {
      if (i > begin) statements.push_back(MakeStatement(sql, tokens, begin, i));
      begin = i + 1;
    }
  }
  if (tokens.size() > begin) statements.push_back(MakeStatement(sql, tokens, begin, tokens.size()));
  return statements;
}

SqlStatement SliceStatement(const SqlStatement& stmt, size_t begin, size_t end) {
  return MakeStatement(stmt.text, stmt.tokens, begin, end);
}

}  // namespace kalam::sql::parser
