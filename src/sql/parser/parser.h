// The parser of KalamDB's own statements: one function per statement kind, each turning a
// classified statement into its syntax tree (ast.h) with full validation.
#pragma once

#include "common/status.h"
#include "sql/parser/ast.h"
#include "sql/parser/splitter.h"

namespace kalam::sql::parser {

// Every function below takes a statement that ClassifyStatement put in the matching kind and
// parses all of it: trailing tokens are an error. Failures are kInvalidSql with a message that
// names what was expected and what was found ("Expected '(' after CREATE TABLE chat.messages,
// found 'AS'"), or the rule that was broken. None of them checks that named entities exist.

// CREATE NAMESPACE [IF NOT EXISTS] ns
Result<CreateNamespaceStmt> ParseCreateNamespace(const SqlStatement& stmt);
// DROP NAMESPACE [IF EXISTS] ns [CASCADE]
Result<DropNamespaceStmt> ParseDropNamespace(const SqlStatement& stmt);
// ALTER NAMESPACE ns SET OPTIONS (key = literal, …): keys are identifiers or strings, unique
// ignoring case.
Result<AlterNamespaceStmt> ParseAlterNamespace(const SqlStatement& stmt);
// SHOW NAMESPACES
Result<ShowNamespacesStmt> ParseShowNamespaces(const SqlStatement& stmt);
// USE ns | USE NAMESPACE ns | SET NAMESPACE ns
Result<UseNamespaceStmt> ParseUseNamespace(const SqlStatement& stmt);

// CREATE [USER|SHARED|STREAM] TABLE [IF NOT EXISTS] [ns.]t ( column, … [, PRIMARY KEY (c)] )
//   [WITH (option = value, …)]
// column: name TYPE [NOT NULL | NULL] [DEFAULT expr] [PRIMARY KEY] [AUTO_INCREMENT]
//   [GENERATED [ALWAYS | BY DEFAULT] AS IDENTITY] [COMMENT 'text'], constraints in any order.
// Enforces: identifier rules; exactly one single-column PRIMARY KEY; unique column names
// (ignoring case); `_seq` and `_deleted` are reserved; DEFAULT is a literal or one of NOW(),
// CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID(), CURRENT_USER[()]; options are known,
// given once, well-formed, and fit the table type (TTL_SECONDS only and always for STREAM,
// ACCESS_LEVEL only for SHARED, TYPE agreeing with the keyword form); the namespace is not
// `system`.
Result<CreateTableStmt> ParseCreateTable(const SqlStatement& stmt);
// ALTER TABLE [ns.]t, then one of:
//   ADD [COLUMN] name TYPE [NOT NULL | NULL] [DEFAULT expr] [AUTO_INCREMENT] [COMMENT 'text']
//   DROP [COLUMN] name
//   MODIFY [COLUMN] name TYPE [NOT NULL | NULL]
//   ALTER [COLUMN] name SET NOT NULL | DROP NOT NULL | SET DEFAULT expr | DROP DEFAULT
//                       | [SET DATA] TYPE type          (the same as MODIFY without NULL/NOT NULL)
//   RENAME [COLUMN] a TO b
//   SET ACCESS LEVEL PUBLIC|PRIVATE|RESTRICTED|DBA | SET TBLPROPERTIES (ACCESS_LEVEL = 'x')
// A bare COLUMN after the verb is always the keyword (quote "column" to name such a column).
// Enforces the CREATE TABLE rules for names, types and defaults (reserved `_seq`/`_deleted`
// included); refuses PRIMARY KEY in ADD COLUMN (the key is fixed at CREATE) and AUTO_INCREMENT
// in MODIFY. Whether the table is SHARED, the column exists or the change is safe is the
// executor's to check.
Result<AlterTableStmt> ParseAlterTable(const SqlStatement& stmt);
// DROP [USER|SHARED|STREAM] TABLE [IF EXISTS] [ns.]t
Result<DropTableStmt> ParseDropTable(const SqlStatement& stmt);
// SHOW TABLES [IN [NAMESPACE] ns]
Result<ShowTablesStmt> ParseShowTables(const SqlStatement& stmt);
// DESCRIBE|DESC [TABLE] [ns.]t [HISTORY]
Result<DescribeTableStmt> ParseDescribeTable(const SqlStatement& stmt);
// SHOW STATS FOR TABLE [ns.]t
Result<ShowStatsStmt> ParseShowStats(const SqlStatement& stmt);

// CREATE USER name WITH PASSWORD 'pw' ROLE role [EMAIL 'e']: name and role may be bare words or
// quoted strings; ROLE and EMAIL may come in either order.
Result<CreateUserStmt> ParseCreateUser(const SqlStatement& stmt);
// ALTER USER name SET PASSWORD 'pw' | SET ROLE role | SET EMAIL 'e'
Result<AlterUserStmt> ParseAlterUser(const SqlStatement& stmt);
// DROP USER [IF EXISTS] name
Result<DropUserStmt> ParseDropUser(const SqlStatement& stmt);

// EXECUTE AS USER 'alice' ( <one statement> ): the user may be a string or a bare word. The
// inner statement must be a single non-empty statement (one trailing ';' is allowed) and not
// itself an EXECUTE AS USER.
Result<ExecuteAsStmt> ParseExecuteAs(const SqlStatement& stmt);

// EXPLAIN [ANALYZE] <statement>: kInvalidSql unless the statement is one SELECT (EXPLAIN QUERY
// PLAN and EXPLAIN VERBOSE are refused; DML is never explained, so ANALYZE never runs a write).
Result<ExplainStmt> ParseExplain(const SqlStatement& stmt);

}  // namespace kalam::sql::parser
