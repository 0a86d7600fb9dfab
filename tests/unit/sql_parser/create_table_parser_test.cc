// Tests for CREATE TABLE: columns, types, defaults, the primary key, options and every
// validation message.
#include <gtest/gtest.h>

#include <string>

#include "sql/parser/parser.h"

namespace kalam::sql::parser {
namespace {

Result<CreateTableStmt> Parse(std::string_view sql) {
  auto statements = SplitStatements(sql);
  EXPECT_TRUE(statements.ok()) << statements.status().ToString();
  if (!statements.ok()) return statements.status();
  EXPECT_EQ(statements->size(), 1u);
  return ParseCreateTable((*statements)[0]);
}

CreateTableStmt Ok(std::string_view sql) {
  auto stmt = Parse(sql);
  EXPECT_TRUE(stmt.ok()) << sql << "\n" << stmt.status().ToString();
  return stmt.ok() ? *stmt : CreateTableStmt{};
}

std::string Err(std::string_view sql) {
  auto stmt = Parse(sql);
  EXPECT_FALSE(stmt.ok()) << "expected an error for: " << sql;
  if (stmt.ok()) return "";
  EXPECT_EQ(stmt.status().code(), StatusCode::kInvalidSql);
  return stmt.status().message();
}

TEST(CreateTableParserTest, FullStatement) {
  auto t = Ok(
      "CREATE USER TABLE IF NOT EXISTS chat.messages ("
      "  id BIGINT PRIMARY KEY AUTO_INCREMENT,"
      "  body TEXT NOT NULL,"
      "  score DOUBLE PRECISION DEFAULT -1.5,"
      "  price DECIMAL(10, 2) NULL,"
      "  created TIMESTAMP DEFAULT NOW() COMMENT 'when'"
      ") WITH (STORAGE_ID = 'local', FLUSH_POLICY = 'rows:100,interval:60', "
      "USE_USER_STORAGE = TRUE, DELETED_RETENTION_HOURS = 24)");
  EXPECT_EQ(t.table, (QualifiedName{"chat", "messages"}));
  EXPECT_EQ(t.table_type, TableType::kUser);
  EXPECT_TRUE(t.if_not_exists);
  ASSERT_EQ(t.columns.size(), 5u);
  EXPECT_EQ(t.primary_key_index, 0u);

  const ParsedColumn& id = t.columns[0];
  EXPECT_EQ(id.name, "id");
  EXPECT_EQ(id.type_text, "BIGINT");
  EXPECT_TRUE(id.primary_key);
  EXPECT_FALSE(id.nullable);
  EXPECT_TRUE(id.auto_increment);
  EXPECT_EQ(id.default_value.kind, DefaultExpr::Kind::kSnowflakeId);

  EXPECT_EQ(t.columns[1].type_text, "TEXT");
  EXPECT_FALSE(t.columns[1].nullable);
  EXPECT_EQ(t.columns[1].default_value.kind, DefaultExpr::Kind::kNone);

  EXPECT_EQ(t.columns[2].type_text, "DOUBLE PRECISION");
  EXPECT_TRUE(t.columns[2].nullable);
  EXPECT_EQ(t.columns[2].default_value,
            (DefaultExpr{DefaultExpr::Kind::kLiteral, {LiteralKind::kFloat, "-1.5"}}));

  EXPECT_EQ(t.columns[3].type_text, "DECIMAL(10,2)");
  EXPECT_TRUE(t.columns[3].nullable);
  EXPECT_FALSE(t.columns[3].primary_key);

  EXPECT_EQ(t.columns[4].default_value.kind, DefaultExpr::Kind::kNow);
  EXPECT_EQ(t.columns[4].comment, "when");

  EXPECT_EQ(t.options.storage_id, "local");
  EXPECT_EQ(t.options.flush_policy, (FlushPolicySpec{100, 60}));
  EXPECT_EQ(t.options.use_user_storage, true);
  EXPECT_EQ(t.options.deleted_retention_hours, 24u);
  EXPECT_FALSE(t.options.ttl_seconds.has_value());
  EXPECT_FALSE(t.options.access_level.has_value());
}

TEST(CreateTableParserTest, PlainCreateTableIsShared) {
  auto t = Ok("CREATE TABLE t (id INT PRIMARY KEY)");
  EXPECT_EQ(t.table, (QualifiedName{"", "t"}));
  EXPECT_EQ(t.table_type, TableType::kShared);
  EXPECT_FALSE(t.if_not_exists);
}

TEST(CreateTableParserTest, TableTypeFromKeywordOrOption) {
  EXPECT_EQ(Ok("CREATE SHARED TABLE t (id INT PRIMARY KEY)").table_type, TableType::kShared);
  EXPECT_EQ(Ok("CREATE STREAM TABLE t (id INT PRIMARY KEY) WITH (TTL_SECONDS = 30)").table_type,
            TableType::kStream);
  EXPECT_EQ(Ok("CREATE TABLE t (id INT PRIMARY KEY) WITH (TYPE = 'USER')").table_type,
            TableType::kUser);
  EXPECT_EQ(Ok("CREATE TABLE t (id INT PRIMARY KEY) WITH (type = stream, ttl_seconds = '5')")
                .table_type,
            TableType::kStream);
  EXPECT_EQ(Ok("CREATE USER TABLE t (id INT PRIMARY KEY) WITH (TYPE = 'user')").table_type,
            TableType::kUser);
}

TEST(CreateTableParserTest, TypeConflictingWithTheKeywordFormIsAnError) {
  EXPECT_EQ(Err("CREATE USER TABLE t (id INT PRIMARY KEY) WITH (TYPE = 'SHARED')"),
            "Conflicting table type definitions: CREATE User TABLE vs TYPE option Shared");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (TYPE = 'TEMP')"),
            "Invalid TYPE 'TEMP': use 'USER', 'SHARED' or 'STREAM'");
}

TEST(CreateTableParserTest, TypesMayBeMultiWordOrParameterised) {
  auto t = Ok(
      "CREATE TABLE t (id INT PRIMARY KEY, a double precision, b varchar(255), c EMBEDDING(384),"
      " d CHARACTER VARYING(10), e decimal ( 10 , 2 ), f JSON, g int8)");
  std::vector<std::string> types;
  for (const ParsedColumn& c : t.columns) types.push_back(c.type_text);
  EXPECT_EQ(types, (std::vector<std::string>{"INT", "DOUBLE PRECISION", "VARCHAR(255)",
                                             "EMBEDDING(384)", "CHARACTER VARYING(10)",
                                             "DECIMAL(10,2)", "JSON", "INT8"}));
}

TEST(CreateTableParserTest, SerialTypesAndIdentityMeanAutoIncrement) {
  auto t = Ok(
      "CREATE TABLE t (a SERIAL PRIMARY KEY, b bigserial, c BIGINT GENERATED ALWAYS AS IDENTITY,"
      " d BIGINT GENERATED BY DEFAULT AS IDENTITY, e BIGINT GENERATED AS IDENTITY,"
      " f BIGINT AUTOINCREMENT, g BIGINT DEFAULT SNOWFLAKE_ID() AUTO_INCREMENT)");
  for (const ParsedColumn& c : t.columns) {
    EXPECT_TRUE(c.auto_increment) << c.name;
    EXPECT_EQ(c.default_value.kind, DefaultExpr::Kind::kSnowflakeId) << c.name;
  }
  EXPECT_EQ(t.columns[0].type_text, "BIGINT");
  EXPECT_EQ(t.columns[1].type_text, "BIGINT");
}

TEST(CreateTableParserTest, DefaultLiteralsAndFunctions) {
  auto t = Ok(
      "CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT 42, b INT DEFAULT -7, c TEXT DEFAULT "
      "'it''s', d BOOLEAN DEFAULT true, e TEXT DEFAULT NULL, f TIMESTAMP DEFAULT "
      "CURRENT_TIMESTAMP, g TEXT DEFAULT uuid_v7(), h TEXT DEFAULT ULID(), i TEXT DEFAULT "
      "CURRENT_USER, j TEXT DEFAULT current_user(), k BIGINT DEFAULT SNOWFLAKE_ID(), l BYTES "
      "DEFAULT x'00ff', m INT DEFAULT +3)");
  using K = DefaultExpr::Kind;
  const std::vector<DefaultExpr> expected = {
      {K::kNone, {}},
      {K::kLiteral, {LiteralKind::kInteger, "42"}},
      {K::kLiteral, {LiteralKind::kInteger, "-7"}},
      {K::kLiteral, {LiteralKind::kString, "it's"}},
      {K::kLiteral, {LiteralKind::kBoolean, "TRUE"}},
      {K::kLiteral, {LiteralKind::kNull, "NULL"}},
      {K::kNow, {}},
      {K::kUuidV7, {}},
      {K::kUlid, {}},
      {K::kCurrentUser, {}},
      {K::kCurrentUser, {}},
      {K::kSnowflakeId, {}},
      {K::kLiteral, {LiteralKind::kBlob, "00ff"}},
      {K::kLiteral, {LiteralKind::kInteger, "3"}},
  };
  ASSERT_EQ(t.columns.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(t.columns[i].default_value, expected[i]) << t.columns[i].name;
  }
}

TEST(CreateTableParserTest, UnsupportedDefaultExpressionsAreErrors) {
  const std::string message =
      "Unsupported DEFAULT for column 'a': use a literal, NOW(), CURRENT_TIMESTAMP, "
      "SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()";
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT RANDOM())"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT NOW)"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT NOW(1))"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT (1 + 2))"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT \"b\")"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT CURRENT_DATE)"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT - 'x')"), message);
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT 1 DEFAULT 2)"),
            "DEFAULT is given twice for column 'a'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT DEFAULT)"),
            "Expected a default value after DEFAULT, found ')'");
}

TEST(CreateTableParserTest, TableLevelPrimaryKey) {
  auto t = Ok("CREATE TABLE t (a TEXT, b BIGINT, PRIMARY KEY (B))");
  EXPECT_EQ(t.primary_key_index, 1u);
  EXPECT_TRUE(t.columns[1].primary_key);
  EXPECT_FALSE(t.columns[1].nullable);
  EXPECT_FALSE(t.columns[0].primary_key);
  auto named = Ok("CREATE TABLE t (a TEXT, CONSTRAINT pk PRIMARY KEY (a))");
  EXPECT_EQ(named.primary_key_index, 0u);
  auto both = Ok("CREATE TABLE t (a TEXT PRIMARY KEY, PRIMARY KEY (a))");
  EXPECT_EQ(both.primary_key_index, 0u);
}

TEST(CreateTableParserTest, ExactlyOnePrimaryKeyIsRequired) {
  EXPECT_EQ(Err("CREATE TABLE chat.t (a INT, b INT)"),
            "Table 'chat.t' needs a PRIMARY KEY: mark exactly one column PRIMARY KEY");
  EXPECT_EQ(Err("CREATE TABLE t (a INT PRIMARY KEY, b INT PRIMARY KEY)"),
            "Table 't' has more than one PRIMARY KEY (a, b): KalamDB tables have exactly one "
            "single-column primary key");
  EXPECT_EQ(Err("CREATE TABLE t (a INT PRIMARY KEY, b INT, PRIMARY KEY (b))"),
            "Table 't' has more than one PRIMARY KEY (a, b): KalamDB tables have exactly one "
            "single-column primary key");
  EXPECT_EQ(Err("CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))"),
            "Composite primary keys are not supported: PRIMARY KEY (a, b); use a single key "
            "column");
  EXPECT_EQ(Err("CREATE TABLE t (a INT, PRIMARY KEY (c))"),
            "PRIMARY KEY names unknown column 'c' in CREATE TABLE t");
  EXPECT_EQ(Err("CREATE TABLE t (a INT PRIMARY KEY NULL)"),
            "PRIMARY KEY column 'a' cannot be NULL");
}

TEST(CreateTableParserTest, ColumnNamesAreValidatedUniqueAndNotReserved) {
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, Name TEXT, name TEXT)"),
            "Duplicate column name 'name' in CREATE TABLE t");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, _seq BIGINT)"),
            "Column name '_seq' is reserved: KalamDB adds _seq and _deleted to every table");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, _DELETED BOOLEAN)"),
            "Column name '_DELETED' is reserved: KalamDB adds _seq and _deleted to every table");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, \"a b\" TEXT)"),
            "Invalid column name 'a b': names must match [A-Za-z_][A-Za-z0-9_]* and be at most "
            "64 characters");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, " + std::string(65, 'c') + " TEXT)"),
            "Invalid column name '" + std::string(65, 'c') +
                "': names must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 characters");
}

TEST(CreateTableParserTest, TableAndNamespaceNamesAreValidated) {
  EXPECT_EQ(Err("CREATE TABLE \"x-y\" (id INT PRIMARY KEY)"),
            "Invalid table name 'x-y': names must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 "
            "characters");
  EXPECT_EQ(Err("CREATE TABLE \"my ns\".t (id INT PRIMARY KEY)"),
            "Invalid namespace name 'my ns': names must match [A-Za-z_][A-Za-z0-9_]* and be at "
            "most 64 characters");
  EXPECT_EQ(Err("CREATE TABLE system.t (id INT PRIMARY KEY)"),
            "Cannot create tables in namespace 'system': it is reserved for system tables");
  EXPECT_EQ(Err("CREATE TABLE SYSTEM.t (id INT PRIMARY KEY)"),
            "Cannot create tables in namespace 'system': it is reserved for system tables");
}

TEST(CreateTableParserTest, ColumnSyntaxErrors) {
  EXPECT_EQ(Err("CREATE TABLE t (id PRIMARY KEY)"),
            "Expected a data type after column 'id', found 'PRIMARY'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a TEXT UNIQUE)"),
            "Unsupported column constraint 'UNIQUE' on column 'a'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a TEXT REFERENCES u(id))"),
            "Unsupported column constraint 'REFERENCES' on column 'a'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a TEXT NOT NULL NULL)"),
            "Column 'a' cannot be both NULL and NOT NULL");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a DECIMAL(x))"),
            "Expected a whole number after DECIMAL(, found 'x'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY, a INT 5)"),
            "Expected a column constraint, ',' or ')' after column 'a', found '5'");
  EXPECT_EQ(Err("CREATE TABLE t (id BIGINT DEFAULT 1 AUTO_INCREMENT PRIMARY KEY)"),
            "Column 'id' cannot have both DEFAULT and AUTO_INCREMENT");
  EXPECT_EQ(Err("CREATE TABLE t (id INT GENERATED ALWAYS AS (1) PRIMARY KEY)"),
            "Expected IDENTITY after GENERATED … AS, found '('");
  EXPECT_EQ(Err("CREATE TABLE t ()"), "Expected a column name after CREATE TABLE t (, found ')'");
  EXPECT_EQ(Err("CREATE TABLE t AS SELECT 1"), "Expected '(' after CREATE TABLE t, found 'AS'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY"),
            "Expected ')' after the column definitions of CREATE TABLE t, but the statement "
            "ended");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITHOUT ROWID"),
            "Unexpected 'WITHOUT' after CREATE TABLE t (…)");
}

TEST(CreateTableParserTest, FlushPolicyForms) {
  auto rows = Ok("CREATE TABLE t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:5000')");
  EXPECT_EQ(rows.options.flush_policy, (FlushPolicySpec{5000, std::nullopt}));
  auto interval = Ok("CREATE TABLE t (id INT PRIMARY KEY) WITH (flush_policy = 'interval:30')");
  EXPECT_EQ(interval.options.flush_policy, (FlushPolicySpec{std::nullopt, 30}));
  auto both = Ok("CREATE TABLE t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'interval:9, Rows:7')");
  EXPECT_EQ(both.options.flush_policy, (FlushPolicySpec{7, 9}));
}

TEST(CreateTableParserTest, MalformedFlushPolicyIsAnError) {
  auto message = [](std::string_view value) {
    return "Invalid FLUSH_POLICY '" + std::string(value) +
           "': use 'rows:N', 'interval:S' or 'rows:N,interval:S' with N and S at least 1";
  };
  for (std::string_view bad : {"rows", "rows:", "rows:0", "rows:-1", "rows:1,rows:2", "size:10",
                               "rows:1;interval:2", "", "rows:1,", "interval:1.5"}) {
    EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = '" + std::string(bad) +
                  "')"),
              message(bad));
  }
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 100)"),
            "FLUSH_POLICY must be a quoted string such as 'rows:10000'");
}

TEST(CreateTableParserTest, OptionValuesAreValidated) {
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (COLOR = 'red')"),
            "Unknown table option 'COLOR': valid options are TYPE, STORAGE_ID, USE_USER_STORAGE, "
            "FLUSH_POLICY, DELETED_RETENTION_HOURS, TTL_SECONDS, ACCESS_LEVEL, "
            "MAX_ROWS_PER_USER, EPHEMERAL");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (storage_id = 'a', STORAGE_ID = 'b')"),
            "Table option STORAGE_ID is given more than once");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (USE_USER_STORAGE = 'maybe')"),
            "USE_USER_STORAGE must be TRUE or FALSE, got 'maybe'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = -1)"),
            "Expected a value after DELETED_RETENTION_HOURS =, found '-'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 1.5)"),
            "DELETED_RETENTION_HOURS must be a whole number of at least 0, got '1.5'");
  EXPECT_EQ(Err("CREATE STREAM TABLE t (id INT PRIMARY KEY) WITH (TTL_SECONDS = 0)"),
            "Invalid TTL_SECONDS '0': a STREAM table with TTL 0 could never show a row; use at "
            "least 1 second");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'OPEN')"),
            "Invalid ACCESS_LEVEL 'OPEN': use 'PUBLIC', 'PRIVATE', 'RESTRICTED' or 'DBA'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (STORAGE_ID = '')"),
            "STORAGE_ID must be a storage id such as 'local', got ''");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH ()"),
            "Expected an option name after WITH (, found ')'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (STORAGE_ID 'a')"),
            "Expected '=' after STORAGE_ID, found 'a'");
}

TEST(CreateTableParserTest, AccessLevelOnlyForSharedTables) {
  auto t = Ok("CREATE SHARED TABLE t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
  EXPECT_EQ(t.options.access_level, AccessLevel::kPublic);
  auto bare = Ok("CREATE TABLE t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = dba)");
  EXPECT_EQ(bare.options.access_level, AccessLevel::kDba);
  EXPECT_EQ(Err("CREATE USER TABLE t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC')"),
            "ACCESS_LEVEL is only supported for SHARED tables");
}

TEST(CreateTableParserTest, TtlSecondsOnlyAndAlwaysForStreamTables) {
  auto t = Ok("CREATE STREAM TABLE t (id INT PRIMARY KEY) WITH (TTL_SECONDS = 30)");
  EXPECT_EQ(t.options.ttl_seconds, 30u);
  EXPECT_EQ(Err("CREATE STREAM TABLE t (id INT PRIMARY KEY)"),
            "Invalid CREATE TABLE statement: STREAM tables must specify 'TTL_SECONDS'");
  EXPECT_EQ(Err("CREATE TABLE t (id INT PRIMARY KEY) WITH (TTL_SECONDS = 30)"),
            "TTL_SECONDS is only supported for STREAM tables");
}

TEST(CreateTableParserTest, StreamTablesTakeTheirOwnOptionsAndNeedNoPrimaryKey) {
  auto t = Ok("CREATE STREAM TABLE t (v TEXT) WITH (TTL_SECONDS = 5, MAX_ROWS_PER_USER = 100, "
              "EPHEMERAL = true)");
  EXPECT_FALSE(t.has_primary_key);
  EXPECT_EQ(t.options.max_rows_per_user, 100u);
  EXPECT_EQ(t.options.ephemeral, true);
  EXPECT_TRUE(Ok("CREATE STREAM TABLE t (id INT PRIMARY KEY) WITH (TTL_SECONDS = 5)")
                  .has_primary_key);
  EXPECT_EQ(Err("CREATE STREAM TABLE t (v TEXT) WITH (TTL_SECONDS = 'soon')"),
            "Invalid TTL_SECONDS 'soon': use a whole number of seconds (at least 1)");
  EXPECT_EQ(Err("CREATE STREAM TABLE t (v TEXT) WITH (TTL_SECONDS = -5)"),
            "Invalid TTL_SECONDS: a negative value; use a whole number of seconds (at least 1)");
  EXPECT_EQ(Err("CREATE STREAM TABLE t (v TEXT) WITH (TTL_SECONDS = 5, ACCESS_LEVEL = 'PUBLIC')"),
            "ACCESS_LEVEL is only supported for SHARED tables");
  EXPECT_EQ(Err("CREATE STREAM TABLE t (v TEXT) WITH (TTL_SECONDS = 5, USE_USER_STORAGE = TRUE)"),
            "USE_USER_STORAGE is only supported for USER tables");
  EXPECT_EQ(Err("CREATE USER TABLE t (id INT PRIMARY KEY) WITH (MAX_ROWS_PER_USER = 5)"),
            "MAX_ROWS_PER_USER is only supported for STREAM tables");
  EXPECT_EQ(Err("CREATE USER TABLE t (id INT PRIMARY KEY) WITH (EPHEMERAL = TRUE)"),
            "EPHEMERAL is only supported for STREAM tables");
  EXPECT_EQ(Err("CREATE STREAM TABLE t (v TEXT) WITH (TTL_SECONDS = 5, TYPE = 'USER')"),
            "Conflicting table type definitions: CREATE Stream TABLE vs TYPE option User");
  EXPECT_EQ(Err("CREATE USER TABLE t (v TEXT)"),
            "Table 't' needs a PRIMARY KEY: mark exactly one column PRIMARY KEY");
}

TEST(CreateTableParserTest, NamesKeepTheirWrittenCase) {
  auto t = Ok("CREATE TABLE Chat.\"Messages\" (Id INT PRIMARY KEY)");
  EXPECT_EQ(t.table, (QualifiedName{"Chat", "Messages"}));
  EXPECT_EQ(t.columns[0].name, "Id");
}

TEST(CreateTableParserTest, TypeAndLevelNames) {
  EXPECT_EQ(TableTypeName(TableType::kStream), "STREAM");
  EXPECT_EQ(AccessLevelName(AccessLevel::kRestricted), "RESTRICTED");
}

}  // namespace
}  // namespace kalam::sql::parser
