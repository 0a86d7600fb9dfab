// WsTransport: KalamDB's side of `GET /v1/ws` (PROTOCOL.md §4) over the generic WebSocket
// sessions of net/ws_session.h: the paths `/v1/ws` and `/ws`, authentication (Bearer header or
// in-band `authenticate`, within auth_timeout), `?compress=false`, `ping`, and handing
// `subscribe` / `next_batch` / `unsubscribe` to a WsApplication, the live-query service. The
// socket itself (limits, queue, gzip framing, keep-alive, close codes) is net::WsServer's.
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
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "api/auth_service.h"
#include "live/live_manager.h"
#include "net/http_server.h"
#include "net/ws_session.h"

namespace kalam::api {

using net::kWsControlReserveMessages;
using net::WsMessage;

// One authenticated WebSocket connection, as the application sees it: a net::WsConnection (see
// there for Send, SendMany, SendControl and Close: messages are complete JSON text) that knows
// who authenticated it, and live's sink for the connection, so the live-query service is handed
// the connection itself. A handle: it stays valid (and cheap) after the connection is gone, when
// Send returns false and Close does nothing. Thread-safe: every method may be called from any
// thread.
//
// Send, SendMany and SendControl are refused (false) when the outbound queue is full: the
// application must then report SUBSCRIBER_LAGGING with SendControl and stop feeding that
// subscription. Messages of compress_min_bytes (512) or more are gzipped into binary frames unless
// the upgrade URL had `?compress=false` (or the in-band `authenticate` asked for
// `"compression":"none"`). Close codes: 1000, 1001, 1008 or 1011.
class WsConnection : public net::WsConnection, public live::LiveSink {
 public:
  // Who authenticated the connection. Fixed for the connection's life.
  virtual const Principal& principal() const = 0;

  // One set of send methods for the application and for live alike (net::WsConnection's).
  bool Send(std::string json) override = 0;
  size_t SendMany(std::vector<WsMessage>& messages) override = 0;
  bool SendControl(std::string json) override = 0;
  void Close(uint16_t code, std::string reason) override = 0;
  uint64_t connection_id() const override { return id(); }
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

// Settings of one WsTransport, from the server's configuration. Read once by the constructor.
// Each maps to the net::WsSessionOptions field of the same name (see there), except auth_timeout.
struct WsTransportOptions {
  // Time a client that sent no Authorization header on the upgrade has to send its `authenticate`
  // message; then `auth_error` ("… within N seconds") and close 1008 (the session's open_timeout).
  // websocket.auth_timeout_secs. Must be > 0. Default: 3 s.
  std::chrono::seconds auth_timeout{3};
  // websocket.client_timeout_secs: close 1000 "Heartbeat timeout". Default: 10 s.
  std::chrono::seconds client_timeout{10};
  // security.max_ws_message_size: MESSAGE_TOO_LARGE, then close 1009. Default: 1 MiB.
  size_t max_message_bytes = 1 << 20;
  // rate_limit.max_messages_per_sec: subscribe, unsubscribe and authenticate messages of an open
  // connection beyond it (a token bucket: bursts of this many) get RATE_LIMIT_EXCEEDED and are
  // dropped; ping and next_batch never are. 0 = unlimited. Default: 50.
  uint32_t max_messages_per_sec = 50;
  // websocket.outbound_queue_messages. Must be >= 1. Default: 1024.
  size_t outbound_queue_messages = 1024;
  // Default: 512 bytes (PROTOCOL.md §4).
  size_t compress_min_bytes = 512;
  // Default: 5 s.
  std::chrono::milliseconds close_timeout{5000};
};

// Serves `/v1/ws` connections upgraded by net::HttpServer. Thread-safe. `auth` and `app` must
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
  // Shutdown it drops new upgrades (their sockets are closed). It must not be invoked after the
  // transport is destroyed.
  net::UpgradeHook Hook();

  // Closes every connection with 1001 "Server shutting down" (messages not yet written are
  // dropped; clients resume with `from`) and waits until all are gone (net::WsServer::Shutdown).
  // New upgrades are refused from now on. Idempotent. Must not be called from an I/O thread of
  // the HTTP server.
  void Shutdown();

  // WebSocket connections alive now, in any state (handshake, authenticating, open, closing).
  size_t open_connections() const;

  class Service;  // the handshake and dispatch of each connection; defined in ws_transport.cc

 private:
  std::unique_ptr<Service> service_;
  net::WsServer server_;
};

}  // namespace kalam::api
