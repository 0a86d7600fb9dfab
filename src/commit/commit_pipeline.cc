// The commit pipeline's writer.
#include "commit/commit_pipeline.h"

#include <algorithm>
#include <chrono>
#include <unordered_map>

#include "common/metrics.h"
#include "common/value_codec.h"
#include "table/table_store.h"

namespace kalam::commit {

namespace {

metrics::Histogram& CommitLatency() {
  static metrics::Histogram& h = metrics::Registry::Default().GetHistogram(
      "kalamdb_commit_duration_seconds",
      "Time a commit spends in the pipeline: queueing for its group, validation and the write",
      metrics::LatencyBuckets());
  return h;
}

metrics::Histogram& GroupRows() {
  static metrics::Histogram& h = metrics::Registry::Default().GetHistogram(
      "kalamdb_commit_group_rows", "Rows written per commit group", metrics::SizeBuckets());
  return h;
}

// Observes the commit's time in the pipeline when the commit returns, whichever way.
struct CommitTimer {
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  ~CommitTimer() {
    CommitLatency().Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
};

}  // namespace


using storage::Partition;

namespace {

struct KeyState {
  int64_t seq = 0;
  bool live = false;
};
}  // namespace

std::string PkDisplay(const Value& pk) {
  switch (pk.kind()) {
    case Value::Kind::kInt: return std::to_string(pk.as_int());
    case Value::Kind::kText: return pk.as_text();
    default: return pk.DebugString();
  }
}

CommitPipeline::CommitPipeline(storage::KvStore& kv, SnowflakeGenerator& seq_gen,
                               CommitPipelineOptions options)
    : kv_(kv), seq_gen_(seq_gen), options_(options) {}

CommitPipeline::~CommitPipeline() { Stop(); }

Status CommitPipeline::Start() {
  CommitLatency();  // the metrics' series exist (at 0) before the first commit
  GroupRows();
  KALAM_ASSIGN_OR_RETURN(auto last, kv_.Get(Partition::kMeta, kLastSeqKey));
  if (last) {
    std::string_view in = *last;
    uint64_t seq = 0;
    if (!ReadOrderedU64(&in, &seq)) return Status::Corruption("Bad last_seq in meta partition");
    seq_gen_.AdvancePast(static_cast<int64_t>(seq));
    std::lock_guard wl(write_mu_);
    // max: a replicated group applied before Start (ApplyGroup) may already be past it.
    last_written_seq_ = std::max(last_written_seq_, static_cast<int64_t>(seq));
  }
  std::lock_guard lock(mu_);
  started_ = true;
  return Status::OK();
}

void CommitPipeline::Stop() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  idle_cv_.wait(lock, [this] { return !leader_active_ && queue_.empty(); });
}

CommitPipeline::ReadPoint CommitPipeline::TakeReadPoint() {
  std::lock_guard lock(write_mu_);
  return ReadPoint{kv_.GetSnapshot(), last_written_seq_};
}

void CommitPipeline::AddListener(ChangeListener listener) {
  std::lock_guard lock(listeners_mu_);
  listeners_.push_back(std::move(listener));
}

CommitStats CommitPipeline::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

Result<std::vector<int64_t>> CommitPipeline::Commit(const table::WriteSet& ws) {
  if (ws.empty()) return std::vector<int64_t>{};
  CommitTimer timer;
  Pending self;
  self.ws = &ws;
  std::unique_lock lock(mu_);
  if (stopping_ || !started_) return Status::Unavailable("Server is shutting down");
  queue_.push_back(&self);
  if (!leader_active_) {
    leader_active_ = true;
    self.leader = true;
  } else {
    self.cv.wait(lock, [&] { return self.done || self.leader; });
    if (self.done) return std::move(self.result);
  }
  // Leader: write every commit queued so far (this one included) as one group.
  std::vector<Pending*> group;
  while (!queue_.empty() && group.size() < options_.max_group_commits &&
         !queue_.front()->schema_change) {
    group.push_back(queue_.front());
    queue_.pop_front();
  }
  lock.unlock();
  std::vector<table::ChangeRecord> records = ProcessGroup(group);
  lock.lock();
  // Acknowledge the followers first; keep the role until the group is published so that groups
  // are published in the order they were written.
  for (Pending* p : group) {
    p->done = true;
    if (p != &self) p->cv.notify_one();
  }
  lock.unlock();
  if (!records.empty()) {
    std::vector<ChangeListener> listeners;
    {
      std::lock_guard l(listeners_mu_);
      listeners = listeners_;
    }
    for (const auto& l : listeners) l(records);
  }
  lock.lock();
  PassLeadership();
  return std::move(self.result);
}

void CommitPipeline::PassLeadership() {
  if (!queue_.empty()) {
    queue_.front()->leader = true;
    queue_.front()->cv.notify_one();
  } else {
    leader_active_ = false;
    idle_cv_.notify_all();
  }
}

Status CommitPipeline::RunExclusive(const std::function<Status()>& fn) {
  Pending self;
  self.schema_change = true;
  std::unique_lock lock(mu_);
  if (stopping_ || !started_) return Status::Unavailable("Server is shutting down");
  queue_.push_back(&self);
  if (!leader_active_) {
    leader_active_ = true;
    self.leader = true;
  } else {
    self.cv.wait(lock, [&] { return self.leader; });
  }
  queue_.pop_front();  // the leader is always the front of the queue
  lock.unlock();
  Status s = fn();
  lock.lock();
  PassLeadership();
  return s;
}

Status CommitPipeline::CheckLeader() {
  return writer_ == nullptr ? Status::OK() : writer_->BeginGroup();
}

Status CommitPipeline::CommitTiering(const std::function<Status(storage::WriteBatch*)>& stage) {
  return RunExclusive([&]() -> Status {
    if (writer_ == nullptr) {
      storage::WriteBatch batch;
      KALAM_RETURN_IF_ERROR(stage(&batch));
      if (batch.empty()) return Status::OK();
      auto write = [&] { return kv_.Write(batch, {.sync = options_.sync_writes}); };
      return cold_ != nullptr ? cold_->ApplyTieringBatch(batch, write) : write();
    }
    // A cluster node. `stage` decides what to delete from this node's hot rows; each replica
    // applies the batch at the entry's log position, so the decision must hold against the
    // state every replica has there. It does, because that state is this node's state now:
    // - BeginGroup: this node leads the shard and applied every entry committed before its term;
    // - within its term only this pipeline proposes to the shard's group, and it is held here
    //   (RunExclusive): every group it proposed before returned once applied on this node
    //   (GroupWriter::Write) — the invariant the commit re-checks rely on too;
    // - if leadership is lost meanwhile, the entry is never committed (the new leader's log
    //   replaces it) and nothing was written here: the replicas keep their hot rows, and the
    //   segment already written is named by no manifest (flushed again later).
    KALAM_RETURN_IF_ERROR(writer_->BeginGroup());
    storage::WriteBatch batch;
    KALAM_RETURN_IF_ERROR(stage(&batch));
    if (batch.empty()) return Status::OK();
    return writer_->Write(batch, {}, 0);
  });
}

Status CommitPipeline::RunSchemaChange(table::TableId table,
                                       const std::function<Result<uint32_t>()>& change) {
  Pending self;
  self.schema_change = true;
  std::unique_lock lock(mu_);
  if (stopping_ || !started_) return Status::Unavailable("Server is shutting down");
  queue_.push_back(&self);
  if (!leader_active_) {
    leader_active_ = true;
    self.leader = true;
  } else {
    self.cv.wait(lock, [&] { return self.leader; });
  }
  queue_.pop_front();  // the leader is always the front of the queue
  lock.unlock();
  Result<uint32_t> version = change();
  if (version.ok()) {
    uint32_t& min = min_schema_version_[table];
    min = std::max(min, *version);
  }
  lock.lock();
  PassLeadership();
  return version.status();
}

Status CommitPipeline::ApplyGroup(const storage::WriteBatch& batch,
                                  const std::vector<table::ChangeRecord>& records,
                                  int64_t max_seq) {
  auto write = [&]() -> Status {
    std::lock_guard lock(write_mu_);
    KALAM_RETURN_IF_ERROR(kv_.Write(batch, {.sync = options_.sync_writes}));
    last_written_seq_ = std::max(last_written_seq_, max_seq);
    return Status::OK();
  };
  // A flush or compaction step proposed by the leader (replication::TieringGate) stages scope
  // manifests: every replica makes them visible with the batch, so all read the same segments.
  if (cold_ != nullptr) {
    KALAM_RETURN_IF_ERROR(cold_->ApplyTieringBatch(batch, write));
  } else {
    KALAM_RETURN_IF_ERROR(write());
  }
  // A later leader on this node stamps larger `_seq`s than any group applied here.
  seq_gen_.AdvancePast(max_seq);
  if (!records.empty()) {
    std::vector<ChangeListener> listeners;
    {
      std::lock_guard l(listeners_mu_);
      listeners = listeners_;
    }
    for (const auto& l : listeners) l(records);
  }
  return Status::OK();
}

std::vector<table::ChangeRecord> CommitPipeline::ProcessGroup(std::vector<Pending*>& group) {
  if (writer_ != nullptr) {
    Status ready = writer_->BeginGroup();
    if (!ready.ok()) {
      for (Pending* p : group) p->result = Result<std::vector<int64_t>>(ready);
      std::lock_guard lock(stats_mu_);
      stats_.commits += group.size();
      stats_.groups += 1;
      return {};
    }
  }
  storage::WriteBatch batch;
  std::unordered_map<std::string, KeyState> touched;  // keys written earlier in this group
  std::vector<table::ChangeRecord> records;
  std::vector<std::optional<Result<std::vector<int64_t>>>> outcomes(group.size());
  std::vector<size_t> accepted;
  int64_t max_seq = 0;
  uint64_t rows = 0, conflicts = 0;
  // STREAM rows are re-checked and written by their own writer (docs/streams.md).
  table::StreamGroupWriter streams(kv_, &stream_subscriber_);
  auto is_stream = [](const table::StagedRow& row) {
    return row.table->type == catalog::TableType::kStream;
  };

  for (size_t g = 0; g < group.size(); ++g) {
    auto rows_in_order = group[g]->ws->InOrder();
    // 1. Re-check every row against what is committed or committed earlier in this group.
    Status check;
    for (const table::StagedRow* row : rows_in_order) {
      if (!row->kind()) continue;
      if (auto min = min_schema_version_.find(row->table->table_id);
          min != min_schema_version_.end() && row->table->schema_version < min->second) {
        check = Status::Conflict("Table '" + row->table->QualifiedName() +
                                 "' was altered (now schema version " +
                                 std::to_string(min->second) + ") after this transaction wrote "
                                 "to it under version " +
                                 std::to_string(row->table->schema_version) + "; retry");
        break;
      }
      if (is_stream(*row)) {
        check = streams.Check(*row);
        if (!check.ok()) break;
        continue;
      }
      KeyState current;
      if (auto it = touched.find(row->pk_key); it != touched.end()) {
        current = it->second;
      } else {
        auto entry = kv_.Get(Partition::kPk, row->pk_key);
        if (!entry.ok()) {
          check = entry.status();
          break;
        }
        if (*entry) {
          std::string_view bytes;
          if (!table::SplitPkEntry(**entry, &current.seq, &bytes)) {
            check = Status::Corruption("Truncated pk entry");
            break;
          }
          current.live = !table::IsDeletedVersion(bytes);
        } else if (cold_ && cold_->HasTable(row->table->table_id)) {
          auto cold = cold_->Find(*row->table, row->scope, row->pk_key);
          if (!cold.ok()) {
            check = cold.status();
            break;
          }
          if (*cold) {
            current.seq = (*cold)->seq;
            current.live = !(*cold)->deleted;
          }
        }
      }
      if (current.seq != row->base_seq) {
        if (!row->base_live && current.live) {
          check = Status::AlreadyExists("Primary key violation: value '" + PkDisplay(row->pk) +
                                        "' already exists in column '" +
                                        row->table->pk_column().name + "'");
        } else {
          check = Status::Conflict("Row with primary key '" + PkDisplay(row->pk) + "' in table '" +
                                   row->table->QualifiedName() +
                                   "' was changed by a concurrent transaction; retry");
        }
        break;
      }
    }
    if (!check.ok()) {
      outcomes[g] = Result<std::vector<int64_t>>(check);
      ++conflicts;
      continue;
    }
    // 2. Stamp `_seq` in commit order and stage the writes.
    std::vector<int64_t> seqs;
    seqs.reserve(rows_in_order.size());
    for (const table::StagedRow* row : rows_in_order) {
      auto kind = row->kind();
      if (!kind) {
        seqs.push_back(0);
        continue;
      }
      int64_t seq = seq_gen_.Next();
      max_seq = seq;
      seqs.push_back(seq);
      if (!is_stream(*row)) {
        table::TableStore::AppendCommit(*row, seq, &batch);
        touched[row->pk_key] = KeyState{seq, row->live};
      } else if (!streams.Append(*row, seq, &batch)) {
        continue;  // an EPHEMERAL insert nobody subscribes to: acknowledged, not stored
      }
      table::ChangeRecord rec;
      rec.table = row->table;
      rec.scope = row->scope;
      rec.kind = *kind;
      rec.seq = seq;
      rec.previous_seq = row->base_seq;
      rec.values = row->live ? row->values : row->base_values;
      if (*kind == table::ChangeKind::kUpdate) rec.old_values = row->base_values;
      records.push_back(std::move(rec));
      ++rows;
    }
    outcomes[g] = Result<std::vector<int64_t>>(std::move(seqs));
    accepted.push_back(g);
  }

  // 3. The hook's writes (topic messages) join the group's batch; if it fails, the group fails.
  Status written;
  bool hooked = hook_ != nullptr && !records.empty();
  if (hooked) {
    written = hook_->OnStamped(records, &batch);
    if (!written.ok()) {
      batch.Clear();
      hooked = false;  // OnWritten is only for groups the hook accepted
    }
  }
  // 4. One atomic, durable write for the whole group.
  if (written.ok() && !batch.empty()) {
    std::string last;
    AppendOrderedU64(static_cast<uint64_t>(max_seq), &last);
    batch.Put(Partition::kMeta, kLastSeqKey, last);
    if (writer_ == nullptr) {
      std::lock_guard lock(write_mu_);
      written = kv_.Write(batch, {.sync = options_.sync_writes});
      if (written.ok()) last_written_seq_ = max_seq;
    } else {
      // Written, watermarked and published by ApplyGroup when the group is applied here.
      written = writer_->Write(batch, std::move(records), max_seq);
      records.clear();
    }
  }
  if (hooked) hook_->OnWritten(written);
  if (!written.ok()) {
    for (size_t g : accepted) outcomes[g] = Result<std::vector<int64_t>>(written);
    records.clear();
  }
  if (written.ok() && rows > 0) GroupRows().Observe(static_cast<double>(rows));
  {
    std::lock_guard lock(stats_mu_);
    stats_.commits += group.size();
    stats_.groups += 1;
    stats_.rows += written.ok() ? rows : 0;
    stats_.conflicts += conflicts;
  }
  for (size_t g = 0; g < group.size(); ++g) group[g]->result = std::move(*outcomes[g]);
  return records;
}

}  // namespace kalam::commit
