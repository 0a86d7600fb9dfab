// HttpServer: the HTTP/1.1 front door (Boost.Beast on Asio). It parses requests on a few I/O
// threads, hands each to a Router, writes the response the handler produces, and enforces the
// request-level guards of PROTOCOL.md §1 (body size, connection cap, CORS). It knows nothing about
// SQL.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/status.h"
#include "net/http_types.h"
#include "net/router.h"

namespace kalam::net {

// Settings of one HttpServer. Read once by Start; later changes have no effect.
struct HttpServerOptions {
  // Address to listen on: an IPv4/IPv6 literal or a host name. Default: "127.0.0.1".
  std::string host = "127.0.0.1";
  // TCP port; 0 picks a free port (see HttpServer::port()). Default: 8080.
  uint16_t port = 8080;
  // Threads that parse requests and write responses (never run SQL). Must be >= 1. Default: 2.
  int io_threads = 2;
  // Largest request body accepted; larger → 413 BODY_TOO_LARGE and the connection is closed.
  // Default: 1 MiB.
  size_t max_body_bytes = 1 << 20;
  // Largest multipart/form-data body (file uploads), when above max_body_bytes. Default: 0
  // (max_body_bytes applies).
  size_t max_multipart_body_bytes = 0;
  // When set, a multipart/form-data body is written to a file in this directory as it arrives
  // (HttpRequest::body_file) instead of into memory. Default: empty (bodies are kept in memory).
  std::string spool_dir;
  // Largest request head (request line + headers); larger → 431 and the connection is closed.
  // Default: 64 KiB (JWTs and cookies make heads larger than Beast's 8 KiB default).
  size_t max_header_bytes = 64 << 10;
  // Open connections (including WebSocket connections handed over through the upgrade hook)
  // beyond which a new connection gets 503 TOO_MANY_CONNECTIONS and is closed. Must be >= 1.
  // Default: 10000.
  size_t max_connections = 10000;
  // How long an idle keep-alive connection may wait for (and send the head of) its next request
  // before it is closed. Default: 75 s.
  std::chrono::seconds keep_alive_timeout{75};
  // Time allowed for each phase of a request: receiving the head of a new connection's first
  // request, receiving a body, the handler's response, and writing it. When it runs out the
  // connection is closed without a response. Default: 30 s.
  std::chrono::seconds request_timeout{30};
  // Origins allowed to make cross-origin requests. Empty: no CORS headers at all. "*" allows any
  // origin (and is what Access-Control-Allow-Origin then says; credentials are only allowed for
  // origins listed by name). Default: empty.
  std::vector<std::string> cors_allowed_origins;
  // Access-Control-Max-Age sent with a preflight answer. Default: 3600 s.
  std::chrono::seconds cors_max_age{3600};
};

// Counts one open connection against HttpServerOptions::max_connections for as long as it lives;
// an empty slot counts nothing. Move-only. Thread-safe (the count is atomic).
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(ConnectionSlot&& other) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot();

  // Takes one slot of `counter` if fewer than `max` are taken; else returns an empty slot.
  static ConnectionSlot TryAcquire(std::shared_ptr<std::atomic<size_t>> counter, size_t max);

  // True when this slot counts a connection.
  bool held() const { return counter_ != nullptr; }

 private:
  explicit ConnectionSlot(std::shared_ptr<std::atomic<size_t>> counter)
      : counter_(std::move(counter)) {}

  std::shared_ptr<std::atomic<size_t>> counter_;
};

// An HTTP request asking to switch protocols (WebSocket), handed over with its socket. The new
// owner finishes the handshake (e.g. `websocket::stream<tcp_stream>(std::move(stream))` then
// `async_accept(raw)`).
struct UpgradeRequest {
  // The request in plain form (path, headers, peer address).
  HttpRequest request;
  // The request as Beast parsed it, as the WebSocket handshake needs it.
  boost::beast::http::request<boost::beast::http::string_body> raw;
  // The connection. Its executor is the connection's strand on the server's io_context, so it
  // must be closed and destroyed before the HttpServer is (HttpServer::Stop does not know about
  // it): close upgraded connections first at shutdown.
  boost::beast::tcp_stream stream;
  // Bytes the client sent after the request head, already read from the socket.
  boost::beast::flat_buffer buffer;
  // Keeps counting this connection against max_connections until destroyed.
  ConnectionSlot slot;
};

// Extension point for protocol upgrades. A request with `Connection: upgrade` +
// `Upgrade: websocket` on a path `accepts` returns true for is passed to `handler` on the
// connection's strand (an I/O thread: do not block) and the server forgets the connection.
struct UpgradeHook {
  std::function<bool(std::string_view path)> accepts;
  std::function<void(UpgradeRequest&&)> handler;
};

// An HTTP/1.1 server with persistent connections. Each connection handles one request at a time
// (pipelined requests wait in the read buffer); the handler gets a Responder it may call from any
// thread, and the write is marshalled back onto the connection's strand. Guards, each closing the
// connection after its response: a body over max_body_bytes → 413 BODY_TOO_LARGE; more than
// max_connections open → 503 TOO_MANY_CONNECTIONS; malformed HTTP → 400; an oversized head → 431;
// a request or idle timeout → closed without a response.
// Every response carries `Server: kalamdb`. Thread-safe: all public methods may be called from any
// thread that is not one of its I/O threads.
class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. If the address cannot be bound, returns kIoError
  // ("Cannot bind 127.0.0.1:8080: Address already in use") and starts nothing; invalid options
  // give kInvalidArgument. `router` must not be modified afterwards.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   std::shared_ptr<Router> router);

  // Stop(0 ms) if Stop was not called.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port actually listened on (the chosen one when options.port was 0).
  uint16_t port() const;

  // Stops accepting and closes idle connections at once; requests already being handled finish
  // and their responses are written (with `Connection: close`) for up to `grace`; then every
  // remaining connection is closed and the I/O threads are joined. Responders called afterwards do
  // nothing. Idempotent; blocks until done. Must not be called from an I/O thread (a handler).
  void Stop(std::chrono::milliseconds grace);

  // Installs (or, with an empty hook, removes) the protocol-upgrade extension point. Without a hook
  // accepting the path, an upgrade request gets 404 NOT_FOUND on an unknown path, else
  // 400 BAD_REQUEST. May be called at any time; applies to requests parsed afterwards.
  void SetUpgradeHook(UpgradeHook hook);

  // Connections currently counted against max_connections (a snapshot, for metrics).
  size_t open_connections() const;

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace kalam::net
