// The DML analyzer: one pass over the tokens that tracks parenthesis frames and FROM lists to find
// table references, then per-kind passes for INSERT, UPDATE, DELETE and SELECT details.
#include "sql/parser/analyzer.h"

#include <algorithm>
#include <charconv>
#include <string>

namespace kalam::sql::parser {
namespace {

// Words that can follow a table name without being its alias.
bool IsClauseWord(const Token& t) {
  static constexpr std::string_view kWords[] = {
      "WHERE",   "JOIN",   "ON",     "USING",     "GROUP",  "ORDER",   "LIMIT",     "INNER",
      "LEFT",    "RIGHT",  "FULL",   "OUTER",     "CROSS",  "NATURAL", "HAVING",    "WINDOW",
      "UNION",   "INTERSECT", "EXCEPT", "SET",    "VALUES", "SELECT",  "RETURNING", "INDEXED",
      "NOT",     "DEFAULT", "FROM",  "DO",        "WITH",   "OFFSET",  "AS"};
  if (t.kind != TokenKind::kIdentifier) return false;
  for (std::string_view word : kWords) {
    if (t.IsWord(word)) return true;
  }
  return false;
}

// Words that end a FROM list.
bool EndsFromList(const Token& t) {
  static constexpr std::string_view kWords[] = {
      "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "WINDOW", "UNION", "INTERSECT",
      "EXCEPT", "RETURNING", "SET", "SELECT", "VALUES", "DO"};
  for (std::string_view word : kWords) {
    if (t.IsWord(word)) return true;
  }
  return false;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

// SQLite's own tables and eponymous virtual tables that expose internals: sqlite_master,
// sqlite_schema, sqlite_temp_master, sqlite_stmt (other requests' SQL), pragma_* and dbstat.
bool IsInternalTable(std::string_view name) {
  return StartsWithIgnoreCase(name, "sqlite_") || StartsWithIgnoreCase(name, "pragma_") ||
         EqualsIgnoreCase(name, "dbstat");
}

Status InternalTableError(std::string_view name) {
  return Status::InvalidSql("Access to SQLite internal table '" + std::string(name) +
                            "' is not allowed");
}

class Analyzer {
 public:
  explicit Analyzer(const SqlStatement& stmt) : stmt_(stmt), toks_(stmt.tokens) {}

  Result<DmlAnalysis> Run() {
    KALAM_ASSIGN_OR_RETURN(out_.kind, ClassifyStatement(toks_));
    if (!IsDmlKind(out_.kind)) {
      return Status::InvalidSql(std::string(StatementKindName(out_.kind)) +
                                " is not a SELECT, INSERT, UPDATE or DELETE statement");
    }
    verb_ = FindMainVerb(toks_);
    KALAM_RETURN_IF_ERROR(CollectParams());
    CollectCteNames();
    KALAM_RETURN_IF_ERROR(ScanTables());
    switch (out_.kind) {
      case StatementKind::kInsert:
        KALAM_RETURN_IF_ERROR(AnalyzeInsert());
        break;
      case StatementKind::kUpdate:
        KALAM_RETURN_IF_ERROR(RejectReturning("UPDATE"));
        KALAM_RETURN_IF_ERROR(AnalyzeUpdate());
        break;
      case StatementKind::kDelete:
        KALAM_RETURN_IF_ERROR(RejectReturning("DELETE"));
        break;
      default:
        AnalyzeSelect();
        break;
    }
    return std::move(out_);
  }

 private:
  enum class Expect { kNone, kFromItem, kTarget, kInTable };

  bool Word(size_t i, std::string_view w) const {
    return i < toks_.size() && toks_[i].IsWord(w);
  }
  bool Punct(size_t i, char c) const { return i < toks_.size() && toks_[i].IsPunct(c); }
  bool StartsQuery(size_t i) const {
    return Word(i, "SELECT") || Word(i, "WITH") || Word(i, "VALUES");
  }
  // Index just past the ')' matching the '(' at `open`.
  size_t SkipParens(size_t open) const {
    size_t depth = 0;
    for (size_t i = open; i < toks_.size(); ++i) {
      if (toks_[i].IsPunct('(')) ++depth;
      if (toks_[i].IsPunct(')') && --depth == 0) return i + 1;
    }
    return toks_.size();
  }
  // First index ≥ from of the bare word `w` outside parentheses opened at or after `from`.
  size_t FindTopLevel(size_t from, std::string_view w) const {
    size_t depth = 0;
    for (size_t i = from; i < toks_.size(); ++i) {
      if (toks_[i].IsPunct('(')) ++depth;
      if (toks_[i].IsPunct(')') && depth > 0) --depth;
      if (depth == 0 && toks_[i].IsWord(w)) return i;
    }
    return toks_.size();
  }
  // `a IS [NOT] DISTINCT FROM b`: this FROM is an operator, not a clause.
  bool IsDistinctFrom(size_t from) const {
    return from >= 2 && toks_[from - 1].IsWord("DISTINCT") &&
           (toks_[from - 2].IsWord("IS") || toks_[from - 2].IsWord("NOT"));
  }

  Status CollectParams() {
    for (const Token& t : toks_) {
      if (t.kind != TokenKind::kParameter) continue;
      std::string_view digits = std::string_view(t.value).substr(1);
      const bool numeric =
          t.value[0] == '$' && !digits.empty() &&
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!numeric) {
        return Status::InvalidSql("Unsupported parameter '" + t.value +
                                  "': use $1, $2, … placeholders");
      }
      while (digits.size() > 1 && digits[0] == '0') digits.remove_prefix(1);
      int index = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
      if (ec != std::errc() || index > kMaxParameterIndex) {
        return Status::InvalidSql("Parameter " + t.value + " is out of range: at most $" +
                                  std::to_string(kMaxParameterIndex));
      }
      if (index == 0) {
        return Status::InvalidSql("Parameter $0 is invalid: placeholders are numbered from $1");
      }
      out_.params.push_back(index);
    }
    std::sort(out_.params.begin(), out_.params.end());
    out_.params.erase(std::unique(out_.params.begin(), out_.params.end()), out_.params.end());
    out_.max_param = out_.params.empty() ? 0 : out_.params.back();
    return Status::OK();
  }

  // WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (…) [, …], for every WITH.
  void CollectCteNames() {
    for (size_t w = 0; w < toks_.size(); ++w) {
      if (!toks_[w].IsWord("WITH")) continue;
      size_t i = w + 1;
      if (Word(i, "RECURSIVE")) ++i;
      while (i < toks_.size() && toks_[i].IsName()) {
        const std::string& name = toks_[i].value;
        ++i;
        if (Punct(i, '(')) i = SkipParens(i);
        if (!Word(i, "AS")) break;
        ++i;
        if (Word(i, "NOT")) ++i;
        if (Word(i, "MATERIALIZED")) ++i;
        if (!Punct(i, '(')) break;
        i = SkipParens(i);
        out_.cte_names.push_back(name);
        if (!Punct(i, ',')) break;
        ++i;
      }
    }
  }

  bool IsCteName(std::string_view name) const {
    for (const std::string& cte : out_.cte_names) {
      if (EqualsIgnoreCase(cte, name)) return true;
    }
    return false;
  }

  Status ScanTables() {
    struct Frame {
      bool in_from = false;  // the frame's current clause is a FROM list
      uint32_t scope = 0;    // the query scope of the frame's tokens
      int outer = -1;        // the scope around the '(' that opened the frame
    };
    std::vector<Frame> frames(1);
    out_.scopes.reserve(4);
    out_.scopes.assign(1, QueryScope{});
    out_.token_scopes.assign(toks_.size(), 0);
    Expect expect = Expect::kNone;
    for (size_t i = 0; i < toks_.size(); ++i) {
      const Token& t = toks_[i];
      if (t.IsWord("SELECT")) {
        // Each SELECT (each arm of a compound one) names its own tables.
        out_.scopes.push_back(QueryScope{frames.back().outer, false, {}});
        frames.back().scope = static_cast<uint32_t>(out_.scopes.size() - 1);
      }
      out_.token_scopes[i] = frames.back().scope;
      if (t.IsPunct('(')) {
        // After FROM/JOIN, '(' opens a subquery or a parenthesised join (another FROM list).
        const bool nested_join = expect == Expect::kFromItem && !StartsQuery(i + 1);
        if (expect == Expect::kFromItem && !nested_join) {
          AddOpaqueSource(frames.back().scope, AliasAt(SkipParens(i)));
        }
        const uint32_t scope = frames.back().scope;
        frames.push_back(Frame{nested_join, scope, static_cast<int>(scope)});
        if (!nested_join) expect = Expect::kNone;
        continue;
      }
      if (t.IsPunct(')')) {
        if (frames.size() > 1) frames.pop_back();
        expect = Expect::kNone;
        continue;
      }
      if (expect != Expect::kNone) {
        const Expect was = expect;
        expect = Expect::kNone;
        // A clause word followed by `.name` is a namespace (`default.t`), not a clause.
        const bool qualified = i + 2 < toks_.size() && toks_[i + 1].IsPunct('.') &&
                               toks_[i + 2].IsName();
        if (t.IsName() && (!IsClauseWord(t) || qualified)) {
          KALAM_RETURN_IF_ERROR(ReadTableRef(i, was, frames.back().scope));
          continue;
        }
      }
      if (t.IsPunct(',')) {
        if (frames.back().in_from) expect = Expect::kFromItem;
        continue;
      }
      if (t.kind != TokenKind::kIdentifier) continue;
      if (t.IsWord("FROM")) {
        if (IsDistinctFrom(i)) continue;
        if (i > 0 && toks_[i - 1].IsWord("DELETE")) {
          expect = Expect::kTarget;
          continue;
        }
        frames.back().in_from = true;
        expect = Expect::kFromItem;
      } else if (t.IsWord("JOIN")) {
        frames.back().in_from = true;
        expect = Expect::kFromItem;
      } else if (t.IsWord("INTO")) {
        expect = Expect::kTarget;
      } else if (i == verb_ && out_.kind == StatementKind::kUpdate) {
        if (Word(i + 1, "OR") && i + 2 < toks_.size()) i += 2;  // UPDATE OR <action>
        expect = Expect::kTarget;
      } else if (t.IsWord("IN")) {
        if (i + 1 < toks_.size() && toks_[i + 1].IsName()) expect = Expect::kInTable;
      } else if (EndsFromList(t)) {
        frames.back().in_from = false;
      }
    }
    return Status::OK();
  }

  // The alias written at toks_[at] after a FROM item (`AS name` or `name`); empty when none.
  std::string AliasAt(size_t at) const {
    if (Word(at, "AS") && at + 1 < toks_.size() && toks_[at + 1].IsName()) {
      return toks_[at + 1].value;
    }
    if (at < toks_.size() && toks_[at].IsName() && !IsClauseWord(toks_[at])) {
      return toks_[at].value;
    }
    return {};
  }

  void AddOpaqueSource(uint32_t scope, std::string name) {
    out_.scopes[scope].has_opaque_source = true;
    if (!name.empty()) out_.scopes[scope].opaque_names.push_back(std::move(name));
  }

  // Reads `name` or `ns.name` at toks_[i] in a table position of query scope `scope`, with its
  // alias; leaves `i` on the last token consumed.
  Status ReadTableRef(size_t& i, Expect expect, uint32_t scope) {
    TableRef ref;
    ref.first_token = i;
    ref.scope = expect == Expect::kInTable ? TableRef::kNoScope : scope;
    size_t j = i + 1;
    ref.name = toks_[i].value;
    if (Punct(j, '.') && j + 1 < toks_.size() && toks_[j + 1].IsName()) {
      ref.ns = ref.name;
      ref.name = toks_[j + 1].value;
      j += 2;
      if (Punct(j, '.')) {
        return Status::InvalidSql("Invalid table name '" + ref.ns + "." + ref.name +
                                  ".…': use table or namespace.table");
      }
    }
    ref.end_token = j;
    if (IsInternalTable(ref.name)) return InternalTableError(ref.name);
    if (expect != Expect::kTarget && Punct(j, '(')) {
      i = j - 1;  // a table-valued function such as json_each(…): its arguments are scanned
      if (expect != Expect::kInTable) AddOpaqueSource(scope, AliasAt(SkipParens(j)));
      return Status::OK();
    }
    ref.alias_allowed = expect != Expect::kInTable;
    if (ref.alias_allowed) {
      if (Word(j, "AS") && j + 1 < toks_.size() &&
          (toks_[j + 1].IsName() || toks_[j + 1].kind == TokenKind::kString)) {
        ref.has_alias = true;
        ref.alias = toks_[j + 1].value;
        j += 2;
      } else if (!(expect == Expect::kTarget && out_.kind == StatementKind::kInsert) &&
                 j < toks_.size() &&
                 ((toks_[j].IsName() && !IsClauseWord(toks_[j])) ||
                  toks_[j].kind == TokenKind::kString)) {
        ref.has_alias = true;
        ref.alias = toks_[j].value;
        j += 1;
      }
    }
    i = j - 1;
    if (expect == Expect::kTarget) {
      if (!out_.target_table) {
        out_.target_table = out_.tables.size();
        target_after_ = j;
      }
    } else if (ref.ns.empty() && IsCteName(ref.name)) {
      if (expect != Expect::kInTable) AddOpaqueSource(scope, ref.has_alias ? ref.alias : ref.name);
      return Status::OK();
    }
    out_.tables.push_back(std::move(ref));
    return Status::OK();
  }

  Status RejectReturning(std::string_view verb) const {
    if (FindTopLevel(0, "RETURNING") == toks_.size()) return Status::OK();
    return Status::InvalidSql("RETURNING is only supported on INSERT, not on " + std::string(verb));
  }

  Status AnalyzeInsert() {
    InsertInfo info;
    if (Word(verb_ + 1, "OR") && verb_ + 2 < toks_.size()) {
      info.conflict_action = ToUpperAscii(toks_[verb_ + 2].value);
    }
    if (!out_.target_table) return Status::InvalidSql("Expected a table name after INSERT INTO");
    const std::string target = out_.tables[*out_.target_table].name;
    size_t i = target_after_;
    info.column_list_token = i;
    if (Punct(i, '(') && !StartsQuery(i + 1)) {
      info.has_column_list = true;
      ++i;
      while (true) {
        if (i >= toks_.size() || !toks_[i].IsName()) {
          return Status::InvalidSql("Invalid column list in INSERT INTO " + target +
                                    ": expected a column name, found " + Describe(i));
        }
        info.columns.push_back(toks_[i].value);
        ++i;
        if (Punct(i, ',')) {
          ++i;
          continue;
        }
        if (Punct(i, ')')) break;
        return Status::InvalidSql("Invalid column list in INSERT INTO " + target +
                                  ": expected ',' or ')', found " + Describe(i));
      }
      ++i;
    }
    const size_t returning = FindTopLevel(i, "RETURNING");
    if (Word(i, "VALUES")) {
      size_t rows = 0;
      size_t k = i + 1;
      while (Punct(k, '(')) {
        k = SkipParens(k);
        ++rows;
        if (!Punct(k, ',')) break;
        ++k;
      }
      info.source = k == returning ? InsertSource::kValues : InsertSource::kSelect;
      if (k == returning) info.values_rows = rows;
    } else if (Word(i, "DEFAULT") && Word(i + 1, "VALUES")) {
      info.source = InsertSource::kDefaultValues;
    } else if (StartsQuery(i) || Punct(i, '(')) {
      info.source = InsertSource::kSelect;
    } else {
      return Status::InvalidSql("Expected VALUES, SELECT or DEFAULT VALUES after INSERT INTO " +
                                target + ", found " + Describe(i));
    }
    if (returning < toks_.size()) {
      KALAM_ASSIGN_OR_RETURN(info.returning, ParseReturning(returning));
    }
    out_.insert = std::move(info);
    return Status::OK();
  }

  Result<ReturningClause> ParseReturning(size_t at) const {
    const Status invalid = Status::InvalidSql(
        "RETURNING supports only *, _seq or a list of column names");
    ReturningClause clause;
    clause.first_token = at;
    bool star = false;
    size_t i = at + 1;
    if (i >= toks_.size()) return invalid;
    while (true) {
      if (i >= toks_.size()) return invalid;
      const Token& t = toks_[i];
      if (t.IsOperator("*")) {
        star = true;
      } else if (t.IsName()) {
        clause.columns.push_back(t.value);
      } else {
        return invalid;
      }
      clause.text += (clause.text.empty() ? "" : ", ") + std::string(stmt_.Raw(i));
      ++i;
      if (i == toks_.size()) break;
      if (!Punct(i, ',')) return invalid;
      ++i;
    }
    if (star) {
      if (!clause.columns.empty()) return invalid;
      clause.kind = ReturningKind::kStar;
    } else if (clause.columns.size() == 1 && EqualsIgnoreCase(clause.columns[0], "_seq")) {
      clause.kind = ReturningKind::kSeq;
    } else {
      clause.kind = ReturningKind::kColumns;
    }
    return clause;
  }

  Status AnalyzeUpdate() {
    UpdateInfo info;
    if (Word(verb_ + 1, "OR") && verb_ + 2 < toks_.size()) {
      info.conflict_action = ToUpperAscii(toks_[verb_ + 2].value);
    }
    if (!out_.target_table) return Status::InvalidSql("Expected a table name after UPDATE");
    size_t i = FindTopLevel(target_after_, "SET");
    if (i == toks_.size()) return Status::InvalidSql("Expected SET in UPDATE");
    ++i;
    auto invalid = [&](size_t at) {
      return Status::InvalidSql("Invalid SET clause in UPDATE: expected a column name, found " +
                                Describe(at));
    };
    while (true) {
      if (Punct(i, '(')) {
        ++i;
        while (i < toks_.size() && toks_[i].IsName()) {
          info.columns.push_back(toks_[i].value);
          ++i;
          if (!Punct(i, ',')) break;
          ++i;
        }
        if (!Punct(i, ')')) return invalid(i);
        ++i;
      } else if (i < toks_.size() && toks_[i].IsName()) {
        info.columns.push_back(toks_[i].value);
        ++i;
      } else {
        return invalid(i);
      }
      if (i >= toks_.size() || !toks_[i].IsOperator("=")) {
        return Status::InvalidSql("Invalid SET clause in UPDATE: expected '=', found " +
                                  Describe(i));
      }
      info.assignment_tokens.push_back(i);
      // Skip the value expression up to a top-level ',' or the next clause.
      size_t depth = 0;
      for (++i; i < toks_.size(); ++i) {
        const Token& t = toks_[i];
        if (t.IsPunct('(')) ++depth;
        if (t.IsPunct(')') && depth > 0) --depth;
        if (depth > 0) continue;
        if (t.IsPunct(',') || t.IsWord("WHERE") || t.IsWord("RETURNING") || t.IsWord("ORDER") ||
            t.IsWord("LIMIT") || (t.IsWord("FROM") && !IsDistinctFrom(i))) {
          break;
        }
      }
      if (!Punct(i, ',')) break;
      ++i;
    }
    out_.update = std::move(info);
    return Status::OK();
  }

  void AnalyzeSelect() {
    // Parentheses around the whole statement, `((SELECT …))`, which SQLite does not accept.
    size_t wrap = 0;
    while (Punct(wrap, '(') && SkipParens(wrap) == toks_.size() - wrap) ++wrap;
    out_.wrapping_parens = wrap;
    size_t depth = 0;
    for (size_t i = wrap; i + wrap < toks_.size(); ++i) {
      const Token& t = toks_[i];
      if (t.IsPunct('(')) ++depth;
      if (t.IsPunct(')') && depth > 0) --depth;
      if (depth != 0) continue;
      if (t.IsWord("LIMIT")) out_.has_top_level_limit = true;
      if (t.IsWord("VALUES")) out_.values_at_top_level = true;
    }
  }

  std::string Describe(size_t i) const {
    if (i >= toks_.size()) return "end of statement";
    return "'" + std::string(stmt_.Raw(i)) + "'";
  }

  const SqlStatement& stmt_;
  const std::vector<Token>& toks_;
  size_t verb_ = 0;          // FindMainVerb
  size_t target_after_ = 0;  // token after the target table ref and its alias
  DmlAnalysis out_;
};

}  // namespace

Result<DmlAnalysis> AnalyzeDml(const SqlStatement& stmt) { return Analyzer(stmt).Run(); }

}  // namespace kalam::sql::parser
