// Tests for WsTransport: a real HttpServer with the WebSocket hook, a real AuthService over an
// in-memory catalog, a recording WsApplication, and a Beast WebSocket client. Timeouts are
// configured to 1 s where a test waits for one (the transport runs on real Asio timers).
#include "api/ws_transport.h"

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "net/http_server.h"
#include "net/router.h"
#include "../net/ws_test_client.h"
#include "storage/kv_store.h"

namespace kalam::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view kAliceSuccess =
    R"({"type":"auth_success","user":"alice","role":"user",)"
    R"("protocol":{"serialization":"json","compression":"gzip"}})";

// Records every call; lets tests wait for one.
class FakeApp : public WsApplication {
 public:
  void OnOpen(const std::shared_ptr<WsConnection>& conn) override {
    std::lock_guard lock(mu_);
    opened_.push_back(conn);
    cv_.notify_all();
  }
  void OnMessage(const std::shared_ptr<WsConnection>& conn, json::object message) override {
    std::lock_guard lock(mu_);
    messages_.push_back(std::to_string(conn->id()) + " " + json::serialize(message));
    cv_.notify_all();
  }
  void OnClose(uint64_t connection_id) override {
    std::lock_guard lock(mu_);
    ++closes_[connection_id];
    cv_.notify_all();
  }

  // The n-th opened connection (0-based), waiting up to 5 s for it.
  std::shared_ptr<WsConnection> Opened(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return opened_.size() > n; });
    return opened_.size() > n ? opened_[n] : nullptr;
  }
  size_t opened_count() {
    std::lock_guard lock(mu_);
    return opened_.size();
  }
  std::vector<std::string> WaitMessages(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return messages_.size() >= n; });
    return messages_;
  }
  // OnClose calls seen for `id`, after waiting up to 5 s for at least one.
  int WaitClose(uint64_t id) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return closes_.count(id) > 0; });
    return closes_.count(id) ? closes_[id] : 0;
  }
  std::map<uint64_t, int> closes() {
    std::lock_guard lock(mu_);
    return closes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<WsConnection>> opened_;
  std::vector<std::string> messages_;
  std::map<uint64_t, int> closes_;
};

using namespace net::wstest;  // NOLINT(build/namespaces): the shared test client

class WsTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(*kv_, clock_)).value();
    for (auto [id, role] : {std::pair{"alice", auth::Role::kUser}, {"bob", auth::Role::kDba}}) {
      catalog::UserRecord u;
      u.user_id = id;
      u.role = role;
      ASSERT_TRUE(catalog_->PutUser(u).ok());
    }
    auth_ = std::make_unique<AuthService>(*catalog_, AuthSettings{"test-secret", 24, 5, 900},
                                          clock_);
  }

  void TearDown() override {
    if (transport_) transport_->Shutdown();
    if (server_) server_->Stop(0ms);
  }

  void Start() {
    net::HttpServerOptions ho;
    ho.host = "127.0.0.1";
    ho.port = 0;
    ho.io_threads = 2;
    auto started = net::HttpServer::Start(ho, std::make_shared<net::Router>());
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    transport_ = std::make_unique<WsTransport>(options_, *auth_, app_);
    server_->SetUpgradeHook(transport_->Hook());
  }

  std::string Token(std::string_view user) {
    return auth_->Issue(*catalog_->GetUser(user)).access_token;
  }
  std::string Bearer(std::string_view user) { return "Bearer " + Token(user); }
  uint16_t port() const { return server_->port(); }

  // A client authenticated as alice by header, past its auth_success.
  std::unique_ptr<Client> OpenAlice(std::string target = "/v1/ws") {
    auto client = std::make_unique<Client>(port(), target, Bearer("alice"));
    EXPECT_TRUE(client->connected()) << client->error().message();
    auto first = client->Read();
    EXPECT_TRUE(first) << client->error().message();
    return client;
  }

  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<AuthService> auth_;
  FakeApp app_;
  WsTransportOptions options_;
  std::unique_ptr<net::HttpServer> server_;
  std::unique_ptr<WsTransport> transport_;
};

TEST_F(WsTransportTest, HookAcceptsOnlyTheWebSocketPaths) {
  Start();
  net::UpgradeHook hook = transport_->Hook();
  EXPECT_TRUE(hook.accepts("/v1/ws"));
  EXPECT_TRUE(hook.accepts("/ws"));
  EXPECT_FALSE(hook.accepts("/v1/ws/"));
  EXPECT_FALSE(hook.accepts("/v1/api/sql"));
}

TEST_F(WsTransportTest, HeaderAuthSendsAuthSuccessFirstThenOpens) {
  Start();
  Client client(port(), "/v1/ws", Bearer("alice"));
  ASSERT_TRUE(client.connected()) << client.error().message();
  EXPECT_EQ(client.response().result_int(), 101);
  EXPECT_EQ(client.response()[beast::http::field::server], "kalamdb");
  auto first = client.Read();
  ASSERT_TRUE(first) << client.error().message();
  EXPECT_FALSE(first->binary);
  EXPECT_EQ(first->data, kAliceSuccess);
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->id(), 1u);  // ids count from 1
  EXPECT_EQ(conn->principal().user_id, "alice");
  EXPECT_EQ(conn->principal().role, auth::Role::kUser);
  EXPECT_EQ(transport_->open_connections(), 1u);
}

TEST_F(WsTransportTest, AliasPathAndCompressFalseReportNoCompression) {
  Start();
  Client client(port(), "/ws?compress=false", Bearer("bob"));
  ASSERT_TRUE(client.connected()) << client.error().message();
  auto first = client.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data,
            R"({"type":"auth_success","user":"bob","role":"dba",)"
            R"("protocol":{"serialization":"json","compression":"none"}})");
}

TEST_F(WsTransportTest, InBandAuthenticateOpensTheConnection) {
  Start();
  Client client(port());
  ASSERT_TRUE(client.connected());
  client.SendText(R"({"type":"authenticate","method":"jwt","token":")" + Token("alice") +
                  R"(","protocol":{"serialization":"json","compression":"gzip"}})");
  auto first = client.Read();
  ASSERT_TRUE(first) << client.error().message();
  EXPECT_EQ(first->data, kAliceSuccess);
  ASSERT_TRUE(app_.Opened(0));
  EXPECT_EQ(app_.Opened(0)->principal().user_id, "alice");
}

TEST_F(WsTransportTest, InBandProtocolCompressionNoneIsHonouredAndProtocolIsOptional) {
  Start();
  Client none(port());
  none.SendText(R"({"type":"authenticate","method":"jwt","token":")" + Token("alice") +
                R"(","protocol":{"serialization":"json","compression":"none"}})");
  auto first = none.Read();
  ASSERT_TRUE(first);
  EXPECT_NE(first->data.find(R"("compression":"none")"), std::string::npos) << first->data;
  Client bare(port());
  bare.SendText(R"({"type":"authenticate","token":")" + Token("alice") + R"("})");
  first = bare.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data, kAliceSuccess);
}

TEST_F(WsTransportTest, BadHeaderTokenGetsAuthErrorAndClose1008NotHttp401) {
  Start();
  Client client(port(), "/v1/ws", "Bearer not.a.jwt");
  ASSERT_TRUE(client.connected()) << client.error().message();
  EXPECT_EQ(client.response().result_int(), 101);
  auto first = client.Read();
  ASSERT_TRUE(first);
  auto msg = json::parse(first->data).as_object();
  EXPECT_EQ(msg.at("type"), "auth_error");
  EXPECT_TRUE(msg.at("message").is_string());
  EXPECT_EQ(msg.size(), 2u);
  auto closed = client.ReadUntilClosed();
  ASSERT_TRUE(closed) << client.error().message();
  EXPECT_EQ(closed->code, 1008);
  EXPECT_EQ(app_.opened_count(), 0u);
}

TEST_F(WsTransportTest, BasicHeaderIsAnAuthFailureToo) {
  Start();
  Client client(port(), "/v1/ws", "Basic YWxpY2U6eA==");
  auto first = client.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data,
            R"({"type":"auth_error","message":)"
            R"("Only 'Authorization: Bearer <token>' is accepted on this endpoint"})");
  auto closed = client.ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1008);
}

TEST_F(WsTransportTest, BadInBandTokenGetsAuthErrorAndClose1008) {
  Start();
  Client client(port());
  client.SendText(R"({"type":"authenticate","method":"jwt","token":"garbage"})");
  auto first = client.Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(json::parse(first->data).at("type"), "auth_error");
  auto closed = client.ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1008);
}

TEST_F(WsTransportTest, FirstMessageOtherThanAuthenticateGetsAuthError) {
  Start();
  for (std::string_view first_message :
       {R"({"type":"ping"})", "not json", R"({"type":"authenticate","method":"basic"})"}) {
    Client client(port());
    client.SendText(first_message);
    auto first = client.Read();
    ASSERT_TRUE(first) << first_message;
    EXPECT_EQ(json::parse(first->data).at("type"), "auth_error") << first_message;
    auto closed = client.ReadUntilClosed();
    ASSERT_TRUE(closed) << first_message;
    EXPECT_EQ(closed->code, 1008) << first_message;
  }
  EXPECT_EQ(app_.opened_count(), 0u);
}

TEST_F(WsTransportTest, AuthTimeoutSendsTheExactMessageThenCloses1008) {
  options_.auth_timeout = 1s;
  Start();
  const auto start = std::chrono::steady_clock::now();
  Client client(port());
  auto first = client.Read(3s);
  ASSERT_TRUE(first) << client.error().message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(first->data,
            R"({"type":"auth_error","message":)"
            R"("Authentication timeout - no auth message received within 1 seconds"})");
  auto closed = client.ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1008);
  EXPECT_EQ(app_.opened_count(), 0u);
}

TEST_F(WsTransportTest, PingMessageGetsPong) {
  Start();
  auto client = OpenAlice();
  client->SendText(R"({"type":"ping"})");
  auto reply = client->Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->data, R"({"type":"pong"})");
}

TEST_F(WsTransportTest, SilentClientIsClosedWith1000HeartbeatTimeout) {
  options_.client_timeout = 1s;
  Start();
  auto client = OpenAlice();
  const auto start = std::chrono::steady_clock::now();
  auto closed = client->ReadUntilClosed(3s);
  ASSERT_TRUE(closed) << client->error().message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_EQ(closed->code, 1000);
  EXPECT_EQ(ReasonOf(*closed), "Heartbeat timeout");
  EXPECT_EQ(app_.WaitClose(1), 1);
}

TEST_F(WsTransportTest, WebSocketPingsKeepTheConnectionAlive) {
  options_.client_timeout = 1s;
  Start();
  auto client = OpenAlice();
  for (int i = 0; i < 5; ++i) {  // 2 s of pings, twice the timeout
    client->Ping();
    EXPECT_FALSE(client->Read(400ms));  // nothing but our pongs arrives
    EXPECT_EQ(client->error(), beast::error::timeout);
  }
  client->SendText(R"({"type":"ping"})");
  auto reply = client->Read();
  ASSERT_TRUE(reply) << client->error().message();
  EXPECT_EQ(reply->data, R"({"type":"pong"})");
  EXPECT_TRUE(app_.closes().empty());
}

TEST_F(WsTransportTest, InvalidMessagesCloseWith1011AndAReason) {
  Start();
  struct Case {
    std::string_view message;
    std::string_view reason_prefix;
  };
  for (const Case& c : {Case{"{nope", "Invalid message: "},
                        Case{"[1,2]", "Invalid message: expected a JSON object"},
                        Case{R"({"id":1})", "Invalid message: field 'type' must be a string"},
                        Case{R"({"type":"dance"})", "Invalid message: unknown type 'dance'"}}) {
    auto client = OpenAlice();
    client->SendText(c.message);
    auto closed = client->ReadUntilClosed();
    ASSERT_TRUE(closed) << c.message;
    EXPECT_EQ(closed->code, 1011) << c.message;
    EXPECT_EQ(ReasonOf(*closed).rfind(c.reason_prefix, 0), 0u)
        << c.message << " → " << ReasonOf(*closed);
  }
  // Every opened connection got exactly one OnClose.
  for (uint64_t id = 1; id <= 4; ++id) EXPECT_EQ(app_.WaitClose(id), 1) << id;
}

TEST_F(WsTransportTest, LongUnknownTypeIsCutToAValidCloseReason) {
  Start();
  auto client = OpenAlice();
  client->SendText(R"({"type":")" + std::string(300, 'y') + R"("})");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1011);
  EXPECT_LE(ReasonOf(*closed).size(), 123u);
}

TEST_F(WsTransportTest, TooLargeMessageGetsMessageTooLargeThenClose1009) {
  options_.max_message_bytes = 1024;
  Start();
  auto client = OpenAlice();
  client->SendText(R"({"type":"subscribe","pad":")" + std::string(2000, 'x') + R"("})");
  auto error = client->Read();
  ASSERT_TRUE(error) << client->error().message();
  EXPECT_EQ(error->data,
            R"({"type":"error","code":"MESSAGE_TOO_LARGE",)"
            R"("message":"Message exceeds the maximum size of 1024 bytes"})");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1009);
  EXPECT_TRUE(app_.WaitMessages(0).empty());
}

TEST_F(WsTransportTest, MessageOfExactlyTheLimitArrivesIntact) {
  options_.max_message_bytes = 64 << 10;  // read in many chunks
  Start();
  auto client = OpenAlice();
  std::string message = R"({"type":"subscribe","pad":")";
  for (size_t i = 0; message.size() < (64 << 10) - 2; ++i) message.push_back('a' + i % 26);
  message += R"("})";
  ASSERT_EQ(message.size(), size_t{64 << 10});
  client->SendText(message);
  auto got = app_.WaitMessages(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "1 " + message);
}

TEST_F(WsTransportTest, GzipBinaryClientMessagesAreInflatedAndBoundedToo) {
  options_.max_message_bytes = 1024;
  Start();
  auto client = OpenAlice();
  client->SendBinary(GzipBytes(R"({"type":"subscribe","subscription":{"id":"a"}})"));
  auto got = app_.WaitMessages(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], R"(1 {"type":"subscribe","subscription":{"id":"a"}})");
  // Small on the wire, too large once inflated.
  client->SendBinary(GzipBytes(R"({"type":"subscribe","pad":")" + std::string(5000, 'x') + "\"}"));
  auto error = client->Read();
  ASSERT_TRUE(error);
  EXPECT_NE(error->data.find("MESSAGE_TOO_LARGE"), std::string::npos);
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1009);
}

TEST_F(WsTransportTest, BinaryFrameThatIsNotGzipCloses1011) {
  Start();
  auto client = OpenAlice();
  client->SendBinary(R"({"type":"ping"})");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1011);
  EXPECT_EQ(ReasonOf(*closed), "Invalid message: binary frames must be gzip-compressed JSON");
}

TEST_F(WsTransportTest, MessagesBeyondTheRateAreDroppedWithRateLimitExceeded) {
  options_.max_messages_per_sec = 5;
  Start();
  auto client = OpenAlice();
  for (int i = 0; i < 8; ++i) {
    client->SendText(R"({"type":"unsubscribe","subscription_id":"s)" + std::to_string(i) +
                     R"("})");
  }
  for (int i = 0; i < 3; ++i) {
    auto error = client->Read();
    ASSERT_TRUE(error) << i;
    EXPECT_EQ(error->data,
              R"({"type":"error","code":"RATE_LIMIT_EXCEEDED","message":"Too many messages: )"
              R"(at most 5 per second per connection; this message was dropped"})");
  }
  auto got = app_.WaitMessages(5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[4], R"(1 {"type":"unsubscribe","subscription_id":"s4"})");
  EXPECT_FALSE(client->Read(300ms));  // nothing else: 3 errors for 3 dropped messages
}

TEST_F(WsTransportTest, LargeMessagesGoGzippedAsBinaryAndSmallOnesAsText) {
  Start();
  auto client = OpenAlice();
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  const std::string big = JsonOfSize(600);
  const std::string small = JsonOfSize(511);
  ASSERT_TRUE(conn->Send(big));
  ASSERT_TRUE(conn->Send(small));
  auto first = client->Read();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->binary);
  ASSERT_GE(first->data.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(first->data[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(first->data[1]), 0x8b);
  EXPECT_EQ(GunzipBytes(first->data), big);
  auto second = client->Read();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->binary);
  EXPECT_EQ(second->data, small);
}

TEST_F(WsTransportTest, CompressFalseSendsLargeMessagesAsText) {
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  const std::string big = JsonOfSize(600);
  ASSERT_TRUE(conn->Send(big));
  auto got = client->Read();
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->binary);
  EXPECT_EQ(got->data, big);
}

TEST_F(WsTransportTest, SendReturnsFalseOnceTheQueueOfANonReadingClientIsFull) {
  options_.outbound_queue_messages = 4;
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");  // then never reads again
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  const std::string chunk = JsonOfSize(256 << 10);
  // Socket buffers absorb a few MiB first; the queue is stuck once Send still fails after a pause
  // in which the I/O thread could have written.
  int accepted = 0;
  bool stuck = false;
  while (!stuck && accepted < 400) {
    while (accepted < 400 && conn->Send(chunk)) ++accepted;
    std::this_thread::sleep_for(50ms);
    stuck = !conn->Send(chunk);
    if (!stuck) ++accepted;
  }
  ASSERT_TRUE(stuck) << accepted << " messages accepted";
  EXPECT_GE(accepted, 4);
  EXPECT_FALSE(conn->Send("{}"));  // still full
  // The lagging notice still fits, in the control reserve, until that is full too.
  const std::string lagging =
      R"({"type":"error","subscription_id":"s","code":"SUBSCRIBER_LAGGING"})";
  for (size_t i = 0; i < kWsControlReserveMessages; ++i) EXPECT_TRUE(conn->SendControl(lagging));
  EXPECT_FALSE(conn->SendControl(lagging));
  EXPECT_FALSE(conn->Send("{}"));
  EXPECT_TRUE(app_.closes().empty());  // a full queue alone does not close the connection
}

TEST_F(WsTransportTest, ClientCloseCallsOnCloseOnceAndSendThenFails) {
  Start();
  auto client = OpenAlice();
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  client->Close();
  EXPECT_EQ(app_.WaitClose(conn->id()), 1);
  EXPECT_FALSE(conn->Send(R"({"type":"late"})"));
  conn->Close(1000, "again");  // harmless after the fact
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(app_.closes()[conn->id()], 1);
}

TEST_F(WsTransportTest, ApplicationCloseFlushesQueuedMessagesThenCloses) {
  Start();
  auto client = OpenAlice();
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(R"({"type":"error","code":"SUBSCRIBER_LAGGING"})"));
  conn->Close(1008, "Go away");
  EXPECT_FALSE(conn->Send(R"({"type":"too late"})"));
  auto last = client->Read();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->data, R"({"type":"error","code":"SUBSCRIBER_LAGGING"})");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1008);
  EXPECT_EQ(ReasonOf(*closed), "Go away");
  EXPECT_EQ(app_.WaitClose(conn->id()), 1);
}

TEST_F(WsTransportTest, ApplicationMessagesReachTheAppInOrderWithTheirConnection) {
  Start();
  auto a = OpenAlice();
  auto b = OpenAlice();
  a->SendText(R"({"type":"subscribe","subscription":{"id":"m","sql":"SELECT * FROM chat.m"}})");
  b->SendText(R"({"type":"next_batch","subscription_id":"m","last_seq_id":5})");
  auto got = app_.WaitMessages(2);
  ASSERT_EQ(got.size(), 2u);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got[0],
            R"(1 {"type":"subscribe","subscription":{"id":"m","sql":"SELECT * FROM chat.m"}})");
  EXPECT_EQ(got[1], R"(2 {"type":"next_batch","subscription_id":"m","last_seq_id":5})");
}

TEST_F(WsTransportTest, RepeatedAuthenticateForTheSameUserIsAcknowledgedAgain) {
  Start();
  auto client = OpenAlice();
  client->SendText(R"({"type":"authenticate","method":"jwt","token":")" + Token("alice") + "\"}");
  auto again = client->Read();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->data, kAliceSuccess);
  client->SendText(R"({"type":"authenticate","method":"jwt","token":")" + Token("bob") + "\"}");
  auto refused = client->Read();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->data,
            R"({"type":"auth_error",)"
            R"("message":"This connection is already authenticated as 'alice'"})");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, 1008);
}

TEST_F(WsTransportTest, ConnectionsCountAgainstTheHttpServerSlots) {
  Start();
  auto client = OpenAlice();
  EXPECT_EQ(server_->open_connections(), 1u);
  client->Close();
  ASSERT_EQ(app_.WaitClose(1), 1);
  for (int i = 0; i < 100 && server_->open_connections() != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_EQ(transport_->open_connections(), 0u);
}

TEST_F(WsTransportTest, ShutdownClosesEveryConnectionWith1001AndRefusesNewOnes) {
  Start();
  auto open = OpenAlice();
  Client pending(port());  // not yet authenticated
  ASSERT_TRUE(pending.connected());
  for (int i = 0; i < 100 && transport_->open_connections() < 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(transport_->open_connections(), 2u);
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);

  // The clients must answer the close handshake while Shutdown waits.
  std::optional<websocket::close_reason> open_closed, pending_closed;
  std::thread readers([&] {
    open_closed = open->ReadUntilClosed();
    pending_closed = pending.ReadUntilClosed();
  });
  transport_->Shutdown();
  readers.join();
  EXPECT_EQ(transport_->open_connections(), 0u);
  ASSERT_TRUE(open_closed);
  EXPECT_EQ(open_closed->code, 1001);
  EXPECT_EQ(ReasonOf(*open_closed), "Server shutting down");
  ASSERT_TRUE(pending_closed);
  EXPECT_EQ(pending_closed->code, 1001);
  EXPECT_EQ(app_.closes(), (std::map<uint64_t, int>{{conn->id(), 1}}));
  EXPECT_FALSE(conn->Send("{}"));

  Client late(port(), "/v1/ws", Bearer("alice"));
  EXPECT_FALSE(late.connected() && late.Read(1s));
}

TEST_F(WsTransportTest, ShutdownDoesNotWaitForeverOnAClientThatNeverReads) {
  options_.outbound_queue_messages = 4;
  options_.close_timeout = 500ms;
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  const std::string chunk = JsonOfSize(256 << 10);
  for (int i = 0; i < 400 && conn->Send(chunk); ++i) {
  }
  const auto start = std::chrono::steady_clock::now();
  transport_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
  EXPECT_EQ(transport_->open_connections(), 0u);
  EXPECT_EQ(app_.WaitClose(conn->id()), 1);
}

// Sizes that cover every frame-length encoding (7-bit, 16-bit, 64-bit) on both sides of each
// limit, payloads copied into a batch and payloads written from their own string (≥ 16 KiB).
constexpr size_t kSizes[] = {40, 125, 126, 127, 600, 16383, 16384, 65535, 65536, 70000, 200};

// Sends `n` Numbered messages from another thread, alternately one by one and with SendMany.
std::thread SendNumbered(std::shared_ptr<WsConnection> conn, size_t n,
                         size_t (*size_of)(size_t)) {
  return std::thread([conn, n, size_of] {
    size_t i = 0;
    while (i < n) {
      if (i % 2 == 0) {
        EXPECT_TRUE(conn->Send(Numbered(i, size_of(i))));
        ++i;
        continue;
      }
      std::vector<WsMessage> many;
      for (size_t k = 0; k < 7 && i + k < n; ++k) {
        many.push_back(WsMessage{Numbered(i + k, size_of(i + k)), nullptr});
      }
      const size_t count = many.size();
      EXPECT_EQ(conn->SendMany(many), count);
      i += count;
    }
  });
}

size_t CycledSize(size_t i) { return kSizes[i % std::size(kSizes)]; }

TEST_F(WsTransportTest, MessagesOfEverySizeArriveIntactAndInOrderAcrossBatches) {
  options_.outbound_queue_messages = 100000;
  Start();
  for (std::string target : {"/v1/ws?compress=false", "/v1/ws"}) {
    auto client = OpenAlice(target);
    auto conn = app_.Opened(app_.opened_count() - 1);
    ASSERT_TRUE(conn);
    const size_t n = 20 * std::size(kSizes);
    std::thread sender = SendNumbered(conn, n, CycledSize);
    for (size_t i = 0; i < n; ++i) {
      auto got = client->Read();
      ASSERT_TRUE(got) << target << " message " << i << ": " << client->error().message();
      const std::string expected = Numbered(i, CycledSize(i));
      const bool gzipped = target == "/v1/ws" && expected.size() >= 512;
      EXPECT_EQ(got->binary, gzipped) << target << " " << i;
      ASSERT_EQ(gzipped ? GunzipBytes(got->data) : got->data, expected) << target << " " << i;
    }
    sender.join();
  }
}

TEST_F(WsTransportTest, AReaderThatFallsBehindGetsEverythingOnceItReadsAgain) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  // 16 MiB while the client reads nothing: the socket takes part of a batch, the rest waits.
  const size_t n = 2000;
  auto size_of = [](size_t i) -> size_t { return 8000 + i % 300; };
  std::thread sender = SendNumbered(conn, n, +size_of);
  sender.join();
  std::this_thread::sleep_for(200ms);
  for (size_t i = 0; i < n; ++i) {
    auto got = client->Read();
    ASSERT_TRUE(got) << i << ": " << client->error().message();
    ASSERT_EQ(got->data, Numbered(i, size_of(i))) << i;
  }
  EXPECT_FALSE(client->Read(100ms));  // nothing else
}

TEST_F(WsTransportTest, PingsDuringAFloodAreAnsweredBetweenIntactMessages) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  const size_t n = 3000;
  auto size_of = [](size_t i) -> size_t { return 1500 + i % 700; };
  std::thread sender = SendNumbered(conn, n, +size_of);
  int pings = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i % 100 == 0) {
      client->Ping();
      ++pings;
    }
    auto got = client->Read();
    ASSERT_TRUE(got) << i << ": " << client->error().message();
    ASSERT_EQ(got->data, Numbered(i, size_of(i))) << i;
  }
  sender.join();
  // A message queued after the last ping's pong.
  client->SendText(R"({"type":"ping"})");
  auto pong = client->Read();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->data, R"({"type":"pong"})");
  EXPECT_EQ(client->pongs(), pings);
}

TEST_F(WsTransportTest, AClientClosingDuringAFloodEndsTheConnectionOnce) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  std::atomic<bool> stop{false};
  std::thread sender([conn, &stop] {
    for (size_t i = 0; !stop && conn->Send(Numbered(i, 4000)); ++i) {
    }
  });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client->Read());
  client->Close();
  EXPECT_EQ(app_.WaitClose(conn->id()), 1);
  stop = true;
  sender.join();
  EXPECT_FALSE(conn->Send("{}"));
  std::vector<WsMessage> more = {{"{}", nullptr}, {"{}", nullptr}};
  EXPECT_EQ(conn->SendMany(more), 0u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(app_.closes()[conn->id()], 1);
}

TEST_F(WsTransportTest, SendManyQueuesNothingOnceTheQueueIsFull) {
  options_.outbound_queue_messages = 4;
  Start();
  auto client = OpenAlice("/v1/ws?compress=false");  // then never reads again
  auto conn = app_.Opened(0);
  ASSERT_TRUE(conn);
  const std::string chunk = JsonOfSize(256 << 10);
  bool stuck = false;
  for (int round = 0; round < 400 && !stuck; ++round) {
    while (conn->Send(chunk)) {
    }
    std::this_thread::sleep_for(50ms);
    std::vector<WsMessage> two = {{chunk, nullptr}, {chunk, nullptr}};
    stuck = conn->SendMany(two) == 0;
  }
  ASSERT_TRUE(stuck);
  std::vector<WsMessage> three = {{"{}", nullptr}, {"{}", nullptr}, {"{}", nullptr}};
  EXPECT_EQ(conn->SendMany(three), 0u);
  EXPECT_TRUE(conn->SendControl(R"({"type":"error","code":"SUBSCRIBER_LAGGING"})"));
}

TEST_F(WsTransportTest, MessagesEndingWithASharedTailArriveWholeCompressedOrNot) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto plain = OpenAlice("/v1/ws?compress=false");
  auto plain_conn = app_.Opened(0);
  auto zipped = OpenAlice("/v1/ws");
  auto zipped_conn = app_.Opened(1);
  ASSERT_TRUE(plain_conn && zipped_conn);
  // Tails of every size class, each shared by several messages on both connections; one head
  // too long for a stored block (the message is then compressed whole).
  std::vector<std::shared_ptr<const SharedTail>> tails;
  for (size_t bytes : {2, 300, 600, 20000, 70000}) {
    std::string text = R"(,"change_type":"insert","rows":[{"pad":")";
    for (size_t k = 0; k < bytes; ++k) text.push_back(static_cast<char>('a' + (k * k) % 26));
    tails.push_back(std::make_shared<const SharedTail>(text + "\"}]}"));
  }
  std::vector<std::string> heads = {R"({"type":"change","subscription_id":"a")",
                                    R"({"type":"change","subscription_id":"bb")",
                                    R"({"type":"change","subscription_id":")" +
                                        std::string(70000, 'c') + "\""};
  std::vector<std::string> expected;
  std::vector<WsMessage> for_plain, for_zipped;
  for (const auto& tail : tails) {
    for (const auto& head : heads) {
      expected.push_back(head + tail->text());
      for_plain.push_back(WsMessage{head, tail});
      for_zipped.push_back(WsMessage{head, tail});
    }
  }
  ASSERT_EQ(plain_conn->SendMany(for_plain), expected.size());
  ASSERT_EQ(zipped_conn->SendMany(for_zipped), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    auto p = plain->Read();
    ASSERT_TRUE(p) << i;
    EXPECT_FALSE(p->binary);
    EXPECT_EQ(p->data, expected[i]) << i;
    auto z = zipped->Read();
    ASSERT_TRUE(z) << i;
    EXPECT_EQ(z->binary, expected[i].size() >= 512) << i;
    // zlib checks the gzip trailer (CRC-32 and length) of what it inflates.
    EXPECT_EQ(z->binary ? GunzipBytes(z->data) : z->data, expected[i]) << i;
  }
  EXPECT_TRUE(tails[2]->deflated().ok);
}

}  // namespace
}  // namespace kalam::api
