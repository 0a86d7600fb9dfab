// Flusher: moves a table's hot rows into Parquet segments (flush) and merges a scope's segments
// (compaction) — ARCHITECTURE.md §6. Run by flush and compaction jobs (jobs/), which supply the
// writer gate (the commit pipeline) and the job context.
//
// Flush of one table, per scope: take a read point; write the scope's newest versions (tombstones
// included) as one segment, durably; write the scope's manifest.json; then, in short exclusive
// steps with the writer held off (WriterGate::CommitTiering), make the new manifest visible and
// delete exactly the flushed hot versions (a pk entry only while it still holds the flushed `_seq`). A crash at any point leaves
// every row in hot storage, in cold storage, or in both (reads merge by key): nothing is lost or
// doubled.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "storage/kv_store.h"
#include "table/cold_store.h"
#include "table/table_store.h"

namespace kalam::table {

// What a flush or compaction needs from the writer of hot storage (commit/, above this module;
// jobs/ supplies it from the commit pipeline). Thread-safe.
class WriterGate {
 public:
  struct ReadPoint {
    std::shared_ptr<const storage::KvSnapshot> snapshot;
    int64_t seq = 0;  // the last `_seq` written into `snapshot`
  };
  virtual ~WriterGate() = default;
  // A consistent snapshot of hot storage and the last `_seq` it holds.
  virtual ReadPoint TakeReadPoint() = 0;
  // Runs `fn` while no commit is being written (commits arriving meanwhile wait). Returns fn's
  // status, or kUnavailable once the writer stopped.
  virtual Status RunExclusive(const std::function<Status()>& fn) = 0;
  // The exclusive step of a flush or compaction of `scope` of `def`: runs `stage` while no commit
  // of the scope's rows is being written; `stage` fills a batch (a staged manifest —
  // ColdStore::StageManifest —, hot deletions, purges), decided against the hot rows as they are
  // then. The gate then commits it: the manifest made visible and the batch written, through
  // ColdStore::ApplyTieringBatch. A single node writes it here (jobs::JobSystem); a cluster node
  // proposes it through the scope's data group, and every replica applies it in log order
  // (replication::TieringGate). An empty batch commits nothing. Returns stage's failure (nothing
  // committed), or the commit's status.
  virtual Status CommitTiering(const catalog::TableDef& def, const Scope& scope,
                               const std::function<Status(storage::WriteBatch*)>& stage) = 0;
  // OK when this node may flush or compact `scope` of `def`: always on a single node; on a
  // cluster node when it leads the scope's data group, else kUnavailable "Not leader for shard.
  // Leader: <addr>" (NOT_LEADER) and the flush leaves the scope to that leader.
  virtual Status Leads(const catalog::TableDef& /*def*/, const Scope& /*scope*/) {
    return Status::OK();
  }
};

// Whoever runs a flush or compaction (a job): asked whether to stop, told each step. Thread-safe.
class TieringContext {
 public:
  virtual ~TieringContext() = default;
  // True once the run should stop; checked between steps, stopping leaves everything consistent.
  virtual bool cancelled() const = 0;
  // Shows `step` as the run's current step.
  virtual void ReportProgress(std::string step) const = 0;
};

struct FlushResult {
  int64_t rows = 0;      // rows written to segments (tombstones included)
  int64_t scopes = 0;    // segments written
  int64_t bytes = 0;     // bytes written
  int64_t scopes_elsewhere = 0;  // cluster: scopes left to their group's leader (WriterGate::Leads)
};

struct FlusherOptions {
  // Test only (server env KALAMDB_TEST_FLUSH_PAUSE_MS; never set in production). When > 0, a
  // flush pauses this long at two points of every scope: after the segment and manifest.json
  // are written but before the manifest becomes visible, and after each hot-deletion chunk
  // except the last. Crash tests kill the server there. Default 0: never pauses.
  std::chrono::milliseconds test_pause{0};
  // Called by compaction inside the exclusive step that installs a scope's merged manifest, with
  // the rows of the tombstones it drops (purges), in the table's column order: it may add writes
  // to `batch` (files::FileService releases their FILE attachments). A failure abandons the
  // scope's step (nothing written). Default: none.
  std::function<Status(const catalog::TableDef&, const std::vector<std::vector<Value>>&,
                       storage::WriteBatch*)>
      on_purge;
  // Called after a batch on_purge added to was written. Default: none.
  std::function<void()> after_purge;
  // A cluster node: a number no other node draws (the node's Snowflake generator). Each new
  // segment's number is at least one drawn from it, so a deposed leader still flushing never
  // writes a file name its successor committed (both saw the same next_segment_id). Default
  // none: segments are numbered 1, 2, … (the original's batch-<n>.parquet).
  std::function<int64_t()> unique_file_id;
  // Vector index snapshots (vector::VectorIndexes::SnapshotScope, docs/vectors.md): called by a
  // flush and a compaction of a scope after its segment is written and before its manifest is,
  // with the scope's object store and folder, a number no earlier file of the scope used
  // (`file_id`), whether to rebuild the indexes from the rows first (compaction) and the
  // manifest's current entries. It writes a snapshot of each vector index of the scope into the
  // store and returns the manifest's new entries (keeping a current one whose index could not be
  // written). Once a flush's manifest is committed, every snapshot file of the scope's folder
  // it does not name is deleted (compaction: the replaced ones, with the merged segments).
  // Default: none (the manifest's entries are kept as they are).
  std::function<std::vector<VectorIndexEntry>(
      const catalog::TableDef& def, const Scope& scope, bool rebuild,
      filestore::ObjectStore& store, const std::string& folder, int64_t file_id,
      const std::vector<VectorIndexEntry>& current)>
      snapshot_vectors;
};

// Thread-safe: flushes of different tables may run concurrently; the job system runs at most
// one flush or compaction per table at a time.
class Flusher {
 public:
  Flusher(storage::KvStore& kv, TableStore& store, ColdStore& cold,
          WriterGate& writer, const Clock& clock, FlusherOptions options = {});

  // True when `table` has rows in hot storage (anything to flush).
  bool HasHotRows(catalog::TableId table) const;
  // Number of row keys of `table` in hot storage (scheduler start-up accounting).
  int64_t CountHotRows(catalog::TableId table) const;

  // Flushes every scope of `def` (the latest schema version). Stops early, consistently, between
  // scopes once `job` is cancelled. Reports each scope's steps through job.ReportProgress:
  // "Scope '<scope>': segment <file> written (<n> rows); publishing its manifest" and
  // "Scope '<scope>': flushed hot rows deleted, chunk <i> of <n>".
  Result<FlushResult> Flush(const catalog::TableDef& def, const TieringContext& job);

  // Merges each scope's segments into one (newest version per key; tombstones older than the
  // table's DELETED_RETENTION_HOURS dropped). Returns the files replaced; they are deleted after
  // `grace` (readers may still hold the old manifest) by the caller's scheduler.
  struct CompactResult {
    int64_t scopes = 0;
    int64_t segments_merged = 0;
    int64_t rows = 0;
    int64_t scopes_elsewhere = 0;  // cluster: scopes left to their group's leader
    std::vector<std::pair<std::string, std::string>> obsolete;  // (storage id, object key)
  };
  Result<CompactResult> Compact(const catalog::TableDef& def, const TieringContext& job);

 private:
  Status FlushScope(const catalog::TableDef& def, const Scope& scope, std::vector<ColdRow> rows,
                    const TieringContext& job, FlushResult* result);
  // Reports `step`, then (test pause only) waits options_.test_pause or until cancelled.
  void Step(const TieringContext& job, std::string step) const;

  storage::KvStore& kv_;
  TableStore& store_;
  ColdStore& cold_;
  WriterGate& writer_;
  const Clock& clock_;
  const FlusherOptions options_;
};

// "batch-1.parquet" (the original server's name for a segment: batch-<number>.parquet).
std::string SegmentFileName(int64_t id);

}  // namespace kalam::table
