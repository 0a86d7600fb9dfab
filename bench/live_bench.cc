// live_bench: write → notification latency and fan-out throughput of live queries, against a
// running kalamdb-server (docs/benchmarks.md). Subscribers watch a SHARED table over /v1/ws
// (`?compress=false` unless --compress true); one writer inserts rows carrying their send time
// (steady clock, same machine) and --payload bytes of text over HTTP; each subscriber records
// now − send time for every insert event.
//
// Two kinds of phase, each run --runs times:
//   latency     N connections × 1 subscription. The writer is paced (offered load --latency-load
//               events/s, at most 1,000 inserts/s) and waits until the previous insert reached
//               every subscriber, so the numbers are fan-out latency, not queueing behind a
//               backlog.
//   throughput  C connections × S subscriptions each. The writer inserts as fast as delivery
//               allows, keeping at most --window messages per connection in flight (below the
//               server's outbound queue, so nobody is SUBSCRIBER_LAGGING); events/s is events
//               delivered / (last event − first insert).
//
//   live_bench --port 8080 --password PW [--latency 1,100,1000] [--throughput 100x10,1000x1]
//              [--seconds 3] [--runs 1] [--client-threads 1] [--window 64]
//              [--latency-load 20000] [--where "t > 0"] [--server-pid PID]
//              [--payload BYTES] [--compress true]
//
// Columns: events/s delivered; write→notification p50/p99/max; with --server-pid, the server's CPU
// time per delivered event ("srv µs", all threads: a number that holds on a busy machine, where
// events/s depends on what else runs); the bench's own CPU time per event ("cli µs").
//
// The client is deliberately lean (it parses WebSocket frames itself, one read for many frames)
// so that on a small machine it leaves the CPU to the server.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <unistd.h>

#include <zlib.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "bench_client.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
  int connections = 1;
  int subs_per_connection = 1;
};

struct Options {
  std::string host = "127.0.0.1", port = "8080", user = "root", password;
  std::vector<int> latency = {1, 100, 1000};
  std::vector<Shape> throughput = {{100, 10}, {1000, 1}};
  double seconds = 3;           // writer time per phase
  int runs = 1;                 // every phase this many times
  int client_threads = 1;       // io_context threads of the subscribers
  int window = 64;              // throughput: messages in flight per connection
  double latency_load = 20000;  // latency: offered events/s
  std::string where;            // optional subscription filter
  int payload = 0;              // bytes of text each inserted row carries besides `t`
  bool compress = false;        // let the server gzip messages of 512 bytes and more
  int server_pid = 0;           // when set: the server's CPU time per event is reported too
  // `--table stream`: watch and write a STREAM table (bench.live_stream, the writer's own scope)
  // instead of the SHARED bench.live_events.
  std::string table = "bench.live_events";
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// CPU time (user + system, all threads) used so far by process `pid` (0 = this process), in
// seconds; from /proc/<pid>/stat, so with the kernel's tick resolution (10 ms).
double CpuSeconds(int pid) {
  std::ifstream f(pid ? "/proc/" + std::to_string(pid) + "/stat" : std::string("/proc/self/stat"));
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

// The writer's connection (bench_client's keep-alive client): login, DDL and INSERTs; a failed
// statement ends the run.
class Http {
 public:
  explicit Http(const Options& o) : client_(kalam::bench::Endpoint{o.host, o.port}) {}
  void Login(const Options& o) {
    int status = 0;
    std::string error;
    if (!kalam::bench::Login(client_, o.user, o.password, &status, &error)) {
      std::fprintf(stderr, "live_bench: %s\n", error.c_str());
      std::exit(1);
    }
    token = client_.token();
  }
  void Sql(const std::string& sql) {
    kalam::bench::SqlResult r = kalam::bench::RunSql(client_, sql);
    if (!r.ok) {
      std::fprintf(stderr, "SQL failed: %s → %s\n", sql.c_str(), r.error.c_str());
      std::exit(1);
    }
  }
  std::string token;

 private:
  kalam::bench::HttpClient client_;
};

// What the connections of one client thread saw. Counters are read by the writer thread.
struct alignas(64) Stats {
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<int64_t> last_event_ns{0};
  std::vector<int64_t> latencies_ns;  // client thread only (read after it stopped)
  std::string first_error;            // client thread only
};

using kalam::bench::ClientFrame;
using kalam::bench::ParseFrame;

// One WebSocket connection with `subs` subscriptions, read by one client thread.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& ioc, Stats& stats) : sock_(ioc), stats_(stats), buf_(64 << 10) {}

  // Synchronous: connect, upgrade, authenticate (Bearer header), subscribe and read the acks.
  void Open(const tcp::resolver::results_type& endpoints, const Options& o,
            const std::string& token, int subs, const std::string& sql) {
    asio::connect(sock_, endpoints);
    sock_.set_option(tcp::no_delay(true));
    std::string req = "GET /v1/ws" + std::string(o.compress ? "" : "?compress=false") +
                      " HTTP/1.1\r\nHost: " + o.host + ":" + o.port +
                      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
                      token + "\r\n\r\n";
    asio::write(sock_, asio::buffer(req));
    std::string head;
    asio::read_until(sock_, asio::dynamic_buffer(head), "\r\n\r\n");
    const size_t end = head.find("\r\n\r\n") + 4;
    if (head.compare(0, 12, "HTTP/1.1 101") != 0) Fail("upgrade refused: " + head);
    std::memcpy(buf_.data(), head.data() + end, head.size() - end);
    have_ = head.size() - end;
    std::string hello = ReadMessageSync();
    if (hello.find("\"auth_success\"") == std::string::npos) Fail("auth: " + hello);
    std::string frames;
    for (int i = 0; i < subs; ++i) {
      json::object sub{{"id", "s" + std::to_string(i)}, {"sql", sql}};
      frames += ClientFrame(
          json::serialize(json::object{{"type", "subscribe"}, {"subscription", sub}}), 1);
    }
    asio::write(sock_, asio::buffer(frames));
    for (int i = 0; i < subs; ++i) {
      std::string ack = ReadMessageSync();
      if (ack.find("\"subscription_ack\"") == std::string::npos) Fail("subscribe: " + ack);
    }
  }

  void StartReading() {
    asio::post(sock_.get_executor(), [self = shared_from_this()] { self->Consume(); });
  }

  // On the connection's thread: a WebSocket ping (the server counts it as activity).
  void Ping() {
    static const std::string kPing = ClientFrame("", 9);
    asio::async_write(sock_, asio::buffer(kPing), [self = shared_from_this()](auto, size_t) {});
  }

  void Close() {
    boost::system::error_code ec;
    sock_.close(ec);
  }

 private:
  [[noreturn]] static void Fail(const std::string& what) {
    std::fprintf(stderr, "live_bench: %s\n", what.c_str());
    std::exit(1);
  }

  std::string ReadMessageSync() {
    for (;;) {
      int opcode = 0;
      std::string_view payload;
      size_t need = 0;
      size_t used = ParseFrame(buf_.data(), have_, &opcode, &payload, &need);
      if (used) {
        std::string out(payload);
        std::memmove(buf_.data(), buf_.data() + used, have_ - used);
        have_ -= used;
        if (opcode == 8) Fail("server closed the connection during setup");
        return out;
      }
      if (need > buf_.size()) buf_.resize(need);
      have_ += sock_.read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_));
    }
  }

  // Handles every complete frame in the buffer, then reads more.
  void Consume() {
    const int64_t now = NowNs();
    size_t pos = 0;
    uint64_t events = 0;
    for (;;) {
      int opcode = 0;
      std::string_view payload;
      size_t need = 0;
      size_t used = ParseFrame(buf_.data() + pos, have_ - pos, &opcode, &payload, &need);
      if (!used) {
        if (need > buf_.size()) buf_.resize(need);
        break;
      }
      pos += used;
      if (opcode == 8) {
        closed_ = true;
        break;
      }
      if (opcode == 2) {  // gzip of the JSON text
        payload = Gunzip(payload);
      } else if (opcode != 1) {
        continue;  // pong
      }
      if (payload.starts_with(R"({"type":"change")")) {
        ++events;
        size_t t = payload.find(R"("t":)");
        if (t != std::string_view::npos) {
          const char* p = payload.data() + t + 4;
          if (*p == '"') ++p;  // BIGINT travels as a JSON string
          stats_.latencies_ns.push_back(now - std::strtoll(p, nullptr, 10));
        }
      } else if (payload.starts_with(R"({"type":"error")")) {
        if (stats_.first_error.empty()) stats_.first_error = std::string(payload);
        stats_.errors.fetch_add(1, std::memory_order_relaxed);
      }
    }
    std::memmove(buf_.data(), buf_.data() + pos, have_ - pos);
    have_ -= pos;
    if (events) {
      stats_.last_event_ns.store(now, std::memory_order_relaxed);
      stats_.events.fetch_add(events, std::memory_order_relaxed);
    }
    if (closed_) return;
    sock_.async_read_some(asio::buffer(buf_.data() + have_, buf_.size() - have_),
                          [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                            if (ec) return;
                            self->have_ += n;
                            self->Consume();
                          });
  }

  // Inflates a gzip member into inflated_; a view of it.
  std::string_view Gunzip(std::string_view in) {
    if (!inflater_ready_) {
      inflater_ready_ = inflateInit2(&zs_, 15 + 16) == Z_OK;
    } else {
      inflateReset(&zs_);
    }
    inflated_.resize(std::max<size_t>(inflated_.size(), in.size() * 8 + 4096));
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(inflated_.data());
    zs_.avail_out = static_cast<uInt>(inflated_.size());
    if (inflate(&zs_, Z_FINISH) != Z_STREAM_END) Fail("corrupt or oversized gzip frame");
    return std::string_view(inflated_.data(), inflated_.size() - zs_.avail_out);
  }

  tcp::socket sock_;
  z_stream zs_{};
  bool inflater_ready_ = false;
  std::string inflated_;
  Stats& stats_;
  std::vector<char> buf_;
  size_t have_ = 0;
  bool closed_ = false;
};

struct PhaseResult {
  std::string kind;
  Shape shape;
  std::string load;
  double offered = 0;  // latency: offered events/s
  uint64_t inserts = 0, expected = 0, events = 0, errors = 0;
  double secs = 0;
  double p50 = 0, p99 = 0, max = 0;  // µs
  double server_cpu = 0, client_cpu = 0;  // seconds during the phase's writing and draining
};

// `bytes` of lower-case words, different for each row (so that it compresses like text).
std::string PayloadText(int bytes, uint64_t row) {
  static const char* kWords[] = {"live", "query", "event", "table", "commit", "socket",
                                 "frame", "batch", "row", "change", "stream", "notify"};
  std::string out;
  for (uint64_t k = row; static_cast<int>(out.size()) < bytes; k = k * 6364136223846793005ULL + 1) {
    out += kWords[(k >> 33) % std::size(kWords)];
    out += ' ';
  }
  out.resize(bytes);
  return out;
}

double Pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i] / 1000.0;
}

PhaseResult RunPhase(const Options& o, Http& http, const tcp::resolver::results_type& endpoints,
                     Shape shape, bool latency_mode) {
  PhaseResult r;
  r.kind = latency_mode ? "latency" : "throughput";
  r.shape = shape;
  r.load = LoadAverage();
  const int threads = std::max(1, o.client_threads);
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  std::vector<std::unique_ptr<Stats>> stats;
  for (int i = 0; i < threads; ++i) {
    iocs.push_back(std::make_unique<asio::io_context>(1));
    stats.push_back(std::make_unique<Stats>());
  }
  std::string sql = o.payload ? "SELECT t, p FROM " + o.table : "SELECT t FROM " + o.table;
  if (!o.where.empty()) sql += " WHERE " + o.where;
  std::vector<std::vector<std::shared_ptr<Conn>>> conns(threads);
  for (int i = 0; i < shape.connections; ++i) {
    auto c = std::make_shared<Conn>(*iocs[i % threads], *stats[i % threads]);
    c->Open(endpoints, o, http.token, shape.subs_per_connection, sql);
    conns[i % threads].push_back(c);
  }
  std::vector<std::thread> io;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (int i = 0; i < threads; ++i) {
    for (auto& c : conns[i]) c->StartReading();
    guards.push_back(asio::make_work_guard(*iocs[i]));
    io.emplace_back([&ioc = *iocs[i]] { ioc.run(); });
  }
  auto delivered = [&] {
    uint64_t n = 0;
    for (auto& s : stats) n += s->events.load(std::memory_order_relaxed);
    return n;
  };
  auto errors = [&] {
    uint64_t n = 0;
    for (auto& s : stats) n += s->errors.load(std::memory_order_relaxed);
    return n;
  };
  const uint64_t subs = static_cast<uint64_t>(shape.connections) * shape.subs_per_connection;
  const auto interval = std::chrono::nanoseconds(std::max<int64_t>(
      1'000'000, static_cast<int64_t>(1e9 * static_cast<double>(subs) / o.latency_load)));
  r.offered = latency_mode ? 1e9 * static_cast<double>(subs) / interval.count() : 0;
  const uint64_t window = static_cast<uint64_t>(o.window) * shape.connections;
  const double server_cpu0 = o.server_pid ? CpuSeconds(o.server_pid) : 0;
  const double client_cpu0 = CpuSeconds(0);
  const auto start = Clock::now();
  const int64_t start_ns = NowNs();
  const auto stop_at = start + std::chrono::duration<double>(o.seconds);
  auto last_ping = start;
  auto next = start;
  while (Clock::now() < stop_at && errors() == 0) {
    if (latency_mode) {
      const auto wait_until = Clock::now() + std::chrono::seconds(1);
      while (delivered() < r.inserts * subs && Clock::now() < wait_until) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
      std::this_thread::sleep_until(next);
      next = std::max(next + interval, Clock::now());
    } else {
      while (r.inserts * subs - std::min(r.inserts * subs, delivered()) > window) {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
    if (o.payload) {
      http.Sql("INSERT INTO " + o.table + " (t, p) VALUES (" + std::to_string(NowNs()) + ", '" +
               PayloadText(o.payload, r.inserts) + "')");
    } else {
      http.Sql("INSERT INTO " + o.table + " (t) VALUES (" + std::to_string(NowNs()) + ")");
    }
    ++r.inserts;
    if (Clock::now() - last_ping > std::chrono::seconds(3)) {  // heartbeat: 10 s by default
      for (int i = 0; i < threads; ++i) {
        asio::post(*iocs[i], [&list = conns[i]] {
          for (auto& c : list) c->Ping();
        });
      }
      last_ping = Clock::now();
    }
  }
  r.expected = r.inserts * subs;
  const auto drain_until = Clock::now() + std::chrono::seconds(20);
  while (delivered() < r.expected && errors() == 0 && Clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (o.server_pid) r.server_cpu = CpuSeconds(o.server_pid) - server_cpu0;
  r.client_cpu = CpuSeconds(0) - client_cpu0;
  for (int i = 0; i < threads; ++i) {
    asio::post(*iocs[i], [&list = conns[i]] {
      for (auto& c : list) c->Close();
    });
  }
  guards.clear();
  for (auto& t : io) t.join();
  int64_t last_ns = start_ns;
  std::vector<int64_t> all;
  for (auto& s : stats) {
    r.events += s->events.load();
    r.errors += s->errors.load();
    last_ns = std::max<int64_t>(last_ns, s->last_event_ns.load());
    all.insert(all.end(), s->latencies_ns.begin(), s->latencies_ns.end());
    if (!s->first_error.empty()) std::fprintf(stderr, "error: %s\n", s->first_error.c_str());
  }
  r.secs = (last_ns - start_ns) / 1e9;
  r.p50 = Pct(all, 0.5);
  r.p99 = Pct(all, 0.99);
  r.max = Pct(all, 1.0);
  return r;
}

void PrintRow(const PhaseResult& r) {
  char shape[32];
  std::snprintf(shape, sizeof shape, "%d×%d", r.shape.connections, r.shape.subs_per_connection);
  char offered[32] = "max";
  if (r.kind == "latency") std::snprintf(offered, sizeof offered, "%.0f/s", r.offered);
  char server_cpu[32] = "-";
  if (r.server_cpu > 0 && r.events) {
    std::snprintf(server_cpu, sizeof server_cpu, "%.2f", 1e6 * r.server_cpu / r.events);
  }
  std::printf("%-10s  %-9s  %-8s  %7llu  %9llu/%-9llu  %9.0f  %8.0f  %8.0f  %8.0f  %6s  %6.2f  "
              "%6llu  %s\n",
              r.kind.c_str(), shape, offered, static_cast<unsigned long long>(r.inserts),
              static_cast<unsigned long long>(r.events),
              static_cast<unsigned long long>(r.expected), r.secs > 0 ? r.events / r.secs : 0.0,
              r.p50, r.p99, r.max, server_cpu, r.events ? 1e6 * r.client_cpu / r.events : 0.0,
              static_cast<unsigned long long>(r.errors), r.load.c_str());
  std::fflush(stdout);
}

std::vector<int> IntList(const std::string& v) {
  std::vector<int> out;
  std::stringstream ss(v);
  for (std::string part; std::getline(ss, part, ',');) {
    if (!part.empty()) out.push_back(std::stoi(part));
  }
  return out;
}

std::vector<Shape> ShapeList(const std::string& v) {
  std::vector<Shape> out;
  std::stringstream ss(v);
  for (std::string part; std::getline(ss, part, ',');) {
    if (part.empty()) continue;
    size_t x = part.find('x');
    Shape s;
    s.connections = std::stoi(part.substr(0, x));
    s.subs_per_connection = x == std::string::npos ? 1 : std::stoi(part.substr(x + 1));
    out.push_back(s);
  }
  return out;
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
    else if (k == "--latency" || k == "--subscribers") o.latency = IntList(v);
    else if (k == "--throughput") o.throughput = ShapeList(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--runs") o.runs = std::stoi(v);
    else if (k == "--client-threads") o.client_threads = std::stoi(v);
    else if (k == "--window") o.window = std::stoi(v);
    else if (k == "--latency-load") o.latency_load = std::stod(v);
    else if (k == "--where") o.where = v;
    else if (k == "--server-pid") o.server_pid = std::stoi(v);
    else if (k == "--payload") o.payload = std::stoi(v);
    else if (k == "--compress") o.compress = v == "1" || v == "true";
    else if (k == "--table" && (v == "stream" || v == "shared")) {
      o.table = v == "stream" ? "bench.live_stream" : "bench.live_events";
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  Http http(o);
  http.Login(o);
  http.Sql("CREATE NAMESPACE IF NOT EXISTS bench");
  http.Sql("CREATE SHARED TABLE IF NOT EXISTS bench.live_events (id BIGINT PRIMARY KEY "
           "AUTO_INCREMENT, t BIGINT, p TEXT)");
  http.Sql("CREATE STREAM TABLE IF NOT EXISTS bench.live_stream (t BIGINT, p TEXT) "
           "WITH (TTL_SECONDS = 3600)");
  asio::io_context resolver_ioc;
  const auto endpoints = tcp::resolver(resolver_ioc).resolve(o.host, o.port);
  std::printf("live_bench %s:%s  client threads %d  %.1f s per phase  payload %d B  %s%s%s\n",
              o.host.c_str(), o.port.c_str(), o.client_threads, o.seconds, o.payload,
              o.compress ? "gzip" : "no compression", o.where.empty() ? "" : "  WHERE ",
              o.where.c_str());
  std::printf("%-10s  %-9s  %-8s  %7s  %19s  %9s  %8s  %8s  %8s  %6s  %6s  %6s  %s\n", "phase",
              "conn×sub", "offered", "inserts", "events/expected", "events/s", "p50 µs", "p99 µs",
              "max µs", "srv µs", "cli µs", "errors", "loadavg (at start)");
  std::vector<PhaseResult> results;
  for (int run = 0; run < o.runs; ++run) {
    for (int n : o.latency) {
      results.push_back(RunPhase(o, http, endpoints, Shape{n, 1}, true));
      PrintRow(results.back());
    }
    for (Shape s : o.throughput) {
      results.push_back(RunPhase(o, http, endpoints, s, false));
      PrintRow(results.back());
    }
  }
  return 0;
}
