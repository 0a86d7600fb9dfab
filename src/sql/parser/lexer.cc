// The SQL lexer: a hand-written scanner following SQLite's tokenizer rules for the token classes
// KalamDB needs to see (names, literals, parameters, operators, comments).
#include "sql/parser/lexer.h"

#include <string>

namespace kalam::sql::parser {
namespace {

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsHexDigit(unsigned char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// SQLite treats every byte ≥ 0x80 as part of an identifier, so UTF-8 names lex as one word.
bool IsIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c) || c == '$'; }

// A short excerpt of the source starting at `offset`, for error messages.
std::string Excerpt(std::string_view sql, size_t offset, size_t max_len = 24) {
  std::string_view rest = sql.substr(offset, max_len);
  size_t nl = rest.find('\n');
  if (nl != std::string_view::npos) rest = rest.substr(0, nl);
  std::string out(rest);
  if (offset + max_len < sql.size() && nl == std::string_view::npos) out += "...";
  return out;
}

class Scanner {
 public:
  Scanner(std::string_view sql, LexOptions options) : sql_(sql), options_(options) {}

  Result<std::vector<Token>> Run() {
    while (pos_ < sql_.size()) {
      KALAM_RETURN_IF_ERROR(Step());
    }
    return std::move(tokens_);
  }

 private:
  unsigned char At(size_t i) const { return i < sql_.size() ? sql_[i] : '\0'; }

  void Emit(TokenKind kind, size_t start, size_t end, std::string value) {
    if (!options_.keep_trivia && (kind == TokenKind::kComment || kind == TokenKind::kWhitespace)) {
      return;
    }
    tokens_.push_back(Token{kind, start, end - start, std::move(value)});
  }
  void EmitRaw(TokenKind kind, size_t start, size_t end) {
    Emit(kind, start, end, std::string(sql_.substr(start, end - start)));
  }

  Status Unrecognized(size_t start, size_t end) {
    return Status::InvalidSql("Unrecognized token at offset " + std::to_string(start) + ": '" +
                              std::string(sql_.substr(start, end - start)) + "'");
  }

  Status Step() {
    const size_t start = pos_;
    const unsigned char c = At(pos_);
    if (IsSpace(c)) {
      while (pos_ < sql_.size() && IsSpace(At(pos_))) ++pos_;
      EmitRaw(TokenKind::kWhitespace, start, pos_);
      return Status::OK();
    }
    if (c == '-' && At(pos_ + 1) == '-') {
      while (pos_ < sql_.size() && At(pos_) != '\n') ++pos_;
      EmitRaw(TokenKind::kComment, start, pos_);
      return Status::OK();
    }
    if (c == '/' && At(pos_ + 1) == '*') return BlockComment();
    if ((c == 'x' || c == 'X') && At(pos_ + 1) == '\'') return Blob();
    if (IsIdentStart(c)) {
      while (pos_ < sql_.size() && IsIdentChar(At(pos_))) ++pos_;
      EmitRaw(TokenKind::kIdentifier, start, pos_);
      return Status::OK();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(At(pos_ + 1)))) return Number();
    switch (c) {
      case '\'':
        return Quoted('\'', TokenKind::kString, "string literal");
      case '"':
        return Quoted('"', TokenKind::kQuotedIdentifier, "quoted identifier");
      case '`':
        return Quoted('`', TokenKind::kQuotedIdentifier, "quoted identifier");
      case '[':
        return Bracketed();
      case '?': {
        ++pos_;
        while (IsDigit(At(pos_))) ++pos_;
        // A bare `?` before a string literal is the JSON key test (`doc ? 'key'`), an operator;
        // any other `?` is a SQLite-style parameter (which the analyzer refuses).
        bool key_test = false;
        if (pos_ == start + 1) {
          size_t next = pos_;
          while (IsSpace(At(next))) ++next;
          key_test = At(next) == '\'';
        }
        EmitRaw(key_test ? TokenKind::kOperator : TokenKind::kParameter, start, pos_);
        return Status::OK();
      }
      case '$':
      case ':':
      case '@':
        ++pos_;
        while (pos_ < sql_.size() && IsIdentChar(At(pos_))) ++pos_;
        if (pos_ == start + 1) return Unrecognized(start, pos_);
        EmitRaw(TokenKind::kParameter, start, pos_);
        return Status::OK();
      case '(':
      case ')':
      case ',':
      case ';':
      case '.':
        ++pos_;
        EmitRaw(TokenKind::kPunct, start, pos_);
        return Status::OK();
      default:
        return Operator();
    }
  }

  Status Operator() {
    const size_t start = pos_;
    const unsigned char c = At(pos_);
    const unsigned char n = At(pos_ + 1);
    size_t len = 0;
    switch (c) {
      case '-':
        len = (n == '>') ? (At(pos_ + 2) == '>' ? 3 : 2) : 1;
        break;
      case '|':
        len = (n == '|') ? 2 : 1;
        break;
      case '<':
        len = (n == '=' || n == '>' || n == '<') ? 2 : 1;
        break;
      case '>':
        len = (n == '=' || n == '>') ? 2 : 1;
        break;
      case '=':
        len = (n == '=') ? 2 : 1;
        break;
      case '!':
        if (n != '=') return Unrecognized(start, start + 1);
        len = 2;
        break;
      case '+':
      case '*':
      case '/':
      case '%':
      case '&':
      case '~':
        len = 1;
        break;
      default:
        return Unrecognized(start, start + 1);
    }
    pos_ += len;
    EmitRaw(TokenKind::kOperator, start, pos_);
    return Status::OK();
  }

  Status BlockComment() {
    const size_t start = pos_;
    size_t end = sql_.find("*/", pos_ + 2);
    if (end == std::string_view::npos) {
      return Status::InvalidSql("Unterminated block comment starting at offset " +
                                std::to_string(start) + ": " + Excerpt(sql_, start) +
                                " (close it with */)");
    }
    pos_ = end + 2;
    EmitRaw(TokenKind::kComment, start, pos_);
    return Status::OK();
  }

  // 'text', "name" or `name`: the closing quote doubled inside stands for itself.
  Status Quoted(char quote, TokenKind kind, std::string_view what) {
    const size_t start = pos_;
    std::string value;
    size_t i = pos_ + 1;
    while (true) {
      if (i >= sql_.size()) {
        return Status::InvalidSql("Unterminated " + std::string(what) + " starting at offset " +
                                  std::to_string(start) + ": " + Excerpt(sql_, start));
      }
      if (sql_[i] == quote) {
        if (At(i + 1) == static_cast<unsigned char>(quote)) {
          value += quote;
          i += 2;
          continue;
        }
        break;
      }
      value += sql_[i];
      ++i;
    }
    pos_ = i + 1;
    Emit(kind, start, pos_, std::move(value));
    return Status::OK();
  }

  // [name]: no escapes, ends at the first ].
  Status Bracketed() {
    const size_t start = pos_;
    size_t end = sql_.find(']', pos_ + 1);
    if (end == std::string_view::npos) {
      return Status::InvalidSql("Unterminated quoted identifier starting at offset " +
                                std::to_string(start) + ": " + Excerpt(sql_, start));
    }
    pos_ = end + 1;
    Emit(TokenKind::kQuotedIdentifier, start, pos_,
         std::string(sql_.substr(start + 1, end - start - 1)));
    return Status::OK();
  }

  Status Blob() {
    const size_t start = pos_;
    size_t i = pos_ + 2;
    while (i < sql_.size() && sql_[i] != '\'') ++i;
    if (i >= sql_.size()) {
      return Status::InvalidSql("Unterminated blob literal starting at offset " +
                                std::to_string(start) + ": " + Excerpt(sql_, start));
    }
    std::string_view digits = sql_.substr(start + 2, i - start - 2);
    bool valid = digits.size() % 2 == 0;
    for (unsigned char d : digits) valid = valid && IsHexDigit(d);
    pos_ = i + 1;
    if (!valid) {
      return Status::InvalidSql("Invalid blob literal at offset " + std::to_string(start) + ": " +
                                std::string(sql_.substr(start, pos_ - start)) +
                                " (needs an even number of hex digits)");
    }
    Emit(TokenKind::kBlob, start, pos_, std::string(digits));
    return Status::OK();
  }

  Status Number() {
    const size_t start = pos_;
    TokenKind kind = TokenKind::kInteger;
    const bool hex = At(pos_) == '0' && (At(pos_ + 1) == 'x' || At(pos_ + 1) == 'X') &&
                     IsHexDigit(At(pos_ + 2));
    if (hex) {
      pos_ += 2;
      while (IsHexDigit(At(pos_))) ++pos_;
    } else {
      while (IsDigit(At(pos_))) ++pos_;
      if (At(pos_) == '.') {
        kind = TokenKind::kFloat;
        ++pos_;
        while (IsDigit(At(pos_))) ++pos_;
      }
      if (At(pos_) == 'e' || At(pos_) == 'E') {
        size_t exp = pos_ + 1;
        if (At(exp) == '+' || At(exp) == '-') ++exp;
        if (IsDigit(At(exp))) {
          kind = TokenKind::kFloat;
          pos_ = exp;
          while (IsDigit(At(pos_))) ++pos_;
        }
      }
    }
    // SQLite rejects a number glued to a word ("12abc", "1e", "0x").
    if (pos_ < sql_.size() && IsIdentChar(At(pos_))) {
      size_t end = pos_;
      while (end < sql_.size() && IsIdentChar(At(end))) ++end;
      return Unrecognized(start, end);
    }
    EmitRaw(kind, start, pos_);
    return Status::OK();
  }

  std::string_view sql_;
  LexOptions options_;
  size_t pos_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::string_view TokenKindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kIdentifier:
      return "IDENTIFIER";
    case TokenKind::kQuotedIdentifier:
      return "QUOTED_IDENTIFIER";
    case TokenKind::kString:
      return "STRING";
    case TokenKind::kBlob:
      return "BLOB";
    case TokenKind::kInteger:
      return "INTEGER";
    case TokenKind::kFloat:
      return "FLOAT";
    case TokenKind::kParameter:
      return "PARAMETER";
    case TokenKind::kOperator:
      return "OPERATOR";
    case TokenKind::kPunct:
      return "PUNCT";
    case TokenKind::kComment:
      return "COMMENT";
    case TokenKind::kWhitespace:
      return "WHITESPACE";
  }
  return "UNKNOWN";
}

std::string Token::Upper() const { return ToUpperAscii(value); }

bool Token::IsWord(std::string_view word) const {
  return kind == TokenKind::kIdentifier && EqualsIgnoreCase(value, word);
}

Result<std::vector<Token>> Lex(std::string_view sql, LexOptions options) {
  return Scanner(sql, options).Run();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = a[i];
    unsigned char y = b[i];
    if (x >= 'a' && x <= 'z') x -= 'a' - 'A';
    if (y >= 'a' && y <= 'z') y -= 'a' - 'A';
    if (x != y) return false;
  }
  return true;
}

std::string QuoteToken(std::string_view s, char quote) {
  std::string out(1, quote);
  for (char c : s) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

std::string ToUpperAscii(std::string_view s) {
  std::string out(s);
  for (char& ch : out) {
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - ('a' - 'A'));
  }
  return out;
}

}  // namespace kalam::sql::parser
