// The CREATE TABLE parser: the column list, the primary key, and the WITH (…) table options
// (single column definitions are column_def_parser.cc's).
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "sql/parser/column_def_parser.h"
#include "sql/parser/parser.h"  // ParseCreateTable
#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {
namespace {

// A whole decimal number without sign, fitting in 64 bits.
std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Result<FlushPolicySpec> ParseFlushPolicy(std::string_view text) {
  const Status invalid = Status::InvalidSql(
      "Invalid FLUSH_POLICY '" + std::string(text) +
      "': use 'rows:N', 'interval:S' or 'rows:N,interval:S' with N and S at least 1");
  FlushPolicySpec spec;
  std::string_view rest = text;
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    const size_t colon = part.find(':');
    if (colon == std::string_view::npos) return invalid;
    std::string_view key = Trim(part.substr(0, colon));
    std::optional<uint64_t> value = ParseUnsigned(Trim(part.substr(colon + 1)));
    if (!value || *value == 0) return invalid;
    if (EqualsIgnoreCase(key, "rows") && !spec.row_limit) {
      spec.row_limit = value;
    } else if (EqualsIgnoreCase(key, "interval") && !spec.interval_seconds) {
      spec.interval_seconds = value;
    } else {
      return invalid;
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return spec;
}

// The value of one WITH option: a string, a number or a bare word.
struct OptionValue {
  const Token* token = nullptr;
  std::string text;  // the string's value, the number or the word as written
};

Result<uint64_t> OptionUnsigned(std::string_view key, const OptionValue& v, uint64_t min) {
  std::optional<uint64_t> value;
  if (v.token->kind == TokenKind::kInteger || v.token->kind == TokenKind::kString) {
    value = ParseUnsigned(v.text);
  }
  if (!value || *value < min) {
    return Status::InvalidSql(std::string(key) + " must be a whole number of at least " +
                              std::to_string(min) + ", got '" + v.text + "'");
  }
  return *value;
}

// TRUE or FALSE (any case, bare or quoted).
Result<bool> OptionBool(std::string_view key, const OptionValue& v) {
  const bool word_or_string =
      v.token->kind == TokenKind::kString || v.token->kind == TokenKind::kIdentifier;
  if (word_or_string && EqualsIgnoreCase(v.text, "TRUE")) return true;
  if (word_or_string && EqualsIgnoreCase(v.text, "FALSE")) return false;
  return Status::InvalidSql(std::string(key) + " must be TRUE or FALSE, got '" + v.text + "'");
}

Result<std::optional<TableType>> ApplyOption(std::string_view key, const OptionValue& v,
                                             TableOptions& options) {
  const bool word_or_string =
      v.token->kind == TokenKind::kString || v.token->kind == TokenKind::kIdentifier;
  if (key == "TYPE") {
    if (word_or_string) {
      if (EqualsIgnoreCase(v.text, "USER")) return std::optional(TableType::kUser);
      if (EqualsIgnoreCase(v.text, "SHARED")) return std::optional(TableType::kShared);
      if (EqualsIgnoreCase(v.text, "STREAM")) return std::optional(TableType::kStream);
    }
    return Status::InvalidSql("Invalid TYPE '" + v.text + "': use 'USER', 'SHARED' or 'STREAM'");
  }
  if (key == "STORAGE_ID") {
    if (!word_or_string || v.text.empty()) {
      return Status::InvalidSql("STORAGE_ID must be a storage id such as 'local', got '" +
                                v.text + "'");
    }
    options.storage_id = v.text;
  } else if (key == "USE_USER_STORAGE") {
    KALAM_ASSIGN_OR_RETURN(options.use_user_storage, OptionBool(key, v));
  } else if (key == "FLUSH_POLICY") {
    if (v.token->kind != TokenKind::kString) {
      return Status::InvalidSql("FLUSH_POLICY must be a quoted string such as 'rows:10000'");
    }
    KALAM_ASSIGN_OR_RETURN(options.flush_policy, ParseFlushPolicy(v.text));
  } else if (key == "DELETED_RETENTION_HOURS") {
    KALAM_ASSIGN_OR_RETURN(options.deleted_retention_hours, OptionUnsigned(key, v, 0));
  } else if (key == "TTL_SECONDS") {
    std::optional<uint64_t> ttl;
    if (v.token->kind == TokenKind::kInteger || v.token->kind == TokenKind::kString) {
      ttl = ParseUnsigned(v.text);
    }
    if (!ttl || *ttl > UINT32_MAX) {
      return Status::InvalidSql("Invalid TTL_SECONDS '" + v.text +
                                "': use a whole number of seconds (at least 1)");
    }
    if (*ttl == 0) {
      // The original accepts 0 and then hides every row; a table that can never show a row is
      // a mistake, so it is refused (docs/streams.md).
      return Status::InvalidSql(
          "Invalid TTL_SECONDS '0': a STREAM table with TTL 0 could never show a row; use at "
          "least 1 second");
    }
    options.ttl_seconds = ttl;
  } else if (key == "MAX_ROWS_PER_USER") {
    KALAM_ASSIGN_OR_RETURN(options.max_rows_per_user, OptionUnsigned(key, v, 1));
  } else if (key == "EPHEMERAL") {
    KALAM_ASSIGN_OR_RETURN(options.ephemeral, OptionBool(key, v));
  } else if (key == "ACCESS_LEVEL") {
    static constexpr AccessLevel kLevels[] = {AccessLevel::kPublic, AccessLevel::kPrivate,
                                              AccessLevel::kRestricted, AccessLevel::kDba};
    for (AccessLevel level : kLevels) {
      if (word_or_string && EqualsIgnoreCase(v.text, AccessLevelName(level))) {
        options.access_level = level;
        return std::optional<TableType>();
      }
    }
    return Status::InvalidSql("Invalid ACCESS_LEVEL '" + v.text +
                              "': use 'PUBLIC', 'PRIVATE', 'RESTRICTED' or 'DBA'");
  } else {
    return Status::InvalidSql("Unknown table option '" + std::string(key) +
                              "': valid options are TYPE, STORAGE_ID, USE_USER_STORAGE, "
                              "FLUSH_POLICY, DELETED_RETENTION_HOURS, TTL_SECONDS, ACCESS_LEVEL, "
                              "MAX_ROWS_PER_USER, EPHEMERAL");
  }
  return std::optional<TableType>();
}

// "User", "Shared" or "Stream", as the original's messages spell table types.
std::string DebugTypeName(TableType type) {
  std::string name(TableTypeName(type));
  for (size_t i = 1; i < name.size(); ++i) name[i] = static_cast<char>(name[i] - 'A' + 'a');
  return name;
}

class CreateTableParser {
 public:
  explicit CreateTableParser(const SqlStatement& stmt) : cursor_(stmt) {}

  Result<CreateTableStmt> Parse() {
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("CREATE", "the start of the statement"));
    std::optional<TableType> keyword_type;
    if (cursor_.AcceptWord("USER")) {
      keyword_type = TableType::kUser;
    } else if (cursor_.AcceptWord("SHARED")) {
      keyword_type = TableType::kShared;
    } else if (cursor_.AcceptWord("STREAM")) {
      keyword_type = TableType::kStream;
    }
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("TABLE", "CREATE"));
    out_.if_not_exists = cursor_.AcceptIfNotExists();
    KALAM_ASSIGN_OR_RETURN(out_.table, cursor_.ExpectQualifiedName("table", "CREATE TABLE"));
    if (EqualsIgnoreCase(out_.table.ns, "system")) {
      return Status::InvalidSql(
          "Cannot create tables in namespace 'system': it is reserved for system tables");
    }
    head_ = "CREATE TABLE " + out_.table.ToString();
    KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct('(', head_));
    do {
      if (cursor_.PeekWord("PRIMARY") || cursor_.PeekWord("CONSTRAINT")) {
        KALAM_RETURN_IF_ERROR(ParseTablePrimaryKey());
      } else {
        KALAM_RETURN_IF_ERROR(ParseColumn());
      }
    } while (cursor_.AcceptPunct(','));
    KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct(')', "the column definitions of " + head_));
    std::optional<TableType> option_type;
    const bool has_options = cursor_.AcceptWord("WITH");
    if (has_options) {
      KALAM_ASSIGN_OR_RETURN(option_type, ParseOptions());
    }
    KALAM_RETURN_IF_ERROR(cursor_.ExpectEnd(head_ + " (…)" + (has_options ? " WITH (…)" : "")));
    if (keyword_type && option_type && *keyword_type != *option_type) {
      // The original's text, with its type names (Rust Debug forms: User, Shared, Stream).
      return Status::InvalidSql("Conflicting table type definitions: CREATE " +
                                DebugTypeName(*keyword_type) + " TABLE vs TYPE option " +
                                DebugTypeName(*option_type));
    }
    out_.table_type = keyword_type.value_or(option_type.value_or(TableType::kShared));
    KALAM_RETURN_IF_ERROR(ResolvePrimaryKey());
    KALAM_RETURN_IF_ERROR(CheckOptionsFitType());
    return std::move(out_);
  }

 private:
  // `[CONSTRAINT name] PRIMARY KEY (col)` among the column definitions.
  Status ParseTablePrimaryKey() {
    if (cursor_.AcceptWord("CONSTRAINT")) {
      KALAM_RETURN_IF_ERROR(cursor_.ExpectIdentifier("constraint", "CONSTRAINT").status());
    }
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("PRIMARY", "CONSTRAINT name"));
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("KEY", "PRIMARY"));
    KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct('(', "PRIMARY KEY"));
    std::vector<std::string> names;
    do {
      KALAM_ASSIGN_OR_RETURN(std::string name,
                             cursor_.ExpectIdentifier("column", "PRIMARY KEY ("));
      names.push_back(std::move(name));
    } while (cursor_.AcceptPunct(','));
    KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct(')', "the PRIMARY KEY columns"));
    if (names.size() > 1) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      return Status::InvalidSql("Composite primary keys are not supported: PRIMARY KEY (" + list +
                                "); use a single key column");
    }
    pk_names_.push_back(names[0]);
    return Status::OK();
  }

  Status ParseColumn() {
    ParsedColumn column;
    KALAM_ASSIGN_OR_RETURN(column.name, ExpectColumnName(cursor_, head_ + " ("));
    for (const ParsedColumn& other : out_.columns) {
      if (EqualsIgnoreCase(other.name, column.name)) {
        return Status::InvalidSql("Duplicate column name '" + column.name + "' in " + head_);
      }
    }
    KALAM_RETURN_IF_ERROR(ParseColumnType(cursor_, column));
    KALAM_RETURN_IF_ERROR(ParseColumnConstraints(cursor_, column));
    if (column.primary_key) pk_names_.push_back(column.name);
    out_.columns.push_back(std::move(column));
    return Status::OK();
  }

  // WITH ( KEY = value, … ); returns the TYPE option when given.
  Result<std::optional<TableType>> ParseOptions() {
    KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct('(', "WITH"));
    std::optional<TableType> type;
    std::vector<std::string> seen;
    do {
      const Token* key_token = cursor_.Peek();
      if (key_token == nullptr || !key_token->IsName()) {
        return cursor_.Unexpected("an option name", seen.empty() ? "WITH (" : "','");
      }
      const std::string key = ToUpperAscii(key_token->value);
      cursor_.Next();
      for (const std::string& s : seen) {
        if (s == key) {
          return Status::InvalidSql("Table option " + key + " is given more than once");
        }
      }
      seen.push_back(key);
      KALAM_RETURN_IF_ERROR(cursor_.ExpectOperator("=", key));
      const Token* value = cursor_.Peek();
      if (value != nullptr && key == "TTL_SECONDS" && value->IsOperator("-")) {
        return Status::InvalidSql("Invalid TTL_SECONDS: a negative value; use a whole number of "
                                  "seconds (at least 1)");
      }
      if (value == nullptr ||
          !(value->kind == TokenKind::kString || value->kind == TokenKind::kInteger ||
            value->kind == TokenKind::kFloat || value->kind == TokenKind::kIdentifier)) {
        return cursor_.Unexpected("a value", key + " =");
      }
      cursor_.Next();
      KALAM_ASSIGN_OR_RETURN(std::optional<TableType> t,
                             ApplyOption(key, OptionValue{value, value->value}, out_.options));
      if (t) type = t;
    } while (cursor_.AcceptPunct(','));
    KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct(')', "the table options"));
    return type;
  }

  Status ResolvePrimaryKey() {
    std::vector<std::string> distinct;
    for (const std::string& name : pk_names_) {
      bool dup = false;
      for (const std::string& d : distinct) dup = dup || EqualsIgnoreCase(d, name);
      if (!dup) distinct.push_back(name);
    }
    const std::string table = "'" + out_.table.ToString() + "'";
    if (distinct.empty() && out_.table_type == TableType::kStream) {
      return Status::OK();  // a stream is an event log: its primary key is optional
    }
    if (distinct.empty()) {
      return Status::InvalidSql("Table " + table +
                                " needs a PRIMARY KEY: mark exactly one column PRIMARY KEY");
    }
    if (distinct.size() > 1) {
      return Status::InvalidSql("Table " + table + " has more than one PRIMARY KEY (" +
                                distinct[0] + ", " + distinct[1] +
                                "): KalamDB tables have exactly one single-column primary key");
    }
    for (size_t i = 0; i < out_.columns.size(); ++i) {
      ParsedColumn& column = out_.columns[i];
      if (!EqualsIgnoreCase(column.name, distinct[0])) continue;
      column.primary_key = true;
      column.nullable = false;
      out_.primary_key_index = i;
      out_.has_primary_key = true;
      return Status::OK();
    }
    return Status::InvalidSql("PRIMARY KEY names unknown column '" + distinct[0] + "' in " +
                              head_);
  }

  Status CheckOptionsFitType() const {
    const TableOptions& o = out_.options;
    const TableType type = out_.table_type;
    const bool stream = type == TableType::kStream;
    if (stream && !o.ttl_seconds) {
      return Status::InvalidSql(
          "Invalid CREATE TABLE statement: STREAM tables must specify 'TTL_SECONDS'");
    }
    if (!stream && o.ttl_seconds) {
      return Status::InvalidSql("TTL_SECONDS is only supported for STREAM tables");
    }
    if (!stream && o.max_rows_per_user) {
      return Status::InvalidSql("MAX_ROWS_PER_USER is only supported for STREAM tables");
    }
    if (!stream && o.ephemeral) {
      return Status::InvalidSql("EPHEMERAL is only supported for STREAM tables");
    }
    if (type != TableType::kShared && o.access_level) {
      return Status::InvalidSql("ACCESS_LEVEL is only supported for SHARED tables");
    }
    if (stream && o.use_user_storage) {
      return Status::InvalidSql("USE_USER_STORAGE is only supported for USER tables");
    }
    return Status::OK();
  }

  TokenCursor cursor_;
  CreateTableStmt out_;
  std::string head_;
  std::vector<std::string> pk_names_;  // every PRIMARY KEY declaration, column or table level
};

}  // namespace

Result<CreateTableStmt> ParseCreateTable(const SqlStatement& stmt) {
  return CreateTableParser(stmt).Parse();
}

}  // namespace kalam::sql::parser
