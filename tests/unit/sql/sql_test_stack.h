// SqlStackTest: a gtest fixture holding the whole in-process SQL stack (memory store, catalog,
// commit pipeline, SQLite connection pool, executor) and helpers to run statements as a caller.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sql/executor.h"

namespace kalam::sql {

class SqlStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(*kv_, clock_)).value();
    ASSERT_TRUE(pipeline_.Start().ok());
    pool_ = std::move(SqlConnectionPool::Create(2, 16)).value();
    ExecutorOptions o;
    o.password_ops_limit = 1;  // fast hashing in tests
    o.password_mem_limit_bytes = 8192;
    CustomizeOptions(o);
    exec_ = std::make_unique<Executor>(*catalog_, store_, pipeline_, *pool_, ids_, clock_, o);
  }

  // Lets a derived fixture change the executor's options before it is built.
  virtual void CustomizeOptions(ExecutorOptions&) {}

  SqlResponse Run(const std::string& sql, const Caller& who, std::vector<Value> params = {},
                  std::string ns = "") {
    SqlRequest r;
    r.sql = sql;
    r.has_params = !params.empty();
    r.params = std::move(params);
    r.namespace_id = std::move(ns);
    return exec_->Execute(r, who);
  }
  SqlResponse Run(const std::string& sql, const Caller& who, std::string ns) {
    return Run(sql, who, {}, std::move(ns));
  }
  // Runs a statement that must succeed.
  SqlResponse Ok(const std::string& sql, const Caller& who, std::vector<Value> params = {},
                 std::string ns = "") {
    auto r = Run(sql, who, std::move(params), std::move(ns));
    EXPECT_TRUE(r.error.ok()) << sql << " → " << r.error.ToString();
    return r;
  }
  SqlResponse Ok(const std::string& sql, const Caller& who, std::string ns) {
    return Ok(sql, who, {}, std::move(ns));
  }

  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;
  SnowflakeGenerator ids_{1, clock_};
  std::unique_ptr<catalog::Catalog> catalog_;
  table::TableStore store_{*kv_};
  commit::CommitPipeline pipeline_{*kv_, ids_};
  std::unique_ptr<SqlConnectionPool> pool_;
  std::unique_ptr<Executor> exec_;
  Caller root_{"root", auth::Role::kSystem};
  Caller alice_{"alice", auth::Role::kUser};
  Caller bob_{"bob", auth::Role::kUser};
};

}  // namespace kalam::sql
