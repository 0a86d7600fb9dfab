// Namespace backup and restore (jobs/namespace_backup.*): the manifest rewrite and the hot-row
// file format, and on a whole in-memory server (executor, job system): backup → restore AS
// another namespace gives identical rows under new table ids with every `rows` version and cold
// segment; a restore that fails part-way leaves no namespace, no table and no row behind.
#include "jobs/namespace_backup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "job_stack.h"
#include "catalog/storage_catalog.h"
#include "table/keys.h"

namespace kalam::jobs {
namespace {

namespace fs = std::filesystem;

TEST(RetargetManifestTest, SegmentsAreRenamedForTheNewTableAndNextIdNeverGoesBack) {
  table::Manifest m;
  m.next_segment_id = 4;
  for (auto [id, rows] : {std::pair<int64_t, int64_t>{1, 10}, {3, 2}}) {
    table::SegmentEntry e;
    e.file = "seg-00000" + std::to_string(id) + ".parquet";
    e.id = id;
    e.row_count = rows;
    m.segments.push_back(std::move(e));
  }
  table::Manifest out = RetargetManifest(m, 57, 0);
  ASSERT_EQ(out.segments.size(), 2u);
  EXPECT_EQ(out.segments[0].file, "batch-1-t57.parquet");
  EXPECT_EQ(out.segments[1].file, "batch-3-t57.parquet");
  EXPECT_EQ(out.segments[1].id, 3);
  EXPECT_EQ(out.segments[1].row_count, 2);
  EXPECT_EQ(out.next_segment_id, 4);
  // A replaced table that flushed further into the same folder: later flushes go past its names.
  EXPECT_EQ(RetargetManifest(m, 57, 9).next_segment_id, 9);
  EXPECT_EQ(RestoredSegmentFile(1234567, 8), "batch-1234567-t8.parquet");
  // The rewritten manifest is still a valid one.
  EXPECT_TRUE(table::DecodeManifest(table::EncodeManifest(out)).ok());
}

TEST(HotEntryTest, EntriesRoundTripAndMalformedOnesAreRefused) {
  std::string data(kHotFileMagic);
  AppendHotEntry(storage::Partition::kRows, table::RowKey(3, "u", 9), "v1", &data);
  AppendHotEntry(storage::Partition::kPk, std::string("k\0", 2), "", &data);
  size_t pos = kHotFileMagic.size();
  storage::Partition p{};
  std::string_view key, value;
  ASSERT_TRUE(ReadHotEntry(data, &pos, &p, &key, &value));
  EXPECT_EQ(p, storage::Partition::kRows);
  EXPECT_EQ(key, table::RowKey(3, "u", 9));
  EXPECT_EQ(value, "v1");
  ASSERT_TRUE(ReadHotEntry(data, &pos, &p, &key, &value));
  EXPECT_EQ(p, storage::Partition::kPk);
  EXPECT_EQ(key, std::string("k\0", 2));
  EXPECT_EQ(value, "");
  EXPECT_EQ(pos, data.size());
  EXPECT_FALSE(ReadHotEntry(data, &pos, &p, &key, &value));  // at the end
  for (size_t cut = kHotFileMagic.size() + 1; cut < data.size(); cut += 3) {
    std::string_view truncated(data.data(), cut);
    size_t at = kHotFileMagic.size();
    bool all = true;
    while (at < truncated.size() && all) all = ReadHotEntry(truncated, &at, &p, &key, &value);
    EXPECT_FALSE(all && at == truncated.size() && cut != data.size()) << cut;
  }
  std::string other_partition(kHotFileMagic);
  AppendHotEntry(storage::Partition::kSystem, "ns/x", "{}", &other_partition);
  pos = kHotFileMagic.size();
  EXPECT_FALSE(ReadHotEntry(other_partition, &pos, &p, &key, &value));
}

class NamespaceBackupTest : public JobStackTest {
 protected:
  std::string Rows(const std::string& text, const std::string& user = "root") {
    auto res = Run(text, user);
    EXPECT_TRUE(res.error.ok()) << text << " → " << res.error.ToString();
    return res.results.empty() ? "" : res.results[0].rows_json;
  }
  void Flush(const std::string& ns, const std::string& table) {
    auto started = jobs_->FlushTable(catalog_->snapshot()->FindTable(ns, table));
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    jobs_->manager().WaitIdle();
    ASSERT_EQ(jobs_->manager().Get(started->job_id)->status, sql::JobStatus::kCompleted);
  }
  // Entries of `table` in a partition.
  int64_t Count(storage::Partition p, catalog::TableId table) {
    storage::ReadOptions ro;
    ro.lower_bound = table::TableBegin(table);
    ro.upper_bound = table::TableEnd(table);
    auto it = store_.NewIterator(p, ro);
    int64_t n = 0;
    for (it->Seek(ro.lower_bound); it->Valid(); it->Next()) ++n;
    return n;
  }
  void MakeWorld() {
    Sql("CREATE NAMESPACE shop");
    Sql("CREATE SHARED TABLE shop.items (id BIGINT PRIMARY KEY, body TEXT)");
    Sql("CREATE USER TABLE shop.notes (id BIGINT PRIMARY KEY, body TEXT)");
    Sql("INSERT INTO shop.items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    Sql("INSERT INTO shop.notes VALUES (1, 'alice')", "alice");
    Sql("INSERT INTO shop.notes VALUES (1, 'bob')", "bob");
    Flush("shop", "items");
    Flush("shop", "notes");
    Sql("ALTER TABLE shop.items ADD COLUMN n INT");
    Sql("UPDATE shop.items SET body = 'a2', n = 1 WHERE id = 1");
    Sql("UPDATE shop.items SET body = 'a3' WHERE id = 1");
    Sql("DELETE FROM shop.items WHERE id = 2");
  }
  std::string Backup(const std::string& name) {
    const std::string path = (dir_ / "bk" / name).string();
    auto id = jobs_->BackupNamespace("shop", path);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    jobs_->manager().WaitIdle();
    auto job = jobs_->manager().Get(*id);
    EXPECT_EQ(job->status, sql::JobStatus::kCompleted) << job->message;
    return path;
  }
};

TEST_F(NamespaceBackupTest, RestoreAsAnotherNamespaceKeepsEveryVersionUnderNewTableIds) {
  MakeWorld();
  const std::string path = Backup("b");
  auto restored = jobs_->RestoreNamespace("shop", path, "copy", false);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->rfind("Namespace copy restored from '" + path + "' (2 table(s), ", 0), 0u)
      << *restored;
  auto snap = catalog_->snapshot();
  for (const char* t : {"items", "notes"}) {
    auto a = snap->FindTable("shop", t);
    auto b = snap->FindTable("copy", t);
    ASSERT_TRUE(a && b) << t;
    EXPECT_NE(a->table_id, b->table_id);
    EXPECT_EQ(b->schema_version, a->schema_version);
    EXPECT_EQ(b->namespace_id, "copy");
    // Every stored version (the `rows` log) and every PK entry, and every cold scope.
    EXPECT_EQ(Count(storage::Partition::kRows, b->table_id),
              Count(storage::Partition::kRows, a->table_id)) << t;
    EXPECT_EQ(Count(storage::Partition::kPk, b->table_id),
              Count(storage::Partition::kPk, a->table_id)) << t;
    EXPECT_EQ(cold_->ScopesOf(b->table_id).size(), cold_->ScopesOf(a->table_id).size()) << t;
    auto ha = catalog_->SchemaHistory(a->table_id);
    auto hb = catalog_->SchemaHistory(b->table_id);
    ASSERT_TRUE(ha.ok() && hb.ok());
    ASSERT_EQ(hb->size(), ha->size());
    for (size_t i = 0; i < ha->size(); ++i) {
      EXPECT_EQ((*hb)[i]->schema_version, (*ha)[i]->schema_version);
      EXPECT_EQ((*hb)[i]->table_id, b->table_id);
    }
  }
  // Hot since the flush: two versions of id 1 and the tombstone of id 2, under two PK entries.
  EXPECT_EQ(Count(storage::Partition::kRows, snap->FindTable("copy", "items")->table_id), 3);
  EXPECT_EQ(Count(storage::Partition::kPk, snap->FindTable("copy", "items")->table_id), 2);
  EXPECT_EQ(Rows("SELECT id, body, n, _seq FROM copy.items ORDER BY id"),
            Rows("SELECT id, body, n, _seq FROM shop.items ORDER BY id"));
  EXPECT_EQ(Rows("SELECT id, _seq FROM copy.items WHERE _deleted = true"),
            Rows("SELECT id, _seq FROM shop.items WHERE _deleted = true"));
  for (const char* who : {"alice", "bob"}) {
    EXPECT_EQ(Rows("SELECT id, body, _seq FROM copy.notes", who),
              Rows("SELECT id, body, _seq FROM shop.notes", who));
  }
  // The restored segments are files of their own, in the copy's folder.
  auto sm = cold_->Get(snap->FindTable("copy", "items")->table_id, "");
  ASSERT_TRUE(sm);
  ASSERT_EQ(sm->manifest.segments.size(), 1u);
  EXPECT_EQ(sm->folder.rfind("copy/", 0), 0u) << sm->folder;
  EXPECT_TRUE(fs::exists(dir_ / sm->folder / sm->manifest.segments[0].file));
  // A second restore into an existing name: refused naming it, nothing written.
  auto again = jobs_->RestoreNamespace("shop", path, "copy", false);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "Namespace 'copy' already exists; add REPLACE to replace it");
}

TEST_F(NamespaceBackupTest, ARestoreFailingPartWayLeavesNothingBehind) {
  MakeWorld();
  const std::string path = Backup("b");
  auto m = VerifyBackup(path);
  ASSERT_TRUE(m.ok());
  // A namespace backup is never restored offline as a database.
  auto db = RestoreBackup(path, (dir_ / "restored").string());
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "restored"));
  // The last segment (bob's notes) disappears after verification: the restore fails after writing
  // the hot rows of both tables and the segment of items.
  std::string segment;
  for (const auto& f : m->files) {
    if (f.path.ends_with(".parquet")) segment = f.path;
  }
  ASSERT_FALSE(segment.empty());
  fs::remove(fs::path(path) / segment);
  const auto first_free = catalog_->ReserveTableIds(0);
  ASSERT_TRUE(first_free.ok());
  NamespaceBackupSources src{store_, *pipeline_, *cold_, *catalog_, *storages_, "test"};
  auto r = RestoreNamespaceBackup(src, path, *m, "copy", false, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError) << r.status().ToString();
  auto snap = catalog_->snapshot();
  EXPECT_EQ(snap->FindNamespace("copy"), nullptr);
  EXPECT_TRUE(snap->TablesIn("copy").empty());
  for (catalog::TableId id = *first_free; id < *first_free + 2; ++id) {
    EXPECT_EQ(Count(storage::Partition::kRows, id), 0) << id;
    EXPECT_EQ(Count(storage::Partition::kPk, id), 0) << id;
    EXPECT_TRUE(cold_->ScopesOf(id).empty());
  }
  // The segment copied before the failure is gone.
  int copied = 0;
  if (fs::exists(dir_ / "copy")) {
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "copy")) {
      copied += e.path().extension() == ".parquet";
    }
  }
  EXPECT_EQ(copied, 0);
}

}  // namespace
}  // namespace kalam::jobs
