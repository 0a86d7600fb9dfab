// WebSocket server sessions (RFC 6455) on sockets upgraded by net::HttpServer: the opening
// handshake, reading client messages (size limit, gzip binary frames inflated, rate limit),
// a bounded outbound queue written in batches and gzipped above a size, keep-alive, an "open"
// deadline, and the closing handshake. What the messages mean, who the peer is and whether it may
// stay is decided by the owner through WsService and one WsHandler per connection; this layer
// knows no message format beyond "text".
//
// A connection is first "pending": it is accepted, its handler sees every message, and it must
// be opened (WsSession::Open, e.g. once the peer authenticated) within
// WsSessionOptions::open_timeout or be closed. Once open it has a WsConnection handle that any
// thread may send through, its messages count against the rate limit, and a silent peer is
// closed after client_timeout.
//
// Wiring:
//   net::WsServer ws(options, service);   // service: a WsService, outlives ws
//   http->SetUpgradeHook(ws.Hook());
//   ...
//   ws.Shutdown();                          // before http->Stop: sockets live on its io_context
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/gzip.h"
#include "net/http_server.h"
#include "net/http_types.h"

namespace kalam::net {

// Close codes (RFC 6455 §7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;         // heartbeat timeout, application close
inline constexpr uint16_t kWsCloseGoingAway = 1001;      // server shutdown
inline constexpr uint16_t kWsClosePolicy = 1008;         // policy violation (not authenticated)
inline constexpr uint16_t kWsCloseTooBig = 1009;         // message over max_message_bytes
inline constexpr uint16_t kWsCloseInternalError = 1011;  // invalid message (protocol error)

// Outbound slots beyond WsSessionOptions::outbound_queue_messages that only
// WsConnection::SendControl (and WsSession::Reply) may use.
inline constexpr size_t kWsControlReserveMessages = 16;

// One server→client message: `head`, then `tail`'s text if any. A connection that compresses
// gzips the tail once for all the messages that share it.
using WsMessage = TailedMessage;

// Settings of one WsServer, for all its connections. Read once by the constructor.
struct WsSessionOptions {
  // Time a connection has, from the end of its opening handshake, to be opened by its handler
  // (WsSession::Open); then WsHandler::OnOpenTimeout. Must be > 0. Default: 3 s.
  std::chrono::milliseconds open_timeout{3000};
  // Silence (no frame of any kind, including WebSocket pings) after which an open connection is
  // closed with 1000 "Heartbeat timeout". Must be > 0. Default: 10 s.
  std::chrono::milliseconds client_timeout{10000};
  // Largest client message, in bytes, as received and (for gzip binary frames) once inflated.
  // Larger → WsHandler::OnTooLarge, then close 1009 "Message too large". Must be > 0.
  // Default: 1 MiB.
  size_t max_message_bytes = 1 << 20;
  // Server→client messages that may wait per connection, counting the one being written.
  // Must be >= 1. Default: 1024.
  size_t outbound_queue_messages = 1024;
  // Server messages this large or larger are gzip-compressed into binary frames on connections
  // that compress (WsSession::set_compress). Default: 512 bytes.
  size_t compress_min_bytes = 512;
  // Time allowed for the opening handshake, and for a closing connection to flush its queue and
  // finish the closing handshake, before its socket is simply closed. Default: 5 s.
  std::chrono::milliseconds close_timeout{5000};
};

// An open WebSocket connection, as the code that feeds it sees it. A handle: it stays valid (and
// cheap) after the connection is gone, when Send returns false and Close does nothing.
// Thread-safe: every method may be called from any thread.
class WsConnection {
 public:
  virtual ~WsConnection() = default;

  // Unique per WsServer, counting from 1 in upgrade order. Failed handshakes and connections
  // never opened use up ids too, so open connections may skip numbers.
  virtual uint64_t id() const = 0;

  // Queues one server→client message (complete text). Messages of
  // WsSessionOptions::compress_min_bytes or more are gzip-compressed here, on the calling thread,
  // and sent as binary frames when the connection compresses; the others go as text frames.
  // Messages are written in the order their Send calls returned true.
  // Returns false, and does not queue the message, when the outbound queue already holds
  // outbound_queue_messages messages (the sender must then tell the peer with SendControl, or
  // Close), or when the connection is closing or closed.
  virtual bool Send(std::string text) = 0;

  // Send for several messages at once (one lock, at most one wake-up of the writer, so they
  // tend to leave in one write): queues the longest prefix of `messages` that fits and returns
  // its length; the rest are refused exactly as Send would refuse them. Every message is consumed
  // (moved from), queued or not. A message with a tail is compressed (when it is compressed)
  // from its head and the tail's shared deflate.
  virtual size_t SendMany(std::vector<WsMessage>& messages) = 0;

  // Like Send, but may also use a reserve of kWsControlReserveMessages slots beyond
  // outbound_queue_messages, so a notice still fits behind a full queue. Returns false when the
  // reserve is used up as well (the peer reads nothing: Close it) or the connection is closing or
  // closed.
  virtual bool SendControl(std::string text) = 0;

  // Starts closing: messages queued before this call are written first, then the close frame
  // with `code` and `reason` (cut to 123 bytes at a UTF-8 boundary). Later Sends return false;
  // WsHandler::OnClose follows. Idempotent: only the first close (of anyone's) counts.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// One connection as its handler sees it: only valid inside WsHandler calls (on the connection's
// strand), never to be kept. Not thread-safe.
class WsSession {
 public:
  virtual ~WsSession() = default;

  // The connection's id (WsConnection::id).
  virtual uint64_t id() const = 0;

  // Whether outbound messages of compress_min_bytes or more are gzipped (default: true).
  // set_compress is ignored once the connection is open (other threads compress for it then).
  virtual bool compress() const = 0;
  virtual void set_compress(bool compress) = 0;

  // Opens a pending connection: from now on client messages count against the rate limit and
  // keep-alive applies, and it has a handle for other threads. Returns the handle (the same one
  // if already open). WsHandler::OnClose will follow, exactly once.
  virtual std::shared_ptr<WsConnection> Open() = 0;
  virtual bool is_open() const = 0;

  // Queues a message of the session's own (answers, errors), in the control reserve. False when
  // even the reserve is full, or the connection is closing.
  virtual bool Reply(std::string text) = 0;

  // Flushes what is queued, then closes with `code` and `reason`. Idempotent.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// What one connection means: made by WsService::NewHandler for each upgrade and owned by the
// connection. Every call is made on the connection's strand, so calls never overlap, in this
// order: OnHandshake, then any of OnMessage / OnTooLarge / OnOpenTimeout, and
// OnClose once if it was opened. They run on I/O threads: they must not block (hand slow work to
// a worker pool) and must not throw.
class WsHandler {
 public:
  virtual ~WsHandler() = default;

  // The opening handshake completed (the 101 is sent). The handler may Open, Close or Reply now,
  // or wait for messages; a connection neither open nor closing afterwards gets open_timeout.
  virtual void OnHandshake(WsSession& session) = 0;

  // One complete client message within max_message_bytes: a text frame's payload, or a binary
  // frame's gzip inflated. Pending connections see every message; open ones those within the
  // rate limit. Not validated further (may even be invalid UTF-8).
  virtual void OnMessage(WsSession& session, std::string_view text) = 0;

  // The connection was not opened within open_timeout. The handler should Close it; a
  // connection still pending after this call is closed with 1008.
  virtual void OnOpenTimeout(WsSession& session) = 0;

  // A client message exceeded max_message_bytes. The session closes with 1009 right after this
  // call (what the handler Replies now is written first).
  virtual void OnTooLarge(WsSession& session) = 0;


  // The open connection is closing or closed (by the peer, the network, a limit, a Close or
  // Shutdown). Its handle's Send returns false from now on.
  virtual void OnClose(WsSession& session) = 0;
};

// The owner of a WsServer's connections: which upgrades it takes, and a handler for each.
// Must outlive the WsServer. Its methods run on I/O threads, possibly several at once: they must
// be thread-safe, and must not block or throw.
class WsService {
 public:
  virtual ~WsService() = default;

  // True when an upgrade to `path` is a WebSocket connection of this service.
  virtual bool Accepts(std::string_view path) const = 0;

  // The handler of a new connection upgraded with `request` (its path accepted), before the
  // handshake. Must not return null.
  virtual std::unique_ptr<WsHandler> NewHandler(const HttpRequest& request) = 0;
};

// Serves WebSocket connections upgraded by net::HttpServer. Thread-safe. Sockets live on the HTTP
// server's io_context, so Shutdown (or the destructor) must run before HttpServer::Stop.
class WsServer {
 public:
  WsServer(WsSessionOptions options, WsService& service);

  // Shutdown().
  ~WsServer();

  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  // The hook to install with HttpServer::SetUpgradeHook: accepts the paths the service accepts.
  // After Shutdown it drops new upgrades (their sockets are closed). The hook keeps the server's
  // shared state alive, but must not be invoked after the server (or service) is destroyed.
  UpgradeHook Hook();

  // Closes every connection with 1001 "Server shutting down" (messages not yet written are
  // dropped) and waits until all are gone, at most close_timeout plus a second (then logs an
  // error). New upgrades are refused from now on. Idempotent. Must not be called from an I/O
  // thread of the HTTP server.
  void Shutdown();

  // WebSocket connections alive now, in any state (handshake, pending, open, closing).
  size_t open_connections() const;

  struct Core;  // shared with the connections; defined in ws_session.cc

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace kalam::net
