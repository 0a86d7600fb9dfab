// JobSystem: flush/compaction jobs, the flush-policy scheduler and shutdown flushes.
#include "jobs/job_system.h"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <functional>

#include "common/time_format.h"
#include "jobs/backup.h"
#include "jobs/storage_backup.h"

namespace kalam::jobs {

namespace json = boost::json;
using catalog::TableDef;
using catalog::TableType;

namespace {

std::string TableParams(const TableDef& def) {
  return json::serialize(json::object{{"namespace_id", def.namespace_id},
                                      {"table_name", def.table_name},
                                      {"table_id", def.table_id}});
}

bool Flushable(const TableDef& def) {
  return def.type == TableType::kUser || def.type == TableType::kShared;
}

std::string TableKey(catalog::TableId id) { return "table:" + std::to_string(id); }

int64_t Micros(std::chrono::microseconds d) { return d.count(); }

// Replaced segment files whose deletion keeps failing are given up on (and named in the log)
// after this many attempts, one grace period apart.
constexpr int kObsoleteDeleteAttempts = 5;

}  // namespace

JobSystem::JobSystem(storage::KvStore& kv, catalog::Catalog& catalog, table::TableStore& store,
                     table::ColdStore& cold, commit::CommitPipeline& pipeline,
                     SnowflakeGenerator& ids, const Clock& clock, JobSystemOptions options)
    : kv_(kv),
      catalog_(catalog),
      cold_(cold),
      pipeline_(pipeline),
      clock_(clock),
      options_(options),
      manager_(kv, ids, clock, options.manager),
      gate_(options.cluster ? options.cluster->shards : commit::CommitShards(pipeline), kv),
      flusher_(kv, store, cold, gate_, clock, options.flusher),
      streams_(kv) {}

table::WriterGate::ReadPoint JobSystem::PipelineGate::TakeReadPoint() {
  // A cluster node's shards have no common watermark; the flusher needs only the snapshot (one
  // RocksDB, each group written atomically).
  if (!shards_.single()) return {kv_.GetSnapshot(), 0};
  commit::CommitPipeline::ReadPoint rp = shards_.all().front()->TakeReadPoint();
  return {std::move(rp.snapshot), rp.seq};
}

Status JobSystem::PipelineGate::RunExclusive(const std::function<Status()>& fn) {
  // Stream eviction only: not run on a cluster node (RunScheduledWork).
  if (!shards_.single()) {
    return Status::FailedPrecondition("STREAM eviction does not run on a cluster node yet");
  }
  return shards_.all().front()->RunExclusive(fn);
}

Status JobSystem::PipelineGate::CommitTiering(
    const catalog::TableDef& def, const table::Scope& scope,
    const std::function<Status(storage::WriteBatch*)>& stage) {
  return shards_.For(def.type, scope).CommitTiering(stage);
}

Status JobSystem::PipelineGate::Leads(const catalog::TableDef& def, const table::Scope& scope) {
  return shards_.For(def.type, scope).CheckLeader();
}

Status JobSystem::RefuseOnCluster(const std::string& what) const {
  if (!options_.cluster) return Status::OK();
  return Status::FailedPrecondition(what +
                                    " does not run on a cluster node yet (docs/cluster.md, "
                                    "\"Jobs on a cluster node\")");
}

Status JobSystem::CheckSharedStorage(const catalog::TableDef& def) const {
  if (!options_.cluster || options_.storages == nullptr) return Status::OK();
  auto storage = options_.storages->Find(def.options.storage_id);
  if (!storage || storage->storage_type != "filesystem") return Status::OK();
  namespace fs = std::filesystem;
  const fs::path node_dir = fs::absolute(options_.cluster->node_local_dir).lexically_normal();
  const fs::path base = fs::path(storage->base_directory).lexically_normal();
  const fs::path rel = base.lexically_relative(node_dir);
  if (rel.empty() || *rel.begin() == "..") return Status::OK();
  return Status::FailedPrecondition(
      "Table '" + def.QualifiedName() + "' is not flushed: its storage '" + storage->storage_id +
      "' keeps its files in '" + storage->base_directory +
      "', inside this node's data directory, which the other cluster nodes cannot read. Set "
      "cluster.shared_storage_dir to a directory every node shares, or use an S3 storage "
      "(docs/cluster.md, \"Cold tier\")");
}

JobSystem::~JobSystem() { Stop(); }

Status JobSystem::Start() {
  KALAM_RETURN_IF_ERROR(manager_.Start());
  // Rows waiting since before this start count toward the row triggers.
  const int64_t now = clock_.NowMicros();
  {
    std::lock_guard lock(mu_);
    for (const auto& def : catalog_.snapshot()->AllTables()) {
      if (!Flushable(*def)) continue;
      if (def->options.flush_policy.row_limit || def->options.flush_policy.interval_seconds) {
        pending_rows_[def->table_id] = flusher_.CountHotRows(def->table_id);
      }
      last_flush_us_[def->table_id] = now;
    }
    next_prune_us_ = now + Micros(options_.prune_every);
    next_eviction_us_ = now + Micros(options_.stream_eviction_interval);
    stopping_ = false;
  }
  if (!accounting_.exchange(true)) {
    std::vector<commit::CommitPipeline*> pipelines{&pipeline_};
    if (options_.cluster) pipelines = options_.cluster->shards.all();
    for (commit::CommitPipeline* p : pipelines) {
      p->AddListener([this](const std::vector<table::ChangeRecord>& records) {
        OnCommitted(records);
      });
    }
  }
  scheduler_ = std::thread([this] { SchedulerLoop(); });
  return Status::OK();
}

void JobSystem::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !scheduler_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  manager_.Stop();
  DeleteObsolete(true);
}

void JobSystem::OnCommitted(const std::vector<table::ChangeRecord>& records) {
  std::lock_guard lock(mu_);
  if (stopping_) return;
  catalog::TableId last = 0;
  int64_t* slot = nullptr;
  for (const auto& r : records) {
    if (!slot || r.table->table_id != last) {
      last = r.table->table_id;
      slot = &pending_rows_[last];
    }
    ++*slot;
  }
}

void JobSystem::SchedulerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, options_.tick, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    RunScheduledWork();
    lock.lock();
  }
}

void JobSystem::RunScheduledWork() {
  const int64_t now = clock_.NowMicros();
  std::vector<std::shared_ptr<const TableDef>> due;
  bool prune = false, evict = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    // A cluster node evicts no STREAM rows yet (their deletions would bypass the log).
    if (!options_.cluster && options_.stream_eviction_interval.count() > 0 &&
        now >= next_eviction_us_) {
      evict = true;
      next_eviction_us_ = now + Micros(options_.stream_eviction_interval);
    }
    for (const auto& def : catalog_.snapshot()->AllTables()) {
      if (!Flushable(*def)) continue;
      const auto& policy = def->options.flush_policy;
      if (!policy.row_limit && !policy.interval_seconds) continue;
      const int64_t pending = pending_rows_[def->table_id];
      if (pending <= 0) continue;
      if (auto r = retry_after_us_.find(def->table_id);
          r != retry_after_us_.end() && now < r->second) {
        continue;
      }
      auto [it, inserted] = last_flush_us_.try_emplace(def->table_id, now);
      const bool by_rows = policy.row_limit && pending >= static_cast<int64_t>(policy.row_limit);
      const bool by_time = policy.interval_seconds &&
                           now - it->second >= static_cast<int64_t>(policy.interval_seconds) * 1000000;
      if (by_rows || by_time) due.push_back(def);
    }
    if (now >= next_prune_us_) {
      prune = true;
      next_prune_us_ = now + Micros(options_.prune_every);
    }
  }
  for (const auto& def : due) {
    // A cluster node flushes only the scopes it leads: a SHARED table whose shard another node
    // leads is that node's to flush (a USER table's scopes spread over every user shard).
    if (options_.cluster && def->type == TableType::kShared &&
        !gate_.Leads(*def, table::Scope()).ok()) {
      continue;
    }
    auto started = FlushTable(def);
    if (started.ok()) continue;
    const std::string message =
        "The scheduled flush (FLUSH_POLICY) of table '" + def->QualifiedName() +
        "' could not start: " + started.status().message();
    spdlog::error("{}", message);
    manager_.RecordFailed("FL", "flush", TableParams(*def), message);
    HoldOffAfterFailure(def->table_id);
  }
  if (evict) StartStreamEvictions();
  DeleteObsolete(false);
  if (prune) {
    Status pruned = manager_.Prune();
    if (!pruned.ok()) spdlog::error("Job retention: {}", pruned.ToString());
  }
  for (const auto& task : scheduled_tasks_) task();
}

void JobSystem::AddScheduledTask(std::function<void()> task) {
  scheduled_tasks_.push_back(std::move(task));
}

void JobSystem::HoldOffAfterFailure(catalog::TableId table) {
  std::lock_guard lock(mu_);
  retry_after_us_[table] = clock_.NowMicros() + Micros(options_.retry_after_failure);
}

void JobSystem::DeleteObsolete(bool all) {
  std::vector<Obsolete> ready;
  const int64_t now = clock_.NowMicros();
  {
    std::lock_guard lock(mu_);
    for (auto it = obsolete_.begin(); it != obsolete_.end();) {
      if (all || it->due_us <= now) {
        ready.push_back(std::move(*it));
        it = obsolete_.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (ready.empty()) return;
  // A running backup may still copy a file its manifests named before the compaction replaced
  // it: keep everything until no backup holds deletes (checked after collecting, so an entry
  // queued after a backup's hold is always seen held).
  if (cold_.DeletesHeld()) {
    std::lock_guard lock(mu_);
    for (auto& o : ready) obsolete_.push_back(std::move(o));
    return;
  }
  // A file a current manifest names is never deleted: after a DROP, a table of the same name
  // (created, or restored by RESTORE NAMESPACE) flushes into the same folder and may reuse a name.
  std::set<std::pair<std::string, std::string>> named;
  for (const auto& sm : cold_.AllManifests()) {
    for (const auto& seg : sm->manifest.segments) {
      named.emplace(sm->storage_id, sm->folder.empty() ? seg.file : sm->folder + "/" + seg.file);
    }
    for (const auto& vix : sm->manifest.vector_indexes) {
      named.emplace(sm->storage_id, sm->folder.empty() ? vix.file : sm->folder + "/" + vix.file);
    }
  }
  std::vector<Obsolete> retry;
  for (auto& o : ready) {
    if (named.count({o.storage_id, o.key})) continue;
    auto store = cold_.StoreFor(o.storage_id);
    Status deleted = store.ok() ? (*store)->Delete(o.key) : store.status();
    if (deleted.ok()) continue;
    // Nothing refers to the file any more, so a failure costs space, not correctness; it is
    // retried a few times, then named in the log for the operator to remove.
    if (all || ++o.attempts >= kObsoleteDeleteAttempts) {
      spdlog::error("Segment file '{}' of storage '{}' was replaced by a compaction but could not "
                    "be deleted; remove it by hand: {}",
                    o.key, o.storage_id, deleted.ToString());
      continue;
    }
    spdlog::warn("Segment file '{}' of storage '{}' could not be deleted (attempt {} of {}): {}",
                 o.key, o.storage_id, o.attempts, kObsoleteDeleteAttempts, deleted.ToString());
    o.due_us = now + Micros(options_.obsolete_grace);
    retry.push_back(std::move(o));
  }
  if (retry.empty()) return;
  std::lock_guard lock(mu_);
  for (auto& o : retry) obsolete_.push_back(std::move(o));
}

Result<std::string> JobSystem::RunFlush(catalog::TableId table, const JobContext& ctx) {
  auto def = catalog_.snapshot()->FindTableById(table);
  if (!def) return std::string("Table was dropped; nothing flushed");
  int64_t counted = 0;
  {
    std::lock_guard lock(mu_);
    counted = pending_rows_[table];
  }
  Result<table::FlushResult> flushed = flusher_.Flush(*def, ctx);
  if (!flushed.ok()) {
    HoldOffAfterFailure(table);
    return flushed.status();
  }
  const table::FlushResult& r = *flushed;
  {
    std::lock_guard lock(mu_);
    pending_rows_[table] = std::max<int64_t>(0, pending_rows_[table] - counted);
    last_flush_us_[table] = clock_.NowMicros();
  }
  std::string out = "Flushed " + std::to_string(r.rows) + " row(s) of table '" +
                    def->QualifiedName() + "' into " + std::to_string(r.scopes) + " segment(s), " +
                    std::to_string(r.bytes) + " bytes";
  if (r.scopes_elsewhere > 0) {
    out += "; " + std::to_string(r.scopes_elsewhere) +
           " scope(s) left to the leaders of their shards";
  }
  return out;
}

Result<std::string> JobSystem::RunCompact(catalog::TableId table, const JobContext& ctx) {
  auto def = catalog_.snapshot()->FindTableById(table);
  if (!def) return std::string("Table was dropped; nothing compacted");
  if (!cold_.HasTable(table)) {
    return "Compaction completed: table '" + def->QualifiedName() + "' has no flushed segments";
  }
  KALAM_ASSIGN_OR_RETURN(table::Flusher::CompactResult r,
                         flusher_.Compact(*def, ctx));
  {
    std::lock_guard lock(mu_);
    const int64_t due = clock_.NowMicros() + Micros(options_.obsolete_grace);
    for (auto& [storage_id, key] : r.obsolete) obsolete_.push_back({due, storage_id, key, 0});
  }
  return "Compaction completed: merged " + std::to_string(r.segments_merged) +
         " segment(s) of table '" +
         def->QualifiedName() + "' into " + std::to_string(r.scopes) + " (" +
         std::to_string(r.rows) + " row(s))" +
         (r.scopes_elsewhere > 0 ? "; " + std::to_string(r.scopes_elsewhere) +
                                       " scope(s) left to the leaders of their shards"
                                 : std::string());
}

void JobSystem::StartStreamEvictions() {
  const int64_t now_ms = clock_.NowMillis();
  for (const auto& def : catalog_.snapshot()->AllTables()) {
    if (def->type != TableType::kStream) continue;
    Result<bool> expired = streams_.HasExpired(*def, now_ms);
    if (expired.ok() && !*expired) continue;  // the pre-check: nothing to do, no job
    const catalog::TableId id = def->table_id;
    bool running = false;
    // A failed pre-check still starts the job: its failure is then recorded in system.jobs.
    auto started = manager_.Submit(
        "SE", "stream_eviction", "stream_eviction:" + std::to_string(id), TableParams(*def),
        [this, id](JobContext&) { return RunStreamEviction(id); }, &running);
    if (!started.ok()) {
      spdlog::error("The stream eviction of table '{}' could not start: {}",
                    def->QualifiedName(), started.status().ToString());
    }
  }
}

Result<std::string> JobSystem::RunStreamEviction(catalog::TableId table) {
  auto def = catalog_.snapshot()->FindTableById(table);
  if (!def) return std::string("Table was dropped; nothing evicted");
  const std::string name = def->namespace_id + ":" + def->table_name;  // the original's ns:t form
  KALAM_ASSIGN_OR_RETURN(table::StreamEviction r,
                         streams_.EvictExpired(*def, clock_.NowMillis(), &gate_));
  if (r.entries == 0) return "No expired rows found in " + name;
  return "Evicted " + std::to_string(r.entries) + " expired rows from " + name + " (ttl: " +
         std::to_string(def->options.ttl_seconds) + "s)";
}

Result<sql::JobStart> JobSystem::FlushTable(std::shared_ptr<const TableDef> def) {
  if (!Flushable(*def)) {
    return Status::InvalidArgument("Table '" + def->QualifiedName() + "' is a " +
                                   std::string(catalog::TableTypeName(def->type)) +
                                   " table; only USER and SHARED tables are flushed");
  }
  // A cluster node: a SHARED table's flush belongs to the shared shard's leader; NOT_LEADER
  // here (nothing started) is forwarded to it by the SQL route. A USER table's flush runs the
  // scopes of the user shards this node leads.
  if (options_.cluster && def->type == TableType::kShared) {
    KALAM_RETURN_IF_ERROR(gate_.Leads(*def, table::Scope()));
  }
  KALAM_RETURN_IF_ERROR(CheckSharedStorage(*def));
  sql::JobStart out;
  if (!flusher_.HasHotRows(def->table_id)) {
    out.kind = sql::JobStart::Kind::kSkipped;
    return out;
  }
  bool running = false;
  const catalog::TableId id = def->table_id;
  KALAM_ASSIGN_OR_RETURN(out.job_id,
                         manager_.Submit("FL", "flush", TableKey(id), TableParams(*def),
                                         [this, id](JobContext& ctx) { return RunFlush(id, ctx); },
                                         &running));
  out.kind = running ? sql::JobStart::Kind::kAlreadyRunning : sql::JobStart::Kind::kStarted;
  return out;
}

Result<sql::JobStart> JobSystem::CompactTable(std::shared_ptr<const TableDef> def) {
  if (!Flushable(*def)) {
    return Status::InvalidArgument("Table '" + def->QualifiedName() + "' is a " +
                                   std::string(catalog::TableTypeName(def->type)) +
                                   " table; only USER and SHARED tables have segments");
  }
  if (options_.cluster && def->type == TableType::kShared) {
    KALAM_RETURN_IF_ERROR(gate_.Leads(*def, table::Scope()));
  }
  KALAM_RETURN_IF_ERROR(CheckSharedStorage(*def));
  // Always a job, as in the original, also when the table has no segments yet: the job then
  // completes at once saying so.
  sql::JobStart out;
  bool running = false;
  const catalog::TableId id = def->table_id;
  KALAM_ASSIGN_OR_RETURN(
      out.job_id, manager_.Submit("CO", "compact", TableKey(id), TableParams(*def),
                                  [this, id](JobContext& ctx) { return RunCompact(id, ctx); },
                                  &running));
  out.kind = running ? sql::JobStart::Kind::kAlreadyRunning : sql::JobStart::Kind::kStarted;
  return out;
}

Result<std::string> JobSystem::BackupDatabase(const std::string& dir) {
  return BackupDatabaseTo({"", dir}, "");
}

namespace {

// "'<dir>'" or "storage '<id>' path '<prefix>'", as backup messages name a location.
std::string DescribeLocation(const sql::BackupLocation& at) {
  if (at.storage_id.empty()) return "'" + at.path + "'";
  return "storage '" + at.storage_id + "' path '" + at.path + "'";
}

// "(812.34 MB). 9 file(s) copied, 44 reused": the original's "(<x.xx> MB)", which clients match,
// then the copy counts.
std::string BackupSummary(const BackupManifest& m) {
  char mb[32];
  std::snprintf(mb, sizeof mb, "%.2f", static_cast<double>(m.total_bytes()) / (1024.0 * 1024.0));
  return "(" + std::string(mb) + " MB). " + std::to_string(m.copied_files()) + " file(s) copied, " +
         std::to_string(m.reused_files()) + " reused";
}

}  // namespace

Result<std::string> JobSystem::BackupDatabaseTo(const sql::BackupLocation& to,
                                                const std::string& incremental_from) {
  KALAM_RETURN_IF_ERROR(RefuseOnCluster("BACKUP DATABASE"));
  if (options_.storages == nullptr) {
    return Status::FailedPrecondition("Backups are not available on this server");
  }
  auto base = std::make_shared<BackupBase>();
  const bool incremental = !incremental_from.empty();
  std::string key;
  std::string recorded_path = to.path;  // system.jobs parameters: the resolved directory
  std::function<Result<BackupManifest>(JobContext&)> run;
  if (to.storage_id.empty()) {
    KALAM_ASSIGN_OR_RETURN(std::string resolved, ResolveBackupDir(to.path, options_.backup_roots));
    recorded_path = resolved;
    std::error_code ec;
    if (std::filesystem::exists(resolved, ec) &&
        !(std::filesystem::is_directory(resolved, ec) && std::filesystem::is_empty(resolved, ec))) {
      return Status::AlreadyExists("Backup directory '" + to.path +
                                   "' is not empty; back up into a new directory");
    }
    if (incremental) {
      KALAM_ASSIGN_OR_RETURN(std::string from,
                             ResolveBackupDir(incremental_from, options_.backup_roots));
      KALAM_ASSIGN_OR_RETURN(*base, LoadBackupBase(from));
    }
    key = "backup:" + resolved;
    run = [this, resolved, base, incremental](JobContext& ctx) {
      BackupSources src{kv_, pipeline_, cold_, *options_.storages, options_.server_version,
                        &catalog_};
      return CreateBackup(src, resolved, clock_.NowMillis(), &ctx, incremental ? base.get() : nullptr);
    };
  } else {
    if (options_.data_dir.empty()) {
      return Status::FailedPrecondition("Backups to a storage are not available on this server");
    }
    KALAM_ASSIGN_OR_RETURN(auto store, cold_.StoreFor(to.storage_id));
    KALAM_ASSIGN_OR_RETURN(bool empty, StorePrefixIsEmpty(*store, to.path));
    if (!empty) {
      return Status::AlreadyExists("Backup location " + DescribeLocation(to) +
                                   " is not empty; back up into a new path");
    }
    if (incremental) {
      KALAM_ASSIGN_OR_RETURN(*base, LoadStoreBackupBase(*store, incremental_from));
    }
    key = "backup:storage:" + to.storage_id + ":" + to.path;
    const std::string staging = options_.data_dir + "/backup_staging/" +
                                std::to_string(clock_.NowMicros()) + "-" +
                                std::to_string(reinterpret_cast<uintptr_t>(base.get()));
    run = [this, store, to, staging, base, incremental](JobContext& ctx) {
      BackupSources src{kv_, pipeline_, cold_, *options_.storages, options_.server_version,
                        &catalog_};
      return CreateBackupInStore(src, *store, to.path, staging, clock_.NowMillis(), &ctx,
                                 incremental ? base.get() : nullptr);
    };
  }
  bool running = false;
  json::object params{{"backup_path", recorded_path}};
  if (!to.storage_id.empty()) params["storage_id"] = to.storage_id;
  if (incremental) params["incremental_from"] = incremental_from;
  const std::string where = DescribeLocation(to);
  KALAM_ASSIGN_OR_RETURN(
      std::string id,
      manager_.Submit("BK", "backup", key, boost::json::serialize(params),
                      [where, run](JobContext& ctx) -> Result<std::string> {
                        auto made = run(ctx);
                        if (!made.ok()) return made.status().WithPrefix("Backup failed: ");
                        spdlog::info("Backup to {} completed at _seq {}: {} file(s), {}; commits "
                                     "were held off for {} ms",
                                     where, made->seq, made->files.size(), BackupSummary(*made),
                                     made->pause_ms);
                        return "Backup completed: " + where + " " + BackupSummary(*made);
                      },
                      &running));
  if (running) return Status::AlreadyExists("A backup into " + where + " is already running: " + id);
  return id;
}

Result<std::string> JobSystem::RestoreDatabaseFrom(const sql::BackupLocation& from) {
  KALAM_RETURN_IF_ERROR(RefuseOnCluster("RESTORE DATABASE"));
  if (from.storage_id.empty()) return RestoreDatabase(from.path);
  if (options_.storages == nullptr || options_.data_dir.empty()) {
    return Status::FailedPrecondition("Restores are not available on this server");
  }
  KALAM_ASSIGN_OR_RETURN(auto store, cold_.StoreFor(from.storage_id));
  // Downloaded and verified before answering, like a directory backup is verified; the job then
  // stages the download like RESTORE DATABASE FROM '<dir>'.
  // One directory per request: a second RESTORE must not delete the download a running one
  // stages from.
  const std::string download = options_.data_dir + "/restore_download-" +
                               std::to_string(clock_.NowMicros()) + ".tmp";
  std::error_code ec;
  std::filesystem::remove_all(download, ec);
  KALAM_RETURN_IF_ERROR(VerifyStoreBackup(*store, from.path, download).status());
  bool running = false;
  const std::string where = DescribeLocation(from);
  json::object params{{"backup_path", from.path}, {"storage_id", from.storage_id}};
  Result<std::string> id =
      manager_.Submit("RS", "restore", "restore", boost::json::serialize(params),
                      [this, where, download](JobContext&) -> Result<std::string> {
                        auto staged = StageRestore(download, options_.data_dir);
                        std::error_code rec;
                        std::filesystem::remove_all(download, rec);
                        if (!staged.ok()) return staged.status().WithPrefix("Restore failed: ");
                        spdlog::warn("Restore of backup {} (_seq {}) staged in "
                                     "'{}/restore_pending'; it replaces all data at the next start",
                                     where, staged->seq, options_.data_dir);
                        return "Restore staged from " + where +
                               ". Restart server to activate restored data.";
                      },
                      &running);
  if (!id.ok() || running) std::filesystem::remove_all(download, ec);
  if (!id.ok()) return id.status();
  if (running) return Status::AlreadyExists("A restore is already running: " + *id);
  return id;
}

Result<std::vector<sql::BackupInfo>> JobSystem::ListBackupsAt(const sql::BackupLocation& at) {
  std::vector<BackupListing> listed;
  if (at.storage_id.empty()) {
    KALAM_ASSIGN_OR_RETURN(std::string resolved,
                           ResolveBackupDir(at.path, options_.backup_roots, /*allow_root=*/true));
    KALAM_ASSIGN_OR_RETURN(listed, jobs::ListBackups(resolved));
  } else {
    KALAM_ASSIGN_OR_RETURN(auto store, cold_.StoreFor(at.storage_id));
    KALAM_ASSIGN_OR_RETURN(listed, ListStoreBackups(*store, at.path));
  }
  std::vector<sql::BackupInfo> out;
  for (const auto& l : listed) {
    sql::BackupInfo b;
    b.path = l.path;
    b.created_at = l.manifest.created_at_ms ? FormatRfc3339(l.manifest.created_at_ms * 1000) : "";
    b.seq = l.manifest.seq;
    b.size_bytes = static_cast<int64_t>(l.manifest.total_bytes());
    b.files = static_cast<int64_t>(l.manifest.files.size());
    b.verified = l.verified;
    b.problem = l.problem;
    b.copied_files = static_cast<int64_t>(l.manifest.copied_files());
    b.reused_files = static_cast<int64_t>(l.manifest.reused_files());
    b.incremental_from = l.manifest.incremental_from;
    b.kind = l.manifest.kind;
    b.ns = l.manifest.namespace_name;
    b.namespaces = l.manifest.namespaces;
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::string> JobSystem::RestoreDatabase(const std::string& dir) {
  KALAM_RETURN_IF_ERROR(RefuseOnCluster("RESTORE DATABASE"));
  if (options_.storages == nullptr || options_.data_dir.empty()) {
    return Status::FailedPrecondition("Restores are not available on this server");
  }
  KALAM_ASSIGN_OR_RETURN(std::string resolved, ResolveBackupDir(dir, options_.backup_roots));
  std::error_code ec;
  if (!std::filesystem::exists(resolved, ec)) {
    return Status::NotFound("Backup directory '" + dir + "' not found");
  }
  if (!std::filesystem::is_directory(resolved, ec)) {
    return Status::InvalidArgument("'" + dir + "' is not a directory. RESTORE DATABASE expects a "
                                   "backup directory, not a file.");
  }
  KALAM_ASSIGN_OR_RETURN(BackupManifest verified, VerifyBackup(resolved));
  if (verified.kind != kBackupKindDatabase) {
    return Status::InvalidArgument("Backup '" + dir + "' is a backup of namespace '" +
                                   verified.namespace_name + "'; use RESTORE NAMESPACE " +
                                   verified.namespace_name + " FROM '" + dir + "'");
  }
  bool running = false;
  const std::string params = boost::json::serialize(json::object{{"backup_path", resolved}});
  KALAM_ASSIGN_OR_RETURN(
      std::string id,
      manager_.Submit("RS", "restore", "restore", params,
                      [this, dir, resolved](JobContext&) -> Result<std::string> {
                        auto staged = StageRestore(resolved, options_.data_dir);
                        if (!staged.ok()) return staged.status().WithPrefix("Restore failed: ");
                        spdlog::warn("Restore of backup '{}' (_seq {}) staged in '{}/restore_pending'; "
                                     "it replaces all data at the next start",
                                     resolved, staged->seq, options_.data_dir);
                        return "Restore staged from '" + dir +
                               "'. Restart server to activate restored data.";
                      },
                      &running));
  if (running) return Status::AlreadyExists("A restore is already running: " + id);
  return id;
}

Result<std::vector<sql::BackupInfo>> JobSystem::ListBackups(const std::string& dir) {
  return ListBackupsAt({"", dir});
}

std::vector<sql::JobInfo> JobSystem::ListJobs() const { return manager_.List(); }

Result<sql::JobStatus> JobSystem::KillJob(std::string_view job_id) { return manager_.Kill(job_id); }

void JobSystem::FlushAllNow() {
  for (const auto& def : catalog_.snapshot()->AllTables()) {
    if (!Flushable(*def) || !flusher_.HasHotRows(def->table_id)) continue;
    const catalog::TableId id = def->table_id;
    const sql::JobInfo job = manager_.RunNow(
        "FL", "flush", TableParams(*def), [this, id](JobContext& ctx) { return RunFlush(id, ctx); });
    // The rows of a flush that did not complete stay in hot storage, durable in RocksDB: nothing
    // is lost, the next start serves them from there.
    if (job.status != sql::JobStatus::kCompleted) {
      spdlog::error("Shutdown flush of table '{}' ({}) {}: {}; its rows stay in hot storage",
                    def->QualifiedName(), job.job_id, sql::JobStatusName(job.status), job.message);
    }
  }
}

}  // namespace kalam::jobs
