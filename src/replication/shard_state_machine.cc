// ShardStateMachine: applying commit groups to the local store.
#include "replication/shard_state_machine.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

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

Status ShardStateMachine::Open() {
  KALAM_ASSIGN_OR_RETURN(auto stored, kv_.Get(storage::Partition::kMeta, key_));
  if (!stored) return Status::OK();
  std::string_view in = *stored;
  uint64_t index = 0;
  if (!ReadOrderedU64(&in, &index) || !in.empty()) {
    return Status::Corruption("Bad applied index in meta key '" + key_ + "'");
  }
  applied_.store(index);
  return Status::OK();
}

Status ShardStateMachine::Apply(cluster::LogIndex index, const cluster::LogEntry& entry) {
  if (index != 0 && index <= applied_.load()) {
    skipped_.fetch_add(1);
    return Status::OK();
  }
  if (entry.kind != cluster::EntryKind::kCommitGroup) {
    return Status::Corruption("Raft entry " + std::to_string(index) +
                              " of a shard group is not a commit group");
  }
  KALAM_ASSIGN_OR_RETURN(CommitGroup group, DecodeCommitGroup(entry.payload, resolve_));
  std::string stored;
  AppendOrderedU64(index, &stored);
  group.batch.Put(storage::Partition::kMeta, key_, stored);
  KALAM_RETURN_IF_ERROR(pipeline_.ApplyGroup(group.batch, group.records, group.max_seq));
  applied_.store(index);
  return Status::OK();
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
  if (!snapshots_enabled_) {
    return Status::FailedPrecondition(
        "Snapshots are not enabled for group '" + group_ + "'; the Raft log is kept whole");
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
  // The verified files are now this node's own copy: it serves them as a snapshot it took.
  last_ = d;
  last_.source = snap_.node;
  PruneSnapshots();
  if (snap_.on_restored) snap_.on_restored(d.applied_index);
  return Status::OK();
}

}  // namespace kalam::replication
