// Tests for HttpServer against real sockets on 127.0.0.1: routing, keep-alive, the request guards
// (413, 503, 400, timeouts), CORS, Responders on other threads, shutdown and the upgrade hook.
#include "net/http_server.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include "common/thread_pool.h"

namespace kalam::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using Response = http::response<http::string_body>;

// A blocking HTTP client over one connection. Every operation has a deadline, so a server bug
// fails the test instead of hanging it.
class TestClient {
 public:
  explicit TestClient(uint16_t port) : stream_(ioc_) {
    stream_.expires_after(5s);
    beast::error_code ec;
    stream_.socket().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    EXPECT_FALSE(ec) << ec.message();
  }

  // Writes raw bytes.
  void Write(std::string_view raw) {
    beast::error_code result;
    stream_.expires_after(5s);
    asio::async_write(stream_, asio::buffer(raw.data(), raw.size()),
                      [&](beast::error_code ec, size_t) { result = ec; });
    Run();
    EXPECT_FALSE(result) << result.message();
  }

  // Reads one response; nullopt (and the error in last_error()) if none arrives.
  std::optional<Response> Read(std::chrono::seconds timeout = 5s) {
    Response response;
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    stream_.expires_after(timeout);
    http::async_read(stream_, buffer_, parser, [&](beast::error_code ec, size_t) { error_ = ec; });
    Run();
    if (error_) return std::nullopt;
    return parser.release();
  }

  // Sends a request and reads its response.
  std::optional<Response> Request(std::string_view method, std::string_view target,
                                  std::string body = "",
                                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string raw = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n";
    for (const auto& [name, value] : headers) raw += name + ": " + value + "\r\n";
    if (!body.empty() || method == "POST") raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    raw += "\r\n" + body;
    Write(raw);
    return Read();
  }

  // True when the server closes the connection (EOF or reset) within `timeout`; data received
  // meanwhile is discarded.
  bool WaitClosed(std::chrono::seconds timeout = 5s) {
    stream_.expires_after(timeout);
    for (;;) {
      beast::error_code result;
      size_t n = 0;
      stream_.async_read_some(buffer_.prepare(4096), [&](beast::error_code ec, size_t bytes) {
        result = ec;
        n = bytes;
      });
      Run();
      if (result == beast::error::timeout) return false;
      if (result) return true;
      buffer_.commit(n);
      buffer_.consume(buffer_.size());
    }
  }

  beast::error_code last_error() const { return error_; }

 private:
  void Run() {
    ioc_.restart();
    ioc_.run();
  }

  asio::io_context ioc_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  beast::error_code error_;
};

HttpResponse Text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// Echoes what the server parsed, one field per line.
void Echo(HttpRequest&& request, Responder respond) {
  std::string out = "method=" + request.method + "\npath=" + request.path +
                    "\nquery=" + request.query + "\nbody=" + request.body +
                    "\nremote_ip=" + request.remote_ip +
                    "\nloopback=" + (request.remote_is_loopback ? "1" : "0") +
                    "\nx-test=" + std::string(request.Header("x-TEST"));
  respond(Text(200, std::move(out)));
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.port = 0;
    options_.io_threads = 2;
    router_ = std::make_shared<Router>();
    router_->Add("GET", "/echo", Echo);
    router_->Add("POST", "/echo", Echo);
  }

  void TearDown() override {
    if (server_) server_->Stop(1s);
  }

  void StartServer() {
    auto started = HttpServer::Start(options_, router_);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    ASSERT_NE(server_->port(), 0);
  }

  HttpServerOptions options_;
  std::shared_ptr<Router> router_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, GetAndPostRoundTrip) {
  StartServer();
  TestClient client(server_->port());
  auto get = client.Request("GET", "/echo?a=1&b=two", "", {{"X-Test", "hello"}});
  ASSERT_TRUE(get) << client.last_error().message();
  EXPECT_EQ(get->result_int(), 200);
  EXPECT_EQ(get->body(),
            "method=GET\npath=/echo\nquery=a=1&b=two\nbody=\nremote_ip=127.0.0.1\nloopback=1"
            "\nx-test=hello");
  EXPECT_EQ((*get)[http::field::server], "kalamdb");
  EXPECT_EQ((*get)[http::field::content_type], "text/plain");
  EXPECT_TRUE(get->keep_alive());

  auto post = client.Request("POST", "/echo", R"j({"sql":"SELECT 1"})j");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->result_int(), 200);
  EXPECT_EQ(post->body(),
            "method=POST\npath=/echo\nquery=\nbody={\"sql\":\"SELECT 1\"}\nremote_ip=127.0.0.1"
            "\nloopback=1\nx-test=");
}

TEST_F(HttpServerTest, UnknownRouteAndWrongMethodUseProtocolErrorShapes) {
  StartServer();
  TestClient client(server_->port());
  auto missing = client.Request("GET", "/x");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->result_int(), 404);
  EXPECT_EQ((*missing)[http::field::content_type], "application/json");
  EXPECT_EQ(missing->body(), R"j({"error":"NOT_FOUND","message":"No route for GET /x"})j");

  auto wrong = client.Request("DELETE", "/echo");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->result_int(), 405);
  EXPECT_EQ((*wrong)[http::field::allow], "GET, POST");
  EXPECT_EQ(wrong->body(),
            R"j({"error":"METHOD_NOT_ALLOWED","message":"Method DELETE is not allowed for /echo (allowed: GET, POST)"})j");
  EXPECT_TRUE(wrong->keep_alive());  // routing errors do not close the connection
}

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  StartServer();
  TestClient client(server_->port());
  for (int i = 0; i < 5; ++i) {
    auto r = client.Request("POST", "/echo", "n" + std::to_string(i));
    ASSERT_TRUE(r) << "request " << i << ": " << client.last_error().message();
    EXPECT_TRUE(r->keep_alive());
    EXPECT_NE(r->body().find("body=n" + std::to_string(i) + "\n"), std::string::npos);
  }
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  ThreadPool pool(2);
  std::atomic<int> slow_started{0};
  router_->Add("GET", "/slow", [&](HttpRequest&&, Responder respond) {
    slow_started.fetch_add(1);
    pool.Submit([respond] {
      std::this_thread::sleep_for(50ms);  // the fast request behind it must still come second
      respond(Text(200, "slow"));
    });
  });
  StartServer();
  TestClient client(server_->port());
  client.Write(
      "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nfast");
  auto first = client.Read();
  auto second = client.Read();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body(), "slow");
  EXPECT_NE(second->body().find("body=fast\n"), std::string::npos);
  EXPECT_EQ(slow_started.load(), 1);
}

TEST_F(HttpServerTest, ResponderCalledFromAnotherThreadIsDelivered) {
  ThreadPool pool(2);
  router_->Add("POST", "/async", [&](HttpRequest&& request, Responder respond) {
    pool.Submit([body = std::move(request.body), respond] {
      respond(Text(201, "worker got " + body));
    });
  });
  StartServer();
  TestClient client(server_->port());
  for (int i = 0; i < 20; ++i) {
    auto r = client.Request("POST", "/async", std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 201);
    EXPECT_EQ(r->body(), "worker got " + std::to_string(i));
  }
}

// A BodySource of `length` pattern bytes produced on a thread pool; fails the piece that starts at
// or after `fail_at`. Records the largest piece asked for and whether two were ever outstanding.
class PoolSource final : public BodySource {
 public:
  PoolSource(ThreadPool& pool, uint64_t length, uint64_t fail_at = UINT64_MAX)
      : pool_(pool), length_(length), fail_at_(fail_at) {}
  uint64_t length() const override { return length_; }
  void Next(size_t max_bytes, std::function<void(bool, std::string)> done) override {
    if (outstanding_.exchange(true)) overlapped_ = true;
    calls_++;
    largest_ask_ = std::max<size_t>(largest_ask_, max_bytes);
    pool_.Submit([this, max_bytes, done] {
      std::this_thread::sleep_for(1ms);  // the connection waits with no I/O pending
      const uint64_t at = produced_;
      if (at >= fail_at_) {
        outstanding_ = false;
        return done(false, "");
      }
      std::string piece(max_bytes, '\0');
      for (size_t i = 0; i < max_bytes; ++i) piece[i] = static_cast<char>((at + i) * 7 % 251);
      produced_ += max_bytes;
      outstanding_ = false;
      done(true, std::move(piece));
    });
  }
  static std::string Expected(uint64_t n) {
    std::string s(n, '\0');
    for (uint64_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 % 251);
    return s;
  }

  std::atomic<bool> outstanding_{false};
  std::atomic<bool> overlapped_{false};
  std::atomic<int> calls_{0};
  std::atomic<size_t> largest_ask_{0};

 private:
  ThreadPool& pool_;
  const uint64_t length_;
  const uint64_t fail_at_;
  std::atomic<uint64_t> produced_{0};
};

TEST_F(HttpServerTest, BodySourceIsSentPieceByPieceThenTheConnectionIsReused) {
  ThreadPool pool(2);
  const uint64_t length = (10 << 20) + 7;  // pieces of 4, 4 and 2 MiB + 7
  std::shared_ptr<PoolSource> source;
  router_->Add("GET", "/source", [&](HttpRequest&&, Responder respond) {
    HttpResponse r = Text(200, "ignored");
    source = std::make_shared<PoolSource>(pool, length);
    r.body_source = source;
    respond(std::move(r));
  });
  StartServer();
  TestClient client(server_->port());
  auto r = client.Request("GET", "/source");
  ASSERT_TRUE(r) << client.last_error().message();
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->at(http::field::content_length), std::to_string(length));
  EXPECT_TRUE(r->body() == PoolSource::Expected(length));
  EXPECT_EQ(source->calls_.load(), 3);
  EXPECT_EQ(source->largest_ask_.load(), 4u << 20);
  EXPECT_FALSE(source->overlapped_.load());
  auto next = client.Request("GET", "/echo");  // keep-alive: the same connection goes on
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body().rfind("method=GET", 0), 0u);
}

TEST_F(HttpServerTest, AFailingBodySourceClosesTheConnectionMidBody) {
  ThreadPool pool(2);
  router_->Add("GET", "/source", [&](HttpRequest&&, Responder respond) {
    HttpResponse r;
    r.body_source = std::make_shared<PoolSource>(pool, 10 << 20, /*fail_at=*/4 << 20);
    respond(std::move(r));
  });
  StartServer();
  TestClient client(server_->port());
  client.Write("GET /source HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_FALSE(client.Read());  // a short body: the client never gets a whole response
  EXPECT_EQ(client.last_error(), http::error::partial_message);
}

TEST_F(HttpServerTest, SecondResponderCallIsIgnored) {
  router_->Add("GET", "/twice", [](HttpRequest&&, Responder respond) {
    respond(Text(200, "first"));
    respond(Text(500, "second"));
  });
  StartServer();
  TestClient client(server_->port());
  auto r = client.Request("GET", "/twice");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "first");
  auto next = client.Request("GET", "/echo");  // the stray second call must not answer this
  ASSERT_TRUE(next);
  EXPECT_EQ(next->result_int(), 200);
  EXPECT_EQ(next->body().rfind("method=GET", 0), 0u);
}

TEST_F(HttpServerTest, ThrowingHandlerGets500) {
  router_->Add("GET", "/throw", [](HttpRequest&&, Responder) {
    throw std::runtime_error("handler bug");
  });
  StartServer();
  TestClient client(server_->port());
  auto r = client.Request("GET", "/throw");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 500);
  EXPECT_EQ(r->body(), R"j({"error":"INTERNAL_ERROR","message":"Internal server error"})j");
}

TEST_F(HttpServerTest, ContentLengthOverLimitIs413AndCloses) {
  options_.max_body_bytes = 1024;
  StartServer();
  TestClient client(server_->port());
  client.Write("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n" +
               std::string(2000, 'x'));
  auto r = client.Read();
  ASSERT_TRUE(r) << client.last_error().message();
  EXPECT_EQ(r->result_int(), 413);
  EXPECT_EQ(r->body(),
            R"j({"error":"BODY_TOO_LARGE","message":"Request body too large","size_bytes":5000000,"max_bytes":1024})j");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, BodyExactlyAtLimitIsAccepted) {
  options_.max_body_bytes = 1024;
  StartServer();
  TestClient client(server_->port());
  auto r = client.Request("POST", "/echo", std::string(1024, 'y'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413WithBytesSeen) {
  options_.max_body_bytes = 1024;
  StartServer();
  TestClient client(server_->port());
  // Two 600-byte chunks (0x258); the limit is crossed by the second chunk's header.
  client.Write("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "258\r\n" + std::string(600, 'a') + "\r\n"
               "258\r\n" + std::string(600, 'b') + "\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r) << client.last_error().message();
  EXPECT_EQ(r->result_int(), 413);
  EXPECT_EQ(r->body(),
            R"j({"error":"BODY_TOO_LARGE","message":"Request body too large","size_bytes":1200,"max_bytes":1024})j");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, ChunkedBodyUnderLimitIsReassembled) {
  options_.max_body_bytes = 1024;
  StartServer();
  TestClient client(server_->port());
  client.Write("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_NE(r->body().find("body=hello world\n"), std::string::npos);
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer();
  TestClient client(server_->port());
  client.Write("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  auto interim = client.Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100);
  client.Write("abcde");
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_NE(r->body().find("body=abcde\n"), std::string::npos);
}

TEST_F(HttpServerTest, ConnectionsOverTheCapGet503) {
  options_.max_connections = 2;
  StartServer();
  auto a = std::make_unique<TestClient>(server_->port());
  TestClient b(server_->port());
  ASSERT_TRUE(a->Request("GET", "/echo"));  // both admitted and being served
  ASSERT_TRUE(b.Request("GET", "/echo"));

  TestClient c(server_->port());
  auto r = c.Read();  // answered without sending anything
  ASSERT_TRUE(r) << c.last_error().message();
  EXPECT_EQ(r->result_int(), 503);
  EXPECT_EQ(r->body(),
            R"j({"error":"TOO_MANY_CONNECTIONS","message":"Too many concurrent connections (limit 2). Retry later.","current":2,"max":2})j");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.WaitClosed());

  // Closing one admitted connection frees its slot.
  a.reset();
  for (int i = 0; i < 500 && server_->open_connections() != 1; ++i) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(server_->open_connections(), 1u);
  TestClient d(server_->port());
  auto ok = d.Request("GET", "/echo");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->result_int(), 200);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
  StartServer();
  TestClient client(server_->port());
  client.Write("THIS IS NOT HTTP\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r) << client.last_error().message();
  EXPECT_EQ(r->result_int(), 400);
  EXPECT_EQ(r->body().rfind(R"j({"error":"BAD_REQUEST","message":"Malformed HTTP request: )j", 0), 0u)
      << r->body();
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, OversizedHeadIs431) {
  options_.max_header_bytes = 1024;
  StartServer();
  TestClient client(server_->port());
  client.Write("GET /echo HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'h') + "\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 431);
  EXPECT_EQ(r->body(),
            R"j({"error":"HEADERS_TOO_LARGE","message":"Request headers larger than 1024 bytes"})j");
  EXPECT_TRUE(client.WaitClosed());
}

TEST_F(HttpServerTest, Http10RequestIsAnsweredThenClosed) {
  StartServer();
  TestClient client(server_->port());
  client.Write("GET /echo HTTP/1.0\r\n\r\n");
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->version(), 10u);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(client.WaitClosed());
}

// Real timers: request_timeout has a granularity of one second, so these take ~1 s each.
TEST_F(HttpServerTest, HandlerThatNeverRespondsIsClosedAfterRequestTimeout) {
  options_.request_timeout = 1s;
  std::mutex mu;
  std::vector<Responder> parked;  // never called until after the timeout
  router_->Add("GET", "/never", [&](HttpRequest&&, Responder respond) {
    std::lock_guard lock(mu);
    parked.push_back(std::move(respond));
  });
  StartServer();
  TestClient client(server_->port());
  client.Write("GET /never HTTP/1.1\r\nHost: t\r\n\r\n");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.WaitClosed(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  for (int i = 0; i < 500 && server_->open_connections() != 0; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(server_->open_connections(), 0u);
  std::lock_guard lock(mu);
  ASSERT_EQ(parked.size(), 1u);
  parked[0](Text(200, "too late"));  // harmless after the close
}

TEST_F(HttpServerTest, ExtraHandlerTimeLetsALongPollAnswerAfterTheRequestTimeout) {
  options_.request_timeout = 1s;
  router_->Add("GET", "/poll", [&](HttpRequest&&, Responder respond) {
    std::thread([respond = std::move(respond)] {
      std::this_thread::sleep_for(1500ms);  // past request_timeout, within the extra time
      respond(Text(200, "polled"));
    }).detach();
  });
  router_->SetExtraHandlerTime("/poll", 2s);
  EXPECT_EQ(router_->ExtraHandlerTime("/poll"), 2s);
  EXPECT_EQ(router_->ExtraHandlerTime("/echo"), 0s);
  StartServer();
  TestClient client(server_->port());
  auto r = client.Request("GET", "/poll");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->body(), "polled");
}

TEST_F(HttpServerTest, SilentConnectionIsClosedAfterRequestTimeout) {
  options_.request_timeout = 1s;
  StartServer();
  TestClient client(server_->port());
  EXPECT_TRUE(client.WaitClosed(5s));
}

// The keep-alive deadline after a response is earlier than the request deadline the connection's
// watchdog was armed for: the watchdog is re-armed, the idle connection closes after ~1 s.
TEST_F(HttpServerTest, IdleKeepAliveShorterThanRequestTimeoutClosesOnTime) {
  options_.request_timeout = 4s;
  options_.keep_alive_timeout = 1s;
  StartServer();
  TestClient client(server_->port());
  auto r = client.Request("GET", "/echo");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result_int(), 200);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.WaitClosed(3s));
  const auto idle = std::chrono::steady_clock::now() - start;
  EXPECT_GE(idle, 900ms);
  EXPECT_LT(idle, 2500ms);
}

// A connection that stays busy past several timeout periods is never closed: each period's
// watchdog wake-up finds the deadline moved on and waits again.
TEST_F(HttpServerTest, BusyKeepAliveConnectionOutlivesManyTimeoutPeriods) {
  options_.request_timeout = 1s;
  options_.keep_alive_timeout = 1s;
  StartServer();
  TestClient client(server_->port());
  const auto until = std::chrono::steady_clock::now() + 3500ms;
  int answered = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto r = client.Request("GET", "/echo?n=" + std::to_string(answered));
    ASSERT_TRUE(r.has_value()) << "request " << answered << ": " << client.last_error().message();
    EXPECT_EQ(r->result_int(), 200);
    ++answered;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_GE(answered, 10);
}

TEST_F(HttpServerTest, StopDeliversResponseOfSlowHandler) {
  std::promise<Responder> parked;
  router_->Add("GET", "/slow", [&](HttpRequest&&, Responder respond) {
    parked.set_value(std::move(respond));
  });
  StartServer();
  TestClient busy(server_->port());
  TestClient idle(server_->port());
  ASSERT_TRUE(idle.Request("GET", "/echo"));
  busy.Write("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
  Responder respond = parked.get_future().get();  // the handler is running

  std::thread stopper([&] { server_->Stop(10s); });
  EXPECT_TRUE(idle.WaitClosed());  // idle connections close at once: Stop has begun
  respond(Text(200, "finished during shutdown"));
  auto r = busy.Read();
  stopper.join();
  ASSERT_TRUE(r) << busy.last_error().message();
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->body(), "finished during shutdown");
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(busy.WaitClosed());
  respond(Text(200, "again"));  // after Stop: ignored, no crash
}

TEST_F(HttpServerTest, StopClosesHandlersThatOutliveTheGracePeriod) {
  std::promise<Responder> parked;
  router_->Add("GET", "/never", [&](HttpRequest&&, Responder respond) {
    parked.set_value(std::move(respond));
  });
  StartServer();
  TestClient client(server_->port());
  client.Write("GET /never HTTP/1.1\r\nHost: t\r\n\r\n");
  Responder respond = parked.get_future().get();
  auto start = std::chrono::steady_clock::now();
  server_->Stop(100ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(client.WaitClosed());
  server_->Stop(100ms);  // idempotent
  respond(Text(200, "late"));
  server_.reset();
  respond(Text(200, "later still"));  // the server object is gone: still harmless
}

TEST_F(HttpServerTest, StopRefusesNewConnections) {
  StartServer();
  uint16_t port = server_->port();
  server_->Stop(0ms);
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_TRUE(ec);
}

TEST_F(HttpServerTest, BindingAPortInUseFailsWithIoError) {
  StartServer();
  HttpServerOptions second = options_;
  second.port = server_->port();
  auto r = HttpServer::Start(second, router_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(r.status().message(),
            "Cannot bind 127.0.0.1:" + std::to_string(server_->port()) + ": Address already in use");
}

TEST_F(HttpServerTest, InvalidOptionsAreRejected) {
  options_.io_threads = 0;
  auto r = HttpServer::Start(options_, router_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, CorsPreflightAndAllowOriginHeader) {
  options_.cors_allowed_origins = {"https://app.example"};
  StartServer();
  TestClient client(server_->port());
  auto pre = client.Request("OPTIONS", "/echo", "",
                            {{"Origin", "https://app.example"},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization,content-type"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->result_int(), 204);
  EXPECT_EQ((*pre)[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ((*pre)[http::field::access_control_allow_methods], "GET, POST, OPTIONS");
  EXPECT_EQ((*pre)[http::field::access_control_allow_headers],
            "Authorization, Content-Type, If-None-Match, Range");
  EXPECT_EQ((*pre)[http::field::access_control_max_age], "3600");
  EXPECT_EQ((*pre)[http::field::access_control_allow_credentials], "true");
  EXPECT_EQ(pre->count(http::field::content_length), 0u);
  EXPECT_TRUE(pre->body().empty());

  auto get = client.Request("GET", "/echo", "", {{"Origin", "https://app.example"}});
  ASSERT_TRUE(get);
  EXPECT_EQ((*get)[http::field::access_control_allow_origin], "https://app.example");
  EXPECT_EQ((*get)[http::field::vary], "Origin");
  EXPECT_EQ((*get)[http::field::access_control_expose_headers],
            "ETag, Content-Range, Content-Disposition, Retry-After");

  auto other = client.Request("GET", "/echo", "", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->result_int(), 200);
  EXPECT_EQ(other->count(http::field::access_control_allow_origin), 0u);

  auto denied = client.Request("OPTIONS", "/echo", "",
                               {{"Origin", "https://evil.example"},
                                {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->result_int(), 403);
  EXPECT_EQ(denied->count(http::field::access_control_allow_origin), 0u);
}

TEST_F(HttpServerTest, CorsWildcardAllowsAnyOrigin) {
  options_.cors_allowed_origins = {"*"};
  StartServer();
  TestClient client(server_->port());
  auto get = client.Request("GET", "/echo", "", {{"Origin", "https://anything.example"}});
  ASSERT_TRUE(get);
  EXPECT_EQ((*get)[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(get->count(http::field::access_control_allow_credentials), 0u);
}

TEST_F(HttpServerTest, NoCorsHeadersWhenCorsIsOff) {
  StartServer();
  TestClient client(server_->port());
  auto get = client.Request("GET", "/echo", "", {{"Origin", "https://app.example"}});
  ASSERT_TRUE(get);
  EXPECT_EQ(get->count(http::field::access_control_allow_origin), 0u);
  auto pre = client.Request("OPTIONS", "/echo", "",
                            {{"Origin", "https://app.example"},
                             {"Access-Control-Request-Method", "POST"}});
  ASSERT_TRUE(pre);
  EXPECT_EQ(pre->result_int(), 405);  // OPTIONS goes to the router like any method
}

constexpr std::string_view kUpgradeRequest =
    "GET /ws?compress=false HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

TEST_F(HttpServerTest, UpgradeWithoutHookIs404OnUnknownPath) {
  StartServer();
  TestClient client(server_->port());
  client.Write(kUpgradeRequest);
  auto r = client.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 404);
  EXPECT_EQ(r->body(), R"j({"error":"NOT_FOUND","message":"No route for GET /ws"})j");
}

TEST_F(HttpServerTest, UpgradeHookReceivesTheSocket) {
  StartServer();
  std::promise<std::string> seen;
  server_->SetUpgradeHook(UpgradeHook{
      [](std::string_view path) { return path == "/ws"; },
      [&](UpgradeRequest&& up) {
        seen.set_value(up.request.path + "|" + up.request.query + "|" +
                       std::string(up.request.Header("sec-websocket-key")) + "|" +
                       (up.slot.held() ? "slot" : "noslot"));
        std::string_view reply = "HTTP/1.1 101 Switching Protocols\r\n\r\nhanded-over";
        beast::error_code ec;
        asio::write(up.stream.socket(), asio::buffer(reply.data(), reply.size()), ec);
        // `up` is destroyed here, closing the socket.
      }});
  TestClient client(server_->port());
  client.Write(kUpgradeRequest);
  auto r = client.Read();
  ASSERT_TRUE(r) << client.last_error().message();
  EXPECT_EQ(r->result_int(), 101);
  EXPECT_EQ(seen.get_future().get(), "/ws|compress=false|dGhlIHNhbXBsZSBub25jZQ==|slot");
}

}  // namespace
}  // namespace kalam::net
