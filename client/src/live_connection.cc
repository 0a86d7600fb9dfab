// LiveConnection: the WebSocket live-query transport. One thread per connection runs an Asio
// io_context with three coroutines — the connect/read/reconnect loop, the writer, and the
// pinger; each subscription's `_seq` bookkeeping lives in SubscriptionState.
#include "kalam/live.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <set>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "client_core.h"
#include "gzip.h"
#include "kalam/client.h"
#include "kalam/format.h"
#include "subscription_state.h"
#include "wire.h"

namespace kalam::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

using wire::StringField;

}  // namespace

std::string_view LiveEventTypeName(LiveEventType type) {
  switch (type) {
    case LiveEventType::kSubscribed: return "SUBSCRIBED";
    case LiveEventType::kInitialRows: return "INITIAL";
    case LiveEventType::kInsert: return "INSERT";
    case LiveEventType::kUpdate: return "UPDATE";
    case LiveEventType::kDelete: return "DELETE";
    case LiveEventType::kError: return "ERROR";
    case LiveEventType::kDisconnected: return "DISCONNECTED";
    case LiveEventType::kReconnected: return "RECONNECTED";
  }
  return "UNKNOWN";
}

Result<SubscribeRequest> SubscribeRequest::FromJson(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  auto bad = [&](const std::string& why) {
    return Status(StatusCode::kInvalidArgument, "Not a subscription object: " + why);
  };
  if (ec || !v.is_object()) return bad("expected a JSON object");
  const auto& o = v.get_object();
  SubscribeRequest r;
  r.id = StringField(o, "id");
  r.sql = StringField(o, "sql");
  if (r.id.empty() || r.sql.empty()) return bad("'id' and 'sql' are required");
  if (auto* opts = o.if_contains("options")) {
    if (!opts->is_object()) return bad("'options' must be an object");
    r.initial_data = true;
    for (const auto& [key, val] : opts->get_object()) {
      if (!val.is_number()) return bad("option '" + std::string(key) + "' must be a number");
      const int64_t n = val.to_number<int64_t>();
      if (key == "last_rows") {
        r.last_rows = static_cast<uint32_t>(n);
      } else if (key == "batch_size") {
        r.batch_size = static_cast<uint32_t>(n);
      } else if (key == "from" || key == "from_seq_id") {
        r.from = n;
      }
    }
  }
  return r;
}

class LiveConnection::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(std::shared_ptr<Client::Core> core, LiveOptions options)
      : core_(std::move(core)),
        options_(std::move(options)),
        ping_timer_(ioc_),
        backoff_timer_(ioc_) {}

  // The thread holds a reference, so the last one is dropped either by Close()'s caller after
  // the join or by the thread itself as it ends.
  ~Impl() {
    if (thread_.joinable()) thread_.detach();
  }

  void Start() {
    auto self = shared_from_this();
    asio::co_spawn(ioc_, Run(), asio::detached);
    asio::co_spawn(ioc_, PingLoop(), asio::detached);
    thread_ = std::thread([self] { self->ioc_.run(); });
  }

  Status Subscribe(SubscribeRequest request) {
    if (request.id.empty() || request.id.size() > 128) {
      return Status(StatusCode::kInvalidArgument, "Subscription id must be 1 to 128 characters");
    }
    if (request.sql.empty()) return Status(StatusCode::kInvalidArgument, "Empty subscription SQL");
    {
      std::lock_guard lock(mu_);
      if (finished_ || closing_requested_) {
        return Status(StatusCode::kClosed, "The live connection is closed");
      }
      if (subs_.count(request.id)) {
        return Status(StatusCode::kInvalidArgument,
                      "Subscription '" + request.id + "' already exists on this connection");
      }
      std::string id = request.id;
      subs_.emplace(std::move(id), SubscriptionState(std::move(request)));
    }
    return Status::OK();
  }

  // Called after Subscribe() succeeded: sends it if connected.
  void PostSend(const std::string& id) {
    asio::post(ioc_, [self = shared_from_this(), id] {
      if (!self->connected_) return;
      std::string msg;
      {
        std::lock_guard lock(self->mu_);
        auto it = self->subs_.find(id);
        if (it == self->subs_.end() || it->second.sent()) return;
        msg = it->second.NextSubscribeMessage();
      }
      self->Send(std::move(msg));
    });
  }

  Status Unsubscribe(const std::string& id) {
    {
      std::lock_guard lock(mu_);
      if (!subs_.erase(id)) {
        return Status(StatusCode::kNotFound, "No subscription '" + id + "'");
      }
    }
    asio::post(ioc_, [self = shared_from_this(), id] {
      if (self->connected_) {
        self->Send("{\"type\":\"unsubscribe\",\"subscription_id\":" + JsonQuote(id) + "}");
      }
    });
    return Status::OK();
  }

  Result<LiveEvent> Next(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || finished_; });
    if (!queue_.empty()) {
      LiveEvent ev = std::move(queue_.front());
      queue_.pop_front();
      return ev;
    }
    if (finished_) return Status(StatusCode::kClosed, "The live connection is closed");
    return Status(StatusCode::kTimeout, "No event within the timeout");
  }

  void Close() {
    std::lock_guard close_lock(close_mu_);
    {
      std::lock_guard lock(mu_);
      closing_requested_ = true;
    }
    if (thread_.get_id() == std::this_thread::get_id()) {
      BeginClose();  // from an on_event callback: the thread ends by itself
      return;
    }
    if (!thread_.joinable()) return;
    asio::post(ioc_, [self = shared_from_this()] { self->BeginClose(); });
    thread_.join();
    std::lock_guard lock(mu_);
    finished_ = true;
    cv_.notify_all();
  }

  bool connected() const { return connected_flag_.load(); }

  int64_t last_seq(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = subs_.find(id);
    return it == subs_.end() ? 0 : it->second.last_seq();
  }

  uint64_t reconnects() const { return reconnects_.load(); }

 private:
  using Ws = websocket::stream<beast::tcp_stream>;

  // ---- helpers (io thread) -------------------------------------------------------------------

  void Emit(LiveEvent ev) {
    if (options_.on_event) {
      options_.on_event(ev);
      return;
    }
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(ev));
    cv_.notify_all();
  }

  void EmitAll(std::vector<LiveEvent> events) {
    for (auto& ev : events) Emit(std::move(ev));
  }

  // Subscribes `id` again after `delay`, unless something else (a reconnect) did meanwhile.
  void ScheduleResubscribe(const std::string& id, uint64_t attempt,
                           std::chrono::milliseconds delay) {
    auto timer = std::make_shared<asio::steady_timer>(ioc_, delay);
    retry_timers_.insert(timer);
    timer->async_wait([self = shared_from_this(), timer, id, attempt](beast::error_code ec) {
      self->retry_timers_.erase(timer);
      if (ec || self->closing_ || !self->connected_) return;
      std::string msg;
      {
        std::lock_guard lock(self->mu_);
        auto it = self->subs_.find(id);
        if (it == self->subs_.end() || it->second.sent() || it->second.attempt() != attempt) {
          return;
        }
        msg = it->second.NextSubscribeMessage();
      }
      self->Send(std::move(msg));
    });
  }

  void Send(std::string message) {
    if (!ws_) return;
    outbox_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(ioc_, WriteLoop(ws_), asio::detached);
    }
  }

  asio::awaitable<void> WriteLoop(std::shared_ptr<Ws> ws) {
    auto self = shared_from_this();
    while (!outbox_.empty() && ws == ws_) {
      std::string m = std::move(outbox_.front());
      outbox_.pop_front();
      ws->text(true);
      auto [ec, n] = co_await ws->async_write(asio::buffer(m), kNoThrow);
      if (ec) break;  // the read loop sees the failure and reconnects
    }
    if (ws == ws_) writing_ = false;
  }

  asio::awaitable<void> PingLoop() {
    auto self = shared_from_this();
    while (!closing_ && !run_done_) {
      ping_timer_.expires_after(options_.ping_interval);
      co_await ping_timer_.async_wait(kNoThrow);  // cancelled on close; the loop re-checks
      if (closing_ || run_done_) break;
      if (connected_) Send(R"({"type":"ping"})");
    }
  }

  void BeginClose() {
    closing_ = true;
    ping_timer_.cancel();
    backoff_timer_.cancel();
    for (const auto& t : retry_timers_) t->cancel();
    if (resolver_) resolver_->cancel();
    if (!ws_) return;
    std::shared_ptr<Ws> ws = ws_;
    if (!connected_) {
      beast::get_lowest_layer(*ws).close();
      return;
    }
    // A polite close frame, but never wait more than a second for it.
    auto guard = std::make_shared<asio::steady_timer>(ioc_, std::chrono::seconds(1));
    guard->async_wait([ws](beast::error_code ec) {
      if (!ec) beast::get_lowest_layer(*ws).close();
    });
    ws->async_close(websocket::close_code::normal, [ws, guard](beast::error_code) {
      guard->cancel();
      beast::get_lowest_layer(*ws).close();
    });
  }

  // ---- connecting ----------------------------------------------------------------------------

  asio::awaitable<Status> ConnectOnce() {
    const Endpoint& ep = core_->endpoint();
    auto ex = co_await asio::this_coro::executor;
    {
      resolver_ = std::make_unique<tcp::resolver>(ex);
      asio::steady_timer timer(ex, options_.connect_timeout);
      bool timed_out = false;
      timer.async_wait([&, r = resolver_.get()](beast::error_code ec) {
        if (!ec) {
          timed_out = true;
          r->cancel();
        }
      });
      auto [ec, results] = co_await resolver_->async_resolve(ep.host, ep.port, kNoThrow);
      timer.cancel();
      resolver_.reset();
      if (ec) {
        co_return Status(timed_out ? StatusCode::kTimeout : StatusCode::kConnectionFailed,
                         "Cannot resolve " + ep.host + ": " + ec.message());
      }
      endpoints_ = results;
    }
    if (closing_) co_return Status(StatusCode::kClosed, "Closed");
    auto ws = std::make_shared<Ws>(ex);
    ws_ = ws;
    writing_ = false;
    outbox_.clear();
    beast::get_lowest_layer(*ws).expires_after(options_.connect_timeout);
    auto [cec, cep] = co_await beast::get_lowest_layer(*ws).async_connect(endpoints_, kNoThrow);
    if (cec) {
      co_return Status(cec == beast::error::timeout ? StatusCode::kTimeout
                                                    : StatusCode::kConnectionFailed,
                       "Cannot connect to " + ep.Base() + ": " + cec.message());
    }
    beast::get_lowest_layer(*ws).socket().set_option(tcp::no_delay(true));
    beast::get_lowest_layer(*ws).expires_never();
    websocket::stream_base::timeout to;
    to.handshake_timeout = options_.connect_timeout;
    to.idle_timeout = options_.idle_timeout;
    to.keep_alive_pings = true;
    ws->set_option(to);
    // Tokens may need renewing first (blocking HTTP on this connection's own thread).
    Status fresh = core_->EnsureFresh();
    if (!fresh.ok() && fresh.code() == StatusCode::kUnauthenticated) co_return fresh;
    const std::string token = core_->AccessToken();
    ws->set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(beast::http::field::user_agent, "kalam-cpp-client/0.1");
      if (!token.empty()) req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws->read_message_max(64u << 20);
    websocket::response_type res;
    const std::string target =
        ep.prefix + "/v1/ws" + (options_.compression ? "" : "?compress=false");
    auto [hec] = co_await ws->async_handshake(res, ep.HostHeader(), target, kNoThrow);
    if (hec) {
      if (res.result_int() == 401 || res.result_int() == 403) {
        co_return wire::ErrorFromResponse(static_cast<int>(res.result_int()), res.body());
      }
      co_return Status(hec == beast::error::timeout ? StatusCode::kTimeout
                                                    : StatusCode::kConnectionFailed,
                       "WebSocket handshake with " + ep.Base() + " failed: " + hec.message());
    }
    // The first frame says whether the token was accepted.
    read_buffer_.clear();
    auto [rec, n] = co_await ws->async_read(read_buffer_, kNoThrow);
    if (rec) {
      std::string reason = ws->reason().reason.c_str();
      if (ws->reason().code == websocket::close_code::policy_error) {
        co_return Status(StatusCode::kUnauthenticated,
                         reason.empty() ? "WebSocket authentication failed" : reason);
      }
      co_return Status(StatusCode::kConnectionFailed,
                       "WebSocket closed before authentication: " + rec.message());
    }
    auto text = FrameText(*ws);
    if (!text.ok()) co_return text.status();
    json::error_code jec;
    json::value hello = json::parse(*text, jec);
    if (jec || !hello.is_object()) {
      co_return Status(StatusCode::kProtocolError, "Unexpected first WebSocket message: " + *text);
    }
    const std::string type = StringField(hello.get_object(), "type");
    if (type == "auth_error") {
      co_return Status(StatusCode::kUnauthenticated,
                       "WebSocket authentication failed: " +
                           StringField(hello.get_object(), "message"),
                       "auth_error");
    }
    if (type != "auth_success") {
      co_return Status(StatusCode::kProtocolError, "Expected auth_success, got: " + *text);
    }
    co_return Status::OK();
  }

  Result<std::string> FrameText(Ws& ws) {
    std::string data = beast::buffers_to_string(read_buffer_.data());
    read_buffer_.consume(read_buffer_.size());
    if (ws.got_binary() && data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
        static_cast<unsigned char>(data[1]) == 0x8b) {
      return Gunzip(data);
    }
    return data;
  }

  asio::awaitable<void> Run() {
    auto self = shared_from_this();
    auto delay = options_.reconnect_min_delay;
    int failures = 0;
    bool ever_connected = false;
    bool announced_down = false;
    Status last_error;
    while (!closing_) {
      Status st = co_await ConnectOnce();
      if (closing_) break;
      if (!st.ok()) {
        last_error = st;
        bool fatal = false;
        if (st.code() == StatusCode::kUnauthenticated) {
          // Renew the tokens once; if that fails too, nothing will get better by retrying.
          fatal = !core_->CanRenew() || !core_->Renew().ok();
        }
        ++failures;
        if (fatal || (options_.max_reconnect_attempts >= 0 &&
                      failures > options_.max_reconnect_attempts)) {
          FailAll(st);
          break;
        }
        if (!announced_down) {
          announced_down = true;
          LiveEvent ev;
          ev.type = LiveEventType::kDisconnected;
          ev.error = st;
          Emit(std::move(ev));
        }
        co_await Sleep(delay);
        delay = std::min(delay * 2, options_.reconnect_max_delay);
        continue;
      }
      failures = 0;
      delay = options_.reconnect_min_delay;
      connected_ = true;
      connected_flag_ = true;
      if (ever_connected) {
        ++reconnects_;
        LiveEvent ev;
        ev.type = LiveEventType::kReconnected;
        Emit(std::move(ev));
      }
      ever_connected = true;
      announced_down = false;
      std::vector<std::string> messages;
      {
        std::lock_guard lock(mu_);
        for (auto& [id, s] : subs_) {
          messages.push_back(s.NextSubscribeMessage());
        }
      }
      for (auto& m : messages) Send(std::move(m));
      Status why = co_await ReadLoop(ws_);
      connected_ = false;
      connected_flag_ = false;
      {
        std::lock_guard lock(mu_);
        for (auto& [id, s] : subs_) s.MarkUnsent();
      }
      beast::error_code ec;
      beast::get_lowest_layer(*ws_).socket().close(ec);
      if (closing_) break;
      LiveEvent ev;
      ev.type = LiveEventType::kDisconnected;
      ev.error = why;
      Emit(std::move(ev));
      announced_down = true;
      co_await Sleep(delay);
    }
    connected_ = false;
    connected_flag_ = false;
    run_done_ = true;
    ping_timer_.cancel();
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      cv_.notify_all();
    }
  }

  asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
    backoff_timer_.expires_after(d);
    co_await backoff_timer_.async_wait(kNoThrow);  // cancelled on close
  }

  void FailAll(const Status& st) {
    std::vector<LiveEvent> events;
    {
      std::lock_guard lock(mu_);
      for (auto& [id, s] : subs_) {
        LiveEvent ev;
        ev.type = LiveEventType::kError;
        ev.subscription_id = id;
        ev.error = st;
        events.push_back(std::move(ev));
      }
      subs_.clear();
    }
    EmitAll(std::move(events));
  }

  asio::awaitable<Status> ReadLoop(std::shared_ptr<Ws> ws) {
    while (!closing_) {
      auto [ec, n] = co_await ws->async_read(read_buffer_, kNoThrow);
      if (ec) {
        if (ec == websocket::error::closed) {
          const auto& r = ws->reason();
          co_return Status(StatusCode::kConnectionFailed,
                           "Server closed the connection (" + std::to_string(r.code) +
                               (r.reason.empty() ? std::string() : " " + std::string(r.reason.c_str())) +
                               ")");
        }
        co_return Status(ec == beast::error::timeout ? StatusCode::kTimeout
                                                     : StatusCode::kConnectionFailed,
                         "Connection lost: " + ec.message());
      }
      auto text = FrameText(*ws);
      if (!text.ok()) co_return text.status();
      HandleMessage(*text);
    }
    co_return Status(StatusCode::kClosed, "Closed");
  }

  // ---- messages ------------------------------------------------------------------------------

  void HandleMessage(const std::string& text) {
    json::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.get_object();
    const std::string type = StringField(o, "type");
    const std::string id = StringField(o, "subscription_id");
    std::vector<LiveEvent> events;
    std::vector<std::string> replies;
    {
      std::lock_guard lock(mu_);
      auto it = subs_.find(id);
      if (type == "error") {
        HandleErrorLocked(o, id, it == subs_.end() ? nullptr : &it->second, &events, &replies);
      } else if (it != subs_.end()) {
        if (type == "subscription_ack") {
          it->second.OnAck(o, &events);
        } else if (type == "initial_data_batch") {
          it->second.OnBatch(o, &events, &replies);
        } else if (type == "change") {
          it->second.OnChange(o, &events);
        }
      }
    }
    for (auto& r : replies) Send(std::move(r));
    EmitAll(std::move(events));
  }

  // Requires mu_.
  void HandleErrorLocked(const json::object& o, const std::string& id, SubscriptionState* s,
                         std::vector<LiveEvent>* events, std::vector<std::string>* replies) {
    const std::string code = StringField(o, "code");
    if (s) {
      if (auto delay = s->OnServerClose(code, options_)) {
        if (delay->count() == 0) {
          replies->push_back(s->NextSubscribeMessage());
        } else {
          ScheduleResubscribe(id, s->attempt(), *delay);
        }
        return;
      }
    }
    LiveEvent ev;
    ev.type = LiveEventType::kError;
    ev.subscription_id = id;
    ev.error = Status(wire::CodeForServerError(code, 0), StringField(o, "message"), code);
    events->push_back(std::move(ev));
    if (s) subs_.erase(id);
  }

  const std::shared_ptr<Client::Core> core_;
  const LiveOptions options_;

  asio::io_context ioc_;
  std::thread thread_;

  // io-thread state (touched only by coroutines and posted handlers on ioc_).
  std::shared_ptr<Ws> ws_;
  std::unique_ptr<tcp::resolver> resolver_;
  tcp::resolver::results_type endpoints_;
  beast::flat_buffer read_buffer_;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool connected_ = false;
  bool closing_ = false;
  bool run_done_ = false;  // the connect/read loop ended (closed, or gave up)
  asio::steady_timer ping_timer_;
  asio::steady_timer backoff_timer_;
  std::set<std::shared_ptr<asio::steady_timer>> retry_timers_;

  std::atomic<bool> connected_flag_{false};
  std::atomic<uint64_t> reconnects_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, SubscriptionState> subs_;  // guarded by mu_
  std::deque<LiveEvent> queue_;       // guarded by mu_
  bool finished_ = false;             // guarded by mu_
  bool closing_requested_ = false;    // guarded by mu_
  std::mutex close_mu_;                // serializes Close()
};

LiveConnection::LiveConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

LiveConnection::~LiveConnection() { Close(); }

Status LiveConnection::Subscribe(SubscribeRequest request) {
  const std::string id = request.id;
  KALAM_CLIENT_RETURN_IF_ERROR(impl_->Subscribe(std::move(request)));
  impl_->PostSend(id);
  return Status::OK();
}

Status LiveConnection::Unsubscribe(const std::string& id) { return impl_->Unsubscribe(id); }

Result<LiveEvent> LiveConnection::Next(std::chrono::milliseconds timeout) {
  return impl_->Next(timeout);
}

void LiveConnection::Close() { impl_->Close(); }
bool LiveConnection::connected() const { return impl_->connected(); }
int64_t LiveConnection::last_seq(const std::string& id) const { return impl_->last_seq(id); }
uint64_t LiveConnection::reconnects() const { return impl_->reconnects(); }

std::unique_ptr<LiveConnection> Client::OpenLive(const LiveOptions& options) {
  auto impl = std::make_shared<LiveConnection::Impl>(core_, options);
  impl->Start();
  return std::unique_ptr<LiveConnection>(new LiveConnection(std::move(impl)));
}

}  // namespace kalam::client
