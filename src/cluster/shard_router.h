// Which Raft group owns a piece of data: the meta group (catalog), one of N user shards (a USER
// table's rows, by hash of the user id) or the shared shard (SHARED tables).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kalam::cluster {

enum class GroupKind { kMeta, kUserShard, kSharedShard };

// A Raft group of the cluster. Numbered densely so a node can keep its groups in an array and
// name each group's directory: meta = 0, user shard i = 1 + i, shared shard = 1 + user_shards.
struct GroupId {
  GroupKind kind = GroupKind::kMeta;
  uint32_t shard = 0;  // the user shard's index; 0 for meta and shared

  bool operator==(const GroupId&) const = default;
};

// "meta", "user_3", "shared" (system.cluster_groups' group_type is derived from kind).
std::string GroupName(const GroupId& group);

// Pure and thread-safe (immutable after construction).
class ShardRouter {
 public:
  // `user_shards` >= 1 (validated by the configuration).
  explicit ShardRouter(uint32_t user_shards);

  // The user shard holding `user_id`'s rows of every USER table. Stable across processes,
  // platforms and releases (FNV-1a 64 of the id's bytes, modulo user_shards): changing it would
  // move data between shards, so it is pinned by unit tests.
  GroupId ForUser(std::string_view user_id) const;
  // SHARED tables (and their cold manifests).
  GroupId Shared() const { return {GroupKind::kSharedShard, 0}; }
  // The catalog: namespaces, tables, schemas, users, storages, jobs.
  GroupId Meta() const { return {GroupKind::kMeta, 0}; }

  uint32_t user_shards() const { return user_shards_; }
  // meta + user shards + shared.
  uint32_t group_count() const { return user_shards_ + 2; }
  // The dense number of `group` (see GroupId); < group_count().
  uint32_t Ordinal(const GroupId& group) const;

 private:
  uint32_t user_shards_;
};

// FNV-1a 64 of `bytes`. Exposed for the pinning test.
uint64_t Fnv1a64(std::string_view bytes);

}  // namespace kalam::cluster
