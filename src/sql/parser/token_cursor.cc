// TokenCursor and identifier validation.
#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {

Status ValidateIdentifier(std::string_view what, std::string_view name) {
  bool valid = !name.empty() && name.size() <= kMaxIdentifierLength;
  for (size_t i = 0; valid && i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    valid = letter || (i > 0 && c >= '0' && c <= '9');
  }
  if (valid) return Status::OK();
  return Status::InvalidSql("Invalid " + std::string(what) + " name '" + std::string(name) +
                            "': names must match [A-Za-z_][A-Za-z0-9_]* and be at most " +
                            std::to_string(kMaxIdentifierLength) + " characters");
}

const Token* TokenCursor::Peek(size_t ahead) const {
  return pos_ + ahead < stmt_.tokens.size() ? &stmt_.tokens[pos_ + ahead] : nullptr;
}

bool TokenCursor::PeekWord(std::string_view word, size_t ahead) const {
  const Token* t = Peek(ahead);
  return t != nullptr && t->IsWord(word);
}

bool TokenCursor::PeekPunct(char c, size_t ahead) const {
  const Token* t = Peek(ahead);
  return t != nullptr && t->IsPunct(c);
}

bool TokenCursor::AcceptWord(std::string_view word) {
  if (!PeekWord(word)) return false;
  ++pos_;
  return true;
}

bool TokenCursor::AcceptPunct(char c) {
  if (!PeekPunct(c)) return false;
  ++pos_;
  return true;
}

bool TokenCursor::AcceptIfNotExists() {
  if (!PeekWord("IF") || !PeekWord("NOT", 1) || !PeekWord("EXISTS", 2)) return false;
  pos_ += 3;
  return true;
}

bool TokenCursor::AcceptIfExists() {
  if (!PeekWord("IF") || !PeekWord("EXISTS", 1)) return false;
  pos_ += 2;
  return true;
}

std::string TokenCursor::DescribeCurrent() const {
  if (AtEnd()) return "end of statement";
  // A string literal already shows its quotes.
  if (stmt_.tokens[pos_].kind == TokenKind::kString) return std::string(stmt_.Raw(pos_));
  return "'" + std::string(stmt_.Raw(pos_)) + "'";
}

Status TokenCursor::Unexpected(std::string_view expected, std::string_view after) const {
  std::string message = "Expected " + std::string(expected) + " after " + std::string(after);
  if (AtEnd()) return Status::InvalidSql(message + ", but the statement ended");
  return Status::InvalidSql(message + ", found " + DescribeCurrent());
}

Status TokenCursor::ExpectWord(std::string_view word, std::string_view after) {
  if (AcceptWord(word)) return Status::OK();
  return Unexpected(word, after);
}

Status TokenCursor::ExpectPunct(char c, std::string_view after) {
  if (AcceptPunct(c)) return Status::OK();
  return Unexpected("'" + std::string(1, c) + "'", after);
}

Status TokenCursor::ExpectOperator(std::string_view op, std::string_view after) {
  const Token* t = Peek();
  if (t != nullptr && t->IsOperator(op)) {
    ++pos_;
    return Status::OK();
  }
  return Unexpected("'" + std::string(op) + "'", after);
}

Status TokenCursor::ExpectEnd(std::string_view after) {
  if (AtEnd()) return Status::OK();
  return Status::InvalidSql("Unexpected " + DescribeCurrent() + " after " + std::string(after));
}

Result<std::string> TokenCursor::ExpectIdentifier(std::string_view what, std::string_view after) {
  const Token* t = Peek();
  if (t == nullptr || !t->IsName()) return Unexpected("a " + std::string(what) + " name", after);
  KALAM_RETURN_IF_ERROR(ValidateIdentifier(what, t->value));
  ++pos_;
  return t->value;
}

Result<QualifiedName> TokenCursor::ExpectQualifiedName(std::string_view what,
                                                       std::string_view after) {
  const Token* first = Peek();
  if (first == nullptr || !first->IsName()) {
    return Unexpected("a " + std::string(what) + " name", after);
  }
  QualifiedName name;
  if (PeekPunct('.', 1)) {
    KALAM_ASSIGN_OR_RETURN(name.ns, ExpectIdentifier("namespace", after));
    ++pos_;  // '.'
    KALAM_ASSIGN_OR_RETURN(name.name,
                           ExpectIdentifier(what, std::string(after) + " " + name.ns + "."));
    if (PeekPunct('.')) {
      return Status::InvalidSql("Invalid " + std::string(what) + " name '" + name.ToString() +
                                ".…': use name or namespace.name");
    }
    return name;
  }
  KALAM_ASSIGN_OR_RETURN(name.name, ExpectIdentifier(what, after));
  return name;
}

Result<std::string> TokenCursor::ExpectStringOrName(std::string_view what,
                                                    std::string_view after) {
  const Token* t = Peek();
  if (t == nullptr || !(t->IsName() || t->kind == TokenKind::kString)) {
    return Unexpected(what, after);
  }
  ++pos_;
  return t->value;
}

Result<std::string> TokenCursor::ExpectString(std::string_view what, std::string_view after) {
  const Token* t = Peek();
  if (t == nullptr || t->kind != TokenKind::kString) {
    return Unexpected(std::string(what) + " as a quoted string", after);
  }
  ++pos_;
  return t->value;
}

Result<Literal> TokenCursor::ExpectLiteral(std::string_view what, std::string_view after) {
  const Token* t = Peek();
  if (t == nullptr) return Unexpected(what, after);
  std::string sign;
  if (t->IsOperator("-") || t->IsOperator("+")) {
    const Token* number = Peek(1);
    if (number == nullptr ||
        (number->kind != TokenKind::kInteger && number->kind != TokenKind::kFloat)) {
      return Unexpected(what, after);
    }
    if (t->IsOperator("-")) sign = "-";
    ++pos_;
    t = number;
  }
  Literal literal;
  switch (t->kind) {
    case TokenKind::kInteger:
      literal = {LiteralKind::kInteger, sign + t->value};
      break;
    case TokenKind::kFloat:
      literal = {LiteralKind::kFloat, sign + t->value};
      break;
    case TokenKind::kString:
      literal = {LiteralKind::kString, t->value};
      break;
    case TokenKind::kBlob:
      literal = {LiteralKind::kBlob, t->value};
      break;
    case TokenKind::kIdentifier:
      if (t->IsWord("TRUE") || t->IsWord("FALSE")) {
        literal = {LiteralKind::kBoolean, ToUpperAscii(t->value)};
        break;
      }
      if (t->IsWord("NULL")) {
        literal = {LiteralKind::kNull, "NULL"};
        break;
      }
      return Unexpected(what, after);
    default:
      return Unexpected(what, after);
  }
  ++pos_;
  return literal;
}

}  // namespace kalam::sql::parser
