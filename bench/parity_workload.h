// parity_workload: what one workload of parity_bench is (setup, timed body, verify, teardown),
// the settings and context the workloads share, and the helpers that keep them honest: every
// statement is checked (affected rows, returned rows, values), and the first failed check is the
// workload's error.
//
// The workload list mirrors the original KalamDB benchmark tool (benchv2): same names, table
// shapes, row counts and SQL, so that the two tools' results compare workload by workload
// (docs/benchmarks.md).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_client.h"

namespace kalam::bench::parity {

// An empty string is success; anything else says what failed (shown in the report).
using Error = std::string;

#define PARITY_TRY(expr)                   \
  do {                                     \
    if (::kalam::bench::parity::Error e_ = (expr); !e_.empty()) return e_; \
  } while (0)

struct Settings {
  Endpoint endpoint;
  std::string user = "root";
  std::string password;
  std::string ns;        // the run's own namespace (bench_<time> unless --namespace)
  int iterations = 100;  // timed iterations per workload
  int warmup = 5;        // untimed iterations before them
  int concurrency = 10;  // N of the "N concurrent" workloads
  double scale = 1.0;    // multiplies the big workloads' sizes (below)
  bool quick = false;    // smoke mode: tiny counts everywhere
  // Sizes at scale 1 (the original's); Finalize() applies --scale and --quick.
  int point_rows = 10000;          // point_lookup
  int agg_rows = 10000;            // aggregate_query
  int bulk_delete_rows = 25000;    // bulk_delete seed
  int parquet_files = 20;          // flushed_parquet_query: flushes
  int parquet_rows_per_file = 10000;
  int sql_burst = 1000;            // sql_1k_concurrent: queries (and connections) at once
  int storm = 50;                  // connection_storm: simultaneous logins
  int max_subscribers = 5000;      // subscriber_scale: last tier
  int subs_per_connection = 100;   // subscriber_scale: subscriptions per WebSocket
  int initial_load_rows = 1000;    // subscribe_initial_load

  void Finalize();
  int total_iterations() const { return warmup + iterations; }
};

// A pool of worker threads, each with its own keep-alive connection (logged in with the run's
// token), for the workloads that send N statements at once. Thread-safe for one caller at a time.
class WorkerPool {
 public:
  WorkerPool(const Endpoint& endpoint, const std::string& token, int workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs job(w, client) on workers 0..n-1 at once and waits for all; the first error wins.
  Error Run(int n, const std::function<Error(int, HttpClient&)>& job);
  int size() const { return static_cast<int>(clients_.size()); }

 private:
  void Loop(int w);

  std::vector<std::unique_ptr<HttpClient>> clients_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  // Guarded by mu_:
  uint64_t generation_ = 0;
  int active_ = 0;   // workers taking part in the current generation
  int pending_ = 0;  // of those, still running
  bool stop_ = false;
  const std::function<Error(int, HttpClient&)>* job_ = nullptr;
  Error first_error_;
};

// What a workload sees: the settings, the admin connection, and what it reports.
struct Context {
  Context(const Settings& settings, HttpClient& main, int64_t query_limit)
      : s(settings), http(main), default_query_limit(query_limit) {}

  const Settings& s;
  HttpClient& http;              // the run's main connection (user --user)
  int64_t default_query_limit;   // the server's limits.default_query_limit
  std::vector<std::pair<std::string, std::string>> details;  // notes for the report
  int64_t sample_us = -1;        // set by a run body that times something narrower than itself

  // A pool of at least `n` workers, kept across iterations of one workload.
  WorkerPool& Pool(int n);
  void ResetPool() { pool_.reset(); }
  std::string Table(const std::string& name) const { return s.ns + "." + name; }

 private:
  std::unique_ptr<WorkerPool> pool_;
};

struct Workload {
  std::string name;         // as in the original tool
  std::string category;     // DDL, Insert, Select, …
  std::string description;  // what it measures
  bool single_run = false;  // no warm-up, one timed iteration (scale tests)
  std::function<Error(Context&)> setup;
  std::function<Error(Context&, int64_t iteration)> run;  // iterations 0 .. warmup+iterations-1
  std::function<Error(Context&)> verify;                  // after the timed iterations (optional)
  std::function<void(Context&)> teardown;                 // best effort
};

std::vector<Workload> SqlWorkloads();   // parity_sql_workloads.cc
std::vector<Workload> LoadWorkloads();  // parity_load_workloads.cc
std::vector<Workload> LiveWorkloads();  // parity_live_workloads.cc
// Every workload, in the original tool's order.
std::vector<Workload> AllWorkloads();

// ---- helpers (parity_workload.cc) ----

// Runs `sql`; an error names the statement.
Error Exec(HttpClient& c, const std::string& sql, SqlResult* out = nullptr);
// Runs a DML statement and checks it affected exactly `n` rows.
Error ExpectAffected(HttpClient& c, const std::string& sql, int64_t n);
// Runs a query and checks it returned `n` rows — or, when `capped` (no LIMIT of its own) and n is
// over the server's default_query_limit, exactly that many with `truncated: true`.
Error ExpectRows(Context& ctx, HttpClient& c, const std::string& sql, int64_t n, bool capped,
                 SqlResult* out = nullptr);
// Checks a single-value result equals `want` (compared as text: BIGINT arrives as a string).
Error ExpectValue(HttpClient& c, const std::string& sql, const std::string& want);
// INSERTs rows 0..n-1 of `table (columns)` in statements of `batch` rows; row(i) is "(…)".
Error Seed(HttpClient& c, const std::string& table, const std::string& columns, int64_t n,
           int batch, const std::function<std::string(int64_t)>& row);
// A workload on one SHARED table `table (columns)` of the run's namespace: setup drops, creates
// and seeds it, run gets its qualified name, teardown drops it.
Workload OnTable(std::string name, std::string category, std::string description,
                 std::string table, std::string columns,
                 std::function<Error(Context&, const std::string&)> seed,
                 std::function<Error(Context&, const std::string&, int64_t)> run);
// Best-effort cleanup statement (teardown): retried for up to `patience` (a DROP waits for the
// server to unregister the subscriptions of connections just closed); a last failure is printed,
// not returned.
void Cleanup(HttpClient& c, const std::string& sql,
             std::chrono::milliseconds patience = std::chrono::milliseconds(0));
// printf-style formatting of a double ("%.2f" like the original's {:.2}).
std::string Fixed(double v, int decimals);
// A cell of a result row as a number (accepts JSON numbers and numeric strings).
double Number(const boost::json::value& v);

}  // namespace kalam::bench::parity
