// Filter compilation and evaluation: the one-row virtual table `kalam_live_row` and the
// statements over it.
#include "live/row_filter.h"

#include "sql/parser/typed_operands.h"
#include "sql/sqlite/connection.h"
#include "sql/sqlite/sqlite_values.h"
#include "sql/sqlite/vtab_module.h"

namespace kalam::live {

using catalog::ColumnDef;
using catalog::TableDef;

// One virtual table, declared like the `kalam` table of one table version.
struct FilterEngine::RowTable {
  std::string name;  // in the temp schema
  TableDef def;      // the version filters were compiled against
  size_t filters = 0;
};

namespace {

// Unreferenced row tables are kept (so that resubscribing does not change the schema, which makes
// every statement re-prepare) until there are more than this many.
constexpr size_t kMaxUnusedRowTables = 16;

struct RowVtab {
  sqlite3_vtab base{};
  FilterEngine* engine = nullptr;
  const FilterEngine::RowTable* table = nullptr;
};

struct RowCursor {
  sqlite3_vtab_cursor base{};
  bool eof = true;
};

}  // namespace

// The `kalam_live_row` module. Every callback runs inside a sqlite3_* call the engine makes
// holding its mutex, so they may read the engine's tables and current row.
struct RowModule {
  // The current row's value of the compiled table's column `i` (by column id when the row has
  // another schema version); nullptr when the row has no such column (dropped since).
  static const Value* ValueOf(const FilterEngine::CurrentRow& row, const TableDef& def, int i) {
    if (!row.def || !row.values) return nullptr;
    const ColumnDef& col = def.columns[i];
    const auto& cols = row.def->columns;
    size_t pos = static_cast<size_t>(i);
    if (pos >= cols.size() || cols[pos].column_id != col.column_id) {
      for (pos = 0; pos < cols.size() && cols[pos].column_id != col.column_id; ++pos) {
      }
      if (pos == cols.size()) return nullptr;
    }
    return pos < row.values->size() ? &(*row.values)[pos] : nullptr;
  }

  static int Connect(sqlite3* db, void* aux, int argc, const char* const* argv,
                     sqlite3_vtab** out, char** err) {
    auto* engine = static_cast<FilterEngine*>(aux);
    const FilterEngine::RowTable* table = nullptr;
    for (const auto& [key, t] : engine->tables_) {
      if (argc > 2 && t->name == argv[2]) table = t.get();
    }
    if (!table) {
      *err = sqlite3_mprintf("no row table %s", argc > 2 ? argv[2] : "?");
      return SQLITE_ERROR;
    }
    int rc = sqlite3_declare_vtab(db, sql::DeclareTableSql(table->def).c_str());
    if (rc != SQLITE_OK) return rc;
    auto* vt = new RowVtab();
    vt->engine = engine;
    vt->table = table;
    *out = &vt->base;
    return SQLITE_OK;
  }

  static int Disconnect(sqlite3_vtab* base) {
    sqlite3_free(base->zErrMsg);
    delete reinterpret_cast<RowVtab*>(base);
    return SQLITE_OK;
  }

  // One row: the table takes no constraint, SQLite evaluates the whole WHERE.
  static int BestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
    info->estimatedCost = 1;
    info->estimatedRows = 1;
    return SQLITE_OK;
  }

  static int Open(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
    *out = &(new RowCursor())->base;
    return SQLITE_OK;
  }

  static int Close(sqlite3_vtab_cursor* base) {
    delete reinterpret_cast<RowCursor*>(base);
    return SQLITE_OK;
  }

  // Positions on the one row.
  static int Filter(sqlite3_vtab_cursor* base, int, const char*, int, sqlite3_value**) {
    auto* cur = reinterpret_cast<RowCursor*>(base);
    cur->eof = reinterpret_cast<RowVtab*>(base->pVtab)->engine->row_.values == nullptr;
    return SQLITE_OK;
  }

  static int Next(sqlite3_vtab_cursor* base) {
    reinterpret_cast<RowCursor*>(base)->eof = true;
    return SQLITE_OK;
  }

  static int Eof(sqlite3_vtab_cursor* base) { return reinterpret_cast<RowCursor*>(base)->eof; }

  // As the `kalam` table presents values (DECIMAL as REAL, …); _seq, then _deleted.
  static int Column(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int i) {
    auto* vt = reinterpret_cast<RowVtab*>(base->pVtab);
    const TableDef& def = vt->table->def;
    const FilterEngine::CurrentRow& row = vt->engine->row_;
    const int n = static_cast<int>(def.columns.size());
    if (i < n) {
      const Value* v = ValueOf(row, def, i);
      if (v) sql::ResultValue(ctx, &def.columns[i], *v);
      else sqlite3_result_null(ctx);
    } else if (i == n) {
      if (row.seq) sqlite3_result_int64(ctx, row.seq);
      else sqlite3_result_null(ctx);
    } else {
      sqlite3_result_int(ctx, row.deleted ? 1 : 0);
    }
    return SQLITE_OK;
  }

  static int Rowid(sqlite3_vtab_cursor*, sqlite3_int64* rowid) {
    *rowid = 0;  // WITHOUT ROWID: never used
    return SQLITE_OK;
  }

  static sqlite3_module Make() {
    sqlite3_module m{};
    m.iVersion = 1;
    m.xCreate = Connect;
    m.xConnect = Connect;
    m.xBestIndex = BestIndex;
    m.xDisconnect = Disconnect;
    m.xDestroy = Disconnect;
    m.xOpen = Open;
    m.xClose = Close;
    m.xFilter = Filter;
    m.xNext = Next;
    m.xEof = Eof;
    m.xColumn = Column;
    m.xRowid = Rowid;
    return m;
  }

  // While a filter is prepared: it may read its own row table and call functions, nothing else
  // (no other table, no schema, no pragma, no write).
  static int Authorize(void* aux, int action, const char* a1, const char*, const char* db,
                       const char*) {
    auto* engine = static_cast<FilterEngine*>(aux);
    switch (action) {
      case SQLITE_SELECT:
      case SQLITE_FUNCTION:
        return SQLITE_OK;
      case SQLITE_READ:
        return a1 && db && std::string_view(db) == "temp" && engine->preparing_table_ == a1
                   ? SQLITE_OK
                   : SQLITE_DENY;
      default:
        return SQLITE_DENY;
    }
  }
};

namespace {
const sqlite3_module kRowModule = RowModule::Make();
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
  if (sqlite3_create_module_v2(e->db_, "kalam_live_row", &kRowModule, e.get(), nullptr) !=
          SQLITE_OK ||
      sql::RegisterTypedComparisons(e->db_, nullptr) != SQLITE_OK ||
      sql::RegisterJsonFunctions(e->db_) != SQLITE_OK) {
    return Status::Internal("Cannot register the live-query row table");
  }
  return e;
}

FilterEngine::~FilterEngine() {
  if (db_) sqlite3_close_v2(db_);
}

FilterEngine::Filter::~Filter() {
  std::lock_guard lock(engine_->mu_);
  engine_->Release(*this);
}

void FilterEngine::Release(const Filter& filter) {
  sqlite3_finalize(filter.stmt_);
  if (auto it = filters_.find(filter.sql_); it != filters_.end() && it->second.expired()) {
    filters_.erase(it);  // (a new Filter with the same text may have replaced this one)
  }
  --filter.table_->filters;
  DropUnusedRowTables();
}

void FilterEngine::DropUnusedRowTables() {
  size_t unused = 0;
  for (const auto& [key, t] : tables_) unused += t->filters == 0;
  if (unused <= kMaxUnusedRowTables) return;
  for (auto it = tables_.begin(); it != tables_.end();) {
    if (it->second->filters == 0) {
      std::string drop = "DROP TABLE temp.\"" + it->second->name + "\"";
      sqlite3_exec(db_, drop.c_str(), nullptr, nullptr, nullptr);
      it = tables_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t FilterEngine::row_tables() const {
  std::lock_guard lock(mu_);
  return tables_.size();
}

Result<std::shared_ptr<const FilterEngine::Filter>> FilterEngine::Compile(
    const TableDef& table, const std::vector<sql::parser::Token>& where,
    std::string_view statement_text) {
  // Literals compared with typed columns become their stored form, as the executor's rewrite of
  // the same WHERE makes them (every column reference names this table's column).
  auto resolve = [&](size_t, size_t end) -> std::optional<sql::parser::ColumnType> {
    const int c = table.FindColumn(where[end - 1].value);
    if (c < 0) return std::nullopt;
    return sql::parser::ColumnType{table.columns[c].type, table.columns[c].name};
  };
  auto operands = sql::parser::FindTypedOperands(where, resolve, {});
  if (!operands.ok()) {
    return Status::InvalidSql("Invalid subscription filter: " + operands.status().message());
  }
  std::string expr;
  size_t next_operand = 0;
  const sql::parser::OperandRewrite* wrapping = nullptr;  // being wrapped in kalam_operand(…)
  for (size_t i = 0; i < where.size(); ++i) {
    const sql::parser::Token& t = where[i];
    // `t.col` / `table.col` / `ns.table.col`: drop the qualifier.
    if (t.IsName() && i + 2 < where.size() && where[i + 1].IsPunct('.') && where[i + 2].IsName()) {
      continue;
    }
    if (t.IsPunct('.') && i > 0 && where[i - 1].IsName()) continue;
    if (t.kind == sql::parser::TokenKind::kParameter) {
      return Status::InvalidSql("Subscription filters cannot use parameters");
    }
    expr += ' ';
    if (next_operand < operands->size() && (*operands)[next_operand].first_token == i) {
      const sql::parser::OperandRewrite& op = (*operands)[next_operand++];
      if (op.call_suffix.empty()) {
        expr += op.text;
        i = op.end_token - 1;
        continue;
      }
      expr += std::string(sql::parser::kOperandFunction) + "(";
      wrapping = &op;
    }
    expr += t.SqliteText(statement_text);
    if (wrapping && i + 1 == wrapping->end_token) {
      expr += wrapping->call_suffix;
      wrapping = nullptr;
    }
  }

  std::lock_guard lock(mu_);
  auto& slot = tables_[{table.table_id, table.schema_version}];
  if (!slot) {
    auto rt = std::make_unique<RowTable>();
    rt->name = "r" + std::to_string(next_table_++);
    rt->def = table;
    slot = std::move(rt);
    std::string create = "CREATE VIRTUAL TABLE temp.\"" + slot->name + "\" USING kalam_live_row";
    char* err = nullptr;
    if (sqlite3_exec(db_, create.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      tables_.erase({table.table_id, table.schema_version});
      return Status::Internal("Cannot create the live-query row table: " + message);
    }
  }
  RowTable* rt = slot.get();
  const std::string sql = "SELECT 1 FROM temp.\"" + rt->name + "\" WHERE (" + expr + ")";
  if (auto it = filters_.find(sql); it != filters_.end()) {
    if (auto shared = it->second.lock()) return shared;
  }

  sqlite3_stmt* stmt = nullptr;
  preparing_table_ = rt->name;
  sqlite3_set_authorizer(db_, &RowModule::Authorize, this);
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  sqlite3_set_authorizer(db_, nullptr, nullptr);
  preparing_table_.clear();
  if (rc != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    DropUnusedRowTables();
    return Status::InvalidSql("Invalid subscription filter: " + message);
  }
  // One run over an all-NULL row: a constant that converts only when the statement runs
  // (kalam_operand of a function of constants) and does not convert fails now, as the same SELECT
  // would, rather than never matching later.
  std::vector<Value> nulls(table.columns.size());
  row_ = CurrentRow{&rt->def, &nulls, 0, false};
  rc = sqlite3_step(stmt);
  row_ = CurrentRow{};
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    DropUnusedRowTables();
    return Status::InvalidSql("Invalid subscription filter: " + message);
  }
  sqlite3_reset(stmt);

  std::shared_ptr<Filter> filter(new Filter());
  filter->engine_ = this;
  filter->table_ = rt;
  filter->sql_ = sql;
  filter->stmt_ = stmt;
  ++rt->filters;
  filters_[sql] = filter;
  return std::shared_ptr<const Filter>(std::move(filter));
}

bool FilterEngine::Matches(const Filter& filter, const TableDef& table,
                           const std::vector<Value>& values, int64_t seq, bool deleted) {
  std::lock_guard lock(mu_);
  row_ = CurrentRow{&table, &values, seq, deleted};
  const bool match = sqlite3_step(filter.stmt_) == SQLITE_ROW;
  sqlite3_reset(filter.stmt_);
  row_ = CurrentRow{};
  return match;
}

}  // namespace kalam::live
