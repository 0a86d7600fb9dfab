// HttpServer implementation: the accept loop, the per-connection state machine (read head → read
// body → handler → write → next request), and the ordered shutdown.
#include "net/http_server.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include <unistd.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "net/multipart.h"
#include "net/response_head.h"
#include "net/spool_body.h"

namespace kalam::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kServerName = "kalamdb";
// Sent before reading the body of a request that asked for it (curl does for bodies > 1 KiB).
constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";
// How long a connection closed after an error response keeps reading (and discarding) what the
// client still sends, so that the kernel does not answer with a reset that destroys the response
// before the client reads it.
constexpr std::chrono::seconds kLingerTimeout{2};
// Largest piece asked of a BodySource at a time (bounds a streamed download's memory).
constexpr uint64_t kSourcePieceBytes = 4 << 20;
// After the grace period, how long Stop waits for the I/O threads to run out of work before it
// stops the io_context outright.
constexpr std::chrono::seconds kThreadExitWait{1};
// Response buffers up to this capacity are reused for the connection's next response.
constexpr size_t kKeptBufferBytes = 64 << 10;
// Preflight answer headers.
// Request headers a cross-origin page may send: auth and JSON, plus the conditional and range
// headers of file downloads (GET /v1/files/…).
constexpr std::string_view kCorsAllowHeaders = "Authorization, Content-Type, If-None-Match, Range";
// Response headers a cross-origin page may read besides the CORS-safelisted ones.
constexpr std::string_view kCorsExposeHeaders = "ETag, Content-Range, Content-Disposition, Retry-After";

class Connection;

// Counts declared chunk sizes of a chunked body and fails the parse as soon as they exceed the
// limit, so that an oversized chunked body is refused without reading it.
struct ChunkBudget {
  uint64_t seen = 0;
  uint64_t max = 0;
  bool exceeded = false;

  void operator()(uint64_t size, beast::string_view /*extensions*/, beast::error_code& ec) {
    if (size > max - std::min(seen, max)) exceeded = true;
    seen = (size > UINT64_MAX - seen) ? UINT64_MAX : seen + size;
    if (exceeded) ec = http::error::body_limit;
  }
};

// State shared by the server and its connections. Connections and Responders hold it by
// shared_ptr, so it outlives every one of them. Thread-safe as documented per member.
struct ServerShared {
  ServerShared(HttpServerOptions opts, std::shared_ptr<Router> r)
      : options(std::move(opts)), router(std::move(r)) {
    for (const auto& origin : options.cors_allowed_origins) {
      if (origin == "*") cors_any_origin = true;
    }
  }

  const HttpServerOptions options;  // immutable
  const std::shared_ptr<Router> router;  // immutable, const use only
  bool cors_any_origin = false;  // immutable after construction

  // Connections counted against options.max_connections.
  const std::shared_ptr<std::atomic<size_t>> open_connections =
      std::make_shared<std::atomic<size_t>>(0);

  // Set once by Stop; read by connections to stop keeping connections alive.
  std::atomic<bool> stopping{false};

  // Every live connection, so Stop can reach them. Closed to new entries when Stop begins.
  std::mutex registry_mu;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> registry;  // by registry_mu
  bool registry_closed = false;                                               // by registry_mu

  // Requests whose head was received and whose response is not yet written.
  std::atomic<size_t> inflight{0};
  std::mutex inflight_mu;                 // pairs with inflight_cv; guards nothing else
  std::condition_variable inflight_cv;    // notified when inflight drops to 0 during Stop

  // Responders post onto connection strands only while the gate is open (shared lock held across
  // the post). Stop closes it (exclusive lock) once the I/O threads are joined, so nothing is
  // ever posted to an io_context that is about to be destroyed.
  std::shared_mutex gate_mu;
  bool gate_open = true;  // guarded by gate_mu

  mutable std::mutex hook_mu;
  std::shared_ptr<const UpgradeHook> hook;  // guarded by hook_mu

  // At most one "rejecting connections" warning per second, however many are rejected.
  std::atomic<int64_t> last_rejection_log_ms{0};

  bool ShouldLogRejection() {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t last = last_rejection_log_ms.load();
    return now - last >= 1000 && last_rejection_log_ms.compare_exchange_strong(last, now);
  }

  bool Register(const std::shared_ptr<Connection>& conn) {
    std::lock_guard lock(registry_mu);
    if (registry_closed) return false;
    registry.emplace(conn.get(), conn);
    return true;
  }

  void Unregister(const Connection* conn) {
    std::lock_guard lock(registry_mu);
    registry.erase(conn);
  }

  std::vector<std::weak_ptr<Connection>> Snapshot() {
    std::lock_guard lock(registry_mu);
    std::vector<std::weak_ptr<Connection>> out;
    out.reserve(registry.size());
    for (const auto& [ptr, weak] : registry) out.push_back(weak);
    return out;
  }

  // Begins shutdown: no new registrations; returns the connections to notify.
  std::vector<std::weak_ptr<Connection>> BeginStop() {
    stopping.store(true);
    {
      std::lock_guard lock(registry_mu);
      registry_closed = true;
    }
    return Snapshot();
  }

  void StartRequest() { inflight.fetch_add(1); }

  void FinishRequest() {
    if (inflight.fetch_sub(1) == 1 && stopping.load()) {
      std::lock_guard lock(inflight_mu);
      inflight_cv.notify_all();
    }
  }

  std::shared_ptr<const UpgradeHook> Hook() const {
    std::lock_guard lock(hook_mu);
    return hook;
  }

  // The Access-Control-Allow-Origin value for a request from `origin`; empty when none is due.
  std::string AllowedOrigin(std::string_view origin) const {
    if (options.cors_allowed_origins.empty() || origin.empty()) return {};
    if (cors_any_origin) return "*";
    for (const auto& allowed : options.cors_allowed_origins) {
      if (allowed == origin) return std::string(origin);
    }
    return {};
  }
};

std::string JsonBody(const boost::json::object& object) { return boost::json::serialize(object); }

std::string_view ToStd(beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// One client connection: a state machine run entirely on the connection's strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ServerShared> shared, tcp::socket socket, std::string peer_ip,
             bool peer_loopback, ConnectionSlot slot)
      : shared_(std::move(shared)),
        executor_(socket.get_executor()),
        stream_(std::move(socket)),
        watchdog_(executor_),
        peer_ip_(std::move(peer_ip)),
        peer_loopback_(peer_loopback),
        slot_(std::move(slot)) {}

  ~Connection() { shared_->Unregister(this); }

  const asio::any_io_executor& executor() const { return executor_; }

  // Serves requests until the client leaves, a guard closes the connection, or Stop.
  void Start() { ReadRequestHead(); }

  // Answers 503 TOO_MANY_CONNECTIONS without reading a request, then closes.
  void Reject(size_t current) {
    boost::json::object body;
    body["error"] = "TOO_MANY_CONNECTIONS";
    body["message"] = "Too many concurrent connections (limit " +
                      std::to_string(shared_->options.max_connections) + "). Retry later.";
    body["current"] = current;
    body["max"] = shared_->options.max_connections;
    if (shared_->ShouldLogRejection()) {
      spdlog::warn("Rejecting connections (from {} and maybe others): {} open, max {}", peer_ip_,
                   current, shared_->options.max_connections);
    }
    WriteJson(503, JsonBody(body), /*close_after=*/true);
  }

  // Stop has begun: idle and half-received requests are closed now, in-flight ones finish.
  void OnServerStop() {
    stop_requested_ = true;
    switch (state_) {
      case State::kReadingHead:
      case State::kReadingBody:
      case State::kLingering:
        Close();
        break;
      default:
        break;
    }
  }

  // The grace period is over: close whatever is left.
  void ForceClose() { Close(); }

  // Completes request `seq` (called on the strand through a Responder).
  void OnResponse(uint64_t seq, HttpResponse response) {
    if (seq != request_seq_ || state_ != State::kHandling) return;  // late, duplicate or closed
    WriteResponse(std::move(response), /*close_after=*/false);
  }

 private:
  enum class State {
    kReadingHead,  // waiting for (the head of) the next request
    kReadingBody,
    kHandling,     // the handler owns the request; waiting for its Responder
    kWriting,
    kLingering,    // response sent, send side shut, discarding input until the client closes
    kClosed,
    kUpgraded,     // the socket was handed to the upgrade hook
  };

  void ReadRequestHead() {
    state_ = State::kReadingHead;
    cors_origin_.clear();
    spool_parser_.reset();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(
        std::min<size_t>(shared_->options.max_header_bytes, UINT32_MAX)));
    // Body size is checked by us: Content-Length after the head, chunked via chunk_budget_.
    parser_->body_limit(boost::none);
    chunk_budget_ = ChunkBudget{0, shared_->options.max_body_bytes, false};
    parser_->on_chunk_header(chunk_budget_);
    SetDeadline(requests_served_ == 0 ? shared_->options.request_timeout
                                      : shared_->options.keep_alive_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Connection::OnHead, shared_from_this()));
  }

  void OnHead(beast::error_code ec, size_t /*bytes*/) {
    if (state_ != State::kReadingHead) return;
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    is_head_ = req.method() == http::verb::head;
    cors_origin_ = shared_->AllowedOrigin(ToStd(req[http::field::origin]));

    if (beast::websocket::is_upgrade(req)) return HandleUpgrade();

    // multipart/form-data (file uploads) may have its own, larger limit.
    body_limit_ = shared_->options.max_body_bytes;
    if (shared_->options.max_multipart_body_bytes > body_limit_ &&
        IsMultipartFormData(ToStd(req[http::field::content_type]))) {
      body_limit_ = shared_->options.max_multipart_body_bytes;
    }
    chunk_budget_.max = body_limit_;  // the parser holds the budget by reference
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      return RespondBodyTooLarge(*length);
    }
    const bool body_pending = !parser_->is_done();
    const bool expect_continue = beast::iequals(req[http::field::expect], "100-continue");
    if (!shared_->options.spool_dir.empty() && body_pending &&
        IsMultipartFormData(ToStd(req[http::field::content_type]))) {
      // Same head, body into a file (Beast's body-changing parser conversion).
      spool_parser_.emplace(std::move(*parser_));
      spool_parser_->body_limit(boost::none);
      spool_parser_->on_chunk_header(chunk_budget_);
      spool_parser_->get().body().dir = shared_->options.spool_dir;
    }
    // (`req` and parser_ are not used below: the parser may have moved into spool_parser_.)
    if (body_pending && version_ >= 11 && expect_continue) {
      state_ = State::kReadingBody;
      SetDeadline(shared_->options.request_timeout);
      asio::async_write(stream_, asio::buffer(kContinueResponse.data(), kContinueResponse.size()),
                        beast::bind_front_handler(&Connection::OnContinueSent,
                                                  shared_from_this()));
      return;
    }
    ReadBody();
  }

  void OnContinueSent(beast::error_code ec, size_t /*bytes*/) {
    if (state_ != State::kReadingBody) return;
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    if (spool_parser_) {
      if (spool_parser_->is_done()) return DispatchRequest();
      state_ = State::kReadingBody;
      SetDeadline(shared_->options.request_timeout);
      http::async_read(stream_, buffer_, *spool_parser_,
                       beast::bind_front_handler(&Connection::OnBody, shared_from_this()));
      return;
    }
    if (parser_->is_done()) return DispatchRequest();
    state_ = State::kReadingBody;
    SetDeadline(shared_->options.request_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Connection::OnBody, shared_from_this()));
  }

  void OnBody(beast::error_code ec, size_t /*bytes*/) {
    if (state_ != State::kReadingBody) return;
    if (ec == http::error::body_limit && chunk_budget_.exceeded) {
      return RespondBodyTooLarge(chunk_budget_.seen);
    }
    if (ec) return OnReadError(ec);
    DispatchRequest();
  }

  void OnReadError(beast::error_code ec) {
    // The client went away, the timeout fired, or we closed the socket ourselves: nothing to say.
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec.category() != http::make_error_code(http::error::bad_target).category()) {
      return Close();
    }
    if (ec == http::error::header_limit) {
      return WriteJson(431,
                       JsonBody({{"error", "HEADERS_TOO_LARGE"},
                                 {"message", "Request headers larger than " +
                                                 std::to_string(shared_->options.max_header_bytes) +
                                                 " bytes"}}),
                       /*close_after=*/true);
    }
    WriteJson(400,
              JsonBody({{"error", "BAD_REQUEST"}, {"message", "Malformed HTTP request: " + ec.message()}}),
              /*close_after=*/true);
  }

  void RespondBodyTooLarge(uint64_t size_bytes) {
    boost::json::object body;
    body["error"] = "BODY_TOO_LARGE";
    body["message"] = "Request body too large";
    body["size_bytes"] = size_bytes;
    body["max_bytes"] = body_limit_;
    WriteJson(413, JsonBody(body), /*close_after=*/true);
  }

  // Moves the parsed request out of the parser into the handler's form.
  HttpRequest TakeRequest() {
    if (spool_parser_) {
      auto& spooled = spool_parser_->get();
      HttpRequest request = TakeHead(spooled);
      request.body_file = std::move(spooled.body().file);
      spool_parser_.reset();
      return request;
    }
    auto& msg = parser_->get();
    HttpRequest request = TakeHead(msg);
    request.body = std::move(msg.body());
    return request;
  }

  // The method, target, headers and peer of `msg`, in the handler's form.
  template <class Message>
  HttpRequest TakeHead(Message& msg) {
    HttpRequest request;
    request.method = ToStd(msg.method_string());
    std::string_view target = ToStd(msg.target());
    size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string_view::npos) request.query = target.substr(question + 1);
    size_t count = 0;
    for (auto it = msg.begin(); it != msg.end(); ++it) ++count;
    request.headers.reserve(count);
    for (const auto& field : msg) {
      request.headers.emplace_back(ToStd(field.name_string()), ToStd(field.value()));
    }
    request.remote_ip = peer_ip_;
    request.remote_is_loopback = peer_loopback_;
    return request;
  }

  void DispatchRequest() {
    state_ = State::kHandling;
    ++request_seq_;
    ++requests_served_;
    inflight_counted_ = true;
    shared_->StartRequest();

    HttpRequest request = TakeRequest();
    if (!shared_->options.cors_allowed_origins.empty() && request.method == "OPTIONS" &&
        !request.Header("Origin").empty() &&
        !request.Header("Access-Control-Request-Method").empty() &&
        shared_->router->HasPath(request.path)) {
      return RespondPreflight(request);
    }

    // The watchdog closes the connection if the Responder is not called in time (and keeps the
    // connection alive meanwhile), so a lost Responder does not leak it.
    SetDeadline(shared_->options.request_timeout +
                shared_->router->ExtraHandlerTime(request.path));
    current_method_ = request.method;  // kept for the timeout message; reuses capacity
    current_path_ = request.path;

    try {
      shared_->router->Dispatch(std::move(request), MakeResponder());
    } catch (const std::exception& e) {
      spdlog::error("HTTP handler threw: {}", e.what());
      OnResponse(request_seq_,
                 JsonErrorResponse(500, "INTERNAL_ERROR", "Internal server error"));
    } catch (...) {
      spdlog::error("HTTP handler threw a non-standard exception");
      OnResponse(request_seq_,
                 JsonErrorResponse(500, "INTERNAL_ERROR", "Internal server error"));
    }
  }

  Responder MakeResponder() {
    return [shared = shared_, weak = weak_from_this(), seq = request_seq_](HttpResponse response) {
      std::shared_lock gate(shared->gate_mu);
      if (!shared->gate_open) return;
      std::shared_ptr<Connection> self = weak.lock();
      if (!self) return;
      // Inline when already on the connection's strand, else queued onto it.
      asio::dispatch(self->executor(), [self, seq, response = std::move(response)]() mutable {
        self->OnResponse(seq, std::move(response));
      });
    };
  }

  void RespondPreflight(const HttpRequest& request) {
    if (cors_origin_.empty()) {
      WriteResponse(JsonErrorResponse(403, "CORS_ORIGIN_NOT_ALLOWED",
                                      "Origin '" + std::string(request.Header("Origin")) +
                                          "' is not allowed (security.cors_allowed_origins)"),
                    /*close_after=*/false);
      return;
    }
    HttpResponse response;
    response.status = 204;
    response.content_type.clear();
    response.headers.emplace_back("Access-Control-Allow-Methods",
                                  shared_->router->AllowedMethods(request.path) + ", OPTIONS");
    response.headers.emplace_back("Access-Control-Allow-Headers", kCorsAllowHeaders);
    response.headers.emplace_back("Access-Control-Max-Age",
                                  std::to_string(shared_->options.cors_max_age.count()));
    WriteResponse(std::move(response), /*close_after=*/false);
  }

  void HandleUpgrade() {
    std::string_view target = ToStd(parser_->get().target());
    std::string_view path = target.substr(0, target.find('?'));
    std::shared_ptr<const UpgradeHook> hook = shared_->Hook();
    bool accepted = false;
    if (hook && hook->accepts && hook->handler) {
      try {
        accepted = hook->accepts(path);
      } catch (const std::exception& e) {
        spdlog::error("Upgrade predicate threw: {}", e.what());
      }
    }
    if (!accepted) {
      std::string method(ToStd(parser_->get().method_string()));
      if (!shared_->router->HasPath(path)) {
        WriteResponse(JsonErrorResponse(404, "NOT_FOUND",
                                        "No route for " + method + " " + std::string(path)),
                      /*close_after=*/true);
      } else {
        WriteResponse(JsonErrorResponse(400, "BAD_REQUEST",
                                         "Protocol upgrade is not supported on " +
                                             std::string(path)),
                      /*close_after=*/true);
      }
      return;
    }
    state_ = State::kUpgraded;
    StopWatchdog();
    UpgradeRequest upgrade{TakeRequest(), parser_->release(), std::move(stream_),
                           std::move(buffer_), std::move(slot_)};
    parser_.reset();
    try {
      hook->handler(std::move(upgrade));
    } catch (const std::exception& e) {
      spdlog::error("Upgrade handler threw: {}", e.what());
    }
  }

  void WriteJson(int status, std::string body, bool close_after) {
    HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    WriteResponse(std::move(response), close_after);
  }

  void WriteResponse(HttpResponse&& r, bool close_after) {
    const bool keep = keep_alive_ && !close_after && !stop_requested_ && !shared_->stopping.load();
    BuildResponse(std::move(r), keep);
    state_ = State::kWriting;
    close_after_write_ = !keep;
    SetDeadline(shared_->options.request_timeout);
    if (source_) {
      // The head now, then the source's pieces one after another.
      source_sent_ = 0;
      head_pending_ = true;
      asio::async_write(stream_, asio::buffer(out_),
                        beast::bind_front_handler(&Connection::OnSourceWritten,
                                                  shared_from_this()));
      return;
    }
    if (file_) {
      // The head now, then the file in pieces (Content-Length is already the slice's length).
      file_sent_ = 0;
      head_pending_ = true;
      asio::async_write(stream_, asio::buffer(out_),
                        beast::bind_front_handler(&Connection::OnFileWritten, shared_from_this()));
      return;
    }
    // Head and body in one gathered write: one sendmsg on a socket that takes it all.
    const std::array<asio::const_buffer, 2> pieces{asio::buffer(out_), asio::buffer(body_)};
    asio::async_write(stream_, pieces,
                      beast::bind_front_handler(&Connection::OnWrite, shared_from_this()));
  }

  // Sends the next piece of file_ (read on this I/O thread: local disk, 256 KiB at a time).
  void OnFileWritten(beast::error_code ec, size_t bytes) {
    if (state_ != State::kWriting) return;
    if (head_pending_) head_pending_ = false;
    else file_sent_ += bytes;
    if (!ec && file_sent_ < file_->length()) {
      const uint64_t want = std::min<uint64_t>(file_->length() - file_sent_, 256 << 10);
      file_chunk_.resize(static_cast<size_t>(want));
      ssize_t n;
      do {
        n = ::pread(file_->fd(), file_chunk_.data(), file_chunk_.size(),
                    static_cast<off_t>(file_->offset() + file_sent_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        spdlog::error("Reading the response file failed after {} bytes", file_sent_);
        ec = beast::error_code(n < 0 ? errno : EIO, boost::system::system_category());
      } else {
        file_chunk_.resize(static_cast<size_t>(n));
        SetDeadline(shared_->options.request_timeout);
        asio::async_write(stream_, asio::buffer(file_chunk_),
                          beast::bind_front_handler(&Connection::OnFileWritten,
                                                    shared_from_this()));
        return;
      }
    }
    file_.reset();
    std::string().swap(file_chunk_);
    OnWrite(ec, 0);
  }

  // Asks the body source for its next piece (or finishes the response when all was written).
  void OnSourceWritten(beast::error_code ec, size_t bytes) {
    if (state_ != State::kWriting) return;
    if (head_pending_) head_pending_ = false;
    else source_sent_ += bytes;
    if (!ec && source_sent_ < source_->length()) {
      const uint64_t want = std::min<uint64_t>(source_->length() - source_sent_, kSourcePieceBytes);
      // No I/O is pending while the source works, so no deadline either (as before a piece).
      ClearDeadline();
      // The callback owns the connection meanwhile: no I/O is pending on it while the source works.
      source_->Next(static_cast<size_t>(want), [shared = shared_, self = shared_from_this()](
                                                   bool ok, std::string piece) {
        std::shared_lock gate(shared->gate_mu);
        if (!shared->gate_open) return;
        asio::dispatch(self->executor(), [self, ok, piece = std::move(piece)]() mutable {
          self->OnSourcePiece(ok, std::move(piece));
        });
      });
      return;
    }
    source_.reset();
    std::string().swap(source_piece_);
    OnWrite(ec, 0);
  }

  void OnSourcePiece(bool ok, std::string piece) {
    if (state_ != State::kWriting || !source_) return;
    if (!ok || piece.empty() || piece.size() > source_->length() - source_sent_) {
      spdlog::error("The response body source failed after {} of {} bytes; closing the connection",
                    source_sent_, source_->length());
      source_.reset();
      std::string().swap(source_piece_);
      return Close();
    }
    source_piece_ = std::move(piece);
    SetDeadline(shared_->options.request_timeout);
    asio::async_write(stream_, asio::buffer(source_piece_),
                      beast::bind_front_handler(&Connection::OnSourceWritten, shared_from_this()));
  }

  // Writes the response head of `r` into out_ and moves its in-memory body into body_ (none for
  // HEAD; a file or source body is sent after the head).
  void BuildResponse(HttpResponse&& r, bool keep) {
    const unsigned status = (r.status >= 100 && r.status <= 999) ? static_cast<unsigned>(r.status)
                                                                  : 500u;
    out_.clear();
    AppendStatusLine(version_, status, &out_);
    AppendHeaderField("Server", kServerName, &out_);
    if (!r.content_type.empty() && !HasLineBreak(r.content_type)) {
      AppendHeaderField("Content-Type", r.content_type, &out_);
    }
    for (const auto& [name, value] : r.headers) {
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) {
        spdlog::error("Dropped invalid response header '{}'", name);
        continue;
      }
      AppendHeaderField(name, value, &out_);
    }
    if (!cors_origin_.empty()) {
      AppendHeaderField("Access-Control-Allow-Origin", cors_origin_, &out_);
      AppendHeaderField("Access-Control-Expose-Headers", kCorsExposeHeaders, &out_);
      if (cors_origin_ != "*") {
        AppendHeaderField("Vary", "Origin", &out_);
        AppendHeaderField("Access-Control-Allow-Credentials", "true", &out_);
      }
    }
    file_.reset();
    source_.reset();
    // RFC 9110 §8.6: no Content-Length (and no body) on 1xx, 204 and 304.
    std::optional<uint64_t> length;
    if (status < 200 || status == 204 || status == 304) {
      r.body.clear();
    } else if (r.body_file) {
      length = r.body_file->length();
      if (!is_head_ && r.body_file->length() > 0) file_ = std::move(r.body_file);
      r.body.clear();
    } else if (r.body_source) {
      length = r.body_source->length();
      if (!is_head_ && r.body_source->length() > 0) source_ = std::move(r.body_source);
      r.body.clear();
    } else {
      length = r.body.size();
    }
    AppendHeadEnd(version_, keep, length, &out_);
    body_ = is_head_ ? std::string() : std::move(r.body);
  }

  void OnWrite(beast::error_code ec, size_t /*bytes*/) {
    if (state_ != State::kWriting) return;
    FinishInflight();
    // A large response's buffers are not kept for the connection's next, usually small, ones.
    if (body_.capacity() > kKeptBufferBytes) std::string().swap(body_);
    else body_.clear();
    if (out_.capacity() > kKeptBufferBytes) std::string().swap(out_);
    if (ec) return Close();
    if (close_after_write_ || stop_requested_ || shared_->stopping.load()) return Linger();
    ReadRequestHead();
  }

  // Half-closes and discards input until the client closes or kLingerTimeout passes.
  void Linger() {
    state_ = State::kLingering;
    slot_ = ConnectionSlot();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    buffer_.clear();
    SetDeadline(kLingerTimeout);
    DrainSome();
  }

  void DrainSome() {
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (self->state_ != State::kLingering) return;
                              if (ec) return self->Close();
                              self->DrainSome();
                            });
  }

  // The current wait (a read, a write, the handler, lingering) must end within `limit`, or the
  // connection is closed. Setting a deadline is a store: the watchdog's timer is re-armed only when
  // the new deadline is earlier than its wait. When the wait ends before the deadline (which moved
  // on meanwhile), the watchdog waits again until the deadline. So a busy keep-alive connection
  // costs one timer wake-up per timeout period, not a timer per read and write.
  void SetDeadline(std::chrono::steady_clock::duration limit) {
    deadline_ = std::chrono::steady_clock::now() + limit;
    if (!watchdog_armed_ || deadline_ < watchdog_expiry_) ArmWatchdog();
  }

  // Nothing is awaited that may time out (a body source is producing the next piece).
  void ClearDeadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  void ArmWatchdog() {
    watchdog_armed_ = true;
    watchdog_expiry_ = deadline_;
    watchdog_.expires_at(deadline_);  // cancels the previous wait, whose completion is stale
    watchdog_.async_wait([self = shared_from_this(), generation = ++watchdog_generation_](
                             beast::error_code ec) { self->OnWatchdog(ec, generation); });
  }

  void StopWatchdog() {
    ++watchdog_generation_;
    watchdog_armed_ = false;
    deadline_ = std::chrono::steady_clock::time_point::max();
    watchdog_.cancel();
  }

  void OnWatchdog(beast::error_code ec, uint64_t generation) {
    if (ec || generation != watchdog_generation_) return;  // cancelled or re-armed
    watchdog_armed_ = false;
    if (state_ == State::kClosed || state_ == State::kUpgraded) return;
    if (deadline_ == std::chrono::steady_clock::time_point::max()) return;
    if (std::chrono::steady_clock::now() < deadline_) return ArmWatchdog();
    if (state_ == State::kHandling) {
      spdlog::warn("No response to {} {} from {} within {} s; closing the connection",
                   current_method_, current_path_, peer_ip_,
                   shared_->options.request_timeout.count());
    }
    Close();
  }

  void Close() {
    if (state_ == State::kClosed || state_ == State::kUpgraded) return;
    state_ = State::kClosed;
    StopWatchdog();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
    FinishInflight();
    slot_ = ConnectionSlot();
  }

  void FinishInflight() {
    if (!inflight_counted_) return;
    inflight_counted_ = false;
    shared_->FinishRequest();
  }

  const std::shared_ptr<ServerShared> shared_;
  // The connection's strand; a copy kept apart from stream_ so Responders on other threads can
  // reach it without touching the stream.
  const asio::any_io_executor executor_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // reused across requests on this connection
  std::optional<http::request_parser<http::string_body>> parser_;  // one per request (Beast rule)
  uint64_t body_limit_ = 0;  // the current request's body limit (set from its head)
  // The request's parser once its body goes to a file (options.spool_dir); parser_ is then empty.
  std::optional<http::request_parser<SpoolBody>> spool_parser_;
  // The response being written: its head, and its in-memory body (kept alive until the write
  // completes; capacity reused across requests up to kKeptBufferBytes).
  std::string out_;
  std::string body_;
  // A response body sent from a file: the file, the bytes of the file sent so far and the piece
  // being written.
  std::shared_ptr<const FileSlice> file_;
  bool head_pending_ = false;  // the head (out_) of a file or source response is being written
  uint64_t file_sent_ = 0;
  std::string file_chunk_;
  // A response body from a BodySource: the source, the bytes sent so far, the piece being written.
  std::shared_ptr<BodySource> source_;
  uint64_t source_sent_ = 0;
  std::string source_piece_;
  // The watchdog: one timer per connection enforces the deadline of whatever the connection is
  // waiting for (see SetDeadline). Touched only on the strand.
  asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point watchdog_expiry_;  // when the armed wait ends
  bool watchdog_armed_ = false;
  uint64_t watchdog_generation_ = 0;  // identifies the current wait; older completions are stale
  ChunkBudget chunk_budget_;  // referenced by parser_ (on_chunk_header keeps a reference)
  const std::string peer_ip_;
  const bool peer_loopback_;
  ConnectionSlot slot_;

  // Everything below is touched only on the strand.
  State state_ = State::kReadingHead;
  uint64_t request_seq_ = 0;  // identifies the request a Responder belongs to
  uint64_t requests_served_ = 0;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool is_head_ = false;
  bool close_after_write_ = false;
  bool inflight_counted_ = false;
  bool stop_requested_ = false;
  std::string cors_origin_;  // Access-Control-Allow-Origin for the current request; empty = none
  std::string current_method_;
  std::string current_path_;
};

std::string FormatEndpoint(std::string_view host, uint16_t port) {
  if (host.find(':') != std::string_view::npos) {
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

ConnectionSlot& ConnectionSlot::operator=(ConnectionSlot&& other) noexcept {
  if (this != &other) {
    if (counter_) counter_->fetch_sub(1);
    counter_ = std::move(other.counter_);
  }
  return *this;
}

ConnectionSlot::~ConnectionSlot() {
  if (counter_) counter_->fetch_sub(1);
}

ConnectionSlot ConnectionSlot::TryAcquire(std::shared_ptr<std::atomic<size_t>> counter,
                                          size_t max) {
  size_t current = counter->load();
  while (current < max) {
    if (counter->compare_exchange_weak(current, current + 1)) return ConnectionSlot(std::move(counter));
  }
  return ConnectionSlot();
}

struct HttpServer::Impl {
  Impl(const HttpServerOptions& options, std::shared_ptr<Router> router)
      : shared(std::make_shared<ServerShared>(options, std::move(router))),
        ioc(options.io_threads),
        acceptor(asio::make_strand(ioc)),
        accept_retry_timer(acceptor.get_executor()) {}

  void DoAccept() {
    acceptor.async_accept(asio::make_strand(ioc),
                          [this](beast::error_code ec, tcp::socket socket) {
                            OnAccept(ec, std::move(socket));
                          });
  }

  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Typically out of file descriptors: back off briefly instead of spinning.
      spdlog::warn("Accept failed: {}; retrying in 50 ms", ec.message());
      accept_retry_timer.expires_after(std::chrono::milliseconds(50));
      accept_retry_timer.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor.is_open()) DoAccept();
      });
      return;
    }
    HandleNewSocket(std::move(socket));
    DoAccept();
  }

  void HandleNewSocket(tcp::socket socket) {
    beast::error_code ec;
    tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) return;  // already disconnected
    socket.set_option(tcp::no_delay(true), ec);
    asio::ip::address address = peer.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    const auto& opts = shared->options;
    ConnectionSlot slot = ConnectionSlot::TryAcquire(shared->open_connections, opts.max_connections);
    const bool admitted = slot.held();
    auto conn = std::make_shared<Connection>(shared, std::move(socket), address.to_string(),
                                             address.is_loopback(), std::move(slot));
    if (!shared->Register(conn)) return;  // Stop has begun: the socket closes with conn
    if (admitted) {
      asio::post(conn->executor(), [conn] { conn->Start(); });
    } else {
      size_t current = shared->open_connections->load();
      asio::post(conn->executor(), [conn, current] { conn->Reject(current); });
    }
  }

  void RunIoThread() {
    for (;;) {
      try {
        ioc.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("Exception escaped an HTTP I/O handler: {}", e.what());
      } catch (...) {
        spdlog::error("Non-standard exception escaped an HTTP I/O handler");
      }
    }
    std::lock_guard lock(exit_mu);
    ++exited_threads;
    exit_cv.notify_all();
  }

  std::shared_ptr<ServerShared> shared;
  asio::io_context ioc;
  tcp::acceptor acceptor;             // used only on its strand once the threads run
  asio::steady_timer accept_retry_timer;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  uint16_t port = 0;

  std::mutex stop_mu;  // serializes Stop
  bool stopped = false;  // guarded by stop_mu

  std::mutex exit_mu;
  std::condition_variable exit_cv;
  size_t exited_threads = 0;  // guarded by exit_mu
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      std::shared_ptr<Router> router) {
  if (!router) return Status::InvalidArgument("HttpServer needs a router");
  if (options.io_threads < 1) {
    return Status::InvalidArgument("HttpServer io_threads must be >= 1 (got " +
                                   std::to_string(options.io_threads) + ")");
  }
  if (options.max_connections < 1) {
    return Status::InvalidArgument("HttpServer max_connections must be >= 1");
  }
  auto impl = std::make_unique<Impl>(options, std::move(router));
  const std::string where = FormatEndpoint(options.host, options.port);

  beast::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options.port);
  } else {
    tcp::resolver resolver(impl->ioc);
    auto results = resolver.resolve(options.host, std::to_string(options.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return Status::IoError("Cannot bind " + where + ": " +
                             (ec ? ec.message() : std::string("host not found")));
    }
    endpoint = results.begin()->endpoint();
  }

  auto& acceptor = impl->acceptor;
  auto fail = [&](beast::error_code e) {
    return Status::IoError("Cannot bind " + where + ": " + e.message());
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return fail(ec);
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec); ec) return fail(ec);
  if (acceptor.bind(endpoint, ec); ec) return fail(ec);
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) return fail(ec);
  impl->port = acceptor.local_endpoint(ec).port();
  if (ec) return fail(ec);

  impl->work.emplace(impl->ioc.get_executor());
  impl->DoAccept();
  Impl* raw = impl.get();
  impl->threads.reserve(static_cast<size_t>(options.io_threads));
  for (int i = 0; i < options.io_threads; ++i) {
    impl->threads.emplace_back([raw] { raw->RunIoThread(); });
  }
  spdlog::info("HTTP server listening on {}", FormatEndpoint(options.host, impl->port));
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

size_t HttpServer::open_connections() const { return impl_->shared->open_connections->load(); }

void HttpServer::SetUpgradeHook(UpgradeHook hook) {
  std::shared_ptr<const UpgradeHook> next;
  if (hook.accepts || hook.handler) next = std::make_shared<const UpgradeHook>(std::move(hook));
  std::lock_guard lock(impl_->shared->hook_mu);
  impl_->shared->hook = std::move(next);
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  Impl& impl = *impl_;
  std::lock_guard stop_lock(impl.stop_mu);
  if (impl.stopped) return;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  ServerShared& shared = *impl.shared;

  // 1. Stop accepting; tell every connection (idle ones close at once).
  std::vector<std::weak_ptr<Connection>> targets = shared.BeginStop();
  asio::post(impl.acceptor.get_executor(), [&impl] {
    beast::error_code ec;
    impl.acceptor.close(ec);
    impl.accept_retry_timer.cancel();
  });
  for (const auto& weak : targets) {
    if (auto conn = weak.lock()) asio::post(conn->executor(), [conn] { conn->OnServerStop(); });
  }

  // 2. Let in-flight requests write their responses, up to the grace period.
  {
    std::unique_lock lock(shared.inflight_mu);
    shared.inflight_cv.wait_until(lock, deadline, [&] { return shared.inflight.load() == 0; });
  }

  // 3. Close everything left and let the I/O threads finish.
  for (const auto& weak : shared.Snapshot()) {
    if (auto conn = weak.lock()) asio::post(conn->executor(), [conn] { conn->ForceClose(); });
  }
  impl.work.reset();
  {
    std::unique_lock lock(impl.exit_mu);
    impl.exit_cv.wait_for(lock, kThreadExitWait,
                          [&] { return impl.exited_threads == impl.threads.size(); });
  }
  impl.ioc.stop();
  for (auto& thread : impl.threads) {
    if (thread.joinable()) thread.join();
  }

  // 4. From now on Responders do nothing.
  {
    std::unique_lock gate(shared.gate_mu);
    shared.gate_open = false;
  }
  impl.stopped = true;
}

}  // namespace kalam::net
