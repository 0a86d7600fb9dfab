// Tests for UserExportService on a fake clock: an export job writes the user's ZIP (only that
// user's current rows), SHOW EXPORT's rows, the idempotency conflict, refused user ids and
// download paths, and the retention run by the job scheduler's pass.
#include "exports/user_export_service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <future>

#include "catalog/storage_catalog.h"
#include "jobs/job_system.h"
#include "sql/executor.h"

namespace kalam::exports {
namespace {

namespace fs = std::filesystem;

class UserExportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kalam_export_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    clock_.Set(1767268800000000);  // 2026-01-01T12:00:00Z
    catalog_ = std::move(catalog::Catalog::Open(*kv_, clock_)).value();
    storages_ =
        std::move(catalog::StorageCatalog::Open(*kv_, clock_, (dir_ / "storage").string())).value();
    cold_ = std::make_unique<table::ColdStore>(*kv_, *storages_, 16 << 20);
    ASSERT_TRUE(cold_->Load().ok());
    tables_ = std::make_unique<table::TableStore>(*kv_, cold_.get());
    pipeline_ = std::make_unique<commit::CommitPipeline>(*kv_, ids_);
    pipeline_->SetColdStore(cold_.get());
    ASSERT_TRUE(pipeline_->Start().ok());
    pool_ = std::move(sql::SqlConnectionPool::Create(1, 16)).value();
    exec_ = std::make_unique<sql::Executor>(*catalog_, *tables_, *pipeline_, *pool_, ids_, clock_,
                                            sql::ExecutorOptions{});
    jobs::JobSystemOptions o;
    o.tick = std::chrono::hours(24);  // the background pass never comes: tests run their own
    jobs_ = std::make_unique<jobs::JobSystem>(*kv_, *catalog_, *tables_, *cold_, *pipeline_, ids_,
                                              clock_, o);
    UserExportOptions xo;
    xo.directory = (dir_ / "exports").string();
    xo.public_origin = "https://db.example.com";
    xo.retention = std::chrono::hours(2);
    exports_ = std::move(UserExportService::Create(*catalog_, *tables_, *kv_, *pipeline_,
                                                   jobs_->manager(), clock_, nullptr, xo))
                   .value();
    jobs_->AddScheduledTask([this] { exports_->DeleteExpired(); });
    ASSERT_TRUE(jobs_->Start().ok());
    exec_->set_job_service(jobs_.get());
    exec_->set_export_service(exports_.get());
    Sql("CREATE NAMESPACE ns", "root");
    Sql("CREATE USER TABLE ns.t (id INT PRIMARY KEY, v TEXT)", "root");
    Sql("INSERT INTO ns.t VALUES (1, 'a1'), (2, 'a2')", "alice");
    Sql("INSERT INTO ns.t VALUES (1, 'b1')", "bob");
    Sql("DELETE FROM ns.t WHERE id = 2", "alice");
  }
  void TearDown() override {
    jobs_->Stop();
    pipeline_->Stop();
    fs::remove_all(dir_);
  }

  sql::SqlResponse Run(const std::string& text, const std::string& user) {
    sql::SqlRequest r;
    r.sql = text;
    const auth::Role role = user == "root" ? auth::Role::kSystem : auth::Role::kUser;
    return exec_->Execute(r, sql::Caller{user, role});
  }
  void Sql(const std::string& text, const std::string& user) {
    auto res = Run(text, user);
    ASSERT_TRUE(res.error.ok()) << text << " → " << res.error.ToString();
  }

  fs::path dir_;
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;
  SnowflakeGenerator ids_{1, clock_};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<catalog::StorageCatalog> storages_;
  std::unique_ptr<table::ColdStore> cold_;
  std::unique_ptr<table::TableStore> tables_;
  std::unique_ptr<commit::CommitPipeline> pipeline_;
  std::unique_ptr<sql::SqlConnectionPool> pool_;
  std::unique_ptr<sql::Executor> exec_;
  std::unique_ptr<jobs::JobSystem> jobs_;
  std::unique_ptr<UserExportService> exports_;
};

TEST_F(UserExportServiceTest, AnExportWritesTheUsersZipAndShowsItsLink) {
  auto job = exports_->StartExport("alice");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->rfind("UE-", 0), 0u);
  jobs_->manager().WaitIdle();
  auto list = exports_->ListExports("alice");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].job_id, *job);
  EXPECT_EQ(list[0].status, "completed");
  EXPECT_EQ(list[0].download_url,
            "https://db.example.com/v1/exports/alice/export-alice-20260101-120000");
  EXPECT_EQ(list[0].message.rfind("Exported 1 row(s) from 1 of 1 table(s) (", 0), 0u)
      << list[0].message;
  EXPECT_TRUE(exports_->ListExports("bob").empty());
  auto zip = exports_->ReadExport("alice", "export-alice-20260101-120000");
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_EQ(zip->substr(0, 2), "PK");
  EXPECT_EQ(exports_->ReadExport("alice", "export-alice-20000101-000000").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(exports_->ReadExport("alice", "..").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(exports_->ReadExport("../alice", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(UserExportServiceTest, ASecondExportOfTheDayConflictsOnlyWhileTheFirstIsActive) {
  // Hold the one job thread so the export stays queued.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bool running = false;
  ASSERT_TRUE(jobs_->manager()
                  .Submit("XX", "test", "hold", "{}",
                          [released](jobs::JobContext&) -> Result<std::string> {
                            released.wait();
                            return std::string("done");
                          },
                          &running)
                  .ok());
  auto first = exports_->StartExport("alice");
  ASSERT_TRUE(first.ok());
  auto second = exports_->StartExport("alice");
  EXPECT_EQ(second.status().code(), StatusCode::kConflict);
  EXPECT_EQ(second.status().message(),
            "Idempotent conflict: Job with idempotency key 'user_export:alice:20260101' is "
            "already running or queued");
  EXPECT_TRUE(exports_->StartExport("bob").ok());  // another user's key
  release.set_value();
  jobs_->manager().WaitIdle();
  auto third = exports_->StartExport("alice");  // finished jobs do not conflict
  ASSERT_TRUE(third.ok());
  jobs_->manager().WaitIdle();
  auto list = exports_->ListExports("alice");
  ASSERT_EQ(list.size(), 2u);
  // Same second: the second file gets its own name.
  EXPECT_EQ(list[0].download_url,
            "https://db.example.com/v1/exports/alice/export-alice-20260101-120000-2");
}

TEST_F(UserExportServiceTest, UserIdsThatCannotNameAFileAreRefused) {
  for (const char* bad : {"a/b", "..", "x..y", "a\\b"}) {
    EXPECT_EQ(exports_->StartExport(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_TRUE(jobs_->ListJobs().empty());
}

TEST_F(UserExportServiceTest, ExportsPastTheRetentionAreDeletedAndShownExpired) {
  ASSERT_TRUE(exports_->StartExport("alice").ok());
  jobs_->manager().WaitIdle();
  const fs::path file = dir_ / "exports" / "alice" / "export-alice-20260101-120000.zip";
  ASSERT_TRUE(fs::exists(file));
  clock_.AdvanceSeconds(119 * 60);
  jobs_->RunScheduledWork();
  EXPECT_TRUE(fs::exists(file));  // 2 h retention not reached
  clock_.AdvanceSeconds(2 * 60);
  jobs_->RunScheduledWork();
  EXPECT_FALSE(fs::exists(file));
  auto list = exports_->ListExports("alice");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].status, "expired");
  EXPECT_EQ(list[0].download_url, "");
}

}  // namespace
}  // namespace kalam::exports
