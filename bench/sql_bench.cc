// sql_bench: join and aggregate shapes measured in process through the Executor (no HTTP), on a
// RocksDB store in a temporary directory: customers (200 rows) × orders (1,000 rows) joined by
// `IN (SELECT …)` and by an equi-join, and GROUP BY with COUNT/SUM/AVG over 10,000 rows. Every
// iteration checks the row count it expects (queries say LIMIT 1000: the default limit is 50).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "sql/executor.h"
#include "sql/fast_aggregate.h"

namespace {

using namespace kalam;

struct Stack {
  std::string dir;
  std::unique_ptr<storage::KvStore> kv;
  SnowflakeGenerator ids{1, Clock::System()};
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<table::TableStore> store;
  std::unique_ptr<commit::CommitPipeline> pipeline;
  std::unique_ptr<sql::SqlConnectionPool> pool =
      std::move(sql::SqlConnectionPool::Create(1, 256)).value();
  std::unique_ptr<sql::Executor> exec;
  sql::Caller root{"root", auth::Role::kSystem};

  Stack() {
    dir = std::filesystem::temp_directory_path() / ("kalam_sql_bench_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    kv = std::move(storage::OpenRocksStore(dir, storage::RocksOptions{})).value();
    catalog = std::move(catalog::Catalog::Open(*kv, Clock::System())).value();
    store = std::make_unique<table::TableStore>(*kv);
    pipeline = std::make_unique<commit::CommitPipeline>(*kv, ids);
    if (!pipeline->Start().ok()) std::abort();
    exec = std::make_unique<sql::Executor>(*catalog, *store, *pipeline, *pool, ids, Clock::System(),
                                           sql::ExecutorOptions{});
    Run("CREATE NAMESPACE bench", -1);
    Run("CREATE SHARED TABLE bench.customers (id BIGINT PRIMARY KEY, name TEXT, region TEXT)", -1);
    Run("CREATE SHARED TABLE bench.orders (id BIGINT PRIMARY KEY, customer_id BIGINT, "
        "amount DOUBLE, status TEXT)", -1);
    Run("CREATE SHARED TABLE bench.sales (id BIGINT PRIMARY KEY, category TEXT, amount DOUBLE, "
        "qty INT)", -1);
    Insert("bench.customers (id, name, region)", 200, [](int i) {
      return std::to_string(i) + ", 'customer " + std::to_string(i) + "', 'r" +
             std::to_string(i % 10) + "'";
    });
    Insert("bench.orders (id, customer_id, amount, status)", 1000, [](int i) {
      return std::to_string(i) + ", " + std::to_string(i % 200) + ", " + std::to_string(i * 1.5) +
             ", '" + (i % 3 ? "paid" : "open") + "'";
    });
    Insert("bench.sales (id, category, amount, qty)", 10000, [](int i) {
      return std::to_string(i) + ", 'c" + std::to_string(i % 10) + "', " +
             std::to_string(i * 0.25) + ", " + std::to_string(i % 7);
    });
  }
  ~Stack() {
    exec.reset();
    pipeline.reset();
    kv.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  template <typename Row>
  void Insert(const std::string& into, int n, Row row) {
    for (int base = 0; base < n; base += 500) {
      std::string sql = "INSERT INTO " + into + " VALUES ";
      for (int i = base; i < base + 500 && i < n; ++i) sql += (i > base ? ",(" : "(") + row(i) + ")";
      Run(sql, -1);
    }
  }
  // Runs `sql`; aborts unless it succeeds with `rows` rows (any count when rows < 0).
  void Run(const std::string& sql, int64_t rows) {
    sql::SqlRequest r;
    r.sql = sql;
    auto resp = exec->Execute(r, root);
    if (!resp.error.ok() || (rows >= 0 && (resp.results.size() != 1 ||
                                           resp.results[0].row_count != static_cast<uint64_t>(rows)))) {
      std::fprintf(stderr, "failed: %s %s (%lld rows)\n", sql.c_str(),
                   resp.error.ToString().c_str(),
                   resp.results.empty() ? -1LL : static_cast<long long>(resp.results[0].row_count));
      std::abort();
    }
  }
};

Stack& Shared() {
  static Stack stack;
  return stack;
}

void Query(benchmark::State& state, const char* sql, int64_t rows) {
  Stack& s = Shared();
  for (auto _ : state) s.Run(sql, rows);
}

// 20 customers of region r1 → their 100 orders.
void BM_JoinInSubquery(benchmark::State& state) {
  Query(state, "SELECT id, amount FROM bench.orders WHERE customer_id IN "
               "(SELECT id FROM bench.customers WHERE region = 'r1') LIMIT 1000", 100);
}
BENCHMARK(BM_JoinInSubquery)->Unit(benchmark::kMicrosecond);

void BM_EquiJoinFiltered(benchmark::State& state) {
  Query(state, "SELECT c.name, o.amount FROM bench.customers c JOIN bench.orders o "
               "ON o.customer_id = c.id WHERE c.region = 'r1' LIMIT 1000", 100);
}
BENCHMARK(BM_EquiJoinFiltered)->Unit(benchmark::kMicrosecond);

void BM_EquiJoinAll(benchmark::State& state) {
  Query(state, "SELECT c.name, o.amount FROM bench.orders o JOIN bench.customers c "
               "ON o.customer_id = c.id LIMIT 1000", 1000);
}
BENCHMARK(BM_EquiJoinAll)->Unit(benchmark::kMicrosecond);

void BM_GroupByAggregates(benchmark::State& state) {
  Query(state, "SELECT category, COUNT(*), SUM(amount), AVG(amount) FROM bench.sales "
               "GROUP BY category", 10);
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_GroupByAggregates)->Unit(benchmark::kMicrosecond);

// The same with SQLite's sorter (`+category` keeps the table from grouping): the plan before the
// table grouped rows itself.
void BM_GroupByAggregatesSqliteSort(benchmark::State& state) {
  Query(state, "SELECT category, COUNT(*), SUM(amount), AVG(amount) FROM bench.sales "
               "GROUP BY +category", 10);
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_GroupByAggregatesSqliteSort)->Unit(benchmark::kMicrosecond);

void BM_CountAvg(benchmark::State& state) {
  Query(state, "SELECT COUNT(*), AVG(amount) FROM bench.sales", 1);
  state.SetItemsProcessed(state.iterations() * 10000);
}
BENCHMARK(BM_CountAvg)->Unit(benchmark::kMicrosecond);

// The two aggregates above run on the aggregate path (sql/fast_aggregate.h); these run them
// through SQLite's VM (the path turned off), the plan before it, in the same process and run.
void BM_GroupByAggregatesNoPath(benchmark::State& state) {
  sql::SetAggregatePathEnabled(false);
  BM_GroupByAggregates(state);
  sql::SetAggregatePathEnabled(true);
}
BENCHMARK(BM_GroupByAggregatesNoPath)->Unit(benchmark::kMicrosecond);

void BM_CountAvgNoPath(benchmark::State& state) {
  sql::SetAggregatePathEnabled(false);
  BM_CountAvg(state);
  sql::SetAggregatePathEnabled(true);
}
BENCHMARK(BM_CountAvgNoPath)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
