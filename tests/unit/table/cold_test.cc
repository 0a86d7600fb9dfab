// Tests for the cold tier: segment encoding of every type, decimal conversion, and ColdStore's
// merged reads (newest segment wins, tombstones, max_seq, pruning that never resurfaces a
// shadowed version) over a real local object store.
#include <gtest/gtest.h>

#include <filesystem>

#include "catalog/storage_catalog.h"
#include "common/clock.h"
#include "table/cold_format.h"
#include "table/cold_store.h"
#include "table/keys.h"
#include "table/table_store.h"

namespace kalam::table {
namespace {

catalog::TableDef Def() {
  catalog::TableDef d;
  d.table_id = 42;
  d.namespace_id = "ns";
  d.table_name = "t";
  d.type = catalog::TableType::kShared;
  d.schema_version = 1;
  auto add = [&](uint32_t id, std::string name, DataType type) {
    catalog::ColumnDef c;
    c.column_id = id;
    c.name = std::move(name);
    c.type = type;
    d.columns.push_back(c);
  };
  add(1, "id", DataType{TypeKind::kBigInt});
  d.columns[0].primary_key = true;
  d.columns[0].nullable = false;
  add(2, "b", DataType{TypeKind::kBoolean});
  add(3, "s", DataType{TypeKind::kSmallInt});
  add(4, "i", DataType{TypeKind::kInt});
  add(5, "f", DataType{TypeKind::kFloat});
  add(6, "d", DataType{TypeKind::kDouble});
  add(7, "dec", DataType{TypeKind::kDecimal, 10, 2});
  add(8, "bigdec", DataType{TypeKind::kDecimal, 30, 4});
  add(9, "txt", DataType{TypeKind::kText});
  add(10, "bin", DataType{TypeKind::kBytes});
  add(11, "js", DataType{TypeKind::kJson});
  add(12, "ts", DataType{TypeKind::kTimestamp});
  add(13, "dt", DataType{TypeKind::kDateTime});
  add(14, "day", DataType{TypeKind::kDate});
  add(15, "tm", DataType{TypeKind::kTime});
  add(16, "u", DataType{TypeKind::kUuid});
  add(17, "e", DataType{TypeKind::kEmbedding, 0, 0, 2});
  d.next_column_id = 18;
  return d;
}

ColdRow Row(const catalog::TableDef& def, int64_t id, int64_t seq, bool deleted = false) {
  ColdRow r;
  r.values = {Value::Int(id), Value::Int(id % 2), Value::Int(-id), Value::Int(id * 1000),
              Value::Double(0.5), Value::Double(-1.25 * id), Value::Text("-12.50"),
              Value::Text("12345678901234567890.1234"), Value::Text("héllo " + std::to_string(id)),
              Value::Bytes(std::string("\0\xff", 2)), Value::Text("{\"k\":1}"),
              Value::Int(1767225600000000 + id), Value::Int(-5), Value::Int(20000),
              Value::Int(3600000000), Value::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
              Value::Bytes(std::string("\0\0\x80\x3f\0\0\0\x40", 8))};
  r.pk_key = PkKey(def.table_id, "", r.values[0]);
  r.seq = seq;
  r.deleted = deleted;
  return r;
}

TEST(ColdFormatTest, EveryTypeRoundTripsThroughParquet) {
  auto def = Def();
  std::vector<ColdRow> rows = {Row(def, 1, 100), Row(def, 2, 101, true), Row(def, 3, 102)};
  rows[2].values[8] = Value::Null();  // nulls in optional columns
  rows[2].values[15] = Value::Null();
  rows[2].values[7] = Value::Null();
  auto enc = EncodeSegment(def, rows);
  ASSERT_TRUE(enc.ok()) << enc.status().ToString();
  EXPECT_EQ(enc->entry.row_count, 3);
  EXPECT_EQ(enc->entry.tombstones, 1);
  EXPECT_EQ(enc->entry.min_seq, 100);
  EXPECT_EQ(enc->entry.max_seq, 102);
  EXPECT_EQ(enc->entry.columns[0].min, Value::Int(1));
  EXPECT_EQ(enc->entry.columns[0].max, Value::Int(3));
  EXPECT_EQ(enc->entry.columns[8].null_count, 1);
  auto dec = DecodeSegment(def, "", enc->file);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  ASSERT_EQ((*dec)->size(), 3u);
  for (size_t i = 0; i < rows.size(); ++i) {
    ColdRow got = (*dec)->row(i).ToRow(def.columns.size());
    EXPECT_EQ(got.values, rows[i].values) << "row " << i;
    EXPECT_EQ(got.pk_key, rows[i].pk_key);
    EXPECT_EQ(got.seq, rows[i].seq);
    EXPECT_EQ(got.deleted, rows[i].deleted);
  }
}

TEST(ColdFormatTest, OldSegmentsReadUnderANewSchemaByColumnId) {
  auto def = Def();
  auto enc = EncodeSegment(def, {Row(def, 1, 5)});
  ASSERT_TRUE(enc.ok());
  auto next = def;
  next.schema_version = 2;
  next.columns.erase(next.columns.begin() + 8);  // drop "txt"
  next.columns[1].name = "renamed";              // rename "b"
  catalog::ColumnDef added;
  added.column_id = 18;
  added.name = "added";
  added.type = DataType{TypeKind::kInt};
  added.missing_value = Value::Int(7);
  next.columns.push_back(added);
  auto dec = DecodeSegment(next, "", enc->file);
  ASSERT_TRUE(dec.ok()) << dec.status().ToString();
  const auto v = (*dec)->row(0).ToRow(next.columns.size()).values;
  ASSERT_EQ(v.size(), next.columns.size());
  EXPECT_EQ(v[1], Value::Int(1));
  EXPECT_EQ(v[8], Value::Bytes(std::string("\0\xff", 2)));  // "bin" moved up
  EXPECT_EQ(v.back(), Value::Int(7));
}

TEST(ColdFormatTest, GarbageIsCorruptionNotACrash) {
  auto def = Def();
  for (std::string bad : {std::string(), std::string("PAR1"), std::string("PAR1xxxxPAR1"),
                          std::string(100, '\0')}) {
    auto dec = DecodeSegment(def, "", bad);
    EXPECT_FALSE(dec.ok());
  }
}

TEST(ColdFormatTest, DecimalConversions) {
  __int128 v = 0;
  ASSERT_TRUE(DecimalTextToUnscaled("-12.5", 2, &v));
  EXPECT_TRUE(v == -1250);
  EXPECT_EQ(DecimalUnscaledToText(-1250, 2), "-12.50");
  EXPECT_EQ(DecimalUnscaledToText(5, 3), "0.005");
  EXPECT_EQ(DecimalUnscaledToText(-5, 3), "-0.005");
  EXPECT_EQ(DecimalUnscaledToText(7, 0), "7");
  EXPECT_FALSE(DecimalTextToUnscaled("1.234", 2, &v));
  EXPECT_FALSE(DecimalTextToUnscaled("abc", 2, &v));
  EXPECT_FALSE(DecimalTextToUnscaled("", 2, &v));
}

class ColdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kalam_cold_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    kv_ = storage::NewMemoryStore();
    auto storages = catalog::StorageCatalog::Open(*kv_, clock_, dir_.string());
    ASSERT_TRUE(storages.ok()) << storages.status().ToString();
    storages_ = std::move(*storages);
    cold_ = std::make_unique<ColdStore>(*kv_, *storages_, 64 << 20);
    def_ = Def();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes a segment of `rows` to the scope and installs the manifest, as a flush does.
  void AddSegment(std::vector<ColdRow> rows) {
    auto current = cold_->Get(def_.table_id, "");
    auto next = std::make_shared<ScopeManifest>();
    if (current) *next = *current;
    else {
      auto loc = cold_->Locate(def_, "");
      ASSERT_TRUE(loc.ok());
      next->storage_id = loc->first;
      next->folder = loc->second;
    }
    auto enc = EncodeSegment(def_, rows);
    ASSERT_TRUE(enc.ok());
    const int64_t id = next->manifest.next_segment_id++;
    enc->entry.id = id;
    enc->entry.file = "seg-" + std::to_string(id) + ".parquet";
    auto store = cold_->StoreFor(next->storage_id);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Put(next->folder + "/" + enc->entry.file, enc->file).ok());
    next->manifest.segments.push_back(enc->entry);
    storage::WriteBatch batch;
    ColdStore::StageManifest(def_.table_id, "", next.get(), &batch);
    ASSERT_TRUE(kv_->Write(batch).ok());
    cold_->Install(def_.table_id, "", next);
  }

  std::vector<std::pair<int64_t, int64_t>> ScanAll(const std::vector<ColdBound>& bounds = {},
                                                   int64_t max_seq = INT64_MAX) {
    const std::string prefix = ScopePrefix(def_.table_id, "");
    auto cursor = cold_->Scan(def_, "", prefix, PrefixSuccessor(prefix), bounds, max_seq);
    EXPECT_TRUE(cursor.ok());
    std::vector<std::pair<int64_t, int64_t>> out;  // (id, seq), tombstones as -id
    for (; (*cursor)->Valid(); (*cursor)->Next()) {
      const auto r = (*cursor)->row();
      out.emplace_back(r.deleted ? -r.values[0].as_int() : r.values[0].as_int(), r.seq);
    }
    return out;
  }

  FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<storage::KvStore> kv_;
  std::unique_ptr<catalog::StorageCatalog> storages_;
  std::unique_ptr<ColdStore> cold_;
  catalog::TableDef def_;
};

TEST_F(ColdStoreTest, NewestSegmentWinsAndTombstonesShadow) {
  AddSegment({Row(def_, 1, 10), Row(def_, 2, 11), Row(def_, 3, 12)});
  AddSegment({Row(def_, 2, 20), Row(def_, 3, 21, true), Row(def_, 4, 22)});
  EXPECT_EQ(ScanAll(), (std::vector<std::pair<int64_t, int64_t>>{{1, 10}, {2, 20}, {-3, 21}, {4, 22}}));
  // As of _seq 15 the second segment did not exist yet.
  EXPECT_EQ(ScanAll({}, 15), (std::vector<std::pair<int64_t, int64_t>>{{1, 10}, {2, 11}, {3, 12}}));
  auto found = cold_->Find(def_, "", PkKey(def_.table_id, "", Value::Int(3)));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE((*found)->deleted);
  EXPECT_EQ((*found)->seq, 21);
  auto old = cold_->Find(def_, "", PkKey(def_.table_id, "", Value::Int(3)), 15);
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_FALSE((*old)->deleted);
  auto none = cold_->Find(def_, "", PkKey(def_.table_id, "", Value::Int(9)));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(ColdStoreTest, PruningNeverResurfacesAShadowedVersion) {
  // Segment 1: id 1 with i = 1000. Segment 2: id 1 updated to i = 5000.
  auto r1 = Row(def_, 1, 10);
  auto r2 = Row(def_, 1, 20);
  r2.values[3] = Value::Int(5000);
  AddSegment({r1});
  AddSegment({r2});
  // `i < 2000` excludes segment 2 by statistics, but segment 1 holds an older version of the same
  // key, so segment 2 must still be read: the merged row is the new one (the caller filters it).
  ColdBound b{3, ColdBound::Op::kLt, Value::Int(2000)};
  EXPECT_EQ(ScanAll({b}), (std::vector<std::pair<int64_t, int64_t>>{{1, 20}}));
  // `i > 4000` excludes segment 1, which shadows nothing older: skipped.
  ColdBound b2{3, ColdBound::Op::kGt, Value::Int(4000)};
  EXPECT_EQ(ScanAll({b2}), (std::vector<std::pair<int64_t, int64_t>>{{1, 20}}));
}

TEST_F(ColdStoreTest, ScanStatsCountReadAndSkippedSegments) {
  AddSegment({Row(def_, 1, 10), Row(def_, 2, 11)});
  AddSegment({Row(def_, 3, 12), Row(def_, 4, 13)});
  AddSegment({Row(def_, 5, 14), Row(def_, 6, 15)});
  const std::string prefix = ScopePrefix(def_.table_id, "");
  auto key = [&](int64_t id) { return PkKey(def_.table_id, "", Value::Int(id)); };
  // Key range [3, 5): only the second segment.
  ColdScanStats stats;
  auto cursor = cold_->Scan(def_, "", key(3), key(5), {}, INT64_MAX, &stats);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ((std::vector<int64_t>{stats.segments, stats.read, stats.skipped_key_range,
                                  stats.skipped_stats}),
            (std::vector<int64_t>{3, 1, 2, 0}));
  auto plan = cold_->PlanScan(def_, "", key(3), key(5));
  EXPECT_EQ((std::vector<int64_t>{plan.segments, plan.read, plan.skipped_key_range,
                                  plan.skipped_stats}),
            (std::vector<int64_t>{3, 1, 2, 0}));
  // id > 4 by statistics over the whole scope: the first two segments are skipped.
  ColdBound b{0, ColdBound::Op::kGt, Value::Int(4)};
  plan = cold_->PlanScan(def_, "", prefix, PrefixSuccessor(prefix), {b});
  EXPECT_EQ((std::vector<int64_t>{plan.segments, plan.read, plan.skipped_key_range,
                                  plan.skipped_stats}),
            (std::vector<int64_t>{3, 1, 0, 2}));
  // As of _seq 11 the later segments did not exist: skipped like rows out of range.
  plan = cold_->PlanScan(def_, "", prefix, PrefixSuccessor(prefix), {}, 11);
  EXPECT_EQ((std::vector<int64_t>{plan.segments, plan.read, plan.skipped_key_range,
                                  plan.skipped_stats}),
            (std::vector<int64_t>{3, 1, 2, 0}));
}

TEST_F(ColdStoreTest, ManifestsSurviveReload) {
  AddSegment({Row(def_, 1, 10)});
  ColdStore again(*kv_, *storages_, 1 << 20);
  ASSERT_TRUE(again.Load().ok());
  auto sm = again.Get(def_.table_id, "");
  ASSERT_TRUE(sm);
  EXPECT_EQ(sm->manifest.segments.size(), 1u);
  EXPECT_EQ(sm->folder, "ns/t");
  EXPECT_TRUE(again.HasTable(def_.table_id));
  EXPECT_EQ(again.StatsOf(def_.table_id).rows, 1);
}

TEST_F(ColdStoreTest, HeldDeletesKeepADroppedTablesFilesUntilTheLastRelease) {
  AddSegment({Row(def_, 1, 10)});
  const auto segment = dir_ / "ns" / "t" / "seg-1.parquet";
  ASSERT_TRUE(std::filesystem::exists(segment));
  cold_->HoldDeletes();
  cold_->HoldDeletes();
  EXPECT_TRUE(cold_->DeletesHeld());
  ASSERT_TRUE(cold_->ForgetTable(def_.table_id).ok());
  EXPECT_FALSE(cold_->HasTable(def_.table_id));  // forgotten at once
  EXPECT_TRUE(std::filesystem::exists(segment));  // but its file stays while a backup runs
  ASSERT_TRUE(cold_->ReleaseDeletes().ok());
  EXPECT_TRUE(std::filesystem::exists(segment));  // one hold left
  ASSERT_TRUE(cold_->ReleaseDeletes().ok());
  EXPECT_FALSE(cold_->DeletesHeld());
  EXPECT_FALSE(std::filesystem::exists(segment));
}

TEST_F(ColdStoreTest, ForgetTableWithoutHoldDeletesAtOnce) {
  AddSegment({Row(def_, 1, 10)});
  ASSERT_TRUE(cold_->ForgetTable(def_.table_id).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "ns" / "t" / "seg-1.parquet"));
}

TEST_F(ColdStoreTest, TableStoreMergesHotOverCold) {
  AddSegment({Row(def_, 1, 10), Row(def_, 2, 11)});
  TableStore store(*kv_, cold_.get());
  // A newer hot version of id 2 and a hot-only id 3.
  auto def = std::make_shared<const catalog::TableDef>(def_);
  for (int64_t id : {2, 3}) {
    StagedRow row;
    row.table = def;
    row.pk = Value::Int(id);
    row.pk_key = PkKey(def_.table_id, "", row.pk);
    row.live = true;
    row.values = Row(def_, id, 0).values;
    row.values[8] = Value::Text("hot");
    storage::WriteBatch batch;
    TableStore::AppendCommit(row, 30 + id, &batch);
    ASSERT_TRUE(kv_->Write(batch).ok());
  }
  const std::string prefix = ScopePrefix(def_.table_id, "");
  auto scan = store.NewScan(def_, "", prefix, PrefixSuccessor(prefix));
  ASSERT_TRUE(scan.ok());
  std::vector<std::pair<int64_t, std::string>> got;
  for (; (*scan)->Valid(); (*scan)->Next()) {
    got.emplace_back((*scan)->values()[0].as_int(), (*scan)->values()[8].as_text());
  }
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{
                     {1, "héllo 1"}, {2, "hot"}, {3, "hot"}}));
  auto one = store.GetByKey(def_, "", PkKey(def_.table_id, "", Value::Int(1)));
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->seq, 10);
  int live = 0;
  ASSERT_TRUE(store.ForEachLiveRow(def_, [&](const std::vector<Value>&) {
    ++live;
    return Status::OK();
  }).ok());
  EXPECT_EQ(live, 3);
}

}  // namespace
}  // namespace kalam::table
