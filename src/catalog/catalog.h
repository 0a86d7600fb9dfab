// Catalog: namespaces, tables (every schema version) and users, persisted in the `system`
// partition and served to readers as immutable snapshots.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/roles.h"
#include "catalog/table_def.h"
#include "common/clock.h"
#include "common/status.h"
#include "storage/kv_store.h"

namespace kalam::catalog {

inline constexpr std::string_view kDefaultNamespace = "default";
inline constexpr std::string_view kSystemNamespace = "system";

struct NamespaceDef {
  std::string name;                 // lower case
  std::string options_json = "{}";  // ALTER NAMESPACE … SET OPTIONS
  int64_t created_at_us = 0;
};

// A user account. Soft-deleted users keep their record with deleted_at_us != 0.
struct UserRecord {
  std::string user_id;  // the login name
  auth::Role role = auth::Role::kUser;
  std::optional<std::string> email;
  std::string password_hash;  // argon2id string; empty = no password set
  std::string auth_type = "password";
  int64_t created_at_us = 0;
  int64_t updated_at_us = 0;
  int64_t last_login_at_us = 0;
  int64_t locked_until_us = 0;
  uint32_t failed_login_attempts = 0;
  int64_t deleted_at_us = 0;

  bool deleted() const { return deleted_at_us != 0; }
  std::string ToJson() const;
  static Result<UserRecord> FromJson(std::string_view json);
};

// An immutable view of namespaces and tables. Thread-safe (read-only).
class CatalogSnapshot {
 public:
  const NamespaceDef* FindNamespace(std::string_view name) const;
  // Latest schema version of ns.table (names case-insensitive), or null.
  std::shared_ptr<const TableDef> FindTable(std::string_view ns, std::string_view table) const;
  std::shared_ptr<const TableDef> FindTableById(TableId id) const;
  std::vector<std::shared_ptr<const TableDef>> TablesIn(std::string_view ns) const;
  std::vector<std::shared_ptr<const TableDef>> AllTables() const;
  const std::map<std::string, NamespaceDef>& namespaces() const { return namespaces_; }
  // Increases with every published change (DDL); equal versions mean equal contents.
  uint64_t version() const { return version_; }

 private:
  friend class Catalog;
  uint64_t version_ = 0;
  std::map<std::string, NamespaceDef> namespaces_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const TableDef>> tables_;
  std::unordered_map<TableId, std::shared_ptr<const TableDef>> by_id_;
};

// The catalog. DDL calls are serialised internally; each one persists atomically and then
// publishes a new snapshot. Thread-safe.
class Catalog {
 public:
  // Loads the catalog from `store`, creating namespace `default` on first start. `node_local`
  // (a cluster node: `store` replicates its writes, docs/cluster.md) takes the writes that stay
  // on this node (PutUserLoginState); null = `store`.
  static Result<std::unique_ptr<Catalog>> Open(storage::KvStore& store, const Clock& clock,
                                               storage::KvStore* node_local = nullptr);

  std::shared_ptr<const CatalogSnapshot> snapshot() const;

  // Re-reads every namespace, table and user from the store and publishes them as a new
  // snapshot (a cluster node, after applying a catalog change another node made:
  // docs/cluster.md). Takes the DDL lock, so never call it from a thread a DDL call waits on.
  Status Reload();

  // A cluster node's check before each DDL computes its change (docs/cluster.md), called under
  // the DDL lock: an error fails the DDL, nothing written (a node that does not lead the meta
  // group); true = the store holds catalog changes this node has not loaded yet, which are then
  // loaded first. Unset (a single node): nothing is checked.
  using DdlGate = std::function<Result<bool>()>;
  void SetDdlGate(DdlGate gate);

  // Fails with kAlreadyExists (`Namespace 'x' already exists`) unless if_not_exists, in which
  // case `*created` is false.
  Status CreateNamespace(std::string_view name, bool if_not_exists, bool* created);
  // Removes a namespace. Without cascade fails while it holds tables, naming them. `drop_data`
  // is called for each table dropped by CASCADE to add its data deletions to the same batch.
  Status DropNamespace(
      std::string_view name, bool if_exists, bool cascade,
      const std::function<void(const TableDef&, storage::WriteBatch*)>& drop_data, bool* dropped);
  Status SetNamespaceOptions(std::string_view name, std::string options_json);

  // Assigns a table id, column ids and version 1, persists and publishes `draft`.
  // kAlreadyExists unless if_not_exists (then returns the existing table, `*created` false).
  Result<std::shared_ptr<const TableDef>> CreateTable(TableDef draft, bool if_not_exists,
                                                      bool* created);
  // Creates schema version `expected_version + 1` of table `id`: copies the latest version, lets
  // `mutate` change its columns and options, then assigns ids to added columns (column_id 0 gets
  // next_column_id, which only grows), lower-cases column names, bumps schema_version and
  // updated_at, persists the result as the latest `tbl/` entry and a new `sch/` entry in one
  // atomic write, and publishes it (connections re-register the table on their next statement).
  // Fails, with nothing written, with kTableNotFound if the table is gone, kConflict if its
  // latest version is no longer `expected_version` (a concurrent ALTER won: re-read and retry),
  // mutate's own error, or kInvalidArgument if the result breaks a table invariant (identity
  // changed, not exactly one primary key, duplicate column names). `mutate` runs under the DDL
  // lock and must not call back into the catalog.
  Result<std::shared_ptr<const TableDef>> AlterTable(
      TableId id, uint32_t expected_version, const std::function<Status(TableDef&)>& mutate);
  // Removes the table's metadata and applies `data_deletes` (its rows) in the same atomic write.
  Status DropTable(const TableDef& table, storage::WriteBatch data_deletes);
  // RESTORE NAMESPACE (jobs/namespace_backup.h), step 1: reserves `count` new table ids (persisted,
  // never handed out again) and returns the first; the restore writes its rows under them before
  // any catalog entry names them.
  Result<TableId> ReserveTableIds(size_t count);
  // RESTORE NAMESPACE, last step: publishes namespace `ns` with `tables` — each one table's every
  // schema version, oldest first, already carrying a reserved id and `ns.name` — plus `extra`
  // (the tables' cold manifests) in ONE atomic write, so readers see the namespace either absent
  // or complete. When `ns.name` exists: kAlreadyExists "Namespace 'x' already exists" unless
  // `replace`, in which case its tables are dropped in the same write (`drop_data` adds each one's
  // data deletions, as DropNamespace's does) and their ids are appended to `*dropped`. Reserved
  // names are refused like CreateNamespace does; `default` cannot be replaced.
  Status RestoreNamespace(const NamespaceDef& ns,
                          const std::vector<std::vector<std::shared_ptr<TableDef>>>& tables,
                          bool replace, storage::WriteBatch extra,
                          const std::function<void(const TableDef&, storage::WriteBatch*)>& drop_data,
                          std::vector<TableId>* dropped);
  // Every persisted schema version of a table, oldest first.
  Result<std::vector<std::shared_ptr<TableDef>>> SchemaHistory(TableId id) const;
  // True when the store shows table `id` was created and is gone (dropped): no schema version
  // of it is stored, and the stored next table id is past it (ids are never handed out twice).
  // Reads the store, not the published snapshot, so a cluster node sees what its meta group
  // applied before the reload. Ids reserved by ReserveTableIds and not yet published count as
  // dropped too.
  Result<bool> WasDropped(TableId id) const;

  // Users. GetUser returns deleted users too (callers decide).
  std::optional<UserRecord> GetUser(std::string_view user_id) const;
  std::vector<UserRecord> ListUsers() const;
  // Creates or replaces a user record.
  Status PutUser(const UserRecord& user);
  // The same for a login's outcome (failure counter, lockout, last login): written to the
  // node-local store, so a login on any cluster node is recorded there without the meta group.
  Status PutUserLoginState(const UserRecord& user);

  // A value in the `meta` partition created once with `make` and then stable (e.g. JWT secret).
  Result<std::string> GetOrCreateMeta(std::string_view name, const std::function<std::string()>& make);

 private:
  Catalog(storage::KvStore& store, const Clock& clock) : store_(store), clock_(clock) {}
  Status Load();
  Status WriteUser(storage::KvStore& store, const UserRecord& user);
  Status EnterDdl();  // requires ddl_mu_: runs ddl_gate_
  void Publish(std::shared_ptr<CatalogSnapshot> next);  // requires ddl_mu_
  std::shared_ptr<CatalogSnapshot> CopySnapshot() const;

  storage::KvStore& store_;
  storage::KvStore* node_local_ = nullptr;  // set by Open, then read-only; null = store_
  const Clock& clock_;
  std::mutex ddl_mu_;  // serialises every catalog write
  mutable std::mutex snap_mu_;
  std::shared_ptr<const CatalogSnapshot> snap_;  // guarded by snap_mu_
  TableId next_table_id_ = 1;                    // guarded by ddl_mu_
  DdlGate ddl_gate_;                             // guarded by ddl_mu_
  mutable std::mutex users_mu_;
  std::map<std::string, UserRecord> users_;  // guarded by users_mu_
};

// Lower-cases an ASCII identifier.
std::string LowerName(std::string_view s);

}  // namespace kalam::catalog
