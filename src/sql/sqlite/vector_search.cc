// The `vector_search` eponymous virtual table. Its arguments are hidden columns; xBestIndex
// takes them in order, xFilter resolves the table, checks access, and asks vector::VectorIndexes.
#include "sql/sqlite/vector_search.h"

#include <cctype>
#include <cstring>
#include <string>
#include <vector>

#include "sql/exec_context.h"
#include "sql/sqlite/connection.h"
#include "vector/vector_indexes.h"
#include "vector/vector_math.h"

namespace kalam::sql {

namespace {

constexpr int kRowId = 0, kScore = 1, kTable = 2, kColumn = 3, kQuery = 4, kTopK = 5;
constexpr int kArgColumns = 4;
constexpr int64_t kDefaultTopK = 10;
constexpr int64_t kMaxTopK = 10000;
constexpr const char* kArgsError =
    "vector_search(table_id, column_name, query_vector[, top_k]) expects 3 or 4 literal "
    "arguments";

struct VectorSearchTable {
  sqlite3_vtab base{};
  SqlConnection* conn = nullptr;
};

struct VectorSearchCursor {
  sqlite3_vtab_cursor base{};
  std::vector<std::pair<std::string, float>> rows;  // row_id, score
  size_t pos = 0;
};

int Fail(sqlite3_vtab* vt, ExecContext* ctx, Status s) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  if (ctx) ctx->SetError(std::move(s));
  return SQLITE_ERROR;
}

std::string TextOf(sqlite3_value* v) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return std::string(p ? p : "", static_cast<size_t>(sqlite3_value_bytes(v)));
}

// "Stream", "System": the original's Debug spelling of a table type.
std::string TypeDebugName(catalog::TableType type) {
  std::string name(catalog::TableTypeName(type));
  for (size_t i = 1; i < name.size(); ++i) {
    name[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  }
  return name;
}

Result<std::vector<float>> ReadQuery(sqlite3_value* v) {
  std::vector<float> out;
  if (sqlite3_value_type(v) == SQLITE_BLOB) {
    const int n = sqlite3_value_bytes(v);
    if (n % 4 != 0) {
      return Status::InvalidArgument("vector_search query_vector blob must hold float32 values");
    }
    out.resize(static_cast<size_t>(n) / 4);
    if (n > 0) std::memcpy(out.data(), sqlite3_value_blob(v), static_cast<size_t>(n));
  } else if (sqlite3_value_type(v) == SQLITE_TEXT) {
    auto parsed = vector::ParseVectorText(TextOf(v));
    if (!parsed.ok()) {
      return Status::InvalidArgument("vector_search failed to parse query_vector: " +
                                     parsed.status().message());
    }
    out = std::move(*parsed);
  } else if (sqlite3_value_type(v) != SQLITE_NULL) {
    return Status::InvalidArgument(
        "vector_search query_vector must be JSON text like '[0.1, 0.2]' or an EMBEDDING value");
  }
  if (out.empty()) return Status::InvalidArgument("vector_search query_vector cannot be empty");
  return out;
}

// Runs the search into cur->rows.
Status Run(ExecContext& ctx, sqlite3_value* table_arg, sqlite3_value* column_arg,
           sqlite3_value* query_arg, sqlite3_value* k_arg, VectorSearchCursor* cur) {
  int64_t k = kDefaultTopK;
  if (k_arg != nullptr) {
    if (sqlite3_value_type(k_arg) != SQLITE_INTEGER) {
      return Status::InvalidArgument("vector_search top_k must be an integer");
    }
    k = sqlite3_value_int64(k_arg);
    if (k <= 0) return Status::InvalidArgument("vector_search top_k must be > 0");
    if (k > kMaxTopK) {
      return Status::InvalidArgument("vector_search top_k must be at most " +
                                     std::to_string(kMaxTopK));
    }
  }
  const std::string table_id = TextOf(table_arg);
  const size_t dot = table_id.find('.');
  if (sqlite3_value_type(table_arg) != SQLITE_TEXT || dot == std::string::npos || dot == 0 ||
      dot + 1 == table_id.size() || table_id.find('.', dot + 1) != std::string::npos) {
    return Status::InvalidArgument(
        "vector_search table_id must be in 'namespace.table' format, got '" + table_id + "'");
  }
  KALAM_ASSIGN_OR_RETURN(std::vector<float> query, ReadQuery(query_arg));
  const std::string ns = catalog::LowerName(table_id.substr(0, dot));
  const std::string name = catalog::LowerName(table_id.substr(dot + 1));
  auto def = ctx.statement.catalog ? ctx.statement.catalog->FindTable(ns, name) : nullptr;
  if (!def) return Status::TableNotFound("Table '" + ns + "." + name + "' does not exist");
  if (def->type != catalog::TableType::kUser && def->type != catalog::TableType::kShared) {
    return Status::InvalidArgument("vector_search supports only user/shared tables, got " +
                                   TypeDebugName(def->type));
  }
  KALAM_RETURN_IF_ERROR(CheckTableAccess(ctx.caller, *def, /*write=*/false));
  const std::string column_name = TextOf(column_arg);
  const int column = def->FindColumn(column_name);
  if (column < 0) {
    return Status::InvalidArgument("Column '" + catalog::LowerName(column_name) +
                                   "' does not exist in table '" + def->QualifiedName() + "'");
  }
  if (def->columns[column].type.kind != TypeKind::kEmbedding) {
    return Status::InvalidArgument("vector_search column '" + def->columns[column].name +
                                   "' is not EMBEDDING");
  }
  if (ctx.services.vectors == nullptr) {
    return Status::Unavailable("vector_search is not available here");
  }
  const table::Scope scope =
      def->type == catalog::TableType::kShared ? std::string() : ctx.caller.user_id;
  KALAM_ASSIGN_OR_RETURN(auto hits, ctx.services.vectors->Search(*def, static_cast<size_t>(column),
                                                                 scope, query,
                                                                 static_cast<size_t>(k)));
  const VectorMetric metric = def->columns[column].vector_index
                                  ? def->columns[column].vector_index->metric
                                  : VectorMetric::kCosine;
  cur->rows.clear();
  for (auto& h : hits) cur->rows.emplace_back(std::move(h.pk_text), vector::Score(metric, h.distance));
  return Status::OK();
}

int XConnect(sqlite3* db, void* aux, int, const char* const*, sqlite3_vtab** out, char**) {
  int rc = sqlite3_declare_vtab(db,
                                "CREATE TABLE x(row_id TEXT, score REAL, table_id HIDDEN, "
                                "column_name HIDDEN, query_vector HIDDEN, top_k HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  auto* vt = new VectorSearchTable();  // owned by SQLite until XDisconnect
  vt->conn = static_cast<SqlConnection*>(aux);
  *out = &vt->base;
  return SQLITE_OK;
}

int XDisconnect(sqlite3_vtab* base) {
  delete reinterpret_cast<VectorSearchTable*>(base);
  return SQLITE_OK;
}

// idxNum: bit i set = argument i (table, column, query, top_k) is passed, in that argv order.
int XBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  int slot[kArgColumns] = {-1, -1, -1, -1};
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.iColumn < kTable) continue;
    if (c.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c.usable) return SQLITE_CONSTRAINT;  // arguments must be available: try another plan
    slot[c.iColumn - kTable] = i;
  }
  int mask = 0, next = 1;
  for (int a = 0; a < kArgColumns; ++a) {
    if (slot[a] < 0) continue;
    mask |= 1 << a;
    info->aConstraintUsage[slot[a]].argvIndex = next++;
    info->aConstraintUsage[slot[a]].omit = 1;
  }
  info->idxNum = mask;
  info->estimatedCost = 1000;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

int XOpen(sqlite3_vtab*, sqlite3_vtab_cursor** out) {
  auto* cur = new VectorSearchCursor();  // owned by SQLite until XClose
  *out = &cur->base;
  return SQLITE_OK;
}

int XClose(sqlite3_vtab_cursor* base) {
  delete reinterpret_cast<VectorSearchCursor*>(base);
  return SQLITE_OK;
}

int XFilter(sqlite3_vtab_cursor* base, int idx_num, const char*, int argc, sqlite3_value** argv) {
  auto* cur = reinterpret_cast<VectorSearchCursor*>(base);
  auto* vt = reinterpret_cast<VectorSearchTable*>(base->pVtab);
  ExecContext* ctx = vt->conn->context();
  cur->rows.clear();
  cur->pos = 0;
  if (ctx == nullptr) return SQLITE_OK;  // the connection's warm-up scan: no rows
  sqlite3_value* args[kArgColumns] = {nullptr, nullptr, nullptr, nullptr};
  int next = 0;
  for (int a = 0; a < kArgColumns; ++a) {
    if ((idx_num & (1 << a)) && next < argc) args[a] = argv[next++];
  }
  if (!args[0] || !args[1] || !args[2]) {
    return Fail(&vt->base, ctx, Status::InvalidArgument(kArgsError));
  }
  Status s = Run(*ctx, args[0], args[1], args[2], args[3], cur);
  if (!s.ok()) return Fail(&vt->base, ctx, std::move(s));
  return SQLITE_OK;
}

int XNext(sqlite3_vtab_cursor* base) {
  ++reinterpret_cast<VectorSearchCursor*>(base)->pos;
  return SQLITE_OK;
}

int XEof(sqlite3_vtab_cursor* base) {
  auto* cur = reinterpret_cast<VectorSearchCursor*>(base);
  return cur->pos >= cur->rows.size();
}

int XColumn(sqlite3_vtab_cursor* base, sqlite3_context* c, int column) {
  auto* cur = reinterpret_cast<VectorSearchCursor*>(base);
  const auto& row = cur->rows[cur->pos];
  if (column == kRowId) {
    sqlite3_result_text(c, row.first.data(), static_cast<int>(row.first.size()),
                        SQLITE_TRANSIENT);
  } else if (column == kScore) {
    sqlite3_result_double(c, row.second);
  } else {
    sqlite3_result_null(c);
  }
  return SQLITE_OK;
}

int XRowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<VectorSearchCursor*>(base)->pos);
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 1;
  m.xCreate = nullptr;  // eponymous only: CREATE VIRTUAL TABLE … USING vector_search is refused
  m.xConnect = XConnect;
  m.xBestIndex = XBestIndex;
  m.xDisconnect = XDisconnect;
  m.xDestroy = XDisconnect;
  m.xOpen = XOpen;
  m.xClose = XClose;
  m.xFilter = XFilter;
  m.xNext = XNext;
  m.xEof = XEof;
  m.xColumn = XColumn;
  m.xRowid = XRowid;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterVectorSearchModule(sqlite3* db, SqlConnection* conn) {
  return sqlite3_create_module_v2(db, "vector_search", &kModule, conn, nullptr);
}

}  // namespace kalam::sql
