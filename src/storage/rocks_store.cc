// RocksStore: KvStore over RocksDB column families; options tuned for a small (2-core) machine.
#include "storage/rocks_store.h"

#include <algorithm>
#include <utility>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "storage/rocks_status.h"

namespace kalam::storage {
namespace {

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Owns one rocksdb::Snapshot and releases it when the last shared owner drops it.
class RocksSnapshot final : public KvSnapshot {
 public:
  RocksSnapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snapshot_); }

  const rocksdb::DB* db() const { return db_; }
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB* const db_;  // not owned; the store outlives its snapshots
  const rocksdb::Snapshot* const snapshot_;
};


// Wraps a rocksdb::Iterator and owns the bound strings its ReadOptions point to: RocksDB keeps
// only Slices, so the bytes must live exactly as long as the iterator.
class RocksIterator final : public KvIterator {
 public:
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snap,
                const ReadOptions& options)
      : lower_(options.lower_bound), upper_(options.upper_bound) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    if (!lower_.empty()) {
      lower_slice_ = rocksdb::Slice(lower_);
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
  }

  // Targets outside the bounds are clamped so both backends agree exactly.
  void Seek(std::string_view key) override {
    if (!lower_.empty() && key < std::string_view(lower_)) key = lower_;
    it_->Seek(ToSlice(key));
  }
  void SeekForPrev(std::string_view key) override {
    if (!upper_.empty() && key >= std::string_view(upper_)) {
      it_->SeekToLast();  // last key below the upper bound
      return;
    }
    it_->SeekForPrev(ToSlice(key));
  }
  void SeekToFirst() override { it_->SeekToFirst(); }
  void SeekToLast() override { it_->SeekToLast(); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  void Prev() override { it_->Prev(); }
  std::string_view key() const override {
    rocksdb::Slice k = it_->key();
    return {k.data(), k.size()};
  }
  std::string_view value() const override {
    rocksdb::Slice v = it_->value();
    return {v.data(), v.size()};
  }
  Status status() const override { return FromRocksStatus(it_->status(), "Storage scan"); }

 private:
  // Declared before it_ so they are destroyed after it.
  const std::string lower_;
  const std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

bool Supported(rocksdb::CompressionType type) {
  static const std::vector<rocksdb::CompressionType> kSupported =
      rocksdb::GetSupportedCompressions();
  return std::find(kSupported.begin(), kSupported.end(), type) != kSupported.end();
}

rocksdb::ColumnFamilyOptions PartitionOptions(Partition p, const RocksOptions& options,
                                              const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = options.write_buffer_bytes;
  // Upper levels are rewritten often, so they get a cheap codec; the bottommost level holds most
  // of the data and is rewritten rarely, so it gets the dense one.
  cf.compression = Supported(rocksdb::kLZ4Compression) ? rocksdb::kLZ4Compression
                                                       : rocksdb::kNoCompression;
  cf.bottommost_compression = Supported(rocksdb::kZSTD) ? rocksdb::kZSTD : cf.compression;
  cf.level_compaction_dynamic_level_bytes = true;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  // Index and filter blocks count against the block cache so block_cache_bytes bounds read
  // memory; L0's stay pinned because every read touches them.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  if (p == Partition::kPk) {
    // PK lookups (uniqueness checks, point SELECTs) are whole-key Gets that mostly miss in all
    // but one level.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = true;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

RocksStore::RocksStore(ConstructionKey, std::string path, std::shared_ptr<rocksdb::Cache> cache)
    : path_(std::move(path)), block_cache_(std::move(cache)) {}

// Safe to ignore Close's error here: every write was acknowledged only after its WAL record was
// written, so a close that fails (unreleased snapshots: a caller bug; or a background error)
// loses nothing that the next Open does not replay, and db_ is released either way. Callers
// that must see the error call Close() first, as the header says.
RocksStore::~RocksStore() { (void)Close(); }

Result<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& path,
                                                     const RocksOptions& options) {
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  auto store = std::make_unique<RocksStore>(ConstructionKey(), path, cache);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.max_subcompactions = 1;
  // Small partitions (meta, system) rarely fill a memtable; without a cap they would pin old WAL
  // files forever. Past this size RocksDB flushes the column families holding the oldest WAL.
  db_options.max_total_wal_size = 4 * options.write_buffer_bytes;
  db_options.keep_log_file_num = 5;

  // Every existing column family must be opened; keep unknown ones (from a newer version) open
  // but unused.
  std::vector<std::string> existing;
  if (!rocksdb::DB::ListColumnFamilies(db_options, path, &existing).ok()) existing.clear();

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kPartitionCount; ++i) {
    auto p = static_cast<Partition>(i);
    descriptors.emplace_back(std::string(PartitionName(p)), PartitionOptions(p, options, cache));
  }
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (const auto& name : existing) {
    bool known = std::any_of(descriptors.begin(), descriptors.end(),
                             [&](const auto& d) { return d.name == name; });
    if (!known) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, descriptors, &handles, &db);
  KALAM_RETURN_IF_ERROR(FromRocksOpenStatus(s, path));
  store->db_.reset(db);
  for (size_t i = 0; i < handles.size(); ++i) {
    if (i < static_cast<size_t>(kPartitionCount)) {
      store->partitions_[i] = handles[i];
    } else {
      store->other_handles_.push_back(handles[i]);
    }
  }
  return store;
}

Status RocksStore::Close() {
  if (db_ == nullptr) return Status::OK();
  // DestroyColumnFamilyHandle fails only for the handle DB::DefaultColumnFamily() returns, which
  // is never among ours (DB::Open hands out handles of its own, also for "default"); on every
  // other path it deletes the handle and returns OK. Nothing to report.
  for (auto*& h : partitions_) {
    if (h != nullptr) (void)db_->DestroyColumnFamilyHandle(h);
    h = nullptr;
  }
  for (auto* h : other_handles_) (void)db_->DestroyColumnFamilyHandle(h);
  other_handles_.clear();
  Status status = FromRocksStatus(db_->Close(), "Closing storage");
  db_.reset();
  return status;
}

Result<rocksdb::ColumnFamilyHandle*> RocksStore::Handle(Partition p) const {
  if (db_ == nullptr) return Status::Unavailable("Storage is closed");
  auto index = static_cast<size_t>(p);
  if (index >= partitions_.size()) {
    return Status::InvalidArgument("Unknown storage partition " + std::to_string(index));
  }
  return partitions_[index];
}

namespace {

// The rocksdb::Snapshot behind `snapshot`, which must come from `db`.
Result<const rocksdb::Snapshot*> Unwrap(const KvSnapshot* snapshot, const rocksdb::DB* db) {
  if (snapshot == nullptr) return static_cast<const rocksdb::Snapshot*>(nullptr);
  auto* rocks = dynamic_cast<const RocksSnapshot*>(snapshot);
  if (rocks == nullptr || rocks->db() != db) {
    return Status::InvalidArgument("Snapshot belongs to another store");
  }
  return rocks->get();
}

}  // namespace

Result<std::optional<std::string>> RocksStore::Get(Partition p, std::string_view key,
                                                   const KvSnapshot* snapshot) {
  KALAM_ASSIGN_OR_RETURN(auto* cf, Handle(p));
  rocksdb::ReadOptions ro;
  KALAM_ASSIGN_OR_RETURN(ro.snapshot, Unwrap(snapshot, db_.get()));
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(ro, cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  KALAM_RETURN_IF_ERROR(FromRocksStatus(s, "Storage read"));
  return std::optional<std::string>(value.ToString());
}

Result<std::vector<std::optional<std::string>>> RocksStore::MultiGet(
    Partition p, const std::vector<std::string>& keys, const KvSnapshot* snapshot) {
  KALAM_ASSIGN_OR_RETURN(auto* cf, Handle(p));
  rocksdb::ReadOptions ro;
  KALAM_ASSIGN_OR_RETURN(ro.snapshot, Unwrap(snapshot, db_.get()));
  std::vector<std::optional<std::string>> out(keys.size());
  if (keys.empty()) return out;
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(ro, cf, keys.size(), slices.data(), values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    KALAM_RETURN_IF_ERROR(FromRocksStatus(statuses[i], "Storage read"));
    out[i] = values[i].ToString();
  }
  return out;
}

Status RocksStore::Write(const WriteBatch& batch, const WriteOptions& options) {
  if (db_ == nullptr) return Status::Unavailable("Storage is closed");
  rocksdb::WriteBatch rb(/*reserved_bytes=*/batch.bytes() + 32 * batch.size());
  for (const auto& op : batch.ops()) {
    KALAM_ASSIGN_OR_RETURN(auto* cf, Handle(op.partition));
    rocksdb::Status s;
    switch (op.kind) {
      case WriteBatch::OpKind::kPut: s = rb.Put(cf, op.key, op.value); break;
      case WriteBatch::OpKind::kDelete: s = rb.Delete(cf, op.key); break;
      case WriteBatch::OpKind::kDeleteRange:
        if (op.key >= op.value) continue;  // empty range
        s = rb.DeleteRange(cf, op.key, op.value);
        break;
    }
    KALAM_RETURN_IF_ERROR(FromRocksStatus(s, "Building storage batch"));
  }
  if (rb.Count() == 0) return Status::OK();
  rocksdb::WriteOptions wo;
  wo.sync = options.sync;
  return FromRocksStatus(db_->Write(wo, &rb), "Storage write");
}

std::unique_ptr<KvIterator> RocksStore::NewIterator(Partition p, const ReadOptions& options) {
  auto cf = Handle(p);
  if (!cf.ok()) return NewErrorIterator(cf.status());
  auto snap = Unwrap(options.snapshot, db_.get());
  if (!snap.ok()) return NewErrorIterator(snap.status());
  return std::make_unique<RocksIterator>(db_.get(), *cf, *snap, options);
}

std::shared_ptr<const KvSnapshot> RocksStore::GetSnapshot() {
  if (db_ == nullptr) return nullptr;
  return std::make_shared<RocksSnapshot>(db_.get(), db_->GetSnapshot());
}

Status RocksStore::Flush() {
  if (db_ == nullptr) return Status::Unavailable("Storage is closed");
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(partitions_.begin(), partitions_.end());
  rocksdb::FlushOptions fo;
  fo.wait = true;
  KALAM_RETURN_IF_ERROR(FromRocksStatus(db_->Flush(fo, cfs), "Storage flush"));
  return FromRocksStatus(db_->SyncWAL(), "Storage WAL sync");
}

KvEngineStats RocksStore::EngineStats() {
  KvEngineStats stats;
  if (db_ == nullptr) return stats;
  auto add = [&](rocksdb::ColumnFamilyHandle* cf) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) stats.memtable_bytes += v;
    if (db_->GetIntProperty(cf, "rocksdb.estimate-pending-compaction-bytes", &v)) {
      stats.pending_compaction_bytes += v;
    }
    if (db_->GetIntProperty(cf, "rocksdb.live-sst-files-size", &v)) stats.live_sst_bytes += v;
  };
  for (auto* cf : partitions_) {
    if (cf != nullptr) add(cf);
  }
  for (auto* cf : other_handles_) add(cf);
  rocksdb::VectorLogPtr wal_files;
  if (db_->GetSortedWalFiles(wal_files).ok()) {
    for (const auto& f : wal_files) {
      if (f->Type() == rocksdb::kAliveLogFile) stats.wal_bytes += f->SizeFileBytes();
    }
  }
  return stats;
}

uint64_t RocksStore::ApproximateSize(Partition p, std::string_view begin, std::string_view end) {
  auto cf = Handle(p);
  if (!cf.ok()) return 0;
  std::string limit(end);
  if (limit.empty()) {
    // No end: stop just past the partition's last key.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), *cf));
    it->SeekToLast();
    if (!it->Valid()) return 0;
    limit = it->key().ToString();
    limit.push_back('\0');
  }
  if (std::string_view(limit) <= begin) return 0;
  rocksdb::SizeApproximationOptions sao;
  sao.include_memtables = true;
  sao.include_files = true;
  rocksdb::Range range(ToSlice(begin), rocksdb::Slice(limit));
  uint64_t size = 0;
  if (!db_->GetApproximateSizes(sao, *cf, &range, 1, &size).ok()) return 0;
  return size;
}

Status RocksStore::Checkpoint(const std::string& dir) {
  if (db_ == nullptr) return Status::Unavailable("Storage is closed");
  rocksdb::Checkpoint* raw = nullptr;
  KALAM_RETURN_IF_ERROR(
      FromRocksStatus(rocksdb::Checkpoint::Create(db_.get(), &raw), "Storage checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  rocksdb::Status s = checkpoint->CreateCheckpoint(dir);
  if (!s.ok()) {
    return Status::IoError("Cannot create a storage checkpoint in '" + dir + "': " + s.ToString());
  }
  return Status::OK();
}

Result<std::unique_ptr<KvStore>> OpenRocksStore(const std::string& path,
                                                const RocksOptions& options) {
  KALAM_ASSIGN_OR_RETURN(auto store, RocksStore::Open(path, options));
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace kalam::storage
