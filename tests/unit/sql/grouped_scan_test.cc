// GROUP BY and DISTINCT served by the virtual table's grouped plans (vtab_module.cc PlanGrouping,
// GroupedRows): the same rows as SQLite's own sorter gives (`+column` keeps SQLite from handing
// the order to the table), with NULLs, numbers of both storage classes, DESC, several columns,
// tombstones, other users' rows and staged rows.
#include <gtest/gtest.h>

#include "sql/sqlite/grouped_rows.h"
#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

class GroupedScanTest : public SqlStackTest {
 protected:
  void SetUp() override {
    SqlStackTest::SetUp();
    Ok("CREATE NAMESPACE shop", root_);
    Ok("CREATE USER TABLE shop.sales (id INT PRIMARY KEY, cat TEXT, qty INT, price DOUBLE, "
       "tag BYTES, big DECIMAL(30, 2), small DECIMAL(10, 2))", root_);
    // alice: 60 rows. cat: 'c<id % 5>' or NULL every 7th; qty: id % 4 or NULL every 9th; price:
    // whole numbers and halves; tag: 2 blobs and NULL; big and small: 0.5, 1.5, 2.5 written
    // as 1.5 and 1.50 in turn. The expected rows were checked with Python's sqlite3 on the same
    // data.
    std::string rows;
    for (int i = 1; i <= 60; ++i) {
      const std::string cat = i % 7 == 0 ? "NULL" : "'c" + std::to_string(i % 5) + "'";
      const std::string qty = i % 9 == 0 ? "NULL" : std::to_string(i % 4);
      const std::string price = i % 2 ? std::to_string(i % 3) : std::to_string(i % 3) + ".5";
      const std::string tag = i % 3 == 0 ? "NULL" : i % 3 == 1 ? "x'01'" : "x'0102'";
      const std::string big = std::to_string(i % 3) + (i % 2 ? ".5" : ".50");
      rows += (i > 1 ? "," : "") + std::string("(") + std::to_string(i) + ", " + cat + ", " +
              qty + ", " + price + ", " + tag + ", " + big + ", " + big + ")";
    }
    Ok("INSERT INTO shop.sales (id, cat, qty, price, tag, big, small) VALUES " + rows, alice_);
    Ok("DELETE FROM shop.sales WHERE id IN (5, 10, 15)", alice_);  // three 'c0' rows
    // bob: rows with alice's ids and a category alice lacks.
    Ok("INSERT INTO shop.sales (id, cat, qty, price) VALUES (1, 'zz', 100, 9), (2, 'c1', 100, 9)",
       bob_);
  }
  std::string Rows(const std::string& sql, const Caller& who) {
    auto r = Ok(sql, who);
    return r.results.empty() ? "<none>" : r.results[0].rows_json;
  }
  // The rows of `sql` with {g} as the plain column (a grouped plan) must equal those with {g} as
  // `+column` (SQLite sorts); returns them.
  std::string Same(const std::string& sql, const std::string& column, const Caller& who) {
    auto fill = [&](const std::string& g) {
      std::string s = sql;
      for (size_t p; (p = s.find("{g}")) != std::string::npos;) s.replace(p, 3, g);
      return s;
    };
    const std::string grouped = Rows(fill(column), who);
    EXPECT_EQ(grouped, Rows(fill("+" + column), who)) << sql << " by " << column;
    return grouped;
  }
};

TEST_F(GroupedScanTest, GroupByTextWithNullsMatchesTheSorter) {
  EXPECT_EQ(Same("SELECT cat, count(*), sum(qty), count(qty) FROM shop.sales GROUP BY {g}", "cat",
                 alice_),
            "[null,\"8\",\"12\",\"8\"],[\"c0\",\"8\",\"8\",\"7\"],[\"c1\",\"10\",\"17\",\"9\"],"
            "[\"c2\",\"10\",\"10\",\"9\"],[\"c3\",\"11\",\"16\",\"10\"],"
            "[\"c4\",\"10\",\"12\",\"8\"]");
  EXPECT_EQ(Same("SELECT cat, count(*) FROM shop.sales GROUP BY {g}", "cat", bob_),
            "[\"c1\",\"1\"],[\"zz\",\"1\"]");
}

TEST_F(GroupedScanTest, NumbersGroupByValueAcrossStorageClasses) {
  // price: 0, 1, 2 (integral reals group with nothing else) and 0.5, 1.5, 2.5.
  EXPECT_EQ(Same("SELECT price, count(*) FROM shop.sales GROUP BY {g}", "price", alice_),
            "[0.0,\"9\"],[0.5,\"10\"],[1.0,\"10\"],[1.5,\"9\"],[2.0,\"9\"],[2.5,\"10\"]");
  EXPECT_EQ(Same("SELECT qty, count(*) FROM shop.sales GROUP BY {g}", "qty", alice_),
            "[null,\"6\"],[0,\"14\"],[1,\"12\"],[2,\"12\"],[3,\"13\"]");
  // A small DECIMAL reads as a real: 1.5 and 1.50 are one group.
  EXPECT_EQ(Same("SELECT small, count(*) FROM shop.sales GROUP BY {g}", "small", alice_),
            "[\"0.50\",\"19\"],[\"1.50\",\"19\"],[\"2.50\",\"19\"]");
}

TEST_F(GroupedScanTest, DescendingSeveralColumnsBlobsAndDistinct) {
  Same("SELECT cat, qty, count(*) FROM shop.sales GROUP BY {g}, qty ORDER BY cat DESC, qty",
       "cat", alice_);
  EXPECT_EQ(Same("SELECT qty, cat, count(*) FROM shop.sales WHERE qty >= 2 GROUP BY qty, {g} "
                 "ORDER BY qty DESC, cat DESC LIMIT 4", "cat", alice_),
            "[3,\"c4\",\"3\"],[3,\"c3\",\"3\"],[3,\"c2\",\"1\"],[3,\"c1\",\"3\"]");
  EXPECT_EQ(Same("SELECT tag, count(*) FROM shop.sales GROUP BY {g}", "tag", alice_),
            "[null,\"19\"],[[1],\"19\"],[[1,2],\"19\"]");
  EXPECT_EQ(Same("SELECT DISTINCT {g} FROM shop.sales ORDER BY 1 DESC", "cat", alice_),
            "[\"c4\"],[\"c3\"],[\"c2\"],[\"c1\"],[\"c0\"],[null]");
  EXPECT_EQ(Same("SELECT count(DISTINCT {g}) FROM shop.sales", "qty", alice_), "[\"4\"]");
  // A large DECIMAL compares under kalam_decimal: SQLite groups it itself (same answer).
  EXPECT_EQ(Same("SELECT big, count(*) FROM shop.sales GROUP BY {g}", "big", alice_),
            "[\"0.50\",\"19\"],[\"1.50\",\"19\"],[\"2.50\",\"19\"]");
}

TEST_F(GroupedScanTest, TombstonesStagedRowsAndJoinsAreGrouped) {
  EXPECT_EQ(Same("SELECT cat, count(*) FROM shop.sales WHERE _deleted = true GROUP BY {g}", "cat",
                 alice_),
            "[\"c0\",\"3\"]");
  // Staged rows of the transaction are grouped with the committed ones.
  auto r = Ok("BEGIN; INSERT INTO shop.sales (id, cat, qty) VALUES (1000, 'c0', 7), "
              "(1001, 'new', 1); DELETE FROM shop.sales WHERE cat = 'c4'; "
              "UPDATE shop.sales SET cat = 'c0' WHERE id = 1; "
              "SELECT cat, count(*), sum(qty) FROM shop.sales GROUP BY cat; "
              "SELECT cat, count(*), sum(qty) FROM shop.sales GROUP BY +cat; ROLLBACK", alice_);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].rows_json,
            "[null,\"8\",\"12\"],[\"c0\",\"10\",\"16\"],[\"c1\",\"9\",\"16\"],"
            "[\"c2\",\"10\",\"10\"],[\"c3\",\"11\",\"16\"],[\"new\",\"1\",\"1\"]");
  EXPECT_EQ(r.results[0].rows_json, r.results[1].rows_json);
  // The grouped table as either side of a join.
  Same("SELECT s.cat, count(*) FROM shop.sales s JOIN shop.sales t ON t.id = s.qty "
       "GROUP BY {g}", "s.cat", alice_);
  Same("SELECT t.cat, count(*) FROM shop.sales s JOIN shop.sales t ON t.qty = s.id "
       "GROUP BY {g}", "t.cat", alice_);
  // An INSERT … SELECT … GROUP BY reads grouped rows too.
  Ok("CREATE USER TABLE shop.totals (cat TEXT PRIMARY KEY, n BIGINT)", root_);
  Ok("INSERT INTO shop.totals (cat, n) SELECT cat, count(*) FROM shop.sales WHERE cat IS NOT NULL "
     "GROUP BY cat", alice_);
  EXPECT_EQ(Rows("SELECT cat, n FROM shop.totals", alice_),
            "[\"c0\",\"8\"],[\"c1\",\"10\"],[\"c2\",\"10\"],[\"c3\",\"11\"],[\"c4\",\"10\"]");
}

// Sets GroupedRows' memory limit for one test.
class MemoryLimit {
 public:
  explicit MemoryLimit(size_t bytes) : saved_(GroupedRows::max_bytes()) {
    GroupedRows::set_max_bytes(bytes);
  }
  ~MemoryLimit() { GroupedRows::set_max_bytes(saved_); }

 private:
  size_t saved_;
};

TEST_F(GroupedScanTest, RowsBeyondTheMemoryLimitAreReadAgainInOrder) {
  // A few groups' rows at a time (alice's 57 rows take ~3,800 bytes held by cat and id): the
  // source is read again for the groups after them.
  const MemoryLimit limit(1500);
  EXPECT_EQ(Same("SELECT cat, count(*), sum(qty), count(qty) FROM shop.sales GROUP BY {g}", "cat",
                 alice_),
            "[null,\"8\",\"12\",\"8\"],[\"c0\",\"8\",\"8\",\"7\"],[\"c1\",\"10\",\"17\",\"9\"],"
            "[\"c2\",\"10\",\"10\",\"9\"],[\"c3\",\"11\",\"16\",\"10\"],"
            "[\"c4\",\"10\",\"12\",\"8\"]");
  EXPECT_EQ(Same("SELECT qty, cat, count(*) FROM shop.sales WHERE qty >= 2 GROUP BY qty, {g} "
                 "ORDER BY qty DESC, cat DESC LIMIT 4", "cat", alice_),
            "[3,\"c4\",\"3\"],[3,\"c3\",\"3\"],[3,\"c2\",\"1\"],[3,\"c1\",\"3\"]");
  Same("SELECT id, count(*) FROM shop.sales GROUP BY {g}", "id", alice_);
  Same("SELECT price, qty, min(id), count(*) FROM shop.sales GROUP BY {g}, qty ORDER BY price DESC",
       "price", alice_);
  EXPECT_EQ(Same("SELECT DISTINCT {g} FROM shop.sales ORDER BY 1 DESC", "cat", alice_),
            "[\"c4\"],[\"c3\"],[\"c2\"],[\"c1\"],[\"c0\"],[null]");
  // With staged rows of the transaction, read again as well.
  auto r = Ok("BEGIN; INSERT INTO shop.sales (id, cat, qty) VALUES (1000, 'c0', 7), "
              "(1001, 'new', 1); DELETE FROM shop.sales WHERE cat = 'c4'; "
              "SELECT cat, count(*), sum(qty) FROM shop.sales GROUP BY cat; "
              "SELECT cat, count(*), sum(qty) FROM shop.sales GROUP BY +cat; ROLLBACK", alice_);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].rows_json, r.results[1].rows_json);
}

TEST_F(GroupedScanTest, OneGroupLargerThanTheMemoryLimitFailsTheStatement) {
  // Group 'c3' (11 rows, cat and id held: ~700 bytes) alone is over the limit.
  const MemoryLimit limit(600);
  auto r = Run("SELECT cat, count(*) FROM shop.sales GROUP BY cat", alice_);
  EXPECT_EQ(r.error.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.error.message(),
            "Statement 1 failed: Invalid operation: One group of a GROUP BY or DISTINCT over "
            "table 'shop.sales' holds more than 600 bytes of rows; group by more columns or "
            "narrow the query with WHERE");
  // Small groups still pass.
  Same("SELECT id, count(*) FROM shop.sales GROUP BY {g}", "id", alice_);
}

TEST_F(GroupedScanTest, TextsAndBlobsOfEveryLengthHeldWithinAndBeyondTheLimit) {
  // Held rows keep text and blob bytes in one buffer (re-packed when groups are dropped) and hash
  // them 8 bytes at a time: lengths 0–21 (texts sharing prefixes) and 0–11, NULLs, other rows.
  Ok("CREATE USER TABLE shop.words (id INT PRIMARY KEY, w TEXT, b BYTES, n INT)", root_);
  const std::string letters = "abcdefghijklmnopqrstu";
  std::string rows;
  for (int i = 1; i <= 88; ++i) {
    const std::string w = i % 10 == 0 ? "NULL" : "'" + letters.substr(0, i % 22) + "'";
    std::string b = i % 9 == 0 ? "NULL" : "x'";
    if (i % 9 != 0) {
      for (int k = 0; k < i % 12; ++k) b += "0" + std::to_string(k % 10);
      b += "'";
    }
    rows += (i > 1 ? "," : "") + std::string("(") + std::to_string(i) + ", " + w + ", " + b +
            ", " + std::to_string(i % 5) + ")";
  }
  Ok("INSERT INTO shop.words (id, w, b, n) VALUES " + rows, alice_);
  Ok("INSERT INTO shop.words (id, w, n) VALUES (1, 'abcdefghij', 100)", bob_);
  const std::string by_w = Same(
      "SELECT w, count(*), sum(n), length(min(b)) FROM shop.words GROUP BY {g}", "w", alice_);
  // Checked with Python's sqlite3 on the same rows.
  EXPECT_TRUE(by_w.starts_with(
      "[null,\"8\",\"0\",\"0\"],[\"\",\"4\",\"10\",\"4\"],[\"a\",\"4\",\"6\",\"1\"],"
      "[\"ab\",\"4\",\"10\",\"0\"],")) << by_w;
  const std::string by_b = Same(
      "SELECT b, count(*), max(w), sum(n) FROM shop.words GROUP BY {g}", "b", alice_);
  EXPECT_TRUE(by_b.starts_with("[null,\"9\",\"abcdefghijklmnopqrs\",\"20\"],"
                               "[[],\"5\",\"abcdefghijklmnopqr\",\"13\"],"
                               "[[0],\"8\",\"abcdefghijklmnopqrs\",\"14\"],")) << by_b;
  {
    // ~8,800 bytes of rows; the largest group (NULL w, 8 rows) takes ~900.
    const MemoryLimit limit(1200);
    EXPECT_EQ(Same("SELECT w, count(*), sum(n), length(min(b)) FROM shop.words GROUP BY {g}", "w",
                   alice_),
              by_w);
    EXPECT_EQ(Same("SELECT b, count(*), max(w), sum(n) FROM shop.words GROUP BY {g}", "b",
                   alice_),
              by_b);
  }
}

TEST_F(GroupedScanTest, ExplainShowsTheGroupedOrderAndNoSort) {
  const std::string grouped =
      Rows("EXPLAIN SELECT cat, qty, count(*) FROM shop.sales GROUP BY cat, qty", alice_);
  EXPECT_NE(grouped.find("order: cat ascending, qty ascending (the scan's rows grouped in memory "
                         "for GROUP BY / DISTINCT, no SQLite sort)"),
            std::string::npos) << grouped;
  EXPECT_EQ(grouped.find("USE TEMP B-TREE"), std::string::npos) << grouped;
  const std::string sorted =
      Rows("EXPLAIN SELECT cat, count(*) FROM shop.sales GROUP BY +cat", alice_);
  EXPECT_NE(sorted.find("USE TEMP B-TREE FOR GROUP BY"), std::string::npos) << sorted;
  EXPECT_NE(sorted.find("order: id ascending"), std::string::npos) << sorted;
}

}  // namespace
}  // namespace kalam::sql
