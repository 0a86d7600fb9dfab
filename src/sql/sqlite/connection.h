// SqlConnection: one in-memory SQLite connection with KalamDB's module and functions, its cached
// table registrations and prepared statements; SqlConnectionPool hands them to requests.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/table_def.h"
#include "common/status.h"

namespace kalam::sql {

struct ExecContext;
struct SystemTable;

// kResourceExhausted ("Statement cancelled: …") once the running statement of `ctx` is past its
// deadline (StatementState::deadline), else OK. SQLite's progress handler and the aggregate path
// (sql/fast_aggregate.h) stop a statement with it.
Status CheckDeadline(const ExecContext& ctx);

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtCloser>;

// Process-wide prepared-statement cache counters (the "plan cache" of ARCHITECTURE.md §5).
struct StatementCacheStats {
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> misses{0};
  static StatementCacheStats& Global();
};

// Not thread-safe: used by one request at a time (the pool guarantees it).
class SqlConnection {
 public:
  // Opens an in-memory database and registers the `kalam` module and functions.
  // `max_value_bytes` caps any string or blob SQLite builds (SQLITE_LIMIT_LENGTH), so one
  // expression (printf width, randomblob, group_concat) cannot stall a worker or exhaust memory.
  static Result<std::unique_ptr<SqlConnection>> Open(size_t statement_cache_size,
                                                     size_t max_value_bytes = 16u << 20);
  ~SqlConnection();

  sqlite3* db() const { return db_; }

  // The request running on this connection (null between requests).
  ExecContext* context() const { return ctx_; }
  void set_context(ExecContext* ctx) { ctx_ = ctx; }

  // The SQLite name of `def` on this connection, registering it (again, if its schema version
  // changed) first. The name is "kt_<table_id>".
  Result<std::string> EnsureRegistered(const std::shared_ptr<const catalog::TableDef>& def);
  // Brings this connection in line with `catalog` after DDL: registrations of dropped or
  // altered tables are removed and, if any were, every cached statement is finalized. Cheap
  // when the catalog version has not changed.
  void SyncWithCatalog(const catalog::CatalogSnapshot& catalog);

  // The SQLite name of system table `table` (system_tables.h) on this connection, registering
  // it on first use. The name is table.sqlite_name ("ks_users").
  Result<std::string> EnsureSystemRegistered(const SystemTable& table);

  // The table being registered right now (for the module's xConnect).
  std::shared_ptr<const catalog::TableDef> PendingRegistration(catalog::TableId id) const;
  // The registered TableDef behind SQLite table `name` (a `kalam` or a `kalam_system` table), or
  // null.
  const catalog::TableDef* RegisteredByName(std::string_view name) const;

  // A prepared statement for `sql` from the cache, or prepared now. The statement stays owned by
  // the cache; it is reset and its bindings cleared when handed out. `tail` (if any text remains
  // after the first statement) is an error.
  Result<sqlite3_stmt*> Prepare(const std::string& sql);

  // Names of `kalam` tables that statements prepared now may read (others are denied by the
  // authorizer).
  void set_allowed_tables(const std::unordered_set<std::string>* allowed) { allowed_ = allowed; }
  const std::unordered_set<std::string>* allowed_tables() const { return allowed_; }
  bool registering() const { return registering_; }

 private:
  SqlConnection() = default;
  struct Registered {
    std::shared_ptr<const catalog::TableDef> def;
    std::string name;
  };
  struct CacheEntry {
    StmtPtr stmt;
    std::list<std::string>::iterator lru_pos;
  };

  sqlite3* db_ = nullptr;
  ExecContext* ctx_ = nullptr;
  size_t cache_capacity_ = 256;
  std::unordered_map<catalog::TableId, Registered> registered_;
  std::unordered_map<std::string, catalog::TableId> registered_names_;
  // System tables registered on this connection, by SQLite name. They never change, so DDL
  // never drops them.
  std::unordered_map<std::string, const catalog::TableDef*> system_registered_;
  std::shared_ptr<const catalog::TableDef> pending_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::list<std::string> lru_;  // front = most recent
  const std::unordered_set<std::string>* allowed_ = nullptr;
  bool registering_ = false;
  uint64_t catalog_version_ = 0;  // the catalog version SyncWithCatalog last saw
};

// A fixed set of connections. Thread-safe.
class SqlConnectionPool {
 public:
  static Result<std::unique_ptr<SqlConnectionPool>> Create(size_t size, size_t statement_cache_size,
                                                           size_t max_value_bytes = 16u << 20);

  // A connection for exclusive use; returned to the pool when the handle is destroyed.
  class Lease {
   public:
    Lease(SqlConnectionPool* pool, std::unique_ptr<SqlConnection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    SqlConnection* operator->() const { return conn_.get(); }
    SqlConnection& operator*() const { return *conn_; }

   private:
    SqlConnectionPool* pool_;
    std::unique_ptr<SqlConnection> conn_;
  };

  // Blocks until a connection is free.
  Lease Acquire();

  // A free connection, or nullopt at once when every one is leased (for callers that must not
  // wait: a statement run on an HTTP I/O thread).
  std::optional<Lease> TryAcquire();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqlConnection>> free_;  // guarded by mu_
};

// Registers KalamDB's scalar functions (NOW, SNOWFLAKE_ID, UUID_V7, ULID, CURRENT_USER,
// CURRENT_ROLE, COSINE_DISTANCE, L2_DISTANCE, DOT_PRODUCT) on `db`.
int RegisterFunctions(sqlite3* db, SqlConnection* conn);

// Registers what typed comparisons need on any connection that declares tables with
// DeclareTableSql and runs rewritten statements (sql/parser/typed_operands.h): the collation
// kDecimalCollation and the function kOperandFunction. `conn` may be null (no request context: a
// conversion error then only fails the statement); else it must outlive `db`'s use of it.
int RegisterTypedComparisons(sqlite3* db, SqlConnection* conn);

// Registers json_contains, json_get_str/_int/_float/_bool/_json, json_as_text, json_length and
// json_object_keys (sql/sqlite/json_functions.cc; docs/sql_functions.md). They need no
// connection state, so live filters register them too.
int RegisterJsonFunctions(sqlite3* db);

}  // namespace kalam::sql
