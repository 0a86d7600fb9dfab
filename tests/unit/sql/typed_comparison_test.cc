// Typed comparisons after the statement rewrite: a key comparison with a converted literal or a
// kalam_operand(…) parameter is still a key lookup or range for the `kalam` table, a parametrized
// typed query is one cached statement, and text compared under another collation never narrows
// the scan.
#include <sqlite3.h>

#include <string>
#include <unordered_set>

#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

class TypedComparisonTest : public SqlStackTest {
 protected:
  void SetUp() override {
    SqlStackTest::SetUp();
    Ok("CREATE NAMESPACE chat", root_);
    Ok("CREATE SHARED TABLE chat.ev (at TIMESTAMP PRIMARY KEY, n INT)", root_);
    Ok("CREATE SHARED TABLE chat.ids (id UUID PRIMARY KEY, name TEXT)", root_);
  }

  // SQLite's plan of `sql` (`{t}` standing for chat.`table`'s virtual table) on a pooled
  // connection: the `kalam` table's choice shows as
  // "VIRTUAL TABLE INDEX <flags>:<column:op,…>u<colUsed hex>".
  std::string Plan(const std::string& table, const std::string& sql) {
    auto conn = pool_->Acquire();
    auto name = conn->EnsureRegistered(catalog_->snapshot()->FindTable("chat", table));
    EXPECT_TRUE(name.ok()) << name.status().ToString();
    std::string text = "EXPLAIN QUERY PLAN " + sql;
    text.replace(text.find("{t}"), 3, *name + " AS " + table);
    std::unordered_set<std::string> allowed{*name};
    conn->set_allowed_tables(&allowed);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(conn->db(), text.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(conn->db());
    std::string detail;
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      detail += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3));
    }
    sqlite3_finalize(stmt);
    conn->set_allowed_tables(nullptr);
    return detail;
  }
};

// idxStr entries are "column:op," with SQLite's SQLITE_INDEX_CONSTRAINT_* codes.
constexpr const char* kPkEq = "0:2,";
// Every statement here reads the table's two columns.
constexpr const char* kBothColumns = "u3";
constexpr const char* kPkGt = "0:4,";
constexpr const char* kPkLe = "0:8,";

TEST_F(TypedComparisonTest, KeyComparisonsWithRewrittenOperandsStayKeyLookups) {
  EXPECT_EQ(Plan("ev", "SELECT n FROM {t} WHERE at = 1735689600000000"),
            std::string("SCAN ev VIRTUAL TABLE INDEX 0:") + kPkEq + kBothColumns);
  EXPECT_EQ(Plan("ev", "SELECT n FROM {t} WHERE at = kalam_operand(?1, 'TIMESTAMP', 'at')"),
            std::string("SCAN ev VIRTUAL TABLE INDEX 0:") + kPkEq + kBothColumns);
  const std::string range = Plan("ev",
                                 "SELECT n FROM {t} WHERE at > kalam_operand(?1, 'TIMESTAMP', "
                                 "'at') AND at <= kalam_operand(?2, 'TIMESTAMP', 'at')");
  EXPECT_NE(range.find(kPkGt), std::string::npos) << range;
  EXPECT_NE(range.find(kPkLe), std::string::npos) << range;
  EXPECT_EQ(Plan("ids", "SELECT name FROM {t} WHERE id = kalam_operand(?1, 'UUID', 'id')"),
            std::string("SCAN ids VIRTUAL TABLE INDEX 0:") + kPkEq + kBothColumns);
}

TEST_F(TypedComparisonTest, TextUnderAnotherCollationIsNotTakenByTheTable) {
  EXPECT_EQ(Plan("ids", "SELECT id FROM {t} WHERE name = 'A' COLLATE NOCASE"),
            std::string("SCAN ids VIRTUAL TABLE INDEX 0:") + kBothColumns);
  EXPECT_EQ(Plan("ids", "SELECT id FROM {t} WHERE name = 'A'"),
            std::string("SCAN ids VIRTUAL TABLE INDEX 0:1:2,") + kBothColumns);
}

TEST_F(TypedComparisonTest, ParametrizedTypedKeyLookupFindsTheRowAndIsOneCachedStatement) {
  Ok("INSERT INTO chat.ev (at, n) VALUES ('2025-01-01T00:00:00Z', 1), ('2030-01-01', 2)", root_);
  const std::string sql = "SELECT n FROM chat.ev WHERE at = $1 OR n = 99";
  EXPECT_EQ(Ok(sql, root_, {Value::Text("2030-01-01T00:00:00Z")}).results[0].rows_json, "[2]");
  auto& stats = StatementCacheStats::Global();
  const uint64_t misses = stats.misses.load();
  for (const char* at : {"2025-01-01", "2025-01-01T01:00:00+01:00", "2030-01-01 00:00:00"}) {
    EXPECT_EQ(Ok(sql, root_, {Value::Text(at)}).results[0].rows_json,
              std::string(at).starts_with("2030") ? "[2]" : "[1]")
        << at;
  }
  // Pool of 2 connections: the statement may be prepared once more on the other one.
  EXPECT_LE(stats.misses.load() - misses, 1u);
}

TEST_F(TypedComparisonTest, AParameterThatDoesNotConvertIsAParameterError) {
  auto r = Run("SELECT n FROM chat.ev WHERE n = 1 OR at < $1", root_, {Value::Text("soon")});
  EXPECT_EQ(r.error.code(), StatusCode::kInvalidParameter);
  EXPECT_EQ(r.error.message().rfind("Invalid value for column 'at' of type TIMESTAMP: 'soon'", 0),
            0u)
      << r.error.message();
}

}  // namespace
}  // namespace kalam::sql
