// Tests for net::WsServer on its own: a real HttpServer with the upgrade hook, a scripted
// WsHandler that knows nothing of KalamDB (it opens a connection on the message "open"), and a
// Beast client. The KalamDB handshake on top is tested in tests/unit/api/ws_transport_test.cc.
#include "net/ws_session.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "net/router.h"
#include "ws_test_client.h"

namespace kalam::net {
namespace {

using namespace wstest;  // NOLINT(build/namespaces)

// What every handler of a TestService saw, in order ("<id> <event>"), plus the handles it opened.
class Recorder {
 public:
  void Add(uint64_t id, std::string event) {
    std::lock_guard lock(mu_);
    events_.push_back(std::to_string(id) + " " + std::move(event));
    cv_.notify_all();
  }
  void AddHandle(std::shared_ptr<WsConnection> conn) {
    std::lock_guard lock(mu_);
    handles_.push_back(std::move(conn));
    cv_.notify_all();
  }
  // Waits up to 5 s until `event` was recorded; all events so far.
  std::vector<std::string> WaitFor(const std::string& event) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return Count(event) > 0; });
    return events_;
  }
  int count(const std::string& event) {
    std::lock_guard lock(mu_);
    return Count(event);
  }
  std::shared_ptr<WsConnection> Handle(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 5s, [&] { return handles_.size() > n; });
    return handles_.size() > n ? handles_[n] : nullptr;
  }

 private:
  int Count(const std::string& event) const {
    int n = 0;
    for (const auto& e : events_) n += e == event;
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> events_;
  std::vector<std::shared_ptr<WsConnection>> handles_;
};

// Pending: "open" opens (reply "opened"), "close" closes 1008, anything else is recorded. Open:
// every message is echoed. `?open=1` opens at the handshake, `?plain=1` turns compression off.
class TestHandler final : public WsHandler {
 public:
  TestHandler(Recorder& rec, std::string query) : rec_(rec), query_(std::move(query)) {}

  void OnHandshake(WsSession& s) override {
    rec_.Add(s.id(), "handshake");
    if (query_.find("plain=1") != std::string::npos) s.set_compress(false);
    if (query_.find("open=1") != std::string::npos) Open(s);
  }
  void OnMessage(WsSession& s, std::string_view text) override {
    if (s.is_open()) {
      s.Reply("echo:" + std::string(text));
      return;
    }
    rec_.Add(s.id(), "pending " + std::string(text));
    if (text == "open") Open(s);
    if (text == "close") s.Close(kWsClosePolicy, "bye");
  }
  void OnOpenTimeout(WsSession& s) override { rec_.Add(s.id(), "open timeout"); }
  void OnTooLarge(WsSession& s) override { s.Reply("too large"); }
  void OnRateLimited(WsSession& s) override { s.Reply("slow down"); }
  void OnClose(WsSession& s) override { rec_.Add(s.id(), "closed"); }

 private:
  void Open(WsSession& s) {
    rec_.AddHandle(s.Open());
    s.Reply("opened");
  }
  Recorder& rec_;
  const std::string query_;
};

class TestService final : public WsService {
 public:
  explicit TestService(Recorder& rec) : rec_(rec) {}
  bool Accepts(std::string_view path) const override { return path == "/test"; }
  std::unique_ptr<WsHandler> NewHandler(const HttpRequest& request) override {
    return std::make_unique<TestHandler>(rec_, request.query);
  }

 private:
  Recorder& rec_;
};

class WsSessionTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (ws_) ws_->Shutdown();
    if (http_) http_->Stop(0ms);
  }

  void Start() {
    HttpServerOptions ho;
    ho.host = "127.0.0.1";
    ho.port = 0;
    ho.io_threads = 2;
    auto started = HttpServer::Start(ho, std::make_shared<Router>());
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    http_ = std::move(started).value();
    ws_ = std::make_unique<WsServer>(options_, service_);
    http_->SetUpgradeHook(ws_->Hook());
  }

  // A client whose connection the handler opened at the handshake, past its "opened".
  std::unique_ptr<Client> OpenClient(std::string query = "open=1") {
    auto client = std::make_unique<Client>(http_->port(), "/test?" + query);
    EXPECT_TRUE(client->connected()) << client->error().message();
    auto first = client->Read();
    EXPECT_TRUE(first && first->data == "opened");
    return client;
  }

  Recorder rec_;
  TestService service_{rec_};
  WsSessionOptions options_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<WsServer> ws_;
};

TEST_F(WsSessionTest, HookAcceptsOnlyTheServicePaths) {
  Start();
  UpgradeHook hook = ws_->Hook();
  EXPECT_TRUE(hook.accepts("/test"));
  EXPECT_FALSE(hook.accepts("/v1/ws"));
  Client other(http_->port(), "/elsewhere");
  EXPECT_FALSE(other.connected());
}

TEST_F(WsSessionTest, APendingConnectionShowsItsHandlerEveryMessageUntilOpened) {
  Start();
  Client client(http_->port(), "/test");
  ASSERT_TRUE(client.connected()) << client.error().message();
  client.SendText("hello");
  rec_.WaitFor("1 pending hello");
  client.SendText("open");
  auto opened = client.Read();
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->data, "opened");
  client.SendText("after");
  auto echo = client.Read();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->data, "echo:after");
  EXPECT_EQ(rec_.count("1 pending after"), 0);
}

TEST_F(WsSessionTest, AConnectionNotOpenedInTimeIsClosed1008AfterItsHandlerIsAsked) {
  options_.open_timeout = 300ms;
  Start();
  Client client(http_->port(), "/test");
  ASSERT_TRUE(client.connected());
  auto closed = client.ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, kWsClosePolicy);
  EXPECT_EQ(ReasonOf(*closed), "Not opened in time");
  EXPECT_EQ(rec_.count("1 open timeout"), 1);
  EXPECT_EQ(rec_.count("1 closed"), 0);  // never opened: no OnClose
}

TEST_F(WsSessionTest, AHandlerClosingAPendingConnectionFlushesItsRepliesFirst) {
  Start();
  Client client(http_->port(), "/test");
  ASSERT_TRUE(client.connected());
  client.SendText("close");
  auto closed = client.ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, kWsClosePolicy);
  EXPECT_EQ(ReasonOf(*closed), "bye");
}

TEST_F(WsSessionTest, TooLargeMessageGetsTheHandlersReplyThenClose1009) {
  options_.max_message_bytes = 1024;
  Start();
  auto client = OpenClient();
  client->SendText(std::string(1025, 'x'));
  auto reply = client->Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->data, "too large");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, kWsCloseTooBig);
  EXPECT_EQ(ReasonOf(*closed), "Message too large");
  rec_.WaitFor("1 closed");
  EXPECT_EQ(rec_.count("1 closed"), 1);
}

TEST_F(WsSessionTest, GzipBinaryMessagesReachTheHandlerInflatedOtherBinaryCloses1011) {
  Start();
  auto client = OpenClient();
  client->SendBinary(GzipBytes("zipped"));
  auto echo = client->Read();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->data, "echo:zipped");
  client->SendBinary("not gzip");
  auto closed = client->ReadUntilClosed();
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->code, kWsCloseInternalError);
  EXPECT_EQ(ReasonOf(*closed), "Invalid message: binary frames must be gzip-compressed JSON");
}

TEST_F(WsSessionTest, TheRateLimitCountsOnlyMessagesOfAnOpenConnection) {
  options_.max_messages_per_sec = 3;
  Start();
  Client client(http_->port(), "/test");
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 5; ++i) client.SendText("p" + std::to_string(i));
  client.SendText("open");
  auto opened = client.Read();
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->data, "opened");
  for (int i = 0; i < 5; ++i) client.SendText("m" + std::to_string(i));
  std::vector<std::string> got;
  for (int i = 0; i < 5; ++i) {
    auto f = client.Read();
    ASSERT_TRUE(f);
    got.push_back(f->data);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"echo:m0", "echo:m1", "echo:m2", "slow down",
                                           "slow down"}));
  EXPECT_EQ(rec_.count("1 pending p4"), 1);
}

TEST_F(WsSessionTest, LargeMessagesAreGzippedUnlessTheHandlerTurnedCompressionOff) {
  Start();
  const std::string big(600, 'b');
  const auto tail = std::make_shared<const SharedTail>(std::string(700, 't'));
  for (const std::string query : {"open=1", "open=1&plain=1"}) {
    const bool plain = query.find("plain") != std::string::npos;
    auto client = OpenClient(query);
    auto conn = rec_.Handle(plain ? 1 : 0);
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(big));
    std::vector<WsMessage> many = {{"head1", tail}, {"small", nullptr}};
    ASSERT_EQ(conn->SendMany(many), 2u);
    auto first = client->Read();
    auto second = client->Read();
    auto third = client->Read();
    ASSERT_TRUE(first && second && third);
    EXPECT_EQ(first->binary, !plain);
    EXPECT_EQ(plain ? first->data : GunzipBytes(first->data), big);
    EXPECT_EQ(second->binary, !plain);
    EXPECT_EQ(plain ? second->data : GunzipBytes(second->data), "head1" + tail->text());
    EXPECT_FALSE(third->binary);
    EXPECT_EQ(third->data, "small");
  }
}

TEST_F(WsSessionTest, AFullQueueRefusesSendButLeavesTheControlReserve) {
  options_.outbound_queue_messages = 4;
  Start();
  auto client = OpenClient("open=1&plain=1");  // then never reads again
  auto conn = rec_.Handle(0);
  ASSERT_TRUE(conn);
  const std::string chunk(256 << 10, 'c');
  int accepted = 0;
  bool stuck = false;
  while (!stuck && accepted < 400) {
    while (accepted < 400 && conn->Send(chunk)) ++accepted;
    std::this_thread::sleep_for(50ms);
    stuck = !conn->Send(chunk);
    if (!stuck) ++accepted;
  }
  ASSERT_TRUE(stuck) << accepted << " messages accepted";
  std::vector<WsMessage> one = {{"x", nullptr}};
  EXPECT_EQ(conn->SendMany(one), 0u);
  for (size_t i = 0; i < kWsControlReserveMessages; ++i) EXPECT_TRUE(conn->SendControl("notice"));
  EXPECT_FALSE(conn->SendControl("notice"));
  EXPECT_EQ(rec_.count("1 closed"), 0);
}

TEST_F(WsSessionTest, AHandleOutlivesItsConnectionAndOnCloseComesOnce) {
  Start();
  auto client = OpenClient();
  auto conn = rec_.Handle(0);
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->id(), 1u);
  client->Close();
  rec_.WaitFor("1 closed");
  EXPECT_FALSE(conn->Send("late"));
  conn->Close(kWsCloseNormal, "again");  // harmless after the fact
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(rec_.count("1 closed"), 1);
}

TEST_F(WsSessionTest, ShutdownClosesEveryConnectionWith1001AndRefusesNewOnes) {
  Start();
  auto open = OpenClient();
  Client pending(http_->port(), "/test");
  ASSERT_TRUE(pending.connected());
  rec_.WaitFor("2 handshake");
  ASSERT_EQ(ws_->open_connections(), 2u);
  // The clients must answer the close handshake while Shutdown waits.
  std::optional<websocket::close_reason> open_closed, pending_closed;
  std::thread readers([&] {
    open_closed = open->ReadUntilClosed();
    pending_closed = pending.ReadUntilClosed();
  });
  ws_->Shutdown();
  readers.join();
  EXPECT_EQ(ws_->open_connections(), 0u);
  for (auto* closed : {&open_closed, &pending_closed}) {
    ASSERT_TRUE(*closed);
    EXPECT_EQ((*closed)->code, kWsCloseGoingAway);
    EXPECT_EQ(ReasonOf(**closed), "Server shutting down");
  }
  EXPECT_EQ(rec_.count("1 closed"), 1);
  EXPECT_EQ(rec_.count("2 closed"), 0);  // never opened
  Client late(http_->port(), "/test");
  EXPECT_FALSE(late.connected() && late.Read(1s));
}

}  // namespace
}  // namespace kalam::net
