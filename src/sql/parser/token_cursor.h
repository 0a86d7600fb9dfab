// TokenCursor: a read position over a statement's tokens with the accept/expect steps the
// recursive-descent parsers of KalamDB statements are written in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "sql/parser/ast.h"
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {

// Longest identifier KalamDB accepts for namespaces, tables and columns.
inline constexpr size_t kMaxIdentifierLength = 64;

// Checks `name` against SQL.md's identifier rule. `what` names the thing for the message
// ("table"): "Invalid table name 'x-y': names must match [A-Za-z_][A-Za-z0-9_]* and be at most
// 64 characters". Fails with kInvalidSql.
Status ValidateIdentifier(std::string_view what, std::string_view name);

// Not thread-safe; borrows `stmt`, which must outlive the cursor.
class TokenCursor {
 public:
  explicit TokenCursor(const SqlStatement& stmt) : stmt_(stmt) {}

  bool AtEnd() const { return pos_ >= stmt_.tokens.size(); }
  size_t position() const { return pos_; }
  const SqlStatement& statement() const { return stmt_; }

  // The token `ahead` places after the current one, or nullptr past the end.
  const Token* Peek(size_t ahead = 0) const;
  // True if the token `ahead` places on is the bare word `word` (any case).
  bool PeekWord(std::string_view word, size_t ahead = 0) const;
  bool PeekPunct(char c, size_t ahead = 0) const;

  // The current token, consumed. Must not be called AtEnd().
  const Token& Next() { return stmt_.tokens[pos_++]; }

  // Consume the current token if it is the word / punctuation; say whether it was.
  bool AcceptWord(std::string_view word);
  bool AcceptPunct(char c);
  // Consume `IF NOT EXISTS` / `IF EXISTS` when present.
  bool AcceptIfNotExists();
  bool AcceptIfExists();

  // Consume the word / punctuation or fail with kInvalidSql:
  // "Expected TABLE after CREATE USER, found 'x'" / "…, but the statement ended".
  Status ExpectWord(std::string_view word, std::string_view after);
  Status ExpectPunct(char c, std::string_view after);
  Status ExpectOperator(std::string_view op, std::string_view after);
  // Fail unless every token was consumed: "Unexpected 'x' after <after>".
  Status ExpectEnd(std::string_view after);

  // A bare or quoted identifier's value, checked with ValidateIdentifier(what).
  Result<std::string> ExpectIdentifier(std::string_view what, std::string_view after);
  // `name` or `ns.name`, each part checked (namespace as "namespace", name as `what`).
  Result<QualifiedName> ExpectQualifiedName(std::string_view what, std::string_view after);
  // A string literal's value, or a bare/quoted identifier's: for user names and roles.
  Result<std::string> ExpectStringOrName(std::string_view what, std::string_view after);
  // A string literal's value.
  Result<std::string> ExpectString(std::string_view what, std::string_view after);
  // A literal: number (optionally signed), string, blob, TRUE, FALSE or NULL.
  Result<Literal> ExpectLiteral(std::string_view what, std::string_view after);

  // "'x'" for the current token or "end of statement", for messages.
  std::string DescribeCurrent() const;
  // An error "Expected <expected> after <after>, found …" at the current token.
  Status Unexpected(std::string_view expected, std::string_view after) const;

 private:
  const SqlStatement& stmt_;
  size_t pos_ = 0;
};

}  // namespace kalam::sql::parser
