// The aggregate path (fast_aggregate.h): recognizing a qualifying SELECT and computing its rows.
#include "sql/fast_aggregate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <numeric>
#include <unordered_map>

#include "sql/exec_context.h"
#include "sql/sqlite/connection.h"
#include "sql/sqlite/grouped_rows.h"
#include "sql/sqlite/vtab_module.h"

namespace kalam::sql {

using catalog::ColumnDef;
using catalog::TableDef;
using Func = AggregatePlan::Func;

namespace {

std::atomic<bool> g_enabled{true};

// The storage class every non-NULL value of a column must have for the path to know what SQLite
// sees (xColumn returns integers and reals as they are, text of a plain TEXT column as it is).
enum class Expect : uint8_t { kInteger, kReal, kText, kAnyNonNaN };

bool IsIntegerType(const DataType& t) {
  return t.kind == TypeKind::kSmallInt || t.kind == TypeKind::kInt || t.kind == TypeKind::kBigInt;
}
bool IsRealType(const DataType& t) {
  return t.kind == TypeKind::kFloat || t.kind == TypeKind::kDouble;
}

// A GROUP BY column: integers, or TEXT compared by bytes (BINARY), so that equal values are the
// same bytes and the group's value does not depend on which of its rows SQLite shows.
bool CanGroupBy(const ColumnDef& col) {
  return IsIntegerType(col.type) ||
         (col.type.kind == TypeKind::kText && GroupedRows::CanOrderBy(col));
}

Expect ExpectOf(const ColumnDef& col) {
  if (IsIntegerType(col.type)) return Expect::kInteger;
  if (IsRealType(col.type)) return Expect::kReal;
  if (col.type.kind == TypeKind::kText) return Expect::kText;
  return Expect::kAnyNonNaN;
}

bool Fits(Expect e, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return true;
    case Value::Kind::kInt: return e == Expect::kInteger || e == Expect::kAnyNonNaN;
    case Value::Kind::kDouble:
      return (e == Expect::kReal || e == Expect::kAnyNonNaN) && !std::isnan(v.as_double());
    case Value::Kind::kText: return e == Expect::kText || e == Expect::kAnyNonNaN;
    case Value::Kind::kBlob: return e == Expect::kAnyNonNaN;
  }
  return false;
}

// SQLite's comparison of an integer with a real (sqlite3IntFloatCompare).
int CompareIntReal(int64_t i, double r) {
  if (r < -9223372036854775808.0) return 1;
  if (r >= 9223372036854775808.0) return -1;
  const int64_t y = static_cast<int64_t>(r);
  if (i < y) return -1;
  if (i > y) return 1;
  const double s = static_cast<double>(i);
  if (s < r) return -1;
  if (s > r) return 1;
  return 0;
}

int ClassOf(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return 0;
    case Value::Kind::kInt:
    case Value::Kind::kDouble: return 1;
    case Value::Kind::kText: return 2;
    case Value::Kind::kBlob: return 3;
  }
  return 0;
}

// <0, 0, >0 as SQLite orders `a` before, with, after `b` (BINARY collation; no NaN).
int CompareValues(const Value& a, const Value& b) {
  const int ca = ClassOf(a), cb = ClassOf(b);
  if (ca != cb) return ca < cb ? -1 : 1;
  switch (a.kind()) {
    case Value::Kind::kNull: return 0;
    case Value::Kind::kInt:
      if (b.kind() == Value::Kind::kInt) {
        return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
      }
      return CompareIntReal(a.as_int(), b.as_double());
    case Value::Kind::kDouble:
      if (b.kind() == Value::Kind::kInt) return -CompareIntReal(b.as_int(), a.as_double());
      return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
    case Value::Kind::kText: {
      const int c = a.as_text().compare(b.as_text());
      return c < 0 ? -1 : c > 0;
    }
    case Value::Kind::kBlob: {
      const int c = a.as_bytes().compare(b.as_bytes());
      return c < 0 ? -1 : c > 0;
    }
  }
  return 0;
}

// ---- recognizer ---------------------------------------------------------------------------------

class Recognizer {
 public:
  Recognizer(const parser::SqlStatement& stmt, const TableDef& def)
      : t_(stmt.tokens), n_(t_.size()), def_(def) {
    if (n_ > 0 && t_[n_ - 1].IsPunct(';')) --n_;
  }

  // A column name at token k (not qualified, not a call): its index, else -1.
  int ColumnAt(size_t k) const {
    if (k >= n_ || !t_[k].IsName()) return -1;
    if (k + 1 < n_ && (t_[k + 1].IsPunct('.') || t_[k + 1].IsPunct('('))) return -1;
    return def_.FindColumn(t_[k].value);
  }

  // An aggregate call at token k: the tokens it takes (0 when there is none) and the item.
  size_t AggregateAt(size_t k, AggregatePlan::Item* item) const {
    if (k + 3 >= n_) return 0;
    if (t_[k].kind != parser::TokenKind::kIdentifier || !t_[k + 1].IsPunct('(') ||
        !t_[k + 3].IsPunct(')')) {
      return 0;
    }
    const std::string f = t_[k].Upper();
    Func func;
    if (f == "COUNT") func = Func::kCount;
    else if (f == "SUM") func = Func::kSum;
    else if (f == "AVG") func = Func::kAvg;
    else if (f == "MIN") func = Func::kMin;
    else if (f == "MAX") func = Func::kMax;
    else return 0;
    if (func == Func::kCount && t_[k + 2].IsOperator("*")) {
      *item = {Func::kCountStar, -1};
      return 4;
    }
    const int c = ColumnAt(k + 2);
    if (c < 0) return 0;
    const DataType& type = def_.columns[c].type;
    if (func != Func::kCount && !IsIntegerType(type) && !IsRealType(type)) return 0;
    *item = {func, c};
    return 4;
  }

  std::optional<AggregatePlan> Run(const parser::TableRef& ref) {
    AggregatePlan plan;
    size_t i = 0;
    if (i >= n_ || !t_[i].IsWord("SELECT")) return std::nullopt;
    ++i;
    while (true) {
      AggregatePlan::Item item;
      if (size_t used = AggregateAt(i, &item)) {
        i += used;
      } else if (int c = ColumnAt(i); c >= 0) {
        item = {Func::kGroupColumn, c};
        ++i;
      } else {
        return std::nullopt;
      }
      plan.items.push_back(item);
      if (i < n_ && t_[i].IsPunct(',')) {
        ++i;
        continue;
      }
      if (i < n_ && t_[i].IsWord("FROM")) break;
      return std::nullopt;
    }
    ++i;
    if (i != ref.first_token || ref.end_token > n_) return std::nullopt;
    i = ref.end_token;
    if (i + 1 < n_ && t_[i].IsWord("GROUP") && t_[i + 1].IsWord("BY")) {
      i += 2;
      while (true) {
        const int c = ColumnAt(i);
        if (c < 0 || !CanGroupBy(def_.columns[c])) return std::nullopt;
        plan.group_by.push_back(c);
        ++i;
        if (i < n_ && t_[i].IsPunct(',')) {
          ++i;
          continue;
        }
        break;
      }
    }
    if (i + 1 < n_ && t_[i].IsWord("ORDER") && t_[i + 1].IsWord("BY")) {
      i += 2;
      while (true) {
        AggregatePlan::OrderTerm term;
        AggregatePlan::Item agg;
        if (i < n_ && t_[i].kind == parser::TokenKind::kInteger) {
          const std::string& v = t_[i].value;
          if (v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos) {
            return std::nullopt;
          }
          const int pos = std::stoi(v);
          if (pos < 1 || pos > static_cast<int>(plan.items.size())) return std::nullopt;
          term.item = pos - 1;
          ++i;
        } else if (size_t used = AggregateAt(i, &agg)) {
          for (size_t k = 0; k < plan.items.size() && term.item < 0; ++k) {
            if (plan.items[k].func == agg.func && plan.items[k].column == agg.column) {
              term.item = static_cast<int>(k);
            }
          }
          if (term.item < 0) return std::nullopt;
          i += used;
        } else if (int c = ColumnAt(i); c >= 0) {
          for (size_t k = 0; k < plan.items.size() && term.item < 0; ++k) {
            if (plan.items[k].func == Func::kGroupColumn && plan.items[k].column == c) {
              term.item = static_cast<int>(k);
            }
          }
          for (size_t g = 0; g < plan.group_by.size() && term.item < 0 && term.group_key < 0;
               ++g) {
            if (plan.group_by[g] == c) term.group_key = static_cast<int>(g);
          }
          if (term.item < 0 && term.group_key < 0) return std::nullopt;
          ++i;
        } else {
          return std::nullopt;
        }
        if (i < n_ && (t_[i].IsWord("ASC") || t_[i].IsWord("DESC"))) {
          term.desc = t_[i].IsWord("DESC");
          ++i;
        }
        plan.order_by.push_back(term);
        if (i < n_ && t_[i].IsPunct(',')) {
          ++i;
          continue;
        }
        break;
      }
    }
    if (i + 1 < n_ && t_[i].IsWord("LIMIT") && t_[i + 1].kind == parser::TokenKind::kInteger) {
      const std::string& v = t_[i + 1].value;
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
      }
      plan.limit = std::stoull(v);
      i += 2;
    }
    if (i != n_) return std::nullopt;
    // Every selected column is grouped by; the order is total.
    for (const auto& item : plan.items) {
      if (item.func == Func::kGroupColumn &&
          std::find(plan.group_by.begin(), plan.group_by.end(), item.column) ==
              plan.group_by.end()) {
        return std::nullopt;
      }
    }
    if (!plan.order_by.empty()) {
      for (int g : plan.group_by) {
        bool covered = false;
        for (const auto& term : plan.order_by) {
          const int column = term.item >= 0 && plan.items[term.item].func == Func::kGroupColumn
                                 ? plan.items[term.item].column
                             : term.group_key >= 0 ? plan.group_by[term.group_key]
                                                   : -1;
          covered |= column == g;
        }
        if (!covered) return std::nullopt;
      }
    }
    return plan;
  }

 private:
  const std::vector<parser::Token>& t_;
  size_t n_;
  const TableDef& def_;
};

// ---- execution ----------------------------------------------------------------------------------

// One aggregate's state, as SQLite 3.40's sum/avg (SumCtx), count and min/max keep it.
struct Accumulator {
  int64_t count = 0;
  int64_t int_sum = 0;
  double real_sum = 0;
  bool overflow = false;
  bool approx = false;  // a real was summed
  Value best;           // MIN/MAX: the first least/greatest value
};

struct Group {
  std::vector<Value> keys;  // the GROUP BY columns' values
  std::vector<Accumulator> accs;  // one per item (unused for group columns)
};

// Appends `v` (an INTEGER, TEXT or NULL group value) to a group's hash key.
void AppendKey(const Value& v, std::string* key) {
  switch (v.kind()) {
    case Value::Kind::kInt: {
      key->push_back('i');
      const int64_t i = v.as_int();
      key->append(reinterpret_cast<const char*>(&i), sizeof i);
      break;
    }
    case Value::Kind::kText: {
      key->push_back('t');
      const uint32_t size = static_cast<uint32_t>(v.as_text().size());
      key->append(reinterpret_cast<const char*>(&size), sizeof size);
      key->append(v.as_text());
      break;
    }
    default: key->push_back('n'); break;
  }
}

void Step(Func func, const Value& v, Accumulator& a) {
  switch (func) {
    case Func::kGroupColumn: return;
    case Func::kCountStar: ++a.count; return;
    case Func::kCount:
      if (!v.is_null()) ++a.count;
      return;
    case Func::kSum:
    case Func::kAvg:
      if (v.kind() == Value::Kind::kInt) {
        ++a.count;
        const int64_t i = v.as_int();
        a.real_sum += static_cast<double>(i);
        if (!a.approx && !a.overflow && __builtin_add_overflow(a.int_sum, i, &a.int_sum)) {
          a.approx = a.overflow = true;
        }
      } else if (v.kind() == Value::Kind::kDouble) {
        ++a.count;
        a.real_sum += v.as_double();
        a.approx = true;
      }
      return;
    case Func::kMin:
    case Func::kMax:
      if (v.is_null()) return;
      if (a.best.is_null()) {
        a.best = v;
      } else {
        const int cmp = CompareValues(a.best, v);
        if ((func == Func::kMax && cmp < 0) || (func == Func::kMin && cmp > 0)) a.best = v;
      }
      return;
  }
}

// The value SQLite's finalizer returns, or nullopt where the path gives up.
std::optional<Value> Finish(Func func, const Accumulator& a) {
  switch (func) {
    case Func::kCountStar:
    case Func::kCount: return Value::Int(a.count);
    case Func::kSum:
      if (a.count == 0) return Value::Null();
      if (a.overflow) return std::nullopt;  // "integer overflow": SQLite decides
      if (!a.approx) return Value::Int(a.int_sum);
      if (std::isnan(a.real_sum)) return std::nullopt;
      return Value::Double(a.real_sum);
    case Func::kAvg: {
      if (a.count == 0) return Value::Null();
      const double avg = a.real_sum / static_cast<double>(a.count);
      if (std::isnan(avg)) return std::nullopt;
      return Value::Double(avg);
    }
    case Func::kMin:
    case Func::kMax: return a.best;
    case Func::kGroupColumn: break;
  }
  return std::nullopt;
}

const char* FuncName(Func f) {
  switch (f) {
    case Func::kCountStar:
    case Func::kCount: return "COUNT";
    case Func::kSum: return "SUM";
    case Func::kAvg: return "AVG";
    case Func::kMin: return "MIN";
    case Func::kMax: return "MAX";
    case Func::kGroupColumn: break;
  }
  return "";
}

// About what one group takes in memory besides its key.
constexpr size_t kGroupOverheadBytes = 96;

}  // namespace

bool AggregatePathEnabled() { return g_enabled.load(std::memory_order_relaxed); }
void SetAggregatePathEnabled(bool enabled) { g_enabled.store(enabled, std::memory_order_relaxed); }

std::optional<AggregatePlan> PlanAggregate(const parser::SqlStatement& stmt,
                                           const parser::DmlAnalysis& analysis,
                                           const TableDef& def) {
  if (analysis.kind != parser::StatementKind::kSelect || analysis.tables.size() != 1 ||
      !analysis.cte_names.empty() || analysis.wrapping_parens != 0 ||
      analysis.values_at_top_level || analysis.max_param != 0) {
    return std::nullopt;
  }
  if (def.type != catalog::TableType::kUser && def.type != catalog::TableType::kShared) {
    return std::nullopt;
  }
  const parser::TableRef& ref = analysis.tables[0];
  if (ref.has_alias || !ref.alias_allowed) return std::nullopt;
  return Recognizer(stmt, def).Run(ref);
}

Result<std::optional<std::vector<std::vector<Value>>>> RunAggregate(const AggregatePlan& plan,
                                                                    const TableDef& def,
                                                                    ExecContext& ctx) {
  using Rows = std::vector<std::vector<Value>>;
  const size_t nitems = plan.items.size();
  // The columns read, each checked once per row.
  std::vector<bool> decode(def.columns.size(), false);
  for (int c : plan.group_by) decode[c] = true;
  for (const auto& item : plan.items) {
    if (item.column >= 0) decode[item.column] = true;
  }
  std::vector<std::pair<int, Expect>> checks;
  for (size_t c = 0; c < decode.size(); ++c) {
    if (decode[c]) checks.emplace_back(static_cast<int>(c), ExpectOf(def.columns[c]));
  }

  std::vector<Group> groups;
  std::unordered_map<std::string, uint32_t> index;
  if (plan.group_by.empty()) groups.push_back({{}, std::vector<Accumulator>(nitems)});
  std::string key;
  size_t bytes = 0;
  uint64_t rows = 0;
  bool gave_up = false;
  const size_t max_bytes = GroupedRows::max_bytes();
  Status scanned = ScanVisibleRows(def, ctx, decode, [&](const Value* row) -> Status {
    if ((++rows & 1023) == 0) KALAM_RETURN_IF_ERROR(CheckDeadline(ctx));
    for (const auto& [c, expect] : checks) {
      if (!Fits(expect, row[c])) {
        gave_up = true;
        return Status::FailedPrecondition("the aggregate path gives up");
      }
    }
    Group* g = &groups[0];
    if (!plan.group_by.empty()) {
      key.clear();
      for (int c : plan.group_by) AppendKey(row[c], &key);
      auto it = index.find(key);
      if (it == index.end()) {
        bytes += key.size() * 2 + kGroupOverheadBytes + nitems * sizeof(Accumulator);
        if (bytes > max_bytes) {
          gave_up = true;
          return Status::FailedPrecondition("the aggregate path gives up");
        }
        Group fresh;
        fresh.keys.reserve(plan.group_by.size());
        for (int c : plan.group_by) fresh.keys.push_back(row[c]);
        fresh.accs.resize(nitems);
        groups.push_back(std::move(fresh));
        it = index.emplace(key, static_cast<uint32_t>(groups.size() - 1)).first;
      }
      g = &groups[it->second];
    }
    for (size_t k = 0; k < nitems; ++k) {
      const auto& item = plan.items[k];
      static const Value kNull;
      Step(item.func, item.column >= 0 ? row[item.column] : kNull, g->accs[k]);
    }
    return Status::OK();
  });
  if (gave_up) return std::optional<Rows>();
  KALAM_RETURN_IF_ERROR(scanned);

  // Each group's output row, in SQLite's order of the group values (the grouped scan's order).
  Rows out(groups.size(), std::vector<Value>(nitems));
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    for (size_t k = 0; k < nitems; ++k) {
      const auto& item = plan.items[k];
      if (item.func == Func::kGroupColumn) {
        const size_t g = std::find(plan.group_by.begin(), plan.group_by.end(), item.column) -
                         plan.group_by.begin();
        out[gi][k] = groups[gi].keys[g];
        continue;
      }
      std::optional<Value> v = Finish(item.func, groups[gi].accs[k]);
      if (!v) return std::optional<Rows>();
      out[gi][k] = std::move(*v);
    }
  }
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  auto by_keys = [&](size_t a, size_t b) {
    for (size_t g = 0; g < plan.group_by.size(); ++g) {
      const int c = CompareValues(groups[a].keys[g], groups[b].keys[g]);
      if (c != 0) return c < 0;
    }
    return false;
  };
  auto by_order = [&](size_t a, size_t b) {
    for (const auto& term : plan.order_by) {
      const Value& va = term.item >= 0 ? out[a][term.item] : groups[a].keys[term.group_key];
      const Value& vb = term.item >= 0 ? out[b][term.item] : groups[b].keys[term.group_key];
      const int c = CompareValues(va, vb);
      if (c != 0) return term.desc ? c > 0 : c < 0;
    }
    return false;
  };
  if (plan.order_by.empty()) std::sort(order.begin(), order.end(), by_keys);
  else std::sort(order.begin(), order.end(), by_order);
  if (plan.limit && *plan.limit < order.size()) order.resize(*plan.limit);
  Rows sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(out[i]));
  return std::optional<Rows>(std::move(sorted));
}

std::string DescribeAggregate(const AggregatePlan& plan, const TableDef& def) {
  std::string text = "KalamDB aggregate path over " + def.QualifiedName() +
                     " (one scan into a hash table of groups; SQLite's VM not stepped): ";
  for (size_t k = 0; k < plan.items.size(); ++k) {
    const auto& item = plan.items[k];
    if (k) text += ", ";
    if (item.func == Func::kGroupColumn) {
      text += def.columns[item.column].name;
    } else {
      text += std::string(FuncName(item.func)) + "(" +
              (item.column < 0 ? std::string("*") : def.columns[item.column].name) + ")";
    }
  }
  if (!plan.group_by.empty()) {
    text += "; GROUP BY ";
    for (size_t g = 0; g < plan.group_by.size(); ++g) {
      text += (g ? ", " : "") + def.columns[plan.group_by[g]].name;
    }
  }
  return text;
}

}  // namespace kalam::sql
