// Tests for the parsers of namespace, table-listing, user and EXECUTE AS statements.
#include "sql/parser/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {
namespace {

SqlStatement One(std::string_view sql) {
  auto statements = SplitStatements(sql);
  EXPECT_TRUE(statements.ok()) << statements.status().ToString();
  EXPECT_EQ(statements.ok() ? statements->size() : 0, 1u) << sql;
  return statements.ok() && !statements->empty() ? (*statements)[0] : SqlStatement{};
}

template <typename T>
T Ok(Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : T{};
}

template <typename T>
std::string Err(Result<T> result) {
  EXPECT_FALSE(result.ok());
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidSql);
  return result.status().message();
}

// ---- Identifiers ----

TEST(ValidateIdentifierTest, AcceptsLettersDigitsUnderscoresUpTo64) {
  EXPECT_TRUE(ValidateIdentifier("table", "a").ok());
  EXPECT_TRUE(ValidateIdentifier("table", "_a9_Z").ok());
  EXPECT_TRUE(ValidateIdentifier("table", std::string(64, 'x')).ok());
}

TEST(ValidateIdentifierTest, RejectsOtherNamesWithTheRuleInTheMessage) {
  Status s = ValidateIdentifier("table", "x-y");
  EXPECT_EQ(s.code(), StatusCode::kInvalidSql);
  EXPECT_EQ(s.message(),
            "Invalid table name 'x-y': names must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 "
            "characters");
  EXPECT_FALSE(ValidateIdentifier("table", "").ok());
  EXPECT_FALSE(ValidateIdentifier("table", "9a").ok());
  EXPECT_FALSE(ValidateIdentifier("table", "a b").ok());
  EXPECT_FALSE(ValidateIdentifier("table", "ü").ok());
  EXPECT_FALSE(ValidateIdentifier("table", std::string(65, 'x')).ok());
}

// ---- Namespaces ----

TEST(ParserTest, CreateNamespace) {
  auto plain = Ok(ParseCreateNamespace(One("CREATE NAMESPACE chat")));
  EXPECT_EQ(plain.name, "chat");
  EXPECT_FALSE(plain.if_not_exists);
  auto guarded = Ok(ParseCreateNamespace(One("create namespace if not exists \"Chat_2\"")));
  EXPECT_EQ(guarded.name, "Chat_2");
  EXPECT_TRUE(guarded.if_not_exists);
}

TEST(ParserTest, CreateNamespaceErrors) {
  EXPECT_EQ(Err(ParseCreateNamespace(One("CREATE NAMESPACE"))),
            "Expected a namespace name after CREATE NAMESPACE, but the statement ended");
  EXPECT_EQ(Err(ParseCreateNamespace(One("CREATE NAMESPACE \"bad-name\""))),
            "Invalid namespace name 'bad-name': names must match [A-Za-z_][A-Za-z0-9_]* and be at "
            "most 64 characters");
  EXPECT_EQ(Err(ParseCreateNamespace(One("CREATE NAMESPACE a b"))),
            "Unexpected 'b' after CREATE NAMESPACE a");
  EXPECT_EQ(Err(ParseCreateNamespace(One("CREATE NAMESPACE 'a'"))),
            "Expected a namespace name after CREATE NAMESPACE, found 'a'");
}

TEST(ParserTest, DropNamespace) {
  auto d = Ok(ParseDropNamespace(One("DROP NAMESPACE IF EXISTS chat CASCADE")));
  EXPECT_EQ(d.name, "chat");
  EXPECT_TRUE(d.if_exists);
  EXPECT_TRUE(d.cascade);
  auto plain = Ok(ParseDropNamespace(One("DROP NAMESPACE chat")));
  EXPECT_FALSE(plain.if_exists);
  EXPECT_FALSE(plain.cascade);
  EXPECT_EQ(Err(ParseDropNamespace(One("DROP NAMESPACE chat RESTRICT"))),
            "Unexpected 'RESTRICT' after DROP NAMESPACE chat");
}

TEST(ParserTest, AlterNamespaceOptions) {
  auto a = Ok(ParseAlterNamespace(
      One("ALTER NAMESPACE chat SET OPTIONS (k = 'v', n = 42, f = -1.5, b = true, z = NULL)")));
  EXPECT_EQ(a.name, "chat");
  ASSERT_EQ(a.options.size(), 5u);
  EXPECT_EQ(a.options[0].key, "k");
  EXPECT_EQ(a.options[0].value, (Literal{LiteralKind::kString, "v"}));
  EXPECT_EQ(a.options[1].value, (Literal{LiteralKind::kInteger, "42"}));
  EXPECT_EQ(a.options[2].value, (Literal{LiteralKind::kFloat, "-1.5"}));
  EXPECT_EQ(a.options[3].value, (Literal{LiteralKind::kBoolean, "TRUE"}));
  EXPECT_EQ(a.options[4].value, (Literal{LiteralKind::kNull, "NULL"}));
}

TEST(ParserTest, AlterNamespaceErrors) {
  EXPECT_EQ(Err(ParseAlterNamespace(One("ALTER NAMESPACE chat SET OPTIONS (a = 1, A = 2)"))),
            "Option 'A' is given more than once");
  EXPECT_EQ(Err(ParseAlterNamespace(One("ALTER NAMESPACE chat SET OPTIONS ()"))),
            "Expected an option name after '(', found ')'");
  EXPECT_EQ(Err(ParseAlterNamespace(One("ALTER NAMESPACE chat SET OPTIONS (a = b)"))),
            "Expected a literal value after 'a =', found 'b'");
  EXPECT_EQ(Err(ParseAlterNamespace(One("ALTER NAMESPACE chat OPTIONS (a = 1)"))),
            "Expected SET after ALTER NAMESPACE chat, found 'OPTIONS'");
  EXPECT_EQ(Err(ParseAlterNamespace(One("ALTER NAMESPACE chat SET OPTIONS (a = 1"))),
            "Expected ')' after the last option, but the statement ended");
}

TEST(ParserTest, ShowNamespaces) {
  EXPECT_TRUE(ParseShowNamespaces(One("SHOW NAMESPACES")).ok());
  EXPECT_EQ(Err(ParseShowNamespaces(One("SHOW NAMESPACES LIKE 'a'"))),
            "Unexpected 'LIKE' after SHOW NAMESPACES");
}

TEST(ParserTest, UseNamespaceForms) {
  EXPECT_EQ(Ok(ParseUseNamespace(One("USE chat"))).name, "chat");
  EXPECT_EQ(Ok(ParseUseNamespace(One("USE NAMESPACE chat"))).name, "chat");
  EXPECT_EQ(Ok(ParseUseNamespace(One("set namespace chat"))).name, "chat");
  EXPECT_EQ(Ok(ParseUseNamespace(One("USE namespace"))).name, "namespace");
  EXPECT_EQ(Err(ParseUseNamespace(One("USE"))),
            "Expected a namespace name after USE, but the statement ended");
  EXPECT_EQ(Err(ParseUseNamespace(One("USE a.b"))), "Unexpected '.' after USE a");
}

// ---- Tables other than CREATE ----

TEST(ParserTest, DropTable) {
  auto d = Ok(ParseDropTable(One("DROP TABLE IF EXISTS chat.messages")));
  EXPECT_EQ(d.table, (QualifiedName{"chat", "messages"}));
  EXPECT_TRUE(d.if_exists);
  EXPECT_FALSE(d.table_type.has_value());
  auto typed = Ok(ParseDropTable(One("DROP STREAM TABLE events")));
  EXPECT_EQ(typed.table, (QualifiedName{"", "events"}));
  EXPECT_EQ(typed.table_type, TableType::kStream);
  EXPECT_EQ(Ok(ParseDropTable(One("DROP USER TABLE t"))).table_type, TableType::kUser);
  EXPECT_EQ(Ok(ParseDropTable(One("DROP SHARED TABLE t"))).table_type, TableType::kShared);
}

TEST(ParserTest, DropTableErrors) {
  EXPECT_EQ(Err(ParseDropTable(One("DROP TABLE a.b.c"))),
            "Invalid table name 'a.b.…': use name or namespace.name");
  EXPECT_EQ(Err(ParseDropTable(One("DROP TABLE \"x-y\""))),
            "Invalid table name 'x-y': names must match [A-Za-z_][A-Za-z0-9_]* and be at most 64 "
            "characters");
  EXPECT_EQ(Err(ParseDropTable(One("DROP TABLE t CASCADE"))),
            "Unexpected 'CASCADE' after DROP TABLE t");
  EXPECT_EQ(Err(ParseDropTable(One("DROP TABLE ns."))),
            "Expected a table name after DROP TABLE ns., but the statement ended");
}

TEST(ParserTest, ShowTables) {
  EXPECT_EQ(Ok(ParseShowTables(One("SHOW TABLES"))).ns, "");
  EXPECT_EQ(Ok(ParseShowTables(One("SHOW TABLES IN chat"))).ns, "chat");
  EXPECT_EQ(Ok(ParseShowTables(One("SHOW TABLES IN NAMESPACE chat"))).ns, "chat");
  EXPECT_EQ(Err(ParseShowTables(One("SHOW TABLES IN"))),
            "Expected a namespace name after SHOW TABLES IN, but the statement ended");
  EXPECT_EQ(Err(ParseShowTables(One("SHOW TABLES FROM chat"))),
            "Unexpected 'FROM' after SHOW TABLES");
}

TEST(ParserTest, DescribeTable) {
  auto d = Ok(ParseDescribeTable(One("DESCRIBE TABLE chat.messages")));
  EXPECT_EQ(d.table, (QualifiedName{"chat", "messages"}));
  EXPECT_FALSE(d.history);
  auto h = Ok(ParseDescribeTable(One("desc messages history")));
  EXPECT_EQ(h.table, (QualifiedName{"", "messages"}));
  EXPECT_TRUE(h.history);
  EXPECT_EQ(Ok(ParseDescribeTable(One("DESCRIBE table"))).table.name, "table");
  EXPECT_EQ(Err(ParseDescribeTable(One("DESCRIBE TABLE t VERSIONS"))),
            "Unexpected 'VERSIONS' after DESCRIBE TABLE t");
}

TEST(ParserTest, ShowStats) {
  auto s = Ok(ParseShowStats(One("SHOW STATS FOR TABLE chat.messages")));
  EXPECT_EQ(s.table, (QualifiedName{"chat", "messages"}));
  EXPECT_EQ(Err(ParseShowStats(One("SHOW STATS chat.messages"))),
            "Expected FOR after SHOW STATS, found 'chat'");
  EXPECT_EQ(Err(ParseShowStats(One("SHOW STATS FOR chat.messages"))),
            "Expected TABLE after SHOW STATS FOR, found 'chat'");
}

// ---- Users ----

TEST(ParserTest, CreateUser) {
  auto u = Ok(ParseCreateUser(One("CREATE USER alice WITH PASSWORD 's3cret' ROLE user")));
  EXPECT_EQ(u.name, "alice");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.role, "user");
  EXPECT_FALSE(u.email.has_value());
  auto e = Ok(ParseCreateUser(
      One("CREATE USER 'bob@example.com' WITH PASSWORD 'it''s' EMAIL 'b@x.io' ROLE 'dba'")));
  EXPECT_EQ(e.name, "bob@example.com");
  EXPECT_EQ(e.password, "it's");
  EXPECT_EQ(e.role, "dba");
  EXPECT_EQ(e.email, "b@x.io");
}

TEST(ParserTest, CreateUserErrors) {
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice WITH PASSWORD 'pw'"))),
            "CREATE USER needs a ROLE: CREATE USER alice WITH PASSWORD '…' ROLE user");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice PASSWORD 'pw' ROLE user"))),
            "Expected WITH after CREATE USER alice, found 'PASSWORD'");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice WITH PASSWORD pw ROLE user"))),
            "Expected the password as a quoted string after PASSWORD, found 'pw'");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice WITH PASSWORD '' ROLE user"))),
            "Password must not be empty");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice WITH PASSWORD 'p' ROLE a ROLE b"))),
            "ROLE is given more than once in CREATE USER");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice WITH PASSWORD 'p' ROLE a EMAIL x"))),
            "Expected the email as a quoted string after EMAIL, found 'x'");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER alice WITH PASSWORD 'p' ROLE a NAME 'x'"))),
            "Expected ROLE or EMAIL after the password, found 'NAME'");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER 'a b' WITH PASSWORD 'p' ROLE a"))),
            "Invalid user name 'a b': it must be 1 to 128 characters without spaces or control "
            "characters");
  EXPECT_EQ(Err(ParseCreateUser(One("CREATE USER '' WITH PASSWORD 'p' ROLE a"))),
            "Invalid user name '': it must be 1 to 128 characters without spaces or control "
            "characters");
}

TEST(ParserTest, AlterUser) {
  auto p = Ok(ParseAlterUser(One("ALTER USER alice SET PASSWORD 'new'")));
  EXPECT_EQ(p.name, "alice");
  EXPECT_EQ(p.change, AlterUserStmt::Change::kPassword);
  EXPECT_EQ(p.value, "new");
  auto r = Ok(ParseAlterUser(One("ALTER USER 'alice' SET ROLE service")));
  EXPECT_EQ(r.change, AlterUserStmt::Change::kRole);
  EXPECT_EQ(r.value, "service");
  auto e = Ok(ParseAlterUser(One("ALTER USER alice SET EMAIL 'a@b.c'")));
  EXPECT_EQ(e.change, AlterUserStmt::Change::kEmail);
  EXPECT_EQ(e.value, "a@b.c");
  EXPECT_EQ(Err(ParseAlterUser(One("ALTER USER alice SET NAME 'x'"))),
            "Expected PASSWORD, ROLE or EMAIL after ALTER USER alice SET, found 'NAME'");
  EXPECT_EQ(Err(ParseAlterUser(One("ALTER USER alice SET ROLE dba, EMAIL 'x'"))),
            "Unexpected ',' after ALTER USER alice SET …");
}

TEST(ParserTest, DropUser) {
  auto d = Ok(ParseDropUser(One("DROP USER IF EXISTS 'alice'")));
  EXPECT_EQ(d.name, "alice");
  EXPECT_TRUE(d.if_exists);
  EXPECT_FALSE(Ok(ParseDropUser(One("DROP USER bob"))).if_exists);
  EXPECT_EQ(Err(ParseDropUser(One("DROP USER"))),
            "Expected a user name after DROP USER, but the statement ended");
}

// ---- EXECUTE AS USER ----

TEST(ParserTest, ExecuteAsCarriesTheInnerStatement) {
  auto e = Ok(ParseExecuteAs(One("EXECUTE AS USER 'alice' ( INSERT INTO t VALUES (1, 'a;b') )")));
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.inner.text, "INSERT INTO t VALUES (1, 'a;b')");
  ASSERT_FALSE(e.inner.tokens.empty());
  EXPECT_EQ(e.inner.tokens[0].offset, 0u);
  EXPECT_TRUE(e.inner.tokens[0].IsWord("INSERT"));
  auto trailing = Ok(ParseExecuteAs(One("EXECUTE AS USER bob (SELECT 1;)")));
  EXPECT_EQ(trailing.user, "bob");
  EXPECT_EQ(trailing.inner.text, "SELECT 1");
}

// ---- EXPLAIN ----

TEST(ParserTest, ExplainCarriesTheSelect) {
  auto e = Ok(ParseExplain(One("EXPLAIN SELECT * FROM t WHERE id = 1")));
  EXPECT_FALSE(e.analyze);
  EXPECT_EQ(e.inner.text, "SELECT * FROM t WHERE id = 1");
  auto a = Ok(ParseExplain(One("explain analyze WITH c AS (SELECT 1) SELECT * FROM c")));
  EXPECT_TRUE(a.analyze);
  EXPECT_EQ(a.inner.text, "WITH c AS (SELECT 1) SELECT * FROM c");
}

TEST(ParserTest, ExplainRefusesEverythingButSelect) {
  const std::string writes = " (writes are never explained, so EXPLAIN ANALYZE never runs one)";
  EXPECT_EQ(Err(ParseExplain(One("EXPLAIN ANALYZE DELETE FROM t"))),
            "EXPLAIN ANALYZE supports SELECT statements only, not DELETE" + writes);
  EXPECT_EQ(Err(ParseExplain(One("EXPLAIN WITH c AS (SELECT 1) INSERT INTO t SELECT * FROM c"))),
            "EXPLAIN supports SELECT statements only, not INSERT" + writes);
  EXPECT_EQ(Err(ParseExplain(One("EXPLAIN DROP TABLE t"))),
            "EXPLAIN supports SELECT statements only, not DROP TABLE");
  EXPECT_EQ(Err(ParseExplain(One("EXPLAIN ANALYZE"))),
            "EXPLAIN ANALYZE needs a SELECT statement: EXPLAIN ANALYZE SELECT …");
  EXPECT_EQ(Err(ParseExplain(One("EXPLAIN QUERY PLAN SELECT 1"))),
            "EXPLAIN QUERY PLAN is not supported: use EXPLAIN SELECT … or EXPLAIN ANALYZE "
            "SELECT …");
  EXPECT_EQ(Err(ParseExplain(One("EXPLAIN ATTACH 'x' AS y"))), "Unsupported statement: ATTACH");
}

TEST(ParserTest, ExecuteAsErrors) {
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' (SELECT 1; SELECT 2)"))),
            "EXECUTE AS USER 'a' takes exactly one statement");
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' (SELECT 1;;)"))),
            "EXECUTE AS USER 'a' takes exactly one statement");
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' ()"))),
            "EXECUTE AS USER 'a' needs a statement inside ( )");
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' SELECT 1"))),
            "Expected '(' after EXECUTE AS USER 'a', found 'SELECT'");
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' (SELECT 1"))),
            "Missing ')' to close EXECUTE AS USER 'a' ( …");
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' (SELECT 1) x"))),
            "Unexpected 'x' after EXECUTE AS USER 'a' ( … )");
  EXPECT_EQ(Err(ParseExecuteAs(One("EXECUTE AS USER 'a' (EXECUTE AS USER 'b' (SELECT 1))"))),
            "EXECUTE AS USER cannot be nested");
}

}  // namespace
}  // namespace kalam::sql::parser
