// Parsers of the namespace, table-listing, user and EXECUTE AS statements (CREATE TABLE lives in
// create_table_parser.cc, ALTER TABLE in alter_table_parser.cc).
#include "sql/parser/parser.h"

#include <string>

#include "sql/parser/classifier.h"
#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {
namespace {

constexpr size_t kMaxUserNameLength = 128;

Status ValidateUserName(std::string_view name) {
  bool valid = !name.empty() && name.size() <= kMaxUserNameLength;
  for (unsigned char c : name) valid = valid && c > ' ' && c != 0x7f;
  if (valid) return Status::OK();
  return Status::InvalidSql("Invalid user name '" + std::string(name) +
                            "': it must be 1 to 128 characters without spaces or control "
                            "characters");
}

Result<std::string> ExpectUserName(TokenCursor& cursor, std::string_view after) {
  KALAM_ASSIGN_OR_RETURN(std::string name, cursor.ExpectStringOrName("a user name", after));
  KALAM_RETURN_IF_ERROR(ValidateUserName(name));
  return name;
}

Result<std::string> ExpectPassword(TokenCursor& cursor, std::string_view after) {
  KALAM_ASSIGN_OR_RETURN(std::string password, cursor.ExpectString("the password", after));
  if (password.empty()) return Status::InvalidSql("Password must not be empty");
  return password;
}

}  // namespace

// ---- Namespaces ----

Result<CreateNamespaceStmt> ParseCreateNamespace(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("CREATE", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("NAMESPACE", "CREATE"));
  CreateNamespaceStmt out;
  out.if_not_exists = cursor.AcceptIfNotExists();
  KALAM_ASSIGN_OR_RETURN(out.name, cursor.ExpectIdentifier("namespace", "CREATE NAMESPACE"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("CREATE NAMESPACE " + out.name));
  return out;
}

Result<DropNamespaceStmt> ParseDropNamespace(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("DROP", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("NAMESPACE", "DROP"));
  DropNamespaceStmt out;
  out.if_exists = cursor.AcceptIfExists();
  KALAM_ASSIGN_OR_RETURN(out.name, cursor.ExpectIdentifier("namespace", "DROP NAMESPACE"));
  out.cascade = cursor.AcceptWord("CASCADE");
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("DROP NAMESPACE " + out.name));
  return out;
}

Result<AlterNamespaceStmt> ParseAlterNamespace(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("ALTER", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("NAMESPACE", "ALTER"));
  AlterNamespaceStmt out;
  KALAM_ASSIGN_OR_RETURN(out.name, cursor.ExpectIdentifier("namespace", "ALTER NAMESPACE"));
  const std::string head = "ALTER NAMESPACE " + out.name;
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("SET", head));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("OPTIONS", head + " SET"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectPunct('(', "SET OPTIONS"));
  do {
    const Token* key = cursor.Peek();
    if (key == nullptr || !(key->IsName() || key->kind == TokenKind::kString)) {
      return cursor.Unexpected("an option name", out.options.empty() ? "'('" : "','");
    }
    cursor.Next();
    for (const NamespaceOption& option : out.options) {
      if (EqualsIgnoreCase(option.key, key->value)) {
        return Status::InvalidSql("Option '" + key->value + "' is given more than once");
      }
    }
    KALAM_RETURN_IF_ERROR(cursor.ExpectOperator("=", "option '" + key->value + "'"));
    NamespaceOption option;
    option.key = key->value;
    KALAM_ASSIGN_OR_RETURN(option.value,
                           cursor.ExpectLiteral("a literal value", "'" + key->value + " ='"));
    out.options.push_back(std::move(option));
  } while (cursor.AcceptPunct(','));
  KALAM_RETURN_IF_ERROR(cursor.ExpectPunct(')', "the last option"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("SET OPTIONS (…)"));
  return out;
}

Result<ShowNamespacesStmt> ParseShowNamespaces(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("SHOW", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("NAMESPACES", "SHOW"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("SHOW NAMESPACES"));
  return ShowNamespacesStmt{};
}

Result<UseNamespaceStmt> ParseUseNamespace(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  std::string head;
  if (cursor.AcceptWord("SET")) {
    KALAM_RETURN_IF_ERROR(cursor.ExpectWord("NAMESPACE", "SET"));
    head = "SET NAMESPACE";
  } else {
    KALAM_RETURN_IF_ERROR(cursor.ExpectWord("USE", "the start of the statement"));
    // `USE namespace` names a namespace called "namespace"; `USE NAMESPACE x` is the long form.
    head = "USE";
    if (cursor.PeekWord("NAMESPACE") && cursor.Peek(1) != nullptr) {
      cursor.Next();
      head = "USE NAMESPACE";
    }
  }
  UseNamespaceStmt out;
  KALAM_ASSIGN_OR_RETURN(out.name, cursor.ExpectIdentifier("namespace", head));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd(head + " " + out.name));
  return out;
}

// ---- Tables other than CREATE ----

Result<DropTableStmt> ParseDropTable(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("DROP", "the start of the statement"));
  DropTableStmt out;
  if (cursor.AcceptWord("USER")) {
    out.table_type = TableType::kUser;
  } else if (cursor.AcceptWord("SHARED")) {
    out.table_type = TableType::kShared;
  } else if (cursor.AcceptWord("STREAM")) {
    out.table_type = TableType::kStream;
  }
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("TABLE", "DROP"));
  out.if_exists = cursor.AcceptIfExists();
  KALAM_ASSIGN_OR_RETURN(out.table, cursor.ExpectQualifiedName("table", "DROP TABLE"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("DROP TABLE " + out.table.ToString()));
  return out;
}

Result<ShowTablesStmt> ParseShowTables(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("SHOW", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("TABLES", "SHOW"));
  ShowTablesStmt out;
  if (cursor.AcceptWord("IN")) {
    // `IN namespace` alone names a namespace called "namespace".
    if (cursor.PeekWord("NAMESPACE") && cursor.Peek(1) != nullptr) cursor.Next();
    KALAM_ASSIGN_OR_RETURN(out.ns, cursor.ExpectIdentifier("namespace", "SHOW TABLES IN"));
  }
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd(out.ns.empty() ? "SHOW TABLES" : out.ns));
  return out;
}

Result<DescribeTableStmt> ParseDescribeTable(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  if (!cursor.AcceptWord("DESCRIBE")) {
    KALAM_RETURN_IF_ERROR(cursor.ExpectWord("DESC", "the start of the statement"));
  }
  // `DESCRIBE table` alone describes a table called "table".
  if (cursor.PeekWord("TABLE") && cursor.Peek(1) != nullptr) cursor.Next();
  DescribeTableStmt out;
  KALAM_ASSIGN_OR_RETURN(out.table, cursor.ExpectQualifiedName("table", "DESCRIBE TABLE"));
  out.history = cursor.AcceptWord("HISTORY");
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("DESCRIBE TABLE " + out.table.ToString() +
                                         (out.history ? " HISTORY" : "")));
  return out;
}

Result<ShowStatsStmt> ParseShowStats(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("SHOW", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("STATS", "SHOW"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("FOR", "SHOW STATS"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("TABLE", "SHOW STATS FOR"));
  ShowStatsStmt out;
  KALAM_ASSIGN_OR_RETURN(out.table, cursor.ExpectQualifiedName("table", "SHOW STATS FOR TABLE"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("SHOW STATS FOR TABLE " + out.table.ToString()));
  return out;
}

// ---- Users ----

Result<CreateUserStmt> ParseCreateUser(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("CREATE", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("USER", "CREATE"));
  CreateUserStmt out;
  KALAM_ASSIGN_OR_RETURN(out.name, ExpectUserName(cursor, "CREATE USER"));
  const std::string head = "CREATE USER " + out.name;
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("WITH", head));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("PASSWORD", head + " WITH"));
  KALAM_ASSIGN_OR_RETURN(out.password, ExpectPassword(cursor, "PASSWORD"));
  bool has_role = false;
  while (!cursor.AtEnd()) {
    if (cursor.AcceptWord("ROLE")) {
      if (has_role) return Status::InvalidSql("ROLE is given more than once in CREATE USER");
      KALAM_ASSIGN_OR_RETURN(out.role, cursor.ExpectStringOrName("a role", "ROLE"));
      if (out.role.empty()) return Status::InvalidSql("ROLE must not be empty");
      has_role = true;
    } else if (cursor.AcceptWord("EMAIL")) {
      if (out.email) return Status::InvalidSql("EMAIL is given more than once in CREATE USER");
      KALAM_ASSIGN_OR_RETURN(out.email, cursor.ExpectString("the email", "EMAIL"));
    } else {
      return cursor.Unexpected("ROLE or EMAIL", "the password");
    }
  }
  if (!has_role) {
    return Status::InvalidSql("CREATE USER needs a ROLE: CREATE USER " + out.name +
                              " WITH PASSWORD '…' ROLE user");
  }
  return out;
}

Result<AlterUserStmt> ParseAlterUser(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("ALTER", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("USER", "ALTER"));
  AlterUserStmt out;
  KALAM_ASSIGN_OR_RETURN(out.name, ExpectUserName(cursor, "ALTER USER"));
  const std::string head = "ALTER USER " + out.name;
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("SET", head));
  if (cursor.AcceptWord("PASSWORD")) {
    out.change = AlterUserStmt::Change::kPassword;
    KALAM_ASSIGN_OR_RETURN(out.value, ExpectPassword(cursor, "SET PASSWORD"));
  } else if (cursor.AcceptWord("ROLE")) {
    out.change = AlterUserStmt::Change::kRole;
    KALAM_ASSIGN_OR_RETURN(out.value, cursor.ExpectStringOrName("a role", "SET ROLE"));
    if (out.value.empty()) return Status::InvalidSql("ROLE must not be empty");
  } else if (cursor.AcceptWord("EMAIL")) {
    out.change = AlterUserStmt::Change::kEmail;
    KALAM_ASSIGN_OR_RETURN(out.value, cursor.ExpectString("the email", "SET EMAIL"));
  } else {
    return cursor.Unexpected("PASSWORD, ROLE or EMAIL", head + " SET");
  }
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd(head + " SET …"));
  return out;
}

Result<DropUserStmt> ParseDropUser(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("DROP", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("USER", "DROP"));
  DropUserStmt out;
  out.if_exists = cursor.AcceptIfExists();
  KALAM_ASSIGN_OR_RETURN(out.name, ExpectUserName(cursor, "DROP USER"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectEnd("DROP USER " + out.name));
  return out;
}

// ---- EXECUTE AS USER ----

Result<ExecuteAsStmt> ParseExecuteAs(const SqlStatement& stmt) {
  TokenCursor cursor(stmt);
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("EXECUTE", "the start of the statement"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("AS", "EXECUTE"));
  KALAM_RETURN_IF_ERROR(cursor.ExpectWord("USER", "EXECUTE AS"));
  ExecuteAsStmt out;
  KALAM_ASSIGN_OR_RETURN(out.user, ExpectUserName(cursor, "EXECUTE AS USER"));
  const std::string head = "EXECUTE AS USER '" + out.user + "'";
  KALAM_RETURN_IF_ERROR(cursor.ExpectPunct('(', head));
  const size_t begin = cursor.position();
  const std::vector<Token>& tokens = stmt.tokens;
  // Find the ')' that closes the '(' and any ';' directly inside it.
  size_t depth = 1;
  size_t close = tokens.size();
  size_t end = tokens.size();  // one past the inner statement's last token
  for (size_t i = begin; i < tokens.size(); ++i) {
    if (tokens[i].IsPunct('(')) {
      ++depth;
    } else if (tokens[i].IsPunct(')') && --depth == 0) {
      close = i;
      break;
    } else if (tokens[i].IsPunct(';') && depth == 1) {
      if (end != tokens.size()) {
        return Status::InvalidSql(head + " takes exactly one statement");
      }
      end = i;
    }
  }
  if (close == tokens.size()) {
    return Status::InvalidSql("Missing ')' to close " + head + " ( …");
  }
  if (end != tokens.size() && end + 1 != close) {
    return Status::InvalidSql(head + " takes exactly one statement");
  }
  if (end == tokens.size()) end = close;
  if (end == begin) return Status::InvalidSql(head + " needs a statement inside ( )");
  if (close + 1 != tokens.size()) {
    return Status::InvalidSql("Unexpected '" + std::string(stmt.Raw(close + 1)) + "' after " +
                              head + " ( … )");
  }
  out.inner = SliceStatement(stmt, begin, end);
  auto kind = ClassifyStatement(out.inner.tokens);
  if (kind.ok() && *kind == StatementKind::kExecuteAs) {
    return Status::InvalidSql("EXECUTE AS USER cannot be nested");
  }
  return out;
}

// ---- EXPLAIN ----

Result<ExplainStmt> ParseExplain(const SqlStatement& stmt) {
  const std::vector<Token>& tokens = stmt.tokens;
  ExplainStmt out;
  size_t i = 1;
  if (i < tokens.size() && tokens[i].IsWord("ANALYZE")) {
    out.analyze = true;
    ++i;
  }
  const std::string head = out.analyze ? "EXPLAIN ANALYZE" : "EXPLAIN";
  if (i + 1 < tokens.size() && tokens[i].IsWord("QUERY") && tokens[i + 1].IsWord("PLAN")) {
    return Status::InvalidSql("EXPLAIN QUERY PLAN is not supported: use EXPLAIN SELECT … or "
                              "EXPLAIN ANALYZE SELECT …");
  }
  if (i < tokens.size() && tokens[i].IsWord("VERBOSE")) {
    return Status::InvalidSql("EXPLAIN VERBOSE is not supported: use EXPLAIN SELECT … or "
                              "EXPLAIN ANALYZE SELECT …");
  }
  if (i >= tokens.size()) {
    return Status::InvalidSql(head + " needs a SELECT statement: " + head + " SELECT …");
  }
  out.inner = SliceStatement(stmt, i, tokens.size());
  KALAM_ASSIGN_OR_RETURN(StatementKind kind, ClassifyStatement(out.inner.tokens));
  if (kind == StatementKind::kSelect) return out;
  std::string message = head + " supports SELECT statements only, not " +
                        std::string(StatementKindName(kind));
  if (IsDmlKind(kind)) {
    message += " (writes are never explained, so EXPLAIN ANALYZE never runs one)";
  }
  return Status::InvalidSql(message);
}

}  // namespace kalam::sql::parser
