// The SQL lexer: turns request text into tokens of SQLite's SQL dialect, each remembering where
// it came from in the source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::sql::parser {

enum class TokenKind : uint8_t {
  kIdentifier,        // bare word, keywords included: `select`, `users`, `_seq`
  kQuotedIdentifier,  // "name" (with "" escape), `name` (with `` escape), [name]
  kString,            // 'text' with '' escape
  kBlob,              // x'0AFF' or X'0aff'
  kInteger,           // 42, 0x1F
  kFloat,             // 1.5, 1., .5, 1e10, 2.5E-3
  kParameter,         // $1, ?1, ?, :name, @name, $name
  kOperator,          // || -> ->> < <= > >= = == <> != << >> + - * / % & | ~
  kPunct,             // ( ) , ; .
  kComment,           // -- to end of line, /* … */ (only with LexOptions::keep_trivia)
  kWhitespace,        // spaces, tabs, newlines (only with LexOptions::keep_trivia)
};

// Stable upper-case name of a kind ("IDENTIFIER"), for messages and tests.
std::string_view TokenKindName(TokenKind kind);

// One token. `offset`/`length` locate its raw text in the source it was lexed from (for a token
// of a SqlStatement: in the statement's text). Value type.
struct Token {
  TokenKind kind = TokenKind::kPunct;
  size_t offset = 0;
  size_t length = 0;
  // The token's meaning:
  //   kIdentifier: the word as written (case kept); kQuotedIdentifier: the name without quotes,
  //   escapes undone; kString: the text without quotes, '' undone; kBlob: the hex digits;
  //   every other kind: the raw text.
  std::string value;

  // The keyword view of a bare identifier: `value` upper-cased ("select" → "SELECT").
  std::string Upper() const;
  // True for a bare identifier equal to `word` ignoring ASCII case (`IsWord("SELECT")`).
  // Quoted identifiers never match: "select" is a name, not a keyword.
  bool IsWord(std::string_view word) const;
  // True for the punctuation character `c` (one of `( ) , ; .`).
  bool IsPunct(char c) const {
    return kind == TokenKind::kPunct && value.size() == 1 && value[0] == c;
  }
  // True for the operator spelled `op` ("=", "->>", "*").
  bool IsOperator(std::string_view op) const { return kind == TokenKind::kOperator && value == op; }
  // True for a bare or quoted identifier: something that can name a table or column.
  bool IsName() const {
    return kind == TokenKind::kIdentifier || kind == TokenKind::kQuotedIdentifier;
  }
  // The raw source text of this token; `source` must be the text it was lexed from.
  std::string_view Raw(std::string_view source) const { return source.substr(offset, length); }
  // The text SQLite gets for this token: Raw, except for the JSON key test `doc ? 'key'` (an
  // operator `?`, lexed so only before a string literal), which SQLite gets as `MATCH` and
  // evaluates with KalamDB's match(key, doc) = json_contains(doc, key).
  std::string_view SqliteText(std::string_view source) const {
    return IsOperator("?") ? std::string_view("MATCH") : Raw(source);
  }
};

struct LexOptions {
  // Also return whitespace and comment tokens. Default: false (only significant tokens).
  bool keep_trivia = false;
};

// Splits `sql` into tokens, in source order. Fails with kInvalidSql on an unterminated string,
// quoted identifier or block comment, a malformed number or blob literal, or a character that
// starts no token (`#`, `!` alone, `$` without a name); the message names the offset and what
// was found.
Result<std::vector<Token>> Lex(std::string_view sql, LexOptions options = {});

// ASCII case-insensitive equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` with ASCII letters upper-cased (other bytes, UTF-8 included, unchanged).
std::string ToUpperAscii(std::string_view s);

// `s` as one token that lexes back to it: `quote` ('\'' for a string, '"' for an identifier)
// around it, each `quote` inside doubled ('it''s', "a""b").
std::string QuoteToken(std::string_view s, char quote);

}  // namespace kalam::sql::parser
