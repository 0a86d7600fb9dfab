// KvStore semantics, run identically against both backends (memory and RocksDB): whatever a test
// here shows, every caller may rely on from either store.
#include "storage/kv_store.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace kalam::storage {
namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

struct MemoryBackend {
  std::unique_ptr<KvStore> Open() { return NewMemoryStore(); }
};

struct RocksBackend {
  TempDir dir;
  std::unique_ptr<KvStore> Open() {
    RocksOptions options;
    options.block_cache_bytes = 8ull << 20;
    options.write_buffer_bytes = 4ull << 20;
    auto store = OpenRocksStore(dir.Sub("db"), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, MemoryBackend> ? "Memory" : "Rocks";
  }
};

template <typename Backend>
class KvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  void Put(Partition p, std::string_view key, std::string_view value) {
    WriteBatch batch;
    batch.Put(p, key, value);
    ASSERT_TRUE(store_->Write(batch).ok());
  }
  void Delete(Partition p, std::string_view key) {
    WriteBatch batch;
    batch.Delete(p, key);
    ASSERT_TRUE(store_->Write(batch).ok());
  }
  std::optional<std::string> Get(Partition p, std::string_view key,
                                 const KvSnapshot* snapshot = nullptr) {
    auto value = store_->Get(p, key, snapshot);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? *value : std::nullopt;
  }
  // Every entry from SeekToFirst forward.
  Entries Scan(Partition p, const ReadOptions& options = {}) {
    auto it = store_->NewIterator(p, options);
    Entries out;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace_back(std::string(it->key()), std::string(it->value()));
    }
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return out;
  }
  // Every key from SeekToLast backward.
  std::vector<std::string> ScanKeysBackward(Partition p, const ReadOptions& options = {}) {
    auto it = store_->NewIterator(p, options);
    std::vector<std::string> out;
    for (it->SeekToLast(); it->Valid(); it->Prev()) out.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return out;
  }
  // Puts k0..k9 (value v0..v9) into `p`.
  void PutTenKeys(Partition p) {
    WriteBatch batch;
    for (int i = 0; i < 10; ++i) {
      batch.Put(p, "k" + std::to_string(i), "v" + std::to_string(i));
    }
    ASSERT_TRUE(store_->Write(batch).ok());
  }
  // The key the iterator is on, or "<invalid>".
  static std::string At(const KvIterator& it) {
    return it.Valid() ? std::string(it.key()) : "<invalid>";
  }

  Backend backend_;  // declared first: outlives the store (the RocksDB directory)
  std::unique_ptr<KvStore> store_ = backend_.Open();
};

using Backends = ::testing::Types<MemoryBackend, RocksBackend>;
TYPED_TEST_SUITE(KvStoreTest, Backends, BackendNames);

std::vector<std::string> Keys(const Entries& entries) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : entries) keys.push_back(k);
  return keys;
}

TYPED_TEST(KvStoreTest, GetOfMissingKeyIsNullopt) {
  EXPECT_EQ(this->Get(Partition::kRows, "nope"), std::nullopt);
}

TYPED_TEST(KvStoreTest, GetReturnsLatestPut) {
  this->Put(Partition::kRows, "a", "1");
  EXPECT_EQ(this->Get(Partition::kRows, "a"), "1");
  this->Put(Partition::kRows, "a", "2");
  EXPECT_EQ(this->Get(Partition::kRows, "a"), "2");
}

TYPED_TEST(KvStoreTest, DeleteMakesKeyMissingAndDeletingMissingKeyIsOk) {
  this->Put(Partition::kPk, "a", "1");
  this->Delete(Partition::kPk, "a");
  EXPECT_EQ(this->Get(Partition::kPk, "a"), std::nullopt);
  this->Delete(Partition::kPk, "never-written");
  EXPECT_EQ(this->Get(Partition::kPk, "never-written"), std::nullopt);
}

TYPED_TEST(KvStoreTest, EmptyValueIsStoredAndDistinctFromMissing) {
  this->Put(Partition::kMeta, "empty", "");
  auto value = this->Get(Partition::kMeta, "empty");
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(*value, "");
  EXPECT_EQ(this->Scan(Partition::kMeta), (Entries{{"empty", ""}}));
}

TYPED_TEST(KvStoreTest, PartitionsAreSeparateKeySpaces) {
  for (int i = 0; i < kPartitionCount; ++i) {
    auto p = static_cast<Partition>(i);
    this->Put(p, "same", std::string(PartitionName(p)));
  }
  this->Delete(Partition::kStream, "same");
  EXPECT_EQ(this->Get(Partition::kRows, "same"), "rows");
  EXPECT_EQ(this->Get(Partition::kPk, "same"), "pk");
  EXPECT_EQ(this->Get(Partition::kStream, "same"), std::nullopt);
  EXPECT_EQ(this->Get(Partition::kSystem, "same"), "system");
  EXPECT_EQ(this->Get(Partition::kMeta, "same"), "meta");
  EXPECT_EQ(this->Scan(Partition::kSystem), (Entries{{"same", "system"}}));
}

TYPED_TEST(KvStoreTest, BinaryKeysRoundTripAndSortAsUnsignedBytes) {
  using namespace std::string_literals;
  // In the order a bytewise (memcmp) comparator sorts them.
  const std::vector<std::string> ordered = {
      ""s,        "\x00"s,     "\x00\x00"s, "\x00\x01"s, "\x00\xff"s, "\x01"s,
      "a\x00" "b"s, "a\x01"s,    "\x7f"s,     "\x80"s,     "\xfe\xff"s, "\xff"s,
      "\xff\x00"s, "\xff\xff"s,
  };
  std::vector<std::string> shuffled = ordered;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  WriteBatch batch;
  for (const auto& key : shuffled) batch.Put(Partition::kPk, key, "v\x00"s + key);
  ASSERT_TRUE(this->store_->Write(batch).ok());

  for (const auto& key : ordered) EXPECT_EQ(this->Get(Partition::kPk, key), "v\x00"s + key);
  Entries scanned = this->Scan(Partition::kPk);
  EXPECT_EQ(Keys(scanned), ordered);
  for (const auto& [k, v] : scanned) EXPECT_EQ(v, "v\x00"s + k);

  std::vector<std::string> reversed(ordered.rbegin(), ordered.rend());
  EXPECT_EQ(this->ScanKeysBackward(Partition::kPk), reversed);

  ReadOptions bounded;
  bounded.lower_bound = "\x00\x01"s;
  bounded.upper_bound = "\xff\x00"s;
  EXPECT_EQ(Keys(this->Scan(Partition::kPk, bounded)),
            std::vector<std::string>(ordered.begin() + 3, ordered.begin() + 12));
}

TYPED_TEST(KvStoreTest, BatchAppliesOpsInOrder) {
  this->Put(Partition::kRows, "b", "old");
  WriteBatch batch;
  batch.Put(Partition::kRows, "a", "1");
  batch.Delete(Partition::kRows, "a");          // put then delete: gone
  batch.Delete(Partition::kRows, "b");
  batch.Put(Partition::kRows, "b", "new");      // delete then put: present
  batch.Put(Partition::kRows, "c", "first");
  batch.Put(Partition::kRows, "c", "second");   // last put wins
  batch.Put(Partition::kRows, "d2", "x");
  batch.DeleteRange(Partition::kRows, "d", "e");
  batch.Put(Partition::kRows, "d5", "after");   // written after the range delete: survives
  batch.Put(Partition::kSystem, "s", "other partition");
  ASSERT_TRUE(this->store_->Write(batch).ok());

  EXPECT_EQ(this->Scan(Partition::kRows),
            (Entries{{"b", "new"}, {"c", "second"}, {"d5", "after"}}));
  EXPECT_EQ(this->Get(Partition::kSystem, "s"), "other partition");
}

TYPED_TEST(KvStoreTest, EmptyBatchIsOk) {
  EXPECT_TRUE(this->store_->Write(WriteBatch()).ok());
  WriteOptions sync;
  sync.sync = true;
  EXPECT_TRUE(this->store_->Write(WriteBatch(), sync).ok());
}

TYPED_TEST(KvStoreTest, SyncWriteIsVisible) {
  WriteBatch batch;
  batch.Put(Partition::kMeta, "format_version", "1");
  WriteOptions sync;
  sync.sync = true;
  ASSERT_TRUE(this->store_->Write(batch, sync).ok());
  EXPECT_EQ(this->Get(Partition::kMeta, "format_version"), "1");
}

TYPED_TEST(KvStoreTest, BatchWithUnknownPartitionFailsAndWritesNothing) {
  WriteBatch batch;
  batch.Put(Partition::kRows, "a", "1");
  batch.Put(static_cast<Partition>(9), "b", "2");
  Status s = this->store_->Write(batch);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(this->Get(Partition::kRows, "a"), std::nullopt);
}

TYPED_TEST(KvStoreTest, UnknownPartitionIsInvalidArgumentForReads) {
  auto bad = static_cast<Partition>(kPartitionCount);
  EXPECT_EQ(this->store_->Get(bad, "a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(this->store_->MultiGet(bad, {"a"}).status().code(), StatusCode::kInvalidArgument);
  auto it = this->store_->NewIterator(bad);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(it->status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(KvStoreTest, BatchIsAtomicForConcurrentReaders) {
  // Every batch sets all ten keys to the same value; a reader must never see a mix.
  constexpr int kKeys = 10;
  constexpr int kBatches = 300;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back("key" + std::to_string(i));

  std::atomic<bool> done{false};
  std::atomic<int> mixed{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto snapshot = this->store_->GetSnapshot();
      auto values = this->store_->MultiGet(Partition::kRows, keys, snapshot.get());
      if (!values.ok()) {
        ++mixed;
        continue;
      }
      for (const auto& v : *values) {
        if (v != values->front()) ++mixed;
      }
      auto it = this->store_->NewIterator(Partition::kRows);
      std::vector<std::string> seen;
      for (it->SeekToFirst(); it->Valid(); it->Next()) seen.emplace_back(it->value());
      if (!seen.empty() && (seen.size() != kKeys ||
                            std::count(seen.begin(), seen.end(), seen.front()) != kKeys)) {
        ++mixed;
      }
      ++reads;
    }
  });
  // Keep writing until the reader has overlapped a fair number of batches.
  for (int b = 0; b < kBatches || reads.load() < 20; ++b) {
    WriteBatch batch;
    for (const auto& k : keys) batch.Put(Partition::kRows, k, std::to_string(b));
    ASSERT_TRUE(this->store_->Write(batch).ok());
  }
  done = true;
  reader.join();
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_GE(reads.load(), 20);
}

TYPED_TEST(KvStoreTest, ConcurrentWritersAllLand) {
  constexpr int kPerThread = 500;
  auto writer = [&](char tag) {
    for (int i = 0; i < kPerThread; ++i) {
      WriteBatch batch;
      batch.Put(Partition::kStream, std::string(1, tag) + std::to_string(i), "x");
      ASSERT_TRUE(this->store_->Write(batch).ok());
    }
  };
  std::thread a(writer, 'a');
  std::thread b(writer, 'b');
  a.join();
  b.join();
  EXPECT_EQ(this->Scan(Partition::kStream).size(), 2u * kPerThread);
}

TYPED_TEST(KvStoreTest, DeleteRangeRemovesHalfOpenRangeOnly) {
  for (const char* k : {"a", "b", "b0", "c", "d", "e", "f"}) {
    this->Put(Partition::kRows, k, "r");
    this->Put(Partition::kPk, k, "p");
  }
  WriteBatch batch;
  batch.DeleteRange(Partition::kRows, "b", "e");
  ASSERT_TRUE(this->store_->Write(batch).ok());
  EXPECT_EQ(Keys(this->Scan(Partition::kRows)), (std::vector<std::string>{"a", "e", "f"}));
  EXPECT_EQ(this->Get(Partition::kRows, "b0"), std::nullopt);
  EXPECT_EQ(this->Get(Partition::kRows, "e"), "r");
  EXPECT_EQ(this->Scan(Partition::kPk).size(), 7u) << "other partitions untouched";
}

TYPED_TEST(KvStoreTest, DeleteRangeWithBeginNotBelowEndDeletesNothing) {
  for (const char* k : {"a", "b", "c"}) this->Put(Partition::kRows, k, "v");
  WriteBatch batch;
  batch.DeleteRange(Partition::kRows, "b", "b");
  batch.DeleteRange(Partition::kRows, "c", "a");
  ASSERT_TRUE(this->store_->Write(batch).ok());
  EXPECT_EQ(this->Scan(Partition::kRows).size(), 3u);
}

TYPED_TEST(KvStoreTest, DeleteRangeThenPutOfSameKeyInLaterBatch) {
  this->Put(Partition::kRows, "t1/a", "old");
  WriteBatch drop;
  drop.DeleteRange(Partition::kRows, "t1/", "t10");
  ASSERT_TRUE(this->store_->Write(drop).ok());
  this->Put(Partition::kRows, "t1/a", "new");
  EXPECT_EQ(this->Get(Partition::kRows, "t1/a"), "new");
}

TYPED_TEST(KvStoreTest, ForwardIterationHonoursBounds) {
  this->PutTenKeys(Partition::kRows);
  ReadOptions both;
  both.lower_bound = "k2";
  both.upper_bound = "k7";
  EXPECT_EQ(Keys(this->Scan(Partition::kRows, both)),
            (std::vector<std::string>{"k2", "k3", "k4", "k5", "k6"}));
  ReadOptions lower_only;
  lower_only.lower_bound = "k8";
  EXPECT_EQ(Keys(this->Scan(Partition::kRows, lower_only)),
            (std::vector<std::string>{"k8", "k9"}));
  ReadOptions upper_only;
  upper_only.upper_bound = "k1";
  EXPECT_EQ(Keys(this->Scan(Partition::kRows, upper_only)), (std::vector<std::string>{"k0"}));
  ReadOptions empty_range;
  empty_range.lower_bound = "k5";
  empty_range.upper_bound = "k5";
  EXPECT_TRUE(this->Scan(Partition::kRows, empty_range).empty());
  EXPECT_EQ(this->Scan(Partition::kRows).size(), 10u);
}

TYPED_TEST(KvStoreTest, BackwardIterationHonoursBounds) {
  this->PutTenKeys(Partition::kRows);
  ReadOptions both;
  both.lower_bound = "k2";
  both.upper_bound = "k7";
  EXPECT_EQ(this->ScanKeysBackward(Partition::kRows, both),
            (std::vector<std::string>{"k6", "k5", "k4", "k3", "k2"}));
  ReadOptions lower_only;
  lower_only.lower_bound = "k8";
  EXPECT_EQ(this->ScanKeysBackward(Partition::kRows, lower_only),
            (std::vector<std::string>{"k9", "k8"}));
  ReadOptions upper_only;
  upper_only.upper_bound = "k1";
  EXPECT_EQ(this->ScanKeysBackward(Partition::kRows, upper_only),
            (std::vector<std::string>{"k0"}));
}

TYPED_TEST(KvStoreTest, SeekLandsOnFirstKeyAtOrAfterTargetWithinBounds) {
  this->PutTenKeys(Partition::kRows);
  ReadOptions options;
  options.lower_bound = "k2";
  options.upper_bound = "k7";
  auto it = this->store_->NewIterator(Partition::kRows, options);
  it->Seek("a");  // below the lower bound: clamped to it
  EXPECT_EQ(this->At(*it), "k2");
  it->Seek("k5");
  EXPECT_EQ(this->At(*it), "k5");
  EXPECT_EQ(it->value(), "v5");
  it->Seek("k55");
  EXPECT_EQ(this->At(*it), "k6");
  it->Next();
  EXPECT_EQ(this->At(*it), "<invalid>");
  it->Seek("k7");  // the upper bound is exclusive
  EXPECT_EQ(this->At(*it), "<invalid>");
  it->Seek("z");
  EXPECT_EQ(this->At(*it), "<invalid>");
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(KvStoreTest, SeekForPrevLandsOnLastKeyAtOrBeforeTargetWithinBounds) {
  this->PutTenKeys(Partition::kRows);
  ReadOptions options;
  options.lower_bound = "k2";
  options.upper_bound = "k7";
  auto it = this->store_->NewIterator(Partition::kRows, options);
  it->SeekForPrev("k5");
  EXPECT_EQ(this->At(*it), "k5");
  it->SeekForPrev("k55");
  EXPECT_EQ(this->At(*it), "k5");
  it->Prev();
  EXPECT_EQ(this->At(*it), "k4");
  it->SeekForPrev("z");  // above the upper bound: clamped below it
  EXPECT_EQ(this->At(*it), "k6");
  it->SeekForPrev("k7");
  EXPECT_EQ(this->At(*it), "k6");
  it->SeekForPrev("k2");
  EXPECT_EQ(this->At(*it), "k2");
  it->Prev();
  EXPECT_EQ(this->At(*it), "<invalid>");
  it->SeekForPrev("k1");  // below the lower bound
  EXPECT_EQ(this->At(*it), "<invalid>");

  auto unbounded = this->store_->NewIterator(Partition::kRows);
  unbounded->SeekForPrev("a");
  EXPECT_EQ(this->At(*unbounded), "<invalid>");
  unbounded->SeekForPrev("z");
  EXPECT_EQ(this->At(*unbounded), "k9");
  unbounded->SeekForPrev("k0");
  EXPECT_EQ(this->At(*unbounded), "k0");
}

TYPED_TEST(KvStoreTest, IteratorCanChangeDirection) {
  this->PutTenKeys(Partition::kRows);
  auto it = this->store_->NewIterator(Partition::kRows);
  it->Seek("k4");
  it->Next();
  EXPECT_EQ(this->At(*it), "k5");
  it->Prev();
  it->Prev();
  EXPECT_EQ(this->At(*it), "k3");
  it->Next();
  EXPECT_EQ(this->At(*it), "k4");
}

TYPED_TEST(KvStoreTest, IteratorKeepsItsOwnCopyOfBounds) {
  this->PutTenKeys(Partition::kRows);
  std::unique_ptr<KvIterator> it;
  {
    auto options = std::make_unique<ReadOptions>();
    options->lower_bound = "k3";
    options->upper_bound = "k5";
    it = this->store_->NewIterator(Partition::kRows, *options);
    options->lower_bound.assign(64, 'z');  // clobber, then free, the caller's strings
    options->upper_bound.assign(64, 'z');
  }
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_EQ(keys, (std::vector<std::string>{"k3", "k4"}));
  it->SeekToLast();
  EXPECT_EQ(this->At(*it), "k4");
}

TYPED_TEST(KvStoreTest, IteratorSeesStoreAsOfItsCreation) {
  this->PutTenKeys(Partition::kRows);
  auto it = this->store_->NewIterator(Partition::kRows);
  this->Put(Partition::kRows, "k10", "new");
  this->Delete(Partition::kRows, "k0");
  WriteBatch drop;
  drop.DeleteRange(Partition::kRows, "k5", "k9");
  ASSERT_TRUE(this->store_->Write(drop).ok());
  std::vector<std::string> keys;
  for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
  EXPECT_EQ(keys.size(), 10u);
  EXPECT_EQ(keys.front(), "k0");
  EXPECT_EQ(Keys(this->Scan(Partition::kRows)),
            (std::vector<std::string>{"k1", "k10", "k2", "k3", "k4", "k9"}));
}

TYPED_TEST(KvStoreTest, EmptyPartitionIteratesNothing) {
  auto it = this->store_->NewIterator(Partition::kStream);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  EXPECT_FALSE(it->Valid());
  it->SeekForPrev("a");
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
}

TYPED_TEST(KvStoreTest, SnapshotHidesLaterWrites) {
  this->Put(Partition::kRows, "a", "1");
  this->Put(Partition::kRows, "b", "1");
  this->Put(Partition::kRows, "d", "1");
  auto snapshot = this->store_->GetSnapshot();
  ASSERT_NE(snapshot, nullptr);

  this->Put(Partition::kRows, "a", "2");
  this->Delete(Partition::kRows, "b");
  this->Put(Partition::kRows, "c", "2");
  WriteBatch drop;
  drop.DeleteRange(Partition::kRows, "d", "e");
  ASSERT_TRUE(this->store_->Write(drop).ok());

  EXPECT_EQ(this->Get(Partition::kRows, "a", snapshot.get()), "1");
  EXPECT_EQ(this->Get(Partition::kRows, "b", snapshot.get()), "1");
  EXPECT_EQ(this->Get(Partition::kRows, "c", snapshot.get()), std::nullopt);
  EXPECT_EQ(this->Get(Partition::kRows, "d", snapshot.get()), "1");
  auto multi = this->store_->MultiGet(Partition::kRows, {"c", "a", "d"}, snapshot.get());
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(*multi, (std::vector<std::optional<std::string>>{std::nullopt, "1", "1"}));
  ReadOptions at_snapshot;
  at_snapshot.snapshot = snapshot.get();
  EXPECT_EQ(this->Scan(Partition::kRows, at_snapshot),
            (Entries{{"a", "1"}, {"b", "1"}, {"d", "1"}}));

  EXPECT_EQ(this->Scan(Partition::kRows), (Entries{{"a", "2"}, {"c", "2"}}));
}

TYPED_TEST(KvStoreTest, EachSnapshotKeepsItsOwnView) {
  std::vector<std::shared_ptr<const KvSnapshot>> snapshots;
  for (int i = 0; i < 5; ++i) {
    this->Put(Partition::kPk, "counter", std::to_string(i));
    snapshots.push_back(this->store_->GetSnapshot());
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(this->Get(Partition::kPk, "counter", snapshots[i].get()), std::to_string(i));
  }
  snapshots.erase(snapshots.begin() + 1, snapshots.begin() + 4);  // release some, keep others
  this->Put(Partition::kPk, "counter", "last");
  EXPECT_EQ(this->Get(Partition::kPk, "counter", snapshots[0].get()), "0");
  EXPECT_EQ(this->Get(Partition::kPk, "counter", snapshots[1].get()), "4");
  EXPECT_EQ(this->Get(Partition::kPk, "counter"), "last");
}

TYPED_TEST(KvStoreTest, IteratorOverSnapshotOutlivesTheSnapshotHandle) {
  this->PutTenKeys(Partition::kRows);
  auto snapshot = this->store_->GetSnapshot();
  ReadOptions options;
  options.snapshot = snapshot.get();
  auto it = this->store_->NewIterator(Partition::kRows, options);
  this->Delete(Partition::kRows, "k0");
  it->SeekToFirst();
  EXPECT_EQ(this->At(*it), "k0");
}

TYPED_TEST(KvStoreTest, SnapshotFromAnotherStoreIsRejected) {
  auto other = NewMemoryStore();
  auto foreign = other->GetSnapshot();
  auto got = this->store_->Get(Partition::kRows, "a", foreign.get());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  auto multi = this->store_->MultiGet(Partition::kRows, {"a"}, foreign.get());
  EXPECT_EQ(multi.status().code(), StatusCode::kInvalidArgument);
  ReadOptions options;
  options.snapshot = foreign.get();
  auto it = this->store_->NewIterator(Partition::kRows, options);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  EXPECT_EQ(it->status().code(), StatusCode::kInvalidArgument);
}

TYPED_TEST(KvStoreTest, MultiGetKeepsRequestOrderAndReportsMissingKeys) {
  this->Put(Partition::kPk, "a", "A");
  this->Put(Partition::kPk, "c", "C");
  this->Put(Partition::kPk, "e", "");
  auto values = this->store_->MultiGet(Partition::kPk, {"c", "missing", "a", "c", "", "e"});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(*values, (std::vector<std::optional<std::string>>{"C", std::nullopt, "A", "C",
                                                               std::nullopt, ""}));
}

TYPED_TEST(KvStoreTest, MultiGetOfNoKeysIsEmpty) {
  auto values = this->store_->MultiGet(Partition::kPk, {});
  ASSERT_TRUE(values.ok());
  EXPECT_TRUE(values->empty());
}

TYPED_TEST(KvStoreTest, ApproximateSizeGrowsWithStoredData) {
  EXPECT_EQ(this->store_->ApproximateSize(Partition::kRows, "t1/", "t2"), 0u);
  WriteBatch batch;
  for (int i = 0; i < 2000; ++i) {
    char key[16];
    snprintf(key, sizeof key, "t1/%05d", i);
    batch.Put(Partition::kRows, key, std::string(100, static_cast<char>('a' + i % 26)));
  }
  ASSERT_TRUE(this->store_->Write(batch).ok());
  ASSERT_TRUE(this->store_->Flush().ok());
  uint64_t table = this->store_->ApproximateSize(Partition::kRows, "t1/", "t2");
  EXPECT_GT(table, 10'000u);
  EXPECT_GT(this->store_->ApproximateSize(Partition::kRows, "t1/", ""), 10'000u)
      << "empty end = to the end of the partition";
  EXPECT_LT(this->store_->ApproximateSize(Partition::kRows, "t2", "t3"), table);
  EXPECT_EQ(this->store_->ApproximateSize(Partition::kRows, "t2", "t1"), 0u);
  EXPECT_EQ(this->store_->ApproximateSize(Partition::kPk, "t1/", "t2"), 0u);
}

TYPED_TEST(KvStoreTest, FlushKeepsDataReadable) {
  this->PutTenKeys(Partition::kSystem);
  this->Put(Partition::kMeta, "node_id", "1");
  ASSERT_TRUE(this->store_->Flush().ok());
  EXPECT_EQ(this->Scan(Partition::kSystem).size(), 10u);
  EXPECT_EQ(this->Get(Partition::kMeta, "node_id"), "1");
}

TEST(PartitionNameTest, NamesAreTheColumnFamilyNames) {
  EXPECT_EQ(PartitionName(Partition::kRows), "rows");
  EXPECT_EQ(PartitionName(Partition::kPk), "pk");
  EXPECT_EQ(PartitionName(Partition::kStream), "stream");
  EXPECT_EQ(PartitionName(Partition::kSystem), "system");
  EXPECT_EQ(PartitionName(Partition::kMeta), "meta");
  EXPECT_EQ(PartitionName(Partition::kTopic), "topic");
}

TEST(WriteBatchTest, RecordsOpsInOrderAndCountsBytes) {
  WriteBatch batch;
  EXPECT_TRUE(batch.empty());
  batch.Put(Partition::kRows, "key", "value");
  batch.Delete(Partition::kPk, "k");
  batch.DeleteRange(Partition::kStream, "a", "bc");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.bytes(), 8u + 1u + 3u);
  EXPECT_EQ(batch.ops()[0].kind, WriteBatch::OpKind::kPut);
  EXPECT_EQ(batch.ops()[0].value, "value");
  EXPECT_EQ(batch.ops()[1].kind, WriteBatch::OpKind::kDelete);
  EXPECT_EQ(batch.ops()[1].partition, Partition::kPk);
  EXPECT_EQ(batch.ops()[2].kind, WriteBatch::OpKind::kDeleteRange);
  EXPECT_EQ(batch.ops()[2].key, "a");
  EXPECT_EQ(batch.ops()[2].value, "bc");
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.bytes(), 0u);
}

}  // namespace
}  // namespace kalam::storage
