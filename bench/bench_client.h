// bench_client: the HTTP/1.1 keep-alive and WebSocket clients the benchmark tools share
// (kalam_load, live_bench, parity_bench). They talk to a running kalamdb-server the way any user's
// client does: JSON over POST /v1/api/sql, live queries over /v1/ws.
//
// None of these classes is thread-safe: each thread owns its clients.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/json.hpp>

namespace kalam::bench {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::string port = "8080";
};

// Splits "http://host:port" (or "host:port") into an Endpoint; false if it has no port.
bool ParseUrl(std::string_view url, Endpoint* out);

struct HttpResponse {
  int status = 0;    // HTTP status; 0 = transport failure (`body` then says what failed)
  std::string body;  // response body
};

// A synchronous HTTP/1.1 keep-alive connection (TCP_NODELAY). Connects on first use and
// reconnects once when the server closed an idle keep-alive connection.
class HttpClient {
 public:
  explicit HttpClient(Endpoint endpoint);
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs a JSON `body` to `target` with the bearer token (if set).
  HttpResponse Post(std::string_view target, const std::string& body);

  void set_token(std::string token) { token_ = std::move(token); }
  const std::string& token() const { return token_; }
  const Endpoint& endpoint() const { return endpoint_; }

 private:
  bool EnsureConnected(std::string* error);
  bool RoundTrip(std::string_view target, const std::string& body, HttpResponse* out);

  Endpoint endpoint_;
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  std::string token_;
};

// The request body of POST /v1/api/sql.
std::string SqlBody(std::string_view sql, const boost::json::array* params = nullptr);

// The parsed answer of POST /v1/api/sql.
struct SqlResult {
  int http_status = 0;
  bool ok = false;    // HTTP 200 and "status":"success"
  std::string error;  // when !ok: "CODE: message" (or the transport error)
  boost::json::value json;

  // Result `i` (one per statement that returned rows or a message); null if absent.
  const boost::json::object* result(size_t i = 0) const;
  // Rows of result `i` (arrays in schema order); an empty array if it has none.
  const boost::json::array& rows(size_t i = 0) const;
  int64_t row_count(size_t i = 0) const;  // -1 if absent
  bool truncated(size_t i = 0) const;
  std::string message(size_t i = 0) const;
};

// Runs `sql` (with `params`) on `client`.
SqlResult RunSql(HttpClient& client, std::string_view sql,
                 const boost::json::array* params = nullptr);
// Parses an answer of POST /v1/api/sql.
SqlResult ParseSqlResponse(const HttpResponse& res);

// One request on each of many keep-alive connections at the same time, driven by one thread with
// poll(), so the client costs little next to the server (1,000 concurrent queries on 2 cores).
class HttpBurst {
 public:
  HttpBurst(Endpoint endpoint, std::string token);
  ~HttpBurst();
  HttpBurst(const HttpBurst&) = delete;
  HttpBurst& operator=(const HttpBurst&) = delete;

  // Opens `n` connections (TCP_NODELAY); kept for every Run.
  bool Connect(int n, std::string* error);
  // POSTs bodies[i] to `target` on connection i, all at once, and waits for every answer.
  bool Run(std::string_view target, const std::vector<std::string>& bodies,
           std::vector<HttpResponse>* out, std::chrono::milliseconds timeout, std::string* error);
  int size() const { return static_cast<int>(fds_.size()); }

 private:
  Endpoint endpoint_;
  std::string token_;
  std::vector<int> fds_;
};

// POST /v1/api/auth/login; on success stores the access token in `client` and returns true.
// `*status` gets the HTTP status (429 = rate limited).
bool Login(HttpClient& client, std::string_view user, std::string_view password, int* status,
           std::string* error);

// A JSON value as text: strings unquoted (BIGINT travels as a string), others serialized.
std::string ValueText(const boost::json::value& v);

// RFC 6455 framing. A masked client→server frame; opcode 1 = text, 8 = close, 9 = ping.
std::string ClientFrame(std::string_view payload, uint8_t opcode);
// One complete server frame at the front of [p, p+n): returns its size (0 if incomplete) and
// sets its opcode and payload; `need` is the size the whole frame needs once its header is known.
size_t ParseFrame(const char* p, size_t n, int* opcode, std::string_view* payload, size_t* need);

// A blocking WebSocket client on /v1/ws over a plain socket (TCP_NODELAY), reads bounded by
// poll() timeouts. Text messages only: it connects with ?compress=false.
class WsClient {
 public:
  WsClient() = default;
  ~WsClient();  // closes the socket without a handshake
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // TCP connect, upgrade with `Authorization: Bearer token`, wait for auth_success.
  bool Connect(const Endpoint& endpoint, std::string_view token,
               std::chrono::milliseconds timeout, std::string* error);
  bool SendText(std::string_view text, std::string* error);
  // The next text message (pings and pongs skipped). False on timeout, close or error.
  bool Read(std::string* message, std::chrono::milliseconds timeout, std::string* error);
  // Reads whatever the socket holds now (never blocks) and appends the complete text messages.
  // False once the connection failed or the server closed it.
  bool ReadAvailable(std::vector<std::string>* messages, std::string* error);
  // The closing handshake: sends a close frame, waits for the server's, closes the socket.
  bool Close(std::chrono::milliseconds timeout, std::string* error);

  int fd() const { return fd_; }

 private:
  bool WriteAll(std::string_view data, std::string* error);
  // Extracts complete frames from buf_; text payloads go to `messages`. False on a close frame.
  bool Drain(std::vector<std::string>* messages, bool* closed);
  bool Fill(std::chrono::milliseconds timeout, std::string* error);  // one read() into buf_

  int fd_ = -1;
  std::string buf_;
  std::vector<std::string> pending_;  // complete messages not handed out yet
  size_t pending_pos_ = 0;
};

// Subscribes on an open connection: sends `subscribe` (with `options` {} = snapshot first, or
// none = changes only), reads the ack and, with a snapshot, every batch (sending next_batch while
// has_more), counting the rows. False on an error message or a timeout.
bool Subscribe(WsClient& ws, std::string_view id, std::string_view sql, bool snapshot,
               std::chrono::milliseconds timeout, int64_t* snapshot_rows, std::string* error);

}  // namespace kalam::bench
