// Executor: nearest-neighbour ORDER BY through the vector index (docs/vectors.md).
//
//   SELECT … FROM t [WHERE …] ORDER BY COSINE_DISTANCE(col, q) [ASC] LIMIT k
//   (L2_DISTANCE … [ASC]; DOT_PRODUCT … DESC)
//
// on a column indexed with the matching metric runs as the same statement restricted to the
// index's nearest candidates: `WHERE (<filter>) AND <pk> IN (<candidates>)`. SQLite still
// computes the distances, sorts and applies the filter, so every row returned is a real answer;
// with a filter, k·10 (at least 100) candidates are fetched, and when fewer than k of them pass
// and the index may hold more, the statement runs unchanged (an exact scan).
#include <algorithm>
#include <cstdlib>
#include <string>

#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/lexer.h"
#include "vector/vector_indexes.h"
#include "vector/vector_math.h"

namespace kalam::sql {

namespace {

using parser::Token;
using parser::TokenKind;

constexpr uint64_t kMaxIndexedLimit = 1000;

// The SQL literal of a PK given as text (PkDisplay) for the column's type; nullopt for types
// whose literals the plan does not write.
std::optional<std::string> PkLiteral(TypeKind kind, const std::string& text) {
  switch (kind) {
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kBigInt: return text;
    case TypeKind::kText: {
      std::string out = "'";
      for (char c : text) {
        out += c;
        if (c == '\'') out += '\'';
      }
      return out + "'";
    }
    default: return std::nullopt;
  }
}

}  // namespace

Result<std::optional<Executor::VectorOrderPlan>> Executor::PlanVectorOrder(
    Session& s, const parser::SqlStatement& stmt, const parser::DmlAnalysis& analysis) {
  std::optional<VectorOrderPlan> none;
  if (vectors_ == nullptr || analysis.kind != parser::StatementKind::kSelect ||
      // One SELECT (scope 0 is the statement's, scope 1 its only SELECT) over one table and
      // nothing else (no subquery, CTE or table-valued function).
      analysis.tables.size() != 1 || analysis.scopes.size() != 2 ||
      analysis.scopes[1].has_opaque_source ||
      !analysis.cte_names.empty() || !analysis.has_top_level_limit || !s.ws.empty()) {
    return none;
  }
  const auto& t = stmt.tokens;
  // Top-level clauses: WHERE and ORDER BY positions; anything that changes which rows the LIMIT
  // counts rules the plan out.
  size_t where_at = 0, order_at = 0;
  int depth = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].IsPunct('(')) ++depth;
    if (t[i].IsPunct(')')) --depth;
    if (depth != 0 || t[i].kind != TokenKind::kIdentifier) continue;
    if (t[i].IsWord("GROUP") || t[i].IsWord("HAVING") || t[i].IsWord("DISTINCT") ||
        t[i].IsWord("UNION") || t[i].IsWord("EXCEPT") || t[i].IsWord("INTERSECT") ||
        t[i].IsWord("WINDOW") || t[i].IsWord("OFFSET") || t[i].IsWord("JOIN")) {
      return none;
    }
    if (t[i].IsWord("WHERE") && where_at == 0) where_at = i;
    if (t[i].IsWord("ORDER") && i + 1 < t.size() && t[i + 1].IsWord("BY")) order_at = i;
  }
  if (order_at == 0 || (where_at != 0 && where_at > order_at)) return none;
  // ORDER BY fn ( [q .] col , operand ) [ASC|DESC] LIMIT n <end>
  size_t i = order_at + 2;
  auto at = [&](size_t j) -> const Token* { return j < t.size() ? &t[j] : nullptr; };
  if (!at(i) || t[i].kind != TokenKind::kIdentifier) return none;
  VectorMetric metric;
  bool want_desc = false;
  if (t[i].IsWord("COSINE_DISTANCE")) {
    metric = VectorMetric::kCosine;
  } else if (t[i].IsWord("L2_DISTANCE")) {
    metric = VectorMetric::kL2;
  } else if (t[i].IsWord("DOT_PRODUCT")) {
    metric = VectorMetric::kDot;
    want_desc = true;
  } else {
    return none;
  }
  if (!at(i + 1) || !t[i + 1].IsPunct('(') || !at(i + 2) || !t[i + 2].IsName()) return none;
  i += 2;
  if (at(i + 1) && t[i + 1].IsPunct('.')) {
    if (!at(i + 2) || !t[i + 2].IsName()) return none;
    i += 2;
  }
  const std::string column_name = t[i].value;
  if (!at(i + 1) || !t[i + 1].IsPunct(',') || !at(i + 2) || !at(i + 3) || !t[i + 3].IsPunct(')')) {
    return none;
  }
  const Token& operand = t[i + 2];
  i += 4;
  bool desc = false;
  if (at(i) && (t[i].IsWord("ASC") || t[i].IsWord("DESC"))) desc = t[i++].IsWord("DESC");
  if (desc != want_desc) return none;
  if (!at(i) || !t[i].IsWord("LIMIT") || !at(i + 1) || t[i + 1].kind != TokenKind::kInteger ||
      i + 2 != t.size()) {
    return none;
  }
  const uint64_t k = std::strtoull(t[i + 1].value.c_str(), nullptr, 10);
  if (k == 0 || k > kMaxIndexedLimit) return none;

  // The table, its index and the query vector.
  const parser::TableRef& ref = analysis.tables[0];
  const std::string ns = ref.ns.empty() ? s.ns : catalog::LowerName(ref.ns);
  auto def = s.ctx.statement.catalog->FindTable(ns, ref.name);
  if (!def || (def->type != catalog::TableType::kUser && def->type != catalog::TableType::kShared)) {
    return none;
  }
  if (!CheckTableAccess(s.caller, *def, false).ok()) return none;  // the statement reports it
  const int column = def->FindColumn(column_name);
  if (column < 0 || !def->columns[column].vector_index ||
      def->columns[column].vector_index->metric != metric) {
    return none;
  }
  const auto& pk_col = def->pk_column();
  std::vector<float> query;
  if (operand.kind == TokenKind::kString) {
    auto parsed = vector::ParseVectorText(operand.value);
    if (!parsed.ok()) return none;
    query = std::move(*parsed);
  } else if (operand.kind == TokenKind::kParameter && operand.value.size() > 1 &&
             operand.value[0] == '$') {
    const size_t n = std::strtoull(operand.value.c_str() + 1, nullptr, 10);
    if (n == 0 || n > s.request.params.size()) return none;
    const Value& v = s.request.params[n - 1];
    if (v.kind() == Value::Kind::kText) {
      auto parsed = vector::ParseVectorText(v.as_text());
      if (!parsed.ok()) return none;
      query = std::move(*parsed);
    } else if (!vector::DecodeEmbedding(v, &query)) {
      return none;
    }
  } else {
    return none;
  }
  if (static_cast<int>(query.size()) != def->columns[column].type.dimension) return none;

  VectorOrderPlan plan;
  plan.k = k;
  plan.fetched = where_at != 0 ? std::max<uint64_t>(k * 10, 100) : k;
  const table::Scope scope =
      def->type == catalog::TableType::kShared ? std::string() : s.caller.user_id;
  auto hits = vectors_->Search(*def, static_cast<size_t>(column), scope, query, plan.fetched,
                               /*ef=*/plan.fetched);
  if (!hits.ok()) return none;  // the scan gives the exact answer (and any storage error)
  plan.candidates = hits->size();
  std::string in_list;
  for (const auto& h : *hits) {
    auto literal = PkLiteral(pk_col.type.kind, h.pk_text);
    if (!literal) return none;
    if (!in_list.empty()) in_list += ", ";
    in_list += *literal;
  }
  if (in_list.empty()) in_list = "NULL";  // no candidates: no row
  std::string pk = "\"" + pk_col.name + "\"";
  const std::string& text = stmt.text;
  const size_t order_off = t[order_at].offset;
  if (where_at != 0) {
    const size_t cond = t[where_at].offset + t[where_at].length;
    plan.sql = text.substr(0, cond) + " (" + text.substr(cond, order_off - cond) + ") AND " + pk +
               " IN (" + in_list + ") " + text.substr(order_off);
  } else {
    plan.sql = text.substr(0, order_off) + " WHERE " + pk + " IN (" + in_list + ") " +
               text.substr(order_off);
  }
  return std::optional<VectorOrderPlan>(std::move(plan));
}

}  // namespace kalam::sql
