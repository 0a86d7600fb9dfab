// CommitPipeline: the single-writer, group-commit path every write goes through
// (ARCHITECTURE.md §3). It orders commits, re-checks them against concurrent ones, stamps `_seq`
// in commit order, writes one atomic batch, acknowledges, then publishes the change records.
//
// The single writer is whichever committing thread holds the leader role (leader/follower group
// commit, as in RocksDB's write thread): a commit arriving while no group is being written leads
// at once; others queue, and the leader of a group writes every commit queued when it started,
// then hands the role to the first commit still queued. One group is written at a time, so the
// order of groups — and of `_seq` — is the order of leadership. No thread is woken for an
// uncontended commit.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "commit/commit_hook.h"
#include "commit/group_writer.h"
#include "common/snowflake.h"
#include "common/status.h"
#include "storage/kv_store.h"
#include "table/change_record.h"
#include "table/cold_store.h"
#include "table/keys.h"
#include "table/stream_store.h"
#include "table/write_set.h"

namespace kalam::commit {

// The `meta` key holding the largest `_seq` written (8 bytes, big-endian), put into every commit
// group's batch; Start advances the `_seq` generator past it.
inline constexpr std::string_view kLastSeqKey = "last_seq";

struct CommitPipelineOptions {
  // fsync the WAL of every group before acknowledging. Default false: acknowledged writes survive
  // a process crash (kill -9); set true to survive power loss too.
  bool sync_writes = false;
  // Most commits taken into one group. Default 1024.
  size_t max_group_commits = 1024;
};

// Receives each durable group's change records in `_seq` order, on the writer thread. Must be
// quick and must not block (hand work to another thread); it must not call Commit.
using ChangeListener = std::function<void(const std::vector<table::ChangeRecord>&)>;

struct CommitStats {
  uint64_t commits = 0;
  uint64_t groups = 0;
  uint64_t rows = 0;
  uint64_t conflicts = 0;
};

// Thread-safe: any number of threads may call Commit concurrently.
class CommitPipeline {
 public:
  CommitPipeline(storage::KvStore& kv, SnowflakeGenerator& seq_gen,
                 CommitPipelineOptions options = {});
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Reads the last persisted `_seq` so new ones are larger, and starts accepting commits.
  Status Start();

  // Commits every staged row of `ws` atomically and waits until it is durable. Returns the `_seq`
  // assigned to each row of ws.InOrder() (0 for rows whose changes cancelled out). Fails, with
  // nothing written, when a row conflicts with a commit ordered before it: kAlreadyExists for an
  // insert of a PK that now exists, kConflict when a row read by the request changed since.
  Result<std::vector<int64_t>> Commit(const table::WriteSet& ws);

  // Runs `change`, a schema change of table `table` (ALTER TABLE), while no commit group is being
  // written: commits arriving meanwhile wait, so the change is ordered exactly among commits.
  // When `change` succeeds it returns the table's new schema version; from then on a commit of a
  // row staged under an older version of that table fails with kConflict (autocommit statements
  // are retried on the new schema), so that what `change` checked against committed rows — no
  // NULLs in a column made NOT NULL, no rows in a table given a NOT NULL column — also holds for
  // every row committed after it. Returns change's status, or kUnavailable after Stop.
  Status RunSchemaChange(table::TableId table, const std::function<Result<uint32_t>()>& change);

  // A consistent read view for live-query snapshots: a KV snapshot and the largest `_seq` it
  // contains, taken between two group writes, so every commit with a larger `_seq` is absent
  // from the snapshot and is published after this call returns (gap-free handover).
  struct ReadPoint {
    std::shared_ptr<const storage::KvSnapshot> snapshot;
    int64_t seq = 0;
  };
  ReadPoint TakeReadPoint();

  // Runs `fn` while no commit group is being written (commits arriving meanwhile wait): how a
  // flush deletes the hot versions it moved to cold storage without racing a concurrent update of
  // the same rows. Returns fn's status, or kUnavailable after Stop.
  Status RunExclusive(const std::function<Status()>& fn);

  // The exclusive step of a flush or compaction (table::WriterGate::CommitTiering): runs `stage`
  // while no commit group is being written, then commits the batch it filled with its staged
  // manifests (ColdStore::ApplyTieringBatch). Without a group writer (a single node) the batch is
  // written here. With one (a cluster node) this node must lead the shard (BeginGroup: else
  // NOT_LEADER, `stage` not run), and the batch is proposed as a commit group without change
  // records; every replica applies it through ApplyGroup, in log order. An empty batch commits
  // nothing. Returns stage's failure (nothing committed) or the write's / proposal's status;
  // kUnavailable after Stop.
  Status CommitTiering(const std::function<Status(storage::WriteBatch*)>& stage);
  // OK when this node may commit a tiering step here: always without a group writer; else the
  // group writer's BeginGroup (NOT_LEADER naming the leader when another node leads the shard).
  Status CheckLeader();

  // Where committed rows that left hot storage live: the re-check of a row whose key has no hot
  // version consults it (an update or delete of a cold-only row, a PK insert over a cold row).
  // Set before Start; may be null.
  void SetColdStore(table::ColdStore* cold) { cold_ = cold; }

  // Whether a (table, scope) has a live subscriber, asked by the writer for each insert into an
  // EPHEMERAL stream (docs/streams.md): without one the row is acknowledged and dropped. Asked
  // while a group is written, so it agrees with read points taken between groups. Set before
  // Start; unset = no subscriber ever.
  void SetStreamSubscriberPredicate(table::StreamSubscriberPredicate has_subscriber) {
    stream_subscriber_ = std::move(has_subscriber);
  }

  void AddListener(ChangeListener listener);

  // Routes every group's write through `writer` instead of writing it to the KvStore here (a
  // cluster node: docs/cluster.md). Unset (the default, the single-node server) keeps the direct
  // write. Set before Start; not owned; must outlive the pipeline's last commit.
  void SetGroupWriter(GroupWriter* writer) { writer_ = writer; }

  // The apply side of a GroupWriter, on every replica: writes `batch` atomically (with
  // sync_writes), advances the read-point watermark and the `_seq` generator past `max_seq`, then
  // publishes `records` to the listeners. Scope manifests the batch stages (a replicated flush or
  // compaction step) are installed in the cold store first (ColdStore::ApplyTieringBatch). Serialised with TakeReadPoint, so read points stay
  // gap-free. Called by the replicated state machine, one group at a time and in log order; not
  // while the caller holds anything the listeners need.
  Status ApplyGroup(const storage::WriteBatch& batch, const std::vector<table::ChangeRecord>& records,
                    int64_t max_seq);

  // Adds `hook`'s writes to every group's batch (see CommitHook). Set before Start; may be null.
  // Not owned; must outlive the pipeline's last commit.
  void SetCommitHook(CommitHook* hook) { hook_ = hook; }

  // Refuses new commits (kUnavailable) and waits until every accepted one is written and
  // published.
  void Stop();

  CommitStats stats() const;

 private:
  struct Pending {
    const table::WriteSet* ws = nullptr;
    bool schema_change = false;  // RunSchemaChange's place in the queue: it leads alone
    std::condition_variable cv;  // signalled when done or made leader; waits on mu_
    bool done = false;           // guarded by mu_
    bool leader = false;         // guarded by mu_
    Result<std::vector<int64_t>> result = Status::Internal("commit not processed");
  };

  // Writes `group` (results into each Pending) and returns its change records.
  std::vector<table::ChangeRecord> ProcessGroup(std::vector<Pending*>& group);
  // Hands the leader role to the first queued commit, or marks the pipeline idle. Requires mu_.
  void PassLeadership();

  storage::KvStore& kv_;
  table::ColdStore* cold_ = nullptr;
  table::StreamSubscriberPredicate stream_subscriber_;  // set before Start, then read-only
  CommitHook* hook_ = nullptr;
  GroupWriter* writer_ = nullptr;  // set before Start, then read-only; null = write here
  SnowflakeGenerator& seq_gen_;
  const CommitPipelineOptions options_;

  std::mutex mu_;
  std::condition_variable idle_cv_;  // signalled when no group is being written
  std::deque<Pending*> queue_;       // guarded by mu_: commits waiting for a leader
  bool leader_active_ = false;       // guarded by mu_
  bool stopping_ = false;            // guarded by mu_
  bool started_ = false;             // guarded by mu_
  // Per altered table, the oldest schema version rows may still be committed under. Read and
  // written only by the current leader (handing over the role orders the accesses).
  std::unordered_map<table::TableId, uint32_t> min_schema_version_;

  std::mutex write_mu_;          // held around each group's write and the watermark update
  int64_t last_written_seq_ = 0;  // guarded by write_mu_: largest `_seq` written

  std::mutex listeners_mu_;
  std::vector<ChangeListener> listeners_;  // guarded by listeners_mu_

  mutable std::mutex stats_mu_;
  CommitStats stats_;  // guarded by stats_mu_
};

// The user-facing text of a PK value in error messages: 42, abc.
std::string PkDisplay(const Value& pk);

}  // namespace kalam::commit
