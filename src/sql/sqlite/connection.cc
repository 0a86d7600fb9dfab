// SqlConnection and its pool.
#include "sql/sqlite/connection.h"

#include <algorithm>
#include <cstring>

#include "sql/exec_context.h"
#include "sql/sqlite/safe_printf.h"
#include "sql/sqlite/system_tables.h"
#include "sql/sqlite/vector_search.h"
#include "sql/sqlite/vtab_module.h"

namespace kalam::sql {

namespace {

bool StartsWithNoCase(const char* s, const char* prefix) {
  if (!s) return false;
  return sqlite3_strnicmp(s, prefix, static_cast<int>(std::strlen(prefix))) == 0;
}

// Denies everything a request must not reach: SQLite internals, schema changes, pragmas, and
// `kalam` and `kalam_system` tables (kt_*, ks_*) that the statement did not name (and was not
// checked for).
int Authorizer(void* user, int action, const char* a1, const char* a2, const char*,
               const char*) {
  auto* conn = static_cast<SqlConnection*>(user);
  if (conn->registering()) return SQLITE_OK;
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_FUNCTION: {
      // fts3_tokenizer() can register a native pointer (a known SQLite attack path);
      // load_extension() loads code. Neither is for requests.
      const char* fn = a2 ? a2 : "";
      if (sqlite3_stricmp(fn, "fts3_tokenizer") == 0 ||
          sqlite3_stricmp(fn, "load_extension") == 0) {
        return SQLITE_DENY;
      }
      return SQLITE_OK;
    }
    case SQLITE_READ:
    case SQLITE_INSERT:
    case SQLITE_UPDATE:
    case SQLITE_DELETE: {
      if (!a1) return SQLITE_OK;
      if (StartsWithNoCase(a1, "sqlite_") || StartsWithNoCase(a1, "pragma_") ||
          StartsWithNoCase(a1, "dbstat")) {
        return SQLITE_DENY;
      }
      if (StartsWithNoCase(a1, "kt_") || StartsWithNoCase(a1, "ks_")) {
        const auto* allowed = conn->allowed_tables();
        if (!allowed || !allowed->count(a1)) return SQLITE_DENY;
      }
      return SQLITE_OK;
    }
    default:
      return SQLITE_DENY;
  }
}

}  // namespace

// Called by SQLite every few thousand VM steps: interrupts a statement past its deadline, so a
// runaway query cannot hold a worker forever.
int ProgressHandler(void* user) {
  auto* conn = static_cast<SqlConnection*>(user);
  ExecContext* ctx = conn->context();
  if (!ctx) return 0;
  Status s = CheckDeadline(*ctx);
  if (s.ok()) return 0;
  ctx->SetError(std::move(s));
  return 1;
}

Status CheckDeadline(const ExecContext& ctx) {
  if (ctx.statement.deadline.time_since_epoch().count() == 0) return Status::OK();
  if (std::chrono::steady_clock::now() < ctx.statement.deadline) return Status::OK();
  return Status::ResourceExhausted(
      "Statement cancelled: the request ran longer than its time limit of " +
      std::to_string(ctx.statement.time_limit.count() / 1000) +
      " s (limits.request_timeout_secs)");
}

StatementCacheStats& StatementCacheStats::Global() {
  static StatementCacheStats stats;
  return stats;
}

Result<std::unique_ptr<SqlConnection>> SqlConnection::Open(size_t statement_cache_size,
                                                           size_t max_value_bytes) {
  std::unique_ptr<SqlConnection> conn(new SqlConnection());
  conn->cache_capacity_ = statement_cache_size ? statement_cache_size : 1;
  int rc = sqlite3_open_v2(":memory:", &conn->db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return Status::Internal("Cannot open SQLite connection");
  sqlite3_db_config(conn->db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(conn->db_, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_db_config(conn->db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(conn->db_, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, nullptr);
  sqlite3_limit(conn->db_, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_limit(conn->db_, SQLITE_LIMIT_LENGTH,
                static_cast<int>(std::min<size_t>(max_value_bytes, 1u << 30)));
  if (RegisterKalamModule(conn->db_, conn.get()) != SQLITE_OK ||
      RegisterTypedComparisons(conn->db_, conn.get()) != SQLITE_OK ||
      RegisterSystemModule(conn->db_, conn.get()) != SQLITE_OK ||
      RegisterFunctions(conn->db_, conn.get()) != SQLITE_OK ||
      RegisterVectorSearchModule(conn->db_, conn.get()) != SQLITE_OK ||
      RegisterJsonFunctions(conn->db_) != SQLITE_OK ||
      RegisterSafePrintf(conn->db_, std::min<size_t>(max_value_bytes, 1u << 30)) != SQLITE_OK) {
    return Status::Internal(std::string("Cannot register SQLite extensions: ") +
                            sqlite3_errmsg(conn->db_));
  }
  // SQLite builds an eponymous virtual table (json_each, json_tree) on first use by touching
  // sqlite_master, which the authorizer refuses; build them now, before it is installed.
  if (sqlite3_exec(conn->db_,
                   "SELECT * FROM json_each('[]'); SELECT * FROM json_tree('[]'); "
                   "SELECT * FROM vector_search WHERE 0",
                   nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("Cannot initialise table-valued functions: ") +
                            sqlite3_errmsg(conn->db_));
  }
  sqlite3_set_authorizer(conn->db_, Authorizer, conn.get());
  sqlite3_progress_handler(conn->db_, 20000, ProgressHandler, conn.get());
  return conn;
}

SqlConnection::~SqlConnection() {
  cache_.clear();
  if (db_) sqlite3_close_v2(db_);
}

Result<std::string> SqlConnection::EnsureRegistered(
    const std::shared_ptr<const catalog::TableDef>& def) {
  auto it = registered_.find(def->table_id);
  if (it != registered_.end()) {
    if (it->second.def->schema_version == def->schema_version &&
        it->second.def.get() == def.get()) {
      return it->second.name;
    }
    if (it->second.def->schema_version == def->schema_version) {
      it->second.def = def;  // same version, newer snapshot object
      return it->second.name;
    }
  }
  std::string name = "kt_" + std::to_string(def->table_id);
  registering_ = true;
  pending_ = def;
  std::string sql;
  if (it != registered_.end()) sql = "DROP TABLE temp." + name + ";";
  sql += "CREATE VIRTUAL TABLE temp." + name + " USING kalam(" + std::to_string(def->table_id) + ")";
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  registering_ = false;
  pending_.reset();
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Status::Internal("Cannot register table " + def->QualifiedName() + ": " + msg);
  }
  registered_[def->table_id] = Registered{def, name};
  registered_names_[name] = def->table_id;
  return name;
}

Result<std::string> SqlConnection::EnsureSystemRegistered(const SystemTable& table) {
  if (system_registered_.count(table.sqlite_name)) return table.sqlite_name;
  const std::string sql = "CREATE VIRTUAL TABLE temp." + table.sqlite_name +
                          " USING kalam_system(" + table.sqlite_name + ")";
  registering_ = true;
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  registering_ = false;
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Status::Internal("Cannot register system table " + table.def->QualifiedName() + ": " +
                            msg);
  }
  system_registered_[table.sqlite_name] = table.def.get();
  return table.sqlite_name;
}

void SqlConnection::SyncWithCatalog(const catalog::CatalogSnapshot& catalog) {
  if (catalog.version() == catalog_version_) return;
  catalog_version_ = catalog.version();
  std::vector<catalog::TableId> stale;
  for (const auto& [id, reg] : registered_) {
    auto current = catalog.FindTableById(id);
    if (!current || current->schema_version != reg.def->schema_version) stale.push_back(id);
  }
  if (stale.empty()) return;
  cache_.clear();  // finalizes statements that may reference the stale tables
  lru_.clear();
  registering_ = true;
  for (catalog::TableId id : stale) {
    const std::string name = registered_[id].name;
    sqlite3_exec(db_, ("DROP TABLE temp." + name).c_str(), nullptr, nullptr, nullptr);
    registered_names_.erase(name);
    registered_.erase(id);
  }
  registering_ = false;
}

std::shared_ptr<const catalog::TableDef> SqlConnection::PendingRegistration(
    catalog::TableId id) const {
  return pending_ && pending_->table_id == id ? pending_ : nullptr;
}

const catalog::TableDef* SqlConnection::RegisteredByName(std::string_view name) const {
  auto it = registered_names_.find(std::string(name));
  if (it == registered_names_.end()) {
    auto sys = system_registered_.find(std::string(name));
    return sys == system_registered_.end() ? nullptr : sys->second;
  }
  auto r = registered_.find(it->second);
  return r == registered_.end() ? nullptr : r->second.def.get();
}

Result<sqlite3_stmt*> SqlConnection::Prepare(const std::string& sql) {
  auto& stats = StatementCacheStats::Global();
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    stats.hits.fetch_add(1, std::memory_order_relaxed);
    lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
    sqlite3_stmt* s = it->second.stmt.get();
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
  }
  stats.misses.fetch_add(1, std::memory_order_relaxed);
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &raw, &tail);
  StmtPtr stmt(raw);
  if (rc != SQLITE_OK) return Status::InvalidSql(sqlite3_errmsg(db_));
  if (!stmt) return Status::InvalidSql("Empty statement");
  if (tail) {
    while (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == '\r') ++tail;
    if (*tail) return Status::InvalidSql("Only one statement can be prepared at a time");
  }
  if (cache_.size() >= cache_capacity_ && !lru_.empty()) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(sql);
  sqlite3_stmt* s = stmt.get();
  cache_.emplace(sql, CacheEntry{std::move(stmt), lru_.begin()});
  return s;
}

Result<std::unique_ptr<SqlConnectionPool>> SqlConnectionPool::Create(size_t size,
                                                                    size_t statement_cache_size,
                                                                    size_t max_value_bytes) {
  auto pool = std::make_unique<SqlConnectionPool>();
  for (size_t i = 0; i < std::max<size_t>(size, 1); ++i) {
    KALAM_ASSIGN_OR_RETURN(auto conn, SqlConnection::Open(statement_cache_size, max_value_bytes));
    pool->free_.push_back(std::move(conn));
  }
  return pool;
}

SqlConnectionPool::Lease SqlConnectionPool::Acquire() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !free_.empty(); });
  auto conn = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(conn));
}

std::optional<SqlConnectionPool::Lease> SqlConnectionPool::TryAcquire() {
  std::lock_guard lock(mu_);
  if (free_.empty()) return std::nullopt;
  auto conn = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(conn));
}

SqlConnectionPool::Lease::~Lease() {
  if (!conn_) return;
  conn_->set_context(nullptr);
  conn_->set_allowed_tables(nullptr);
  {
    std::lock_guard lock(pool_->mu_);
    pool_->free_.push_back(std::move(conn_));
  }
  pool_->cv_.notify_one();
}

}  // namespace kalam::sql
