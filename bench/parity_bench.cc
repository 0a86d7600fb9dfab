// parity_bench: one driver for the whole workload list of the original KalamDB benchmark tool
// (38 workloads: DDL, inserts, selects, updates, deletes, concurrency, point lookups, aggregates,
// joins, large payloads, wide tables, live subscriptions, reconnects, flushed Parquet queries,
// 1,000 concurrent queries, users, connection storms, topics, fan-out, subscriber scale), against
// a running kalamdb-server, with the same names, table shapes, row counts and SQL, so that results
// compare workload by workload. Every statement's outcome is checked; a failed check marks the
// workload FAILED. See docs/benchmarks.md.
//
//   parity_bench --url http://127.0.0.1:8080 --password PW [--iterations 100] [--warmup 5]
//                [--concurrency 10] [--scale 1] [--quick] [--only a,b] [--skip a,b] [--list]
//                [--json out.json] [--compare earlier.json] [--namespace ns]
//
// Per workload: setup (tables, seed rows), warm-up iterations, timed iterations (one sample
// each), verify, teardown. The run's namespace is dropped at the end.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/resource.h>

#include "parity_report.h"
#include "parity_workload.h"

namespace {

namespace json = boost::json;
using namespace kalam::bench;
using namespace kalam::bench::parity;
using Clock = std::chrono::steady_clock;

struct Cli {
  Settings s;
  std::set<std::string> only, skip;
  bool list = false;
  std::string json_path, compare_path;
};

std::set<std::string> NameList(const std::string& v) {
  std::set<std::string> out;
  std::stringstream ss(v);
  for (std::string part; std::getline(ss, part, ',');) {
    if (!part.empty()) out.insert(part);
  }
  return out;
}

int Usage(const std::string& problem) {
  std::fprintf(stderr,
               "parity_bench: %s\n"
               "usage: parity_bench [--url http://host:port | --host H --port P] [--user U]\n"
               "         [--password PW (or KALAMDB_PASSWORD)] [--iterations N] [--warmup N]\n"
               "         [--concurrency N] [--scale X] [--quick] [--only a,b] [--skip a,b]\n"
               "         [--list] [--json FILE] [--compare FILE] [--namespace NS]\n"
               "         [--max-subscribers N] [--storm N] [--sql-burst N]\n",
               problem.c_str());
  return 2;
}

// Parses argv into `cli`; returns 0, or the exit code of a usage error.
int Parse(int argc, char** argv, Cli* cli) {
  Settings& s = cli->s;
  if (const char* pw = std::getenv("KALAMDB_PASSWORD")) s.password = pw;
  int max_subscribers = 0, storm = 0, sql_burst = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--quick") {
      s.quick = true;
      continue;
    }
    if (k == "--list") {
      cli->list = true;
      continue;
    }
    if (i + 1 >= argc) return Usage("missing value after " + k);
    const std::string v = argv[++i];
    auto positive = [&](int* out) {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 0 || n > 10'000'000) return false;
      *out = static_cast<int>(n);
      return true;
    };
    bool ok = true;
    if (k == "--url") ok = ParseUrl(v, &s.endpoint);
    else if (k == "--host") s.endpoint.host = v;
    else if (k == "--port") s.endpoint.port = v;
    else if (k == "--user") s.user = v;
    else if (k == "--password") s.password = v;
    else if (k == "--namespace") s.ns = v;
    else if (k == "--iterations") ok = positive(&s.iterations) && s.iterations > 0;
    else if (k == "--warmup") ok = positive(&s.warmup);
    else if (k == "--concurrency") ok = positive(&s.concurrency) && s.concurrency > 0;
    else if (k == "--scale") {
      char* end = nullptr;
      s.scale = std::strtod(v.c_str(), &end);
      ok = !*end && s.scale > 0 && s.scale <= 100;
    } else if (k == "--max-subscribers") ok = positive(&max_subscribers) && max_subscribers > 0;
    else if (k == "--storm") ok = positive(&storm) && storm > 0;
    else if (k == "--sql-burst") ok = positive(&sql_burst) && sql_burst > 0;
    else if (k == "--only") cli->only = NameList(v);
    else if (k == "--skip") cli->skip = NameList(v);
    else if (k == "--json") cli->json_path = v;
    else if (k == "--compare") cli->compare_path = v;
    else return Usage("unknown option " + k);
    if (!ok) return Usage("bad value '" + v + "' for " + k);
  }
  s.Finalize();
  if (max_subscribers) s.max_subscribers = max_subscribers;
  if (storm) s.storm = storm;
  if (sql_burst) s.sql_burst = sql_burst;
  if (s.ns.empty()) s.ns = "bench_" + std::to_string(std::time(nullptr));
  return 0;
}

std::string UtcNow() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

WorkloadResult RunWorkload(const Workload& w, const Settings& s, HttpClient& http,
                           int64_t default_query_limit) {
  WorkloadResult r;
  r.name = w.name;
  r.category = w.category;
  r.description = w.description;
  Settings local = s;
  if (w.single_run) {
    local.warmup = 0;
    local.iterations = 1;
  }
  Context ctx(local, http, default_query_limit);
  const auto t0 = Clock::now();
  Error e = w.setup(ctx);
  r.setup_ms = MsSince(t0);
  for (int i = 0; e.empty() && i < local.total_iterations(); ++i) {
    ctx.sample_us = -1;
    const auto start = Clock::now();
    e = w.run(ctx, i);
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (!e.empty()) {
      e = (i < local.warmup ? "warm-up " : "iteration ") + std::to_string(i) + ": " + e;
    } else if (i >= local.warmup) {
      r.samples_us.push_back(ctx.sample_us >= 0 ? static_cast<double>(ctx.sample_us) : us);
    }
  }
  if (e.empty() && w.verify) e = w.verify(ctx);
  ctx.ResetPool();
  w.teardown(ctx);
  r.details = std::move(ctx.details);
  r.success = e.empty();
  r.error = std::move(e);
  Summarize(r);
  return r;
}

// Many sockets at once (sql_1k_concurrent, subscriber_scale): lift the soft descriptor limit.
void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) std::perror("setrlimit(RLIMIT_NOFILE)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  Cli cli;
  if (int rc = Parse(argc, argv, &cli); rc) return rc;
  std::vector<Workload> workloads = AllWorkloads();
  std::set<std::string> known;
  for (const auto& w : workloads) known.insert(w.name);
  for (const auto* names : {&cli.only, &cli.skip}) {
    for (const auto& n : *names) {
      if (!known.count(n)) return Usage("unknown workload '" + n + "' (see --list)");
    }
  }
  if (cli.list) {
    for (const auto& w : workloads) {
      std::printf("%-26s %-10s %s\n", w.name.c_str(), w.category.c_str(), w.description.c_str());
    }
    return 0;
  }
  const Settings& s = cli.s;
  if (s.password.empty()) return Usage("--password (or KALAMDB_PASSWORD) is required");
  RaiseFileLimit();

  HttpClient http(s.endpoint);
  {
    int status = 0;
    std::string error;
    if (!Login(http, s.user, s.password, &status, &error)) {
      std::fprintf(stderr, "parity_bench: %s\n", error.c_str());
      return 1;
    }
  }
  int64_t default_query_limit = 0;
  {
    SqlResult r;
    Error e = Exec(http, "SELECT value FROM system.settings WHERE name = 'limits.default_query_limit'",
                   &r);
    if (e.empty() && r.rows().size() == 1) {
      default_query_limit = static_cast<int64_t>(Number(r.rows()[0].as_array()[0]));
    }
    if (default_query_limit <= 0) {
      std::fprintf(stderr, "parity_bench: cannot read limits.default_query_limit: %s\n", e.c_str());
      return 1;
    }
    if (Error ns = Exec(http, "CREATE NAMESPACE IF NOT EXISTS " + s.ns); !ns.empty()) {
      std::fprintf(stderr, "parity_bench: %s\n", ns.c_str());
      return 1;
    }
  }
  std::printf("parity_bench → %s:%s  namespace %s  iterations %d  warm-up %d  concurrency %d  "
              "scale %.2f%s  default_query_limit %lld\n",
              s.endpoint.host.c_str(), s.endpoint.port.c_str(), s.ns.c_str(), s.iterations,
              s.warmup, s.concurrency, s.scale, s.quick ? "  QUICK" : "",
              static_cast<long long>(default_query_limit));
  std::fflush(stdout);

  const auto run_start = Clock::now();
  std::vector<WorkloadResult> results;
  for (const auto& w : workloads) {
    if (!cli.only.empty() && !cli.only.count(w.name)) continue;
    if (cli.skip.count(w.name)) continue;
    std::printf("[%2zu] %-26s ", results.size() + 1, w.name.c_str());
    std::fflush(stdout);
    if (w.name == "subscriber_scale") std::printf("\n");
    results.push_back(RunWorkload(w, s, http, default_query_limit));
    const auto& r = results.back();
    if (r.success) {
      std::printf("p50 %9.3f ms  p95 %9.3f ms  p99 %9.3f ms  %9.1f ops/s  (setup %.0f ms)\n",
                  r.median_us / 1000, r.p95_us / 1000, r.p99_us / 1000, r.ops_per_sec, r.setup_ms);
    } else {
      std::printf("FAILED: %s\n", r.error.c_str());
    }
    std::fflush(stdout);
  }
  Cleanup(http, "DROP NAMESPACE IF EXISTS " + s.ns + " CASCADE", std::chrono::seconds(10));

  RunInfo info;
  info.server_url = "http://" + s.endpoint.host + ":" + s.endpoint.port;
  info.ns = s.ns;
  info.timestamp = UtcNow();
  info.iterations = s.iterations;
  info.warmup = s.warmup;
  info.concurrency = s.concurrency;
  info.scale = s.scale;
  info.quick = s.quick;
  info.total_ms = MsSince(run_start);
  info.sizes = json::object{{"point_rows", s.point_rows},
                            {"agg_rows", s.agg_rows},
                            {"bulk_delete_rows", s.bulk_delete_rows},
                            {"parquet_files", s.parquet_files},
                            {"parquet_rows_per_file", s.parquet_rows_per_file},
                            {"sql_burst", s.sql_burst},
                            {"storm", s.storm},
                            {"max_subscribers", s.max_subscribers},
                            {"subs_per_connection", s.subs_per_connection},
                            {"initial_load_rows", s.initial_load_rows},
                            {"default_query_limit", default_query_limit}};
  PrintTable(results);
  std::printf("total %.2f s\n", info.total_ms / 1000);
  if (!cli.json_path.empty()) {
    std::ofstream f(cli.json_path);
    f << json::serialize(ToJson(info, results)) << "\n";
    if (!f) {
      std::fprintf(stderr, "parity_bench: cannot write %s\n", cli.json_path.c_str());
      return 1;
    }
  }
  if (!cli.compare_path.empty()) {
    std::map<std::string, WorkloadResult> before;
    std::string error;
    if (!LoadResults(cli.compare_path, &before, &error)) {
      std::fprintf(stderr, "parity_bench: %s\n", error.c_str());
      return 1;
    }
    PrintComparison(results, before, cli.compare_path);
  }
  for (const auto& r : results) {
    if (!r.success) return 1;
  }
  return 0;
}
