// The aggregate path (sql/fast_aggregate.h) against SQLite: random tables (NULLs, integers near
// the int64 limits, reals, deleted and updated rows, other users' rows, staged rows of a
// transaction, empty tables) × random qualifying statements, run with the path on and off, must
// give byte-identical results (rows, schema, errors); statements it must not take run through
// SQLite (EXPLAIN shows no aggregate_path row).
#include <gtest/gtest.h>

#include <random>

#include "sql/fast_aggregate.h"
#include "sql/sqlite/grouped_rows.h"
#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

// Turns the path off for one scope.
class PathOff {
 public:
  PathOff() { SetAggregatePathEnabled(false); }
  ~PathOff() { SetAggregatePathEnabled(true); }
};

class FastAggregateTest : public SqlStackTest {
 protected:
  // The whole outcome of `sql`: error, or every result's schema and rows.
  std::string Outcome(const std::string& sql, const Caller& who) {
    auto r = Run(sql, who);
    if (!r.error.ok()) return "error: " + r.error.ToString();
    std::string out;
    for (const auto& res : r.results) {
      for (const auto& c : res.schema) {
        out += c.name + ":" + c.data_type_json + ":" + std::to_string(c.flags.size()) + " ";
      }
      out += "| " + res.rows_json + (res.truncated ? " (truncated)" : "") + "\n";
    }
    return out;
  }
  // The outcome with the path on, after checking it equals the outcome with it off.
  std::string Same(const std::string& sql, const Caller& who) {
    std::string off;
    {
      PathOff p;
      off = Outcome(sql, who);
    }
    const std::string on = Outcome(sql, who);
    EXPECT_EQ(on, off) << sql;
    return on;
  }
  bool TakesPath(const std::string& select, const Caller& who) {
    auto r = Ok("EXPLAIN " + select, who);
    return !r.results.empty() &&
           r.results[0].rows_json.find("\"aggregate_path\"") != std::string::npos;
  }
};

TEST_F(FastAggregateTest, ExactValuesTypesAndNames) {
  Ok("CREATE NAMESPACE shop", root_);
  Ok("CREATE USER TABLE shop.s (id INT PRIMARY KEY, cat TEXT, n BIGINT, x DOUBLE)", root_);
  Ok("INSERT INTO shop.s (id, cat, n, x) VALUES (1, 'b', 2, 0.5), (2, 'a', 3, NULL), "
     "(3, 'b', NULL, 1.5), (4, NULL, 7, 2), (5, 'a', -1, -0.25)", alice_);
  Ok("INSERT INTO shop.s (id, cat, n, x) VALUES (1, 'zz', 100, 9)", bob_);
  const std::string sql =
      "SELECT cat, COUNT(*), count(n), Sum(n), AVG(n), SUM(x), min(x), MAX(n) FROM shop.s "
      "GROUP BY cat";
  EXPECT_TRUE(TakesPath(sql, alice_));
  EXPECT_EQ(Same(sql, alice_),
            "cat:\"Text\":0 COUNT(*):\"BigInt\":0 count(n):\"BigInt\":0 Sum(n):\"BigInt\":0 "
            "AVG(n):\"Double\":0 SUM(x):\"Double\":0 min(x):\"Double\":0 MAX(n):\"BigInt\":0 "
            "| [null,\"1\",\"1\",\"7\",7.0,2.0,2.0,\"7\"],"
            "[\"a\",\"2\",\"2\",\"2\",1.0,-0.25,-0.25,\"3\"],"
            "[\"b\",\"2\",\"1\",\"2\",2.0,2.0,0.5,\"2\"]\n");
  // No rows: one row of COUNT 0 and NULLs without GROUP BY, no rows with it.
  EXPECT_EQ(Same("SELECT COUNT(*), SUM(n), AVG(x), MIN(n) FROM shop.s", root_),
            "COUNT(*):\"BigInt\":0 SUM(n):\"Text\":0 AVG(x):\"Text\":0 MIN(n):\"Text\":0 "
            "| [\"0\",null,null,null]\n");
  EXPECT_EQ(Same("SELECT cat, COUNT(*) FROM shop.s GROUP BY cat", root_),
            "cat:\"Text\":0 COUNT(*):\"Text\":0 | \n");
  // ORDER BY an aggregate, ties broken by the group column; LIMIT.
  EXPECT_EQ(Same("SELECT cat, SUM(x) FROM shop.s GROUP BY cat ORDER BY 2 DESC, cat LIMIT 2",
                 alice_),
            "cat:\"Text\":0 SUM(x):\"Double\":0 | [null,2.0],[\"b\",2.0]\n");
  // A SUM past the int64 range is SQLite's error (the path hands the statement to SQLite).
  Ok("INSERT INTO shop.s (id, cat, n) VALUES (10, 'big', 9223372036854775807), "
     "(11, 'big', 1)", alice_);
  EXPECT_EQ(Same("SELECT cat, SUM(n) FROM shop.s GROUP BY cat", alice_),
            "error: " + Run("SELECT cat, SUM(n) FROM shop.s GROUP BY cat", alice_).error.ToString());
  EXPECT_NE(Run("SELECT cat, SUM(n) FROM shop.s GROUP BY cat", alice_)
                .error.message()
                .find("integer overflow"),
            std::string::npos);
  // AVG of the same values is a real, no error.
  Same("SELECT cat, AVG(n) FROM shop.s GROUP BY cat", alice_);
}

TEST_F(FastAggregateTest, StatementsThePathDoesNotTakeRunThroughSqlite) {
  Ok("CREATE NAMESPACE shop", root_);
  Ok("CREATE USER TABLE shop.s (id INT PRIMARY KEY, cat TEXT, n BIGINT, x DOUBLE, "
     "d DECIMAL(30, 2), ts TIMESTAMP)", root_);
  Ok("CREATE STREAM TABLE shop.ev (n BIGINT) WITH (TTL_SECONDS = 100)", root_);
  Ok("INSERT INTO shop.s (id, cat, n, x) VALUES (1, 'b', 2, 0.5), (2, 'a', 3, NULL)", alice_);
  EXPECT_TRUE(TakesPath("SELECT cat, COUNT(*) FROM shop.s GROUP BY cat", alice_));
  EXPECT_TRUE(TakesPath("SELECT COUNT(*), AVG(x) FROM shop.s", alice_));
  EXPECT_TRUE(TakesPath("SELECT n, cat, MAX(x) FROM shop.s GROUP BY cat, n ORDER BY cat DESC, 1 "
                        "LIMIT 5", alice_));
  for (const char* sql : {
           "SELECT cat, COUNT(*) FROM shop.s WHERE n > 1 GROUP BY cat",
           "SELECT cat, COUNT(*) FROM shop.s GROUP BY cat HAVING COUNT(*) > 1",
           "SELECT DISTINCT cat FROM shop.s",
           "SELECT cat, COUNT(*) AS c FROM shop.s GROUP BY cat",
           "SELECT cat, SUM(n + 1) FROM shop.s GROUP BY cat",
           "SELECT s.cat, COUNT(*) FROM shop.s GROUP BY s.cat",
           "SELECT cat, COUNT(*) FROM shop.s s GROUP BY cat",
           "SELECT x, COUNT(*) FROM shop.s GROUP BY x",
           "SELECT cat, n, COUNT(*) FROM shop.s GROUP BY cat, n ORDER BY cat",
           "SELECT cat, COUNT(*) FROM shop.s GROUP BY cat ORDER BY COUNT(*) DESC",
           "SELECT cat, COUNT(DISTINCT n) FROM shop.s GROUP BY cat",
           "SELECT cat, COUNT(*) FROM shop.s GROUP BY cat LIMIT 1 OFFSET 1",
           "SELECT cat, COUNT(*) FROM shop.s GROUP BY cat LIMIT $1",
           "SELECT cat, SUM(cat) FROM shop.s GROUP BY cat",
           "SELECT SUM(d), AVG(ts) FROM shop.s",
           "SELECT cat, COUNT(*) FROM shop.s GROUP BY +cat",
           "SELECT cat, COUNT(*) FROM shop.s GROUP BY cat COLLATE NOCASE",
           "SELECT cat, total(n) FROM shop.s GROUP BY cat",
           "SELECT n FROM shop.s",
           "SELECT COUNT(*) FROM shop.s a JOIN shop.s b ON a.id = b.id",
           "SELECT COUNT(*) FROM (SELECT * FROM shop.s)",
           "SELECT COUNT(*) FROM shop.ev",
           "SELECT COUNT(*) FROM system.users",
       }) {
    auto r = Run(std::string("EXPLAIN ") + sql, alice_);
    if (!r.error.ok()) continue;  // not a statement alice may explain: never the path either
    ASSERT_FALSE(r.results.empty()) << sql;
    EXPECT_EQ(r.results[0].rows_json.find("\"aggregate_path\""), std::string::npos) << sql;
  }
  // The aggregate_path row names what the path computes.
  auto r = Ok("EXPLAIN SELECT cat, COUNT(*), SUM(n) FROM shop.s GROUP BY cat", alice_);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_NE(r.results[0].rows_json.find(
                "[\"aggregate_path\",\"KalamDB aggregate path over shop.s (one scan into a hash "
                "table of groups; SQLite's VM not stepped): cat, COUNT(*), SUM(n); GROUP BY "
                "cat\"]"),
            std::string::npos)
      << r.results[0].rows_json;
}

TEST_F(FastAggregateTest, GroupsBeyondTheMemoryLimitAreLeftToSqlite) {
  Ok("CREATE NAMESPACE shop", root_);
  Ok("CREATE USER TABLE shop.s (id INT PRIMARY KEY, n BIGINT)", root_);
  std::string rows;
  for (int i = 0; i < 40; ++i) rows += (i ? ", (" : "(") + std::to_string(i) + ", " +
                                       std::to_string(i % 3) + ")";
  Ok("INSERT INTO shop.s (id, n) VALUES " + rows, alice_);
  const std::string sql = "SELECT id, COUNT(*), SUM(n) FROM shop.s GROUP BY id LIMIT 3";
  const std::string want =
      "id:\"Int\":3 COUNT(*):\"BigInt\":0 SUM(n):\"BigInt\":0 "
      "| [0,\"1\",\"0\"],[1,\"1\",\"1\"],[2,\"1\",\"2\"]\n";
  EXPECT_EQ(Same(sql, alice_), want);
  // 40 groups take more than 1,000 bytes: the path gives up, SQLite (and its grouped scan,
  // reading its source again in parts) answers the same.
  const size_t saved = GroupedRows::max_bytes();
  GroupedRows::set_max_bytes(1000);
  EXPECT_EQ(Same(sql, alice_), want);
  GroupedRows::set_max_bytes(saved);
}

// ---- random differential ------------------------------------------------------------------------

struct Gen {
  std::mt19937_64 rng;
  explicit Gen(uint64_t seed) : rng(seed) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  bool Chance(int percent) { return Int(0, 99) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[static_cast<size_t>(Int(0, static_cast<int>(v.size()) - 1))]; }

  std::string BigValue() {
    if (Chance(15)) return "NULL";
    switch (Int(0, 4)) {
      case 0: return std::to_string(Int(-50, 50));
      case 1: return "9223372036854775807";
      case 2: return "-9223372036854775808";
      case 3: return std::to_string(4611686018427387904LL + Int(-3, 3));
      default: return std::to_string(static_cast<int64_t>(rng() >> 2) * (Chance(50) ? 1 : -1));
    }
  }
  std::string RealValue() {
    if (Chance(15)) return "NULL";
    switch (Int(0, 5)) {
      case 0: return std::to_string(Int(-20, 20)) + ".25";
      case 1: return "-0.0";
      case 2: return Chance(50) ? "1e308" : "-1e308";
      case 3: return "0.1";
      case 4: return std::to_string(Int(-1000, 1000));
      default: {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g",
                      std::uniform_real_distribution<double>(-1e6, 1e6)(rng));
        return buf;
      }
    }
  }
  std::string Row(int id) {
    static const std::vector<std::string> texts = {"NULL", "'a'", "'B'", "'b'", "''", "'ä'",
                                                   "'a '", "'zz'"};
    const std::string g = Chance(10) ? "NULL" : std::to_string(Int(-2, 3));
    const std::string f = Chance(15) ? "NULL" : std::to_string(Int(-100, 100)) + ".5";
    const std::string si = Chance(10) ? "NULL" : std::to_string(Int(-32768, 32767) / 1000);
    return "(" + std::to_string(id) + ", " + g + ", " + Pick(texts) + ", " + BigValue() + ", " +
           RealValue() + ", " + si + ", " + f + ")";
  }
  // A statement the path takes (or gives up on at run time).
  std::string Statement(const std::string& table) {
    static const std::vector<std::string> group_cols = {"g", "s", "si"};
    static const std::vector<std::string> agg_cols = {"i", "r", "si", "f", "g"};
    static const std::vector<std::string> funcs = {"COUNT", "count", "SUM", "sum", "AVG",
                                                   "Avg", "MIN", "max", "MAX"};
    std::vector<std::string> groups;
    for (const auto& c : group_cols) {
      if (Chance(40)) groups.push_back(c);
    }
    if (Chance(20) && !groups.empty()) std::swap(groups.front(), groups.back());
    std::vector<std::string> items;
    for (const auto& c : groups) {
      if (Chance(70)) items.push_back(c);
    }
    const int naggs = Int(items.empty() ? 1 : 0, 4);
    for (int k = 0; k < naggs; ++k) {
      items.push_back(Chance(15) ? "COUNT(*)" : Pick(funcs) + "(" + Pick(agg_cols) + ")");
    }
    std::shuffle(items.begin(), items.end(), rng);
    std::string sql = "SELECT ";
    for (size_t k = 0; k < items.size(); ++k) sql += (k ? ", " : "") + items[k];
    sql += " FROM " + table;
    if (!groups.empty()) {
      sql += " GROUP BY ";
      for (size_t k = 0; k < groups.size(); ++k) sql += (k ? ", " : "") + groups[k];
    }
    if (Chance(40)) {
      std::vector<std::string> terms;
      if (Chance(50)) terms.push_back(std::to_string(Int(1, static_cast<int>(items.size()))));
      for (const auto& c : groups) terms.push_back(c);
      std::shuffle(terms.begin(), terms.end(), rng);
      if (!terms.empty()) {
        sql += " ORDER BY ";
        for (size_t k = 0; k < terms.size(); ++k) {
          sql += (k ? ", " : "") + terms[k] + (Chance(40) ? " DESC" : Chance(30) ? " ASC" : "");
        }
      }
    }
    if (Chance(25)) sql += " LIMIT " + std::to_string(Int(0, 6));
    return sql;
  }
};

TEST_F(FastAggregateTest, RandomTablesAndStatementsMatchSqlite) {
  Ok("CREATE NAMESPACE d", root_);
  int statements = 0, taken = 0;
  for (uint64_t seed = 1; seed <= 14; ++seed) {
    Gen gen(seed);
    const bool shared = seed % 3 == 0;
    const std::string table = "d.t" + std::to_string(seed);
    Ok("CREATE " + std::string(shared ? "SHARED" : "USER") + " TABLE " + table +
       " (id BIGINT PRIMARY KEY, g INT, s TEXT, i BIGINT, r DOUBLE, si SMALLINT, f FLOAT)",
       root_);
    const Caller& writer = shared ? root_ : alice_;  // alice may not read a SHARED table
    const int nrows = seed % 5 == 0 ? 0 : gen.Int(1, 150);
    std::string values;
    for (int id = 0; id < nrows; ++id) values += (id ? "," : "") + gen.Row(id);
    const std::string cols = " (id, g, s, i, r, si, f) VALUES ";
    if (nrows > 0) {
      Ok("INSERT INTO " + table + cols + values, writer);
      // Deleted and updated rows.
      Ok("DELETE FROM " + table + " WHERE id % 7 = 3", writer);
      Ok("UPDATE " + table + " SET g = g + 1, i = 5, r = 2.5 WHERE id % 5 = 1", writer);
      if (!shared) {  // bob's rows are not alice's
        std::string bobs;
        for (int id = 0; id < 20; ++id) bobs += (id ? "," : "") + gen.Row(id);
        Ok("INSERT INTO " + table + cols + bobs, bob_);
      }
    }
    for (int q = 0; q < 40; ++q) {
      const std::string sql = gen.Statement(table);
      ++statements;
      if (TakesPath(sql, writer)) ++taken;
      else ADD_FAILURE() << "not taken: " << sql;
      Same(sql, writer);
      if (q % 4 == 0 && !shared) Same(sql, bob_);
      if (q % 5 == 0) {
        // Staged rows of a transaction: inserted, updated, deleted.
        Same("BEGIN; INSERT INTO " + table + cols + gen.Row(1000) + ", " + gen.Row(1001) +
                 "; UPDATE " + table + " SET s = 'b', i = -9223372036854775807 WHERE id % 3 = 0; "
                 "DELETE FROM " + table + " WHERE id % 4 = 1; " + sql + "; ROLLBACK",
             writer);
      }
    }
  }
  EXPECT_EQ(taken, statements);
  EXPECT_EQ(statements, 14 * 40);
}

}  // namespace
}  // namespace kalam::sql
