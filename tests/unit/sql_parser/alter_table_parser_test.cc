// Tests for ALTER TABLE: every action, the optional COLUMN keyword, and the validation messages.
#include <gtest/gtest.h>

#include <string>

#include "sql/parser/parser.h"

namespace kalam::sql::parser {
namespace {

using Action = AlterTableStmt::Action;

Result<AlterTableStmt> Parse(std::string_view sql) {
  auto statements = SplitStatements(sql);
  EXPECT_TRUE(statements.ok()) << statements.status().ToString();
  if (!statements.ok()) return statements.status();
  EXPECT_EQ(statements->size(), 1u);
  return ParseAlterTable((*statements)[0]);
}

AlterTableStmt Ok(std::string_view sql) {
  auto stmt = Parse(sql);
  EXPECT_TRUE(stmt.ok()) << sql << "\n" << stmt.status().ToString();
  return stmt.ok() ? *stmt : AlterTableStmt{};
}

std::string Err(std::string_view sql) {
  auto stmt = Parse(sql);
  EXPECT_FALSE(stmt.ok()) << "expected an error for: " << sql;
  if (stmt.ok()) return "";
  EXPECT_EQ(stmt.status().code(), StatusCode::kInvalidSql);
  return stmt.status().message();
}

TEST(AlterTableParserTest, AddColumnTakesAFullColumnDefinition) {
  auto s = Ok("ALTER TABLE chat.messages ADD COLUMN score DECIMAL(10, 2) NOT NULL DEFAULT 0 "
              "COMMENT 'points'");
  EXPECT_EQ(s.table, (QualifiedName{"chat", "messages"}));
  EXPECT_EQ(s.action, Action::kAddColumn);
  EXPECT_EQ(s.column.name, "score");
  EXPECT_EQ(s.column.type_text, "DECIMAL(10,2)");
  EXPECT_FALSE(s.column.nullable);
  EXPECT_FALSE(s.column.primary_key);
  EXPECT_EQ(s.column.default_value,
            (DefaultExpr{DefaultExpr::Kind::kLiteral, {LiteralKind::kInteger, "0"}}));
  EXPECT_EQ(s.column.comment, "points");
}

TEST(AlterTableParserTest, AddWithoutColumnKeywordAndFunctionDefaults) {
  auto s = Ok("alter table t add created TIMESTAMP DEFAULT NOW()");
  EXPECT_EQ(s.table, (QualifiedName{"", "t"}));
  EXPECT_EQ(s.column.name, "created");
  EXPECT_EQ(s.column.type_text, "TIMESTAMP");
  EXPECT_TRUE(s.column.nullable);
  EXPECT_EQ(s.column.default_value.kind, DefaultExpr::Kind::kNow);

  auto serial = Ok("ALTER TABLE t ADD COLUMN n BIGSERIAL");
  EXPECT_EQ(serial.column.type_text, "BIGINT");
  EXPECT_TRUE(serial.column.auto_increment);
  EXPECT_EQ(serial.column.default_value.kind, DefaultExpr::Kind::kSnowflakeId);

  // A quoted "column" is a name, not the keyword.
  auto quoted = Ok("ALTER TABLE t ADD \"column\" TEXT");
  EXPECT_EQ(quoted.column.name, "column");
}

TEST(AlterTableParserTest, AddColumnRefusals) {
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN k INT PRIMARY KEY"),
            "Cannot add PRIMARY KEY column 'k': a table's primary key is chosen when it is "
            "created");
  EXPECT_EQ(Err("ALTER TABLE t ADD PRIMARY KEY (k)"),
            "ALTER TABLE … ADD PRIMARY is not supported: only columns can be added");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN _seq INT"),
            "Column name '_seq' is reserved: KalamDB adds _seq and _deleted to every table");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN \"a-b\" INT"),
            "Invalid column name 'a-b': names must match [A-Za-z_][A-Za-z0-9_]* and be at most "
            "64 characters");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN a"),
            "Expected a data type after column 'a', but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN a INT NULL NOT NULL"),
            "Column 'a' cannot be both NULL and NOT NULL");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN a INT DEFAULT random()"),
            "Unsupported DEFAULT for column 'a': use a literal, NOW(), CURRENT_TIMESTAMP, "
            "SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN a INT UNIQUE"),
            "Unsupported column constraint 'UNIQUE' on column 'a'");
  EXPECT_EQ(Err("ALTER TABLE t ADD COLUMN a INT, ADD COLUMN b INT"),
            "ALTER TABLE makes one change per statement: send one ALTER TABLE t … for each "
            "change");
}

TEST(AlterTableParserTest, DropColumn) {
  auto s = Ok("ALTER TABLE ns.t DROP COLUMN body");
  EXPECT_EQ(s.action, Action::kDropColumn);
  EXPECT_EQ(s.column_name, "body");
  EXPECT_EQ(Ok("ALTER TABLE t DROP body").column_name, "body");
  EXPECT_EQ(Err("ALTER TABLE t DROP COLUMN _deleted"),
            "System column '_deleted' cannot be dropped: KalamDB maintains _seq and _deleted "
            "itself");
  EXPECT_EQ(Err("ALTER TABLE t DROP COLUMN a b"), "Unexpected 'b' after DROP COLUMN a");
  EXPECT_EQ(Err("ALTER TABLE t DROP PRIMARY KEY"),
            "ALTER TABLE … DROP PRIMARY is not supported: only columns can be dropped");
}

TEST(AlterTableParserTest, ModifyColumnTypeAndNullability) {
  auto s = Ok("ALTER TABLE t MODIFY COLUMN n BIGINT NOT NULL");
  EXPECT_EQ(s.action, Action::kModifyColumn);
  EXPECT_EQ(s.column_name, "n");
  EXPECT_EQ(s.column.name, "n");
  EXPECT_EQ(s.column.type_text, "BIGINT");
  EXPECT_EQ(s.nullable, std::optional<bool>(false));

  auto nullable = Ok("ALTER TABLE t MODIFY n double precision NULL");
  EXPECT_EQ(nullable.column.type_text, "DOUBLE PRECISION");
  EXPECT_EQ(nullable.nullable, std::optional<bool>(true));

  auto keep = Ok("ALTER TABLE t MODIFY COLUMN n DECIMAL(12,2)");
  EXPECT_EQ(keep.column.type_text, "DECIMAL(12,2)");
  EXPECT_FALSE(keep.nullable.has_value());

  // The PostgreSQL spellings mean the same, without a NULL clause.
  auto pg = Ok("ALTER TABLE t ALTER COLUMN n TYPE BIGINT");
  EXPECT_EQ(pg.action, Action::kModifyColumn);
  EXPECT_EQ(pg.column.type_text, "BIGINT");
  EXPECT_FALSE(pg.nullable.has_value());
  EXPECT_EQ(Ok("ALTER TABLE t ALTER n SET DATA TYPE INT8").column.type_text, "INT8");
}

TEST(AlterTableParserTest, ModifyColumnRefusals) {
  EXPECT_EQ(Err("ALTER TABLE t MODIFY COLUMN n"),
            "Expected a data type after column 'n', but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE t MODIFY COLUMN n SERIAL"),
            "Cannot make column 'n' AUTO_INCREMENT after creation: use ALTER COLUMN n SET "
            "DEFAULT SNOWFLAKE_ID()");
  EXPECT_EQ(Err("ALTER TABLE t MODIFY COLUMN n INT DEFAULT 1"),
            "Changing the type of column 'n' takes only the type and NULL or NOT NULL; change its "
            "default with ALTER COLUMN n SET DEFAULT …");
  EXPECT_EQ(Err("ALTER TABLE t MODIFY COLUMN n INT NOT"),
            "Expected NULL after NOT, but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE t MODIFY COLUMN _seq INT"),
            "System column '_seq' cannot be modified: KalamDB maintains _seq and _deleted "
            "itself");
  EXPECT_EQ(Err("ALTER TABLE t ALTER COLUMN n TYPE INT NOT NULL"),
            "Unexpected 'NOT' after ALTER COLUMN n TYPE INT");
}

TEST(AlterTableParserTest, AlterColumnNullabilityAndDefault) {
  EXPECT_EQ(Ok("ALTER TABLE t ALTER COLUMN a SET NOT NULL").action, Action::kSetNotNull);
  EXPECT_EQ(Ok("ALTER TABLE t ALTER a DROP NOT NULL").action, Action::kDropNotNull);
  EXPECT_EQ(Ok("ALTER TABLE t ALTER COLUMN a DROP DEFAULT").action, Action::kDropDefault);

  auto lit = Ok("ALTER TABLE t ALTER COLUMN a SET DEFAULT -1.5");
  EXPECT_EQ(lit.action, Action::kSetDefault);
  EXPECT_EQ(lit.column_name, "a");
  EXPECT_EQ(lit.default_value,
            (DefaultExpr{DefaultExpr::Kind::kLiteral, {LiteralKind::kFloat, "-1.5"}}));
  EXPECT_EQ(Ok("ALTER TABLE t ALTER COLUMN a SET DEFAULT CURRENT_USER").default_value.kind,
            DefaultExpr::Kind::kCurrentUser);
  EXPECT_EQ(Ok("ALTER TABLE t ALTER COLUMN a SET DEFAULT NULL").default_value.literal.kind,
            LiteralKind::kNull);

  EXPECT_EQ(Err("ALTER TABLE t ALTER COLUMN a SET DEFAULT"),
            "Expected a default value after DEFAULT, but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE t ALTER COLUMN a SET NULL"),
            "Expected NOT NULL, DEFAULT or DATA TYPE after ALTER COLUMN a SET, found 'NULL'");
  EXPECT_EQ(Err("ALTER TABLE t ALTER COLUMN a DROP"),
            "Expected NOT NULL or DEFAULT after ALTER COLUMN a DROP, but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE t ALTER COLUMN a RESET"),
            "Expected SET, DROP or TYPE after ALTER COLUMN a, found 'RESET'");
  EXPECT_EQ(Err("ALTER TABLE t ALTER COLUMN a SET NOT NULL NOW"),
            "Unexpected 'NOW' after ALTER COLUMN a SET NOT NULL");
}

TEST(AlterTableParserTest, RenameColumn) {
  auto s = Ok("ALTER TABLE t RENAME COLUMN Body TO content");
  EXPECT_EQ(s.action, Action::kRenameColumn);
  EXPECT_EQ(s.column_name, "Body");
  EXPECT_EQ(s.new_name, "content");
  // A column called "to" can be renamed without COLUMN.
  auto to = Ok("ALTER TABLE t RENAME to TO dest");
  EXPECT_EQ(to.column_name, "to");
  EXPECT_EQ(to.new_name, "dest");

  EXPECT_EQ(Err("ALTER TABLE t RENAME TO u"),
            "Renaming tables is not supported; RENAME COLUMN a TO b renames a column");
  EXPECT_EQ(Err("ALTER TABLE t RENAME COLUMN a TO _seq"),
            "Column name '_seq' is reserved: KalamDB adds _seq and _deleted to every table");
  EXPECT_EQ(Err("ALTER TABLE t RENAME COLUMN _deleted TO gone"),
            "System column '_deleted' cannot be renamed: KalamDB maintains _seq and _deleted "
            "itself");
  EXPECT_EQ(Err("ALTER TABLE t RENAME COLUMN a TO \"1x\""),
            "Invalid column name '1x': names must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 "
            "characters");
  EXPECT_EQ(Err("ALTER TABLE t RENAME COLUMN a b"),
            "Expected TO after RENAME COLUMN a, found 'b'");
}

TEST(AlterTableParserTest, SetAccessLevelBothSpellings) {
  auto s = Ok("ALTER TABLE ns.t SET ACCESS LEVEL public");
  EXPECT_EQ(s.action, Action::kSetAccessLevel);
  EXPECT_EQ(s.access_level, AccessLevel::kPublic);
  EXPECT_EQ(Ok("ALTER TABLE t SET ACCESS LEVEL 'dba'").access_level, AccessLevel::kDba);
  auto props = Ok("ALTER TABLE t SET TBLPROPERTIES (ACCESS_LEVEL = 'RESTRICTED')");
  EXPECT_EQ(props.action, Action::kSetAccessLevel);
  EXPECT_EQ(props.access_level, AccessLevel::kRestricted);
  EXPECT_EQ(Ok("ALTER TABLE t SET TBLPROPERTIES ('access_level' = private)").access_level,
            AccessLevel::kPrivate);

  EXPECT_EQ(Err("ALTER TABLE t SET ACCESS LEVEL everyone"),
            "Invalid ACCESS_LEVEL 'everyone': use 'PUBLIC', 'PRIVATE', 'RESTRICTED' or 'DBA'");
  EXPECT_EQ(Err("ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS = 5)"),
            "Unknown table property 'TTL_SECONDS': SET TBLPROPERTIES can change only "
            "ACCESS_LEVEL");
  EXPECT_EQ(Err("ALTER TABLE t SET TBLPROPERTIES (ACCESS_LEVEL = 'PUBLIC', X = 1)"),
            "SET TBLPROPERTIES takes exactly one property, ACCESS_LEVEL");
  EXPECT_EQ(Err("ALTER TABLE t SET TBLPROPERTIES (ACCESS_LEVEL = 'PUBLIC'"),
            "Expected ')' after ACCESS_LEVEL = '…', but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE t SET OWNER bob"),
            "Expected ACCESS LEVEL or TBLPROPERTIES after ALTER TABLE t SET, found 'OWNER'");
}

TEST(AlterTableParserTest, VectorIndexCreateAndDrop) {
  auto s = Ok("ALTER TABLE ns.t CREATE INDEX emb");
  EXPECT_EQ(s.action, Action::kCreateVectorIndex);
  EXPECT_EQ(s.column_name, "emb");
  EXPECT_EQ(s.vector_metric, VectorMetric::kCosine);
  EXPECT_EQ(Ok("ALTER TABLE t CREATE VECTOR INDEX emb USING l2").vector_metric, VectorMetric::kL2);
  EXPECT_EQ(Ok("ALTER TABLE t CREATE INDEX emb USING 'DOT'").vector_metric, VectorMetric::kDot);
  s = Ok("ALTER TABLE t DROP VECTOR INDEX emb");
  EXPECT_EQ(s.action, Action::kDropVectorIndex);
  EXPECT_EQ(s.column_name, "emb");
  EXPECT_EQ(Ok("ALTER TABLE t DROP INDEX emb").action, Action::kDropVectorIndex);
  // A column called "index" or "vector" is still dropped as a column.
  EXPECT_EQ(Ok("ALTER TABLE t DROP index").action, Action::kDropColumn);
  EXPECT_EQ(Ok("ALTER TABLE t DROP vector").column_name, "vector");
  EXPECT_EQ(Err("ALTER TABLE t CREATE INDEX emb USING HAMMING"),
            "Expected COSINE, L2 or DOT after CREATE INDEX emb USING, found 'HAMMING'");
  EXPECT_EQ(Err("ALTER TABLE t CREATE TABLE x"),
            "Expected INDEX after ALTER TABLE t CREATE, found 'TABLE'");
  EXPECT_EQ(Err("ALTER TABLE t CREATE INDEX emb USING L2 x"),
            "Unexpected 'x' after CREATE INDEX emb USING L2");
  EXPECT_EQ(Err("ALTER TABLE ns.t ADD INDEX emb"),
            "ALTER TABLE … ADD INDEX is not supported: create a vector index with ALTER TABLE "
            "ns.t CREATE INDEX <embedding column>");
}

TEST(AlterTableParserTest, StatementShapeErrors) {
  EXPECT_EQ(Err("ALTER TABLE"), "Expected a table name after ALTER TABLE, but the statement ended");
  EXPECT_EQ(Err("ALTER TABLE ns.t"),
            "Expected ADD, DROP, MODIFY, ALTER, RENAME, SET or CREATE INDEX after ALTER TABLE ns.t, but the "
            "statement ended");
  EXPECT_EQ(Err("ALTER TABLE ns.t TRUNCATE"),
            "Expected ADD, DROP, MODIFY, ALTER, RENAME, SET or CREATE INDEX after ALTER TABLE ns.t, found "
            "'TRUNCATE'");
  EXPECT_EQ(Err("ALTER TABLE a.b.c ADD x INT"),
            "Invalid table name 'a.b.…': use name or namespace.name");
}

}  // namespace
}  // namespace kalam::sql::parser
