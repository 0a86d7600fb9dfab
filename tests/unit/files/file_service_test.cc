// Tests for FileService's records through real commits: a staged file becomes referenced in the
// commit that stores its FileRef, an UPDATE that replaces it deletes it only after that commit,
// copies keep a file alive, failed statements and crashes leave no file, DROP TABLE removes all.
#include "files/file_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "catalog/storage_catalog.h"
#include "commit/commit_pipeline.h"
#include "filestore/sha256.h"
#include "table/keys.h"

namespace kalam::files {
namespace {

namespace fs = std::filesystem;

class FileServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kalam_files_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    catalog_ = std::move(catalog::Catalog::Open(*kv_, Clock::System())).value();
    storages_ = std::move(catalog::StorageCatalog::Open(*kv_, Clock::System(),
                                                        (dir_ / "storage").string()))
                    .value();
    cold_ = std::make_unique<table::ColdStore>(*kv_, *storages_, 1 << 20);
    ASSERT_TRUE(cold_->Load().ok());
    files_ = NewService();
    ASSERT_TRUE(files_->Start().ok());
    pipeline_ = std::make_unique<commit::CommitPipeline>(*kv_, ids_);
    pipeline_->SetCommitHook(files_.get());
    ASSERT_TRUE(pipeline_->Start().ok());
    catalog::TableDef d;
    d.namespace_id = "default";
    d.table_name = "t";
    d.type = catalog::TableType::kShared;
    catalog::ColumnDef id, f;
    id.name = "id";
    id.type = DataType{TypeKind::kBigInt};
    id.primary_key = true;
    id.nullable = false;
    f.name = "f";
    f.type = DataType{TypeKind::kFile};
    d.columns = {id, f};
    bool created = false;
    table_ = std::move(catalog_->CreateTable(d, false, &created)).value();
  }
  void TearDown() override {
    pipeline_->Stop();
    files_->Stop();
    fs::remove_all(dir_);
  }

  std::unique_ptr<FileService> NewService() {
    return std::make_unique<FileService>(*kv_, *catalog_, *cold_, ids_, FileLimits{},
                                          (dir_ / "tmp").string(), std::chrono::hours(1));
  }

  FileRef StageText(const std::string& name, const std::string& text) {
    fs::create_directories(dir_);
    const std::string path = (dir_ / ("src-" + name)).string();
    std::ofstream(path, std::ios::binary) << text;
    auto digest = filestore::Sha256OfFile(path).value();
    auto ref = files_->Stage(*table_, "", path, name, "text/plain", digest.size_bytes,
                             digest.sha256);
    EXPECT_TRUE(ref.ok()) << ref.status().ToString();
    return *ref;
  }

  fs::path PathOf(const FileRef& ref) {
    return dir_ / "storage" / "default" / "t" / ref.sub / ref.StoredName();
  }

  // Commits row `id` with FILE value `value` (NULL when empty) over `base` (the previous value,
  // empty for an insert).
  void Write(int64_t id, const std::string& value, const std::string& base = "") {
    table::StagedRow r;
    r.table = table_;
    r.pk = Value::Int(id);
    r.pk_key = table::PkKey(table_->table_id, "", r.pk);
    r.live = true;
    r.values = {Value::Int(id), value.empty() ? Value::Null() : Value::Text(value)};
    if (!base.empty() || seq_.count(id)) {
      r.base_live = true;
      r.base_seq = seq_[id];
      r.base_values = {Value::Int(id), base.empty() ? Value::Null() : Value::Text(base)};
    }
    table::WriteSet ws;
    ws.Stage(std::move(r));
    auto seqs = pipeline_->Commit(ws);
    ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
    seq_[id] = (*seqs)[0];
  }

  fs::path dir_;
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  SnowflakeGenerator ids_{1, Clock::System()};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<catalog::StorageCatalog> storages_;
  std::unique_ptr<table::ColdStore> cold_;
  std::unique_ptr<FileService> files_;
  std::unique_ptr<commit::CommitPipeline> pipeline_;
  std::shared_ptr<const catalog::TableDef> table_;
  std::map<int64_t, int64_t> seq_;
};

TEST_F(FileServiceTest, ReplacedFileIsDeletedOnlyAfterTheCommitAndTheCleaner) {
  FileRef a = StageText("a.txt", "aaa");
  EXPECT_EQ(a.sub, "f0001");
  ASSERT_TRUE(fs::exists(PathOf(a)));
  EXPECT_FALSE(files_->CommittedMime(table_->table_id, a.id)->has_value());  // staged only
  Write(1, a.ToJson());
  EXPECT_EQ(**files_->CommittedMime(table_->table_id, a.id), "text/plain");
  FileRef b = StageText("b.txt", "bb");
  Write(1, b.ToJson(), a.ToJson());
  // The commit moved `a` from referenced to "to delete" (the cleaner, woken by the commit, may
  // already have deleted it); a pass of our own finishes the job either way.
  EXPECT_FALSE(files_->CommittedMime(table_->table_id, a.id)->has_value());
  ASSERT_TRUE(files_->CleanOnce().ok());
  EXPECT_FALSE(fs::exists(PathOf(a)));
  EXPECT_TRUE(fs::exists(PathOf(b)));
  Write(1, "", b.ToJson());  // SET f = NULL
  ASSERT_TRUE(files_->CleanOnce().ok());
  EXPECT_FALSE(fs::exists(PathOf(b)));
}

TEST_F(FileServiceTest, CopiedReferencesKeepTheFile) {
  FileRef a = StageText("a.txt", "aaa");
  Write(1, a.ToJson());
  Write(2, a.ToJson());  // a copy of the FileRef text
  Write(1, "", a.ToJson());
  ASSERT_TRUE(files_->CleanOnce().ok());
  EXPECT_TRUE(fs::exists(PathOf(a)));
  Write(2, "{\"other\":1}", a.ToJson());
  ASSERT_TRUE(files_->CleanOnce().ok());
  EXPECT_FALSE(fs::exists(PathOf(a)));
}

TEST_F(FileServiceTest, DiscardAndRestartRemoveUncommittedFiles) {
  FileRef kept = StageText("k.txt", "k");
  Write(1, kept.ToJson());
  FileRef failed = StageText("f.txt", "f");
  files_->Discard(table_->table_id, {failed, kept});  // `kept` is committed: untouched
  EXPECT_FALSE(fs::exists(PathOf(failed)));
  EXPECT_TRUE(fs::exists(PathOf(kept)));
  FileRef crashed = StageText("c.txt", "c");
  fs::create_directories(dir_ / "tmp");
  std::ofstream(dir_ / "tmp" / "upload-body-1-2-3") << "partial";
  // A restart (the same records, a new service).
  pipeline_->Stop();
  files_->Stop();
  files_ = NewService();
  ASSERT_TRUE(files_->Start().ok());
  EXPECT_FALSE(fs::exists(PathOf(crashed)));
  EXPECT_TRUE(fs::exists(PathOf(kept)));
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
  pipeline_ = std::make_unique<commit::CommitPipeline>(*kv_, ids_);
  ASSERT_TRUE(pipeline_->Start().ok());
}

TEST_F(FileServiceTest, DroppedTableLosesAllItsFiles) {
  FileRef a = StageText("a.txt", "a");
  Write(1, a.ToJson());
  FileRef b = StageText("b.txt", "b");
  ASSERT_TRUE(files_->CleanOnce().ok());
  EXPECT_TRUE(fs::exists(PathOf(a)) && fs::exists(PathOf(b)));
  ASSERT_TRUE(catalog_->DropTable(*table_, storage::WriteBatch()).ok());
  ASSERT_TRUE(files_->CleanOnce().ok());
  EXPECT_FALSE(fs::exists(PathOf(a)));
  EXPECT_FALSE(fs::exists(PathOf(b)));
}

TEST_F(FileServiceTest, MimeAllowList) {
  FileLimits limits;
  limits.allowed_mime_types = {"image/*", "application/pdf"};
  FileService s(*kv_, *catalog_, *cold_, ids_, limits, (dir_ / "tmp2").string());
  EXPECT_TRUE(s.MimeAllowed("image/png"));
  EXPECT_TRUE(s.MimeAllowed("Application/PDF; charset=x"));
  EXPECT_FALSE(s.MimeAllowed("image/"));
  EXPECT_FALSE(s.MimeAllowed("imagex/png"));
  EXPECT_FALSE(s.MimeAllowed("text/plain"));
  EXPECT_TRUE(files_->MimeAllowed("anything/at-all"));
}

TEST(CommitHookChainTest, AFailingHookRollsBackTheOnesBeforeIt) {
  struct Hook : commit::CommitHook {
    Status result;
    std::vector<std::string> log;
    Status OnStamped(const std::vector<table::ChangeRecord>&, storage::WriteBatch*) override {
      log.push_back("stamped");
      return result;
    }
    void OnWritten(const Status& s) override { log.push_back(s.ok() ? "ok" : s.message()); }
  } first, second;
  second.result = Status::IoError("disk");
  commit::CommitHookChain chain({&first, &second});
  storage::WriteBatch b;
  EXPECT_EQ(chain.OnStamped({}, &b).message(), "disk");
  EXPECT_EQ(first.log, (std::vector<std::string>{"stamped", "disk"}));
  EXPECT_EQ(second.log, (std::vector<std::string>{"stamped"}));
  second.result = Status::OK();
  ASSERT_TRUE(chain.OnStamped({}, &b).ok());
  chain.OnWritten(Status::OK());
  EXPECT_EQ(second.log.back(), "ok");
}

}  // namespace
}  // namespace kalam::files
