// Snapshots of a shard group's keys: which keys a group owns, the descriptor that travels
// through Raft (the data does not), the key file a snapshot writes and a restore reads, and the
// seam through which a restoring node fetches a peer's files (docs/cluster.md, Snapshots).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/peer.h"
#include "common/status.h"
#include "storage/kv_store.h"

namespace kalam::replication {

// Whether a key belongs to the group (its data: rows, pk, stream keys and cold manifests of the
// group's scopes). Called for every key of `rows`, `pk`, `stream` and `meta`; must be pure.
using GroupKeyPredicate = std::function<bool(storage::Partition, std::string_view key)>;

// Every key of `rows`, `pk` and `stream`, and the `meta` cold manifests (`cold/…`): a node that
// runs one data group (the in-process tests). A server with several shards plugs in the shard
// test instead.
bool EveryDataKey(storage::Partition partition, std::string_view key);

// One file of a snapshot, named relative to the snapshot root of the node that wrote it.
struct SnapshotFile {
  std::string path;  // "<group>/<index>/keys.kv"
  uint64_t size_bytes = 0;
  std::string sha256;  // lower-case hex
  bool operator==(const SnapshotFile&) const = default;
};

// What travels through Raft as a shard snapshot (inside the checksummed LogEntry envelope).
struct SnapshotDescriptor {
  std::string group;          // the group's name (cluster::GroupName)
  uint64_t applied_index = 0; // the group's applied index the files hold
  cluster::NodeId source = 0; // the node that wrote the files (and serves them)
  int64_t max_seq = 0;        // the largest `_seq` in the files (0: none)
  std::vector<SnapshotFile> files;
  bool operator==(const SnapshotDescriptor&) const = default;
};

inline constexpr uint8_t kSnapshotDescriptorVersion = 1;

std::string EncodeSnapshotDescriptor(const SnapshotDescriptor& descriptor);
// kCorruption for bytes that are not a descriptor of a known version.
Result<SnapshotDescriptor> DecodeSnapshotDescriptor(std::string_view bytes);

// Gets a file of a peer's snapshot. The server implements it over HTTP (a route serving
// "<snapshot root>/<path>"; not built yet); tests copy from the peer's snapshot directory.
// Thread-safety is the implementation's; ShardStateMachine calls it from the Raft loop thread.
class SnapshotFetcher {
 public:
  virtual ~SnapshotFetcher() = default;
  // Writes node `source`'s snapshot file `path` (relative to its snapshot root) to `local_path`
  // (a new file; its directory exists). kUnavailable when the peer cannot be reached, kNotFound
  // when it no longer has the file.
  virtual Status Fetch(cluster::NodeId source, const std::string& path,
                       const std::string& local_path) = 0;
};

// A SnapshotFetcher over directories on this machine (tests, and peers sharing a file system):
// node id → that node's snapshot root.
class DirectorySnapshotFetcher final : public SnapshotFetcher {
 public:
  // Sets (or replaces) node `id`'s snapshot root. Not thread-safe against Fetch.
  void SetRoot(cluster::NodeId id, std::string root);
  Status Fetch(cluster::NodeId source, const std::string& path,
               const std::string& local_path) override;

 private:
  std::vector<std::pair<cluster::NodeId, std::string>> roots_;
};

// The key file: a header line, then per key: partition (1 byte), key length (8 bytes BE), key,
// value length (8 bytes BE), value; then a trailer (0xFF and the key count, 8 bytes BE).
// Writes every key of kGroupPartitions accepted by `owns`, as of `snapshot`, to `path` (a new
// file; fsynced before returning). Returns the number of keys and the largest `_seq` of the
// `rows` / `stream` keys and `pk` entries written.
struct KeyFileStats {
  uint64_t keys = 0;
  int64_t max_seq = 0;
};
Result<KeyFileStats> WriteKeyFile(storage::KvStore& kv, const storage::KvSnapshot* snapshot,
                                  const GroupKeyPredicate& owns, const std::string& path);

// Reads a key file written by WriteKeyFile, calling `put` for each key in order. kCorruption
// for a malformed or truncated file (nothing after the bad record is read).
Status ReadKeyFile(const std::string& path,
                   const std::function<void(storage::Partition, std::string_view key,
                                            std::string_view value)>& put);

// The partitions a group's keys live in.
inline constexpr storage::Partition kGroupPartitions[] = {
    storage::Partition::kRows, storage::Partition::kPk, storage::Partition::kStream,
    storage::Partition::kMeta};

}  // namespace kalam::replication
