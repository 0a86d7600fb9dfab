// Tests for WsTransport, KalamDB's protocol over the WebSocket sessions: a real HttpServer with
// the WebSocket hook, a real AuthService over an in-memory catalog, a recording WsApplication,
// and a Beast WebSocket client. Timeouts are configured to 1 s where a test waits for one (the
// sessions run on real Asio timers). The session's own mechanics (queue, batched writes, shared
// tails, shutdown) are tested in tests/unit/net/ws_session_test.cc.
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
    AuthSettings settings;
    settings.jwt_secret = "test-secret";
    settings.lockout_seconds = 900;
    auth_ = std::make_unique<AuthService>(*catalog_, settings, clock_);
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

// A client paging through a snapshot in small batches sends many next_batch messages a second;
// dropping one would stall the snapshot for good, so flow control and keep-alives are not limited.
TEST_F(WsTransportTest, NextBatchAndPingAreNeverRateLimited) {
  options_.max_messages_per_sec = 5;
  Start();
  auto client = OpenAlice();
  for (int i = 0; i < 20; ++i) {
    client->SendText(R"({"type":"next_batch","subscription_id":"s","last_seq_id":)" +
                     std::to_string(i) + "}");
    client->SendText(R"({"type":"ping"})");
  }
  for (int i = 0; i < 20; ++i) {
    auto pong = client->Read();
    ASSERT_TRUE(pong) << i;
    EXPECT_EQ(pong->data, R"({"type":"pong"})");
  }
  auto got = app_.WaitMessages(20);
  ASSERT_EQ(got.size(), 20u);
  EXPECT_EQ(got[19], R"(1 {"type":"next_batch","subscription_id":"s","last_seq_id":19})");
  EXPECT_FALSE(client->Read(300ms));  // no RATE_LIMIT_EXCEEDED
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

}  // namespace
}  // namespace kalam::api
