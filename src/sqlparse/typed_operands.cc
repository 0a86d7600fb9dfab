// Typed comparison operands: a scan for comparisons over the token sequence, with SQLite's
// operator precedence deciding what stands alone as an operand.
#include "sqlparse/typed_operands.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "common/decimal.h"
#include "common/value_convert.h"

namespace kalam::sql {
namespace {

// A decimal compared with a DECIMAL column may have up to this many digits on either side of the
// point (CanonicalDecimal's precision and scale for the widest form).
constexpr int kWideDecimalScale = 38;
constexpr int kWideDecimalPrecision = 2 * kWideDecimalScale;

// SQLite's binding strength of binary operators, weakest first (lang_expr.html).
enum Prec : int {
  kBoundary = 0,  // not an operator: '(' ',' WHERE WHEN THEN …
  kOr,
  kAnd,
  kNot,
  kEq,  // = == != <> IS IN LIKE GLOB MATCH REGEXP BETWEEN ISNULL NOTNULL
  kLt,  // < <= > >=
  kEscape,
  kBit,  // & | << >>
  kAdd,
  kMul,
  kConcat,  // || -> ->>
  kCollate,
  kUnary,  // ~
};

Prec OperatorPrec(std::string_view op) {
  if (op == "=" || op == "==" || op == "!=" || op == "<>") return kEq;
  if (op == "<" || op == "<=" || op == ">" || op == ">=") return kLt;
  if (op == "&" || op == "|" || op == "<<" || op == ">>") return kBit;
  if (op == "+" || op == "-") return kAdd;
  if (op == "*" || op == "/" || op == "%") return kMul;
  if (op == "~") return kUnary;
  return kConcat;  // || -> ->>
}

// Keywords after which an expression starts (so a following sign is unary, and a following
// operand stands alone).
bool IsBoundaryKeyword(const Token& t) {
  static constexpr std::string_view kWords[] = {
      "WHERE",  "ON",        "WHEN",  "THEN",   "ELSE",      "CASE",   "HAVING",
      "SELECT", "DISTINCT",  "ALL",   "BY",     "SET",       "VALUES", "RETURNING",
      "LIMIT",  "OFFSET",    "FROM",  "USING",  "EXISTS"};
  for (std::string_view w : kWords) {
    if (t.IsWord(w)) return true;
  }
  return false;
}

bool IsConstToken(const Token& t) {
  return t.kind == TokenKind::kString || t.kind == TokenKind::kBlob ||
         t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat ||
         t.kind == TokenKind::kParameter;
}

bool IsNumberToken(const Token& t) {
  return t.kind == TokenKind::kInteger || t.kind == TokenKind::kFloat;
}

bool IsSign(const Token& t) { return t.IsOperator("-") || t.IsOperator("+"); }

// True if a literal converted for a column of type `a` compares right with one of type `b` too.
bool SameStoredForm(const DataType& a, const DataType& b) {
  auto micros = [](TypeKind k) { return k == TypeKind::kTimestamp || k == TypeKind::kDateTime; };
  if (a.kind == TypeKind::kDecimal && b.kind == TypeKind::kDecimal) {
    return (a.precision <= kMaxRealDecimalPrecision) == (b.precision <= kMaxRealDecimalPrecision);
  }
  return a == b || (micros(a.kind) && micros(b.kind));
}

// The shortest text of a decimal in canonical form: "12.3400" → "12.34", "-0.0" → "0".
std::string TrimDecimal(std::string text) {
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// The value of literal tokens [first, end): a string, a blob, or a number with an optional sign,
// as SQLite reads them.
Value LiteralValue(const std::vector<Token>& toks, size_t first, size_t end) {
  const bool negative = end - first == 2 && toks[first].IsOperator("-");
  const Token& t = toks[end - 1];
  switch (t.kind) {
    case TokenKind::kString:
      return Value::Text(t.value);
    case TokenKind::kBlob: {
      std::string bytes;
      for (size_t i = 0; i + 1 < t.value.size(); i += 2) {
        bytes += static_cast<char>(HexValue(t.value[i]) * 16 + HexValue(t.value[i + 1]));
      }
      return Value::Bytes(std::move(bytes));
    }
    case TokenKind::kInteger: {
      std::string_view digits = t.value;
      const bool hex = digits.size() > 2 && digits[0] == '0' && (digits[1] | 0x20) == 'x';
      uint64_t u = 0;
      auto [ptr, ec] = hex ? std::from_chars(digits.data() + 2, digits.data() + digits.size(), u, 16)
                           : std::from_chars(digits.data(), digits.data() + digits.size(), u);
      if (hex) {  // SQLite reads hex literals as 64-bit two's complement
        const auto v = static_cast<int64_t>(u);
        return Value::Int(negative ? static_cast<int64_t>(0 - u) : v);
      }
      if (ec == std::errc() && u <= static_cast<uint64_t>(INT64_MAX)) {
        const auto v = static_cast<int64_t>(u);
        return Value::Int(negative ? -v : v);
      }
      if (ec == std::errc() && negative && u == static_cast<uint64_t>(INT64_MAX) + 1) {
        return Value::Int(INT64_MIN);
      }
      const double d = std::strtod(t.value.c_str(), nullptr);  // too big: SQLite makes it REAL
      return Value::Double(negative ? -d : d);
    }
    default: {  // kFloat
      const double d = std::strtod(t.value.c_str(), nullptr);
      return Value::Double(negative ? -d : d);
    }
  }
}

// The SQL text of a comparison value of `type` (see FindTypedOperands).
std::string OperandSql(const DataType& type, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return "NULL";
    case Value::Kind::kInt: return std::to_string(v.as_int());
    case Value::Kind::kText:
      if (type.kind == TypeKind::kDecimal && type.precision <= kMaxRealDecimalPrecision) {
        return v.as_text();  // compared as REAL: a numeric literal
      }
      return QuoteToken(v.as_text(), '\'');
    default:
      return {};  // ComparisonValue gives only the above for typed comparison types
  }
}

class Finder {
 public:
  Finder(const std::vector<Token>& toks, const ColumnResolver& resolve,
         const std::vector<size_t>& not_comparisons)
      : toks_(toks), n_(toks.size()), resolve_(resolve), skip_(not_comparisons) {}

  Result<std::vector<OperandRewrite>> Run() {
    for (size_t i = 0; i < n_; ++i) {
      if (toks_[i].IsWord("BETWEEN")) between_ands_.push_back(BetweenAnd(i));
    }
    for (size_t i = 0; i < n_; ++i) {
      const Token& t = toks_[i];
      if (t.kind == TokenKind::kOperator) {
        const Prec p = OperatorPrec(t.value);
        if ((p == kEq || p == kLt) &&
            std::find(skip_.begin(), skip_.end(), i) == skip_.end()) {
          Binary(i, i + 1, p);
        }
      } else if (t.IsWord("IS")) {
        size_t j = i + 1;
        if (Word(j, "NOT")) ++j;
        if (Word(j, "DISTINCT") && Word(j + 1, "FROM")) j += 2;
        Binary(i, j, kEq);
      } else if (t.IsWord("IN")) {
        In(i);
      } else if (t.IsWord("BETWEEN")) {
        Between(i);
      } else if (t.IsWord("CASE")) {
        SimpleCase(i);
      }
    }
    return Rewrites();
  }

 private:
  // An operand standing alone: a literal or parameter, or a column reference (possibly inside
  // MIN/MAX).
  struct Operand {
    size_t first = 0, end = 0;
    bool is_const = false;
    size_t col_first = 0, col_end = 0;  // the column reference, when !is_const
  };

  // What a literal is compared with: one typed column, or (conflict) something else too.
  struct ConstUse {
    size_t first = 0, end = 0;
    std::optional<ColumnType> column;
    bool conflict = false;
  };

  bool Word(size_t i, std::string_view w) const { return i < n_ && toks_[i].IsWord(w); }
  bool Punct(size_t i, char c) const { return i < n_ && toks_[i].IsPunct(c); }

  // Index just past the ')' matching the '(' at `open`.
  size_t SkipParens(size_t open) const {
    size_t depth = 0;
    for (size_t i = open; i < n_; ++i) {
      if (toks_[i].IsPunct('(')) ++depth;
      if (toks_[i].IsPunct(')') && --depth == 0) return i + 1;
    }
    return n_;
  }

  // The AND of the BETWEEN at `between`, skipping parentheses and CASE … END; n_ if none.
  size_t BetweenAnd(size_t between) const {
    size_t depth = 0;
    for (size_t i = between + 1; i < n_; ++i) {
      const Token& t = toks_[i];
      if (t.IsPunct('(') || t.IsWord("CASE")) {
        ++depth;
      } else if (t.IsPunct(')') || t.IsWord("END")) {
        if (depth == 0) return n_;
        --depth;
      } else if (depth == 0 && t.IsWord("AND")) {
        return i;
      }
    }
    return n_;
  }

  // The binding strength of the keyword operator at `i`, or kBoundary if it is none.
  Prec KeywordPrec(size_t i) const {
    const Token& t = toks_[i];
    if (t.IsWord("OR")) return kOr;
    if (t.IsWord("AND")) {  // BETWEEN's AND binds like BETWEEN
      const bool of_between =
          std::find(between_ands_.begin(), between_ands_.end(), i) != between_ands_.end();
      return of_between ? kEq : kAnd;
    }
    if (t.IsWord("NOT")) return kNot;
    if (t.IsWord("IS") || t.IsWord("IN") || t.IsWord("LIKE") || t.IsWord("GLOB") ||
        t.IsWord("MATCH") || t.IsWord("REGEXP") || t.IsWord("BETWEEN") || t.IsWord("ISNULL") ||
        t.IsWord("NOTNULL")) {
      return kEq;
    }
    if (t.IsWord("ESCAPE")) return kEscape;
    if (t.IsWord("COLLATE")) return kCollate;
    if (t.IsWord("FROM") && i >= 2 && toks_[i - 1].IsWord("DISTINCT")) return kEq;  // IS DISTINCT FROM
    return kBoundary;
  }

  bool IsKeywordOperator(size_t i) const {
    return toks_[i].kind == TokenKind::kIdentifier && KeywordPrec(i) != kBoundary;
  }

  // True if an operand starting right after token `before` (npos: at the start) stands alone
  // as the left operand of an operator binding with strength `p`.
  bool BeforeOk(size_t before, Prec p) const {
    if (before == kNone) return true;
    const Token& t = toks_[before];
    if (t.IsPunct('(') || t.IsPunct(',')) return true;
    if (t.kind == TokenKind::kOperator) return OperatorPrec(t.value) < p;
    if (t.kind != TokenKind::kIdentifier) return false;
    if (IsKeywordOperator(before)) return KeywordPrec(before) < p;
    return IsBoundaryKeyword(t);
  }

  // True if an operand ending right before token `after` stands alone as the right operand of an
  // operator binding with strength `p`.
  bool AfterOk(size_t after, Prec p) const {
    if (after >= n_) return true;
    const Token& t = toks_[after];
    if (t.kind == TokenKind::kPunct) return !t.IsPunct('(') && !t.IsPunct('.');
    if (t.kind == TokenKind::kOperator) return OperatorPrec(t.value) <= p;
    if (t.kind == TokenKind::kIdentifier) return KeywordPrec(after) <= p;
    return t.kind == TokenKind::kQuotedIdentifier || t.kind == TokenKind::kString;  // an alias
  }

  // `name`, `q.name` or `ns.q.name` starting at `i`, not called like a function.
  std::optional<std::pair<size_t, size_t>> ColumnRefAt(size_t i) const {
    if (i >= n_ || !toks_[i].IsName()) return std::nullopt;
    size_t j = i + 1;
    for (int parts = 1; parts < 3 && Punct(j, '.') && j + 1 < n_ && toks_[j + 1].IsName(); ++parts) {
      j += 2;
    }
    if (Punct(j, '(') || Punct(j, '.')) return std::nullopt;
    return std::make_pair(i, j);
  }

  // The operand starting at token `i`.
  std::optional<Operand> Forward(size_t i) const {
    if (i >= n_) return std::nullopt;
    const Token& t = toks_[i];
    if (IsConstToken(t)) return Operand{i, i + 1, true};
    if (IsSign(t) && i + 1 < n_ && IsNumberToken(toks_[i + 1])) return Operand{i, i + 2, true};
    if ((t.IsWord("MIN") || t.IsWord("MAX")) && Punct(i + 1, '(')) {
      auto col = ColumnRefAt(i + 2);
      if (col && Punct(col->second, ')')) {
        return Operand{i, col->second + 1, false, col->first, col->second};
      }
      return std::nullopt;
    }
    auto col = ColumnRefAt(i);
    if (!col) return std::nullopt;
    return Operand{col->first, col->second, false, col->first, col->second};
  }

  // True if token `i` ends an operand (so a sign after it is binary).
  bool EndsOperand(size_t i) const {
    const Token& t = toks_[i];
    if (t.kind == TokenKind::kOperator) return false;
    if (t.kind == TokenKind::kPunct) return t.IsPunct(')');
    if (t.kind == TokenKind::kIdentifier) return !IsKeywordOperator(i) && !IsBoundaryKeyword(t);
    return true;
  }

  // The operand whose last token is `end` - 1.
  std::optional<Operand> Backward(size_t end) const {
    if (end == 0) return std::nullopt;
    const size_t k = end - 1;
    const Token& t = toks_[k];
    if (IsConstToken(t)) {
      if (IsNumberToken(t) && k >= 1 && IsSign(toks_[k - 1]) && (k == 1 || !EndsOperand(k - 2))) {
        return Operand{k - 1, end, true};
      }
      return Operand{k, end, true};
    }
    if (t.IsPunct(')')) {  // MIN(col) / MAX(col)
      size_t open = k;
      while (open > 0 && !toks_[open].IsPunct('(')) --open;
      if (open < 1 || !(toks_[open - 1].IsWord("MIN") || toks_[open - 1].IsWord("MAX"))) {
        return std::nullopt;
      }
      if (open >= 2 && toks_[open - 2].IsPunct('.')) return std::nullopt;
      auto col = ColumnRefAt(open + 1);
      if (!col || col->second != k) return std::nullopt;
      return Operand{open - 1, end, false, col->first, col->second};
    }
    if (!t.IsName()) return std::nullopt;
    size_t first = k;
    for (int parts = 1; parts < 3 && first >= 2 && toks_[first - 1].IsPunct('.') &&
                        toks_[first - 2].IsName();
         ++parts) {
      first -= 2;
    }
    if (first >= 1 && toks_[first - 1].IsPunct('.')) return std::nullopt;
    return Operand{first, end, false, first, end};
  }

  static size_t Before(const Operand& o) { return o.first == 0 ? kNone : o.first - 1; }

  // `left <op> right` where the operator spans tokens [op, right_start).
  void Binary(size_t op, size_t right_start, Prec p) {
    auto left = Backward(op);
    auto right = Forward(right_start);
    if (!left || !right || !BeforeOk(Before(*left), p) || !AfterOk(right->end, p)) return;
    Compare(*left, right);
  }

  // `left [NOT] IN (e1, e2, …)`.
  void In(size_t in) {
    const size_t start = in > 0 && toks_[in - 1].IsWord("NOT") ? in - 1 : in;
    auto left = Backward(start);
    if (!left || !BeforeOk(Before(*left), kEq) || !Punct(in + 1, '(')) return;
    if (Word(in + 2, "SELECT") || Word(in + 2, "WITH") || Word(in + 2, "VALUES")) return;
    const size_t close = SkipParens(in + 1) - 1;
    size_t element = in + 2;
    for (size_t i = element, depth = 0; i <= close && i < n_; ++i) {
      if (toks_[i].IsPunct('(')) ++depth;
      if (toks_[i].IsPunct(')') && i != close) --depth;
      if (depth == 0 && (toks_[i].IsPunct(',') || i == close)) {
        auto e = Forward(element);
        Compare(*left, e && e->end == i ? e : std::nullopt);
        element = i + 1;
      }
    }
  }

  // `left [NOT] BETWEEN low AND high`.
  void Between(size_t between) {
    const size_t start = between > 0 && toks_[between - 1].IsWord("NOT") ? between - 1 : between;
    auto left = Backward(start);
    const size_t and_at = BetweenAnd(between);
    if (!left || !BeforeOk(Before(*left), kEq) || and_at == n_) return;
    auto low = Forward(between + 1);
    Compare(*left, low && low->end == and_at ? low : std::nullopt);
    auto high = Forward(and_at + 1);
    Compare(*left, high && AfterOk(high->end, kEq) ? high : std::nullopt);
  }

  // `CASE base WHEN w1 THEN … WHEN w2 THEN … END`.
  void SimpleCase(size_t case_at) {
    auto base = Forward(case_at + 1);
    if (!base || !Word(base->end, "WHEN")) return;
    size_t depth = 0;
    for (size_t i = base->end; i < n_; ++i) {
      const Token& t = toks_[i];
      if (t.IsPunct('(') || (t.IsWord("CASE") && i != case_at)) {
        ++depth;
      } else if (t.IsPunct(')') || t.IsWord("END")) {
        if (depth == 0) return;
        --depth;
      } else if (depth == 0 && t.IsWord("WHEN")) {
        auto w = Forward(i + 1);
        Compare(*base, w && Word(w->end, "THEN") ? w : std::nullopt);
      }
    }
  }

  // Records that `a` and `b` are compared (b nullopt: with something that is no operand).
  void Compare(const Operand& a, const std::optional<Operand>& b) {
    if (a.is_const) {
      Use(a, b && !b->is_const ? Resolve(*b) : std::nullopt);
    } else if (b && b->is_const) {
      Use(*b, Resolve(a));
    }
  }

  std::optional<ColumnType> Resolve(const Operand& column) const {
    auto c = resolve_(column.col_first, column.col_end);
    if (c && !IsTypedComparisonType(c->type)) return std::nullopt;
    return c;
  }

  // `literal` is compared with `column` (nullopt: with something not a typed column).
  void Use(const Operand& literal, std::optional<ColumnType> column) {
    auto it = std::find_if(uses_.begin(), uses_.end(),
                           [&](const ConstUse& u) { return u.first == literal.first; });
    if (it == uses_.end()) {
      uses_.push_back(ConstUse{literal.first, literal.end, column, !column});
      return;
    }
    if (!column || !it->column || !SameStoredForm(it->column->type, column->type)) {
      it->conflict = true;
    }
  }

  Result<std::vector<OperandRewrite>> Rewrites() const {
    std::vector<OperandRewrite> out;
    for (const ConstUse& u : uses_) {
      if (u.conflict) continue;
      const ColumnType& col = *u.column;
      const Token& last = toks_[u.end - 1];
      std::string text;
      if (last.kind == TokenKind::kParameter) {
        std::string_view digits = std::string_view(last.value).substr(1);
        while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
        const std::string param = (last.value[0] == '$' ? "?" : last.value.substr(0, 1)) +
                                  std::string(digits);
        text = std::string(kOperandFunction) + "(" + param + ", " +
               QuoteToken(col.type.SqlName(), '\'') + ", " + QuoteToken(col.name, '\'') + ")";
      } else {
        KALAM_ASSIGN_OR_RETURN(Value v,
                               ComparisonValue(col.type, LiteralValue(toks_, u.first, u.end),
                                               col.name));
        text = OperandSql(col.type, v);
      }
      out.push_back(OperandRewrite{u.first, u.end, std::move(text)});
    }
    std::sort(out.begin(), out.end(), [](const OperandRewrite& a, const OperandRewrite& b) {
      return a.first_token < b.first_token;
    });
    return out;
  }

  static constexpr size_t kNone = static_cast<size_t>(-1);
  const std::vector<Token>& toks_;
  const size_t n_;
  const ColumnResolver& resolve_;
  const std::vector<size_t>& skip_;
  std::vector<size_t> between_ands_;  // the AND of each BETWEEN
  std::vector<ConstUse> uses_;
};

}  // namespace

bool IsTypedComparisonType(const DataType& type) {
  switch (type.kind) {
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime:
    case TypeKind::kUuid:
    case TypeKind::kDecimal:
      return true;
    default:
      return false;
  }
}

Result<Value> ComparisonValue(const DataType& type, const Value& input, std::string_view column) {
  Result<Value> stored = CoerceToColumn(type, input, column);
  if (stored.ok() || type.kind != TypeKind::kDecimal) return stored;
  Result<std::string> wide = Status::InvalidArgument("not a number");
  switch (input.kind()) {
    case Value::Kind::kInt:
      wide = CanonicalDecimal(std::to_string(input.as_int()), kWideDecimalPrecision,
                              kWideDecimalScale);
      break;
    case Value::Kind::kDouble:
      wide = CanonicalDecimalFromDouble(input.as_double(), kWideDecimalPrecision,
                                        kWideDecimalScale);
      break;
    case Value::Kind::kText:
      wide = CanonicalDecimal(input.as_text(), kWideDecimalPrecision, kWideDecimalScale);
      break;
    default:
      break;
  }
  if (!wide.ok()) return stored;  // not a number: the column's own error
  return Value::Text(TrimDecimal(std::move(wide).value()));
}

Result<std::vector<OperandRewrite>> FindTypedOperands(const std::vector<Token>& tokens,
                                                      const ColumnResolver& resolve,
                                                      const std::vector<size_t>& not_comparisons) {
  return Finder(tokens, resolve, not_comparisons).Run();
}

}  // namespace kalam::sql
