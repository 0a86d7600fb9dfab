// Tests for the executor over the whole in-process stack (memory store, catalog, commit pipeline,
// SQLite virtual tables).
#include "sql/executor.h"

#include <gtest/gtest.h>

#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

class ExecutorTest : public SqlStackTest {
 protected:
  void SetUp() override {
    SqlStackTest::SetUp();
    Ok("CREATE NAMESPACE chat", root_);
    Ok("CREATE USER TABLE chat.msgs (id INT PRIMARY KEY, room TEXT, body TEXT DEFAULT 'none')",
       root_);
  }
};

TEST_F(ExecutorTest, UserTableRowsAreScopedToTheCaller) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a'), (2, 'a')", alice_);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'b')", bob_);  // same PK, other scope
  auto a = Ok("SELECT id, room, body FROM chat.msgs", alice_);
  EXPECT_EQ(a.results[0].rows_json, "[1,\"a\",\"none\"],[2,\"a\",\"none\"]");
  auto b = Ok("SELECT m.id, n.room FROM chat.msgs m JOIN chat.msgs n USING (id)", bob_);
  ASSERT_EQ(b.results.size(), 1u);
  EXPECT_EQ(b.results[0].rows_json, "[1,\"b\"]");
  auto upd = Ok("UPDATE chat.msgs SET room = 'x'", bob_);
  EXPECT_EQ(upd.results[0].row_count, 1u);
  EXPECT_EQ(Ok("SELECT room FROM chat.msgs WHERE id = 1", alice_).results[0].rows_json, "[\"a\"]");
}

TEST_F(ExecutorTest, UpdateKeepsUnassignedColumnsAndDeleteLeavesATombstone) {
  Ok("INSERT INTO chat.msgs (id, room, body) VALUES (1, 'a', 'hi')", alice_);
  Ok("UPDATE chat.msgs SET body = 'yo' WHERE id = 1", alice_);
  EXPECT_EQ(Ok("SELECT id, room, body FROM chat.msgs", alice_).results[0].rows_json,
            "[1,\"a\",\"yo\"]");
  Ok("DELETE FROM chat.msgs WHERE id = 1", alice_);
  EXPECT_EQ(Ok("SELECT count(*) FROM chat.msgs", alice_).results[0].rows_json, "[\"0\"]");
  EXPECT_EQ(Ok("SELECT id, body, _deleted FROM chat.msgs WHERE _deleted = true", alice_)
                .results[0]
                .rows_json,
            "[1,\"yo\",true]");
  // The PK is free again after a delete.
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'again')", alice_);
}

TEST_F(ExecutorTest, TransactionSeesItsOwnWritesAndRollbackDiscardsThem) {
  auto r = Ok("BEGIN; INSERT INTO chat.msgs (id, room) VALUES (5, 'a'); "
              "UPDATE chat.msgs SET room = 'b' WHERE id = 5; SELECT id, room FROM chat.msgs; "
              "ROLLBACK; SELECT count(*) FROM chat.msgs",
              alice_);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].rows_json, "[5,\"b\"]");
  EXPECT_EQ(r.results[1].rows_json, "[\"0\"]");
}

TEST_F(ExecutorTest, FailingStatementInTransactionRollsBackEverything) {
  auto r = Run("BEGIN; INSERT INTO chat.msgs (id) VALUES (1); INSERT INTO chat.msgs (id) VALUES "
               "(1); COMMIT",
               alice_);
  EXPECT_EQ(r.error.message(),
            "Statement 3 failed: Already exists: Primary key violation: value '1' already exists in column 'id'");
  EXPECT_EQ(Ok("SELECT count(*) FROM chat.msgs", alice_).results[0].rows_json, "[\"0\"]");
}

TEST_F(ExecutorTest, RepeatedParametrizedQueryHitsTheStatementCache) {
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);
  auto& stats = StatementCacheStats::Global();
  Ok("SELECT id FROM chat.msgs WHERE id = $1", alice_, {Value::Int(1)});
  const uint64_t hits = stats.hits.load(), misses = stats.misses.load();
  for (int i = 0; i < 10; ++i) {
    // Pool of 2 connections: the statement may be prepared once more on the other one.
    Ok("select  id FROM chat.msgs -- comment\n WHERE id = $1", alice_, {Value::Int(i)});
  }
  EXPECT_GE(stats.hits.load() - hits, 9u);
  EXPECT_LE(stats.misses.load() - misses, 1u);
}

TEST_F(ExecutorTest, SystemColumnsCannotBeWritten) {
  auto r = Run("INSERT INTO chat.msgs (id, _seq) VALUES (1, 5)", alice_);
  EXPECT_EQ(r.error.message(),
            "Statement 1 failed: Invalid operation: Column '_seq' is a system column and cannot be "
            "written");
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);
  auto u = Run("UPDATE chat.msgs SET _deleted = 1", alice_);
  EXPECT_EQ(u.error.message(),
            "Statement 1 failed: Invalid operation: Column '_deleted' is a system column and "
            "cannot be written");
}

TEST_F(ExecutorTest, UnnamedInternalTablesAreDenied) {
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);
  // kt_1 is registered on the connection by the statement above, but this one never named it.
  auto r = Run("SELECT * FROM kt_1", alice_);
  EXPECT_FALSE(r.error.ok());
}

}  // namespace
}  // namespace kalam::sql

namespace kalam::sql {
namespace {

TEST_F(ExecutorTest, DropTableInvalidatesRegistrationsAndCachedStatements) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'old')", alice_);
  Ok("SELECT room FROM chat.msgs WHERE id = $1", alice_, {Value::Int(1)});
  Ok("DROP TABLE chat.msgs", root_);
  Ok("CREATE USER TABLE chat.msgs (id INT PRIMARY KEY, room TEXT, extra TEXT)", root_);
  // Same text, new table: must not read the dropped table's rows or plan.
  auto r = Ok("SELECT room FROM chat.msgs WHERE id = $1", alice_, {Value::Int(1)});
  EXPECT_EQ(r.results[0].rows_json, "");
  Ok("INSERT INTO chat.msgs (id, room, extra) VALUES (1, 'new', 'x')", alice_);
  EXPECT_EQ(Ok("SELECT room, extra FROM chat.msgs", alice_).results[0].rows_json,
            "[\"new\",\"x\"]");
}

}  // namespace
}  // namespace kalam::sql

namespace kalam::sql {
namespace {

TEST(ExecutorTimeLimitTest, RunawayStatementIsInterruptedAtTheRequestDeadline) {
  auto kv = storage::NewMemoryStore();
  FakeClock clock;
  SnowflakeGenerator ids(1, clock);
  auto cat = std::move(catalog::Catalog::Open(*kv, clock)).value();
  table::TableStore store(*kv);
  commit::CommitPipeline pipeline(*kv, ids);
  ASSERT_TRUE(pipeline.Start().ok());
  auto pool = std::move(SqlConnectionPool::Create(1, 4)).value();
  ExecutorOptions o;
  o.request_time_limit = std::chrono::milliseconds(200);
  Executor exec(*cat, store, pipeline, *pool, ids, clock, o);
  SqlRequest r;
  r.sql = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
  auto start = std::chrono::steady_clock::now();
  auto resp = exec.Execute(r, Caller{"root", auth::Role::kSystem});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(resp.error.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(resp.error.message().find("time limit"), std::string::npos) << resp.error.message();
  EXPECT_LT(took, std::chrono::seconds(5));
  // The connection is usable again afterwards.
  r.sql = "SELECT 1";
  EXPECT_TRUE(exec.Execute(r, Caller{"root", auth::Role::kSystem}).error.ok());
}

}  // namespace
}  // namespace kalam::sql

namespace kalam::sql {
namespace {

// TryExecute (the HTTP inline path): a statement past its budget is cancelled and reported as not
// run (nullopt), so the caller runs it elsewhere; a short one answers; the request's own time
// limit still applies after the budget is spent.
TEST(ExecutorTimeLimitTest, TryExecuteCancelsPastItsBudgetAndReportsNotRun) {
  auto kv = storage::NewMemoryStore();
  FakeClock clock;
  SnowflakeGenerator ids(1, clock);
  auto cat = std::move(catalog::Catalog::Open(*kv, clock)).value();
  table::TableStore store(*kv);
  commit::CommitPipeline pipeline(*kv, ids);
  ASSERT_TRUE(pipeline.Start().ok());
  auto pool = std::move(SqlConnectionPool::Create(1, 4)).value();
  ExecutorOptions o;
  o.request_time_limit = std::chrono::milliseconds(10000);
  Executor exec(*cat, store, pipeline, *pool, ids, clock, o);
  const Caller root{"root", auth::Role::kSystem};
  SqlRequest r;
  r.sql = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c";
  auto start = std::chrono::steady_clock::now();
  auto cancelled = exec.TryExecute(r, root, std::chrono::milliseconds(20));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(cancelled.has_value());
  EXPECT_GE(took, std::chrono::milliseconds(20));
  EXPECT_LT(took, std::chrono::seconds(2));  // the budget, not the 10 s request limit

  r.sql = "SELECT 41 + 1";
  auto quick = exec.TryExecute(r, root, std::chrono::milliseconds(20));
  ASSERT_TRUE(quick.has_value());
  EXPECT_TRUE(quick->error.ok()) << quick->error.ToString();
  EXPECT_EQ(quick->results.at(0).rows_json, "[\"42\"]");

  // A real error inside the budget is an answer, not a hand-off.
  r.sql = "SELECT * FROM no_such_namespace.no_such_table";
  auto failed = exec.TryExecute(r, root, std::chrono::milliseconds(200));
  ASSERT_TRUE(failed.has_value());
  EXPECT_FALSE(failed->error.ok());
}

TEST_F(ExecutorTest, PrintfKeepsSqliteFormattingButBoundsWidths) {
  EXPECT_EQ(Ok("SELECT printf('%5.2f|%-4s|%d', 3.14159, 'ab', 42), format('%03d', 7)", alice_)
                .results[0]
                .rows_json,
            "[\" 3.14|ab  |42\",\"007\"]");
  auto wide = Run("SELECT printf('%.*c', 2000000000, 'x')", alice_);
  EXPECT_NE(wide.error.message().find("printf() width or precision larger than"),
            std::string::npos)
      << wide.error.ToString();
  auto literal = Run("SELECT printf('%999999999d', 1)", alice_);
  EXPECT_FALSE(literal.error.ok());
  auto blob = Run("SELECT randomblob(100000000)", alice_);
  EXPECT_EQ(blob.error.message(), "string or blob too big");
}

}  // namespace
}  // namespace kalam::sql
