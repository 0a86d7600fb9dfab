// kalam_load: a load generator that drives a running kalamdb-server over HTTP/1.1 keep-alive and
// reports throughput and latency percentiles (client round trip and server `took`).
//
//   kalam_load --port 8080 --password PW --mode insert --clients 16 --seconds 10
//
// Modes: insert (single-row INSERT with params), batch (INSERT of --batch rows), point (PK SELECT
// with a param), point_literal (the same SELECT with the key as a different literal each time:
// defeats the statement cache), all (each of the above in turn).
//
// --server-pid PID (a server on this machine) adds the server's CPU time per request: the growth of
// its utime + stime (/proc/PID/stat) over the timed run divided by the requests answered. Unlike
// throughput it hardly depends on what else the machine is doing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench_client.h"

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using kalam::bench::HttpClient;
using kalam::bench::SqlBody;

namespace {

struct Options {
  kalam::bench::Endpoint endpoint;
  std::string user = "root";
  std::string password;
  std::string mode = "all";
  int clients = 16;
  double seconds = 5;
  int batch = 50;
  int point_rows = 10000;
  int server_pid = 0;  // 0: no CPU figure
};

// utime + stime of process `pid` in seconds, or -1 when /proc/<pid>/stat cannot be read.
double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the command name (which may contain spaces) start after the last ')'.
  size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string Login(const Options& o) {
  HttpClient c(o.endpoint);
  int status = 0;
  std::string error;
  if (!kalam::bench::Login(c, o.user, o.password, &status, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  return c.token();
}

void MustRun(HttpClient& c, const std::string& sql) {
  kalam::bench::SqlResult r = kalam::bench::RunSql(c, sql);
  if (!r.ok) {
    std::fprintf(stderr, "setup failed: %s → %s\n", sql.c_str(), r.error.c_str());
    std::exit(1);
  }
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t idx = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + idx, v.end());
  return v[idx];
}

double ParseTook(const std::string& body) {
  auto pos = body.rfind("\"took\":");
  return pos == std::string::npos ? 0 : std::strtod(body.c_str() + pos + 7, nullptr);
}

struct RunResult {
  double ops_per_sec = 0, rows_per_sec = 0, p50_ms = 0, p99_ms = 0, took_p50_ms = 0,
         took_p99_ms = 0;
  double cpu_us_per_request = -1;  // with --server-pid
  uint64_t errors = 0;
};

RunResult Run(const Options& o, const std::string& token, const std::string& mode) {
  std::atomic<uint64_t> seq{0};
  std::atomic<uint64_t> errors{0};
  std::vector<std::vector<double>> lat(o.clients), took(o.clients);
  std::vector<uint64_t> ops(o.clients, 0);
  const int rows_per_op = mode == "batch" ? o.batch : 1;
  const auto deadline = Clock::now() + std::chrono::duration<double>(o.seconds);
  auto worker = [&](int id) {
    HttpClient c(o.endpoint);
    c.set_token(token);
    uint64_t local = 0;
    while (Clock::now() < deadline) {
      std::string body;
      const uint64_t n = seq.fetch_add(1);
      if (mode == "insert") {
        json::array p{static_cast<int64_t>(id), "message body " + std::to_string(n)};
        body = SqlBody("INSERT INTO bench.messages (room, body) VALUES ($1, $2)", &p);
      } else if (mode == "batch") {
        std::string sql = "INSERT INTO bench.messages (room, body) VALUES ";
        for (int r = 0; r < o.batch; ++r) {
          if (r) sql += ",";
          sql += "(" + std::to_string(id) + ", 'batch body " + std::to_string(n) + "')";
        }
        body = SqlBody(sql);
      } else if (mode == "point") {
        json::array p{static_cast<int64_t>(1 + (n * 7919) % o.point_rows)};
        body = SqlBody("SELECT id, name, score FROM bench.points WHERE id = $1", &p);
      } else {  // point_literal
        body = SqlBody("SELECT id, name, score FROM bench.points WHERE id = " +
                       std::to_string(1 + (n * 7919) % o.point_rows));
      }
      auto t0 = Clock::now();
      kalam::bench::HttpResponse res = c.Post("/v1/api/sql", body);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (res.status != 200) {
        if (errors.fetch_add(1) < 3) {
          std::fprintf(stderr, "error %d: %s\n", res.status, res.body.c_str());
        }
        continue;
      }
      lat[id].push_back(ms);
      took[id].push_back(ParseTook(res.body));
      ++local;
    }
    ops[id] = local;
  };
  const double cpu_before = o.server_pid ? ProcessCpuSeconds(o.server_pid) : -1;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu_after = o.server_pid ? ProcessCpuSeconds(o.server_pid) : -1;
  std::vector<double> all, all_took;
  uint64_t total = 0;
  for (int i = 0; i < o.clients; ++i) {
    all.insert(all.end(), lat[i].begin(), lat[i].end());
    all_took.insert(all_took.end(), took[i].begin(), took[i].end());
    total += ops[i];
  }
  RunResult r;
  r.ops_per_sec = total / secs;
  r.rows_per_sec = r.ops_per_sec * rows_per_op;
  r.p50_ms = Percentile(all, 0.50);
  r.p99_ms = Percentile(all, 0.99);
  r.took_p50_ms = Percentile(all_took, 0.50);
  r.took_p99_ms = Percentile(all_took, 0.99);
  r.errors = errors.load();
  if (cpu_before >= 0 && cpu_after >= 0 && total + r.errors > 0) {
    r.cpu_us_per_request = (cpu_after - cpu_before) * 1e6 / static_cast<double>(total + r.errors);
  }
  return r;
}

void Print(const std::string& label, int clients, const RunResult& r) {
  std::printf(
      "%-26s clients=%-3d ops/s=%9.0f rows/s=%9.0f  p50=%7.3f ms  p99=%7.3f ms  "
      "server took p50=%6.3f ms p99=%6.3f ms  errors=%llu",
      label.c_str(), clients, r.ops_per_sec, r.rows_per_sec, r.p50_ms, r.p99_ms, r.took_p50_ms,
      r.took_p99_ms, static_cast<unsigned long long>(r.errors));
  if (r.cpu_us_per_request >= 0) std::printf("  server cpu=%.1f us/request", r.cpu_us_per_request);
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") o.endpoint.host = v;
    else if (k == "--port") o.endpoint.port = v;
    else if (k == "--user") o.user = v;
    else if (k == "--password") o.password = v;
    else if (k == "--mode") o.mode = v;
    else if (k == "--clients") o.clients = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--batch") o.batch = std::stoi(v);
    else if (k == "--point-rows") o.point_rows = std::stoi(v);
    else if (k == "--server-pid") o.server_pid = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const std::string token = Login(o);
  {
    HttpClient c(o.endpoint);
    c.set_token(token);
    MustRun(c, "CREATE NAMESPACE IF NOT EXISTS bench");
    MustRun(c, "CREATE SHARED TABLE IF NOT EXISTS bench.messages (id BIGINT PRIMARY KEY "
               "AUTO_INCREMENT, room INT, body TEXT, created_at TIMESTAMP DEFAULT NOW())");
    MustRun(c, "CREATE SHARED TABLE IF NOT EXISTS bench.points (id BIGINT PRIMARY KEY, name "
               "TEXT, score DOUBLE)");
    kalam::bench::SqlResult count = kalam::bench::RunSql(c, "SELECT count(*) FROM bench.points");
    if (count.ok && count.rows().size() == 1 &&
        kalam::bench::ValueText(count.rows()[0].as_array()[0]) == "0") {
      for (int base = 0; base < o.point_rows; base += 500) {
        std::string sql = "INSERT INTO bench.points (id, name, score) VALUES ";
        for (int i = base; i < std::min(base + 500, o.point_rows); ++i) {
          if (i > base) sql += ",";
          sql += "(" + std::to_string(i + 1) + ", 'name" + std::to_string(i) + "', " +
                 std::to_string(i * 0.5) + ")";
        }
        MustRun(c, sql);
      }
    }
  }
  auto run = [&](const std::string& mode, int clients) {
    Options oc = o;
    oc.clients = clients;
    Print(mode, clients, Run(oc, token, mode));
  };
  if (o.mode == "all") {
    run("insert", 1);
    run("insert", 16);
    run("batch", 16);
    run("point", 1);
    run("point_literal", 1);
  } else {
    run(o.mode, o.clients);
  }
  return 0;
}
