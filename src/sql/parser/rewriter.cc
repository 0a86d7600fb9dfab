// The DML rewriter: a token-by-token writer with fixed spacing rules, plus the splices the
// executor asks for (table replacements, injected INSERT columns, LIMIT).
#include "sql/parser/rewriter.h"

#include <string>

#include "sql/parser/keywords.h"

namespace kalam::sql::parser {
namespace {

// Builds normalised SQL one token at a time. The space between two tokens depends only on
// their classes, so equal token sequences always give equal text, and two tokens are never
// glued into a different token ("- -1" never becomes the comment "--1").
class SqlWriter {
 public:
  enum class Cls {
    kName,      // identifier, quoted identifier, function-like keyword, replacement text
    kKeyword,   // SQLite keyword
    kNumber,
    kLiteral,   // string, blob, parameter
    kOpen,      // (
    kClose,     // )
    kComma,     // ,
    kDot,       // .
    kOperator,  // binary or unknown operator
    kUnary,     // unary + - ~
  };

  void Append(std::string_view text, Cls cls) {
    if (!out_.empty() && NeedSpace(cls)) out_ += ' ';
    out_ += text;
    prev_ = cls;
  }
  bool empty() const { return out_.empty(); }
  size_t size() const { return out_.size(); }
  Cls prev() const { return prev_; }
  std::string Take() { return std::move(out_); }

 private:
  bool NeedSpace(Cls next) const {
    if (next == Cls::kClose || next == Cls::kComma) return false;
    if (prev_ == Cls::kOpen) return false;
    if (next == Cls::kDot) return prev_ == Cls::kNumber;
    if (prev_ == Cls::kDot) return next == Cls::kNumber;
    if (next == Cls::kOpen) return prev_ != Cls::kName;
    if (prev_ == Cls::kUnary) return next == Cls::kOperator || next == Cls::kUnary;
    return true;
  }

  std::string out_;
  Cls prev_ = Cls::kComma;
};

// Keywords that are also function names: written like a call, `REPLACE(x, 'a', 'b')`.
bool IsFunctionKeyword(std::string_view upper) {
  return upper == "REPLACE" || upper == "LIKE" || upper == "GLOB" || upper == "MATCH" ||
         upper == "REGEXP" || upper == "CAST";
}

// Keywords that end an operand, so a following sign is binary (`NULL - 1`).
bool EndsOperand(std::string_view upper) {
  return upper == "NULL" || upper == "END" || upper == "TRUE" || upper == "FALSE" ||
         upper == "CURRENT_DATE" || upper == "CURRENT_TIME" || upper == "CURRENT_TIMESTAMP";
}

class TokenEmitter {
 public:
  TokenEmitter(const SqlStatement& stmt, bool rewrite_params)
      : stmt_(stmt), rewrite_params_(rewrite_params) {}

  void Emit(size_t i) {
    const Token& t = stmt_.tokens[i];
    const bool after_as = last_was_as_;
    const bool after_operand_keyword = last_operand_keyword_;
    last_was_as_ = false;
    last_operand_keyword_ = false;
    switch (t.kind) {
      case TokenKind::kIdentifier: {
        std::string upper = ToUpperAscii(t.value);
        const bool keyword = IsSqliteKeyword(t.value) || upper == "TRUE" || upper == "FALSE";
        // An alias keeps its spelling: it becomes a result column name.
        const bool keep_case = after_as && upper != "NOT" && upper != "MATERIALIZED";
        if (!keyword || keep_case) {
          writer_.Append(t.value, SqlWriter::Cls::kName);
          break;
        }
        last_was_as_ = upper == "AS";
        last_operand_keyword_ = EndsOperand(upper);
        writer_.Append(upper, IsFunctionKeyword(upper) ? SqlWriter::Cls::kName
                                                       : SqlWriter::Cls::kKeyword);
        break;
      }
      case TokenKind::kQuotedIdentifier:
        writer_.Append(stmt_.Raw(i), SqlWriter::Cls::kName);
        break;
      case TokenKind::kInteger:
      case TokenKind::kFloat:
        writer_.Append(stmt_.Raw(i), SqlWriter::Cls::kNumber);
        break;
      case TokenKind::kParameter:
        if (rewrite_params_ && t.value[0] == '$') {
          std::string_view digits = std::string_view(t.value).substr(1);
          while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
          writer_.Append("?" + std::string(digits), SqlWriter::Cls::kLiteral);
        } else {
          writer_.Append(t.value, SqlWriter::Cls::kLiteral);
        }
        break;
      case TokenKind::kOperator:
        if (t.IsOperator("?")) {  // the JSON key test: Token::SqliteText
          writer_.Append(t.SqliteText(""), SqlWriter::Cls::kKeyword);
          break;
        }
        writer_.Append(t.value, IsUnary(t, after_operand_keyword) ? SqlWriter::Cls::kUnary
                                                                   : SqlWriter::Cls::kOperator);
        break;
      case TokenKind::kPunct:
        writer_.Append(t.value, t.IsPunct('(')   ? SqlWriter::Cls::kOpen
                                : t.IsPunct(')') ? SqlWriter::Cls::kClose
                                : t.IsPunct(',') ? SqlWriter::Cls::kComma
                                : t.IsPunct('.') ? SqlWriter::Cls::kDot
                                                 : SqlWriter::Cls::kOperator);
        break;
      default:  // strings, blobs; trivia never reaches a statement
        writer_.Append(stmt_.Raw(i), SqlWriter::Cls::kLiteral);
        break;
    }
  }

  // Text the caller supplies (a table replacement, LIMIT n), spaced like a name or keyword.
  void Raw(std::string_view text, SqlWriter::Cls cls) {
    last_was_as_ = false;
    last_operand_keyword_ = false;
    writer_.Append(text, cls);
  }

  size_t size() const { return writer_.size(); }
  std::string Take() { return writer_.Take(); }

 private:
  // A sign is unary at the start, after '(' ',' or an operator, and after a keyword other than
  // one that ends an operand (`NULL - 1`).
  bool IsUnary(const Token& t, bool after_operand_keyword) const {
    if (!(t.IsOperator("-") || t.IsOperator("+") || t.IsOperator("~"))) return false;
    if (writer_.empty()) return true;
    switch (writer_.prev()) {
      case SqlWriter::Cls::kOpen:
      case SqlWriter::Cls::kComma:
      case SqlWriter::Cls::kOperator:
      case SqlWriter::Cls::kUnary:
        return true;
      case SqlWriter::Cls::kKeyword:
        return !after_operand_keyword;
      default:
        return false;
    }
  }

  const SqlStatement& stmt_;
  const bool rewrite_params_;
  SqlWriter writer_;
  bool last_was_as_ = false;
  bool last_operand_keyword_ = false;
};

// Resolves column references in `analysis`'s scopes (RewriteOptions::column_type).
class ScopedResolver {
 public:
  ScopedResolver(const SqlStatement& stmt, const DmlAnalysis& analysis,
                 const ColumnTypeLookup& lookup)
      : toks_(stmt.tokens), analysis_(analysis), lookup_(lookup) {}

  std::optional<ColumnType> operator()(size_t first, size_t end) const {
    const std::string& column = toks_[end - 1].value;
    const size_t parts = (end - first + 1) / 2;
    int scope = first < analysis_.token_scopes.size()
                    ? static_cast<int>(analysis_.token_scopes[first])
                    : 0;
    for (; scope >= 0; scope = analysis_.scopes[scope].parent) {
      const QueryScope& qs = analysis_.scopes[scope];
      if (parts == 1) {
        // The column of the one table in this scope that has it (several: the same stored form).
        std::optional<ColumnType> found;
        bool ambiguous = false;
        for (size_t k = 0; k < analysis_.tables.size(); ++k) {
          if (analysis_.tables[k].scope != static_cast<size_t>(scope)) continue;
          auto c = lookup_(k, column);
          if (!c) continue;
          if (found && !(found->type == c->type)) ambiguous = true;
          if (!found) found = c;
        }
        if (found) return ambiguous ? std::nullopt : found;
        if (qs.has_opaque_source) return std::nullopt;
        continue;
      }
      // `q.col` names the reference written or aliased `q`; `ns.t.col` an unaliased `ns.t`.
      const std::string& q = toks_[end - 3].value;
      for (size_t k = 0; k < analysis_.tables.size(); ++k) {
        const TableRef& ref = analysis_.tables[k];
        if (ref.scope != static_cast<size_t>(scope)) continue;
        const bool match =
            parts == 2 ? EqualsIgnoreCase(ref.has_alias ? ref.alias : ref.name, q)
                       : !ref.has_alias && EqualsIgnoreCase(ref.name, q) &&
                             EqualsIgnoreCase(ref.ns, toks_[first].value);
        if (match) return lookup_(k, column);
      }
      for (const std::string& name : qs.opaque_names) {
        if (EqualsIgnoreCase(name, q)) return std::nullopt;
      }
    }
    return std::nullopt;
  }

 private:
  const std::vector<Token>& toks_;
  const DmlAnalysis& analysis_;
  const ColumnTypeLookup& lookup_;
};

}  // namespace

Result<std::string> RewriteDml(const SqlStatement& stmt, const DmlAnalysis& analysis,
                               const RewriteOptions& options) {
  const std::vector<Token>& toks = stmt.tokens;
  size_t begin = 0;
  size_t end = toks.size();
  if (analysis.kind == StatementKind::kSelect) {
    begin = analysis.wrapping_parens;
    end -= analysis.wrapping_parens;
  }
  const InsertInfo* insert = analysis.insert ? &*analysis.insert : nullptr;
  if (insert != nullptr && insert->returning) end = insert->returning->first_token;
  const bool inject_columns = insert != nullptr && !insert->has_column_list &&
                              !options.insert_columns.empty() &&
                              insert->source != InsertSource::kDefaultValues;
  const bool add_limit = analysis.kind == StatementKind::kSelect && options.default_limit &&
                         !analysis.has_top_level_limit;
  const bool wrap = add_limit && analysis.values_at_top_level;

  TokenEmitter emitter(stmt, /*rewrite_params=*/true);
  auto emit_columns = [&] {
    emitter.Raw("(", SqlWriter::Cls::kOpen);
    for (size_t c = 0; c < options.insert_columns.size(); ++c) {
      if (c > 0) emitter.Raw(",", SqlWriter::Cls::kComma);
      emitter.Raw(QuoteToken(options.insert_columns[c], '"'), SqlWriter::Cls::kName);
    }
    emitter.Raw(")", SqlWriter::Cls::kClose);
  };
  if (wrap) {
    emitter.Raw("SELECT", SqlWriter::Cls::kKeyword);
    emitter.Raw("*", SqlWriter::Cls::kOperator);
    emitter.Raw("FROM", SqlWriter::Cls::kKeyword);
    emitter.Raw("(", SqlWriter::Cls::kOpen);
  }
  std::vector<std::string> replacements;
  if (options.replace_table) {
    replacements.reserve(analysis.tables.size());
    for (const TableRef& ref : analysis.tables) {
      KALAM_ASSIGN_OR_RETURN(std::string replacement, options.replace_table(ref));
      replacements.push_back(std::move(replacement));
    }
  }
  std::vector<OperandRewrite> operands;
  if (options.column_type && (!options.any_typed_column || options.any_typed_column())) {
    static const std::vector<size_t> kNoAssignments;
    const ScopedResolver resolver(stmt, analysis, options.column_type);
    // Captures one reference, so the std::function needs no allocation.
    auto resolve = [&resolver](size_t first, size_t end) { return resolver(first, end); };
    KALAM_ASSIGN_OR_RETURN(
        operands,
        FindTypedOperands(toks, resolve,
                          analysis.update ? analysis.update->assignment_tokens : kNoAssignments));
  }
  size_t next_ref = 0;
  size_t next_operand = 0;
  OperandRewrite* wrapping = nullptr;  // the operand being wrapped in kalam_operand(…)
  for (size_t i = begin; i < end; ++i) {
    if (inject_columns && i == insert->column_list_token) emit_columns();
    while (next_ref < analysis.tables.size() && analysis.tables[next_ref].first_token < i) {
      ++next_ref;
    }
    if (!replacements.empty() && next_ref < analysis.tables.size() &&
        analysis.tables[next_ref].first_token == i) {
      emitter.Raw(replacements[next_ref], SqlWriter::Cls::kName);
      i = analysis.tables[next_ref++].end_token - 1;
      continue;
    }
    if (next_operand < operands.size() && operands[next_operand].first_token == i) {
      OperandRewrite& op = operands[next_operand++];
      if (op.call_suffix.empty()) {
        const bool quoted = op.text[0] == '\'';
        emitter.Raw(op.text, quoted ? SqlWriter::Cls::kLiteral : SqlWriter::Cls::kNumber);
        op.output_end = emitter.size();
        op.output_offset = op.output_end - op.text.size();
        i = op.end_token - 1;
        continue;
      }
      emitter.Raw(kOperandFunction, SqlWriter::Cls::kName);
      op.output_offset = emitter.size() - kOperandFunction.size();
      emitter.Raw("(", SqlWriter::Cls::kOpen);
      wrapping = &op;
    }
    emitter.Emit(i);
    if (wrapping && i + 1 == wrapping->end_token) {
      emitter.Raw(wrapping->call_suffix, SqlWriter::Cls::kClose);
      wrapping->output_end = emitter.size();
      wrapping = nullptr;
    }
  }
  if (options.rewritten_operands) *options.rewritten_operands = std::move(operands);
  if (inject_columns && insert->column_list_token >= end) emit_columns();
  if (wrap) emitter.Raw(")", SqlWriter::Cls::kClose);
  if (add_limit) {
    emitter.Raw("LIMIT", SqlWriter::Cls::kKeyword);
    emitter.Raw(std::to_string(*options.default_limit), SqlWriter::Cls::kNumber);
  }
  return emitter.Take();
}

std::string NormalizeSql(const SqlStatement& stmt) {
  TokenEmitter emitter(stmt, /*rewrite_params=*/false);
  for (size_t i = 0; i < stmt.tokens.size(); ++i) emitter.Emit(i);
  return emitter.Take();
}

}  // namespace kalam::sql::parser
