// RocksDB-only behaviour of RocksStore: durability across reopen, column families on disk, and
// how opening fails.
#include "storage/rocks_store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "temp_dir.h"

namespace kalam::storage {
namespace {

RocksOptions SmallOptions() {
  RocksOptions options;
  options.block_cache_bytes = 8ull << 20;
  options.write_buffer_bytes = 4ull << 20;
  return options;
}

std::unique_ptr<RocksStore> OpenOrDie(const std::string& path) {
  auto store = RocksStore::Open(path, SmallOptions());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::optional<std::string> GetOrDie(KvStore& store, Partition p, std::string_view key) {
  auto value = store.Get(p, key);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : std::nullopt;
}

TEST(RocksStoreTest, CreatesOneColumnFamilyPerPartition) {
  TempDir dir;
  std::string path = dir.Sub("db");
  ASSERT_NE(OpenOrDie(path), nullptr);
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &families).ok());
  std::sort(families.begin(), families.end());
  EXPECT_EQ(families,
            (std::vector<std::string>{"default", "meta", "pk", "rows", "stream", "system", "topic"}));
}

TEST(RocksStoreTest, OpensADataDirectoryMadeBeforeTheTopicPartition) {
  TempDir dir;
  std::string path = dir.Sub("db");
  {
    // A database with the column families of the release before `topic` existed.
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "rows", "pk", "stream", "system", "meta"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path, cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[5], "last_seq", "x").ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(GetOrDie(*store, Partition::kMeta, "last_seq"), "x");
  WriteBatch batch;
  batch.Put(Partition::kTopic, "m", "message");
  ASSERT_TRUE(store->Write(batch).ok());
  EXPECT_EQ(GetOrDie(*store, Partition::kTopic, "m"), "message");
}

TEST(RocksStoreTest, CheckpointHoldsEveryWriteBeforeItAndNoneAfter) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(store, nullptr);
  WriteBatch before;
  before.Put(Partition::kRows, "r1", "before");
  before.Put(Partition::kMeta, "m", "1");
  ASSERT_TRUE(store->Write(before).ok());
  ASSERT_TRUE(store->Checkpoint(dir.Sub("cp")).ok());
  WriteBatch after;
  after.Put(Partition::kRows, "r2", "after");
  ASSERT_TRUE(store->Write(after).ok());
  // A second checkpoint into an existing directory is refused, naming it.
  Status again = store->Checkpoint(dir.Sub("cp"));
  EXPECT_EQ(again.code(), StatusCode::kIoError);
  EXPECT_NE(again.message().find(dir.Sub("cp")), std::string::npos) << again.message();

  auto copy = OpenOrDie(dir.Sub("cp"));
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->Get(Partition::kRows, "r1")->value_or(""), "before");
  EXPECT_EQ(copy->Get(Partition::kMeta, "m")->value_or(""), "1");
  EXPECT_FALSE(copy->Get(Partition::kRows, "r2")->has_value());
}

TEST(RocksStoreTest, UnflushedWritesSurviveCloseAndReopen) {
  TempDir dir;
  std::string path = dir.Sub("db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    batch.Put(Partition::kRows, "r1", "row one");
    batch.Put(Partition::kRows, "r2", "row two");
    batch.Put(Partition::kRows, "r3", "row three");
    batch.Put(Partition::kPk, "pk1", std::string("\x00\x01", 2));
    batch.Put(Partition::kMeta, "format_version", "1");
    ASSERT_TRUE(store->Write(batch).ok());
    WriteBatch removal;
    removal.Delete(Partition::kRows, "r1");
    removal.DeleteRange(Partition::kRows, "r3", "r4");
    ASSERT_TRUE(store->Write(removal).ok());
    ASSERT_TRUE(store->Close().ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(GetOrDie(*store, Partition::kRows, "r1"), std::nullopt);
  EXPECT_EQ(GetOrDie(*store, Partition::kRows, "r2"), "row two");
  EXPECT_EQ(GetOrDie(*store, Partition::kRows, "r3"), std::nullopt);
  EXPECT_EQ(GetOrDie(*store, Partition::kPk, "pk1"), std::string("\x00\x01", 2));
  EXPECT_EQ(GetOrDie(*store, Partition::kMeta, "format_version"), "1");
}

TEST(RocksStoreTest, FlushedAndSyncedWritesSurviveReopenWithoutExplicitClose) {
  TempDir dir;
  std::string path = dir.Sub("db");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    for (int i = 0; i < 100; ++i) batch.Put(Partition::kStream, "s" + std::to_string(i), "v");
    ASSERT_TRUE(store->Write(batch).ok());
    ASSERT_TRUE(store->Flush().ok());
    WriteBatch synced;
    synced.Put(Partition::kSystem, "user:root", "{}");
    WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(store->Write(synced, sync).ok());
  }  // destructor closes
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  auto it = store->NewIterator(Partition::kStream);
  int count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  EXPECT_EQ(count, 100);
  EXPECT_EQ(GetOrDie(*store, Partition::kSystem, "user:root"), "{}");
}

TEST(RocksStoreTest, OpeningAnOpenDirectoryAgainFailsWithIoErrorNamingThePath) {
  TempDir dir;
  std::string path = dir.Sub("db");
  auto first = OpenOrDie(path);
  ASSERT_NE(first, nullptr);
  auto second = RocksStore::Open(path, SmallOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  EXPECT_NE(second.status().message().find("Cannot open data directory '" + path + "'"),
            std::string::npos)
      << second.status().message();
  // The failed open did not disturb the first store.
  WriteBatch batch;
  batch.Put(Partition::kMeta, "still", "works");
  EXPECT_TRUE(first->Write(batch).ok());
}

TEST(RocksStoreTest, DirectoryLockedByAnotherProcessFailsWithIoErrorAndHint) {
  TempDir dir;
  std::string path = dir.Sub("db");
  int ready[2];
  int release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Child: hold the database open until the parent says otherwise. Never returns to gtest.
    auto store = RocksStore::Open(path, SmallOptions());
    char byte = store.ok() ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    (void)!read(release[0], &byte, 1);
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');

  auto second = RocksStore::Open(path, SmallOptions());
  (void)!write(release[1], &byte, 1);
  int wstatus = 0;
  waitpid(child, &wstatus, 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) close(fd);

  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError);
  const std::string& message = second.status().message();
  EXPECT_EQ(message.rfind("Cannot open data directory '" + path + "': ", 0), 0u) << message;
  EXPECT_NE(message.find("Another KalamDB process"), std::string::npos) << message;
}

TEST(RocksStoreTest, ReopenSucceedsOnceTheFirstStoreIsClosed) {
  TempDir dir;
  std::string path = dir.Sub("db");
  auto first = OpenOrDie(path);
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->Close().ok());
  EXPECT_NE(OpenOrDie(path), nullptr);
}

TEST(RocksStoreTest, PathThatIsAFileFailsWithIoError) {
  TempDir dir;
  std::string path = dir.Sub("not_a_dir");
  std::ofstream(path) << "x";
  auto store = OpenRocksStore(path, SmallOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError);
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().message();
}

TEST(RocksStoreTest, MissingDirectoryWithoutCreateIfMissingFailsWithIoError) {
  TempDir dir;
  RocksOptions options = SmallOptions();
  options.create_if_missing = false;
  auto store = OpenRocksStore(dir.Sub("absent"), options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kIoError) << store.status().ToString();
  EXPECT_NE(store.status().message().find(dir.Sub("absent")), std::string::npos);
}

TEST(RocksStoreTest, ColumnFamilyFromANewerVersionIsTolerated) {
  TempDir dir;
  std::string path = dir.Sub("db");
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* cf = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "future", &cf).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(cf).ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.Put(Partition::kRows, "a", "1");
  EXPECT_TRUE(store->Write(batch).ok());
  EXPECT_TRUE(store->Close().ok());
}

TEST(RocksStoreTest, EveryCallAfterCloseIsUnavailable) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Close().ok());
  EXPECT_TRUE(store->Close().ok()) << "idempotent";
  EXPECT_EQ(store->Get(Partition::kRows, "a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->MultiGet(Partition::kRows, {"a"}).status().code(), StatusCode::kUnavailable);
  WriteBatch batch;
  batch.Put(Partition::kRows, "a", "1");
  EXPECT_EQ(store->Write(batch).code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->Flush().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->GetSnapshot(), nullptr);
  EXPECT_EQ(store->NewIterator(Partition::kRows)->status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->ApproximateSize(Partition::kRows, "a", "b"), 0u);
}

TEST(RocksStoreTest, MemorySnapshotIsRejected) {
  TempDir dir;
  auto store = OpenOrDie(dir.Sub("db"));
  ASSERT_NE(store, nullptr);
  auto memory = NewMemoryStore();
  auto snapshot = memory->GetSnapshot();
  EXPECT_EQ(store->Get(Partition::kRows, "a", snapshot.get()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kalam::storage
