// Tests for the typed-operand rewrite: which literals and parameters a statement compares with a
// TIMESTAMP/DATETIME/DATE/TIME/UUID/DECIMAL column, how the column is resolved, and what they
// become.
#include "sql/parser/typed_operands.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sql/parser/rewriter.h"

namespace kalam::sql::parser {
namespace {

// Two tables: `ev` with a column of every typed kind, and `other`, whose `at` is an INT and whose
// `x` is a TIMESTAMP.
const std::map<std::string, std::vector<std::pair<std::string, std::string>>>& Tables() {
  static const std::map<std::string, std::vector<std::pair<std::string, std::string>>> kTables = {
      {"ev",
       {{"id", "INT"}, {"at", "TIMESTAMP"}, {"dt", "DATETIME"}, {"day", "DATE"}, {"t", "TIME"},
        {"u", "UUID"}, {"n", "INT"}, {"p", "DECIMAL(30,4)"}, {"q", "DECIMAL(10,2)"},
        {"name", "TEXT"}}},
      {"other", {{"at", "INT"}, {"x", "TIMESTAMP"}, {"ev_id", "INT"}}},
  };
  return kTables;
}

// Column types live here so that ColumnType::name stays valid.
struct Columns {
  std::vector<std::pair<std::string, DataType>> cols;
};
const Columns& ColumnsOf(const std::string& table) {
  static std::map<std::string, Columns> cache;
  auto it = cache.find(table);
  if (it == cache.end()) {
    Columns c;
    auto t = Tables().find(table);
    if (t != Tables().end()) {
      for (const auto& [name, type] : t->second) c.cols.emplace_back(name, *DataType::Parse(type));
    }
    it = cache.emplace(table, std::move(c)).first;
  }
  return it->second;
}

std::optional<ColumnType> Lookup(const std::string& table, std::string_view column) {
  for (const auto& [name, type] : ColumnsOf(table).cols) {
    if (EqualsIgnoreCase(name, column)) return ColumnType{type, name};
  }
  return std::nullopt;
}

Result<std::string> TryTyped(std::string_view sql, std::vector<OperandRewrite>* out = nullptr) {
  auto statements = SplitStatements(sql);
  if (!statements.ok()) return statements.status();
  const SqlStatement& stmt = (*statements)[0];
  KALAM_ASSIGN_OR_RETURN(DmlAnalysis analysis, AnalyzeDml(stmt));
  RewriteOptions options;
  options.column_type = [&](size_t table, std::string_view column) {
    return Lookup(analysis.tables[table].name, column);
  };
  options.rewritten_operands = out;
  return RewriteDml(stmt, analysis, options);
}

std::string Typed(std::string_view sql) {
  auto out = TryTyped(sql);
  EXPECT_TRUE(out.ok()) << sql << "\n" << out.status().ToString();
  return out.ok() ? *out : "";
}

constexpr const char* k2025 = "1735689600000000";  // 2025-01-01T00:00:00Z in µs

// ---- What is rewritten ----

TEST(TypedOperandsTest, LiteralsUnderOrBecomeTheStoredForm) {
  EXPECT_EQ(Typed("SELECT id FROM ev WHERE at > '2025-01-01' OR n = 99"),
            std::string("SELECT id FROM ev WHERE at > ") + k2025 + " OR n = 99");
  EXPECT_EQ(Typed("SELECT id FROM ev WHERE n = 0 OR at < '2025-01-01T00:00:00Z'"),
            std::string("SELECT id FROM ev WHERE n = 0 OR at < ") + k2025);
  EXPECT_EQ(Typed("SELECT id FROM ev WHERE NOT (at >= '2025-01-01T02:00:00+02:00')"),
            std::string("SELECT id FROM ev WHERE NOT (at >= ") + k2025 + ")");
}

TEST(TypedOperandsTest, EveryComparisonFormAndEitherSide) {
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE '2025-01-01' < at"),
            std::string("SELECT 1 FROM ev WHERE ") + k2025 + " < at");
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE day IN ('2026-01-01', '2026-01-02') "
                  "OR day NOT IN ('1970-01-02')"),
            "SELECT 1 FROM ev WHERE day IN (20454, 20455) OR day NOT IN (1)");
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE t BETWEEN '00:00:01' AND '12:00' "
                  "OR t NOT BETWEEN '01:00' AND '02:00'"),
            "SELECT 1 FROM ev WHERE t BETWEEN 1000000 AND 43200000000 "
            "OR t NOT BETWEEN 3600000000 AND 7200000000");
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE day IS '1970-01-02' OR day IS NOT '1970-01-03' "
                  "OR day IS DISTINCT FROM '1970-01-04' OR day IS NOT DISTINCT FROM '1970-01-05'"),
            "SELECT 1 FROM ev WHERE day IS 1 OR day IS NOT 2 OR day IS DISTINCT FROM 3 "
            "OR day IS NOT DISTINCT FROM 4");
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE day == '1970-01-02' OR day != '1970-01-02' "
                  "OR day <> '1970-01-02' OR day <= '1970-01-02'"),
            "SELECT 1 FROM ev WHERE day == 1 OR day != 1 OR day <> 1 OR day <= 1");
}

TEST(TypedOperandsTest, CaseJoinOnHavingAndSubqueries) {
  EXPECT_EQ(Typed("SELECT CASE WHEN day > '1970-01-02' THEN 'late' END, "
                  "CASE day WHEN '1970-01-02' THEN 'a' WHEN '1970-01-03' THEN 'b' END FROM ev"),
            "SELECT CASE WHEN day > 1 THEN 'late' END, "
            "CASE day WHEN 1 THEN 'a' WHEN 2 THEN 'b' END FROM ev");
  EXPECT_EQ(Typed("SELECT 1 FROM other o JOIN ev e ON e.id = o.ev_id AND e.day < '1970-01-02'"),
            "SELECT 1 FROM other o JOIN ev e ON e.id = o.ev_id AND e.day < 1");
  EXPECT_EQ(Typed("SELECT n FROM ev GROUP BY n HAVING max(day) > '1970-01-02' "
                  "AND MIN(ev.day) < '1970-01-03'"),
            "SELECT n FROM ev GROUP BY n HAVING max(day) > 1 AND MIN(ev.day) < 2");
  EXPECT_EQ(Typed("SELECT 1 FROM other WHERE ev_id IN "
                  "(SELECT id FROM ev WHERE day = '1970-01-02')"),
            "SELECT 1 FROM other WHERE ev_id IN (SELECT id FROM ev WHERE day = 1)");
}

TEST(TypedOperandsTest, UuidsAndDecimals) {
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE u = '0190C9A0-0000-7000-8000-00000000000A' "
                  "OR u = x'0190c9a0000070008000000000000001'"),
            "SELECT 1 FROM ev WHERE u = '0190c9a0-0000-7000-8000-00000000000a' "
            "OR u = '0190c9a0-0000-7000-8000-000000000001'");
  // DECIMAL(30,4) is TEXT compared numerically: the literal becomes decimal text, in the
  // column's scale when it fits and exactly otherwise.
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE p > 20 OR p < '-1.5' OR p = 0.000012"),
            "SELECT 1 FROM ev WHERE p > '20.0000' OR p < '-1.5000' OR p = '0.000012'");
  // DECIMAL(10,2) is REAL: the literal becomes a number, any number of decimals.
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE q > '9.995' OR q = 12"),
            "SELECT 1 FROM ev WHERE q > 9.995 OR q = 12.00");
}

TEST(TypedOperandsTest, ParametersCallTheConversionFunctionAndKeepTheText) {
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE at > $1 OR n = $2 OR u IN ($03, $1)"),
            "SELECT 1 FROM ev WHERE at > kalam_operand(?1, 'TIMESTAMP', 'at') OR n = ?2 "
            "OR u IN (kalam_operand(?3, 'UUID', 'u'), kalam_operand(?1, 'UUID', 'u'))");
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE p >= $1"),
            "SELECT 1 FROM ev WHERE p >= kalam_operand(?1, 'DECIMAL(30,4)', 'p')");
}

TEST(TypedOperandsTest, ConstantsKnownWhenTheStatementRunsAreConvertedThen) {
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE at > datetime('now', '-1 day') OR day = CURRENT_DATE"),
            "SELECT 1 FROM ev WHERE at > kalam_operand(datetime('now', '-1 day'), 'TIMESTAMP', "
            "'at') OR day = kalam_operand(CURRENT_DATE, 'DATE', 'day')");
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE CURRENT_TIMESTAMP < at OR at IN (coalesce($1, NULL))"),
            "SELECT 1 FROM ev WHERE kalam_operand(CURRENT_TIMESTAMP, 'TIMESTAMP', 'at') < at OR "
            "at IN (kalam_operand(coalesce(?1, NULL), 'TIMESTAMP', 'at'))");
  // A call that reads a column is no constant.
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE at > datetime(n, 'unixepoch')"),
            "SELECT 1 FROM ev WHERE at > datetime(n, 'unixepoch')");
}

TEST(TypedOperandsTest, SignedNumbersAndTheirSide) {
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE day > -1 OR -2 < day OR day = +3"),
            "SELECT 1 FROM ev WHERE day > -1 OR -2 < day OR day = 3");
  // `n = day > x` is `n = (day > x)`.
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE n = day > '1970-01-02'"),
            "SELECT 1 FROM ev WHERE n = day > 1");
}

// ---- What is left alone ----

TEST(TypedOperandsTest, OperandsOfTighterOperatorsAreNotComparedWithTheColumn) {
  for (const char* sql : {
           "SELECT 1 FROM ev WHERE at + 1 > '2025-01-01'",
           "SELECT 1 FROM ev WHERE at > '2025-01-01' || ''",
           "SELECT 1 FROM ev WHERE '2025' || '-01-01' < at",
           "SELECT 1 FROM ev WHERE at > '2025-01-01' COLLATE NOCASE",
           "SELECT 1 FROM ev WHERE n - 5 < day",
           "SELECT 1 FROM ev WHERE day = 'x' < n",
           "SELECT 1 FROM ev WHERE name LIKE '2025%' ESCAPE '\\'",
           "SELECT 1 FROM ev WHERE at > ('2025-01-01')",
           "SELECT 1 FROM ev WHERE coalesce(at, 0) > '2025-01-01'",
           "SELECT 1 FROM ev WHERE name = '2025-01-01' AND n > '5'",
       }) {
    EXPECT_EQ(Typed(sql), sql);
  }
}

TEST(TypedOperandsTest, AssignmentsAreNotComparisons) {
  EXPECT_EQ(Typed("UPDATE ev SET day = '1970-01-05', (t, u) = ('x', 'y') "
                  "WHERE day = '1970-01-02' OR day = '1970-01-03'"),
            "UPDATE ev SET day = '1970-01-05', (t, u) = ('x', 'y') WHERE day = 1 OR day = 2");
  EXPECT_EQ(Typed("DELETE FROM ev WHERE day < '1970-01-02' OR n = 1"),
            "DELETE FROM ev WHERE day < 1 OR n = 1");
  EXPECT_EQ(Typed("INSERT INTO ev (id, day) VALUES (1, '1970-01-02')"),
            "INSERT INTO ev(id, day) VALUES (1, '1970-01-02')");
}

// ---- Column resolution ----

TEST(TypedOperandsTest, ColumnsResolveInTheirOwnScopeFirstThenOutward) {
  // `at` is the INT of `other` outside, the TIMESTAMP of `ev` inside the subquery.
  EXPECT_EQ(Typed("SELECT 1 FROM other WHERE at = '5' AND EXISTS "
                  "(SELECT 1 FROM ev WHERE at > '2025-01-01')"),
            std::string("SELECT 1 FROM other WHERE at = '5' AND EXISTS "
                        "(SELECT 1 FROM ev WHERE at > ") + k2025 + ")");
  // A correlated reference to the outer table.
  EXPECT_EQ(Typed("SELECT 1 FROM ev e WHERE EXISTS "
                  "(SELECT 1 FROM other o WHERE o.ev_id = e.id AND e.at > '2025-01-01' "
                  "AND o.at > '5' AND x < '2025-01-01')"),
            std::string("SELECT 1 FROM ev e WHERE EXISTS (SELECT 1 FROM other o WHERE "
                        "o.ev_id = e.id AND e.at > ") + k2025 + " AND o.at > '5' AND x < " +
                k2025 + ")");
  // Each arm of a compound SELECT has its own tables.
  EXPECT_EQ(Typed("SELECT at FROM other WHERE at > '5' UNION SELECT n FROM ev WHERE at > "
                  "'2025-01-01'"),
            std::string("SELECT at FROM other WHERE at > '5' UNION SELECT n FROM ev WHERE at > ") +
                k2025);
  // INSERT … SELECT does not see the INSERT's target.
  EXPECT_EQ(Typed("INSERT INTO other (ev_id) SELECT id FROM ev WHERE x > '2025-01-01'"),
            "INSERT INTO other(ev_id) SELECT id FROM ev WHERE x > '2025-01-01'");
}

TEST(TypedOperandsTest, UnknownOrAmbiguousColumnsAreLeftAlone) {
  for (const char* sql : {
           // `at` is INT in other and TIMESTAMP in ev: ambiguous.
           "SELECT 1 FROM ev, other WHERE at > '2025-01-01'",
           // Columns of subqueries, CTEs and table functions are not known.
           "SELECT 1 FROM (SELECT at FROM ev) s WHERE at > '2025' OR s.at > '2025'",
           "WITH c AS (SELECT n FROM ev) SELECT 1 FROM c WHERE at > '2025'",
           "SELECT 1 FROM json_each('[]') j WHERE at > '2025'",
           // A literal compared with columns of different stored forms.
           "SELECT 1 FROM ev WHERE '1970-01-02' IN (at, day)",
           "SELECT 1 FROM ev WHERE '1970-01-02' IN (day, n)",
           "SELECT 1 FROM ev WHERE 'x' = 'y' OR unknown_col = '1970-01-02'",
       }) {
    EXPECT_EQ(Typed(sql), sql);
  }
  // A literal compared with several columns of one stored form is rewritten.
  EXPECT_EQ(Typed("SELECT 1 FROM ev WHERE '2025-01-01' BETWEEN at AND dt"),
            std::string("SELECT 1 FROM ev WHERE ") + k2025 + " BETWEEN at AND dt");
  // Known tables next to an opaque source still resolve their own columns.
  EXPECT_EQ(Typed("SELECT 1 FROM ev, (SELECT 1 AS k) s WHERE day = '1970-01-02'"),
            "SELECT 1 FROM ev, (SELECT 1 AS k) s WHERE day = 1");
}

// ---- Errors ----

TEST(TypedOperandsTest, ALiteralThatDoesNotConvertIsTheInsertError) {
  auto r = TryTyped("SELECT 1 FROM ev WHERE n = 1 OR at > 'garbage'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTypeMismatch);
  EXPECT_EQ(r.status().message(),
            "Invalid value for column 'at' of type TIMESTAMP: 'garbage' is not a valid timestamp: "
            "expected a date as YYYY-MM-DD (expected ISO-8601 like '2026-05-01T10:00:00Z')");
  r = TryTyped("SELECT 1 FROM ev WHERE p = 'abc'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Invalid value for column 'p' of type DECIMAL(30,4): 'abc' is not a decimal number");
  r = TryTyped("SELECT 1 FROM ev WHERE u IN ('not-a-uuid')");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kTypeMismatch);
}

// ---- Output ----

TEST(TypedOperandsTest, ReportsWhereEachOperandLandsInTheOutput) {
  std::vector<OperandRewrite> ops;
  auto sql = TryTyped("SELECT 1 FROM ev WHERE day > '1970-01-02' OR at < $1", &ops);
  ASSERT_TRUE(sql.ok());
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(sql->substr(ops[0].output_offset, ops[0].output_end - ops[0].output_offset), "1");
  EXPECT_EQ(ops[0].text, "1");
  EXPECT_EQ(sql->substr(ops[1].output_offset, ops[1].output_end - ops[1].output_offset),
            "kalam_operand(?1, 'TIMESTAMP', 'at')");
  EXPECT_EQ(ops[1].call_suffix, ", 'TIMESTAMP', 'at')");
}

TEST(TypedOperandsTest, FindTypedOperandsWorksOnABareExpression) {
  auto tokens = Lex("x.day >= '1970-01-03' OR name = 'a'");
  ASSERT_TRUE(tokens.ok());
  auto ops = FindTypedOperands(
      *tokens, [&](size_t, size_t end) { return Lookup("ev", (*tokens)[end - 1].value); }, {});
  ASSERT_TRUE(ops.ok());
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ((*ops)[0].first_token, 4u);
  EXPECT_EQ((*ops)[0].end_token, 5u);
  EXPECT_EQ((*ops)[0].text, "2");
}

TEST(TypedOperandsTest, ComparisonValueOfADecimalAcceptsAnyNumber) {
  const DataType d102 = *DataType::Parse("DECIMAL(10,2)");
  EXPECT_EQ(*ComparisonValue(d102, Value::Text("9.5"), "q"), Value::Text("9.50"));
  EXPECT_EQ(*ComparisonValue(d102, Value::Text("9.995"), "q"), Value::Text("9.995"));
  EXPECT_EQ(*ComparisonValue(d102, Value::Int(123456789012), "q"), Value::Text("123456789012"));
  EXPECT_EQ(*ComparisonValue(d102, Value::Double(-0.25), "q"), Value::Text("-0.25"));
  EXPECT_FALSE(ComparisonValue(d102, Value::Text("1e"), "q").ok());
}

}  // namespace
}  // namespace kalam::sql::parser
