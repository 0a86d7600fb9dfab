// WsServer: one Session per upgraded socket, run on that socket's strand; other threads reach an
// open session through a ConnectionHandle. A Session frames its queued messages itself and
// writes them in batches through a FrameStream (net/ws_frame_stream.h).
#include "net/ws_session.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "common/utf8.h"
#include "net/ws_frame_stream.h"

namespace kalam::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using SteadyClock = std::chrono::steady_clock;

struct WsServer::Core {
  Core(WsSessionOptions o, WsService& s) : options(std::move(o)), service(s) {}

  const WsSessionOptions options;
  WsService& service;
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
// Buffer for the first chunk of each client message (most are small).
constexpr size_t kFirstReadBytes = 256;

// Message payloads at least this large are written from the queued string itself (a gather write);
// smaller ones, and every frame header, are copied into the batch buffer so that one batch is
// one contiguous write (one syscall) however many messages it holds.
constexpr size_t kCopyBelowBytes = 16 << 10;
// A write batch stops taking queued messages once it holds this many payload bytes.
constexpr size_t kBatchBytes = 256 << 10;
// Batches one connection writes in a row before other connections on its I/O thread get a turn.
constexpr int kMaxWritesPerTurn = 16;

class Session;

// What other threads hold: the session's id plus a weak link, so a handle kept after the
// connection is gone pins no socket (sockets must die before the io_context does).
class ConnectionHandle final : public WsConnection {
 public:
  ConnectionHandle(std::weak_ptr<Session> session, uint64_t id)
      : session_(std::move(session)), id_(id) {}

  uint64_t id() const override { return id_; }
  bool Send(std::string text) override;
  bool SendControl(std::string text) override;
  size_t SendMany(std::vector<WsMessage>& messages) override;
  void Close(uint16_t code, std::string reason) override;

 private:
  const std::weak_ptr<Session> session_;
  const uint64_t id_;
};

// One upgraded socket. Everything except Enqueue/EnqueueMany/RequestClose runs on the socket's
// strand.
class Session final : public WsSession, public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<WsServer::Core> core, uint64_t id, UpgradeRequest&& up,
          std::unique_ptr<WsHandler> handler)
      : core_(std::move(core)),
        options_(core_->options),
        id_(id),
        handler_(std::move(handler)),
        executor_(up.stream.get_executor()),
        ws_(std::move(up.stream)),
        timer_(executor_),
        slot_(std::move(up.slot)) {}

  ~Session() override {
    {
      std::lock_guard lock(core_->mu);
      core_->sessions.erase(id_);
    }
    core_->gone_cv.notify_all();
  }

  // Runs the handshake; `up` carries the request (the socket was taken by the constructor).
  void Start(UpgradeRequest& up) {
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
    ws_.read_message_max(0);  // the limit is ours: the handler may reply before the 1009
    ws_.auto_fragment(false);
    // Runs inside our reads: every ping, pong or close frame counts as client activity.
    ws_.control_callback(
        [this](websocket::frame_type, beast::string_view) { last_activity_ = SteadyClock::now(); });
    state_ = State::kHandshake;
    ws_.async_accept(up.raw, [self = shared_from_this()](beast::error_code ec) {
      self->OnAccept(ec);
    });
  }

  // From any thread. See WsConnection::Send; `control` (SendControl, Reply) may use the reserve.
  bool Enqueue(std::string text, bool control) {
    const size_t limit =
        options_.outbound_queue_messages + (control ? kWsControlReserveMessages : 0);
    if (queued_.load(std::memory_order_relaxed) >= limit) return false;
    Outbound message = Encode(WsMessage{std::move(text), nullptr});
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

  // From any thread: flush (or not), then close with `code`. Later Sends fail at once.
  void RequestClose(uint16_t code, std::string reason, bool flush) {
    {
      std::lock_guard lock(out_mu_);
      send_closed_ = true;
    }
    asio::post(executor_, [self = shared_from_this(), code, reason = std::move(reason), flush] {
      self->BeginClose(code, reason, flush);
    });
  }

  // ---- WsSession (strand only) -----------------------------------------------------------------

  uint64_t id() const override { return id_; }
  bool compress() const override { return compress_; }
  void set_compress(bool compress) override {
    if (!handle_) compress_ = compress;  // once open, other threads read compress_ unlocked
  }
  bool is_open() const override { return handle_ != nullptr; }

  std::shared_ptr<WsConnection> Open() override {
    if (handle_) return handle_;
    state_ = State::kOpen;
    handle_ = std::make_shared<ConnectionHandle>(weak_from_this(), id_);
    last_activity_ = SteadyClock::now();
    ArmTimer(TimerPhase::kHeartbeat, last_activity_ + options_.client_timeout);
    return handle_;
  }

  bool Reply(std::string text) override { return Enqueue(std::move(text), /*control=*/true); }

  void Close(uint16_t code, std::string reason) override {
    BeginClose(code, std::move(reason), /*flush=*/true);
  }

 private:
  enum class State {
    kHandshake,  // async_accept running
    kPending,    // accepted, not yet opened by the handler
    kOpen,       // opened; the handle exists
    kClosing,    // our close frame is queued or sent
    kClosed,     // the connection is finished; waiting for handlers to unwind
  };
  enum class TimerPhase { kNone, kOpenDeadline, kHeartbeat, kCloseDeadline };

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
    state_ = State::kPending;
    if (deferred_close_code_ != 0) {  // Shutdown arrived during the handshake
      return BeginClose(deferred_close_code_, std::move(deferred_close_reason_), /*flush=*/false);
    }
    handler_->OnHandshake(*this);
    if (state_ == State::kPending) {
      ArmTimer(TimerPhase::kOpenDeadline, SteadyClock::now() + options_.open_timeout);
    }
    if (state_ == State::kPending || state_ == State::kOpen) ReadMore();
  }

  // `m` as it goes on the wire: gzip in a binary frame when large enough (and wanted), else text.
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
    handler_->OnMessage(*this, text);
    // Idle connections hold no message buffer: the next message allocates its own.
    ReleaseReadBuffer();
    if (state_ == State::kPending || state_ == State::kOpen) ReadMore();
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

  // A binary frame must be gzip of a text message: inflates `frame` into `text`. False when the
  // connection is being closed instead.
  bool Inflate(std::string_view frame, std::string& text) {
    if (frame.substr(0, 2) != kGzipMagic) {
      BeginClose(kWsCloseInternalError,
                 "Invalid message: binary frames must be gzip-compressed JSON", true);
      return false;
    }
    GunzipOptions limits;
    limits.max_bytes = options_.max_message_bytes;
    switch (Gunzip(frame, limits, &text)) {
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
    handler_->OnTooLarge(*this);
    BeginClose(kWsCloseTooBig, "Message too large", /*flush=*/true);
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
      AppendFrameHeader(m.binary, size, wire_);
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
                   std::string(reason, 0, Utf8CutLength(reason, kMaxCloseReasonBytes)));
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

  // The connection is over: tell the handler, stop timers, drop the socket.
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

  // OnClose to the handler, once, if the connection was opened.
  void NotifyClosed() {
    if (!handle_ || closed_notified_) return;
    closed_notified_ = true;
    handler_->OnClose(*this);
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
      case TimerPhase::kOpenDeadline:
        if (state_ != State::kPending) return;
        handler_->OnOpenTimeout(*this);
        if (state_ == State::kPending) {
          BeginClose(kWsClosePolicy, "Not opened in time", /*flush=*/true);
        }
        return;
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

  const std::shared_ptr<WsServer::Core> core_;
  const WsSessionOptions& options_;  // core_->options
  const uint64_t id_;
  const std::unique_ptr<WsHandler> handler_;
  const asio::any_io_executor executor_;  // the connection's strand
  websocket::stream<FrameStream> ws_;
  asio::steady_timer timer_;
  ConnectionSlot slot_;  // counts this connection against the HTTP server's max_connections

  // Strand only.
  State state_ = State::kHandshake;
  TimerPhase timer_phase_ = TimerPhase::kNone;
  // Changed only before the handle exists, so Enqueue may read it anywhere.
  bool compress_ = true;
  std::shared_ptr<ConnectionHandle> handle_;  // set by Open
  bool closed_notified_ = false;
  beast::flat_buffer read_buf_;
  SteadyClock::time_point last_activity_{};
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

bool ConnectionHandle::Send(std::string text) {
  std::shared_ptr<Session> session = session_.lock();
  return session && session->Enqueue(std::move(text), /*control=*/false);
}

bool ConnectionHandle::SendControl(std::string text) {
  std::shared_ptr<Session> session = session_.lock();
  return session && session->Enqueue(std::move(text), /*control=*/true);
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

WsServer::WsServer(WsSessionOptions options, WsService& service)
    : core_(std::make_shared<Core>(std::move(options), service)) {}

WsServer::~WsServer() { Shutdown(); }

UpgradeHook WsServer::Hook() {
  UpgradeHook hook;
  hook.accepts = [core = core_](std::string_view path) { return core->service.Accepts(path); };
  hook.handler = [core = core_](UpgradeRequest&& up) {
    const uint64_t id = core->next_id.fetch_add(1, std::memory_order_relaxed);
    std::unique_ptr<WsHandler> handler = core->service.NewHandler(up.request);
    std::shared_ptr<Session> session;
    {
      std::lock_guard lock(core->mu);
      if (core->shutting_down) return;  // `up` dies here, closing the socket
      session = std::make_shared<Session>(core, id, std::move(up), std::move(handler));
      core->sessions.emplace(id, session);
    }
    session->Start(up);
  };
  return hook;
}

void WsServer::Shutdown() {
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

size_t WsServer::open_connections() const {
  std::lock_guard lock(core_->mu);
  return core_->sessions.size();
}

}  // namespace kalam::net
