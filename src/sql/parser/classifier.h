// The statement classifier: decides from a statement's leading tokens which kind of statement it
// is, and rejects the SQLite statements KalamDB does not run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/parser/lexer.h"

namespace kalam::sql::parser {

enum class StatementKind : uint8_t {
  // Run by SQLite (after analysis and rewriting, see analyzer.h).
  kSelect,  // SELECT, WITH … SELECT, VALUES, ( SELECT … )
  kInsert,  // INSERT [OR IGNORE|ABORT|FAIL|ROLLBACK] INTO …, WITH … INSERT
  kUpdate,  // UPDATE [OR …] …, WITH … UPDATE
  kDelete,  // DELETE FROM …, WITH … DELETE
  // Transaction control.
  kBegin,     // BEGIN [DEFERRED|IMMEDIATE|EXCLUSIVE] [TRANSACTION], START TRANSACTION
  kCommit,    // COMMIT [TRANSACTION], END [TRANSACTION]
  kRollback,  // ROLLBACK [TRANSACTION]
  // KalamDB statements (SQL.md §2).
  kCreateNamespace,
  kDropNamespace,
  kAlterNamespace,
  kShowNamespaces,
  kUse,  // USE ns, USE NAMESPACE ns, SET NAMESPACE ns
  kCreateTable,
  kAlterTable,
  kDropTable,
  kShowTables,
  kDescribeTable,  // DESCRIBE … / DESC …
  kShowStats,
  kCreateUser,
  kAlterUser,
  kDropUser,
  kCreateStorage,
  kAlterStorage,
  kDropStorage,
  kShowStorages,
  kStorageCheck,
  kStorageFlush,  // STORAGE FLUSH …, FLUSH TABLE …, FLUSH ALL TABLES
  kStorageCompact,
  kKillJob,
  kKillLiveQuery,
  kSubscribe,
  kExecuteAs,
  kBackup,
  kRestore,
  kBackupNamespace,   // BACKUP NAMESPACE <ns> TO '<dir>'
  kRestoreNamespace,  // RESTORE NAMESPACE <ns> FROM '<dir>' [AS <other>] [REPLACE]
  // Topics (docs/topics.md).
  kCreateTopic,
  kDropTopic,
  kClearTopic,
  kAlterTopic,
  kConsume,  // CONSUME FROM …
  kAck,      // ACK …
  kShowBackups,  // SHOW BACKUPS FROM '<dir>'
  // User data export (docs/export.md).
  kExportUserData,  // EXPORT USER DATA
  kShowExport,      // SHOW EXPORT
  kExplain,  // EXPLAIN [ANALYZE] <SELECT> (docs/explain.md)
};

// Stable upper-case name of a kind as a user would write it ("SELECT", "CREATE TABLE",
// "STORAGE FLUSH"), for messages such as "<name> is not supported yet".
std::string_view StatementKindName(StatementKind kind);

// True for the kinds SQLite runs: kSelect, kInsert, kUpdate, kDelete.
bool IsDmlKind(StatementKind kind);

// Index of the word that starts the statement's main clause: the first token after any leading
// `(`, or for a statement opening with WITH, the first SELECT/VALUES/INSERT/REPLACE/UPDATE/DELETE
// outside the common table expressions. tokens.size() when there is none.
size_t FindMainVerb(const std::vector<Token>& tokens);

// Classifies a statement from its significant tokens (as produced by SplitStatements). Only the
// leading words are examined, plus a scan for `ON CONFLICT` in INSERT; the full syntax is checked
// later by the parser (KalamDB statements) or by SQLite (DML).
// Fails with kInvalidSql:
//   - "UPSERT is not supported" for REPLACE …, INSERT OR REPLACE … and INSERT … ON CONFLICT;
//   - "Unsupported statement: <first words>" for everything else KalamDB does not run (PRAGMA,
//     ATTACH, CREATE INDEX, CREATE VIEW, VACUUM, SAVEPOINT, ROLLBACK TO, …);
//   - "Empty statement" when `tokens` is empty.
Result<StatementKind> ClassifyStatement(const std::vector<Token>& tokens);

}  // namespace kalam::sql::parser
