// The statement classifier: a decision over the first few words of a statement.
#include "sql/parser/classifier.h"

#include <string>

namespace kalam::sql::parser {
namespace {

class Words {
 public:
  explicit Words(const std::vector<Token>& tokens) : tokens_(tokens) {}
  bool Is(size_t i, std::string_view word) const {
    return i < tokens_.size() && tokens_[i].IsWord(word);
  }
  bool AtEnd(size_t i) const { return i >= tokens_.size(); }

 private:
  const std::vector<Token>& tokens_;
};

Status Upsert() {
  return Status::InvalidSql(
      "UPSERT is not supported: use INSERT for new rows and UPDATE for existing ones");
}

// "PRAGMA", "CREATE INDEX", "CREATE UNIQUE INDEX", "ROLLBACK TO": enough words to recognise the
// statement in an error message.
std::string FirstWords(const std::vector<Token>& tokens) {
  auto word = [&](size_t i) -> std::string {
    if (tokens[i].kind == TokenKind::kIdentifier) return ToUpperAscii(tokens[i].value);
    return tokens[i].value;
  };
  std::string out = word(0);
  if (tokens[0].kind != TokenKind::kIdentifier) return out;
  static constexpr std::string_view kVerbs[] = {
      "CREATE", "DROP", "ALTER", "SHOW", "SET", "START", "STORAGE", "KILL", "FLUSH",
      "ROLLBACK", "BACKUP", "RESTORE", "EXECUTE", "BEGIN", "COMMIT", "END", "SUBSCRIBE"};
  static constexpr std::string_view kModifiers[] = {"UNIQUE", "TEMP", "TEMPORARY", "VIRTUAL",
                                                   "LIVE", "TRANSACTION", "AS"};
  bool is_verb = false;
  for (std::string_view verb : kVerbs) is_verb = is_verb || tokens[0].IsWord(verb);
  if (!is_verb || tokens.size() < 2 || tokens[1].kind != TokenKind::kIdentifier) return out;
  out += " " + word(1);
  bool is_modifier = false;
  for (std::string_view modifier : kModifiers) {
    is_modifier = is_modifier || tokens[1].IsWord(modifier);
  }
  if (is_modifier && tokens.size() > 2 && tokens[2].kind == TokenKind::kIdentifier) {
    out += " " + word(2);
  }
  return out;
}

Status Unsupported(const std::vector<Token>& tokens) {
  return Status::InvalidSql("Unsupported statement: " + FirstWords(tokens));
}

// INSERT [OR action] …: OR REPLACE and ON CONFLICT are UPSERT.
Result<StatementKind> ClassifyInsert(const std::vector<Token>& tokens, size_t verb) {
  Words w(tokens);
  if (w.Is(verb + 1, "OR") && w.Is(verb + 2, "REPLACE")) return Upsert();
  for (size_t i = verb + 1; i + 1 < tokens.size(); ++i) {
    if (tokens[i].IsWord("ON") && tokens[i + 1].IsWord("CONFLICT") &&
        (i + 2 >= tokens.size() || tokens[i + 2].IsPunct('(') || tokens[i + 2].IsWord("DO"))) {
      return Upsert();
    }
  }
  return StatementKind::kInsert;
}

// Transaction control: BEGIN/COMMIT/END/ROLLBACK with their optional words and nothing else.
Result<StatementKind> ClassifyTransaction(const std::vector<Token>& tokens, StatementKind kind) {
  Words w(tokens);
  size_t i = 1;
  if (kind == StatementKind::kBegin &&
      (w.Is(i, "DEFERRED") || w.Is(i, "IMMEDIATE") || w.Is(i, "EXCLUSIVE"))) {
    ++i;
  }
  if (w.Is(i, "TRANSACTION")) ++i;
  if (w.AtEnd(i)) return kind;
  if (kind == StatementKind::kRollback && w.Is(i, "TO")) {
    return Status::InvalidSql("Unsupported statement: ROLLBACK TO (savepoints are not supported)");
  }
  return Status::InvalidSql("Unexpected '" + tokens[i].value + "' after " +
                            ToUpperAscii(tokens[0].value) +
                            ": transaction statements take no arguments");
}

Result<StatementKind> ClassifyCreate(const std::vector<Token>& tokens) {
  Words w(tokens);
  if (w.Is(1, "NAMESPACE")) return StatementKind::kCreateNamespace;
  if (w.Is(1, "TABLE")) return StatementKind::kCreateTable;
  if ((w.Is(1, "USER") || w.Is(1, "SHARED") || w.Is(1, "STREAM")) && w.Is(2, "TABLE")) {
    return StatementKind::kCreateTable;
  }
  if (w.Is(1, "USER")) return StatementKind::kCreateUser;
  if (w.Is(1, "STORAGE")) return StatementKind::kCreateStorage;
  if (w.Is(1, "TOPIC")) return StatementKind::kCreateTopic;
  return Unsupported(tokens);
}

Result<StatementKind> ClassifyDrop(const std::vector<Token>& tokens) {
  Words w(tokens);
  if (w.Is(1, "NAMESPACE")) return StatementKind::kDropNamespace;
  if (w.Is(1, "TABLE")) return StatementKind::kDropTable;
  if ((w.Is(1, "USER") || w.Is(1, "SHARED") || w.Is(1, "STREAM")) && w.Is(2, "TABLE")) {
    return StatementKind::kDropTable;
  }
  if (w.Is(1, "USER")) return StatementKind::kDropUser;
  if (w.Is(1, "STORAGE")) return StatementKind::kDropStorage;
  if (w.Is(1, "TOPIC")) return StatementKind::kDropTopic;
  return Unsupported(tokens);
}

}  // namespace

std::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kSelect: return "SELECT";
    case StatementKind::kInsert: return "INSERT";
    case StatementKind::kUpdate: return "UPDATE";
    case StatementKind::kDelete: return "DELETE";
    case StatementKind::kBegin: return "BEGIN";
    case StatementKind::kCommit: return "COMMIT";
    case StatementKind::kRollback: return "ROLLBACK";
    case StatementKind::kCreateNamespace: return "CREATE NAMESPACE";
    case StatementKind::kDropNamespace: return "DROP NAMESPACE";
    case StatementKind::kAlterNamespace: return "ALTER NAMESPACE";
    case StatementKind::kShowNamespaces: return "SHOW NAMESPACES";
    case StatementKind::kUse: return "USE";
    case StatementKind::kCreateTable: return "CREATE TABLE";
    case StatementKind::kAlterTable: return "ALTER TABLE";
    case StatementKind::kDropTable: return "DROP TABLE";
    case StatementKind::kShowTables: return "SHOW TABLES";
    case StatementKind::kDescribeTable: return "DESCRIBE TABLE";
    case StatementKind::kShowStats: return "SHOW STATS";
    case StatementKind::kCreateUser: return "CREATE USER";
    case StatementKind::kAlterUser: return "ALTER USER";
    case StatementKind::kDropUser: return "DROP USER";
    case StatementKind::kCreateStorage: return "CREATE STORAGE";
    case StatementKind::kAlterStorage: return "ALTER STORAGE";
    case StatementKind::kDropStorage: return "DROP STORAGE";
    case StatementKind::kShowStorages: return "SHOW STORAGES";
    case StatementKind::kStorageCheck: return "STORAGE CHECK";
    case StatementKind::kStorageFlush: return "STORAGE FLUSH";
    case StatementKind::kStorageCompact: return "STORAGE COMPACT";
    case StatementKind::kKillJob: return "KILL JOB";
    case StatementKind::kKillLiveQuery: return "KILL LIVE QUERY";
    case StatementKind::kSubscribe: return "SUBSCRIBE";
    case StatementKind::kExecuteAs: return "EXECUTE AS USER";
    case StatementKind::kBackup: return "BACKUP DATABASE";
    case StatementKind::kRestore: return "RESTORE DATABASE";
    case StatementKind::kBackupNamespace: return "BACKUP NAMESPACE";
    case StatementKind::kRestoreNamespace: return "RESTORE NAMESPACE";
    case StatementKind::kCreateTopic: return "CREATE TOPIC";
    case StatementKind::kDropTopic: return "DROP TOPIC";
    case StatementKind::kClearTopic: return "CLEAR TOPIC";
    case StatementKind::kAlterTopic: return "ALTER TOPIC";
    case StatementKind::kConsume: return "CONSUME";
    case StatementKind::kAck: return "ACK";
    case StatementKind::kShowBackups: return "SHOW BACKUPS";
    case StatementKind::kExportUserData: return "EXPORT USER DATA";
    case StatementKind::kShowExport: return "SHOW EXPORT";
    case StatementKind::kExplain: return "EXPLAIN";
  }
  return "UNKNOWN";
}

bool IsDmlKind(StatementKind kind) {
  return kind == StatementKind::kSelect || kind == StatementKind::kInsert ||
         kind == StatementKind::kUpdate || kind == StatementKind::kDelete;
}

size_t FindMainVerb(const std::vector<Token>& tokens) {
  size_t i = 0;
  while (i < tokens.size() && tokens[i].IsPunct('(')) ++i;
  if (i >= tokens.size() || !tokens[i].IsWord("WITH")) return i;
  size_t depth = 0;
  for (++i; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.IsPunct('(')) {
      ++depth;
    } else if (t.IsPunct(')')) {
      if (depth > 0) --depth;
    } else if (depth == 0 && (t.IsWord("SELECT") || t.IsWord("VALUES") || t.IsWord("INSERT") ||
                              t.IsWord("REPLACE") || t.IsWord("UPDATE") || t.IsWord("DELETE"))) {
      return i;
    }
  }
  return tokens.size();
}

Result<StatementKind> ClassifyStatement(const std::vector<Token>& tokens) {
  if (tokens.empty()) return Status::InvalidSql("Empty statement");
  Words w(tokens);
  const Token& first = tokens[0];
  if (first.IsPunct('(') || first.IsWord("WITH")) {
    size_t verb = FindMainVerb(tokens);
    if (w.Is(verb, "SELECT") || w.Is(verb, "VALUES")) return StatementKind::kSelect;
    if (first.IsWord("WITH")) {
      if (w.Is(verb, "INSERT")) return ClassifyInsert(tokens, verb);
      if (w.Is(verb, "REPLACE")) return Upsert();
      if (w.Is(verb, "UPDATE")) return StatementKind::kUpdate;
      if (w.Is(verb, "DELETE")) return StatementKind::kDelete;
    }
    return Unsupported(tokens);
  }
  if (first.kind != TokenKind::kIdentifier) return Unsupported(tokens);
  if (first.IsWord("SELECT") || first.IsWord("VALUES")) return StatementKind::kSelect;
  if (first.IsWord("INSERT")) return ClassifyInsert(tokens, 0);
  if (first.IsWord("REPLACE")) return Upsert();
  if (first.IsWord("UPDATE")) return StatementKind::kUpdate;
  if (first.IsWord("DELETE")) return StatementKind::kDelete;
  if (first.IsWord("BEGIN")) return ClassifyTransaction(tokens, StatementKind::kBegin);
  if (first.IsWord("START") && w.Is(1, "TRANSACTION") && w.AtEnd(2)) return StatementKind::kBegin;
  if (first.IsWord("COMMIT") || first.IsWord("END")) {
    return ClassifyTransaction(tokens, StatementKind::kCommit);
  }
  if (first.IsWord("ROLLBACK")) return ClassifyTransaction(tokens, StatementKind::kRollback);
  if (first.IsWord("CREATE")) return ClassifyCreate(tokens);
  if (first.IsWord("DROP")) return ClassifyDrop(tokens);
  if (first.IsWord("ALTER")) {
    if (w.Is(1, "NAMESPACE")) return StatementKind::kAlterNamespace;
    if (w.Is(1, "TABLE")) return StatementKind::kAlterTable;
    if (w.Is(1, "USER")) return StatementKind::kAlterUser;
    if (w.Is(1, "STORAGE")) return StatementKind::kAlterStorage;
    if (w.Is(1, "TOPIC")) return StatementKind::kAlterTopic;
    return Unsupported(tokens);
  }
  if (first.IsWord("SHOW")) {
    if (w.Is(1, "NAMESPACES")) return StatementKind::kShowNamespaces;
    if (w.Is(1, "TABLES")) return StatementKind::kShowTables;
    if (w.Is(1, "STATS")) return StatementKind::kShowStats;
    if (w.Is(1, "STORAGES")) return StatementKind::kShowStorages;
    if (w.Is(1, "BACKUPS")) return StatementKind::kShowBackups;
    if (w.Is(1, "EXPORT")) return StatementKind::kShowExport;
    return Unsupported(tokens);
  }
  if (first.IsWord("USE")) return StatementKind::kUse;
  if (first.IsWord("SET") && w.Is(1, "NAMESPACE")) return StatementKind::kUse;
  if (first.IsWord("DESCRIBE") || first.IsWord("DESC")) return StatementKind::kDescribeTable;
  if (first.IsWord("STORAGE")) {
    if (w.Is(1, "CHECK")) return StatementKind::kStorageCheck;
    if (w.Is(1, "FLUSH")) return StatementKind::kStorageFlush;
    if (w.Is(1, "COMPACT")) return StatementKind::kStorageCompact;
    return Unsupported(tokens);
  }
  if (first.IsWord("FLUSH") && (w.Is(1, "TABLE") || w.Is(1, "ALL"))) {
    return StatementKind::kStorageFlush;
  }
  if (first.IsWord("KILL")) {
    if (w.Is(1, "JOB")) return StatementKind::kKillJob;
    if (w.Is(1, "LIVE") && w.Is(2, "QUERY")) return StatementKind::kKillLiveQuery;
    return Unsupported(tokens);
  }
  if (first.IsWord("SUBSCRIBE") && w.Is(1, "TO")) return StatementKind::kSubscribe;
  if (first.IsWord("EXECUTE") && w.Is(1, "AS") && w.Is(2, "USER")) {
    return StatementKind::kExecuteAs;
  }
  if (first.IsWord("CLEAR") && w.Is(1, "TOPIC")) return StatementKind::kClearTopic;
  if (first.IsWord("CONSUME") && w.Is(1, "FROM")) return StatementKind::kConsume;
  if (first.IsWord("ACK")) return StatementKind::kAck;
  if (first.IsWord("BACKUP") && w.Is(1, "DATABASE")) return StatementKind::kBackup;
  if (first.IsWord("BACKUP") && w.Is(1, "NAMESPACE")) return StatementKind::kBackupNamespace;
  if (first.IsWord("EXPORT") && w.Is(1, "USER") && w.Is(2, "DATA")) {
    return StatementKind::kExportUserData;
  }
  if (first.IsWord("RESTORE") && w.Is(1, "DATABASE")) return StatementKind::kRestore;
  if (first.IsWord("RESTORE") && w.Is(1, "NAMESPACE")) return StatementKind::kRestoreNamespace;
  if (first.IsWord("EXPLAIN")) return StatementKind::kExplain;
  return Unsupported(tokens);
}

}  // namespace kalam::sql::parser
