// Joins and IN lists served by the virtual table's per-cursor ProbeIndex (vtab_module.cc): the
// same rows as a scan gives (`+column` keeps SQLite from pushing the equality down), with NULLs,
// tombstones, other users' rows, staged rows and mixed operand types.
#include <gtest/gtest.h>

#include <algorithm>

#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

class JoinProbeTest : public SqlStackTest {
 protected:
  void SetUp() override {
    SqlStackTest::SetUp();
    Ok("CREATE NAMESPACE shop", root_);
    Ok("CREATE USER TABLE shop.customers (id INT PRIMARY KEY, code TEXT, region TEXT)", root_);
    Ok("CREATE USER TABLE shop.orders (id INT PRIMARY KEY, customer_id INT, code TEXT, "
       "amount INT)", root_);
    // alice: customers 1..40 (region r<id % 4>, code 'c<id>'); orders 1..80 for customer
    // id % 40 + 1, order 7 without a customer, order 9 deleted.
    std::string customers, orders;
    for (int i = 1; i <= 40; ++i) {
      customers += (i > 1 ? "," : "") + std::string("(") + std::to_string(i) + ", 'c" +
                   std::to_string(i) + "', 'r" + std::to_string(i % 4) + "')";
    }
    for (int i = 1; i <= 80; ++i) {
      const int c = i % 40 + 1;
      orders += (i > 1 ? "," : "") + std::string("(") + std::to_string(i) + ", " +
                (i == 7 ? "NULL" : std::to_string(c)) + ", 'c" + std::to_string(c) + "', " +
                std::to_string(i * 10) + ")";
    }
    Ok("INSERT INTO shop.customers (id, code, region) VALUES " + customers, alice_);
    Ok("INSERT INTO shop.orders (id, customer_id, code, amount) VALUES " + orders, alice_);
    Ok("DELETE FROM shop.orders WHERE id = 9", alice_);
    // bob: one customer and order with alice's ids.
    Ok("INSERT INTO shop.customers (id, code, region) VALUES (2, 'c2', 'r2')", bob_);
    Ok("INSERT INTO shop.orders (id, customer_id, code, amount) VALUES (500, 2, 'c2', 1)", bob_);
  }
  std::string Rows(const std::string& sql, const Caller& who) {
    auto r = Ok(sql, who);
    return r.results.empty() ? "<none>" : r.results[0].rows_json;
  }
};

TEST_F(JoinProbeTest, InSubqueryOnANonKeyColumn) {
  const std::string probed = Rows(
      "SELECT id, amount FROM shop.orders WHERE customer_id IN "
      "(SELECT id FROM shop.customers WHERE region = 'r2') ORDER BY id LIMIT 1000", alice_);
  // Customers 2, 6, …, 38 (id % 4 = 2) ← orders with i % 40 + 1 among them: i % 40 ∈ {1, 5, …},
  // order 9 deleted.
  EXPECT_EQ(probed,
            "[1,10],[5,50],[13,130],[17,170],[21,210],[25,250],[29,290],[33,330],[37,370],"
            "[41,410],[45,450],[49,490],[53,530],[57,570],[61,610],[65,650],[69,690],[73,730],"
            "[77,770]");
  EXPECT_EQ(probed, Rows("SELECT id, amount FROM shop.orders WHERE +customer_id IN "
                         "(SELECT id FROM shop.customers WHERE region = 'r2') ORDER BY id "
                         "LIMIT 1000", alice_));
  EXPECT_EQ(Rows("SELECT id FROM shop.orders WHERE customer_id IN "
                 "(SELECT id FROM shop.customers WHERE region = 'r2') LIMIT 1000", bob_),
            "[500]");
}

TEST_F(JoinProbeTest, EquiJoinsMatchAScanBothWays) {
  // Rows: 80 orders less the deleted one and the one without a customer; by code, order 7 joins
  // too; LEFT: every customer has an order.
  const std::pair<const char*, long> kJoins[] = {
      // orders probed by customer_id (a non-key column), then customers probed by id (the key)
      {"SELECT c.id, o.id FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id "
       "ORDER BY o.id LIMIT 1000", 78},
      {"SELECT o.id, c.region FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id "
       "ORDER BY o.id LIMIT 1000", 78},
      // a TEXT column
      {"SELECT c.id, o.id FROM shop.customers c JOIN shop.orders o ON o.code = c.code "
       "ORDER BY o.id LIMIT 1000", 79},
      {"SELECT c.id, o.id FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id "
       "ORDER BY c.id, o.id LIMIT 1000", 78},
  };
  for (const auto& [sql, rows] : kJoins) {
    std::string scan = sql;
    for (const char* col : {"o.customer_id =", "c.id = o", "o.code ="}) {
      if (auto pos = scan.find(col); pos != std::string::npos) scan.insert(pos, "+");
    }
    const std::string probed = Rows(sql, alice_);
    EXPECT_EQ(probed, Rows(scan, alice_)) << sql;
    EXPECT_EQ(std::count(probed.begin(), probed.end(), '['), rows) << sql;
  }
  EXPECT_EQ(Rows("SELECT c.id, o.id FROM shop.customers c JOIN shop.orders o "
                 "ON o.customer_id = c.id LIMIT 1000", bob_),
            "[2,500]");
}

TEST_F(JoinProbeTest, ProbesWithOperandsOfOtherTypesCompareAsSqliteDoes) {
  // Text operands that look like integers match (INTEGER affinity), others match nothing.
  EXPECT_EQ(Rows("SELECT id FROM shop.orders WHERE customer_id IN ('3', '3.0', 'x', 3.5, NULL) "
                 "ORDER BY id", alice_),
            "[2],[42]");
  // An integer probing a TEXT column matches no text (no affinity on the column's side here).
  EXPECT_EQ(Rows("SELECT count(*) FROM shop.orders WHERE code IN (3, 4)", alice_), "[\"0\"]");
  EXPECT_EQ(Rows("SELECT count(*) FROM shop.orders WHERE code IN ('c3', 'C4', 'c4')", alice_),
            "[\"4\"]");
}

TEST_F(JoinProbeTest, AnOrOfPushedComparisonsKeepsEveryRowOnce) {
  // SQLite may run each side as its own plan of one cursor and union them, dropping rows whose
  // primary key it saw — the key is read even when the statement does not name it.
  EXPECT_EQ(Rows("SELECT amount FROM shop.orders WHERE amount > 790 OR customer_id = 3 "
                 "OR code = 'c4' ORDER BY amount", alice_),
            "[20],[30],[420],[430],[800]");
  EXPECT_EQ(Rows("SELECT amount FROM shop.orders WHERE customer_id = 3 OR code = 'c3' "
                 "ORDER BY amount", alice_),
            "[20],[420]");
  EXPECT_EQ(Rows("SELECT amount FROM shop.orders WHERE id = 5 OR customer_id = 3 "
                 "ORDER BY amount", alice_),
            "[20],[50],[420]");
}

TEST_F(JoinProbeTest, TombstonesAndStagedRowsAreSeen) {
  EXPECT_EQ(Rows("SELECT o.id, o._deleted FROM shop.customers c JOIN shop.orders o "
                 "ON o.customer_id = c.id WHERE o._deleted = true", alice_),
            "[9,true]");
  // Staged rows of the transaction take part (the statement scans instead of probing an index
  // of committed rows); the transaction is then rolled back.
  auto r = Ok("BEGIN; INSERT INTO shop.orders (id, customer_id, code, amount) VALUES "
              "(1000, 3, 'c3', 5); DELETE FROM shop.orders WHERE id = 2; "
              "SELECT o.id FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id "
              "WHERE c.id IN (3, 4) ORDER BY o.id; ROLLBACK",
              alice_);
  ASSERT_EQ(r.results.size(), 1u);
  EXPECT_EQ(r.results[0].rows_json, "[3],[42],[43],[1000]");
  // An UPDATE joining through IN reads each row through a scan (it records what it read).
  auto u = Ok("UPDATE shop.orders SET amount = 0 WHERE customer_id IN "
              "(SELECT id FROM shop.customers WHERE region = 'r3')", alice_);
  EXPECT_EQ(u.results[0].row_count, 20u);
  EXPECT_EQ(Rows("SELECT count(*) FROM shop.orders WHERE amount = 0", alice_), "[\"20\"]");
}

}  // namespace
}  // namespace kalam::sql
