// live_bench: write → notification latency and fan-out throughput of live queries, against a
// running kalamdb-server. N WebSocket subscribers (one io_context thread) watch a SHARED table;
// a writer inserts rows carrying their send time (steady clock, same machine); each subscriber
// measures now − send time when the insert event arrives.
//
//   live_bench --port 8080 --password PW --subscribers 1,100,1000 --inserts 2000
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <future>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1", port = "8080", user = "root", password;
  std::vector<int> subscribers = {1, 100, 1000};
  int inserts = 2000;
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

class Http {
 public:
  explicit Http(const Options& o) : o_(o), stream_(ioc_) {
    stream_.connect(tcp::resolver(ioc_).resolve(o.host, o.port));
  }
  std::string Post(const std::string& target, const std::string& body, int* status = nullptr) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, o_.host);
    req.set(http::field::content_type, "application/json");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buf_, res);
    if (status) *status = res.result_int();
    return res.body();
  }
  std::string Sql(const std::string& sql) {
    int status = 0;
    std::string out = Post("/v1/api/sql", json::serialize(json::object{{"sql", sql}}), &status);
    if (status != 200) {
      std::fprintf(stderr, "SQL failed: %s → %s\n", sql.c_str(), out.c_str());
      std::exit(1);
    }
    return out;
  }
  std::string token;

 private:
  const Options& o_;
  boost::asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buf_;
};

// One subscriber: connect, subscribe, then record the latency of every change it receives.
class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  Subscriber(boost::asio::io_context& ioc, const Options& o, std::string token)
      : ws_(ioc), o_(o), token_(std::move(token)) {}

  void Start(tcp::resolver::results_type endpoints) {
    beast::get_lowest_layer(ws_).connect(endpoints);
    ws_.set_option(websocket::stream_base::decorator([t = token_](websocket::request_type& r) {
      r.set(http::field::authorization, "Bearer " + t);
    }));
    ws_.handshake(o_.host + ":" + o_.port, "/v1/ws?compress=false");
    ws_.read(buf_);  // auth_success
    buf_.consume(buf_.size());
    ws_.write(boost::asio::buffer(std::string(
        R"({"type":"subscribe","subscription":{"id":"b","sql":"SELECT t FROM bench.live_events"}})")));
    ws_.read(buf_);  // subscription_ack
    buf_.consume(buf_.size());
    Read();
  }
  void Read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      const int64_t now = NowNs();
      std::string msg = beast::buffers_to_string(self->buf_.data());
      self->buf_.consume(self->buf_.size());
      auto pos = msg.find("\"t\":");
      if (pos != std::string::npos) {
        const char* p = msg.c_str() + pos + 4;
        if (*p == '"') ++p;  // BIGINT travels as a JSON string
        int64_t sent = std::strtoll(p, nullptr, 10);
        self->latencies_ns.push_back(now - sent);
      }
      self->Read();
    });
  }
  void Ping() {
    ws_.async_write(boost::asio::buffer(ping_), [self = shared_from_this()](beast::error_code,
                                                                             size_t) {});
  }
  void Close() {
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
  }
  std::vector<int64_t> latencies_ns;

 private:
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  const Options& o_;
  std::string token_;
  const std::string ping_ = R"({"type":"ping"})";
};

double Pct(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i] / 1000.0;
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
    else if (k == "--inserts") o.inserts = std::stoi(v);
    else if (k == "--subscribers") {
      o.subscribers.clear();
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) o.subscribers.push_back(std::stoi(part));
    }
  }
  Http http(o);
  {
    std::string out = http.Post("/v1/api/auth/login",
                                json::serialize(json::object{{"user", o.user}, {"password", o.password}}));
    http.token = std::string(json::parse(out).at("access_token").as_string());
  }
  http.Sql("CREATE NAMESPACE IF NOT EXISTS bench");
  http.Sql("CREATE SHARED TABLE IF NOT EXISTS bench.live_events (id BIGINT PRIMARY KEY "
           "AUTO_INCREMENT, t BIGINT)");
  auto endpoints = tcp::resolver(*new boost::asio::io_context).resolve(o.host, o.port);
  for (int n : o.subscribers) {
    boost::asio::io_context ioc;
    std::vector<std::shared_ptr<Subscriber>> subs;
    for (int i = 0; i < n; ++i) {
      auto s = std::make_shared<Subscriber>(ioc, o, http.token);
      s->Start(endpoints);
      subs.push_back(s);
    }
    auto guard = boost::asio::make_work_guard(ioc);
    std::thread io([&] { ioc.run(); });
    const int inserts = std::max(50, o.inserts / std::max(1, n / 10));
    const auto start = Clock::now();
    auto last_ping = start;
    for (int i = 0; i < inserts; ++i) {
      http.Sql("INSERT INTO bench.live_events (t) VALUES (" + std::to_string(NowNs()) + ")");
      if (Clock::now() - last_ping > std::chrono::seconds(3)) {
        boost::asio::post(ioc, [&subs] { for (auto& s : subs) s->Ping(); });
        last_ping = Clock::now();
      }
    }
    // Wait for delivery to finish (or 20 s).
    const size_t expected = static_cast<size_t>(inserts) * n;
    for (int w = 0; w < 2000; ++w) {
      size_t got = 0;
      std::promise<size_t> p;
      boost::asio::post(ioc, [&] {
        size_t g = 0;
        for (auto& s : subs) g += s->latencies_ns.size();
        p.set_value(g);
      });
      got = p.get_future().get();
      if (got >= expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::promise<void> done;
    std::vector<int64_t> all;
    boost::asio::post(ioc, [&] {
      for (auto& s : subs) {
        all.insert(all.end(), s->latencies_ns.begin(), s->latencies_ns.end());
        s->Close();
      }
      done.set_value();
    });
    done.get_future().get();
    guard.reset();
    ioc.stop();
    io.join();
    std::printf("subscribers=%-5d inserts=%-5d events=%zu/%zu (%.0f events/s)  write→notify p50=%.0f µs p99=%.0f µs\n",
                n, inserts, all.size(), expected, all.size() / secs, Pct(all, 0.5), Pct(all, 0.99));
    std::fflush(stdout);
  }
  return 0;
}
