// Shard snapshots without Raft: the descriptor codec, a snapshot taken on one store and restored
// on another (the group's keys replaced, other keys kept, `_seq` advanced, nothing published), a
// corrupt or missing file refused with the group unchanged, old snapshots pruned.
#include "replication/shard_snapshot.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/value_codec.h"
#include "replication/shard_state_machine.h"
#include "table/keys.h"
#include "table/row_codec.h"

namespace kalam::replication {
namespace {

namespace fs = std::filesystem;

using KeyMap = std::map<std::pair<int, std::string>, std::string>;

// One node without Raft: a memory store, a pipeline and a snapshotting machine for "user_3".
struct Node {
  explicit Node(cluster::NodeId id, std::string dir, DirectorySnapshotFetcher* fetcher,
                std::shared_ptr<const catalog::TableDef> table)
      : seqs(id, Clock::System()), pipeline(*kv, seqs) {
    EXPECT_TRUE(pipeline.Start().ok());
    pipeline.AddListener([this](const std::vector<table::ChangeRecord>& records) {
      published += records.size();
    });
    machine = std::make_unique<ShardStateMachine>(
        "user_3", *kv, pipeline,
        [table](catalog::TableId tid,
                uint32_t) -> Result<std::shared_ptr<const catalog::TableDef>> {
          if (tid == table->table_id) return table;
          return Status::NotFound("unknown table");
        });
    ShardSnapshotOptions options;
    options.dir = std::move(dir);
    options.node = id;
    options.fetcher = fetcher;
    options.on_restored = [this](cluster::LogIndex index) { restored_at.push_back(index); };
    machine->EnableSnapshots(std::move(options));
    EXPECT_TRUE(machine->Open().ok());
  }

  void Put(storage::Partition p, const std::string& key, const std::string& value) {
    storage::WriteBatch b;
    b.Put(p, key, value);
    ASSERT_TRUE(kv->Write(b).ok());
  }

  KeyMap All() {
    KeyMap all;
    for (int p = 0; p < storage::kPartitionCount; ++p) {
      auto it = kv->NewIterator(static_cast<storage::Partition>(p));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        all[{p, std::string(it->key())}] = std::string(it->value());
      }
      EXPECT_TRUE(it->status().ok());
    }
    return all;
  }

  std::unique_ptr<storage::KvStore> kv = storage::NewMemoryStore();
  SnowflakeGenerator seqs;
  commit::CommitPipeline pipeline;
  std::unique_ptr<ShardStateMachine> machine;
  size_t published = 0;
  std::vector<cluster::LogIndex> restored_at;
};

class ShardSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kalam_shard_snapshot_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto d = std::make_shared<catalog::TableDef>();
    d->table_id = 7;
    table_ = d;
    a_ = std::make_unique<Node>(1, dir_ + "/a", &fetcher_, table_);
    b_ = std::make_unique<Node>(2, dir_ + "/b", &fetcher_, table_);
    fetcher_.SetRoot(1, dir_ + "/a");
    fetcher_.SetRoot(2, dir_ + "/b");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Commits one group at `index` on node a: a row version, its pk entry, a stream row.
  void Commit(cluster::LogIndex index, int64_t seq, const std::string& v) {
    storage::WriteBatch batch;
    batch.Put(storage::Partition::kRows, table::RowKey(7, "u1", seq), v);
    batch.Put(storage::Partition::kPk, table::PkKey(7, "u1", Value::Int(seq % 10)),
              table::EncodePkEntry(seq, v));
    batch.Put(storage::Partition::kStream, table::StreamKey(7, "u1", seq + 1), v);
    table::ChangeRecord rec;
    rec.table = table_;
    rec.seq = seq;
    rec.values = {Value::Text(v)};
    ASSERT_TRUE(a_->machine
                    ->Apply(index, {cluster::EntryKind::kCommitGroup,
                                    EncodeCommitGroup(batch, {rec}, seq + 1)})
                    .ok());
  }

  // The keys EveryDataKey owns, plus the applied index.
  static KeyMap GroupKeys(const KeyMap& all) {
    KeyMap out;
    for (const auto& [k, v] : all) {
      if (EveryDataKey(static_cast<storage::Partition>(k.first), k.second) ||
          k.second == "raft_applied/user_3") {
        out[k] = v;
      }
    }
    return out;
  }

  std::string dir_;
  std::shared_ptr<const catalog::TableDef> table_;
  DirectorySnapshotFetcher fetcher_;
  std::unique_ptr<Node> a_, b_;
};

TEST(ShardSnapshotDescriptor, RoundTripsAndRefusesBadBytes) {
  SnapshotDescriptor d;
  d.group = "user_3";
  d.applied_index = 1234;
  d.source = 2;
  d.max_seq = 987654321;
  d.files.push_back({"user_3/1234/keys.kv", 42, std::string(64, 'a')});
  const std::string bytes = EncodeSnapshotDescriptor(d);
  auto back = DecodeSnapshotDescriptor(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, d);

  std::string other = bytes;
  other[0] = 9;
  EXPECT_EQ(DecodeSnapshotDescriptor(other).status().message(),
            "Bad shard snapshot descriptor: version 9 is not supported (this build reads 1)");
  EXPECT_EQ(DecodeSnapshotDescriptor(bytes.substr(0, bytes.size() - 1)).status().message(),
            "Bad shard snapshot descriptor: truncated file list");
  EXPECT_EQ(DecodeSnapshotDescriptor(bytes + "x").status().message(),
            "Bad shard snapshot descriptor: 1 trailing bytes");
  EXPECT_EQ(DecodeSnapshotDescriptor("").status().code(), StatusCode::kCorruption);
}

TEST(ShardSnapshotKeys, EveryDataKeyOwnsRowsPkStreamAndColdManifests) {
  EXPECT_TRUE(EveryDataKey(storage::Partition::kRows, "x"));
  EXPECT_TRUE(EveryDataKey(storage::Partition::kPk, "x"));
  EXPECT_TRUE(EveryDataKey(storage::Partition::kStream, "x"));
  EXPECT_TRUE(EveryDataKey(storage::Partition::kMeta, table::ColdManifestKey(7, "u1")));
  EXPECT_FALSE(EveryDataKey(storage::Partition::kMeta, "raft_applied/user_3"));
  EXPECT_FALSE(EveryDataKey(storage::Partition::kMeta, "node_id"));
  EXPECT_FALSE(EveryDataKey(storage::Partition::kSystem, "x"));
  EXPECT_FALSE(EveryDataKey(storage::Partition::kTopic, "x"));
}

TEST_F(ShardSnapshotTest, RestoreReplacesTheGroupKeysAndAdvancesSeq) {
  for (int i = 1; i <= 20; ++i) Commit(i * 2, 1000 + i * 10, "v" + std::to_string(i));
  a_->Put(storage::Partition::kMeta, table::ColdManifestKey(7, "u1"), "manifest-a");
  a_->Put(storage::Partition::kSystem, "catalog/a", "only on a");
  // b holds keys of its own: stale group keys (replaced) and other keys (kept).
  b_->Put(storage::Partition::kRows, table::RowKey(7, "old", 5), "stale");
  b_->Put(storage::Partition::kMeta, table::ColdManifestKey(7, "old"), "stale manifest");
  b_->Put(storage::Partition::kSystem, "catalog/b", "only on b");
  b_->Put(storage::Partition::kMeta, "node_id", "b");

  auto bytes = a_->machine->Snapshot();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto d = DecodeSnapshotDescriptor(*bytes);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->group, "user_3");
  EXPECT_EQ(d->applied_index, 40u);
  EXPECT_EQ(d->source, 1u);
  EXPECT_EQ(d->max_seq, 1201);  // the last stream key's `_seq`
  ASSERT_EQ(d->files.size(), 1u);
  EXPECT_EQ(d->files[0].path, "user_3/40/keys.kv");
  EXPECT_EQ(d->files[0].size_bytes, fs::file_size(dir_ + "/a/user_3/40/keys.kv"));
  EXPECT_EQ(d->files[0].sha256.size(), 64u);
  // Asked again at the same applied index (a barrier moved libraft's index only): same files.
  EXPECT_EQ(*a_->machine->Snapshot(), *bytes);
  EXPECT_EQ(a_->machine->snapshots_taken(), 1u);

  const size_t published_before = b_->published;
  ASSERT_TRUE(b_->machine->Restore(*bytes).ok());
  EXPECT_EQ(b_->machine->applied_index(), 40u);
  EXPECT_EQ(b_->restored_at, (std::vector<cluster::LogIndex>{40}));
  EXPECT_EQ(b_->published, published_before);  // no phantom change records
  KeyMap a_all = a_->All(), b_all = b_->All();
  EXPECT_EQ(GroupKeys(b_all), GroupKeys(a_all));
  EXPECT_EQ(b_all.count({int(storage::Partition::kRows), table::RowKey(7, "old", 5)}), 0u);
  EXPECT_EQ((b_all[{int(storage::Partition::kSystem), "catalog/b"}]), "only on b");
  EXPECT_EQ((b_all[{int(storage::Partition::kMeta), "node_id"}]), "b");
  EXPECT_EQ(b_all.count({int(storage::Partition::kSystem), "catalog/a"}), 0u);
  // The watermark and b's `_seq` generator moved past the snapshot's largest `_seq`.
  EXPECT_EQ(b_->pipeline.TakeReadPoint().seq, 1201);
  EXPECT_GT(b_->seqs.Next(), 1201);
  // b keeps the verified copy and serves it as its own.
  EXPECT_TRUE(fs::exists(dir_ + "/b/user_3/40/keys.kv"));
  auto again = DecodeSnapshotDescriptor(*b_->machine->Snapshot());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->source, 2u);
  EXPECT_EQ(again->files, d->files);

  // An older or equal descriptor is skipped: the replica already applied that far.
  ASSERT_TRUE(b_->machine->Restore(*bytes).ok());
  EXPECT_EQ(b_->machine->snapshots_restored(), 1u);
  EXPECT_EQ(b_->restored_at.size(), 1u);
}

TEST_F(ShardSnapshotTest, ACorruptFileIsRefusedAndTheGroupStaysAsItWas) {
  for (int i = 1; i <= 5; ++i) Commit(i, 100 + i, "v");
  auto bytes = a_->machine->Snapshot();
  ASSERT_TRUE(bytes.ok());
  auto d = DecodeSnapshotDescriptor(*bytes);
  ASSERT_TRUE(d.ok());
  b_->Put(storage::Partition::kRows, table::RowKey(7, "b", 1), "b's own");
  const KeyMap before = b_->All();

  // One byte flipped in a's file.
  const std::string path = dir_ + "/a/user_3/5/keys.kv";
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(40);
    char c = 0;
    f.read(&c, 1);
    f.seekp(40);
    c = static_cast<char>(c ^ 0x01);
    f.write(&c, 1);
  }
  Status s = b_->machine->Restore(*bytes);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_EQ(s.message().rfind("Snapshot file 'user_3/5/keys.kv' from node 1 does not match its "
                              "descriptor (" +
                                  std::to_string(d->files[0].size_bytes) + " bytes, SHA-256 ",
                              0),
            0u)
      << s.message();
  EXPECT_NE(s.message().find("; expected " + std::to_string(d->files[0].size_bytes) +
                             " bytes, SHA-256 " + d->files[0].sha256 +
                             "); group 'user_3' keeps its state at index 0"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(b_->All(), before);
  EXPECT_EQ(b_->machine->applied_index(), 0u);
  EXPECT_FALSE(fs::exists(dir_ + "/b/user_3/5/keys.kv"));
  EXPECT_FALSE(fs::exists(dir_ + "/b/user_3/5/keys.kv.part"));

  // A source that no longer has the file.
  fs::remove(path);
  s = b_->machine->Restore(*bytes);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "Node 1 has no snapshot file 'user_3/5/keys.kv'");
  // A descriptor of another group.
  SnapshotDescriptor other = *d;
  other.group = "user_4";
  s = b_->machine->Restore(EncodeSnapshotDescriptor(other));
  EXPECT_EQ(s.message(), "A snapshot of group 'user_4' was offered to group 'user_3'");
  // A path outside the group's snapshot.
  other = *d;
  other.files[0].path = "user_3/5/../../../etc/passwd";
  s = b_->machine->Restore(EncodeSnapshotDescriptor(other));
  EXPECT_EQ(s.message(),
            "Snapshot file 'user_3/5/../../../etc/passwd' is not a file of group 'user_3' at "
            "index 5");
  EXPECT_EQ(b_->All(), before);
}

TEST_F(ShardSnapshotTest, KeepsTheLastTwoSnapshots) {
  for (int i = 1; i <= 3; ++i) {
    // A directory a crash left half-written is deleted too.
    if (i == 3) fs::create_directories(dir_ + "/a/user_3/99.tmp");
    Commit(i, 100 + i, "v");
    ASSERT_TRUE(a_->machine->Snapshot().ok());
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_ + "/a/user_3")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"2", "3"}));
}

TEST_F(ShardSnapshotTest, AKeyFileIsCheckedWholeWhenRead) {
  Commit(1, 100, "v");
  ASSERT_TRUE(a_->machine->Snapshot().ok());
  const std::string path = dir_ + "/a/user_3/1/keys.kv";
  int keys = 0;
  ASSERT_TRUE(ReadKeyFile(path, [&](storage::Partition, std::string_view, std::string_view) {
                ++keys;
              }).ok());
  EXPECT_EQ(keys, 3);
  fs::resize_file(path, fs::file_size(path) - 1);
  Status s = ReadKeyFile(path, [](storage::Partition, std::string_view, std::string_view) {});
  EXPECT_EQ(s.message(), "Bad snapshot file '" + path + "': truncated trailer");
}

// Measures a snapshot and a restore of 100,000 rows (a rows + a pk key each, ~100-byte values)
// between two RocksDB stores, and checks the restored keys equal the source's.
TEST(ShardSnapshotRocks, HundredThousandRowsRoundTrip) {
  char tmpl[] = "/tmp/kalam_shard_snapshot_rocks_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  auto table = std::make_shared<catalog::TableDef>();
  table->table_id = 7;
  auto open = [&](const std::string& name) {
    auto kv = storage::OpenRocksStore(dir + "/" + name, storage::RocksOptions{});
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return std::move(kv).value();
  };
  auto src_kv = open("a"), dst_kv = open("b");
  constexpr int kRows = 100000;
  for (int i = 0; i < kRows;) {
    storage::WriteBatch batch;
    for (int j = 0; j < 5000; ++j, ++i) {
      const std::string value(100, static_cast<char>('a' + i % 26));
      batch.Put(storage::Partition::kRows, table::RowKey(7, "", 1000 + i), value);
      batch.Put(storage::Partition::kPk, table::PkKey(7, "", Value::Int(i)),
                table::EncodePkEntry(1000 + i, value));
    }
    ASSERT_TRUE(src_kv->Write(batch).ok());
  }
  SnowflakeGenerator src_seqs(1, Clock::System()), dst_seqs(2, Clock::System());
  commit::CommitPipeline src_pipe(*src_kv, src_seqs), dst_pipe(*dst_kv, dst_seqs);
  ASSERT_TRUE(src_pipe.Start().ok());
  ASSERT_TRUE(dst_pipe.Start().ok());
  auto resolve = [](catalog::TableId,
                    uint32_t) -> Result<std::shared_ptr<const catalog::TableDef>> {
    return Status::NotFound("unused");
  };
  DirectorySnapshotFetcher fetcher;
  fetcher.SetRoot(1, dir + "/snap_a");
  ShardStateMachine src("shared", *src_kv, src_pipe, resolve);
  ShardStateMachine dst("shared", *dst_kv, dst_pipe, resolve);
  src.EnableSnapshots({.dir = dir + "/snap_a", .node = 1, .fetcher = &fetcher});
  dst.EnableSnapshots({.dir = dir + "/snap_b", .node = 2, .fetcher = &fetcher});
  ASSERT_TRUE(src.Open().ok());
  ASSERT_TRUE(dst.Open().ok());
  // An applied index, as an applied entry would have left it.
  storage::WriteBatch index;
  std::string stored;
  AppendOrderedU64(77, &stored);
  index.Put(storage::Partition::kMeta, AppliedIndexKey("shared"), stored);
  ASSERT_TRUE(src_kv->Write(index).ok());
  ShardStateMachine src2("shared", *src_kv, src_pipe, resolve);
  src2.EnableSnapshots({.dir = dir + "/snap_a", .node = 1, .fetcher = &fetcher});
  ASSERT_TRUE(src2.Open().ok());

  using SteadyClock = std::chrono::steady_clock;
  auto t0 = SteadyClock::now();
  auto bytes = src2.Snapshot();
  auto t1 = SteadyClock::now();
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ASSERT_TRUE(dst.Restore(*bytes).ok());
  auto t2 = SteadyClock::now();
  auto d = DecodeSnapshotDescriptor(*bytes);
  ASSERT_TRUE(d.ok());
  std::printf("100k rows (%d keys, %.1f MB file): snapshot %.0f ms, fetch+verify+restore %.0f ms\n",
              2 * kRows, d->files[0].size_bytes / 1e6,
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
  EXPECT_EQ(dst.applied_index(), 77u);
  EXPECT_EQ(d->max_seq, 1000 + kRows - 1);
  for (storage::Partition p : {storage::Partition::kRows, storage::Partition::kPk}) {
    auto a = src_kv->NewIterator(p), b = dst_kv->NewIterator(p);
    int n = 0;
    for (a->SeekToFirst(), b->SeekToFirst(); a->Valid(); a->Next(), b->Next(), ++n) {
      ASSERT_TRUE(b->Valid());
      ASSERT_EQ(a->key(), b->key());
      ASSERT_EQ(a->value(), b->value());
    }
    EXPECT_FALSE(b->Valid());
    EXPECT_EQ(n, kRows);
  }
  src_kv.reset();
  dst_kv.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kalam::replication
