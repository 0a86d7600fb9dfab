// Catalog persistence and snapshots.
#include "catalog/catalog.h"

#include <algorithm>
#include <charconv>

#include <boost/json.hpp>

#include "common/value_codec.h"

namespace kalam::catalog {

namespace json = boost::json;
using storage::Partition;

namespace {

constexpr std::string_view kNsPrefix = "ns/";
constexpr std::string_view kTablePrefix = "tbl/";
constexpr std::string_view kSchemaPrefix = "sch/";
constexpr std::string_view kUserPrefix = "usr/";
constexpr std::string_view kNextTableId = "next_table_id";

std::string TableKey(TableId id) {
  std::string k(kTablePrefix);
  AppendOrderedU64(id, &k);
  return k;
}

std::string SchemaKey(TableId id, uint32_t version) {
  std::string k(kSchemaPrefix);
  AppendOrderedU64(id, &k);
  AppendOrderedU64(version, &k);
  return k;
}

std::string NamespaceJson(const NamespaceDef& ns) {
  return json::serialize(json::object{
      {"name", ns.name}, {"options", ns.options_json}, {"created_at_us", ns.created_at_us}});
}

}  // namespace

std::string LowerName(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string UserRecord::ToJson() const {
  json::object o{
      {"user_id", user_id},
      {"role", auth::RoleName(role)},
      {"password_hash", password_hash},
      {"auth_type", auth_type},
      {"created_at_us", created_at_us},
      {"updated_at_us", updated_at_us},
      {"last_login_at_us", last_login_at_us},
      {"locked_until_us", locked_until_us},
      {"failed_login_attempts", failed_login_attempts},
      {"deleted_at_us", deleted_at_us},
  };
  if (email) o["email"] = *email;
  else o["email"] = nullptr;
  return json::serialize(o);
}

Result<UserRecord> UserRecord::FromJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Status::Corruption("Stored user is not valid JSON");
  try {
    const auto& o = v.as_object();
    UserRecord u;
    u.user_id = std::string(o.at("user_id").as_string());
    u.role = auth::ParseRole(o.at("role").as_string()).value_or(auth::Role::kUser);
    if (o.at("email").is_string()) u.email = std::string(o.at("email").as_string());
    u.password_hash = std::string(o.at("password_hash").as_string());
    u.auth_type = std::string(o.at("auth_type").as_string());
    u.created_at_us = o.at("created_at_us").to_number<int64_t>();
    u.updated_at_us = o.at("updated_at_us").to_number<int64_t>();
    u.last_login_at_us = o.at("last_login_at_us").to_number<int64_t>();
    u.locked_until_us = o.at("locked_until_us").to_number<int64_t>();
    u.failed_login_attempts = o.at("failed_login_attempts").to_number<uint32_t>();
    u.deleted_at_us = o.at("deleted_at_us").to_number<int64_t>();
    return u;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("Stored user is malformed: ") + e.what());
  }
}

const NamespaceDef* CatalogSnapshot::FindNamespace(std::string_view name) const {
  auto it = namespaces_.find(LowerName(name));
  return it == namespaces_.end() ? nullptr : &it->second;
}

std::shared_ptr<const TableDef> CatalogSnapshot::FindTable(std::string_view ns,
                                                           std::string_view table) const {
  auto it = tables_.find({LowerName(ns), LowerName(table)});
  return it == tables_.end() ? nullptr : it->second;
}

std::shared_ptr<const TableDef> CatalogSnapshot::FindTableById(TableId id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const TableDef>> CatalogSnapshot::TablesIn(std::string_view ns) const {
  std::vector<std::shared_ptr<const TableDef>> out;
  std::string lower = LowerName(ns);
  for (auto it = tables_.lower_bound({lower, ""}); it != tables_.end() && it->first.first == lower;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::shared_ptr<const TableDef>> CatalogSnapshot::AllTables() const {
  std::vector<std::shared_ptr<const TableDef>> out;
  for (const auto& [k, t] : tables_) out.push_back(t);
  return out;
}

Result<std::unique_ptr<Catalog>> Catalog::Open(storage::KvStore& store, const Clock& clock,
                                               storage::KvStore* node_local) {
  std::unique_ptr<Catalog> c(new Catalog(store, clock));
  c->node_local_ = node_local;
  KALAM_RETURN_IF_ERROR(c->Load());
  if (!c->snapshot()->FindNamespace(kDefaultNamespace)) {
    bool created = false;
    KALAM_RETURN_IF_ERROR(c->CreateNamespace(kDefaultNamespace, true, &created));
  }
  return c;
}

void Catalog::SetDdlGate(DdlGate gate) {
  std::lock_guard lock(ddl_mu_);
  ddl_gate_ = std::move(gate);
}

Status Catalog::EnterDdl() {
  if (!ddl_gate_) return Status::OK();
  KALAM_ASSIGN_OR_RETURN(bool stale, ddl_gate_());
  return stale ? Load() : Status::OK();
}

Status Catalog::Reload() {
  std::lock_guard lock(ddl_mu_);
  return Load();
}

Status Catalog::Load() {
  auto snap = std::make_shared<CatalogSnapshot>();
  std::map<std::string, UserRecord> users;
  auto it = store_.NewIterator(Partition::kSystem);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = it->key();
    std::string_view value = it->value();
    if (key.starts_with(kNsPrefix)) {
      boost::system::error_code ec;
      json::value v = json::parse(value, ec);
      if (ec || !v.is_object()) return Status::Corruption("Stored namespace is not valid JSON");
      NamespaceDef ns;
      ns.name = std::string(v.at("name").as_string());
      ns.options_json = std::string(v.at("options").as_string());
      ns.created_at_us = v.at("created_at_us").to_number<int64_t>();
      snap->namespaces_[ns.name] = ns;
    } else if (key.starts_with(kTablePrefix)) {
      KALAM_ASSIGN_OR_RETURN(auto def, TableDef::FromJson(value));
      next_table_id_ = std::max(next_table_id_, def->table_id + 1);
      std::shared_ptr<const TableDef> cdef = std::move(def);
      snap->tables_[{cdef->namespace_id, cdef->table_name}] = cdef;
      snap->by_id_[cdef->table_id] = cdef;
    } else if (key.starts_with(kUserPrefix)) {
      KALAM_ASSIGN_OR_RETURN(auto user, UserRecord::FromJson(value));
      users[user.user_id] = std::move(user);
    }
  }
  KALAM_RETURN_IF_ERROR(it->status());
  KALAM_ASSIGN_OR_RETURN(auto next, store_.Get(Partition::kMeta, kNextTableId));
  if (next) next_table_id_ = std::max<TableId>(next_table_id_, std::stoull(*next));
  {
    std::lock_guard lock(users_mu_);
    users_ = std::move(users);
  }
  std::lock_guard lock(snap_mu_);
  // A reload is a change like any DDL: connections re-register tables on a new version.
  if (snap_) snap->version_ = snap_->version_ + 1;
  snap_ = std::move(snap);
  return Status::OK();
}

std::shared_ptr<const CatalogSnapshot> Catalog::snapshot() const {
  std::lock_guard lock(snap_mu_);
  return snap_;
}

std::shared_ptr<CatalogSnapshot> Catalog::CopySnapshot() const {
  return std::make_shared<CatalogSnapshot>(*snapshot());
}

void Catalog::Publish(std::shared_ptr<CatalogSnapshot> next) {
  std::lock_guard lock(snap_mu_);
  next->version_ = snap_->version_ + 1;
  snap_ = std::move(next);
}

Status Catalog::CreateNamespace(std::string_view name, bool if_not_exists, bool* created) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  *created = false;
  std::string lower = LowerName(name);
  auto snap = CopySnapshot();
  if (lower == kSystemNamespace || lower == "information_schema") {
    return Status::PermissionDenied("Namespace '" + lower + "' is reserved");
  }
  if (snap->namespaces_.count(lower)) {
    if (if_not_exists) return Status::OK();
    return Status::AlreadyExists("Namespace '" + lower + "' already exists");
  }
  NamespaceDef ns{lower, "{}", clock_.NowMicros()};
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, std::string(kNsPrefix) + lower, NamespaceJson(ns));
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  snap->namespaces_[lower] = ns;
  Publish(std::move(snap));
  *created = true;
  return Status::OK();
}

Status Catalog::DropNamespace(
    std::string_view name, bool if_exists, bool cascade,
    const std::function<void(const TableDef&, storage::WriteBatch*)>& drop_data, bool* dropped) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  *dropped = false;
  std::string lower = LowerName(name);
  if (lower == kDefaultNamespace || lower == kSystemNamespace) {
    return Status::PermissionDenied("Namespace '" + lower + "' cannot be dropped");
  }
  auto snap = CopySnapshot();
  if (!snap->namespaces_.count(lower)) {
    if (if_exists) return Status::OK();
    return Status::NotFound("Namespace '" + lower + "' does not exist");
  }
  auto tables = snap->TablesIn(lower);
  if (!tables.empty() && !cascade) {
    std::string names;
    for (const auto& t : tables) names += (names.empty() ? "" : ", ") + t->table_name;
    return Status::FailedPrecondition("Namespace '" + lower + "' still contains " +
                                      std::to_string(tables.size()) + " table(s): " + names +
                                      ". Drop them first or use DROP NAMESPACE " + lower +
                                      " CASCADE.");
  }
  storage::WriteBatch batch;
  for (const auto& t : tables) {
    batch.Delete(Partition::kSystem, TableKey(t->table_id));
    std::string sch(kSchemaPrefix);
    AppendOrderedU64(t->table_id, &sch);
    std::string sch_end(kSchemaPrefix);
    AppendOrderedU64(t->table_id + 1, &sch_end);
    batch.DeleteRange(Partition::kSystem, sch, sch_end);
    drop_data(*t, &batch);
    snap->tables_.erase({t->namespace_id, t->table_name});
    snap->by_id_.erase(t->table_id);
  }
  batch.Delete(Partition::kSystem, std::string(kNsPrefix) + lower);
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  snap->namespaces_.erase(lower);
  Publish(std::move(snap));
  *dropped = true;
  return Status::OK();
}

Status Catalog::SetNamespaceOptions(std::string_view name, std::string options_json) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  auto snap = CopySnapshot();
  auto it = snap->namespaces_.find(LowerName(name));
  if (it == snap->namespaces_.end()) {
    return Status::NotFound("Namespace '" + LowerName(name) + "' does not exist");
  }
  it->second.options_json = std::move(options_json);
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, std::string(kNsPrefix) + it->first, NamespaceJson(it->second));
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  Publish(std::move(snap));
  return Status::OK();
}

Result<std::shared_ptr<const TableDef>> Catalog::CreateTable(TableDef draft, bool if_not_exists,
                                                             bool* created) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  *created = false;
  draft.namespace_id = LowerName(draft.namespace_id);
  draft.table_name = LowerName(draft.table_name);
  auto snap = CopySnapshot();
  if (!snap->namespaces_.count(draft.namespace_id)) {
    return Status::NotFound("Namespace '" + draft.namespace_id +
                            "' does not exist. Create it first with CREATE NAMESPACE.");
  }
  if (auto existing = snap->FindTable(draft.namespace_id, draft.table_name)) {
    if (if_not_exists) return existing;
    return Status::AlreadyExists("Table '" + draft.QualifiedName() + "' already exists");
  }
  draft.table_id = next_table_id_;
  draft.schema_version = 1;
  for (size_t i = 0; i < draft.columns.size(); ++i) {
    draft.columns[i].column_id = static_cast<uint32_t>(i + 1);
    draft.columns[i].name = LowerName(draft.columns[i].name);
  }
  draft.next_column_id = static_cast<uint32_t>(draft.columns.size() + 1);
  draft.created_at_us = draft.updated_at_us = clock_.NowMicros();
  std::string body = draft.ToJson();
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, TableKey(draft.table_id), body);
  batch.Put(Partition::kSystem, SchemaKey(draft.table_id, 1), body);
  batch.Put(Partition::kMeta, kNextTableId, std::to_string(draft.table_id + 1));
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  ++next_table_id_;
  auto def = std::make_shared<const TableDef>(std::move(draft));
  snap->tables_[{def->namespace_id, def->table_name}] = def;
  snap->by_id_[def->table_id] = def;
  Publish(std::move(snap));
  *created = true;
  return def;
}

Result<std::shared_ptr<const TableDef>> Catalog::AlterTable(
    TableId id, uint32_t expected_version, const std::function<Status(TableDef&)>& mutate) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  auto snap = CopySnapshot();
  auto current = snap->FindTableById(id);
  if (!current) {
    return Status::TableNotFound("Table " + std::to_string(id) + " no longer exists");
  }
  if (current->schema_version != expected_version) {
    return Status::Conflict("Table '" + current->QualifiedName() +
                            "' was altered concurrently (schema version " +
                            std::to_string(current->schema_version) + ", expected " +
                            std::to_string(expected_version) + "); retry the ALTER TABLE");
  }
  TableDef next = *current;
  KALAM_RETURN_IF_ERROR(mutate(next));
  const std::string table = "'" + current->QualifiedName() + "'";
  if (next.table_id != current->table_id || next.namespace_id != current->namespace_id ||
      next.table_name != current->table_name || next.type != current->type) {
    return Status::InvalidArgument("ALTER TABLE cannot change the identity of table " + table);
  }
  size_t primary_keys = 0;
  for (size_t i = 0; i < next.columns.size(); ++i) {
    ColumnDef& column = next.columns[i];
    column.name = LowerName(column.name);
    if (column.column_id == 0) column.column_id = next.next_column_id++;
    if (column.column_id >= next.next_column_id) next.next_column_id = column.column_id + 1;
    if (column.primary_key) ++primary_keys;
    for (size_t j = 0; j < i; ++j) {
      if (next.columns[j].name == column.name || next.columns[j].column_id == column.column_id) {
        return Status::InvalidArgument("Column '" + column.name + "' appears twice in table " +
                                       table);
      }
    }
  }
  if (primary_keys != 1) {
    return Status::InvalidArgument("Table " + table + " must keep exactly one primary key column");
  }
  next.schema_version = expected_version + 1;
  next.updated_at_us = clock_.NowMicros();
  std::string body = next.ToJson();
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, TableKey(id), body);
  batch.Put(Partition::kSystem, SchemaKey(id, next.schema_version), body);
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  auto def = std::make_shared<const TableDef>(std::move(next));
  snap->tables_[{def->namespace_id, def->table_name}] = def;
  snap->by_id_[id] = def;
  Publish(std::move(snap));
  return def;
}

Status Catalog::DropTable(const TableDef& table, storage::WriteBatch data_deletes) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  auto snap = CopySnapshot();
  if (!snap->by_id_.count(table.table_id)) {
    return Status::TableNotFound("Table '" + table.QualifiedName() + "' does not exist");
  }
  storage::WriteBatch& batch = data_deletes;
  batch.Delete(Partition::kSystem, TableKey(table.table_id));
  std::string sch(kSchemaPrefix);
  AppendOrderedU64(table.table_id, &sch);
  std::string sch_end(kSchemaPrefix);
  AppendOrderedU64(table.table_id + 1, &sch_end);
  batch.DeleteRange(Partition::kSystem, sch, sch_end);
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  snap->tables_.erase({table.namespace_id, table.table_name});
  snap->by_id_.erase(table.table_id);
  Publish(std::move(snap));
  return Status::OK();
}

Result<TableId> Catalog::ReserveTableIds(size_t count) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  const TableId first = next_table_id_;
  storage::WriteBatch batch;
  batch.Put(Partition::kMeta, kNextTableId, std::to_string(first + count));
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  next_table_id_ = first + count;
  return first;
}

Status Catalog::RestoreNamespace(
    const NamespaceDef& ns, const std::vector<std::vector<std::shared_ptr<TableDef>>>& tables,
    bool replace, storage::WriteBatch extra,
    const std::function<void(const TableDef&, storage::WriteBatch*)>& drop_data,
    std::vector<TableId>* dropped) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  const std::string lower = LowerName(ns.name);
  if (lower == kSystemNamespace || lower == "information_schema") {
    return Status::PermissionDenied("Namespace '" + lower + "' is reserved");
  }
  auto snap = CopySnapshot();
  storage::WriteBatch& batch = extra;
  if (snap->namespaces_.count(lower)) {
    if (!replace) return Status::AlreadyExists("Namespace '" + lower + "' already exists");
    if (lower == kDefaultNamespace) {
      return Status::PermissionDenied("Namespace '" + lower + "' cannot be replaced");
    }
    for (const auto& t : snap->TablesIn(lower)) {
      batch.Delete(Partition::kSystem, TableKey(t->table_id));
      std::string sch(kSchemaPrefix);
      AppendOrderedU64(t->table_id, &sch);
      std::string sch_end(kSchemaPrefix);
      AppendOrderedU64(t->table_id + 1, &sch_end);
      batch.DeleteRange(Partition::kSystem, sch, sch_end);
      drop_data(*t, &batch);
      dropped->push_back(t->table_id);
      snap->tables_.erase({t->namespace_id, t->table_name});
      snap->by_id_.erase(t->table_id);
    }
  }
  NamespaceDef def = ns;
  def.name = lower;
  batch.Put(Partition::kSystem, std::string(kNsPrefix) + lower, NamespaceJson(def));
  std::vector<std::shared_ptr<const TableDef>> latest;
  for (const auto& history : tables) {
    if (history.empty()) return Status::InvalidArgument("A restored table has no schema version");
    for (const auto& v : history) {
      if (v->table_id != history.back()->table_id || v->namespace_id != lower ||
          v->table_id >= next_table_id_) {
        return Status::InvalidArgument("Restored table '" + v->QualifiedName() +
                                       "' does not carry a reserved id and the namespace");
      }
      batch.Put(Partition::kSystem, SchemaKey(v->table_id, v->schema_version), v->ToJson());
    }
    const auto& last = history.back();
    if (snap->FindTable(lower, last->table_name)) {
      return Status::AlreadyExists("Table '" + last->QualifiedName() + "' appears twice");
    }
    batch.Put(Partition::kSystem, TableKey(last->table_id), last->ToJson());
    std::shared_ptr<const TableDef> cdef = last;
    snap->tables_[{lower, cdef->table_name}] = cdef;
    snap->by_id_[cdef->table_id] = cdef;
  }
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  snap->namespaces_[lower] = def;
  Publish(std::move(snap));
  return Status::OK();
}

Result<std::vector<std::shared_ptr<TableDef>>> Catalog::SchemaHistory(TableId id) const {
  std::vector<std::shared_ptr<TableDef>> out;
  std::string begin(kSchemaPrefix);
  AppendOrderedU64(id, &begin);
  std::string end(kSchemaPrefix);
  AppendOrderedU64(id + 1, &end);
  storage::ReadOptions ro;
  ro.lower_bound = begin;
  ro.upper_bound = end;
  auto it = store_.NewIterator(Partition::kSystem, ro);
  for (it->Seek(begin); it->Valid(); it->Next()) {
    KALAM_ASSIGN_OR_RETURN(auto def, TableDef::FromJson(it->value()));
    out.push_back(std::move(def));
  }
  KALAM_RETURN_IF_ERROR(it->status());
  return out;
}

Result<bool> Catalog::WasDropped(TableId id) const {
  KALAM_ASSIGN_OR_RETURN(auto history, SchemaHistory(id));
  if (!history.empty()) return false;
  KALAM_ASSIGN_OR_RETURN(auto next, store_.Get(Partition::kMeta, kNextTableId));
  if (!next) return false;
  TableId stored = 0;
  const auto [end, ec] = std::from_chars(next->data(), next->data() + next->size(), stored);
  if (ec != std::errc() || end != next->data() + next->size()) {
    return Status::Corruption("Bad next table id in the meta partition: '" + *next + "'");
  }
  return id < stored;
}

std::optional<UserRecord> Catalog::GetUser(std::string_view user_id) const {
  std::lock_guard lock(users_mu_);
  auto it = users_.find(std::string(user_id));
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::vector<UserRecord> Catalog::ListUsers() const {
  std::lock_guard lock(users_mu_);
  std::vector<UserRecord> out;
  for (const auto& [k, u] : users_) out.push_back(u);
  return out;
}

Status Catalog::PutUser(const UserRecord& user) { return WriteUser(store_, user); }

Status Catalog::PutUserLoginState(const UserRecord& user) {
  return WriteUser(node_local_ ? *node_local_ : store_, user);
}

Status Catalog::WriteUser(storage::KvStore& store, const UserRecord& user) {
  storage::WriteBatch batch;
  batch.Put(Partition::kSystem, std::string(kUserPrefix) + user.user_id, user.ToJson());
  // The users_ map is updated under its lock after the durable write; two concurrent PutUser of
  // one user are ordered by users_mu_ held across both steps.
  std::lock_guard lock(users_mu_);
  KALAM_RETURN_IF_ERROR(store.Write(batch, {.sync = true}));
  users_[user.user_id] = user;
  return Status::OK();
}

Result<std::string> Catalog::GetOrCreateMeta(std::string_view name,
                                             const std::function<std::string()>& make) {
  std::lock_guard lock(ddl_mu_);
  KALAM_RETURN_IF_ERROR(EnterDdl());
  KALAM_ASSIGN_OR_RETURN(auto existing, store_.Get(Partition::kMeta, name));
  if (existing) return *existing;
  std::string value = make();
  storage::WriteBatch batch;
  batch.Put(Partition::kMeta, name, value);
  KALAM_RETURN_IF_ERROR(store_.Write(batch, {.sync = true}));
  return value;
}

}  // namespace kalam::catalog
