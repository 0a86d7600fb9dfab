// Tests for net::WsServer on its own (the session: handshake, limits, queue, batched writes,
// compression, closing): a real HttpServer with the upgrade hook, a scripted WsHandler that knows
// nothing of KalamDB (it opens a connection on the message "open"), and a Beast client. The
// KalamDB handshake on top is tested in tests/unit/api/ws_transport_test.cc.
#include "net/ws_session.h"

#include <atomic>
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
  size_t handles() {
    std::lock_guard lock(mu_);
    return handles_.size();
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

  // The n-th handle opened (0-based), waiting up to 5 s for it.
  std::shared_ptr<WsConnection> Opened(size_t n) { return rec_.Handle(n); }
  size_t opened_count() { return rec_.handles(); }
  // OnClose calls for `id`, after waiting up to 5 s for one.
  int WaitClose(uint64_t id) {
    rec_.WaitFor(std::to_string(id) + " closed");
    return closes(id);
  }
  int closes(uint64_t id) { return rec_.count(std::to_string(id) + " closed"); }

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

TEST_F(WsSessionTest, SendReturnsFalseOnceTheQueueOfANonReadingClientIsFull) {
  options_.outbound_queue_messages = 4;
  Start();
  auto client = OpenClient("open=1&plain=1");  // then never reads again
  auto conn = Opened(0);
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
  EXPECT_EQ(closes(conn->id()), 0);  // a full queue alone does not close the connection
}

TEST_F(WsSessionTest, CloseThroughTheHandleFlushesQueuedMessagesThenCloses) {
  Start();
  auto client = OpenClient();
  auto conn = Opened(0);
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
  EXPECT_EQ(WaitClose(conn->id()), 1);
}

TEST_F(WsSessionTest, ConnectionsCountAgainstTheHttpServerSlots) {
  Start();
  auto client = OpenClient();
  EXPECT_EQ(http_->open_connections(), 1u);
  client->Close();
  ASSERT_EQ(WaitClose(1), 1);
  for (int i = 0; i < 100 && http_->open_connections() != 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(http_->open_connections(), 0u);
  EXPECT_EQ(ws_->open_connections(), 0u);
}

TEST_F(WsSessionTest, ShutdownDoesNotWaitForeverOnAClientThatNeverReads) {
  options_.outbound_queue_messages = 4;
  options_.close_timeout = 500ms;
  Start();
  auto client = OpenClient("open=1&plain=1");
  auto conn = Opened(0);
  ASSERT_TRUE(conn);
  const std::string chunk = JsonOfSize(256 << 10);
  for (int i = 0; i < 400 && conn->Send(chunk); ++i) {
  }
  const auto start = std::chrono::steady_clock::now();
  ws_->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
  EXPECT_EQ(ws_->open_connections(), 0u);
  EXPECT_EQ(WaitClose(conn->id()), 1);
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

TEST_F(WsSessionTest, MessagesOfEverySizeArriveIntactAndInOrderAcrossBatches) {
  options_.outbound_queue_messages = 100000;
  Start();
  for (std::string target : {"open=1&plain=1", "open=1"}) {
    auto client = OpenClient(target);
    auto conn = Opened(opened_count() - 1);
    ASSERT_TRUE(conn);
    const size_t n = 20 * std::size(kSizes);
    std::thread sender = SendNumbered(conn, n, CycledSize);
    for (size_t i = 0; i < n; ++i) {
      auto got = client->Read();
      ASSERT_TRUE(got) << target << " message " << i << ": " << client->error().message();
      const std::string expected = Numbered(i, CycledSize(i));
      const bool gzipped = target == "open=1" && expected.size() >= 512;
      EXPECT_EQ(got->binary, gzipped) << target << " " << i;
      ASSERT_EQ(gzipped ? GunzipBytes(got->data) : got->data, expected) << target << " " << i;
    }
    sender.join();
  }
}

TEST_F(WsSessionTest, AReaderThatFallsBehindGetsEverythingOnceItReadsAgain) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto client = OpenClient("open=1&plain=1");
  auto conn = Opened(0);
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

TEST_F(WsSessionTest, PingsDuringAFloodAreAnsweredBetweenIntactMessages) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto client = OpenClient("open=1&plain=1");
  auto conn = Opened(0);
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
  client->SendText("ping");
  auto reply = client->Read();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->data, "echo:ping");
  EXPECT_EQ(client->pongs(), pings);
}

TEST_F(WsSessionTest, AClientClosingDuringAFloodEndsTheConnectionOnce) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto client = OpenClient("open=1&plain=1");
  auto conn = Opened(0);
  ASSERT_TRUE(conn);
  std::atomic<bool> stop{false};
  std::thread sender([conn, &stop] {
    for (size_t i = 0; !stop && conn->Send(Numbered(i, 4000)); ++i) {
    }
  });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(client->Read());
  client->Close();
  EXPECT_EQ(WaitClose(conn->id()), 1);
  stop = true;
  sender.join();
  EXPECT_FALSE(conn->Send("{}"));
  std::vector<WsMessage> more = {{"{}", nullptr}, {"{}", nullptr}};
  EXPECT_EQ(conn->SendMany(more), 0u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(closes(conn->id()), 1);
}

TEST_F(WsSessionTest, SendManyQueuesNothingOnceTheQueueIsFull) {
  options_.outbound_queue_messages = 4;
  Start();
  auto client = OpenClient("open=1&plain=1");  // then never reads again
  auto conn = Opened(0);
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

TEST_F(WsSessionTest, MessagesEndingWithASharedTailArriveWholeCompressedOrNot) {
  options_.outbound_queue_messages = 100000;
  Start();
  auto plain = OpenClient("open=1&plain=1");
  auto plain_conn = Opened(0);
  auto zipped = OpenClient("open=1");
  auto zipped_conn = Opened(1);
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
}  // namespace kalam::net
