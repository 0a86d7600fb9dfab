// JobSystem: the server's job service — flush and compaction jobs on the JobManager, the flush
// scheduler that applies each table's FLUSH_POLICY (rows and/or interval), the eviction of
// expired STREAM rows (stream_eviction jobs, docs/streams.md), deferred deletion of
// segment files replaced by compaction, job retention, and the flush of every table at graceful
// shutdown. Implements sql::JobService for STORAGE FLUSH / COMPACT, system.jobs and KILL JOB.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "commit/commit_pipeline.h"
#include "commit/commit_shards.h"
#include "jobs/job_manager.h"
#include "sql/job_service.h"
#include "table/cold_store.h"
#include "table/flusher.h"
#include "table/stream_store.h"
#include "table/table_store.h"

namespace kalam::jobs {

struct JobSystemOptions {
  JobManagerOptions manager;
  // How often the scheduler checks flush policies (real time; the policies themselves are judged
  // by the injected clock). Default 1 s.
  std::chrono::milliseconds tick{1000};
  // How long segment files replaced by a compaction stay readable before they are deleted
  // (queries that started before the compaction may still read them). Default 60 s.
  std::chrono::seconds obsolete_grace{60};
  // How often finished jobs past their retention are deleted. Default 10 min.
  std::chrono::seconds prune_every{600};
  // A table whose scheduled flush could not start, or failed, is not scheduled again for this
  // long (each failure is a failed record in system.jobs; no flood). Default 60 s.
  std::chrono::seconds retry_after_failure{60};
  // Flusher options (test pause points).
  table::FlusherOptions flusher;
  // How often (injected clock) the scheduler starts a stream_eviction job for each STREAM table
  // with expired rows (config stream.eviction_interval_seconds). 0 = never. Default 60 s.
  std::chrono::seconds stream_eviction_interval{60};
  // Backups (docs/backup.md): the storages whose files are copied (null = BACKUP DATABASE is
  // refused), the directories backups may go to (EffectiveBackupRoots), the version recorded.
  const catalog::StorageCatalog* storages = nullptr;
  std::vector<std::string> backup_roots;
  std::string server_version;
  // The data directory RESTORE DATABASE stages into (<data_dir>/restore_pending).
  std::string data_dir;
  // A cluster node (docs/cluster.md, "Jobs on a cluster node"); unset on a single node.
  struct ClusterNode {
    // The node's shard pipelines: each scope's flush and compaction steps are committed through
    // its shard's group, only on its leader; every pipeline's applied change records count
    // toward FLUSH_POLICY.
    commit::CommitShards shards;
    // The node's own data directory: a flush or compaction into a filesystem storage under it
    // is refused (its files would be seen by this node only).
    std::string node_local_dir;
  };
  std::optional<ClusterNode> cluster;
  // Test only (server env KALAMDB_TEST_RESTORE_PAUSE_MS): RESTORE NAMESPACE pauses this long after
  // writing its data and before publishing the namespace, so a crash test can kill it there.
  std::chrono::milliseconds restore_test_pause{0};
};

// Thread-safe.
class JobSystem : public sql::JobService {
 public:
  JobSystem(storage::KvStore& kv, catalog::Catalog& catalog, table::TableStore& store,
            table::ColdStore& cold, commit::CommitPipeline& pipeline, SnowflakeGenerator& ids,
            const Clock& clock, JobSystemOptions options);
  ~JobSystem() override;

  // Starts the job threads and the scheduler, and subscribes to committed changes (pending-row
  // accounting). Call after the commit pipeline started.
  Status Start();
  // Flushes every USER/SHARED table that has hot rows, on the calling thread, each recorded as a
  // job (graceful shutdown: the commit pipeline must still accept exclusive steps).
  void FlushAllNow();
  // Stops the scheduler and the job threads (running jobs are asked to stop and awaited).
  void Stop();
  // One pass of the scheduler, which runs it every `tick`: starts the flushes whose FLUSH_POLICY
  // is due, starts stream evictions when due, deletes replaced segment files whose grace has
  // passed, and prunes system.jobs when due — all judged by the injected clock, so a test
  // advances a fake clock and calls this.
  // A flush that cannot start is logged and recorded as a failed job.
  void RunScheduledWork();
  // Adds `task` to every scheduler pass: RunScheduledWork runs it after the built-in work, on
  // its thread, so a module above jobs (export retention) needs no thread of its own. The task
  // must not block for long and reports its own failures. Call before Start.
  void AddScheduledTask(std::function<void()> task);

  Result<sql::JobStart> FlushTable(std::shared_ptr<const catalog::TableDef> table) override;
  Result<sql::JobStart> CompactTable(std::shared_ptr<const catalog::TableDef> table) override;
  Result<std::string> BackupDatabase(const std::string& dir) override;
  Result<std::string> RestoreDatabase(const std::string& dir) override;
  Result<std::string> BackupNamespace(const std::string& ns, const std::string& dir) override;
  Result<std::string> RestoreNamespace(const std::string& ns, const std::string& dir,
                                       const std::string& target, bool replace) override;
  Result<std::vector<sql::BackupInfo>> ListBackups(const std::string& dir) override;
  Result<std::string> BackupDatabaseTo(const sql::BackupLocation& to,
                                       const std::string& incremental_from) override;
  Result<std::string> RestoreDatabaseFrom(const sql::BackupLocation& from) override;
  Result<std::vector<sql::BackupInfo>> ListBackupsAt(const sql::BackupLocation& at) override;
  std::vector<sql::JobInfo> ListJobs() const override;
  Result<sql::JobStatus> KillJob(std::string_view job_id) override;

  JobManager& manager() { return manager_; }
  table::Flusher& flusher() { return flusher_; }

 private:
  void OnCommitted(const std::vector<table::ChangeRecord>& records);
  void SchedulerLoop();
  void DeleteObsolete(bool all);
  void HoldOffAfterFailure(catalog::TableId table);
  Result<std::string> RunFlush(catalog::TableId table, const JobContext& ctx);
  Result<std::string> RunCompact(catalog::TableId table, const JobContext& ctx);
  // Starts a stream_eviction job for every STREAM table with expired rows.
  void StartStreamEvictions();
  Result<std::string> RunStreamEviction(catalog::TableId table);

  storage::KvStore& kv_;
  catalog::Catalog& catalog_;
  table::ColdStore& cold_;
  commit::CommitPipeline& pipeline_;
  const Clock& clock_;
  const JobSystemOptions options_;
  JobManager manager_;
  // The commit pipelines as the flusher's writer gate: each scope's step is committed by the
  // pipeline of its shard (CommitPipeline::CommitTiering).
  class PipelineGate : public table::WriterGate {
   public:
    PipelineGate(commit::CommitShards shards, storage::KvStore& kv)
        : shards_(std::move(shards)), kv_(kv) {}
    ReadPoint TakeReadPoint() override;
    Status RunExclusive(const std::function<Status()>& fn) override;
    Status CommitTiering(const catalog::TableDef& def, const table::Scope& scope,
                         const std::function<Status(storage::WriteBatch*)>& stage) override;
    Status Leads(const catalog::TableDef& def, const table::Scope& scope) override;

   private:
    const commit::CommitShards shards_;
    storage::KvStore& kv_;
  };
  PipelineGate gate_;
  // A cluster node: kFailedPrecondition naming `what` as not run on a cluster node yet.
  Status RefuseOnCluster(const std::string& what) const;
  // A cluster node: kFailedPrecondition when `def`'s storage keeps its files in this node's
  // data directory (not shared with the other nodes).
  Status CheckSharedStorage(const catalog::TableDef& def) const;
  table::Flusher flusher_;
  const table::StreamStore streams_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                               // guarded by mu_
  std::map<catalog::TableId, int64_t> pending_rows_;    // guarded by mu_: committed since flush
  std::map<catalog::TableId, int64_t> last_flush_us_;   // guarded by mu_
  std::map<catalog::TableId, int64_t> retry_after_us_;  // guarded by mu_: after a failed flush
  int64_t next_prune_us_ = 0;                            // guarded by mu_
  int64_t next_eviction_us_ = 0;                         // guarded by mu_
  struct Obsolete {
    int64_t due_us = 0;  // injected clock
    std::string storage_id;
    std::string key;
    int attempts = 0;    // deletions that failed so far
  };
  std::vector<Obsolete> obsolete_;  // guarded by mu_
  std::vector<std::function<void()>> scheduled_tasks_;  // set before Start, read-only after
  std::thread scheduler_;
  std::atomic<bool> accounting_{false};
};

}  // namespace kalam::jobs
