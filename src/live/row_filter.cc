// Filter compilation and evaluation.
#include "live/row_filter.h"

#include <cstdlib>

#include "catalog/catalog.h"

namespace kalam::live {

namespace {
constexpr int64_t kSeqParam = -1;
constexpr int64_t kDeletedParam = -2;

void Bind(sqlite3_stmt* stmt, int index, const catalog::ColumnDef* col, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: sqlite3_bind_null(stmt, index); return;
    case Value::Kind::kInt: sqlite3_bind_int64(stmt, index, v.as_int()); return;
    case Value::Kind::kDouble: sqlite3_bind_double(stmt, index, v.as_double()); return;
    case Value::Kind::kText:
      // DECIMAL is presented to SQL as REAL (as the virtual tables do) so comparisons with
      // numbers work.
      if (col && col->type.kind == TypeKind::kDecimal && col->type.precision <= 15) {
        sqlite3_bind_double(stmt, index, std::strtod(v.as_text().c_str(), nullptr));
        return;
      }
      sqlite3_bind_text(stmt, index, v.as_text().data(), static_cast<int>(v.as_text().size()),
                        SQLITE_TRANSIENT);
      return;
    case Value::Kind::kBlob:
      sqlite3_bind_blob(stmt, index, v.as_bytes().data(), static_cast<int>(v.as_bytes().size()),
                        SQLITE_TRANSIENT);
      return;
  }
}
}  // namespace

Result<std::unique_ptr<FilterEngine>> FilterEngine::Create() {
  std::unique_ptr<FilterEngine> e(new FilterEngine());
  if (sqlite3_open_v2(":memory:", &e->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    return Status::Internal("Cannot open the live-query filter engine");
  }
  sqlite3_db_config(e->db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(e->db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(e->db_, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, nullptr);
  sqlite3_limit(e->db_, SQLITE_LIMIT_LENGTH, 1 << 20);
  sqlite3_limit(e->db_, SQLITE_LIMIT_ATTACHED, 0);
  return e;
}

FilterEngine::~FilterEngine() {
  if (db_) sqlite3_close_v2(db_);
}

FilterEngine::Filter::~Filter() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Result<std::unique_ptr<FilterEngine::Filter>> FilterEngine::Compile(
    const catalog::TableDef& table, const std::vector<sql::Token>& where,
    std::string_view statement_text) {
  auto filter = std::unique_ptr<Filter>(new Filter());
  std::string sql = "SELECT (";
  for (size_t i = 0; i < where.size(); ++i) {
    const sql::Token& t = where[i];
    // `t.col` / `table.col`: drop the qualifier.
    if (t.IsName() && i + 2 < where.size() && where[i + 1].IsPunct('.') && where[i + 2].IsName()) {
      continue;
    }
    if (t.IsPunct('.') && i > 0 && where[i - 1].IsName()) continue;
    const bool call = i + 1 < where.size() && where[i + 1].IsPunct('(');
    if (t.IsName() && !call) {
      std::string name = catalog::LowerName(t.value);
      int64_t id = 0;
      if (name == "_seq") {
        id = kSeqParam;
      } else if (name == "_deleted") {
        id = kDeletedParam;
      } else if (int c = table.FindColumn(name); c >= 0) {
        id = table.columns[c].column_id;
      } else if (t.kind == sql::TokenKind::kQuotedIdentifier) {
        return Status::InvalidSql("Unknown column '" + t.value + "' in the subscription filter");
      } else {
        id = 0;  // a keyword (AND, NOT, NULL, IS, IN, LIKE, CASE …): keep as written
      }
      if (id != 0) {
        filter->column_ids_.push_back(id);
        sql += " ?" + std::to_string(filter->column_ids_.size());
        continue;
      }
    }
    if (t.kind == sql::TokenKind::kParameter) {
      return Status::InvalidSql("Subscription filters cannot use parameters");
    }
    sql += ' ';
    sql += t.Raw(statement_text);
  }
  sql += ")";
  std::lock_guard lock(mu_);
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &filter->stmt_,
                              nullptr);
  if (rc != SQLITE_OK) {
    return Status::InvalidSql(std::string("Invalid subscription filter: ") + sqlite3_errmsg(db_));
  }
  return filter;
}

bool FilterEngine::Matches(const Filter& filter, const catalog::TableDef& table,
                           const std::vector<Value>& values, int64_t seq, bool deleted) {
  std::lock_guard lock(mu_);
  sqlite3_stmt* stmt = filter.stmt_;
  for (size_t k = 0; k < filter.column_ids_.size(); ++k) {
    const int index = static_cast<int>(k + 1);
    const int64_t id = filter.column_ids_[k];
    if (id == kSeqParam) {
      sqlite3_bind_int64(stmt, index, seq);
    } else if (id == kDeletedParam) {
      sqlite3_bind_int(stmt, index, deleted ? 1 : 0);
    } else {
      const catalog::ColumnDef* col = nullptr;
      size_t pos = 0;
      for (; pos < table.columns.size(); ++pos) {
        if (table.columns[pos].column_id == static_cast<uint32_t>(id)) {
          col = &table.columns[pos];
          break;
        }
      }
      if (col && pos < values.size()) Bind(stmt, index, col, values[pos]);
      else sqlite3_bind_null(stmt, index);  // a column dropped since: NULL
    }
  }
  bool match = false;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    match = sqlite3_column_type(stmt, 0) != SQLITE_NULL && sqlite3_column_int64(stmt, 0) != 0;
    if (sqlite3_column_type(stmt, 0) == SQLITE_FLOAT) match = sqlite3_column_double(stmt, 0) != 0;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return match;
}

}  // namespace kalam::live
