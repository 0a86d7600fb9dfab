// JobStackTest: a whole in-process server stack below the HTTP layer (memory KV behind a
// FailingStore, catalog, storages under a temporary directory, cold store, commit pipeline,
// executor and a JobSystem whose background pass never runs) for tests that drive jobs themselves.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "../storage/failing_store.h"
#include "catalog/storage_catalog.h"
#include "jobs/job_system.h"
#include "sql/executor.h"

namespace kalam::jobs {

class JobStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kalam_jobs_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    catalog_ = std::move(catalog::Catalog::Open(store_, clock_)).value();
    storages_ = std::move(catalog::StorageCatalog::Open(store_, clock_, dir_.string())).value();
    cold_ = std::make_unique<table::ColdStore>(store_, *storages_, 16 << 20);
    ASSERT_TRUE(cold_->Load().ok());
    tables_ = std::make_unique<table::TableStore>(store_, cold_.get());
    pipeline_ = std::make_unique<commit::CommitPipeline>(store_, ids_);
    pipeline_->SetColdStore(cold_.get());
    ASSERT_TRUE(pipeline_->Start().ok());
    pool_ = std::move(sql::SqlConnectionPool::Create(1, 16)).value();
    exec_ = std::make_unique<sql::Executor>(*catalog_, *tables_, *pipeline_, *pool_, ids_, clock_,
                                            sql::ExecutorOptions{});
    exec_->set_storages(storages_.get());
    JobSystemOptions o;
    o.tick = std::chrono::hours(24);  // the background pass never comes: each test runs its own
    o.storages = storages_.get();
    o.backup_roots = {(dir_ / "bk").string()};
    jobs_ = std::make_unique<JobSystem>(store_, *catalog_, *tables_, *cold_, *pipeline_, ids_,
                                        clock_, o);
    ASSERT_TRUE(jobs_->Start().ok());
    exec_->set_job_service(jobs_.get());
  }
  void TearDown() override {
    jobs_->Stop();
    pipeline_->Stop();
    std::filesystem::remove_all(dir_);
  }

  // `text` as `user` (root: role system; anyone else: role user).
  sql::SqlResponse Run(const std::string& text, const std::string& user = "root") {
    sql::SqlRequest r;
    r.sql = text;
    return exec_->Execute(r, sql::Caller{user, user == "root" ? auth::Role::kSystem
                                                               : auth::Role::kUser});
  }
  // `text`, which must succeed.
  void Sql(const std::string& text, const std::string& user = "root") {
    auto res = Run(text, user);
    ASSERT_TRUE(res.error.ok()) << text << " → " << res.error.ToString();
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  storage::FailingStore store_{*kv_};
  FakeClock clock_;
  SnowflakeGenerator ids_{1, clock_};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<catalog::StorageCatalog> storages_;
  std::unique_ptr<table::ColdStore> cold_;
  std::unique_ptr<table::TableStore> tables_;
  std::unique_ptr<commit::CommitPipeline> pipeline_;
  std::unique_ptr<sql::SqlConnectionPool> pool_;
  std::unique_ptr<sql::Executor> exec_;
  std::unique_ptr<JobSystem> jobs_;
};

}  // namespace kalam::jobs
