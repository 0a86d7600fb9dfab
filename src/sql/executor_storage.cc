// Executor: storages (CREATE/ALTER/DROP/SHOW STORAGE, STORAGE CHECK), flush and compaction jobs
// (STORAGE FLUSH …, FLUSH …, STORAGE COMPACT), KILL JOB and SHOW STATS FOR TABLE (SQL.md §2).
#include <sys/statvfs.h>

#include <cctype>
#include <chrono>
#include <set>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "filestore/path_template.h"
#include "filestore/store_check.h"
#include "sql/executor.h"
#include "sql/executor_session.h"
#include "sql/parser/token_cursor.h"
#include "sql/result_builder.h"
#include "vector/vector_indexes.h"

namespace kalam::sql {

using catalog::StorageDef;
using catalog::TableDef;

namespace {

const DataType kText{TypeKind::kText};
const DataType kBigInt{TypeKind::kBigInt};
const DataType kInt{TypeKind::kInt};
const DataType kBool{TypeKind::kBoolean};
const DataType kTimestamp{TypeKind::kTimestamp};

Value TimestampOrNull(int64_t us) { return us ? Value::Int(us) : Value::Null(); }

// CREATE STORAGE id TYPE '…' [NAME '…'] [DESCRIPTION '…'] [BASE_DIRECTORY|PATH '…'] [BUCKET '…']
// [REGION '…'] [ENDPOINT '…'] [SHARED_TABLES_TEMPLATE '…'] [USER_TABLES_TEMPLATE '…']
// [CREDENTIALS '<json>'] — options in any order, each at most once.
Result<StorageDef> ParseCreateStorage(const parser::SqlStatement& stmt) {
  parser::TokenCursor c(stmt);
  KALAM_RETURN_IF_ERROR(c.ExpectWord("CREATE", ""));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("STORAGE", "CREATE"));
  StorageDef d;
  KALAM_ASSIGN_OR_RETURN(d.storage_id, c.ExpectIdentifier("a storage id", "CREATE STORAGE"));
  d.storage_id = catalog::LowerName(d.storage_id);
  std::set<std::string> seen;
  bool has_type = false;
  while (!c.AtEnd()) {
    const parser::Token* t = c.Peek();
    std::string key = catalog::LowerName(t->value);
    if (t->kind != parser::TokenKind::kIdentifier) {
      return c.Unexpected("a storage option", "CREATE STORAGE " + d.storage_id);
    }
    c.Next();
    if (!seen.insert(key == "path" ? "base_directory" : key).second) {
      return Status::InvalidSql("Option " + t->value + " is given twice in CREATE STORAGE");
    }
    KALAM_ASSIGN_OR_RETURN(std::string v, c.ExpectStringOrName("a value", t->value));
    if (key == "type") {
      d.storage_type = catalog::LowerName(v);
      has_type = true;
    } else if (key == "name") {
      d.storage_name = v;
    } else if (key == "description") {
      d.description = v;
    } else if (key == "base_directory" || key == "path") {
      d.base_directory = v;
    } else if (key == "bucket") {
      d.bucket = v;
    } else if (key == "region") {
      d.region = v;
    } else if (key == "endpoint") {
      d.endpoint = v;
    } else if (key == "shared_tables_template") {
      d.shared_tables_template = v;
    } else if (key == "user_tables_template") {
      d.user_tables_template = v;
    } else if (key == "credentials") {
      d.credentials_json = v;
    } else {
      return Status::InvalidSql("Unknown CREATE STORAGE option '" + t->value +
                                "': valid options are TYPE, NAME, DESCRIPTION, BASE_DIRECTORY "
                                "(PATH), BUCKET, REGION, ENDPOINT, SHARED_TABLES_TEMPLATE, "
                                "USER_TABLES_TEMPLATE, CREDENTIALS");
    }
  }
  if (!has_type) return Status::InvalidSql("CREATE STORAGE " + d.storage_id + " needs TYPE 'filesystem' or TYPE 's3'");
  return d;
}

std::string QualifiedOf(const TableDef& def) { return def.namespace_id + "." + def.table_name; }

std::string JobIdList(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    out += ids[i];
  }
  return out + "]";
}

}  // namespace

void Executor::ForgetDroppedTables(const std::vector<catalog::TableId>& tables) {
  for (catalog::TableId id : tables) {
    if (vectors_) {
      // Logged, not returned: the drop is committed; a snapshot left behind is named by no
      // index again (table ids are never reused) and only costs space.
      if (Status st = vectors_->Forget(id); !st.ok()) {
        spdlog::warn("Dropped table {}: {}", id, st.ToString());
      }
    }
    table::ColdStore* cold = store_.cold();
    if (!cold) continue;
    // Logged, not returned: the drop is already committed and ForgetTable removed the table's
    // manifests before deleting any file, so a segment or manifest.json it failed to delete is
    // named by no manifest and never read again; it only costs space in the dropped folder.
    if (Status st = cold->ForgetTable(id); !st.ok()) {
      spdlog::warn("Dropped table {}: cold files left behind: {}", id, st.ToString());
    }
  }
}

Status Executor::RunStorageStatement(Session& s, const parser::SqlStatement& stmt,
                                     parser::StatementKind kind) {
  parser::TokenCursor c(stmt);
  switch (kind) {
    case parser::StatementKind::kCreateStorage: {
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "CREATE STORAGE"));
      if (!storages_) return Status::Unavailable("Storages are not available");
      KALAM_ASSIGN_OR_RETURN(StorageDef d, ParseCreateStorage(stmt));
      KALAM_RETURN_IF_ERROR(storages_->Create(d));
      s.results.push_back(Message("Storage " + d.storage_id + " created successfully"));
      return Status::OK();
    }
    case parser::StatementKind::kAlterStorage: {
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "ALTER STORAGE"));
      if (!storages_) return Status::Unavailable("Storages are not available");
      KALAM_RETURN_IF_ERROR(c.ExpectWord("ALTER", ""));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("STORAGE", "ALTER"));
      KALAM_ASSIGN_OR_RETURN(std::string id, c.ExpectIdentifier("a storage id", "ALTER STORAGE"));
      auto def = storages_->Find(id);
      if (!def) return Status::NotFound("Storage '" + catalog::LowerName(id) + "' not found");
      bool any = false;
      while (!c.AtEnd()) {
        if (any && !c.AcceptPunct(',')) return c.Unexpected("',' or the end", "ALTER STORAGE");
        KALAM_RETURN_IF_ERROR(c.ExpectWord("SET", "ALTER STORAGE " + def->storage_id));
        KALAM_ASSIGN_OR_RETURN(std::string key, c.ExpectIdentifier("a storage property", "SET"));
        KALAM_ASSIGN_OR_RETURN(std::string v, c.ExpectString("a value", key));
        key = catalog::LowerName(key);
        if (key == "name") def->storage_name = v;
        else if (key == "description") def->description = v;
        else if (key == "shared_tables_template") def->shared_tables_template = v;
        else if (key == "user_tables_template") def->user_tables_template = v;
        else {
          return Status::InvalidSql("ALTER STORAGE can SET NAME, DESCRIPTION, "
                                    "SHARED_TABLES_TEMPLATE or USER_TABLES_TEMPLATE, not '" +
                                    key + "'");
        }
        any = true;
      }
      if (!any) return Status::InvalidSql("Expected SET … after ALTER STORAGE " + def->storage_id);
      KALAM_RETURN_IF_ERROR(storages_->Alter(*def));
      s.results.push_back(Message("Storage " + def->storage_id + " altered successfully"));
      return Status::OK();
    }
    case parser::StatementKind::kDropStorage: {
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "DROP STORAGE"));
      if (!storages_) return Status::Unavailable("Storages are not available");
      KALAM_RETURN_IF_ERROR(c.ExpectWord("DROP", ""));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("STORAGE", "DROP"));
      const bool if_exists = c.AcceptIfExists();
      KALAM_ASSIGN_OR_RETURN(std::string id, c.ExpectIdentifier("a storage id", "DROP STORAGE"));
      KALAM_RETURN_IF_ERROR(c.ExpectEnd("DROP STORAGE " + id));
      id = catalog::LowerName(id);
      std::vector<std::string> users;
      for (const auto& t : catalog_.snapshot()->AllTables()) {
        if (t->options.storage_id == id) users.push_back(QualifiedOf(*t));
      }
      if (id != catalog::kLocalStorageId && !users.empty()) {
        std::string list;
        for (size_t i = 0; i < users.size() && i < 10; ++i) list += (i ? ", " : "") + users[i];
        return Status::FailedPrecondition("Cannot drop storage '" + id + "': " +
                                          std::to_string(users.size()) +
                                          " table(s) use it (" + list + ")");
      }
      bool dropped = false;
      KALAM_RETURN_IF_ERROR(storages_->Drop(id, if_exists, &dropped));
      s.results.push_back(Message(dropped ? "Storage " + id + " dropped successfully"
                                                : "Storage " + id + " does not exist"));
      return Status::OK();
    }
    case parser::StatementKind::kShowStorages: {
      // Any role may list storages, as in the original: no column carries credentials.
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kUser, "SHOW STORAGES"));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("SHOW", ""));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("STORAGES", "SHOW"));
      KALAM_RETURN_IF_ERROR(c.ExpectEnd("SHOW STORAGES"));
      ResultBuilder b;
      for (const char* name : {"storage_id", "storage_name", "description", "storage_type",
                               "base_directory", "shared_tables_template", "user_tables_template"}) {
        b.AddColumn(name, kText);
      }
      b.AddColumn("created_at", kTimestamp);
      b.AddColumn("updated_at", kTimestamp);
      if (storages_) {
        for (const auto& d : storages_->List()) {
          KALAM_RETURN_IF_ERROR(b.AddRow(
              {Value::Text(d.storage_id), Value::Text(d.storage_name), Value::Text(d.description),
               Value::Text(d.storage_type),
               Value::Text(d.base_directory.empty() ? "s3://" + d.bucket : d.base_directory),
               Value::Text(d.shared_tables_template), Value::Text(d.user_tables_template),
               Value::Int(d.created_at_us), Value::Int(d.updated_at_us)}));
        }
      }
      s.results.push_back(std::move(b).Finish());
      return Status::OK();
    }
    case parser::StatementKind::kStorageCheck: {
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "STORAGE CHECK"));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("STORAGE", ""));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("CHECK", "STORAGE"));
      KALAM_ASSIGN_OR_RETURN(std::string id, c.ExpectIdentifier("a storage id", "STORAGE CHECK"));
      const bool extended = c.AcceptWord("EXTENDED");
      KALAM_RETURN_IF_ERROR(c.ExpectEnd("STORAGE CHECK " + id + (extended ? " EXTENDED" : "")));
      id = catalog::LowerName(id);
      std::optional<catalog::StorageDef> def;
      if (storages_) def = storages_->Find(id);
      if (!def) return Status::NotFound("Storage '" + id + "' not found");
      table::ColdStore* cold = store_.cold();
      if (!cold) return Status::Unavailable("Cold storage is not available");
      // The original's columns: a probe object written, read back, listed and deleted, how long
      // that took, and with EXTENDED the capacity of a filesystem storage's volume.
      const int64_t started_us = clock_.NowMicros();
      const auto started = std::chrono::steady_clock::now();
      filestore::StoreCheckSteps steps;
      auto store = cold->StoreFor(id);
      const Status check = store.ok() ? filestore::RunStoreCheck(**store, &steps) : store.status();
      const int64_t latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - started)
                                     .count();
      Value total = Value::Null(), used = Value::Null();
      if (extended && def->storage_type == "filesystem") {
        struct statvfs vfs {};
        if (::statvfs(def->base_directory.c_str(), &vfs) == 0) {
          const uint64_t unit = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
          total = Value::Int(static_cast<int64_t>(vfs.f_blocks * unit));
          used = Value::Int(static_cast<int64_t>((vfs.f_blocks - vfs.f_bfree) * unit));
        }
      }
      const char* status = check.ok() ? "healthy" : steps.writable ? "degraded" : "unreachable";
      ResultBuilder b;
      b.AddColumn("storage_id", kText);
      b.AddColumn("status", kText);
      b.AddColumn("readable", kBool);
      b.AddColumn("writable", kBool);
      b.AddColumn("listable", kBool);
      b.AddColumn("deletable", kBool);
      b.AddColumn("latency_ms", kBigInt);
      b.AddColumn("total_bytes", kBigInt);
      b.AddColumn("used_bytes", kBigInt);
      b.AddColumn("error", kText);
      b.AddColumn("tested_at", kTimestamp);
      KALAM_RETURN_IF_ERROR(b.AddRow(
          {Value::Text(id), Value::Text(status), Value::Int(steps.readable ? 1 : 0),
           Value::Int(steps.writable ? 1 : 0), Value::Int(steps.listable ? 1 : 0),
           Value::Int(steps.deletable ? 1 : 0), Value::Int(latency_ms), std::move(total),
           std::move(used), check.ok() ? Value::Null() : Value::Text(check.message()),
           Value::Int(started_us)}));
      s.results.push_back(std::move(b).Finish());
      return Status::OK();
    }
    case parser::StatementKind::kStorageCompact: {
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kService, "STORAGE COMPACT"));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("STORAGE", ""));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("COMPACT", "STORAGE"));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("TABLE", "STORAGE COMPACT"));
      KALAM_ASSIGN_OR_RETURN(auto name, c.ExpectQualifiedName("a table", "STORAGE COMPACT TABLE"));
      KALAM_RETURN_IF_ERROR(c.ExpectEnd("STORAGE COMPACT TABLE " + name.ToString()));
      const std::string ns = name.ns.empty() ? s.ns : catalog::LowerName(name.ns);
      auto def = s.ctx.statement.catalog->FindTable(ns, name.name);
      if (!def) {
        return Status::TableNotFound("Table '" + ns + "." + catalog::LowerName(name.name) +
                                     "' does not exist");
      }
      if (def->type == catalog::TableType::kStream) {
        return Status::InvalidArgument(
            "STORAGE COMPACT TABLE is not supported for STREAM tables");
      }
      if (!jobs_) return Status::Unavailable("The job system is not running");
      KALAM_ASSIGN_OR_RETURN(JobStart start, jobs_->CompactTable(def));
      const std::string q = QualifiedOf(*def);
      // A compaction is never skipped: it always has a job (JobService::CompactTable).
      s.results.push_back(Message(start.kind == JobStart::Kind::kAlreadyRunning
                                      ? "A job is already running for table '" + q +
                                            "'. Job ID: " + start.job_id
                                      : "Storage compaction started for table '" + q +
                                            "'. Job ID: " + start.job_id));
      return Status::OK();
    }
    case parser::StatementKind::kKillJob: {
      KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kDba, "KILL JOB"));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("KILL", ""));
      KALAM_RETURN_IF_ERROR(c.ExpectWord("JOB", "KILL"));
      KALAM_ASSIGN_OR_RETURN(std::string id, c.ExpectStringOrName("a job id", "KILL JOB"));
      KALAM_RETURN_IF_ERROR(c.ExpectEnd("KILL JOB '" + id + "'"));
      if (!jobs_) return Status::NotFound("Job '" + id + "' does not exist");
      KALAM_ASSIGN_OR_RETURN(JobStatus status, jobs_->KillJob(id));
      s.results.push_back(Message("Job " + id + " killed: " + std::string(JobStatusName(status))));
      return Status::OK();
    }
    default:
      return Status::Internal("not a storage statement");
  }
}

Status Executor::RunFlush(Session& s, const parser::SqlStatement& stmt) {
  // STORAGE FLUSH TABLE t | STORAGE FLUSH ALL [IN [NAMESPACE] ns] | FLUSH TABLE t |
  // FLUSH ALL TABLES [IN [NAMESPACE] ns]
  KALAM_RETURN_IF_ERROR(RequireRole(s.caller, auth::Role::kService, "STORAGE FLUSH"));
  parser::TokenCursor c(stmt);
  c.AcceptWord("STORAGE");
  KALAM_RETURN_IF_ERROR(c.ExpectWord("FLUSH", ""));
  if (!jobs_) return Status::Unavailable("The job system is not running");
  if (c.AcceptWord("TABLE")) {
    KALAM_ASSIGN_OR_RETURN(auto name, c.ExpectQualifiedName("a table", "FLUSH TABLE"));
    KALAM_RETURN_IF_ERROR(c.ExpectEnd("FLUSH TABLE " + name.ToString()));
    const std::string ns = name.ns.empty() ? s.ns : catalog::LowerName(name.ns);
    auto def = s.ctx.statement.catalog->FindTable(ns, name.name);
    if (!def) {
      return Status::TableNotFound("Table '" + ns + "." + catalog::LowerName(name.name) +
                                   "' does not exist");
    }
    if (def->type == catalog::TableType::kStream) {
      return Status::InvalidArgument(
          "STORAGE FLUSH TABLE is not supported for STREAM tables");
    }
    KALAM_ASSIGN_OR_RETURN(JobStart start, jobs_->FlushTable(def));
    const std::string q = QualifiedOf(*def);
    switch (start.kind) {
      case JobStart::Kind::kSkipped:
        s.results.push_back(
            Message("Storage flush skipped: no pending writes for table '" + q + "'"));
        break;
      case JobStart::Kind::kAlreadyRunning:
        s.results.push_back(Message("Storage flush already running for table '" + q +
                                          "'. Job ID: " + start.job_id));
        break;
      case JobStart::Kind::kStarted:
        s.results.push_back(Message("Storage flush started for table '" + q +
                                          "'. Job ID: " + start.job_id));
        break;
    }
    return Status::OK();
  }
  KALAM_RETURN_IF_ERROR(c.ExpectWord("ALL", "FLUSH"));
  c.AcceptWord("TABLES");
  std::string ns;
  if (c.AcceptWord("IN")) {
    c.AcceptWord("NAMESPACE");
    KALAM_ASSIGN_OR_RETURN(ns, c.ExpectIdentifier("a namespace", "FLUSH ALL IN"));
    ns = catalog::LowerName(ns);
    if (!s.ctx.statement.catalog->FindNamespace(ns)) {
      return Status::NotFound("Namespace '" + ns + "' does not exist");
    }
  }
  KALAM_RETURN_IF_ERROR(c.ExpectEnd("FLUSH ALL"));
  const auto& snap = *s.ctx.statement.catalog;
  auto tables = ns.empty() ? snap.AllTables() : snap.TablesIn(ns);
  std::vector<std::string> ids;
  for (const auto& def : tables) {
    if (def->type != catalog::TableType::kUser && def->type != catalog::TableType::kShared) continue;
    KALAM_ASSIGN_OR_RETURN(JobStart start, jobs_->FlushTable(def));
    if (start.kind != JobStart::Kind::kSkipped) ids.push_back(start.job_id);
  }
  const std::string where = ns.empty() ? "all namespaces" : "namespace '" + ns + "'";
  s.results.push_back(Message("Storage flush started for " + std::to_string(ids.size()) +
                                    " table(s) in " + where + ". Job IDs: " + JobIdList(ids)));
  return Status::OK();
}

Status Executor::RunShowStats(Session& s, const parser::SqlStatement& stmt) {
  // SHOW STATS FOR TABLE [ns.]t
  parser::TokenCursor c(stmt);
  KALAM_RETURN_IF_ERROR(c.ExpectWord("SHOW", ""));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("STATS", "SHOW"));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("FOR", "SHOW STATS"));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("TABLE", "SHOW STATS FOR"));
  KALAM_ASSIGN_OR_RETURN(auto name, c.ExpectQualifiedName("a table", "SHOW STATS FOR TABLE"));
  KALAM_RETURN_IF_ERROR(c.ExpectEnd("SHOW STATS FOR TABLE " + name.ToString()));
  const std::string ns = name.ns.empty() ? s.ns : catalog::LowerName(name.ns);
  auto def = s.ctx.statement.catalog->FindTable(ns, name.name);
  if (!def) {
    return Status::TableNotFound("Table '" + ns + "." + catalog::LowerName(name.name) +
                                 "' does not exist");
  }
  KALAM_RETURN_IF_ERROR(CheckTableAccess(s.caller, *def, false));
  // Whole-table numbers of a per-user table are for dba and system; others see their own scope.
  const bool per_user = def->type != catalog::TableType::kShared;
  const bool whole = !per_user || auth::RoleAtLeast(s.caller.role, auth::Role::kDba);
  int64_t logical = 0, hot = 0;
  table::ColdStats cold_stats;
  if (whole) {
    KALAM_RETURN_IF_ERROR(store_.ForEachLiveRow(*def, [&](const std::vector<Value>&) {
      ++logical;
      return Status::OK();
    }));
    auto it = store_.NewPkIterator(table::TableBegin(def->table_id),
                                   table::TableEnd(def->table_id));
    for (it->Seek(table::TableBegin(def->table_id)); it->Valid(); it->Next()) ++hot;
    KALAM_RETURN_IF_ERROR(it->status());
    if (store_.cold()) cold_stats = store_.cold()->StatsOf(def->table_id);
  } else {
    const std::string scope = s.caller.user_id;
    const std::string prefix = table::ScopePrefix(def->table_id, scope);
    const std::string end = table::PrefixSuccessor(prefix);
    KALAM_ASSIGN_OR_RETURN(auto scan, store_.NewScan(*def, scope, prefix, end));
    for (; scan->Valid(); scan->Next()) logical += scan->deleted() ? 0 : 1;
    KALAM_RETURN_IF_ERROR(scan->status());
    auto it = store_.NewPkIterator(prefix, end);
    for (it->Seek(prefix); it->Valid(); it->Next()) ++hot;
    KALAM_RETURN_IF_ERROR(it->status());
    if (store_.cold()) {
      if (auto sm = store_.cold()->Get(def->table_id, scope)) {
        for (const auto& seg : sm->manifest.segments) {
          ++cold_stats.segments;
          cold_stats.rows += seg.row_count;
          cold_stats.bytes += seg.size_bytes;
          cold_stats.last_flush_at_ms = std::max(cold_stats.last_flush_at_ms, seg.created_at_ms);
        }
      }
    }
  }
  ResultBuilder b;
  b.AddColumn("table_name", kText);
  b.AddColumn("namespace", kText);
  b.AddColumn("schema_version", kInt);
  b.AddColumn("logical_rows", kBigInt);
  b.AddColumn("hot_rows", kBigInt);
  b.AddColumn("flushed_segments", kBigInt);
  b.AddColumn("flushed_rows", kBigInt);
  b.AddColumn("storage_bytes", kBigInt);
  b.AddColumn("last_flush_at", kTimestamp);
  KALAM_RETURN_IF_ERROR(b.AddRow(
      {Value::Text(def->table_name), Value::Text(def->namespace_id),
       Value::Int(def->schema_version), Value::Int(logical), Value::Int(hot),
       Value::Int(cold_stats.segments), Value::Int(cold_stats.rows), Value::Int(cold_stats.bytes),
       TimestampOrNull(cold_stats.last_flush_at_ms * 1000)}));
  s.results.push_back(std::move(b).Finish());
  return Status::OK();
}


namespace {

// The quoted path token of a backup statement: not empty, no `..`, no NUL.
Result<std::string> TakeQuotedBackupPath(parser::TokenCursor& c) {
  const parser::Token* t = c.Peek();
  if (t == nullptr || (t->kind != parser::TokenKind::kString &&
                       t->kind != parser::TokenKind::kQuotedIdentifier)) {
    return Status::InvalidSql("Backup path must be quoted");
  }
  return c.Next().value;
}

Status CheckBackupPath(const std::string& path) {
  if (path.empty()) return Status::InvalidSql("Backup path cannot be empty");
  if (path.find("..") != std::string::npos) {
    return Status::InvalidSql("Backup path cannot contain '..' (path traversal not allowed)");
  }
  if (path.find('\0') != std::string::npos) {
    return Status::InvalidSql("Backup path cannot contain null bytes");
  }
  return Status::OK();
}

// The key prefix a storage `PATH '<path>'` names: relative, ending in '/' ("nightly/x" →
// "nightly/x/"); with `allow_empty` (SHOW BACKUPS lists a storage's root) "" stays "".
// Errors are INVALID_SQL.
Result<std::string> StoragePrefix(std::string_view path, bool allow_empty = false) {
  std::string p(path);
  if (p.find('\0') != std::string::npos) {
    return Status::InvalidSql("Backup path cannot contain null bytes");
  }
  if (p.find("..") != std::string::npos) {
    return Status::InvalidSql("Backup path cannot contain '..' (path traversal not allowed)");
  }
  if (!p.empty() && (p.front() == '/' || p.front() == '\\')) {
    return Status::InvalidSql(
        "Backup path in a storage must be relative to the storage's base directory: '" + p + "'");
  }
  while (!p.empty() && p.back() == '/') p.pop_back();
  if (p.empty()) {
    if (allow_empty) return std::string();
    return Status::InvalidSql("Backup path cannot be empty");
  }
  if (Status s = filestore::ValidateKey(p + "/" + std::string("backup.json")); !s.ok()) {
    return Status::InvalidSql("Backup path '" + std::string(path) +
                                   "' is not a valid object key: " + s.message());
  }
  return p + "/";
}

// `STORAGE <id> PATH '<prefix>'` after TO/FROM (PATH optional with `path_optional`).
Result<BackupLocation> ParseStorageLocation(parser::TokenCursor& c, const std::string& verb,
                                            bool path_optional) {
  BackupLocation at;
  KALAM_ASSIGN_OR_RETURN(at.storage_id, c.ExpectIdentifier("a storage id", verb + " STORAGE"));
  at.storage_id = catalog::LowerName(at.storage_id);
  if (!c.AcceptWord("PATH")) {
    if (!path_optional) {
      return Status::InvalidSql("Expected PATH '<prefix>' after " + verb + " STORAGE " +
                                at.storage_id);
    }
    return at;
  }
  KALAM_ASSIGN_OR_RETURN(std::string path, TakeQuotedBackupPath(c));
  KALAM_ASSIGN_OR_RETURN(at.path, StoragePrefix(path, path_optional));
  return at;
}

// BACKUP DATABASE TO {'<dir>' | STORAGE <id> PATH '<prefix>'} [INCREMENTAL FROM '<base>'] /
// RESTORE DATABASE FROM {'<dir>' | STORAGE <id> PATH '<prefix>'} (FEATURES §3.1 texts): paths
// quoted, not empty, no `..`, no NUL; a backup directory is never under a system directory; a
// storage path is relative. The base of an incremental backup is in the same kind of place as
// the backup (a directory, or a prefix in the same storage).
struct BackupStatement {
  BackupLocation at;
  std::string incremental_from;
};

// A backup directory's path: CheckBackupPath, and a backup is never written under a system
// directory.
Status CheckBackupDirectory(const std::string& path, bool backup) {
  KALAM_RETURN_IF_ERROR(CheckBackupPath(path));
  if (!backup) return Status::OK();
  std::string lower = path;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (std::string_view bad : {"/etc/", "/root/", "/var/log/", "c:\\windows\\"}) {
    if (lower.find(bad) != std::string::npos) {
      return Status::InvalidSql("Backup path cannot write to sensitive directory: " + path);
    }
  }
  return Status::OK();
}

Result<BackupStatement> ParseBackupStatement(parser::TokenCursor& c, bool backup) {
  const std::string verb = backup ? "BACKUP DATABASE" : "RESTORE DATABASE";
  KALAM_RETURN_IF_ERROR(c.ExpectWord(backup ? "BACKUP" : "RESTORE", ""));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("DATABASE", backup ? "BACKUP" : "RESTORE"));
  if (!c.AcceptWord(backup ? "TO" : "FROM")) {
    return Status::InvalidSql(std::string("Expected ") + (backup ? "TO" : "FROM") + " clause in " +
                              verb);
  }
  BackupStatement out;
  const std::string clause = verb + (backup ? " TO" : " FROM");
  if (c.AcceptWord("STORAGE")) {
    KALAM_ASSIGN_OR_RETURN(out.at, ParseStorageLocation(c, clause, false));
  } else {
    KALAM_ASSIGN_OR_RETURN(out.at.path, TakeQuotedBackupPath(c));
  }
  if (backup && c.AcceptWord("INCREMENTAL")) {
    KALAM_RETURN_IF_ERROR(c.ExpectWord("FROM", "INCREMENTAL"));
    KALAM_ASSIGN_OR_RETURN(std::string base, TakeQuotedBackupPath(c));
    KALAM_RETURN_IF_ERROR(c.ExpectEnd(verb + " … INCREMENTAL FROM '" + base + "'"));
    KALAM_RETURN_IF_ERROR(CheckBackupPath(base));
    if (out.at.storage_id.empty()) {
      out.incremental_from = base;
    } else {
      KALAM_ASSIGN_OR_RETURN(out.incremental_from, StoragePrefix(base));
    }
  } else {
    KALAM_RETURN_IF_ERROR(c.ExpectEnd(verb + " '" + out.at.path + "'"));
  }
  if (!out.at.storage_id.empty()) return out;
  KALAM_RETURN_IF_ERROR(CheckBackupDirectory(out.at.path, backup));
  return out;
}

// What BACKUP/RESTORE NAMESPACE names besides the path.
struct NamespaceBackupArgs {
  std::string ns;
  std::string target;  // AS <name>; empty = ns
  bool replace = false;
};

// BACKUP NAMESPACE <ns> TO '<dir>' / RESTORE NAMESPACE <ns> FROM '<dir>' [AS <other>] [REPLACE]:
// directories only, with the path rules of the DATABASE forms. Returns the path.
Result<std::string> ParseNamespaceBackupStatement(parser::TokenCursor& c, bool backup,
                                                  NamespaceBackupArgs* args) {
  const std::string verb = backup ? "BACKUP NAMESPACE" : "RESTORE NAMESPACE";
  KALAM_RETURN_IF_ERROR(c.ExpectWord(backup ? "BACKUP" : "RESTORE", ""));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("NAMESPACE", backup ? "BACKUP" : "RESTORE"));
  KALAM_ASSIGN_OR_RETURN(args->ns, c.ExpectIdentifier("namespace", verb));
  if (!c.AcceptWord(backup ? "TO" : "FROM")) {
    return Status::InvalidSql(std::string("Expected ") + (backup ? "TO" : "FROM") + " clause in " +
                              verb);
  }
  KALAM_ASSIGN_OR_RETURN(std::string path, TakeQuotedBackupPath(c));
  if (backup) {
    KALAM_RETURN_IF_ERROR(c.ExpectEnd(verb + " '" + path + "'"));
  } else {
    const std::string after = verb + " " + args->ns + " FROM '" + path + "'";
    if (c.AcceptWord("AS")) {
      KALAM_ASSIGN_OR_RETURN(args->target, c.ExpectIdentifier("namespace", after + " AS"));
    }
    args->replace = c.AcceptWord("REPLACE");
    KALAM_RETURN_IF_ERROR(c.ExpectEnd(after));
  }
  KALAM_RETURN_IF_ERROR(CheckBackupDirectory(path, backup));
  return path;
}

}  // namespace

namespace {

// A JobService backup error as the statement reports it: a corrupt backup is the caller's bad
// input, not the server's failure (the kind prefix is added with the statement's number).
Status BackupError(const Status& st) {
  if (st.code() == StatusCode::kCorruption) return Status::InvalidArgument(st.message());
  return st;
}

Status RequireBackupRole(const Caller& caller, const char* what) {
  if (auth::RoleAtLeast(caller.role, auth::Role::kDba)) return Status::OK();
  return Status::PermissionDenied(
      std::string("Admin privileges (DBA or System role) required for ") + what + " operations");
}

}  // namespace

Status Executor::RunBackupStatement(Session& s, const parser::SqlStatement& stmt, bool backup) {
  KALAM_RETURN_IF_ERROR(RequireBackupRole(s.caller, backup ? "backup" : "restore"));
  parser::TokenCursor c(stmt);
  KALAM_ASSIGN_OR_RETURN(BackupStatement st, ParseBackupStatement(c, backup));
  if (!jobs_) return Status::Unavailable("The job system is not running");
  const std::string where = st.at.storage_id.empty()
                                ? "'" + st.at.path + "'"
                                : "storage '" + st.at.storage_id + "' path '" + st.at.path + "'";
  if (!backup) {
    Result<std::string> id = jobs_->RestoreDatabaseFrom(st.at);
    if (!id.ok()) return BackupError(id.status());
    s.results.push_back(Message("Database restore started from " + where + ". Job ID: " + *id +
                                ". Server restart required after completion."));
    return Status::OK();
  }
  Result<std::string> id = jobs_->BackupDatabaseTo(st.at, st.incremental_from);
  if (!id.ok()) return BackupError(id.status());
  s.results.push_back(Message("Database backup started to " + where + ". Job ID: " + *id));
  return Status::OK();
}

Status Executor::RunShowBackups(Session& s, const parser::SqlStatement& stmt) {
  KALAM_RETURN_IF_ERROR(RequireBackupRole(s.caller, "backup"));
  parser::TokenCursor c(stmt);
  KALAM_RETURN_IF_ERROR(c.ExpectWord("SHOW", ""));
  KALAM_RETURN_IF_ERROR(c.ExpectWord("BACKUPS", "SHOW"));
  if (!c.AcceptWord("FROM")) return Status::InvalidSql("Expected FROM clause in SHOW BACKUPS");
  BackupLocation at;
  if (c.AcceptWord("STORAGE")) {
    KALAM_ASSIGN_OR_RETURN(at, ParseStorageLocation(c, "SHOW BACKUPS FROM", true));
    KALAM_RETURN_IF_ERROR(c.ExpectEnd("SHOW BACKUPS FROM STORAGE " + at.storage_id));
  } else {
    KALAM_ASSIGN_OR_RETURN(at.path, TakeQuotedBackupPath(c));
    KALAM_RETURN_IF_ERROR(c.ExpectEnd("SHOW BACKUPS FROM '" + at.path + "'"));
    KALAM_RETURN_IF_ERROR(CheckBackupPath(at.path));
  }
  if (!jobs_) return Status::Unavailable("The job system is not running");
  Result<std::vector<BackupInfo>> listed = jobs_->ListBackupsAt(at);
  if (!listed.ok()) return BackupError(listed.status());
  ResultBuilder b;
  b.AddColumn("path", kText);
  b.AddColumn("created_at", kText);
  b.AddColumn("seq", kBigInt);
  b.AddColumn("size_bytes", kBigInt);
  b.AddColumn("files", kBigInt);
  b.AddColumn("verified", DataType{TypeKind::kBoolean});
  b.AddColumn("problem", kText);
  b.AddColumn("kind", kText);
  b.AddColumn("namespace", kText);
  b.AddColumn("copied_files", kBigInt);
  b.AddColumn("reused_files", kBigInt);
  b.AddColumn("incremental_from", kText);
  b.AddColumn("namespaces", DataType{TypeKind::kJson});
  for (const auto& info : *listed) {
    boost::json::array names;
    for (const auto& n : info.namespaces) names.push_back(boost::json::value(n));
    KALAM_RETURN_IF_ERROR(b.AddRow(
        {Value::Text(info.path), Value::Text(info.created_at), Value::Int(info.seq),
         Value::Int(info.size_bytes), Value::Int(info.files), Value::Int(info.verified ? 1 : 0),
         info.problem.empty() ? Value::Null() : Value::Text(info.problem), Value::Text(info.kind),
         info.ns.empty() ? Value::Null() : Value::Text(info.ns), Value::Int(info.copied_files),
         Value::Int(info.reused_files),
         info.incremental_from.empty() ? Value::Null() : Value::Text(info.incremental_from),
         info.namespaces.empty() ? Value::Null() : Value::Text(boost::json::serialize(names))}));
  }
  s.results.push_back(std::move(b).Finish());
  return Status::OK();
}

Status Executor::RunNamespaceBackupStatement(Session& s, const parser::SqlStatement& stmt,
                                             bool backup) {
  KALAM_RETURN_IF_ERROR(RequireBackupRole(s.caller, backup ? "backup" : "restore"));
  parser::TokenCursor c(stmt);
  NamespaceBackupArgs args;
  KALAM_ASSIGN_OR_RETURN(std::string path, ParseNamespaceBackupStatement(c, backup, &args));
  if (!jobs_) return Status::Unavailable("The job system is not running");
  const std::string ns = catalog::LowerName(args.ns);
  if (backup) {
    Result<std::string> id = jobs_->BackupNamespace(ns, path);
    if (!id.ok()) return BackupError(id.status());
    s.results.push_back(Message("Namespace backup started to '" + path + "'. Job ID: " + *id));
    return Status::OK();
  }
  const std::string target = args.target.empty() ? ns : catalog::LowerName(args.target);
  if (args.replace) {
    // REPLACE drops the namespace's tables like DROP NAMESPACE … CASCADE: not while a topic
    // reads one of them.
    for (const auto& t : s.ctx.statement.catalog->TablesIn(target)) {
      KALAM_RETURN_IF_ERROR(CheckNotTopicSource(*t));
    }
  }
  Result<std::string> done = jobs_->RestoreNamespace(ns, path, target, args.replace);
  if (!done.ok()) return BackupError(done.status());
  s.results.push_back(Message(*done));
  return Status::OK();
}

}  // namespace kalam::sql
