// ShardStateMachine: applying commit groups to the local store.
#include "replication/shard_state_machine.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include <spdlog/spdlog.h>

#include "common/value_codec.h"
#include "filestore/sha256.h"

namespace kalam::replication {

std::string AppliedIndexKey(std::string_view group_name) {
  return "raft_applied/" + std::string(group_name);
}

ShardStateMachine::ShardStateMachine(std::string group_name, storage::KvStore& kv,
                                     commit::CommitPipeline& pipeline, TableResolver resolve)
    : group_(std::move(group_name)),
      key_(AppliedIndexKey(group_)),
      kv_(kv),
      pipeline_(pipeline),
      resolve_(std::move(resolve)) {}

void ShardStateMachine::EnableSnapshots(ShardSnapshotOptions options) {
  snap_ = std::move(options);
  if (!snap_.owns) snap_.owns = EveryDataKey;
  snap_.keep = std::max<size_t>(1, snap_.keep);
  snapshots_enabled_ = true;
}

Result<uint64_t> ReadAppliedIndex(storage::KvStore& kv, std::string_view group_name) {
  const std::string key = AppliedIndexKey(group_name);
  KALAM_ASSIGN_OR_RETURN(auto stored, kv.Get(storage::Partition::kMeta, key));
  if (!stored) return uint64_t{0};
  std::string_view in = *stored;
  uint64_t index = 0;
  if (!ReadOrderedU64(&in, &index) || !in.empty()) {
    return Status::Corruption("Bad applied index in meta key '" + key + "'");
  }
  return index;
}

Status ShardStateMachine::Open() {
  KALAM_ASSIGN_OR_RETURN(uint64_t index, ReadAppliedIndex(kv_, group_));
  applied_.store(index);
  return Status::OK();
}

Status ShardStateMachine::Apply(cluster::LogIndex index, const cluster::LogEntry& entry) {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  if (index != 0 && index <= applied_.load()) {
    skipped_.fetch_add(1);
    return Status::OK();
  }
  if (entry.kind != cluster::EntryKind::kCommitGroup) {
    return Status::Corruption("Raft entry " + std::to_string(index) +
                              " of a shard group is not a commit group");
  }
  const bool holding = !held_.empty();
  if (!holding) {
    KALAM_ASSIGN_OR_RETURN(bool applied, ApplyPayload(index, entry.payload));
    if (applied) return Status::OK();
  }
  // Held: this entry (or one before it) names a table version the catalog does not know yet.
  if (held_.size() >= max_held_entries_ ||
      held_bytes_ + entry.payload.size() > max_held_bytes_) {
    Fail(Status::ResourceExhausted(
        "Group '" + group_ + "' holds " + std::to_string(held_.size()) + " entries (" +
        std::to_string(held_bytes_) + " bytes, from Raft index " +
        std::to_string(held_.empty() ? index : held_.front().index) +
        ") waiting for tables this node's catalog does not know; the limit is " +
        std::to_string(max_held_entries_) + " entries / " + std::to_string(max_held_bytes_) +
        " bytes. Restart the node: it replays them against the catalog it loads"));
    return *failure_;
  }
  held_.push_back(Held{index, entry.payload});
  held_bytes_ += entry.payload.size();
  held_count_.store(held_.size());
  // Behind earlier held entries: the catalog may have caught up since the last try.
  if (holding) return DrainHeld();
  return Status::OK();
}

Result<bool> ShardStateMachine::ApplyPayload(cluster::LogIndex index, std::string_view payload) {
  auto decoded = DecodeCommitGroup(payload, resolve_);
  if (!decoded.ok()) {
    if (decoded.status().code() != StatusCode::kUnavailable) return decoded.status();
    if (held_.empty() || held_.front().index != index || !hold_logged_) {
      spdlog::warn("Group {} holds Raft entry {} (and the group's later entries) until this "
                   "node's catalog knows its tables: {}", group_, index,
                   decoded.status().message());
      hold_logged_ = true;
    }
    return false;
  }
  CommitGroup group = std::move(decoded).value();
  if (!group.skipped_tables.empty()) {
    std::string ids;
    for (catalog::TableId id : group.skipped_tables) {
      ids += (ids.empty() ? "" : ", ") + std::to_string(id);
    }
    spdlog::warn("Group {} Raft entry {} names dropped table(s) {}: their rows and change "
                 "records are left out, the rest of the entry is applied", group_, index, ids);
    dropped_tables_.fetch_add(1);
  }
  std::string stored;
  AppendOrderedU64(index, &stored);
  group.batch.Put(storage::Partition::kMeta, key_, stored);
  KALAM_RETURN_IF_ERROR(pipeline_.ApplyGroup(group.batch, group.records, group.max_seq));
  applied_.store(index);
  return true;
}

Status ShardStateMachine::DrainHeld() {
  size_t applied = 0;
  while (!held_.empty()) {
    auto result = ApplyPayload(held_.front().index, held_.front().payload);
    if (!result.ok()) {
      Fail(result.status());
      return *failure_;
    }
    if (!*result) break;
    held_bytes_ -= held_.front().payload.size();
    held_.pop_front();
    ++applied;
  }
  held_count_.store(held_.size());
  if (applied != 0) {
    hold_logged_ = false;
    spdlog::info("Group {} applied {} held entries; {} still held", group_, applied, held_.size());
  }
  return Status::OK();
}

Status ShardStateMachine::RetryHeld() {
  std::lock_guard lock(mu_);
  if (failure_) return *failure_;
  return DrainHeld();
}

void ShardStateMachine::Fail(Status status) {
  failure_ = std::move(status);
  failed_.store(true);
}

void ShardStateMachine::SetHoldLimits(size_t max_entries, size_t max_bytes) {
  std::lock_guard lock(mu_);
  max_held_entries_ = max_entries;
  max_held_bytes_ = max_bytes;
}

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kKeyFileName = "keys.kv";

// fsyncs a directory so a rename inside it survives a crash of the machine.
Status SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Status::IoError("Cannot open the directory '" + dir.string() + "'");
  const int rv = ::fsync(fd);
  ::close(fd);
  if (rv != 0) return Status::IoError("Cannot sync the directory '" + dir.string() + "'");
  return Status::OK();
}

// The node's `last_seq` (commit::kLastSeqKey) as of `view`; 0 when absent.
Result<int64_t> StoredLastSeq(storage::KvStore& kv, const storage::KvSnapshot* view) {
  KALAM_ASSIGN_OR_RETURN(auto stored, kv.Get(storage::Partition::kMeta, commit::kLastSeqKey, view));
  if (!stored) return int64_t{0};
  std::string_view in = *stored;
  uint64_t seq = 0;
  if (!ReadOrderedU64(&in, &seq)) return Status::Corruption("Bad last_seq in meta partition");
  return static_cast<int64_t>(seq);
}

// The snapshot index a directory under "<root>/<group>" names; nullopt for anything else.
std::optional<uint64_t> IndexOfDir(const fs::path& dir) {
  const std::string name = dir.filename().string();
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const bool digits =
      !name.empty() && name.size() <= 19 && std::all_of(name.begin(), name.end(), is_digit);
  if (!digits) return std::nullopt;
  return std::stoull(name);
}

}  // namespace

Result<std::string> ShardStateMachine::Snapshot() {
  std::lock_guard lock(mu_);
  if (!snapshots_enabled_) {
    return Status::FailedPrecondition(
        "Snapshots are not enabled for group '" + group_ + "'; the Raft log is kept whole");
  }
  if (!held_.empty()) {
    return Status::Unavailable("Group '" + group_ + "' holds " + std::to_string(held_.size()) +
                               " entries (from Raft index " +
                               std::to_string(held_.front().index) +
                               ") waiting for this node's catalog: no snapshot until they apply");
  }
  const cluster::LogIndex index = applied_.load();
  const fs::path group_dir = fs::path(snap_.dir) / group_;
  const std::string relative =
      group_ + "/" + std::to_string(index) + "/" + std::string(kKeyFileName);
  // Raft entries without data (barriers) move libraft's index but not ours: the files written
  // for this applied index still hold the state.
  if (last_.applied_index == index && !last_.files.empty() &&
      fs::exists(fs::path(snap_.dir) / relative)) {
    return EncodeSnapshotDescriptor(last_);
  }
  // The state as of `index`: Apply runs on this thread too, so nothing is written meanwhile.
  auto view = kv_.GetSnapshot();
  const fs::path final_dir = group_dir / std::to_string(index);
  const fs::path tmp_dir = group_dir / (std::to_string(index) + ".tmp");
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  fs::create_directories(tmp_dir, ec);
  if (ec) {
    return Status::IoError("Cannot create the snapshot directory '" + tmp_dir.string() +
                           "': " + ec.message());
  }
  const std::string tmp_file = (tmp_dir / kKeyFileName).string();
  KALAM_ASSIGN_OR_RETURN(KeyFileStats stats,
                         WriteKeyFile(kv_, view.get(), snap_.owns, tmp_file));
  // The node's `last_seq` counts too: rows flushed to cold storage may have held the largest.
  KALAM_ASSIGN_OR_RETURN(int64_t last_seq, StoredLastSeq(kv_, view.get()));
  KALAM_ASSIGN_OR_RETURN(filestore::FileDigest digest, filestore::Sha256OfFile(tmp_file));
  fs::remove_all(final_dir, ec);
  fs::rename(tmp_dir, final_dir, ec);
  if (ec) {
    return Status::IoError("Cannot move the snapshot to '" + final_dir.string() + "': " +
                           ec.message());
  }
  KALAM_RETURN_IF_ERROR(SyncDir(group_dir));
  SnapshotDescriptor d;
  d.group = group_;
  d.applied_index = index;
  d.source = snap_.node;
  d.max_seq = std::max(stats.max_seq, last_seq);
  d.files.push_back(SnapshotFile{relative, digest.size_bytes, digest.sha256});
  last_ = d;
  taken_.fetch_add(1);
  PruneSnapshots();
  return EncodeSnapshotDescriptor(d);
}

void ShardStateMachine::PruneSnapshots() {
  const fs::path group_dir = fs::path(snap_.dir) / group_;
  std::error_code ec;
  std::vector<uint64_t> indexes;
  std::vector<fs::path> stale;  // "<index>.tmp" left by a crash while writing
  for (const auto& entry : fs::directory_iterator(group_dir, ec)) {
    if (!entry.is_directory()) continue;
    if (auto index = IndexOfDir(entry.path())) {
      indexes.push_back(*index);
    } else if (entry.path().extension() == ".tmp") {
      stale.push_back(entry.path());
    }
  }
  if (ec) return;  // pruning is best effort; retried after the next snapshot
  for (const auto& dir : stale) fs::remove_all(dir, ec);  // best effort too
  if (indexes.size() <= snap_.keep) return;
  std::sort(indexes.begin(), indexes.end());
  for (size_t i = 0; i + snap_.keep < indexes.size(); ++i) {
    // Best effort too: a directory left behind is deleted by a later snapshot.
    fs::remove_all(group_dir / std::to_string(indexes[i]), ec);
  }
}

Status ShardStateMachine::FetchAndVerify(const SnapshotDescriptor& d) {
  const std::string prefix = group_ + "/" + std::to_string(d.applied_index) + "/";
  for (const SnapshotFile& f : d.files) {
    if (!f.path.starts_with(prefix) || f.path.find("..") != std::string::npos ||
        f.path.size() == prefix.size()) {
      return Status::Corruption("Snapshot file '" + f.path + "' is not a file of group '" +
                                group_ + "' at index " + std::to_string(d.applied_index));
    }
    const fs::path target = fs::path(snap_.dir) / f.path;
    std::error_code ec;
    if (fs::exists(target, ec)) {
      auto have = filestore::Sha256OfFile(target.string());
      if (have.ok() && have->size_bytes == f.size_bytes && have->sha256 == f.sha256) continue;
    }
    if (snap_.fetcher == nullptr) {
      return Status::NotFound("Snapshot file '" + f.path + "' of node " +
                              std::to_string(d.source) + " is not here and no fetcher is set");
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      return Status::IoError("Cannot create the snapshot directory '" +
                             target.parent_path().string() + "': " + ec.message());
    }
    const std::string part = target.string() + ".part";
    fs::remove(part, ec);
    Status fetched = snap_.fetcher->Fetch(d.source, f.path, part);
    if (!fetched.ok()) {
      fs::remove(part, ec);
      return fetched;
    }
    auto got = filestore::Sha256OfFile(part);
    if (!got.ok() || got->size_bytes != f.size_bytes || got->sha256 != f.sha256) {
      fs::remove(part, ec);
      if (!got.ok()) return got.status();
      return Status::Corruption(
          "Snapshot file '" + f.path + "' from node " + std::to_string(d.source) +
          " does not match its descriptor (" + std::to_string(got->size_bytes) +
          " bytes, SHA-256 " + got->sha256 + "; expected " + std::to_string(f.size_bytes) +
          " bytes, SHA-256 " + f.sha256 + "); group '" + group_ +
          "' keeps its state at index " + std::to_string(applied_.load()));
    }
    fs::rename(part, target, ec);
    if (ec) {
      return Status::IoError("Cannot move the snapshot file to '" + target.string() + "': " +
                             ec.message());
    }
  }
  return Status::OK();
}

Status ShardStateMachine::Restore(std::string_view snapshot) {
  std::lock_guard lock(mu_);
  if (!snapshots_enabled_) {
    return Status::FailedPrecondition("Snapshots are not enabled for group '" + group_ +
                                      "'; this replica cannot install one");
  }
  KALAM_ASSIGN_OR_RETURN(SnapshotDescriptor d, DecodeSnapshotDescriptor(snapshot));
  if (d.group != group_) {
    return Status::Corruption("A snapshot of group '" + d.group + "' was offered to group '" +
                              group_ + "'");
  }
  if (d.applied_index <= applied_.load()) {
    skipped_.fetch_add(1);
    return Status::OK();
  }
  KALAM_RETURN_IF_ERROR(FetchAndVerify(d));

  // One batch: the group's current keys deleted, the snapshot's written, the applied index set.
  // RocksDB applies a batch atomically, also across a crash, so a restore is all or nothing.
  storage::WriteBatch batch;
  for (storage::Partition p : kGroupPartitions) {
    auto it = kv_.NewIterator(p);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (snap_.owns(p, it->key())) batch.Delete(p, it->key());
    }
    KALAM_RETURN_IF_ERROR(it->status());
  }
  uint64_t foreign = 0;
  for (const SnapshotFile& f : d.files) {
    KALAM_RETURN_IF_ERROR(ReadKeyFile(
        (fs::path(snap_.dir) / f.path).string(),
        [&](storage::Partition p, std::string_view key, std::string_view value) {
          if (!snap_.owns(p, key)) {
            ++foreign;
            return;
          }
          batch.Put(p, key, value);
        }));
  }
  if (foreign != 0) {
    return Status::Corruption("The snapshot of group '" + group_ + "' at index " +
                              std::to_string(d.applied_index) + " holds " +
                              std::to_string(foreign) + " keys of other groups");
  }
  std::string stored;
  AppendOrderedU64(d.applied_index, &stored);
  batch.Put(storage::Partition::kMeta, key_, stored);
  // `last_seq` is the node's, not the group's: it only moves up, so a restart's `_seq` generator
  // starts past the restored rows (as after an applied commit group, which writes it too).
  KALAM_ASSIGN_OR_RETURN(int64_t last_seq, StoredLastSeq(kv_, nullptr));
  if (d.max_seq > last_seq) {
    std::string seq;
    AppendOrderedU64(static_cast<uint64_t>(d.max_seq), &seq);
    batch.Put(storage::Partition::kMeta, commit::kLastSeqKey, seq);
  }
  KALAM_RETURN_IF_ERROR(pipeline_.ApplyGroup(batch, {}, d.max_seq));
  applied_.store(d.applied_index);
  restored_.fetch_add(1);
  // The snapshot holds the effect of every entry up to its index; a replica rebuilt from it
  // starts clean.
  while (!held_.empty() && held_.front().index <= d.applied_index) {
    held_bytes_ -= held_.front().payload.size();
    held_.pop_front();
  }
  held_count_.store(held_.size());
  failure_.reset();
  failed_.store(false);
  // The verified files are now this node's own copy: it serves them as a snapshot it took.
  last_ = d;
  last_.source = snap_.node;
  PruneSnapshots();
  if (snap_.on_restored) snap_.on_restored(d.applied_index);
  return Status::OK();
}

}  // namespace kalam::replication
