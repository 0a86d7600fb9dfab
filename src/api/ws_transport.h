// WsTransport: the transport half of `GET /v1/ws` (PROTOCOL.md §4): WebSocket handshake on a
// socket handed over by net::HttpServer, authentication (Bearer header or in-band `authenticate`),
// keep-alive, per-connection limits, gzip framing and close codes. What the messages mean
// (subscribe, next_batch, unsubscribe) is left to a WsApplication, the live-query service.
//
// Wiring (server.cc), once AuthService and the live-query service exist:
//
//   api::WsTransportOptions wo;
//   wo.auth_timeout = std::chrono::seconds(config.websocket.auth_timeout_secs);
//   wo.client_timeout = std::chrono::seconds(config.websocket.client_timeout_secs);
//   wo.max_message_bytes = config.security.max_ws_message_size;
//   wo.max_messages_per_sec = config.rate_limit.max_messages_per_sec;
//   wo.outbound_queue_messages = config.websocket.outbound_queue_messages;
//   // live_service implements WsApplication.
//   ws = std::make_unique<api::WsTransport>(wo, *auth, *live_service);
//   http->SetUpgradeHook(ws->Hook());
//   ...
//   // Stop(): WebSocket connections first (their sockets live on the HTTP server's io_context),
//   // then the HTTP server, then the application and the worker pool.
//   ws->Shutdown();
//   http->Stop(std::chrono::seconds(10));
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "api/auth_service.h"
#include "common/gzip.h"
#include "net/http_server.h"

namespace kalam::api {

// Close codes the transport and its application use (RFC 6455 §7.4.1).
inline constexpr uint16_t kWsCloseNormal = 1000;         // heartbeat timeout, application close
inline constexpr uint16_t kWsCloseGoingAway = 1001;      // server shutdown
inline constexpr uint16_t kWsClosePolicy = 1008;         // authentication failure
inline constexpr uint16_t kWsCloseTooBig = 1009;         // message over max_message_bytes
inline constexpr uint16_t kWsCloseInternalError = 1011;  // invalid message (protocol error)

// Outbound slots beyond WsTransportOptions::outbound_queue_messages that only
// WsConnection::SendControl (and the transport's own replies) may use.
inline constexpr size_t kWsControlReserveMessages = 16;

// One server→client message: `head`, then `tail`'s text if any (complete JSON together). A
// connection that compresses gzips the tail once for all the messages that share it.
struct WsMessage {
  std::string head;
  std::shared_ptr<const SharedTail> tail;
};

// One accepted, authenticated WebSocket connection, as the application sees it. A handle: it
// stays valid (and cheap) after the connection is gone, when Send returns false and Close does
// nothing. Thread-safe: every method may be called from any thread.
class WsConnection {
 public:
  virtual ~WsConnection() = default;

  // Unique per WsTransport (one per server process), counting from 1 in upgrade order. Failed
  // handshakes and authentications use up ids too, so opened connections may skip numbers.
  virtual uint64_t id() const = 0;

  // Who authenticated the connection. Fixed for the connection's life.
  virtual const Principal& principal() const = 0;

  // Queues one server→client JSON message (complete JSON text). Messages of
  // WsTransportOptions::compress_min_bytes (512) or more are gzip-compressed here, on the calling
  // thread, and sent as binary frames unless the upgrade URL had `?compress=false` (or the
  // in-band `authenticate` asked for `"compression":"none"`); smaller ones go as text frames.
  // Messages are written in the order their Send calls returned true.
  // Returns false, and does not queue the message, when the outbound queue already holds
  // outbound_queue_messages messages (the application must then report SUBSCRIBER_LAGGING with
  // SendControl and stop feeding that subscription), or when the connection is closing or
  // closed.
  virtual bool Send(std::string json) = 0;

  // Send for several messages at once (one lock, at most one wake-up of the writer, so they
  // tend to leave in one write): queues the longest prefix of `messages` that fits and returns
  // its length; the rest are refused exactly as Send would refuse them. Every message is consumed
  // (moved from), queued or not. A message with a tail is compressed (when it is compressed)
  // from its head and the tail's shared deflate.
  virtual size_t SendMany(std::vector<WsMessage>& messages) = 0;

  // Like Send, but may also use a reserve of kWsControlReserveMessages slots beyond
  // outbound_queue_messages, so a notice such as SUBSCRIBER_LAGGING still fits behind a full
  // queue (the transport's own replies, pong and errors, use the reserve too). Returns false
  // when the reserve is used up as well (the client reads nothing: Close it) or the connection is
  // closing or closed.
  virtual bool SendControl(std::string json) = 0;

  // Starts closing: messages queued before this call are written first, then the close frame
  // with `code` (1000, 1001, 1008 or 1011) and `reason` (cut to 123 bytes). Later Sends return
  // false; OnClose follows. Idempotent: only the first close (of the application's or the
  // transport's) counts.
  virtual void Close(uint16_t code, std::string reason) = 0;
};

// The application behind the transport (the live-query service). Every call is made on the
// connection's I/O strand, so calls for one connection never overlap and arrive in this order:
// OnOpen, any number of OnMessage, OnClose. They run on I/O threads: they must not block (hand
// SQL and storage work to the worker pool) and must not throw.
class WsApplication {
 public:
  virtual ~WsApplication() = default;

  // A connection authenticated; its auth_success is already queued, so anything the application
  // Sends comes after it. The application may keep `conn` as long as it likes.
  virtual void OnOpen(const std::shared_ptr<WsConnection>& conn) = 0;

  // A client message whose `type` is "subscribe", "next_batch" or "unsubscribe": valid JSON, an
  // object, within the size and rate limits. Its other fields are unchecked.
  virtual void OnMessage(const std::shared_ptr<WsConnection>& conn,
                         boost::json::object message) = 0;

  // The connection opened by OnOpen is closing or closed (by the client, the network, a limit, an
  // application Close or Shutdown): drop its subscriptions. Called exactly once per OnOpen; Send
  // on it returns false from now on.
  virtual void OnClose(uint64_t connection_id) = 0;
};

// Settings of one WsTransport. Read once by the constructor.
struct WsTransportOptions {
  // Time a client that sent no Authorization header on the upgrade has to send its `authenticate`
  // message; then `auth_error` ("… within N seconds") and close 1008.
  // websocket.auth_timeout_secs. Must be > 0. Default: 3 s.
  std::chrono::seconds auth_timeout{3};
  // Silence (no frame of any kind, including WebSocket pings) after which an authenticated
  // connection is closed with 1000 "Heartbeat timeout". websocket.client_timeout_secs. Must be
  // > 0. Default: 10 s.
  std::chrono::seconds client_timeout{10};
  // Largest client message, in bytes, as received and (for gzip binary frames) once inflated.
  // Larger → {"type":"error","code":"MESSAGE_TOO_LARGE",…} then close 1009.
  // security.max_ws_message_size. Must be > 0. Default: 1 MiB.
  size_t max_message_bytes = 1 << 20;
  // Client messages per second per authenticated connection (a token bucket: bursts of this
  // many); more → {"type":"error","code":"RATE_LIMIT_EXCEEDED",…} and the message is dropped.
  // rate_limit.max_messages_per_sec. 0 = unlimited. Default: 50.
  uint32_t max_messages_per_sec = 50;
  // Server→client messages that may wait per connection, counting the one being written.
  // websocket.outbound_queue_messages. Must be >= 1. Default: 1024.
  size_t outbound_queue_messages = 1024;
  // Server messages this large or larger are gzip-compressed into binary frames (when the
  // client did not opt out). Default: 512 bytes (PROTOCOL.md §4).
  size_t compress_min_bytes = 512;
  // Time allowed for the opening handshake, and for a closing connection to flush its queue and
  // finish the closing handshake, before its socket is simply closed. Default: 5 s.
  std::chrono::milliseconds close_timeout{5000};
};

// Serves WebSocket connections upgraded by net::HttpServer. Thread-safe. `auth` and `app` must
// outlive it. Sockets live on the HTTP server's io_context, so Shutdown (or the destructor) must
// run before HttpServer::Stop.
class WsTransport {
 public:
  WsTransport(WsTransportOptions options, AuthService& auth, WsApplication& app);

  // Shutdown().
  ~WsTransport();

  WsTransport(const WsTransport&) = delete;
  WsTransport& operator=(const WsTransport&) = delete;

  // The hook to install with HttpServer::SetUpgradeHook: accepts `/v1/ws` and `/ws`. After
  // Shutdown it drops new upgrades (their sockets are closed). The hook keeps the transport's
  // shared state alive, but must not be invoked after the transport is destroyed.
  net::UpgradeHook Hook();

  // Closes every connection with 1001 "Server shutting down" (messages not yet written are
  // dropped; clients resume with `from`) and waits until all are gone, at most close_timeout
  // plus a second (then logs an error). New upgrades are refused from now on. Idempotent. Must
  // not be called from an I/O thread of the HTTP server.
  void Shutdown();

  // WebSocket connections alive now, in any state (handshake, authenticating, open, closing).
  size_t open_connections() const;

  struct Core;  // shared with the connections; defined in ws_transport.cc

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace kalam::api
