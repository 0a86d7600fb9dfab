// Typed comparison operands: a scan for comparisons over the token sequence, with SQLite's
// operator precedence deciding what stands alone as an operand.
#include "sql/parser/typed_operands.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "common/decimal.h"
#include "common/value_convert.h"

namespace kalam::sql::parser {
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

// The keywords the scan needs to tell apart; every other bare word is kNone.
enum class Kw : uint8_t {
  kNone,
  kBoundary,  // an expression starts after it: WHERE ON HAVING SELECT BY ELSE LIMIT …
  kOr,
  kAnd,
  kNot,
  kIs,
  kIn,
  kBetween,
  kEqWord,  // LIKE GLOB MATCH REGEXP ISNULL NOTNULL
  kEscape,
  kCollate,
  kCase,
  kWhen,
  kThen,
  kEnd,
  kFrom,
  kDistinct,
  kSelect,  // also WITH, VALUES: a subquery starts
  kMinMax,
  kNull,
  kCurrent,  // CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_TIME
};

Kw Classify(const Token& t) {
  const std::string_view w = t.value;
  if (t.kind != TokenKind::kIdentifier || w.size() < 2 || w.size() > 17) return Kw::kNone;
  auto is = [&](std::string_view k) { return w.size() == k.size() && EqualsIgnoreCase(w, k); };
  switch (w[0] | 0x20) {  // by first letter, any case: most names are rejected here
    case 'a':
      if (is("AND")) return Kw::kAnd;
      if (is("ALL")) return Kw::kBoundary;
      break;
    case 'b':
      if (is("BETWEEN")) return Kw::kBetween;
      if (is("BY")) return Kw::kBoundary;
      break;
    case 'c':
      if (is("CASE")) return Kw::kCase;
      if (is("COLLATE")) return Kw::kCollate;
      if (is("CURRENT_TIMESTAMP") || is("CURRENT_DATE") || is("CURRENT_TIME")) {
        return Kw::kCurrent;
      }
      break;
    case 'd':
      if (is("DISTINCT")) return Kw::kDistinct;
      break;
    case 'e':
      if (is("END")) return Kw::kEnd;
      if (is("ESCAPE")) return Kw::kEscape;
      if (is("ELSE") || is("EXISTS")) return Kw::kBoundary;
      break;
    case 'f':
      if (is("FROM")) return Kw::kFrom;
      break;
    case 'g':
      if (is("GLOB")) return Kw::kEqWord;
      break;
    case 'h':
      if (is("HAVING")) return Kw::kBoundary;
      break;
    case 'i':
      if (is("IS")) return Kw::kIs;
      if (is("IN")) return Kw::kIn;
      if (is("ISNULL")) return Kw::kEqWord;
      break;
    case 'l':
      if (is("LIKE")) return Kw::kEqWord;
      if (is("LIMIT")) return Kw::kBoundary;
      break;
    case 'm':
      if (is("MIN") || is("MAX")) return Kw::kMinMax;
      if (is("MATCH")) return Kw::kEqWord;
      break;
    case 'n':
      if (is("NOT")) return Kw::kNot;
      if (is("NULL")) return Kw::kNull;
      if (is("NOTNULL")) return Kw::kEqWord;
      break;
    case 'o':
      if (is("OR")) return Kw::kOr;
      if (is("ON") || is("OFFSET")) return Kw::kBoundary;
      break;
    case 'r':
      if (is("REGEXP")) return Kw::kEqWord;
      if (is("RETURNING")) return Kw::kBoundary;
      break;
    case 's':
      if (is("SELECT")) return Kw::kSelect;
      if (is("SET")) return Kw::kBoundary;
      break;
    case 't':
      if (is("THEN")) return Kw::kThen;
      break;
    case 'u':
      if (is("USING")) return Kw::kBoundary;
      break;
    case 'v':
      if (is("VALUES")) return Kw::kSelect;
      break;
    case 'w':
      if (is("WHEN")) return Kw::kWhen;
      if (is("WITH")) return Kw::kSelect;
      if (is("WHERE")) return Kw::kBoundary;
      break;
    default:
      break;
  }
  return Kw::kNone;
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
      const char* last = digits.data() + digits.size();
      const auto ec = hex ? std::from_chars(digits.data() + 2, last, u, 16).ec
                          : std::from_chars(digits.data(), last, u).ec;
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
    kw_.resize(n_);
    for (size_t i = 0; i < n_; ++i) kw_[i] = Classify(toks_[i]);
    for (size_t i = 0; i < n_; ++i) {
      if (kw_[i] == Kw::kBetween) between_ands_.push_back(BetweenAnd(i));
    }
    for (size_t i = 0; i < n_; ++i) {
      const Token& t = toks_[i];
      if (t.kind == TokenKind::kOperator) {
        const Prec p = OperatorPrec(t.value);
        if ((p == kEq || p == kLt) &&
            std::find(skip_.begin(), skip_.end(), i) == skip_.end()) {
          Binary(i, i + 1, p);
        }
        continue;
      }
      switch (kw_[i]) {
        case Kw::kIs: {
          size_t j = i + 1;
          if (Is(j, Kw::kNot)) ++j;
          if (Is(j, Kw::kDistinct) && Is(j + 1, Kw::kFrom)) j += 2;
          Binary(i, j, kEq);
          break;
        }
        case Kw::kIn: In(i); break;
        case Kw::kBetween: Between(i); break;
        case Kw::kCase: SimpleCase(i); break;
        default: break;
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
    // A constant whose value is known only when the statement runs: a parameter, a call on
    // constants (`datetime('now', '-1 day')`), CURRENT_TIMESTAMP.
    bool runtime = false;
  };

  // What a literal is compared with: one typed column, or (conflict) something else too.
  struct ConstUse {
    size_t first = 0, end = 0;
    bool runtime = false;
    std::optional<ColumnType> column;
    bool conflict = false;
  };

  bool Is(size_t i, Kw kw) const { return i < n_ && kw_[i] == kw; }
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
      if (toks_[i].IsPunct('(') || kw_[i] == Kw::kCase) {
        ++depth;
      } else if (toks_[i].IsPunct(')') || kw_[i] == Kw::kEnd) {
        if (depth == 0) return n_;
        --depth;
      } else if (depth == 0 && kw_[i] == Kw::kAnd) {
        return i;
      }
    }
    return n_;
  }

  // The binding strength of the keyword operator at `i`, or kBoundary if it is none.
  Prec KeywordPrec(size_t i) const {
    switch (kw_[i]) {
      case Kw::kOr: return kOr;
      case Kw::kAnd:  // BETWEEN's AND binds like BETWEEN
        return std::find(between_ands_.begin(), between_ands_.end(), i) != between_ands_.end()
                   ? kEq
                   : kAnd;
      case Kw::kNot: return kNot;
      case Kw::kIs:
      case Kw::kIn:
      case Kw::kBetween:
      case Kw::kEqWord: return kEq;
      case Kw::kEscape: return kEscape;
      case Kw::kCollate: return kCollate;
      case Kw::kFrom: return i >= 1 && kw_[i - 1] == Kw::kDistinct ? kEq : kBoundary;
      default: return kBoundary;
    }
  }

  bool IsKeywordOperator(size_t i) const { return KeywordPrec(i) != kBoundary; }

  // Keywords after which an expression starts (so a following sign is unary, and a following
  // operand stands alone).
  bool IsBoundaryKeyword(size_t i) const {
    switch (kw_[i]) {
      case Kw::kBoundary:
      case Kw::kCase:
      case Kw::kWhen:
      case Kw::kThen:
      case Kw::kFrom:
      case Kw::kDistinct:
      case Kw::kSelect: return true;
      default: return false;
    }
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
    return IsBoundaryKeyword(before);
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
    for (int parts = 1; parts < 3 && Punct(j, '.') && j + 1 < n_ && toks_[j + 1].IsName();
         ++parts) {
      j += 2;
    }
    if (Punct(j, '(') || Punct(j, '.')) return std::nullopt;
    return std::make_pair(i, j);
  }

  // The call whose name is token `name` (followed by '('): MIN(col)/MAX(col), an operand on the
  // column; or a function of constants only (literals, parameters, NULL, CURRENT_*, nested such
  // calls), a runtime constant. nullopt for anything else.
  std::optional<Operand> CallAt(size_t name) const {
    const size_t close = SkipParens(name + 1) - 1;
    if (close >= n_) return std::nullopt;
    if (kw_[name] == Kw::kMinMax) {
      auto col = ColumnRefAt(name + 2);
      if (col && col->second == close) {
        return Operand{name, close + 1, false, col->first, col->second};
      }
    }
    for (size_t i = name + 2; i < close; ++i) {
      const Token& t = toks_[i];
      const bool constant = IsConstToken(t) || t.kind == TokenKind::kOperator ||
                            t.kind == TokenKind::kPunct || kw_[i] == Kw::kCurrent ||
                            kw_[i] == Kw::kNull || (t.IsName() && Punct(i + 1, '('));
      if (!constant || t.IsPunct('.')) return std::nullopt;
    }
    return Operand{name, close + 1, true, 0, 0, true};
  }

  // The operand starting at token `i`.
  std::optional<Operand> Forward(size_t i) const {
    if (i >= n_) return std::nullopt;
    const Token& t = toks_[i];
    if (IsConstToken(t)) {
      return Operand{i, i + 1, true, 0, 0, t.kind == TokenKind::kParameter};
    }
    if (IsSign(t) && i + 1 < n_ && IsNumberToken(toks_[i + 1])) return Operand{i, i + 2, true};
    if (kw_[i] == Kw::kCurrent) return Operand{i, i + 1, true, 0, 0, true};
    if (t.IsName() && Punct(i + 1, '(')) return CallAt(i);
    auto col = ColumnRefAt(i);
    if (!col) return std::nullopt;
    return Operand{col->first, col->second, false, col->first, col->second};
  }

  // True if token `i` ends an operand (so a sign after it is binary).
  bool EndsOperand(size_t i) const {
    const Token& t = toks_[i];
    if (t.kind == TokenKind::kOperator) return false;
    if (t.kind == TokenKind::kPunct) return t.IsPunct(')');
    if (t.kind == TokenKind::kIdentifier) return !IsKeywordOperator(i) && !IsBoundaryKeyword(i);
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
      return Operand{k, end, true, 0, 0, t.kind == TokenKind::kParameter};
    }
    if (kw_[k] == Kw::kCurrent) return Operand{k, end, true, 0, 0, true};
    if (t.IsPunct(')')) {  // a call
      size_t open = k;
      for (size_t depth = 0; open-- > 0;) {
        if (toks_[open].IsPunct(')')) ++depth;
        if (toks_[open].IsPunct('(') && depth-- == 0) break;
      }
      if (open == kNone || open < 1 || !toks_[open - 1].IsName()) return std::nullopt;
      if (open >= 2 && toks_[open - 2].IsPunct('.')) return std::nullopt;
      auto call = CallAt(open - 1);
      if (!call || call->end != end) return std::nullopt;
      return call;
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
    const size_t start = in > 0 && kw_[in - 1] == Kw::kNot ? in - 1 : in;
    auto left = Backward(start);
    if (!left || !BeforeOk(Before(*left), kEq) || !Punct(in + 1, '(')) return;
    if (Is(in + 2, Kw::kSelect)) return;
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
    const size_t start = between > 0 && kw_[between - 1] == Kw::kNot ? between - 1 : between;
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
    if (!base || !Is(base->end, Kw::kWhen)) return;
    size_t depth = 0;
    for (size_t i = base->end; i < n_; ++i) {
      const Token& t = toks_[i];
      if (t.IsPunct('(') || (kw_[i] == Kw::kCase && i != case_at)) {
        ++depth;
      } else if (t.IsPunct(')') || kw_[i] == Kw::kEnd) {
        if (depth == 0) return;
        --depth;
      } else if (depth == 0 && kw_[i] == Kw::kWhen) {
        auto w = Forward(i + 1);
        Compare(*base, w && Is(w->end, Kw::kThen) ? w : std::nullopt);
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
      uses_.push_back(ConstUse{literal.first, literal.end, literal.runtime, column, !column});
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
      OperandRewrite op;
      op.first_token = u.first;
      op.end_token = u.end;
      if (u.runtime) {
        op.call_suffix = ", " + QuoteToken(col.type.SqlName(), '\'') + ", " +
                         QuoteToken(col.name, '\'') + ")";
      } else {
        KALAM_ASSIGN_OR_RETURN(Value v,
                               ComparisonValue(col.type, LiteralValue(toks_, u.first, u.end),
                                               col.name));
        op.text = OperandSql(col.type, v);
      }
      out.push_back(std::move(op));
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
  std::vector<Kw> kw_;                // Classify() of each token
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

}  // namespace kalam::sql::parser
