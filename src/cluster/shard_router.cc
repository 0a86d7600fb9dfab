// Shard routing: user id → user shard by a stable hash.
#include "cluster/shard_router.h"

namespace kalam::cluster {

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string GroupName(const GroupId& group) {
  switch (group.kind) {
    case GroupKind::kMeta: return "meta";
    case GroupKind::kUserShard: return "user_" + std::to_string(group.shard);
    case GroupKind::kSharedShard: return "shared";
  }
  return "unknown";
}

ShardRouter::ShardRouter(uint32_t user_shards) : user_shards_(user_shards == 0 ? 1 : user_shards) {}

GroupId ShardRouter::ForUser(std::string_view user_id) const {
  return {GroupKind::kUserShard, static_cast<uint32_t>(Fnv1a64(user_id) % user_shards_)};
}

uint32_t ShardRouter::Ordinal(const GroupId& group) const {
  switch (group.kind) {
    case GroupKind::kMeta: return 0;
    case GroupKind::kUserShard: return 1 + group.shard;
    case GroupKind::kSharedShard: return 1 + user_shards_;
  }
  return 0;
}

}  // namespace kalam::cluster
