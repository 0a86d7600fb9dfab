// The system tables: their columns, their row producers, and the `kalam_system` module.
#include "sql/sqlite/system_tables.h"

#include <algorithm>
#include <cctype>
#include <boost/json.hpp>
#include <filesystem>

#include <sys/utsname.h>
#include <unistd.h>

#include "audit/audit_log.h"
#include "commit/commit_shards.h"
#include "common/log_line.h"
#include "common/metrics.h"
#include "sql/access.h"
#include "sql/cluster_status.h"
#include "sql/executor_options.h"
#include "sql/sqlite/connection.h"
#include "sql/sqlite/sqlite_values.h"
#include "table/cold_store.h"
#include "table/manifest.h"
#include "table/table_store.h"

namespace kalam::sql {

namespace json = boost::json;
using catalog::TableDef;

namespace {

const DataType kText{TypeKind::kText};
const DataType kInt{TypeKind::kInt};
const DataType kBigInt{TypeKind::kBigInt};
const DataType kBool{TypeKind::kBoolean};
const DataType kJson{TypeKind::kJson};
const DataType kTimestamp{TypeKind::kTimestamp};
const DataType kSmallInt{TypeKind::kSmallInt};
const DataType kFloat{TypeKind::kFloat};

// ---- values ---------------------------------------------------------------------------------

Value Text(std::string_view s) { return Value::Text(std::string(s)); }
// Empty text reads as NULL (comments, optional strings).
Value TextOrNull(std::string_view s) { return s.empty() ? Value::Null() : Text(s); }
Value Int(int64_t v) { return Value::Int(v); }
Value Bool(bool b) { return Value::Int(b ? 1 : 0); }
// A timestamp in µs; 0 (never set) reads as NULL.
Value Timestamp(int64_t us) { return us == 0 ? Value::Null() : Value::Int(us); }

// FLUSH_POLICY as written in CREATE TABLE ("rows:N", "interval:S", "rows:N,interval:S"), or
// null when the table has no flush trigger.
json::value FlushPolicyJson(const catalog::FlushPolicy& p) {
  std::string out;
  if (p.row_limit) out = "rows:" + std::to_string(p.row_limit);
  if (p.interval_seconds) {
    if (!out.empty()) out += ",";
    out += "interval:" + std::to_string(p.interval_seconds);
  }
  if (out.empty()) return nullptr;
  return json::value(out);
}

// The storage a table's cold rows go to; STREAM tables have none of their own and show "local",
// as the original does.
std::string StorageIdOf(const TableDef& t) {
  return t.options.storage_id.empty() ? std::string("local") : t.options.storage_id;
}

// The WITH options of a table as a JSON object. Options that do not apply to the table's type
// (ACCESS_LEVEL outside SHARED, TTL_SECONDS outside STREAM) are null; a STREAM table has its own
// shape.
std::string TableOptionsJson(const TableDef& t) {
  json::object o;
  if (t.type == catalog::TableType::kStream) {
    // The original's stored stream options (FEATURES §1.1), then ours (docs/streams.md).
    o["table_type"] = "STREAM";
    o["ttl_seconds"] = t.options.ttl_seconds;
    o["eviction_strategy"] = "time_based";
    o["max_stream_size_bytes"] = 0;
    o["compression"] = "snappy";
    o["max_rows_per_user"] = t.options.max_rows_per_user;
    o["ephemeral"] = t.options.ephemeral;
    o["storage_id"] = StorageIdOf(t);
    return json::serialize(o);
  }
  o["flush_policy"] = FlushPolicyJson(t.options.flush_policy);
  o["deleted_retention_hours"] = t.options.deleted_retention_hours;
  o["ttl_seconds"] = t.type == catalog::TableType::kStream ? json::value(t.options.ttl_seconds)
                                                           : json::value(nullptr);
  o["access_level"] = t.type == catalog::TableType::kShared
                          ? json::value(catalog::AccessLevelName(t.options.access_level))
                          : json::value(nullptr);
  o["use_user_storage"] = t.options.use_user_storage;
  o["storage_id"] = StorageIdOf(t);
  return json::serialize(o);
}

// 1-based position of column `i` in the primary key, or 0 when it is not part of it.
int64_t PrimaryKeyPos(const TableDef& t, size_t i) {
  if (!t.columns[i].primary_key) return 0;
  int64_t pos = 0;
  for (size_t j = 0; j <= i; ++j) pos += t.columns[j].primary_key ? 1 : 0;
  return pos;
}

// The columns of one schema version as a JSON array (system.schemas), with the original's field
// names and its wire form of the type ("Json", {"Embedding":768}); `default_value` is the SQL text
// of the default (ours; docs/compatibility.md).
std::string ColumnsJson(const TableDef& t) {
  json::array a;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const catalog::ColumnDef& c = t.columns[i];
    const std::string dflt = c.default_value.ToSql(c.type);
    a.push_back(json::object{
        {"column_id", c.column_id},
        {"column_name", c.name},
        {"column_comment", c.comment.empty() ? json::value(nullptr) : json::value(c.comment)},
        {"data_type", json::parse(c.type.WireJson())},
        {"default_value", dflt.empty() ? json::value(nullptr) : json::value(dflt)},
        {"ordinal_position", i + 1},
        {"is_nullable", c.nullable},
        {"is_primary_key", c.primary_key},
        {"is_partition_key", false},
    });
  }
  return json::serialize(a);
}

std::string TypeName(const TableDef& t) { return std::string(catalog::TableTypeName(t.type)); }

// ---- producers --------------------------------------------------------------------------------

Result<MaterializedRows> UsersRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.catalog_service) return rows;
  // Never the password hash: no column carries it.
  for (const auto& u : ctx.services.catalog_service->ListUsers()) {
    rows.push_back({Text(u.user_id), Text(auth::RoleName(u.role)),
                    u.email ? Text(*u.email) : Value::Null(), Text(u.auth_type),
                    Timestamp(u.created_at_us), Timestamp(u.updated_at_us),
                    Timestamp(u.last_login_at_us), Timestamp(u.locked_until_us),
                    Int(u.failed_login_attempts), Timestamp(u.deleted_at_us)});
  }
  return rows;
}

Result<MaterializedRows> NamespacesRows(const ExecContext& ctx) {
  MaterializedRows rows;
  for (const auto& [name, ns] : ctx.statement.catalog->namespaces()) {
    rows.push_back({Text(name), Text(name), Text(ns.options_json),
                    Int(static_cast<int64_t>(ctx.statement.catalog->TablesIn(name).size())),
                    Timestamp(ns.created_at_us)});
  }
  return rows;
}

Result<MaterializedRows> TablesRows(const ExecContext& ctx) {
  MaterializedRows rows;
  for (const auto& t : ctx.statement.catalog->AllTables()) {
    rows.push_back({Text(t->namespace_id), Text(t->table_name), Text(TypeName(*t)),
                    Text(t->options.storage_id), Int(t->schema_version),
                    Text(TableOptionsJson(*t)), TextOrNull(t->comment),
                    Timestamp(t->created_at_us), Timestamp(t->updated_at_us)});
  }
  return rows;
}

Result<MaterializedRows> ColumnsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  for (const auto& t : ctx.statement.catalog->AllTables()) {
    for (size_t i = 0; i < t->columns.size(); ++i) {
      const catalog::ColumnDef& c = t->columns[i];
      rows.push_back({Text(t->namespace_id), Text(t->table_name), Int(t->schema_version),
                      Int(c.column_id), Text(c.name), Int(static_cast<int64_t>(i + 1)),
                      Text(c.type.SqlName()), Bool(c.nullable), Bool(c.primary_key),
                      TextOrNull(c.default_value.ToSql(c.type)), TextOrNull(c.comment),
                      c.primary_key ? Int(PrimaryKeyPos(*t, i)) : Value::Null()});
    }
  }
  return rows;
}

Result<MaterializedRows> SchemasRows(const ExecContext& ctx) {
  MaterializedRows rows;
  for (const auto& latest : ctx.statement.catalog->AllTables()) {
    std::vector<std::shared_ptr<const TableDef>> versions;
    if (ctx.services.catalog_service) {
      KALAM_ASSIGN_OR_RETURN(auto history,
                             ctx.services.catalog_service->SchemaHistory(latest->table_id));
      for (auto& v : history) {
        // Versions published after this statement's snapshot are not shown yet.
        if (v->schema_version <= latest->schema_version) versions.push_back(std::move(v));
      }
    }
    if (versions.empty() || versions.back()->schema_version != latest->schema_version) {
      versions.push_back(latest);
    }
    for (const auto& v : versions) {
      const bool is_latest = v->schema_version == latest->schema_version;
      // A version is created when its ALTER (or the CREATE, for version 1) runs.
      const int64_t created = v->schema_version == 1 || v->updated_at_us == 0 ? v->created_at_us
                                                                               : v->updated_at_us;
      const bool shared = v->type == catalog::TableType::kShared;
      const bool user = v->type == catalog::TableType::kUser;
      rows.push_back({Int(static_cast<int64_t>(v->table_id)), Text(v->namespace_id),
                      Text(v->table_name), Text(TypeName(*v)), Int(v->schema_version),
                      Text(ColumnsJson(*v)), Text(TableOptionsJson(*v)), Bool(is_latest),
                      Timestamp(created), TextOrNull(v->comment),
                      Timestamp(v->updated_at_us ? v->updated_at_us : v->created_at_us),
                      shared ? Text(catalog::AccessLevelName(v->options.access_level))
                             : Value::Null(),
                      Text(StorageIdOf(*v)),
                      user ? Bool(v->options.use_user_storage) : Value::Null()});
    }
  }
  return rows;
}

Result<MaterializedRows> StoragesRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (ctx.services.storages) {
    for (const auto& d : ctx.services.storages->List()) {
      rows.push_back({Text(d.storage_id), Text(d.storage_name), Text(d.description),
                      Text(d.storage_type),
                      Text(d.base_directory.empty() ? "s3://" + d.bucket : d.base_directory),
                      Text(d.shared_tables_template), Text(d.user_tables_template),
                      Timestamp(d.created_at_us), Timestamp(d.updated_at_us)});
    }
    return rows;
  }
  const std::string data_dir =
      ctx.services.options ? ctx.services.options->data_dir : ExecutorOptions().data_dir;
  const std::string base = (std::filesystem::path(data_dir) / "storage").string();
  rows.push_back({Text("local"), Text("Local storage"),
                  Text("Built-in storage under the data directory"), Text("filesystem"), Text(base),
                  Text("{namespace}/{tableName}"), Text("{namespace}/{tableName}/{userId}"),
                  Timestamp(ctx.services.server_started_at_us),
                  Timestamp(ctx.services.server_started_at_us)});
  return rows;
}

// system.topics and system.topic_offsets: timestamps in µs like every system table (the original
// shows ms in these two; docs/compatibility.md).
Result<MaterializedRows> TopicsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.topics) return rows;
  for (const auto& t : ctx.services.topics->ListTopics()) {
    rows.push_back({Text(t.topic_id), Text(t.topic_id), Value::Null(), Int(t.partitions),
                    Int(t.retention_seconds), Int(t.retention_max_bytes), Text(t.routes_json),
                    Timestamp(t.created_at_ms * 1000), Timestamp(t.updated_at_ms * 1000)});
  }
  return rows;
}

Result<MaterializedRows> TopicOffsetsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.topics) return rows;
  for (const auto& o : ctx.services.topics->ListOffsets()) {
    rows.push_back({Text(o.topic_id), Text(o.group_id), Int(o.partition_id),
                    Int(o.last_acked_offset), Timestamp(o.updated_at_ms * 1000)});
  }
  return rows;
}

Result<MaterializedRows> JobsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.jobs) return rows;
  auto ts = [](int64_t us) { return us ? Value::Int(us) : Value::Null(); };
  for (const auto& j : ctx.services.jobs->ListJobs()) {
    rows.push_back({Text(j.job_id), Text(j.job_type), Text(JobStatusName(j.status)),
                    Text(j.parameters_json),
                    Text(j.message), j.exception_trace.empty() ? Value::Null() : Text(j.exception_trace),
                    Value::Int(j.retry_count), Value::Int(j.memory_used), Value::Int(j.cpu_used),
                    ts(j.created_at_us), ts(j.started_at_us), ts(j.finished_at_us),
                    Text(j.node_id)});
  }
  return rows;
}


// system.audit_log: the newest options.audit_log_max_rows entries, oldest first.
Result<MaterializedRows> AuditLogRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.audit) return rows;
  const size_t max_rows =
      ctx.services.options ? ctx.services.options->audit_log_max_rows : ExecutorOptions().audit_log_max_rows;
  KALAM_ASSIGN_OR_RETURN(auto entries, ctx.services.audit->ListNewest(max_rows));
  for (const auto& e : entries) {
    rows.push_back({Text(e.audit_id), Timestamp(e.timestamp_us), Text(e.actor_user_id),
                    Text(e.action), Text(e.target), TextOrNull(e.details),
                    TextOrNull(e.ip_address), TextOrNull(e.subject_user_id), Text(e.outcome)});
  }
  return rows;
}

// system.server_logs: the messages in the last options.server_logs_tail_bytes of the log file,
// in either log format; no rows without a log file.
Result<MaterializedRows> ServerLogsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  const ExecutorOptions o = ctx.services.options ? *ctx.services.options : ExecutorOptions();
  if (o.log_file.empty()) return rows;
  KALAM_ASSIGN_OR_RETURN(auto lines, ReadLogTail(o.log_file, o.server_logs_tail_bytes));
  for (const auto& l : lines) {
    rows.push_back({Text(l.timestamp), Text(l.level), TextOrNull(l.thread), TextOrNull(l.target),
                    l.line > 0 ? Int(l.line) : Value::Null(), Text(l.message)});
  }
  return rows;
}

Result<MaterializedRows> LiveRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.live) return rows;
  for (const auto& q : ctx.services.live->List()) {
    rows.push_back({Text(q.live_id), Text(q.connection_id), Text(q.subscription_id),
                    Text(q.namespace_id), Text(q.table_name), Text(q.user_id), Text(q.query),
                    Text(q.options_json), Text(q.status), Timestamp(q.created_at_us),
                    Timestamp(q.last_update_us), Value::Int(static_cast<int64_t>(q.changes)),
                    Text(q.node_id)});
  }
  return rows;
}

// Seconds since the server started (0 when the context does not know).
uint64_t UptimeSeconds(const ExecContext& ctx) {
  if (!ctx.services.clock || !ctx.services.server_started_at_us) return 0;
  const int64_t up = ctx.services.clock->NowMicros() - ctx.services.server_started_at_us;
  return static_cast<uint64_t>(std::max<int64_t>(up, 0) / 1000000);
}

// "1d 2h 3m 4s", as the original shows uptimes.
std::string UptimeHuman(uint64_t secs) {
  return std::to_string(secs / 86400) + "d " + std::to_string(secs / 3600 % 24) + "h " +
         std::to_string(secs / 60 % 60) + "m " + std::to_string(secs % 60) + "s";
}

Result<MaterializedRows> StatsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  auto add = [&](std::string_view name, uint64_t v) {
    rows.push_back({Text(name), Text(std::to_string(v))});
  };
  auto add_text = [&](std::string_view name, std::string_view v) {
    rows.push_back({Text(name), Text(v)});
  };
  const auto& cache = StatementCacheStats::Global();
  add("statement_cache_hits", cache.hits.load(std::memory_order_relaxed));
  add("statement_cache_misses", cache.misses.load(std::memory_order_relaxed));
  const uint64_t namespaces = ctx.statement.catalog->namespaces().size();
  const uint64_t tables = ctx.statement.catalog->AllTables().size();
  add("namespaces", namespaces);
  add("tables", tables);
  // The original's names (docs/metrics.md).
  add("total_namespaces", namespaces);
  add("total_tables", tables);
  // The schema cache is the catalog snapshot every statement reads: one entry per table.
  add("schema_cache_size", tables);
  add("schema_registry_size", tables);
  add("schema_cache_total_entries", tables);
  if (ctx.services.storages) add("total_storages", ctx.services.storages->List().size());
  if (const ExecutorOptions* o = ctx.services.options; o && !o->server_version.empty()) {
    add_text("server_version", o->server_version);
    add_text("server_build_date", o->server_build_date);
    add_text("server_git_commit", o->server_git_commit);
    add("node_id", o->node_id);
    add_text("cluster_mode", "false");
    add("server_workers_configured", o->server_workers_configured);
    add("server_workers_effective", o->server_workers_effective);
    add("max_connections", o->max_connections);
    add("max_connections_configured", o->max_connections);
  }
  if (ctx.services.catalog_service) {
    uint64_t users = 0;
    for (const auto& u : ctx.services.catalog_service->ListUsers()) users += u.deleted() ? 0 : 1;
    add("users", users);
    add("total_users", users);
  }
  if (ctx.services.jobs) {
    uint64_t total = 0, running = 0, queued = 0, failed = 0;
    for (const auto& j : ctx.services.jobs->ListJobs()) {
      ++total;
      running += j.status == JobStatus::kRunning ? 1 : 0;
      queued += j.status == JobStatus::kQueued ? 1 : 0;
      failed += j.status == JobStatus::kFailed ? 1 : 0;
    }
    add("total_jobs", total);
    add("jobs_running", running);
    add("jobs_queued", queued);
    add("jobs_failed", failed);
  }
  if (ctx.services.live) {
    const uint64_t live = ctx.services.live->List().size();
    add("total_live_queries", live);
    add("active_subscriptions", live);
  }
  if (ctx.services.shards) {
    const commit::CommitStats c = ctx.services.shards->stats();
    add("commits", c.commits);
    add("commit_groups", c.groups);
    add("committed_rows", c.rows);
    add("commit_conflicts", c.conflicts);
  }
  if (ctx.services.clock && ctx.services.server_started_at_us) {
    const uint64_t secs = UptimeSeconds(ctx);
    add("uptime_seconds", secs);
    add("server_uptime_seconds", secs);
    add_text("server_uptime_human", UptimeHuman(secs));
  }
  const metrics::ProcessStats proc = metrics::ReadProcessStats();
  add("memory_rss_bytes", proc.rss_bytes);
  add("memory_rss_mb", proc.rss_bytes >> 20);
  // The original's memory_usage_* is its allocator's figure when known, else RSS; ours is RSS.
  add("memory_usage_bytes", proc.rss_bytes);
  add("memory_usage_mb", proc.rss_bytes >> 20);
  add_text("memory_usage_source", "rss");
  add("memory_virtual_bytes", proc.virtual_bytes);
  add("memory_virtual_mb", proc.virtual_bytes >> 20);
  add("open_files_total", proc.open_fds);
  add("thread_count", proc.threads);
  add("pid", static_cast<uint64_t>(getpid()));
  // Then every series /metrics shows, named as there.
  for (auto& [name, value] : metrics::Registry::Default().Rows()) {
    rows.push_back({Text(name), Text(value)});
  }
  return rows;
}

// system.cluster: the members of the cluster as this node sees them (sql::ClusterStatus). A
// server without [cluster] is a cluster of one: this node, leader of everything, with no Raft
// groups (docs/cluster.md); the Raft figures are NULL.
Result<MaterializedRows> ClusterRows(const ExecContext& ctx) {
  const ExecutorOptions* o = ctx.services.options;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  // The OS and architecture as the original names them (Rust's std::env::consts: "linux",
  // "x86_64").
  std::string os, arch;
  if (struct utsname uts {}; uname(&uts) == 0) {
    os = uts.sysname;
    for (char& c : os) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    arch = uts.machine;
  }
  const uint64_t uptime = UptimeSeconds(ctx);
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  const int64_t total_mb = pages > 0 && page_size > 0
                               ? static_cast<int64_t>(pages) * page_size / (1 << 20)
                               : 0;
  const metrics::ProcessStats proc = metrics::ReadProcessStats();
  // The host figures: this node's own (NULL for the other members).
  auto host_columns = [&](bool self, std::vector<Value>& row) {
    if (!self) {
      for (int i = 0; i < 9; ++i) row.push_back(Value::Null());
      return;
    }
    row.push_back(TextOrNull(host));
    row.push_back(TextOrNull(o ? o->server_version : ""));
    row.push_back(total_mb ? Int(total_mb) : Value::Null());
    row.push_back(Int(static_cast<int64_t>(proc.rss_bytes >> 20)));
    row.push_back(Value::Null());
    row.push_back(Int(static_cast<int64_t>(uptime)));
    row.push_back(Text(UptimeHuman(uptime)));
    row.push_back(TextOrNull(os));
    row.push_back(TextOrNull(arch));
  };
  MaterializedRows rows;
  const ClusterStatus* cluster = ctx.services.cluster;
  if (cluster == nullptr) {
    // A single node: a cluster of one that this node leads, with no Raft figures.
    std::vector<Value> row{Text("standalone"), Int(o ? static_cast<int64_t>(o->node_id) : 1),
                           Text("leader"), Text("active"), Text(""), Text(o ? o->api_addr : ""),
                           Bool(true), Bool(true), Int(0), Int(0), Value::Null(), Value::Null(),
                           Value::Null(), Value::Null(), Value::Null(), Value::Null()};
    host_columns(true, row);
    rows.push_back(std::move(row));
    return rows;
  }
  auto opt = [](const std::optional<int64_t>& v) { return v ? Int(*v) : Value::Null(); };
  for (const ClusterMemberStatus& m : cluster->Members()) {
    std::vector<Value> row{Text(cluster->cluster_id()), Int(m.node_id), Text(m.role),
                           Text(m.status), Text(m.rpc_addr), Text(m.api_addr), Bool(m.is_self),
                           Bool(m.is_leader), Int(m.groups_leading), Int(m.total_groups),
                           opt(m.current_term), opt(m.last_applied_log),
                           // snapshot_index: not tracked per member yet.
                           opt(m.leader_last_log_index), Value::Null(),
                           opt(m.catchup_progress_pct), opt(m.replication_lag)};
    host_columns(m.is_self, row);
    rows.push_back(std::move(row));
  }
  return rows;
}

// system.cluster_groups: one row per Raft group replica on this node; none without [cluster].
Result<MaterializedRows> ClusterGroupsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  const ClusterStatus* cluster = ctx.services.cluster;
  if (cluster == nullptr) return rows;
  const int64_t self = ctx.services.options ? static_cast<int64_t>(ctx.services.options->node_id)
                                            : 0;
  for (const ClusterGroupStatus& g : cluster->Groups()) {
    // The vote as the original shows it: whom this replica voted for, in which term.
    Value vote = g.voted_for == 0
                     ? Value::Null()
                     : Text("{\"term\":" + std::to_string(g.current_term) + ",\"node_id\":" +
                            std::to_string(g.voted_for) + "}");
    rows.push_back({Int(g.group_id), Text(cluster->cluster_id()), Int(self), Text(g.group_type),
                    Int(g.current_term), std::move(vote), Int(g.last_log_index),
                    Int(g.last_applied),
                    // snapshot, purged: not tracked yet.
                    Value::Null(), Value::Null(), Int(g.committed),
                    Text(g.failed ? "Failed" : g.state),
                    g.current_leader ? Int(g.current_leader) : Value::Null(), Value::Null()});
  }
  return rows;
}

// How a type is stored in Parquet, named as Arrow names its types (the original's `arrow_type`).
std::string_view ArrowTypeName(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBoolean: return "Boolean";
    case TypeKind::kSmallInt: return "Int16";
    case TypeKind::kInt: return "Int32";
    case TypeKind::kBigInt: return "Int64";
    case TypeKind::kFloat: return "Float32";
    case TypeKind::kDouble: return "Float64";
    case TypeKind::kDecimal: return "Decimal128(p, s)";
    case TypeKind::kText: return "Utf8";
    case TypeKind::kBytes: return "Binary";
    case TypeKind::kJson: return "Utf8";
    case TypeKind::kTimestamp: return "Timestamp(Microsecond, None)";
    case TypeKind::kDateTime: return "Timestamp(Microsecond, Some(\"UTC\"))";
    case TypeKind::kDate: return "Date32";
    case TypeKind::kTime: return "Time64(Microsecond)";
    case TypeKind::kUuid: return "FixedSizeBinary(16)";
    case TypeKind::kEmbedding: return "FixedSizeList(Float32, n)";
    case TypeKind::kFile: return "Utf8";
  }
  return "Utf8";
}

Result<MaterializedRows> DatatypesRows(const ExecContext&) {
  struct Entry {
    const char* sql_name;
    TypeKind kind;
    const char* description;
  };
  // SQL.md §3: every SQL name and alias.
  static const Entry kEntries[] = {
      {"BOOLEAN", TypeKind::kBoolean, "true or false"},
      {"BOOL", TypeKind::kBoolean, "Alias of BOOLEAN"},
      {"SMALLINT", TypeKind::kSmallInt, "16-bit signed integer"},
      {"INT2", TypeKind::kSmallInt, "Alias of SMALLINT"},
      {"INT", TypeKind::kInt, "32-bit signed integer"},
      {"INTEGER", TypeKind::kInt, "Alias of INT"},
      {"INT4", TypeKind::kInt, "Alias of INT"},
      {"BIGINT", TypeKind::kBigInt, "64-bit signed integer (a JSON string on the wire)"},
      {"INT8", TypeKind::kBigInt, "Alias of BIGINT"},
      {"FLOAT", TypeKind::kFloat, "32-bit floating point"},
      {"REAL", TypeKind::kFloat, "Alias of FLOAT"},
      {"FLOAT4", TypeKind::kFloat, "Alias of FLOAT"},
      {"DOUBLE", TypeKind::kDouble, "64-bit floating point"},
      {"DOUBLE PRECISION", TypeKind::kDouble, "Alias of DOUBLE"},
      {"FLOAT8", TypeKind::kDouble, "Alias of DOUBLE"},
      {"DECIMAL(p,s)", TypeKind::kDecimal,
       "Exact decimal, 1 <= p <= 38, 0 <= s <= p; bare DECIMAL = (38,10)"},
      {"NUMERIC", TypeKind::kDecimal, "Alias of DECIMAL"},
      {"TEXT", TypeKind::kText, "UTF-8 text"},
      {"VARCHAR", TypeKind::kText, "Alias of TEXT (length ignored)"},
      {"CHAR", TypeKind::kText, "Alias of TEXT (length ignored)"},
      {"STRING", TypeKind::kText, "Alias of TEXT"},
      {"BYTES", TypeKind::kBytes, "Binary data"},
      {"BINARY", TypeKind::kBytes, "Alias of BYTES"},
      {"VARBINARY", TypeKind::kBytes, "Alias of BYTES"},
      {"BLOB", TypeKind::kBytes, "Alias of BYTES"},
      {"BYTEA", TypeKind::kBytes, "Alias of BYTES"},
      {"JSON", TypeKind::kJson, "A JSON document, validated on write"},
      {"JSONB", TypeKind::kJson, "Alias of JSON"},
      {"TIMESTAMP", TypeKind::kTimestamp, "Date and time in microseconds, not UTC-adjusted"},
      {"DATETIME", TypeKind::kDateTime,
       "Date and time in microseconds, UTC-adjusted (input offsets normalised to UTC)"},
      {"DATE", TypeKind::kDate, "Calendar date (days since 1970-01-01)"},
      {"TIME", TypeKind::kTime, "Time of day in microseconds"},
      {"UUID", TypeKind::kUuid, "128-bit UUID"},
      {"EMBEDDING(n)", TypeKind::kEmbedding, "Vector of n float32 values"},
      {"FILE", TypeKind::kFile, "Reference to a stored file (FileRef JSON)"},
  };
  MaterializedRows rows;
  for (const auto& e : kEntries) {
    rows.push_back({Text(e.sql_name), Text(TypeKindWireName(e.kind)), Text(e.description),
                    Text(ArrowTypeName(e.kind))});
  }
  return rows;
}

// Every server setting (config key, value, its description from the default server.toml, and
// its section), as the server handed them to the executor; secrets are masked there.
Result<MaterializedRows> SettingsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.options) return rows;
  for (const auto& s : ctx.services.options->settings) {
    rows.push_back({Text(s.name), Text(s.value), Text(s.description), Text(s.category)});
  }
  return rows;
}

// One row per cold-tier scope manifest (the original's cache_key `<ns>:<table>:<scope>`, scope
// `shared` for SHARED tables). Manifests live in RocksDB and are always in memory and in sync
// with their mirror, so `etag` is null, `in_memory` true and `sync_state` "in_sync"; the
// refresh/access times are the last flush's.
Result<MaterializedRows> ManifestRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.store || !ctx.services.store->cold()) return rows;
  const table::ColdStore& cold = *ctx.services.store->cold();
  for (const auto& t : ctx.statement.catalog->AllTables()) {
    for (const auto& [scope, m] : cold.ScopesOf(t->table_id)) {
      const std::string scope_name = scope.empty() ? "shared" : scope;
      int64_t last_ms = 0;
      for (const auto& seg : m->manifest.segments) last_ms = std::max(last_ms, seg.created_at_ms);
      rows.push_back({Text(t->namespace_id + ":" + t->table_name + ":" + scope_name),
                      Text(t->namespace_id), Text(t->table_name), Text(scope_name),
                      Value::Null(), Timestamp(last_ms * 1000), Timestamp(last_ms * 1000),
                      Bool(true), Text("in_sync"), Text(table::EncodeManifest(m->manifest))});
    }
  }
  return rows;
}

// One row per job and the node that ran it: this server is the only node, so each job has one
// row, with the job's status and times.
Result<MaterializedRows> JobNodesRows(const ExecContext& ctx) {
  MaterializedRows rows;
  if (!ctx.services.jobs) return rows;
  const int64_t node = ctx.services.options ? static_cast<int64_t>(ctx.services.options->node_id)
                                            : 1;
  for (const auto& j : ctx.services.jobs->ListJobs()) {
    const bool failed = j.status == JobStatus::kFailed;
    const int64_t updated = std::max({j.created_at_us, j.started_at_us, j.finished_at_us});
    rows.push_back({Text(j.job_id), Int(node), Text(JobStatusName(j.status)),
                    failed ? Text(j.message) : Value::Null(), Timestamp(j.created_at_us),
                    Timestamp(j.started_at_us), Timestamp(j.finished_at_us), Timestamp(updated)});
  }
  return rows;
}

// The tables information_schema lists for the caller: the catalog tables it may read, and the
// system tables for dba and system.
std::vector<std::shared_ptr<const TableDef>> VisibleTables(const ExecContext& ctx) {
  std::vector<std::shared_ptr<const TableDef>> out;
  for (auto& t : ctx.statement.catalog->AllTables()) {
    if (CheckTableAccess(ctx.caller, *t, /*write=*/false).ok()) out.push_back(std::move(t));
  }
  if (MayReadSystemTables(ctx.caller.role)) {
    for (const auto& s : AllSystemTables()) {
      if (s.dba_only) out.push_back(s.def);
    }
  }
  return out;
}

// The catalog name information_schema shows (the original's, which its CLI's \\d command reads).
constexpr std::string_view kInformationSchemaCatalog = "kalam";

Result<MaterializedRows> InfoTablesRows(const ExecContext& ctx) {
  MaterializedRows rows;
  for (const auto& t : VisibleTables(ctx)) {
    rows.push_back(
        {Text(kInformationSchemaCatalog), Text(t->namespace_id), Text(t->table_name),
         Text(TypeName(*t))});
  }
  return rows;
}

Result<MaterializedRows> InfoColumnsRows(const ExecContext& ctx) {
  MaterializedRows rows;
  for (const auto& t : VisibleTables(ctx)) {
    for (size_t i = 0; i < t->columns.size(); ++i) {
      const catalog::ColumnDef& c = t->columns[i];
      rows.push_back({Text(kInformationSchemaCatalog), Text(t->namespace_id),
                      Text(t->table_name), Text(c.name),
                      Int(static_cast<int64_t>(i + 1)), TextOrNull(c.default_value.ToSql(c.type)),
                      Text(c.nullable ? "YES" : "NO"), Text(c.type.SqlName())});
    }
  }
  return rows;
}

// ---- definitions ------------------------------------------------------------------------------

struct ColumnSpec {
  const char* name;
  DataType type;
};

SystemTable MakeTable(std::string_view ns, const char* name, std::vector<ColumnSpec> columns,
                      Result<MaterializedRows> (*produce)(const ExecContext&)) {
  auto def = std::make_shared<TableDef>();
  def->namespace_id = std::string(ns);
  def->table_name = name;
  def->type = catalog::TableType::kSystem;
  def->schema_version = 1;
  uint32_t id = 0;
  for (const auto& c : columns) {
    catalog::ColumnDef col;
    col.column_id = ++id;
    col.name = c.name;
    col.type = c.type;
    def->columns.push_back(std::move(col));
  }
  SystemTable t;
  t.def = std::move(def);
  const bool system = ns == catalog::kSystemNamespace;
  t.sqlite_name = std::string(system ? "ks_" : "ks_is_") + name;
  t.dba_only = system;
  t.produce = produce;
  return t;
}

std::vector<SystemTable> BuildTables() {
  const std::string_view sys = catalog::kSystemNamespace;
  const std::string_view info = kInformationSchemaNamespace;
  std::vector<SystemTable> t;
  t.push_back(MakeTable(sys, "audit_log",
                        {{"audit_id", kText}, {"timestamp", kTimestamp},
                         {"actor_user_id", kText}, {"action", kText}, {"target", kText},
                         {"details", kText}, {"ip_address", kText}, {"subject_user_id", kText},
                         {"outcome", kText}},
                        AuditLogRows));
  t.push_back(MakeTable(sys, "cluster",
                        {{"cluster_id", kText}, {"node_id", kBigInt}, {"role", kText},
                         {"status", kText}, {"rpc_addr", kText}, {"api_addr", kText},
                         {"is_self", kBool}, {"is_leader", kBool}, {"groups_leading", kInt},
                         {"total_groups", kInt}, {"current_term", kBigInt},
                         {"last_applied_log", kBigInt}, {"leader_last_log_index", kBigInt},
                         {"snapshot_index", kBigInt}, {"catchup_progress_pct", kSmallInt},
                         {"replication_lag", kBigInt}, {"hostname", kText}, {"version", kText},
                         {"memory_mb", kBigInt}, {"memory_usage_mb", kBigInt},
                         {"cpu_usage_percent", kFloat}, {"uptime_seconds", kBigInt},
                         {"uptime_human", kText}, {"os", kText}, {"arch", kText}},
                        ClusterRows));
  t.push_back(MakeTable(sys, "cluster_groups",
                        {{"group_id", kBigInt}, {"cluster_id", kText}, {"node_id", kBigInt},
                         {"group_type", kText}, {"current_term", kBigInt}, {"vote", kJson},
                         {"last_log_index", kBigInt}, {"last_applied", kBigInt},
                         {"snapshot", kBigInt}, {"purged", kBigInt}, {"committed", kBigInt},
                         {"state", kText}, {"current_leader", kBigInt},
                         {"millis_since_quorum_ack", kBigInt}},
                        ClusterGroupsRows));
  t.push_back(MakeTable(sys, "columns",
                        {{"namespace_id", kText}, {"table_name", kText}, {"version", kInt},
                         {"column_id", kInt}, {"column_name", kText}, {"ordinal", kInt},
                         {"data_type", kText}, {"nullable", kBool}, {"primary_key", kBool},
                         {"default_value", kText}, {"comment", kText},
                         {"primary_key_pos", kInt}},
                        ColumnsRows));
  t.push_back(MakeTable(sys, "datatypes",
                        {{"sql_name", kText}, {"kalam_type", kText}, {"description", kText},
                         {"arrow_type", kText}},
                        DatatypesRows));
  t.push_back(MakeTable(sys, "job_nodes",
                        {{"job_id", kText}, {"node_id", kBigInt}, {"status", kText},
                         {"error_message", kText}, {"created_at", kTimestamp},
                         {"started_at", kTimestamp}, {"finished_at", kTimestamp},
                         {"updated_at", kTimestamp}},
                        JobNodesRows));
  t.push_back(MakeTable(sys, "manifest",
                        {{"cache_key", kText}, {"namespace_id", kText}, {"table_name", kText},
                         {"scope", kText}, {"etag", kText}, {"last_refreshed", kTimestamp},
                         {"last_accessed", kTimestamp}, {"in_memory", kBool},
                         {"sync_state", kText}, {"manifest_json", kJson}},
                        ManifestRows));
  t.push_back(MakeTable(sys, "topics",
                        {{"topic_id", kText}, {"name", kText}, {"alias", kText},
                         {"partitions", kInt}, {"retention_seconds", kBigInt},
                         {"retention_max_bytes", kBigInt}, {"routes", kJson},
                         {"created_at", kTimestamp}, {"updated_at", kTimestamp}},
                        TopicsRows));
  t.push_back(MakeTable(sys, "topic_offsets",
                        {{"topic_id", kText}, {"group_id", kText}, {"partition_id", kInt},
                         {"last_acked_offset", kBigInt}, {"updated_at", kTimestamp}},
                        TopicOffsetsRows));
  t.push_back(MakeTable(sys, "jobs",
                        {{"job_id", kText}, {"job_type", kText}, {"status", kText},
                         {"parameters", kJson}, {"message", kText}, {"exception_trace", kText},
                         {"retry_count", kInt}, {"memory_used", kBigInt}, {"cpu_used", kBigInt},
                         {"created_at", kTimestamp}, {"started_at", kTimestamp},
                         {"finished_at", kTimestamp}, {"node_id", kText}},
                        JobsRows));
  t.push_back(MakeTable(sys, "live",
                        {{"live_id", kText}, {"connection_id", kText}, {"subscription_id", kText},
                         {"namespace_id", kText}, {"table_name", kText}, {"user_id", kText},
                         {"query", kText}, {"options", kJson}, {"status", kText},
                         {"created_at", kTimestamp}, {"last_update", kTimestamp},
                         {"changes", kBigInt}, {"node_id", kText}},
                        LiveRows));
  t.push_back(MakeTable(sys, "namespaces",
                        {{"namespace_id", kText}, {"name", kText}, {"options", kJson},
                         {"table_count", kBigInt}, {"created_at", kTimestamp}},
                        NamespacesRows));
  t.push_back(MakeTable(sys, "schemas",
                        {{"table_id", kBigInt}, {"namespace_id", kText}, {"table_name", kText},
                         {"table_type", kText}, {"schema_version", kInt}, {"columns", kJson},
                         {"options", kJson}, {"is_latest", kBool}, {"created_at", kTimestamp},
                         {"table_comment", kText}, {"updated_at", kTimestamp},
                         {"access_level", kText}, {"storage_id", kText},
                         {"use_user_storage", kBool}},
                        SchemasRows));
  t.push_back(MakeTable(sys, "server_logs",
                        {{"timestamp", kText}, {"level", kText}, {"thread", kText},
                         {"target", kText}, {"line", kBigInt}, {"message", kText}},
                        ServerLogsRows));
  t.push_back(MakeTable(sys, "settings",
                        {{"name", kText}, {"value", kText}, {"description", kText},
                         {"category", kText}},
                        SettingsRows));
  t.push_back(MakeTable(sys, "stats", {{"metric_name", kText}, {"metric_value", kText}},
                        StatsRows));
  t.push_back(MakeTable(sys, "storages",
                        {{"storage_id", kText}, {"storage_name", kText}, {"description", kText},
                         {"storage_type", kText}, {"base_directory", kText},
                         {"shared_tables_template", kText}, {"user_tables_template", kText},
                         {"created_at", kTimestamp}, {"updated_at", kTimestamp}},
                        StoragesRows));
  t.push_back(MakeTable(sys, "tables",
                        {{"namespace_id", kText}, {"table_name", kText}, {"table_type", kText},
                         {"storage_id", kText}, {"version", kInt}, {"options", kJson},
                         {"comment", kText}, {"created_at", kTimestamp},
                         {"updated_at", kTimestamp}},
                        TablesRows));
  t.push_back(MakeTable(sys, "users",
                        {{"user_id", kText}, {"role", kText}, {"email", kText},
                         {"auth_type", kText}, {"created_at", kTimestamp},
                         {"updated_at", kTimestamp}, {"last_login_at", kTimestamp},
                         {"locked_until", kTimestamp}, {"failed_login_attempts", kInt},
                         {"deleted_at", kTimestamp}},
                        UsersRows));
  t.push_back(MakeTable(info, "columns",
                        {{"table_catalog", kText}, {"table_schema", kText}, {"table_name", kText}, {"column_name", kText},
                         {"ordinal_position", kInt}, {"column_default", kText},
                         {"is_nullable", kText}, {"data_type", kText}},
                        InfoColumnsRows));
  t.push_back(MakeTable(info, "tables",
                        {{"table_catalog", kText}, {"table_schema", kText}, {"table_name", kText},
                         {"table_type", kText}},
                        InfoTablesRows));
  return t;
}

// ---- the module -----------------------------------------------------------------------------

struct SystemVtab {
  sqlite3_vtab base{};
  SqlConnection* conn = nullptr;
  const SystemTable* table = nullptr;
};

struct SystemCursor {
  sqlite3_vtab_cursor base{};
  SystemVtab* vt = nullptr;
  std::shared_ptr<const MaterializedRows> rows;
  size_t pos = 0;
};

int SetError(sqlite3_vtab* vt, ExecContext* ctx, Status s) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  if (ctx) ctx->SetError(std::move(s));
  return SQLITE_ERROR;
}

int XConnect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
             char** err) {
  const SystemTable* table = argc >= 4 ? FindSystemTableBySqliteName(argv[3]) : nullptr;
  if (!table) {
    *err = sqlite3_mprintf("kalam_system module needs the name of a system table");
    return SQLITE_ERROR;
  }
  std::string sql = "CREATE TABLE x(";
  for (size_t i = 0; i < table->def->columns.size(); ++i) {
    const catalog::ColumnDef& c = table->def->columns[i];
    if (i) sql += ", ";
    sql += "\"" + c.name + "\" " + AffinityName(c.type);
  }
  sql += ")";
  int rc = sqlite3_declare_vtab(db, sql.c_str());
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  auto* vt = new SystemVtab();
  vt->conn = static_cast<SqlConnection*>(aux);
  vt->table = table;
  *out = &vt->base;
  return SQLITE_OK;
}

int XDisconnect(sqlite3_vtab* base) {
  delete reinterpret_cast<SystemVtab*>(base);
  return SQLITE_OK;
}

// Nothing is pushed down: every scan reads the whole (small) table and SQLite evaluates every
// constraint itself.
int XBestIndex(sqlite3_vtab*, sqlite3_index_info* info) {
  info->estimatedCost = 1000;
  info->estimatedRows = 100;
  return SQLITE_OK;
}

int XOpen(sqlite3_vtab* base, sqlite3_vtab_cursor** out) {
  auto* cur = new SystemCursor();
  cur->vt = reinterpret_cast<SystemVtab*>(base);
  *out = &cur->base;
  return SQLITE_OK;
}

int XClose(sqlite3_vtab_cursor* base) {
  delete reinterpret_cast<SystemCursor*>(base);
  return SQLITE_OK;
}

int XFilter(sqlite3_vtab_cursor* base, int, const char*, int, sqlite3_value**) {
  auto* cur = reinterpret_cast<SystemCursor*>(base);
  ExecContext* ctx = cur->vt->conn->context();
  if (!ctx || !ctx->statement.catalog) {
    return SetError(&cur->vt->base, ctx, Status::Internal("no request context"));
  }
  const SystemTable& table = *cur->vt->table;
  auto& cached = ctx->statement.system_rows[table.sqlite_name];
  if (!cached) {
    auto rows = table.produce(*ctx);
    if (!rows.ok()) {
      ctx->statement.system_rows.erase(table.sqlite_name);
      return SetError(&cur->vt->base, ctx, rows.status());
    }
    cached = std::make_shared<const MaterializedRows>(std::move(*rows));
  }
  cur->rows = cached;
  cur->pos = 0;
  return SQLITE_OK;
}

int XNext(sqlite3_vtab_cursor* base) {
  ++reinterpret_cast<SystemCursor*>(base)->pos;
  return SQLITE_OK;
}

int XEof(sqlite3_vtab_cursor* base) {
  auto* cur = reinterpret_cast<SystemCursor*>(base);
  return !cur->rows || cur->pos >= cur->rows->size();
}

int XColumn(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int i) {
  auto* cur = reinterpret_cast<SystemCursor*>(base);
  const auto& columns = cur->vt->table->def->columns;
  const auto& row = (*cur->rows)[cur->pos];
  if (i < 0 || static_cast<size_t>(i) >= row.size()) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  ResultValue(ctx, &columns[i], row[i]);
  return SQLITE_OK;
}

int XRowid(sqlite3_vtab_cursor* base, sqlite3_int64* rowid) {
  *rowid = static_cast<sqlite3_int64>(reinterpret_cast<SystemCursor*>(base)->pos);
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 1;
  m.xCreate = XConnect;
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
  return m;  // no xUpdate: SQLite refuses writes
}

const sqlite3_module kModule = MakeModule();

}  // namespace

bool IsSystemNamespace(std::string_view ns) {
  return ns == catalog::kSystemNamespace || ns == kInformationSchemaNamespace;
}

const std::vector<SystemTable>& AllSystemTables() {
  static const std::vector<SystemTable> tables = BuildTables();
  return tables;
}

const SystemTable* FindSystemTable(std::string_view ns, std::string_view name) {
  const std::string lower = catalog::LowerName(name);
  for (const auto& t : AllSystemTables()) {
    if (t.def->namespace_id == ns && t.def->table_name == lower) return &t;
  }
  return nullptr;
}

const SystemTable* FindSystemTableBySqliteName(std::string_view sqlite_name) {
  for (const auto& t : AllSystemTables()) {
    if (t.sqlite_name == sqlite_name) return &t;
  }
  return nullptr;
}

Result<const SystemTable*> ResolveSystemTable(std::string_view ns, std::string_view name,
                                              auth::Role role, bool write) {
  const bool system = ns == catalog::kSystemNamespace;
  if (system && !MayReadSystemTables(role)) {
    return Status::PermissionDenied(
        "Permission denied: system tables are readable by dba and system roles only");
  }
  const SystemTable* table = FindSystemTable(ns, name);
  const std::string qualified = std::string(ns) + "." + catalog::LowerName(name);
  if (!table) {
    return Status::TableNotFound(std::string(system ? "System table '" : "Table '") + qualified +
                                 "' does not exist");
  }
  if (write) {
    return Status::PermissionDenied(std::string(system ? "System table '" : "Table '") +
                                    qualified + "' is read-only");
  }
  return table;
}

int RegisterSystemModule(sqlite3* db, SqlConnection* conn) {
  return sqlite3_create_module_v2(db, "kalam_system", &kModule, conn, nullptr);
}

}  // namespace kalam::sql
