// statement_cache_bench: the prepared-statement cache's effect on a PK point SELECT, measured in
// process through the Executor (no HTTP), parametrized (one cached plan) vs. the same query with
// a different literal each time (a new plan every time).
#include <benchmark/benchmark.h>

#include "sql/executor.h"

namespace {

using namespace kalam;

struct Stack {
  std::unique_ptr<storage::KvStore> kv = storage::NewMemoryStore();
  SnowflakeGenerator ids{1, Clock::System()};
  std::unique_ptr<catalog::Catalog> catalog = std::move(catalog::Catalog::Open(*kv, Clock::System())).value();
  table::TableStore store{*kv};
  commit::CommitPipeline pipeline{*kv, ids};
  std::unique_ptr<sql::SqlConnectionPool> pool = std::move(sql::SqlConnectionPool::Create(1, 256)).value();
  std::unique_ptr<sql::Executor> exec;
  sql::Caller root{"root", auth::Role::kSystem};
  static constexpr int kRows = 10000;

  Stack() {
    (void)pipeline.Start();
    exec = std::make_unique<sql::Executor>(*catalog, store, pipeline, *pool, ids, Clock::System(),
                                           sql::ExecutorOptions{});
    Run("CREATE NAMESPACE bench");
    Run("CREATE SHARED TABLE bench.points (id BIGINT PRIMARY KEY, name TEXT, score DOUBLE)");
    for (int base = 0; base < kRows; base += 500) {
      std::string sql = "INSERT INTO bench.points (id, name, score) VALUES ";
      for (int i = base; i < base + 500; ++i) {
        sql += (i > base ? "," : "") + std::string("(") + std::to_string(i) + ", 'n" +
               std::to_string(i) + "', " + std::to_string(i * 0.5) + ")";
      }
      Run(sql);
    }
  }
  void Run(const std::string& sql, std::vector<Value> params = {}) {
    sql::SqlRequest r;
    r.sql = sql;
    r.has_params = !params.empty();
    r.params = std::move(params);
    auto resp = exec->Execute(r, root);
    if (!resp.error.ok() || (resp.results.size() == 1 && resp.results[0].row_count == 0 &&
                             sql.starts_with("SELECT"))) {
      std::fprintf(stderr, "failed: %s %s\n", sql.c_str(), resp.error.ToString().c_str());
      std::abort();
    }
  }
};

Stack& Shared() {
  static Stack stack;
  return stack;
}

void BM_PointSelectParametrized(benchmark::State& state) {
  Stack& s = Shared();
  int64_t i = 0;
  for (auto _ : state) {
    s.Run("SELECT id, name, score FROM bench.points WHERE id = $1", {Value::Int(i++ % Stack::kRows)});
  }
}
BENCHMARK(BM_PointSelectParametrized);

void BM_PointSelectLiteral(benchmark::State& state) {
  Stack& s = Shared();
  int64_t i = 0;
  for (auto _ : state) {
    s.Run("SELECT id, name, score FROM bench.points WHERE id = " + std::to_string(i++ % Stack::kRows));
  }
}
BENCHMARK(BM_PointSelectLiteral);

}  // namespace

BENCHMARK_MAIN();
