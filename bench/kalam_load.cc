// kalam_load: a load generator that drives a running kalamdb-server over HTTP/1.1 keep-alive and
// reports throughput and latency percentiles (client round trip and server `took`).
//
//   kalam_load --port 8080 --password PW --mode insert --clients 16 --seconds 10
//
// Modes: insert (single-row INSERT with params), batch (INSERT of --batch rows), point (PK SELECT
// with a param), point_literal (the same SELECT with the key as a different literal each time:
// defeats the statement cache), all (each of the above in turn).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string user = "root";
  std::string password;
  std::string mode = "all";
  int clients = 16;
  double seconds = 5;
  int batch = 50;
  int point_rows = 10000;
};

class Client {
 public:
  Client(const Options& o) : o_(o), stream_(ioc_) {
    tcp::resolver resolver(ioc_);
    stream_.connect(resolver.resolve(o.host, o.port));
  }
  // POSTs `body` to `target`; returns the response body and HTTP status.
  int Post(const std::string& target, const std::string& body, std::string* out) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, o_.host);
    req.set(http::field::content_type, "application/json");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    *out = std::move(res.body());
    return res.result_int();
  }
  void set_token(std::string t) { token_ = std::move(t); }

 private:
  const Options& o_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string token_;
};

std::string Login(const Options& o) {
  Client c(o);
  std::string out;
  json::object body{{"user", o.user}, {"password", o.password}};
  int status = c.Post("/v1/api/auth/login", json::serialize(body), &out);
  if (status != 200) {
    std::fprintf(stderr, "login failed (%d): %s\n", status, out.c_str());
    std::exit(1);
  }
  return std::string(json::parse(out).at("access_token").as_string());
}

std::string SqlBody(const std::string& sql, const json::array* params = nullptr) {
  json::object o{{"sql", sql}};
  if (params) o["params"] = *params;
  return json::serialize(o);
}

void MustRun(Client& c, const std::string& sql) {
  std::string out;
  int status = c.Post("/v1/api/sql", SqlBody(sql), &out);
  if (status != 200) {
    std::fprintf(stderr, "setup failed: %s → %s\n", sql.c_str(), out.c_str());
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
    Client c(o);
    c.set_token(token);
    std::string out;
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
      int status = c.Post("/v1/api/sql", body, &out);
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (status != 200) {
        if (errors.fetch_add(1) < 3) std::fprintf(stderr, "error %d: %s\n", status, out.c_str());
        continue;
      }
      lat[id].push_back(ms);
      took[id].push_back(ParseTook(out));
      ++local;
    }
    ops[id] = local;
  };
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
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
  return r;
}

void Print(const std::string& label, int clients, const RunResult& r) {
  std::printf(
      "%-26s clients=%-3d ops/s=%9.0f rows/s=%9.0f  p50=%7.3f ms  p99=%7.3f ms  "
      "server took p50=%6.3f ms p99=%6.3f ms  errors=%llu\n",
      label.c_str(), clients, r.ops_per_sec, r.rows_per_sec, r.p50_ms, r.p99_ms, r.took_p50_ms,
      r.took_p99_ms, static_cast<unsigned long long>(r.errors));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") o.host = v;
    else if (k == "--port") o.port = v;
    else if (k == "--user") o.user = v;
    else if (k == "--password") o.password = v;
    else if (k == "--mode") o.mode = v;
    else if (k == "--clients") o.clients = std::stoi(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--batch") o.batch = std::stoi(v);
    else if (k == "--point-rows") o.point_rows = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const std::string token = Login(o);
  {
    Client c(o);
    c.set_token(token);
    MustRun(c, "CREATE NAMESPACE IF NOT EXISTS bench");
    MustRun(c, "CREATE SHARED TABLE IF NOT EXISTS bench.messages (id BIGINT PRIMARY KEY "
               "AUTO_INCREMENT, room INT, body TEXT, created_at TIMESTAMP DEFAULT NOW())");
    MustRun(c, "CREATE SHARED TABLE IF NOT EXISTS bench.points (id BIGINT PRIMARY KEY, name "
               "TEXT, score DOUBLE)");
    std::string out;
    c.Post("/v1/api/sql", SqlBody("SELECT count(*) FROM bench.points"), &out);
    if (out.find("[\"0\"]") != std::string::npos) {
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
