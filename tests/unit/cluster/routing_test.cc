// Pure pieces of the cluster module: peer parsing, shard routing, the log entry envelope.
#include <gtest/gtest.h>

#include <map>

#include "cluster/log_entry.h"
#include "cluster/peer.h"
#include "cluster/shard_router.h"

namespace kalam::cluster {
namespace {

TEST(PeerTest, ParsesIdHostPort) {
  auto peer = ParsePeer("3=10.0.0.3:9100");
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  EXPECT_EQ(peer->id, 3u);
  EXPECT_EQ(peer->host, "10.0.0.3");
  EXPECT_EQ(peer->port, 9100);
  EXPECT_EQ(peer->address(), "10.0.0.3:9100");
  auto v6 = ParsePeer("1=[::1]:7000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 7000);
}

TEST(PeerTest, RefusesMalformedEntriesNamingThem) {
  const std::map<std::string, std::string> cases = {
      {"10.0.0.3:9100", "'10.0.0.3:9100': expected id=host:port"},
      {"0=a:1", "'0=a:1': the node id must be an integer between 1 and 1023"},
      {"1024=a:1", "'1024=a:1': the node id must be an integer between 1 and 1023"},
      {"x=a:1", "'x=a:1': the node id must be an integer between 1 and 1023"},
      {"1=a", "'1=a': expected id=host:port"},
      {"1=:9100", "'1=:9100': the host must not be empty"},
      {"1=a:0", "'1=a:0': the port must be an integer between 1 and 65535"},
      {"1=a:65536", "'1=a:65536': the port must be an integer between 1 and 65535"},
      {"1=a:9x", "'1=a:9x': the port must be an integer between 1 and 65535"},
  };
  for (const auto& [text, message] : cases) {
    auto peer = ParsePeer(text);
    ASSERT_FALSE(peer.ok()) << text;
    EXPECT_EQ(peer.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(peer.status().message(), message);
  }
}

TEST(PeerTest, ListRefusesDuplicateIdsAndAddresses) {
  auto ok = ParsePeers({"1=a:1", "2=a:2", "3=b:1"});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 3u);
  EXPECT_EQ(ParsePeers({"1=a:1", "1=b:1"}).status().message(),
            "'1=b:1': node id 1 is listed twice");
  EXPECT_EQ(ParsePeers({"1=a:1", "2=a:1"}).status().message(),
            "'2=a:1': address a:1 is listed twice");
  EXPECT_TRUE(ParsePeers({}).ok());
}

TEST(ShardRouterTest, HashIsPinned) {
  // FNV-1a 64 reference values; a change here moves users between shards of existing clusters.
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ULL);
  EXPECT_EQ(Fnv1a64("a"), 12638187200555641996ULL);
  EXPECT_EQ(Fnv1a64("foobar"), 9625390261332436968ULL);
}

TEST(ShardRouterTest, RoutesUsersSharedAndCatalog) {
  ShardRouter router(8);
  EXPECT_EQ(router.user_shards(), 8u);
  EXPECT_EQ(router.group_count(), 10u);
  EXPECT_EQ(router.ForUser("a"), (GroupId{GroupKind::kUserShard, 12638187200555641996ULL % 8}));
  EXPECT_EQ(router.ForUser("foobar"), (GroupId{GroupKind::kUserShard, 9625390261332436968ULL % 8}));
  EXPECT_EQ(router.ForUser("alice"), router.ForUser("alice"));
  EXPECT_EQ(router.Shared(), (GroupId{GroupKind::kSharedShard, 0}));
  EXPECT_EQ(router.Meta(), (GroupId{GroupKind::kMeta, 0}));
  EXPECT_EQ(router.Ordinal(router.Meta()), 0u);
  EXPECT_EQ(router.Ordinal(GroupId{GroupKind::kUserShard, 0}), 1u);
  EXPECT_EQ(router.Ordinal(GroupId{GroupKind::kUserShard, 7}), 8u);
  EXPECT_EQ(router.Ordinal(router.Shared()), 9u);
  EXPECT_EQ(GroupName(router.Meta()), "meta");
  EXPECT_EQ(GroupName(GroupId{GroupKind::kUserShard, 5}), "user_5");
  EXPECT_EQ(GroupName(router.Shared()), "shared");
}

TEST(ShardRouterTest, SpreadsUsersOverEveryShard) {
  ShardRouter router(8);
  std::map<uint32_t, int> counts;
  for (int i = 0; i < 8000; ++i) ++counts[router.ForUser("user-" + std::to_string(i)).shard];
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [shard, count] : counts) {
    EXPECT_GT(count, 800) << "shard " << shard;
    EXPECT_LT(count, 1200) << "shard " << shard;
  }
  ShardRouter one(1);
  EXPECT_EQ(one.ForUser("anyone").shard, 0u);
}

TEST(LogEntryTest, RoundTripsEveryKind) {
  for (EntryKind kind : {EntryKind::kCommitGroup, EntryKind::kCatalogChange, EntryKind::kSnapshot}) {
    LogEntry entry{kind, std::string("payload\0with zero", 17)};
    const std::string bytes = EncodeLogEntry(entry);
    ASSERT_EQ(bytes.size(), 32u);  // 10 + 17, padded to a multiple of 8
    EXPECT_EQ(bytes.substr(27), std::string(5, '\0'));
    EXPECT_EQ(bytes[0], 1);
    EXPECT_EQ(bytes[1], static_cast<char>(kind));
    auto decoded = DecodeLogEntry(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, entry);
    auto unpadded = DecodeLogEntry(bytes.substr(0, 27));
    ASSERT_TRUE(unpadded.ok()) << unpadded.status().ToString();
    EXPECT_EQ(*unpadded, entry);
  }
  const std::string empty_bytes = EncodeLogEntry(LogEntry{EntryKind::kCommitGroup, ""});
  EXPECT_EQ(empty_bytes.size(), 16u);
  auto empty = DecodeLogEntry(empty_bytes);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->payload, "");
}

TEST(LogEntryTest, RefusesDamagedEntries) {
  const std::string good = EncodeLogEntry(LogEntry{EntryKind::kCommitGroup, "abcdef"});
  auto error = [](std::string bytes) {
    auto r = DecodeLogEntry(bytes);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    return r.status().message();
  };
  EXPECT_EQ(error(good.substr(0, 9)), "Raft log entry is 9 bytes, shorter than its 10-byte header");
  std::string v2 = good;
  v2[0] = 2;
  EXPECT_EQ(error(v2), "Raft log entry has version 2; this server reads version 1");
  std::string kind = good;
  kind[1] = 9;
  EXPECT_EQ(error(kind), "Raft log entry has unknown kind 9");
  EXPECT_EQ(error(good + "x"), "Raft log entry declares 6 payload bytes but carries 7");
  EXPECT_EQ(error(good.substr(0, good.size() - 1)),
            "Raft log entry declares 6 payload bytes but carries 5");
  std::string flipped = good;
  flipped.back() ^= 0x01;
  ASSERT_EQ(good.size(), 16u);  // 10 + 6 is a multiple of 8 already: no padding
  const std::string padded = EncodeLogEntry(LogEntry{EntryKind::kCommitGroup, "abc"});
  ASSERT_EQ(padded.size(), 16u);  // 10 + 3 + 3 zero bytes
  std::string dirty_padding = padded;
  dirty_padding.back() = 'x';
  EXPECT_EQ(error(dirty_padding), "Raft log entry declares 3 payload bytes but carries 6");
  EXPECT_EQ(error(padded + std::string(8, '\0')),
            "Raft log entry declares 3 payload bytes but carries 14");
  EXPECT_EQ(error(flipped), "Raft log entry checksum mismatch");
  std::string other_kind = good;  // the checksum covers the kind too
  other_kind[1] = static_cast<char>(EntryKind::kCatalogChange);
  EXPECT_EQ(error(other_kind), "Raft log entry checksum mismatch");
}

}  // namespace
}  // namespace kalam::cluster
