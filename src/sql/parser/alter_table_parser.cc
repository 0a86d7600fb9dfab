// The ALTER TABLE parser: one column or table-property change per statement.
#include <string>

#include "sql/parser/column_def_parser.h"
#include "sql/parser/parser.h"  // ParseAlterTable
#include "sql/parser/token_cursor.h"

namespace kalam::sql::parser {
namespace {

using Action = AlterTableStmt::Action;

class AlterTableParser {
 public:
  explicit AlterTableParser(const SqlStatement& stmt) : cursor_(stmt) {}

  Result<AlterTableStmt> Parse() {
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("ALTER", "the start of the statement"));
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("TABLE", "ALTER"));
    KALAM_ASSIGN_OR_RETURN(out_.table, cursor_.ExpectQualifiedName("table", "ALTER TABLE"));
    head_ = "ALTER TABLE " + out_.table.ToString();
    if (cursor_.AcceptWord("CREATE")) {
      KALAM_RETURN_IF_ERROR(ParseCreateIndex());
    } else if (cursor_.AcceptWord("ADD")) {
      KALAM_RETURN_IF_ERROR(ParseAdd());
    } else if (cursor_.AcceptWord("DROP")) {
      KALAM_RETURN_IF_ERROR(ParseDrop());
    } else if (cursor_.AcceptWord("MODIFY")) {
      cursor_.AcceptWord("COLUMN");
      KALAM_ASSIGN_OR_RETURN(out_.column_name, ExpectTargetColumn("MODIFY COLUMN", "modified"));
      KALAM_RETURN_IF_ERROR(ParseModify("MODIFY COLUMN " + out_.column_name, true));
    } else if (cursor_.AcceptWord("ALTER")) {
      KALAM_RETURN_IF_ERROR(ParseAlterColumn());
    } else if (cursor_.AcceptWord("RENAME")) {
      KALAM_RETURN_IF_ERROR(ParseRename());
    } else if (cursor_.AcceptWord("SET")) {
      KALAM_RETURN_IF_ERROR(ParseSet());
    } else {
      return cursor_.Unexpected("ADD, DROP, MODIFY, ALTER, RENAME, SET or CREATE INDEX", head_);
    }
    if (cursor_.PeekPunct(',')) {
      return Status::InvalidSql(
          "ALTER TABLE makes one change per statement: send one ALTER TABLE " +
          out_.table.ToString() + " … for each change");
    }
    KALAM_RETURN_IF_ERROR(cursor_.ExpectEnd(done_));
    return std::move(out_);
  }

 private:
  // ADD [COLUMN] <column definition>.
  Status ParseAdd() {
    const bool said_column = cursor_.AcceptWord("COLUMN");
    if (!said_column && IsIndexClause()) {
      return Status::InvalidSql("ALTER TABLE … ADD INDEX is not supported: create a vector index "
                                "with ALTER TABLE " + out_.table.ToString() +
                                " CREATE INDEX <embedding column>");
    }
    if (!said_column && (cursor_.PeekWord("PRIMARY") || cursor_.PeekWord("CONSTRAINT") ||
                         cursor_.PeekWord("UNIQUE") || cursor_.PeekWord("FOREIGN") ||
                         cursor_.PeekWord("CHECK"))) {
      return Status::InvalidSql("ALTER TABLE … ADD " + ToUpperAscii(cursor_.Peek()->value) +
                                " is not supported: only columns can be added");
    }
    out_.action = Action::kAddColumn;
    ParsedColumn& column = out_.column;
    KALAM_ASSIGN_OR_RETURN(column.name, ExpectColumnName(cursor_, head_ + " ADD COLUMN"));
    KALAM_RETURN_IF_ERROR(ParseColumnType(cursor_, column));
    KALAM_RETURN_IF_ERROR(ParseColumnConstraints(cursor_, column));
    if (column.primary_key) {
      return Status::InvalidSql("Cannot add PRIMARY KEY column '" + column.name +
                                "': a table's primary key is chosen when it is created");
    }
    done_ = "ADD COLUMN " + column.name + " " + column.type_text + " …";
    return Status::OK();
  }

  // DROP [COLUMN] c.
  Status ParseDrop() {
    if (cursor_.PeekWord("PRIMARY") || cursor_.PeekWord("CONSTRAINT")) {
      return Status::InvalidSql("ALTER TABLE … DROP " + ToUpperAscii(cursor_.Peek()->value) +
                                " is not supported: only columns can be dropped");
    }
    if (IsIndexClause()) {
      cursor_.AcceptWord("VECTOR");
      cursor_.Next();  // INDEX
      out_.action = Action::kDropVectorIndex;
      KALAM_ASSIGN_OR_RETURN(out_.column_name, ExpectTargetColumn("DROP INDEX", "indexed"));
      done_ = "DROP INDEX " + out_.column_name;
      return Status::OK();
    }
    cursor_.AcceptWord("COLUMN");
    out_.action = Action::kDropColumn;
    KALAM_ASSIGN_OR_RETURN(out_.column_name, ExpectTargetColumn("DROP COLUMN", "dropped"));
    done_ = "DROP COLUMN " + out_.column_name;
    return Status::OK();
  }

  // Whether the cursor is on `[VECTOR] INDEX <name>` (rather than a column called "index" or
  // "vector": `DROP index` drops a column; `DROP INDEX c` drops the index on c).
  bool IsIndexClause() const {
    if (cursor_.PeekWord("VECTOR") && cursor_.PeekWord("INDEX", 1)) return true;
    const Token* after = cursor_.Peek(1);
    return cursor_.PeekWord("INDEX") && after != nullptr && after->IsName();
  }

  // CREATE [VECTOR] INDEX c [USING COSINE|L2|DOT]: the index is named by its column.
  Status ParseCreateIndex() {
    cursor_.AcceptWord("VECTOR");
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("INDEX", head_ + " CREATE"));
    out_.action = Action::kCreateVectorIndex;
    KALAM_ASSIGN_OR_RETURN(out_.column_name, ExpectTargetColumn("CREATE INDEX", "indexed"));
    done_ = "CREATE INDEX " + out_.column_name;
    if (cursor_.AcceptWord("USING")) {
      const Token* t = cursor_.Peek();
      std::optional<VectorMetric> metric;
      if (t != nullptr && (t->IsName() || t->kind == TokenKind::kString)) {
        metric = ParseVectorMetric(t->value);
      }
      if (!metric) return cursor_.Unexpected("COSINE, L2 or DOT", done_ + " USING");
      cursor_.Next();
      out_.vector_metric = *metric;
      done_ += " USING " + ToUpperAscii(t->value);
    }
    return Status::OK();
  }

  // The type and optional NULL / NOT NULL of MODIFY COLUMN c (or of ALTER COLUMN c TYPE when
  // `allow_null_clause` is false), after the column name.
  Status ParseModify(const std::string& where, bool allow_null_clause) {
    out_.action = Action::kModifyColumn;
    out_.column.name = out_.column_name;
    KALAM_RETURN_IF_ERROR(ParseColumnType(cursor_, out_.column));
    if (out_.column.auto_increment) {
      return Status::InvalidSql("Cannot make column '" + out_.column_name +
                                "' AUTO_INCREMENT after creation: use ALTER COLUMN " +
                                out_.column_name + " SET DEFAULT SNOWFLAKE_ID()");
    }
    done_ = where + " " + out_.column.type_text;
    if (allow_null_clause) {
      if (cursor_.AcceptWord("NOT")) {
        KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("NULL", "NOT"));
        out_.nullable = false;
        done_ += " NOT NULL";
      } else if (cursor_.AcceptWord("NULL")) {
        out_.nullable = true;
        done_ += " NULL";
      }
    }
    if (cursor_.PeekWord("DEFAULT") || cursor_.PeekWord("PRIMARY") ||
        cursor_.PeekWord("COMMENT") || cursor_.PeekWord("AUTO_INCREMENT")) {
      return Status::InvalidSql(
          "Changing the type of column '" + out_.column_name +
          "' takes only the type and NULL or NOT NULL; change its default with ALTER COLUMN " +
          out_.column_name + " SET DEFAULT …");
    }
    return Status::OK();
  }

  // ALTER [COLUMN] c SET NOT NULL | DROP NOT NULL | SET DEFAULT expr | DROP DEFAULT
  //   | [SET DATA] TYPE type.
  Status ParseAlterColumn() {
    cursor_.AcceptWord("COLUMN");
    KALAM_ASSIGN_OR_RETURN(out_.column_name, ExpectTargetColumn("ALTER COLUMN", "altered"));
    const std::string where = "ALTER COLUMN " + out_.column_name;
    if (cursor_.AcceptWord("SET")) {
      if (cursor_.AcceptWord("NOT")) {
        KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("NULL", where + " SET NOT"));
        out_.action = Action::kSetNotNull;
        done_ = where + " SET NOT NULL";
      } else if (cursor_.AcceptWord("DEFAULT")) {
        out_.action = Action::kSetDefault;
        KALAM_ASSIGN_OR_RETURN(out_.default_value,
                               ParseColumnDefault(cursor_, out_.column_name));
        done_ = where + " SET DEFAULT …";
      } else if (cursor_.AcceptWord("DATA")) {
        KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("TYPE", where + " SET DATA"));
        return ParseModify(where + " SET DATA TYPE", false);
      } else {
        return cursor_.Unexpected("NOT NULL, DEFAULT or DATA TYPE", where + " SET");
      }
    } else if (cursor_.AcceptWord("DROP")) {
      if (cursor_.AcceptWord("NOT")) {
        KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("NULL", where + " DROP NOT"));
        out_.action = Action::kDropNotNull;
        done_ = where + " DROP NOT NULL";
      } else if (cursor_.AcceptWord("DEFAULT")) {
        out_.action = Action::kDropDefault;
        done_ = where + " DROP DEFAULT";
      } else {
        return cursor_.Unexpected("NOT NULL or DEFAULT", where + " DROP");
      }
    } else if (cursor_.AcceptWord("TYPE")) {
      return ParseModify(where + " TYPE", false);
    } else {
      return cursor_.Unexpected("SET, DROP or TYPE", where);
    }
    return Status::OK();
  }

  // RENAME [COLUMN] a TO b.
  Status ParseRename() {
    // `RENAME TO x` renames the table; `RENAME to TO x` renames a column called "to".
    if (cursor_.PeekWord("TO") && !cursor_.PeekWord("TO", 1)) {
      return Status::InvalidSql("Renaming tables is not supported; RENAME COLUMN a TO b renames "
                                "a column");
    }
    cursor_.AcceptWord("COLUMN");
    out_.action = Action::kRenameColumn;
    KALAM_ASSIGN_OR_RETURN(out_.column_name, ExpectTargetColumn("RENAME COLUMN", "renamed"));
    const std::string where = "RENAME COLUMN " + out_.column_name;
    KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("TO", where));
    KALAM_ASSIGN_OR_RETURN(out_.new_name, ExpectColumnName(cursor_, where + " TO"));
    done_ = where + " TO " + out_.new_name;
    return Status::OK();
  }

  // SET ACCESS LEVEL x | SET TBLPROPERTIES (ACCESS_LEVEL = 'x').
  Status ParseSet() {
    out_.action = Action::kSetAccessLevel;
    if (cursor_.AcceptWord("ACCESS")) {
      KALAM_RETURN_IF_ERROR(cursor_.ExpectWord("LEVEL", "SET ACCESS"));
      KALAM_ASSIGN_OR_RETURN(out_.access_level, ExpectAccessLevel("SET ACCESS LEVEL"));
      done_ = "SET ACCESS LEVEL " + std::string(AccessLevelName(out_.access_level));
      return Status::OK();
    }
    if (cursor_.AcceptWord("TBLPROPERTIES")) {
      KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct('(', "SET TBLPROPERTIES"));
      const Token* key = cursor_.Peek();
      if (key == nullptr || !(key->IsName() || key->kind == TokenKind::kString)) {
        return cursor_.Unexpected("ACCESS_LEVEL", "SET TBLPROPERTIES (");
      }
      if (!EqualsIgnoreCase(key->value, "ACCESS_LEVEL")) {
        return Status::InvalidSql("Unknown table property '" + key->value +
                                  "': SET TBLPROPERTIES can change only ACCESS_LEVEL");
      }
      cursor_.Next();
      KALAM_RETURN_IF_ERROR(cursor_.ExpectOperator("=", "ACCESS_LEVEL"));
      KALAM_ASSIGN_OR_RETURN(out_.access_level, ExpectAccessLevel("ACCESS_LEVEL ="));
      if (cursor_.PeekPunct(',')) {
        return Status::InvalidSql("SET TBLPROPERTIES takes exactly one property, ACCESS_LEVEL");
      }
      KALAM_RETURN_IF_ERROR(cursor_.ExpectPunct(')', "ACCESS_LEVEL = '…'"));
      done_ = "SET TBLPROPERTIES (…)";
      return Status::OK();
    }
    return cursor_.Unexpected("ACCESS LEVEL or TBLPROPERTIES", head_ + " SET");
  }

  // The name of an existing column to change; `_seq` and `_deleted` are refused by name.
  Result<std::string> ExpectTargetColumn(std::string_view verb, std::string_view participle) {
    KALAM_ASSIGN_OR_RETURN(std::string name,
                           cursor_.ExpectIdentifier("column", head_ + " " + std::string(verb)));
    if (EqualsIgnoreCase(name, "_seq") || EqualsIgnoreCase(name, "_deleted")) {
      return Status::InvalidSql("System column '" + name + "' cannot be " +
                                std::string(participle) +
                                ": KalamDB maintains _seq and _deleted itself");
    }
    return name;
  }

  // PUBLIC | PRIVATE | RESTRICTED | DBA, bare or quoted.
  Result<AccessLevel> ExpectAccessLevel(std::string_view after) {
    const Token* t = cursor_.Peek();
    if (t == nullptr || !(t->kind == TokenKind::kIdentifier || t->kind == TokenKind::kString)) {
      return cursor_.Unexpected("PUBLIC, PRIVATE, RESTRICTED or DBA", after);
    }
    static constexpr AccessLevel kLevels[] = {AccessLevel::kPublic, AccessLevel::kPrivate,
                                              AccessLevel::kRestricted, AccessLevel::kDba};
    for (AccessLevel level : kLevels) {
      if (EqualsIgnoreCase(t->value, AccessLevelName(level))) {
        cursor_.Next();
        return level;
      }
    }
    return Status::InvalidSql("Invalid ACCESS_LEVEL '" + t->value +
                              "': use 'PUBLIC', 'PRIVATE', 'RESTRICTED' or 'DBA'");
  }

  TokenCursor cursor_;
  AlterTableStmt out_;
  std::string head_;  // "ALTER TABLE ns.t"
  std::string done_;  // the parsed change, for "Unexpected … after …"
};

}  // namespace

Result<AlterTableStmt> ParseAlterTable(const SqlStatement& stmt) {
  return AlterTableParser(stmt).Parse();
}

}  // namespace kalam::sql::parser
