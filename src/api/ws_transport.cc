// WsTransport: one Session per upgraded socket, run on that socket's strand; the application sees
// each authenticated session through a ConnectionHandle. A Session frames its queued messages
// itself and writes them in batches through a FrameStream (net/ws_frame_stream.h).
#include "api/ws_transport.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "net/ws_frame_stream.h"
#include "api/ws_protocol.h"
#include "common/gzip.h"
#include "common/utf8.h"
#include "net/rate_limiter.h"

namespace kalam::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace json = boost::json;
using SteadyClock = std::chrono::steady_clock;

struct WsTransport::Core {
  Core(WsTransportOptions o, AuthService& a, WsApplication& ap)
      : options(std::move(o)), auth(a), app(ap) {}

  const WsTransportOptions options;
  AuthService& auth;
  WsApplication& app;
  std::atomic<uint64_t> next_id{1};

  mutable std::mutex mu;
  std::condition_variable gone_cv;  // signalled when a session unregisters
  bool shutting_down = false;       // guarded by mu
  // Every live session, so Shutdown can reach it. Guarded by mu. Values are `Session*` held as
  // weak pointers (declared below).
  std::unordered_map<uint64_t, std::weak_ptr<void>> sessions;
};

namespace {

constexpr size_t kMaxCloseReasonBytes = 123;  // RFC 6455 §5.5: 125-byte control payload - code
constexpr std::string_view kGzipMagic = "\x1f\x8b";
// Buffer for the first chunk of each client message (most are small: subscribe, ping).
constexpr size_t kFirstReadBytes = 256;

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string text, size_t max) {
  text.resize(Utf8CutLength(text, max));
  return text;
}

// True unless `query` (without '?') has compress=false (or compress=0).
bool CompressionWanted(std::string_view query) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != "compress") continue;
    std::string_view value = pair.substr(eq + 1);
    if (net::EqualsIgnoreCase(value, "false") || value == "0") return false;
  }
  return true;
}

// Message payloads at least this large are written from the queued string itself (a gather write);
// smaller ones, and every frame header, are copied into the batch buffer so that one batch is
// one contiguous write (one syscall) however many messages it holds.
constexpr size_t kCopyBelowBytes = 16 << 10;
// A write batch stops taking queued messages once it holds this many payload bytes.
constexpr size_t kBatchBytes = 256 << 10;
// Batches one connection writes in a row before other connections on its I/O thread get a turn.
constexpr int kMaxWritesPerTurn = 16;

class Session;

// What the application holds: the session's id and principal plus a weak link, so a handle kept
// after the connection is gone pins no socket (sockets must die before the io_context does).
class ConnectionHandle final : public WsConnection {
 public:
  ConnectionHandle(std::weak_ptr<Session> session, uint64_t id, Principal principal)
      : session_(std::move(session)), id_(id), principal_(std::move(principal)) {}

  uint64_t id() const override { return id_; }
  const Principal& principal() const override { return principal_; }
  bool Send(std::string json) override;
  bool SendControl(std::string json) override;
  size_t SendMany(std::vector<WsMessage>& messages) override;
  void Close(uint16_t code, std::string reason) override;

 private:
  const std::weak_ptr<Session> session_;
  const uint64_t id_;
  const Principal principal_;
};

// One upgraded socket. Everything except Enqueue/RequestClose runs on the socket's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<WsTransport::Core> core, uint64_t id, net::UpgradeRequest&& up)
      : core_(std::move(core)),
        options_(core_->options),
        id_(id),
        executor_(up.stream.get_executor()),
        ws_(std::move(up.stream)),
        timer_(executor_),
        slot_(std::move(up.slot)) {}

  ~Session() {
    {
      std::lock_guard lock(core_->mu);
      core_->sessions.erase(id_);
    }
    core_->gone_cv.notify_all();
  }

  // Runs the handshake; `up` carries the request (the socket was taken by the constructor).
  void Start(net::UpgradeRequest& up) {
    compress_ = CompressionWanted(up.request.query);
    if (up.request.HasHeader("Authorization")) {
      header_auth_ = core_->auth.AuthenticateBearer(up.request.Header("Authorization"));
    }
    if (up.buffer.size() > 0) {
      // A client may not send frames before it has the 101; anything here is not a frame of ours.
      spdlog::debug("WebSocket {}: ignoring {} bytes sent before the handshake", id_,
                    up.buffer.size());
    }
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.close_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::server, "kalamdb"); }));
    ws_.read_message_max(0);  // the limit is ours: MESSAGE_TOO_LARGE needs a reply first
    ws_.auto_fragment(false);
    // Runs inside our reads: every ping, pong or close frame counts as client activity.
    ws_.control_callback(
        [this](websocket::frame_type, beast::string_view) { last_activity_ = SteadyClock::now(); });
    state_ = State::kHandshake;
    ws_.async_accept(up.raw, [self = shared_from_this()](beast::error_code ec) {
      self->OnAccept(ec);
    });
  }

  // From any thread. See WsConnection::Send; `control` (SendControl, and the transport's own
  // replies) may use the reserve.
  bool Enqueue(std::string json, bool control) {
    const size_t limit =
        options_.outbound_queue_messages + (control ? kWsControlReserveMessages : 0);
    if (queued_.load(std::memory_order_relaxed) >= limit) return false;
    Outbound message = Encode(std::move(json));
    bool start_writing = false;
    {
      std::lock_guard lock(out_mu_);
      if (send_closed_ || queued_.load(std::memory_order_relaxed) >= limit) return false;
      queue_.push_back(std::move(message));
      queued_.fetch_add(1, std::memory_order_relaxed);
      if (!writing_) start_writing = writing_ = true;
    }
    if (start_writing) StartWriting();
    return true;
  }

  // From any thread. See WsConnection::SendMany: queues the longest prefix of `messages` that
  // fits with one lock and at most one wake-up of the writer.
  size_t EnqueueMany(std::vector<WsMessage>& messages) {
    const size_t limit = options_.outbound_queue_messages;
    if (messages.empty() || queued_.load(std::memory_order_relaxed) >= limit) return 0;
    std::vector<Outbound> encoded;  // compression (the slow part) outside the lock
    encoded.reserve(messages.size());
    for (auto& m : messages) encoded.push_back(Encode(std::move(m)));
    size_t accepted = 0;
    bool start_writing = false;
    {
      std::lock_guard lock(out_mu_);
      const size_t queued = queued_.load(std::memory_order_relaxed);
      if (send_closed_ || queued >= limit) return 0;
      accepted = std::min(encoded.size(), limit - queued);
      if (queue_.empty() && accepted == encoded.size()) {
        queue_.swap(encoded);
      } else {
        for (size_t i = 0; i < accepted; ++i) queue_.push_back(std::move(encoded[i]));
      }
      queued_.fetch_add(accepted, std::memory_order_relaxed);
      if (!writing_) start_writing = writing_ = true;
    }
    if (start_writing) StartWriting();
    return accepted;
  }

  // From any thread: flush, then close with `code`. Later Sends fail at once.
  void RequestClose(uint16_t code, std::string reason, bool flush) {
    {
      std::lock_guard lock(out_mu_);
      send_closed_ = true;
    }
    asio::post(executor_, [self = shared_from_this(), code, reason = std::move(reason), flush] {
      self->BeginClose(code, reason, flush);
    });
  }

 private:
  enum class State {
    kHandshake,       // async_accept running
    kAuthenticating,  // waiting for the in-band `authenticate` message
    kOpen,            // authenticated; the application knows the connection
    kClosing,         // our close frame is queued or sent
    kClosed,          // the connection is finished; waiting for handlers to unwind
  };
  enum class TimerPhase { kNone, kAuth, kHeartbeat, kCloseDeadline };

  // One message as it goes on the wire: `payload`, then (text frames only) `tail`'s text.
  struct Outbound {
    std::string payload;
    std::shared_ptr<const SharedTail> tail;
    bool binary = false;
    size_t size() const { return payload.size() + (tail ? tail->text().size() : 0); }
  };

  void OnAccept(beast::error_code ec) {
    if (state_ != State::kHandshake) return;
    if (ec) {
      spdlog::debug("WebSocket {}: handshake failed: {}", id_, ec.message());
      return Finish();
    }
    if (deferred_close_code_ != 0) {  // Shutdown arrived during the handshake
      state_ = State::kAuthenticating;
      return BeginClose(deferred_close_code_, std::move(deferred_close_reason_), /*flush=*/false);
    }
    if (header_auth_) {
      if (auto* failure = std::get_if<AuthFailure>(&*header_auth_)) {
        state_ = State::kAuthenticating;
        return FailAuthentication(failure->message);
      }
      Open(std::get<Principal>(*header_auth_));
      header_auth_.reset();
      return ReadMore();
    }
    state_ = State::kAuthenticating;
    ArmTimer(TimerPhase::kAuth, SteadyClock::now() + options_.auth_timeout);
    ReadMore();
  }

  // `json` as it goes on the wire: gzip in a binary frame when large enough (and wanted), else
  // text.
  Outbound Encode(std::string json) { return Encode(WsMessage{std::move(json), nullptr}); }

  Outbound Encode(WsMessage m) {
    Outbound message;
    const size_t size = m.head.size() + (m.tail ? m.tail->text().size() : 0);
    if (compress_ && size >= options_.compress_min_bytes) {
      std::optional<std::string> zipped;
      if (m.tail) zipped = GzipWithTail(m.head, m.tail->deflated());
      if (zipped) {
        message.payload = std::move(*zipped);
        message.binary = true;
        return message;
      }
      if (Gzip(m.tail ? m.head + m.tail->text() : m.head, kGzipFastest, &message.payload)) {
        message.binary = true;
        return message;
      }
    }
    message.payload = std::move(m.head);
    message.tail = std::move(m.tail);
    return message;
  }

  // Starts the write chain on the strand (the caller set writing_).
  void StartWriting() {
    asio::post(executor_, [self = shared_from_this()] { self->WriteNext(); });
  }

  // A message of the transport's own (auth results, pong, errors); dropped if even the control
  // reserve is full.
  bool Reply(std::string json) { return Enqueue(std::move(json), /*control=*/true); }

  void Open(Principal who) {
    state_ = State::kOpen;
    handle_ = std::make_shared<ConnectionHandle>(weak_from_this(), id_, who);
    Reply(WsAuthSuccessJson(who, compress_));
    last_activity_ = SteadyClock::now();
    ArmTimer(TimerPhase::kHeartbeat, last_activity_ + options_.client_timeout);
    spdlog::debug("WebSocket {}: authenticated as '{}'", id_, who.user_id);
    core_->app.OnOpen(handle_);
  }

  void FailAuthentication(const std::string& message) {
    Reply(WsAuthErrorJson(message));
    BeginClose(kWsClosePolicy, message, /*flush=*/true);
  }

  // ---- Reading ---------------------------------------------------------------------------------

  void ReadMore() {
    // Beast allocates `limit` (capped at its frame-size hint, 1.5 KiB) in read_buf_ before the
    // read waits, so an idle connection pays for the first chunk's buffer: keep it small.
    // Larger messages continue in bigger chunks. While closing, input is only drained (Beast
    // hands the socket to the close handshake).
    size_t limit = options_.max_message_bytes + 1 - read_buf_.size();
    if (read_buf_.size() == 0) limit = std::min(limit, kFirstReadBytes);
    if (state_ == State::kClosing) limit = kFirstReadBytes;
    ws_.async_read_some(read_buf_, limit,
                        [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                          self->OnRead(ec, bytes);
                        });
  }

  void OnRead(beast::error_code ec, size_t /*bytes*/) {
    if (ec) return OnReadError(ec);
    last_activity_ = SteadyClock::now();
    if (state_ == State::kClosing || state_ == State::kClosed) {
      ReleaseReadBuffer();
      if (state_ == State::kClosing) ReadMore();
      return;
    }
    if (read_buf_.size() > options_.max_message_bytes) {
      ReleaseReadBuffer();
      return RejectTooLarge();
    }
    if (!ws_.is_message_done()) return ReadMore();
    std::string_view text(static_cast<const char*>(read_buf_.data().data()), read_buf_.size());
    std::string inflated;
    if (ws_.got_binary()) {
      if (!Inflate(text, inflated)) return ReleaseReadBuffer();
      text = inflated;
    }
    if (state_ == State::kAuthenticating) {
      HandleAuthenticate(text);
    } else {
      HandleMessage(text);
    }
    // Idle connections hold no message buffer: the next message allocates its own.
    ReleaseReadBuffer();
    if (state_ == State::kAuthenticating || state_ == State::kOpen) ReadMore();
  }

  void OnReadError(beast::error_code ec) {
    if (state_ == State::kClosing) return;  // the close handshake (or its deadline) finishes us
    if (ec != websocket::error::closed && ec != asio::error::operation_aborted) {
      spdlog::debug("WebSocket {}: read failed: {}", id_, ec.message());
    }
    Finish();
  }

  void ReleaseReadBuffer() {
    read_buf_.clear();
    read_buf_.shrink_to_fit();
  }

  // A binary frame must be gzip of JSON text: inflates `frame` into `json`. False when the
  // connection is being closed instead.
  bool Inflate(std::string_view frame, std::string& json) {
    if (frame.substr(0, 2) != kGzipMagic) {
      BeginClose(kWsCloseInternalError,
                 "Invalid message: binary frames must be gzip-compressed JSON", true);
      return false;
    }
    GunzipOptions limits;
    limits.max_bytes = options_.max_message_bytes;
    switch (Gunzip(frame, limits, &json)) {
      case GunzipResult::kOk:
        return true;
      case GunzipResult::kTooLarge:
        RejectTooLarge();
        return false;
      case GunzipResult::kCorrupt:
        BeginClose(kWsCloseInternalError, "Invalid message: corrupt gzip data", true);
        return false;
    }
    return false;
  }

  void RejectTooLarge() {
    Reply(WsErrorJson(std::nullopt, "MESSAGE_TOO_LARGE",
                      "Message exceeds the maximum size of " +
                          std::to_string(options_.max_message_bytes) + " bytes"));
    BeginClose(kWsCloseTooBig, "Message too large", /*flush=*/true);
  }

  // Parses a client message; closes 1011 (and returns nullopt) when it is not a JSON object with a
  // string `type`.
  std::optional<json::object> ParseObject(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    if (ec) {
      BeginClose(kWsCloseInternalError, "Invalid message: " + ec.message(), true);
      return std::nullopt;
    }
    if (!value.is_object()) {
      BeginClose(kWsCloseInternalError, "Invalid message: expected a JSON object", true);
      return std::nullopt;
    }
    const json::value* type = value.as_object().if_contains("type");
    if (type == nullptr || !type->is_string()) {
      BeginClose(kWsCloseInternalError, "Invalid message: field 'type' must be a string", true);
      return std::nullopt;
    }
    return std::move(value.as_object());
  }

  // The first message of a connection without header auth.
  void HandleAuthenticate(std::string_view text) {
    boost::system::error_code ec;
    json::value value = json::parse(text, ec);
    const json::object* msg = !ec && value.is_object() ? &value.as_object() : nullptr;
    const json::value* type = msg ? msg->if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string() || type->as_string() != "authenticate") {
      return FailAuthentication(
          "Authentication required: the first message must be "
          "{\"type\":\"authenticate\",\"method\":\"jwt\",\"token\":\"<JWT>\"}");
    }
    timer_phase_ = TimerPhase::kNone;
    timer_.cancel();
    auto result = VerifyAuthenticate(*msg);
    if (auto* failure = std::get_if<std::string>(&result)) {
      return FailAuthentication(*failure);
    }
    auto& accepted = std::get<Authenticated>(result);
    compress_ = accepted.compress;
    Open(std::move(accepted.principal));
  }

  struct Authenticated {
    Principal principal;
    bool compress = true;  // the connection's compression, as the message asked
  };

  // Checks an `authenticate` message: the principal and compression (`"protocol":{"compression":
  // "none"}` turns it off), or the auth_error text.
  std::variant<Authenticated, std::string> VerifyAuthenticate(const json::object& msg) {
    if (const json::value* method = msg.if_contains("method")) {
      if (!method->is_string()) return std::string("Field 'method' must be a string");
      if (method->as_string() != "jwt") {
        return "Authentication method '" + std::string(method->as_string()) +
               "' is not supported: log in with POST /v1/api/auth/login and send the access "
               "token with method 'jwt'";
      }
    }
    const json::value* token = msg.if_contains("token");
    if (token == nullptr || !token->is_string() || token->as_string().empty()) {
      return std::string("Field 'token' must be a non-empty string (an access JWT)");
    }
    bool compress = compress_;
    const json::value* protocol = msg.if_contains("protocol");
    if (protocol != nullptr && !protocol->is_null()) {
      if (!protocol->is_object()) return std::string("Field 'protocol' must be an object");
      const json::object& p = protocol->as_object();
      if (const json::value* s = p.if_contains("serialization")) {
        if (!s->is_string() || s->as_string() != "json") {
          return std::string("Unsupported serialization: this server speaks \"json\"");
        }
      }
      if (const json::value* c = p.if_contains("compression")) {
        if (c->is_string() && c->as_string() == "none") {
          compress = false;
        } else if (!c->is_string() || c->as_string() != "gzip") {
          return std::string("Unsupported compression: use \"gzip\" or \"none\"");
        }
      }
    }
    auto user = core_->auth.VerifyToken(std::string_view(token->as_string()), "access");
    if (auto* failure = std::get_if<AuthFailure>(&user)) return failure->message;
    const auto& record = std::get<catalog::UserRecord>(user);
    return Authenticated{Principal{record.user_id, record.role}, compress};
  }

  void HandleMessage(std::string_view text) {
    if (!bucket_.Take(options_.max_messages_per_sec, SteadyClock::now())) {
      Reply(WsErrorJson(std::nullopt, "RATE_LIMIT_EXCEEDED",
                        "Too many messages: at most " +
                            std::to_string(options_.max_messages_per_sec) +
                            " per second per connection; this message was dropped"));
      return;
    }
    std::optional<json::object> msg = ParseObject(text);
    if (!msg) return;
    std::string_view type = msg->at("type").as_string();
    if (type == "ping") {
      Reply(R"({"type":"pong"})");
    } else if (type == "subscribe" || type == "next_batch" || type == "unsubscribe") {
      core_->app.OnMessage(handle_, std::move(*msg));
    } else if (type == "authenticate") {
      Reauthenticate(*msg);
    } else {
      BeginClose(kWsCloseInternalError,
                 "Invalid message: unknown type '" + TruncateUtf8(std::string(type), 64) + "'",
                 true);
    }
  }

  // `authenticate` on an open connection (a client that sent both the header and the message):
  // the same user again gets auth_success again; anything else fails like a first attempt.
  void Reauthenticate(const json::object& msg) {
    auto result = VerifyAuthenticate(msg);
    if (auto* failure = std::get_if<std::string>(&result)) return FailAuthentication(*failure);
    // Compression stays as it was: other threads may be compressing for this connection.
    const Principal& who = std::get<Authenticated>(result).principal;
    if (who.user_id != handle_->principal().user_id || who.role != handle_->principal().role) {
      return FailAuthentication("This connection is already authenticated as '" +
                                handle_->principal().user_id + "'");
    }
    Reply(WsAuthSuccessJson(who, compress_));
  }

  // ---- Writing ---------------------------------------------------------------------------------

  // Writes the queued messages, a batch of frames at a time (all of them, or as many as fill
  // kBatchBytes, at least one): each batch the socket takes at once is done without an
  // asynchronous round trip, up to kMaxWritesPerTurn of them before giving other connections on
  // the I/O thread their turn. Sends the close frame once the queue is empty and a close was
  // requested. Called with writing_ set; clears it when there is nothing left to do.
  void WriteNext() {
    for (int turn = 0;; ++turn) {
      if (state_ == State::kClosed) return DropQueue();
      if (!TakeBatch()) return;
      FrameBatch();
      beast::error_code ec;
      if (turn < kMaxWritesPerTurn && ws_.next_layer().TryWrite(buffers_, ec)) {
        queued_.fetch_sub(batch_.size(), std::memory_order_relaxed);
        batch_.clear();
        continue;
      }
      if (ec) return OnWrite(ec);
      ws_.next_layer().WriteData(buffers_, [self = shared_from_this()](beast::error_code ec) {
        self->OnWrite(ec);
      });
      return;
    }
  }

  // Moves the next batch from the queue into batch_. False when there is none: then the chain
  // stops (writing_ cleared, buffers freed) or the close frame goes out.
  bool TakeBatch() {
    bool close_now = false;
    {
      std::lock_guard lock(out_mu_);
      if (head_ < queue_.size()) {
        size_t end = head_, bytes = 0;
        while (end < queue_.size() && (end == head_ || bytes < kBatchBytes)) {
          bytes += queue_[end++].size();
        }
        if (head_ == 0 && end == queue_.size()) {
          batch_.swap(queue_);  // the usual case: everything, without moving strings
        } else {
          for (; head_ < end; ++head_) batch_.push_back(std::move(queue_[head_]));
          if (head_ == queue_.size()) {
            queue_.clear();
            head_ = 0;
          }
        }
        return true;
      }
      close_now = close_.has_value() && !close_started_ && state_ == State::kClosing;
      if (close_now) {
        close_started_ = true;  // writing_ stays set: nothing else is written after this
      } else {
        writing_ = false;
      }
      if (queue_.capacity() > 16) std::vector<Outbound>().swap(queue_);
    }
    // The chain stops: an idle connection keeps no batch buffers.
    std::string().swap(wire_);
    std::vector<asio::const_buffer>().swap(buffers_);
    std::vector<Outbound>().swap(batch_);
    if (close_now) {
      ws_.async_close(*close_, [self = shared_from_this()](beast::error_code ec) {
        self->OnClosed(ec);
      });
    }
    return false;
  }

  // Frames batch_ into buffers_: headers and small messages are copied into wire_ (one
  // contiguous write), large ones are written from their own strings.
  void FrameBatch() {
    wire_.clear();
    size_t wire_bytes = 0;
    for (const Outbound& m : batch_) {
      const size_t size = m.size();
      wire_bytes += 10 + (size < kCopyBelowBytes ? size : 0);
    }
    wire_.reserve(wire_bytes);  // no reallocation below: buffers_ point into it
    buffers_.clear();
    size_t from = 0;  // start of wire_ not yet in buffers_
    for (const Outbound& m : batch_) {
      const size_t size = m.size();
      net::AppendFrameHeader(m.binary, size, wire_);
      if (size < kCopyBelowBytes) {
        wire_ += m.payload;
        if (m.tail) wire_ += m.tail->text();
        continue;
      }
      buffers_.push_back(asio::buffer(wire_.data() + from, wire_.size() - from));
      if (!m.payload.empty()) buffers_.push_back(asio::buffer(m.payload));
      if (m.tail && !m.tail->text().empty()) buffers_.push_back(asio::buffer(m.tail->text()));
      from = wire_.size();
    }
    if (wire_.size() > from) {
      buffers_.push_back(asio::buffer(wire_.data() + from, wire_.size() - from));
    }
  }

  void OnWrite(beast::error_code ec) {
    queued_.fetch_sub(batch_.size(), std::memory_order_relaxed);
    batch_.clear();
    if (ec) {
      if (state_ != State::kClosed) {
        spdlog::debug("WebSocket {}: write failed: {}", id_, ec.message());
      }
      DropQueue();
      return Finish();
    }
    WriteNext();
  }

  // Forgets every message not yet being written and stops the write chain.
  void DropQueue() {
    std::lock_guard lock(out_mu_);
    send_closed_ = true;
    queued_.fetch_sub(queue_.size() - head_, std::memory_order_relaxed);
    std::vector<Outbound>().swap(queue_);
    head_ = 0;
    writing_ = false;
  }

  // ---- Closing ---------------------------------------------------------------------------------

  // Starts the closing handshake with `code`, after the queue drains (flush) or at once.
  void BeginClose(uint16_t code, std::string reason, bool flush) {
    if (state_ == State::kHandshake) {
      // The 101 may already be on its way; close properly once the handshake completes (it is
      // bounded by the handshake timeout).
      if (deferred_close_code_ == 0) {
        deferred_close_code_ = code;
        deferred_close_reason_ = std::move(reason);
      }
      return;
    }
    if (state_ == State::kClosing || state_ == State::kClosed) return;
    state_ = State::kClosing;
    close_.emplace(static_cast<websocket::close_code>(code),
                   TruncateUtf8(std::move(reason), kMaxCloseReasonBytes));
    bool start_writing = false;
    {
      std::lock_guard lock(out_mu_);
      send_closed_ = true;
      if (!flush) {
        queued_.fetch_sub(queue_.size() - head_, std::memory_order_relaxed);
        std::vector<Outbound>().swap(queue_);
        head_ = 0;
      }
      if (!writing_) start_writing = writing_ = true;
    }
    ArmTimer(TimerPhase::kCloseDeadline, SteadyClock::now() + options_.close_timeout);
    NotifyClosed();
    if (start_writing) WriteNext();
  }

  void OnClosed(beast::error_code ec) {
    if (ec && ec != asio::error::operation_aborted) {
      spdlog::debug("WebSocket {}: closing handshake failed: {}", id_, ec.message());
    }
    Finish();
  }

  // The connection is over: tell the application, stop timers, drop the socket.
  void Finish() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    {
      std::lock_guard lock(out_mu_);
      send_closed_ = true;
    }
    NotifyClosed();
    timer_phase_ = TimerPhase::kNone;
    timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  // OnClose to the application, once, if it was told about the connection.
  void NotifyClosed() {
    if (!handle_ || closed_notified_) return;
    closed_notified_ = true;
    core_->app.OnClose(id_);
  }

  // ---- Timers ----------------------------------------------------------------------------------

  void ArmTimer(TimerPhase phase, SteadyClock::time_point at) {
    timer_phase_ = phase;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) { self->OnTimer(ec); });
  }

  void OnTimer(beast::error_code ec) {
    if (ec == asio::error::operation_aborted) return;
    const auto now = SteadyClock::now();
    if (now < timer_.expiry()) return;  // a stale wait; the re-armed one is pending
    switch (timer_phase_) {
      case TimerPhase::kNone:
        return;
      case TimerPhase::kAuth:
        if (state_ != State::kAuthenticating) return;
        return FailAuthentication("Authentication timeout - no auth message received within " +
                                  std::to_string(options_.auth_timeout.count()) + " seconds");
      case TimerPhase::kHeartbeat:
        if (state_ != State::kOpen) return;
        if (now - last_activity_ >= options_.client_timeout) {
          spdlog::debug("WebSocket {}: heartbeat timeout", id_);
          return BeginClose(kWsCloseNormal, "Heartbeat timeout", /*flush=*/true);
        }
        return ArmTimer(TimerPhase::kHeartbeat, last_activity_ + options_.client_timeout);
      case TimerPhase::kCloseDeadline:
        spdlog::debug("WebSocket {}: closing took longer than {} ms; dropping the socket", id_,
                      options_.close_timeout.count());
        return Finish();
    }
  }

  const std::shared_ptr<WsTransport::Core> core_;
  const WsTransportOptions& options_;  // core_->options
  const uint64_t id_;
  const asio::any_io_executor executor_;  // the connection's strand
  websocket::stream<net::FrameStream> ws_;
  asio::steady_timer timer_;
  net::ConnectionSlot slot_;  // counts this connection against the HTTP server's max_connections

  // Strand only.
  State state_ = State::kHandshake;
  TimerPhase timer_phase_ = TimerPhase::kNone;
  // Set before the handle exists and never changed once it does, so Enqueue may read it anywhere.
  bool compress_ = true;
  std::optional<std::variant<Principal, AuthFailure>> header_auth_;
  std::shared_ptr<ConnectionHandle> handle_;  // set by Open
  bool closed_notified_ = false;
  beast::flat_buffer read_buf_;
  SteadyClock::time_point last_activity_{};
  net::TokenBucket bucket_;  // client messages (max_messages_per_sec)
  std::optional<websocket::close_reason> close_;
  uint16_t deferred_close_code_ = 0;  // a close requested during the handshake; 0 = none
  std::string deferred_close_reason_;
  // The batch being written, its frames (headers and small payloads) and the buffers over both.
  std::vector<Outbound> batch_;
  std::string wire_;
  std::vector<asio::const_buffer> buffers_;

  // Outbound queue, fed from any thread.
  std::mutex out_mu_;
  std::vector<Outbound> queue_;  // guarded by out_mu_; entries before head_ are moved-from
  size_t head_ = 0;              // guarded by out_mu_
  bool writing_ = false;         // guarded by out_mu_: a write chain is running (or closing)
  bool send_closed_ = false;     // guarded by out_mu_: Enqueue refuses
  bool close_started_ = false;   // guarded by out_mu_
  // Messages queued and not yet completely written (including batch_). Written under out_mu_
  // (or on the strand for batch_), read without it as a cheap pre-check.
  std::atomic<size_t> queued_{0};
};

bool ConnectionHandle::Send(std::string json) {
  std::shared_ptr<Session> session = session_.lock();
  return session && session->Enqueue(std::move(json), /*control=*/false);
}

bool ConnectionHandle::SendControl(std::string json) {
  std::shared_ptr<Session> session = session_.lock();
  return session && session->Enqueue(std::move(json), /*control=*/true);
}

size_t ConnectionHandle::SendMany(std::vector<WsMessage>& messages) {
  std::shared_ptr<Session> session = session_.lock();
  return session ? session->EnqueueMany(messages) : 0;
}

void ConnectionHandle::Close(uint16_t code, std::string reason) {
  if (std::shared_ptr<Session> session = session_.lock()) {
    session->RequestClose(code, std::move(reason), /*flush=*/true);
  }
}

}  // namespace

WsTransport::WsTransport(WsTransportOptions options, AuthService& auth, WsApplication& app)
    : core_(std::make_shared<Core>(std::move(options), auth, app)) {}

WsTransport::~WsTransport() { Shutdown(); }

net::UpgradeHook WsTransport::Hook() {
  net::UpgradeHook hook;
  hook.accepts = [](std::string_view path) { return path == "/v1/ws" || path == "/ws"; };
  hook.handler = [core = core_](net::UpgradeRequest&& up) {
    const uint64_t id = core->next_id.fetch_add(1, std::memory_order_relaxed);
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(core->mu);
      if (core->shutting_down) return;  // `up` dies here, closing the socket
      session = std::make_shared<Session>(core, id, std::move(up));
      core->sessions.emplace(id, session);
    }
    session->Start(up);
  };
  return hook;
}

void WsTransport::Shutdown() {
  std::vector<std::shared_ptr<Session>> targets;
  {
    std::lock_guard lock(core_->mu);
    core_->shutting_down = true;
    for (auto& [id, weak] : core_->sessions) {
      if (auto alive = weak.lock()) targets.push_back(std::static_pointer_cast<Session>(alive));
    }
  }
  for (auto& session : targets) {
    session->RequestClose(kWsCloseGoingAway, "Server shutting down", /*flush=*/false);
  }
  targets.clear();  // a session must be free to die while we wait
  std::unique_lock lock(core_->mu);
  const auto limit = core_->options.close_timeout + std::chrono::seconds(1);
  if (!core_->gone_cv.wait_for(lock, limit, [&] { return core_->sessions.empty(); })) {
    spdlog::error("{} WebSocket connection(s) still open {} ms after shutdown began",
                  core_->sessions.size(),
                  std::chrono::duration_cast<std::chrono::milliseconds>(limit).count());
  }
}

size_t WsTransport::open_connections() const {
  std::lock_guard lock(core_->mu);
  return core_->sessions.size();
}

}  // namespace kalam::api
