// Subscription SQL parsing.
#include "live/subscription_query.h"

#include <variant>

#include "sql/parser/splitter.h"

namespace kalam::live {

std::variant<SubscriptionQuery, LiveError> ParseSubscriptionQuery(std::string_view text) {
  auto split = sql::parser::SplitStatements(text);
  if (!split.ok()) return LiveError{"INVALID_SQL", split.status().message()};
  if (split->size() != 1) {
    return LiveError{"INVALID_SQL", "A subscription is exactly one SELECT statement"};
  }
  const sql::parser::SqlStatement& stmt = (*split)[0];
  const auto& t = stmt.tokens;
  if (t.empty() || !t[0].IsWord("SELECT")) {
    if (!t.empty() && t[0].IsWord("WITH")) {
      return LiveError{"UNSUPPORTED", "WITH is not supported in subscriptions"};
    }
    return LiveError{"INVALID_SQL", "A subscription must be SELECT … FROM <namespace>.<table>"};
  }
  static constexpr std::string_view kUnsupported[] = {
      "JOIN", "GROUP", "ORDER", "LIMIT", "UNION", "INTERSECT", "EXCEPT", "HAVING", "WINDOW",
      "OFFSET", "DISTINCT", "WITH"};
  int depth = 0;
  for (const auto& tok : t) {
    if (tok.IsPunct('(')) ++depth;
    if (tok.IsPunct(')') && --depth < 0) {
      return LiveError{"INVALID_SQL", "Unbalanced parentheses in the subscription"};
    }
    if (depth != 0) continue;
    for (auto word : kUnsupported) {
      if (tok.IsWord(word)) {
        return LiveError{"UNSUPPORTED", std::string(word) + " is not supported in subscriptions"};
      }
    }
  }
  if (depth != 0) return LiveError{"INVALID_SQL", "Unbalanced parentheses in the subscription"};
  SubscriptionQuery q;
  q.statement_text = stmt.text;
  size_t i = 1;
  if (i < t.size() && t[i].IsOperator("*")) {
    ++i;
  } else {
    while (i < t.size()) {
      if (!t[i].IsName() || t[i].IsWord("FROM")) {
        return LiveError{"UNSUPPORTED",
                         "Subscriptions select `*` or plain column names, not expressions"};
      }
      q.columns.push_back(t[i].value);
      ++i;
      if (i < t.size() && t[i].IsPunct(',')) {
        ++i;
        continue;
      }
      break;
    }
  }
  if (i >= t.size() || !t[i].IsWord("FROM")) {
    return LiveError{"UNSUPPORTED", "Subscriptions select `*` or plain column names, then FROM"};
  }
  ++i;
  if (i >= t.size() || !t[i].IsName()) {
    return LiveError{"INVALID_SQL", "Expected a table name after FROM"};
  }
  if (i + 2 < t.size() && t[i + 1].IsPunct('.') && t[i + 2].IsName()) {
    q.ns = t[i].value;
    q.table = t[i + 2].value;
    i += 3;
  } else {
    q.table = t[i].value;
    i += 1;
  }
  if (i < t.size() && t[i].IsPunct(',')) {
    return LiveError{"UNSUPPORTED", "Subscriptions read one table (no joins)"};
  }
  if (i < t.size()) {
    if (!t[i].IsWord("WHERE") || i + 1 >= t.size()) {
      return LiveError{"INVALID_SQL", "Expected WHERE <condition> after the table"};
    }
    const size_t begin = t[i + 1].offset;
    q.where_sql = stmt.text.substr(begin);
    q.where_tokens.assign(t.begin() + static_cast<long>(i + 1), t.end());
  }
  return q;
}

}  // namespace kalam::live
