// Tests for classifying statements by their leading words.
#include "sql/parser/classifier.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace kalam::sql::parser {
namespace {

Result<StatementKind> Classify(std::string_view sql) {
  auto tokens = Lex(sql);
  EXPECT_TRUE(tokens.ok()) << tokens.status().ToString();
  if (!tokens.ok()) return tokens.status();
  return ClassifyStatement(*tokens);
}

std::string ErrorOf(std::string_view sql) {
  auto kind = Classify(sql);
  EXPECT_FALSE(kind.ok()) << "expected an error for: " << sql;
  EXPECT_EQ(kind.status().code(), StatusCode::kInvalidSql);
  return kind.status().message();
}

TEST(ClassifierTest, EveryKindFromItsLeadingWords) {
  const std::vector<std::pair<std::string, StatementKind>> cases = {
      {"SELECT 1", StatementKind::kSelect},
      {"select * from t", StatementKind::kSelect},
      {"WITH c AS (SELECT 1) SELECT * FROM c", StatementKind::kSelect},
      {"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c",
       StatementKind::kSelect},
      {"VALUES (1), (2)", StatementKind::kSelect},
      {"EXPLAIN SELECT 1", StatementKind::kExplain},
      {"explain analyze SELECT 1", StatementKind::kExplain},
      {"(SELECT 1)", StatementKind::kSelect},
      {"((WITH c AS (SELECT 1) SELECT * FROM c))", StatementKind::kSelect},
      {"INSERT INTO t VALUES (1)", StatementKind::kInsert},
      {"INSERT OR IGNORE INTO t VALUES (1)", StatementKind::kInsert},
      {"WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c", StatementKind::kInsert},
      {"UPDATE t SET a = 1", StatementKind::kUpdate},
      {"WITH c AS (SELECT 1) UPDATE t SET a = 1", StatementKind::kUpdate},
      {"DELETE FROM t", StatementKind::kDelete},
      {"WITH c AS (SELECT 1) DELETE FROM t", StatementKind::kDelete},
      {"BEGIN", StatementKind::kBegin},
      {"BEGIN TRANSACTION", StatementKind::kBegin},
      {"begin immediate transaction", StatementKind::kBegin},
      {"START TRANSACTION", StatementKind::kBegin},
      {"COMMIT", StatementKind::kCommit},
      {"COMMIT TRANSACTION", StatementKind::kCommit},
      {"END", StatementKind::kCommit},
      {"END TRANSACTION", StatementKind::kCommit},
      {"ROLLBACK", StatementKind::kRollback},
      {"ROLLBACK TRANSACTION", StatementKind::kRollback},
      {"CREATE NAMESPACE chat", StatementKind::kCreateNamespace},
      {"DROP NAMESPACE chat CASCADE", StatementKind::kDropNamespace},
      {"ALTER NAMESPACE chat SET OPTIONS (a = 1)", StatementKind::kAlterNamespace},
      {"SHOW NAMESPACES", StatementKind::kShowNamespaces},
      {"USE chat", StatementKind::kUse},
      {"USE NAMESPACE chat", StatementKind::kUse},
      {"SET NAMESPACE chat", StatementKind::kUse},
      {"CREATE TABLE t (id INT PRIMARY KEY)", StatementKind::kCreateTable},
      {"CREATE USER TABLE t (id INT PRIMARY KEY)", StatementKind::kCreateTable},
      {"CREATE SHARED TABLE t (id INT PRIMARY KEY)", StatementKind::kCreateTable},
      {"CREATE STREAM TABLE t (id INT PRIMARY KEY)", StatementKind::kCreateTable},
      {"ALTER TABLE t ADD COLUMN c TEXT", StatementKind::kAlterTable},
      {"DROP TABLE t", StatementKind::kDropTable},
      {"DROP USER TABLE t", StatementKind::kDropTable},
      {"DROP STREAM TABLE IF EXISTS t", StatementKind::kDropTable},
      {"SHOW TABLES", StatementKind::kShowTables},
      {"DESCRIBE TABLE t", StatementKind::kDescribeTable},
      {"DESC t", StatementKind::kDescribeTable},
      {"SHOW STATS FOR TABLE t", StatementKind::kShowStats},
      {"CREATE USER alice WITH PASSWORD 'x' ROLE user", StatementKind::kCreateUser},
      {"ALTER USER alice SET ROLE dba", StatementKind::kAlterUser},
      {"DROP USER alice", StatementKind::kDropUser},
      {"DROP USER IF EXISTS alice", StatementKind::kDropUser},
      {"CREATE STORAGE s3 TYPE 's3'", StatementKind::kCreateStorage},
      {"ALTER STORAGE s3 SET NAME 'x'", StatementKind::kAlterStorage},
      {"DROP STORAGE s3", StatementKind::kDropStorage},
      {"SHOW STORAGES", StatementKind::kShowStorages},
      {"STORAGE CHECK local", StatementKind::kStorageCheck},
      {"STORAGE FLUSH TABLE chat.m", StatementKind::kStorageFlush},
      {"STORAGE FLUSH ALL IN NAMESPACE chat", StatementKind::kStorageFlush},
      {"FLUSH TABLE chat.m", StatementKind::kStorageFlush},
      {"FLUSH ALL TABLES", StatementKind::kStorageFlush},
      {"STORAGE COMPACT TABLE chat.m", StatementKind::kStorageCompact},
      {"KILL JOB 'FL-1'", StatementKind::kKillJob},
      {"KILL LIVE QUERY 'x'", StatementKind::kKillLiveQuery},
      {"SUBSCRIBE TO chat.m WHERE a = 1", StatementKind::kSubscribe},
      {"EXECUTE AS USER 'alice' (SELECT 1)", StatementKind::kExecuteAs},
      {"BACKUP DATABASE TO '/tmp/b'", StatementKind::kBackup},
      {"RESTORE DATABASE FROM '/tmp/b'", StatementKind::kRestore},
      {"BACKUP NAMESPACE chat TO '/tmp/b'", StatementKind::kBackupNamespace},
      {"RESTORE NAMESPACE chat FROM '/tmp/b' AS c2 REPLACE", StatementKind::kRestoreNamespace},
      {"SHOW BACKUPS FROM '/tmp/b'", StatementKind::kShowBackups},
  };
  for (const auto& [sql, kind] : cases) {
    auto got = Classify(sql);
    ASSERT_TRUE(got.ok()) << sql << ": " << got.status().ToString();
    EXPECT_EQ(*got, kind) << sql << " classified as " << StatementKindName(*got);
  }
}

TEST(ClassifierTest, UpsertFormsAreRejected) {
  const std::string message =
      "UPSERT is not supported: use INSERT for new rows and UPDATE for existing ones";
  EXPECT_EQ(ErrorOf("REPLACE INTO t VALUES (1)"), message);
  EXPECT_EQ(ErrorOf("INSERT OR REPLACE INTO t VALUES (1)"), message);
  EXPECT_EQ(ErrorOf("INSERT INTO t VALUES (1) ON CONFLICT (id) DO NOTHING"), message);
  EXPECT_EQ(ErrorOf("INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET a = 2"), message);
  EXPECT_EQ(ErrorOf("WITH c AS (SELECT 1) REPLACE INTO t SELECT * FROM c"), message);
}

TEST(ClassifierTest, AJoinConditionOnAColumnNamedConflictIsNotUpsert) {
  auto kind = Classify("INSERT INTO t SELECT a.x FROM a JOIN b ON conflict = 1");
  ASSERT_TRUE(kind.ok()) << kind.status().ToString();
  EXPECT_EQ(*kind, StatementKind::kInsert);
}

TEST(ClassifierTest, SqliteStatementsKalamDbDoesNotRunAreUnsupported) {
  EXPECT_EQ(ErrorOf("PRAGMA table_info(t)"), "Unsupported statement: PRAGMA");
  EXPECT_EQ(ErrorOf("ATTACH DATABASE 'x' AS y"), "Unsupported statement: ATTACH");
  EXPECT_EQ(ErrorOf("DETACH y"), "Unsupported statement: DETACH");
  EXPECT_EQ(ErrorOf("create index i on t(a)"), "Unsupported statement: CREATE INDEX");
  EXPECT_EQ(ErrorOf("CREATE UNIQUE INDEX i ON t(a)"), "Unsupported statement: CREATE UNIQUE INDEX");
  EXPECT_EQ(ErrorOf("CREATE VIEW v AS SELECT 1"), "Unsupported statement: CREATE VIEW");
  EXPECT_EQ(ErrorOf("CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END"),
            "Unsupported statement: CREATE TRIGGER");
  EXPECT_EQ(ErrorOf("CREATE VIRTUAL TABLE v USING fts5(x)"),
            "Unsupported statement: CREATE VIRTUAL TABLE");
  EXPECT_EQ(ErrorOf("CREATE TEMP TABLE x (a)"), "Unsupported statement: CREATE TEMP TABLE");
  EXPECT_EQ(ErrorOf("DROP INDEX i"), "Unsupported statement: DROP INDEX");
  EXPECT_EQ(ErrorOf("VACUUM"), "Unsupported statement: VACUUM");
  EXPECT_EQ(ErrorOf("SAVEPOINT sp"), "Unsupported statement: SAVEPOINT");
  EXPECT_EQ(ErrorOf("RELEASE sp"), "Unsupported statement: RELEASE");
  EXPECT_EQ(ErrorOf("ANALYZE"), "Unsupported statement: ANALYZE");
  EXPECT_EQ(ErrorOf("REINDEX t"), "Unsupported statement: REINDEX");

  EXPECT_EQ(ErrorOf("SET x = 1"), "Unsupported statement: SET X");
  EXPECT_EQ(ErrorOf("SHOW USERS"), "Unsupported statement: SHOW USERS");
  EXPECT_EQ(ErrorOf("FLUSH"), "Unsupported statement: FLUSH");
  EXPECT_EQ(ErrorOf("KILL QUERY 1"), "Unsupported statement: KILL QUERY");
  EXPECT_EQ(ErrorOf("EXECUTE foo"), "Unsupported statement: EXECUTE FOO");
  EXPECT_EQ(ErrorOf("'abc'"), "Unsupported statement: abc");
  EXPECT_EQ(ErrorOf("(1)"), "Unsupported statement: (");
  EXPECT_EQ(ErrorOf("START"), "Unsupported statement: START");
}

TEST(ClassifierTest, TransactionStatementsTakeNoArguments) {
  EXPECT_EQ(ErrorOf("ROLLBACK TO sp"),
            "Unsupported statement: ROLLBACK TO (savepoints are not supported)");
  EXPECT_EQ(ErrorOf("ROLLBACK TRANSACTION TO SAVEPOINT sp"),
            "Unsupported statement: ROLLBACK TO (savepoints are not supported)");
  EXPECT_EQ(ErrorOf("BEGIN foo"),
            "Unexpected 'foo' after BEGIN: transaction statements take no arguments");
  EXPECT_EQ(ErrorOf("commit now"),
            "Unexpected 'now' after COMMIT: transaction statements take no arguments");
}

TEST(ClassifierTest, EmptyTokenListIsAnError) {
  auto kind = ClassifyStatement({});
  ASSERT_FALSE(kind.ok());
  EXPECT_EQ(kind.status().message(), "Empty statement");
}

TEST(ClassifierTest, MainVerbSkipsCommonTableExpressions) {
  auto tokens = Lex("WITH a AS (SELECT 1), b(x) AS MATERIALIZED (VALUES (2)) DELETE FROM t");
  ASSERT_TRUE(tokens.ok());
  size_t verb = FindMainVerb(*tokens);
  ASSERT_LT(verb, tokens->size());
  EXPECT_TRUE((*tokens)[verb].IsWord("DELETE"));
  auto select = Lex("((SELECT 1))");
  ASSERT_TRUE(select.ok());
  EXPECT_EQ(FindMainVerb(*select), 2u);
}

TEST(ClassifierTest, KindNamesReadAsSql) {
  EXPECT_EQ(StatementKindName(StatementKind::kCreateTable), "CREATE TABLE");
  EXPECT_EQ(StatementKindName(StatementKind::kStorageFlush), "STORAGE FLUSH");
  EXPECT_TRUE(IsDmlKind(StatementKind::kDelete));
  EXPECT_FALSE(IsDmlKind(StatementKind::kBegin));
}

}  // namespace
}  // namespace kalam::sql::parser
