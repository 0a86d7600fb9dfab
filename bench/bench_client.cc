// bench_client: shared HTTP and WebSocket clients of the benchmark tools (see bench_client.h).
#include "bench_client.h"

#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

namespace kalam::bench {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

bool ParseUrl(std::string_view url, Endpoint* out) {
  if (url.starts_with("http://")) url.remove_prefix(7);
  if (url.starts_with("ws://")) url.remove_prefix(5);
  if (size_t slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  const size_t colon = url.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == url.size()) return false;
  out->host = std::string(url.substr(0, colon));
  out->port = std::string(url.substr(colon + 1));
  return !out->host.empty();
}

// ---- HTTP ----

HttpClient::HttpClient(Endpoint endpoint) : endpoint_(std::move(endpoint)), stream_(ioc_) {}

bool HttpClient::EnsureConnected(std::string* error) {
  if (connected_) return true;
  boost::system::error_code ec;
  tcp::resolver resolver(ioc_);
  auto results = resolver.resolve(endpoint_.host, endpoint_.port, ec);
  if (!ec) stream_.connect(results, ec);
  if (ec) {
    *error = "connect to " + endpoint_.host + ":" + endpoint_.port + " failed: " + ec.message();
    return false;
  }
  stream_.socket().set_option(tcp::no_delay(true), ec);  // best effort: only latency suffers
  connected_ = true;
  return true;
}

bool HttpClient::RoundTrip(std::string_view target, const std::string& body, HttpResponse* out) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, endpoint_.host);
  req.set(http::field::content_type, "application/json");
  if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
  req.body() = body;
  req.prepare_payload();
  boost::system::error_code ec;
  http::write(stream_, req, ec);
  http::response<http::string_body> res;
  if (!ec) http::read(stream_, buffer_, res, ec);
  if (ec) {
    out->status = 0;
    out->body = "HTTP " + std::string(target) + ": " + ec.message();
    stream_.socket().close(ec);  // a fresh connection for the next try
    buffer_.clear();
    connected_ = false;
    return false;
  }
  out->status = res.result_int();
  out->body = std::move(res.body());
  if (!res.keep_alive()) {
    stream_.socket().close(ec);  // the server said it closes; so do we
    buffer_.clear();
    connected_ = false;
  }
  return true;
}

HttpResponse HttpClient::Post(std::string_view target, const std::string& body) {
  HttpResponse out;
  const bool was_connected = connected_;
  if (!EnsureConnected(&out.body)) return out;
  if (RoundTrip(target, body, &out)) return out;
  // An idle keep-alive connection the server closed: one retry on a fresh connection.
  if (was_connected && EnsureConnected(&out.body)) RoundTrip(target, body, &out);
  return out;
}

std::string SqlBody(std::string_view sql, const json::array* params) {
  json::object o{{"sql", sql}};
  if (params) o["params"] = *params;
  return json::serialize(o);
}

const json::object* SqlResult::result(size_t i) const {
  const auto* o = json.if_object();
  if (!o) return nullptr;
  const auto* results = o->if_contains("results");
  if (!results || !results->is_array() || results->as_array().size() <= i) return nullptr;
  return results->as_array()[i].if_object();
}

const json::array& SqlResult::rows(size_t i) const {
  static const json::array kEmpty;
  const auto* r = result(i);
  const auto* rows = r ? r->if_contains("rows") : nullptr;
  return rows && rows->is_array() ? rows->as_array() : kEmpty;
}

int64_t SqlResult::row_count(size_t i) const {
  const auto* r = result(i);
  const auto* n = r ? r->if_contains("row_count") : nullptr;
  return n && n->is_int64() ? n->as_int64() : (n && n->is_uint64() ? n->as_uint64() : -1);
}

bool SqlResult::truncated(size_t i) const {
  const auto* r = result(i);
  const auto* t = r ? r->if_contains("truncated") : nullptr;
  return t && t->is_bool() && t->as_bool();
}

std::string SqlResult::message(size_t i) const {
  const auto* r = result(i);
  const auto* m = r ? r->if_contains("message") : nullptr;
  return m && m->is_string() ? std::string(m->as_string()) : std::string();
}

SqlResult RunSql(HttpClient& client, std::string_view sql, const json::array* params) {
  return ParseSqlResponse(client.Post("/v1/api/sql", SqlBody(sql, params)));
}

SqlResult ParseSqlResponse(const HttpResponse& res) {
  SqlResult r;
  r.http_status = res.status;
  if (res.status == 0) {
    r.error = res.body;
    return r;
  }
  boost::system::error_code ec;
  r.json = json::parse(res.body, ec);
  if (ec) {
    r.error = "HTTP " + std::to_string(res.status) + ", body is not JSON: " + res.body.substr(0, 200);
    return r;
  }
  const auto* o = r.json.if_object();
  const auto* status = o ? o->if_contains("status") : nullptr;
  r.ok = res.status == 200 && status && status->is_string() && status->as_string() == "success";
  if (!r.ok) {
    const auto* err = o ? o->if_contains("error") : nullptr;
    if (err && err->is_object()) {
      r.error = ValueText(err->as_object().contains("code") ? err->at("code") : json::value()) +
                ": " + ValueText(err->as_object().contains("message") ? err->at("message")
                                                                      : json::value());
    } else {
      r.error = "HTTP " + std::to_string(res.status) + ": " + res.body.substr(0, 200);
    }
  }
  return r;
}

bool Login(HttpClient& client, std::string_view user, std::string_view password, int* status,
           std::string* error) {
  HttpResponse res = client.Post(
      "/v1/api/auth/login", json::serialize(json::object{{"user", user}, {"password", password}}));
  *status = res.status;
  if (res.status != 200) {
    *error = "login failed (HTTP " + std::to_string(res.status) + "): " + res.body.substr(0, 200);
    return false;
  }
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  const auto* token = !ec && v.is_object() ? v.as_object().if_contains("access_token") : nullptr;
  if (!token || !token->is_string()) {
    *error = "login answer has no access_token: " + res.body.substr(0, 200);
    return false;
  }
  client.set_token(std::string(token->as_string()));
  return true;
}

std::string ValueText(const json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_null()) return "null";
  return json::serialize(v);
}

// ---- HttpBurst ----

namespace {

// A connected TCP socket (TCP_NODELAY) to `endpoint`, or -1 with *error set.
int ConnectSocket(const Endpoint& endpoint, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(endpoint.host.c_str(), endpoint.port.c_str(), &hints, &res); rc) {
    *error = std::string("resolve: ") + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    ::close(fd);
    fd = -1;
  }
  ::freeaddrinfo(res);
  if (fd < 0) {
    *error = std::string("connect failed: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Once `buf` holds a whole response (headers with Content-Length, then the body): its size and
// the parsed status and body; 0 while incomplete; SIZE_MAX if it cannot be parsed.
size_t ParseResponse(const std::string& buf, HttpResponse* out) {
  const size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  if (buf.compare(0, 9, "HTTP/1.1 ") != 0) return SIZE_MAX;
  const int status = std::atoi(buf.c_str() + 9);
  size_t length = SIZE_MAX;
  for (size_t pos = buf.find("\r\n") + 2; pos < head_end;) {
    const size_t eol = buf.find("\r\n", pos);
    std::string line = buf.substr(pos, eol - pos);
    for (size_t i = 0; i < line.size() && line[i] != ':'; ++i) line[i] = static_cast<char>(std::tolower(line[i]));
    if (line.starts_with("content-length:")) length = std::strtoull(line.c_str() + 15, nullptr, 10);
    pos = eol + 2;
  }
  if (length == SIZE_MAX) return SIZE_MAX;
  if (buf.size() < head_end + 4 + length) return 0;
  out->status = status;
  out->body = buf.substr(head_end + 4, length);
  return head_end + 4 + length;
}

}  // namespace

HttpBurst::HttpBurst(Endpoint endpoint, std::string token)
    : endpoint_(std::move(endpoint)), token_(std::move(token)) {}

HttpBurst::~HttpBurst() {
  for (int fd : fds_) ::close(fd);
}

bool HttpBurst::Connect(int n, std::string* error) {
  while (static_cast<int>(fds_.size()) < n) {
    int fd = ConnectSocket(endpoint_, error);
    if (fd < 0) return false;
    fds_.push_back(fd);
  }
  return true;
}

bool HttpBurst::Run(std::string_view target, const std::vector<std::string>& bodies,
                    std::vector<HttpResponse>* out, std::chrono::milliseconds timeout,
                    std::string* error) {
  const size_t n = bodies.size();
  if (n > fds_.size()) {
    *error = "HttpBurst: more requests than connections";
    return false;
  }
  std::vector<std::string> sendbuf(n), recvbuf(n);
  std::vector<size_t> sent(n, 0);
  std::vector<bool> done(n, false);
  out->assign(n, HttpResponse{});
  for (size_t i = 0; i < n; ++i) {
    sendbuf[i] = "POST " + std::string(target) + " HTTP/1.1\r\nHost: " + endpoint_.host +
                 "\r\nContent-Type: application/json\r\nAuthorization: Bearer " + token_ +
                 "\r\nContent-Length: " + std::to_string(bodies[i].size()) + "\r\n\r\n" +
                 bodies[i];
  }
  size_t remaining = n;
  const auto deadline = Clock::now() + timeout;
  std::vector<pollfd> fds;
  std::vector<size_t> index;
  while (remaining) {
    fds.clear();
    index.clear();
    for (size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      const bool writing = sent[i] < sendbuf[i].size();
      fds.push_back({fds_[i], static_cast<short>(writing ? POLLOUT : POLLIN), 0});
      index.push_back(i);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      *error = std::to_string(remaining) + " of " + std::to_string(n) +
               " requests unanswered after " + std::to_string(timeout.count()) + " ms";
      return false;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) {
      *error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (!fds[k].revents) continue;
      const size_t i = index[k];
      if (sent[i] < sendbuf[i].size()) {
        ssize_t w = ::send(fds_[i], sendbuf[i].data() + sent[i], sendbuf[i].size() - sent[i],
                           MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (w <= 0) {
          *error = std::string("send: ") + std::strerror(errno);
          return false;
        }
        sent[i] += static_cast<size_t>(w);
        continue;
      }
      char chunk[64 << 10];
      ssize_t r = ::recv(fds_[i], chunk, sizeof chunk, MSG_DONTWAIT);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) {
        *error = r == 0 ? "the server closed a connection before answering"
                        : std::string("recv: ") + std::strerror(errno);
        return false;
      }
      recvbuf[i].append(chunk, static_cast<size_t>(r));
      const size_t used = ParseResponse(recvbuf[i], &(*out)[i]);
      if (used == SIZE_MAX) {
        *error = "unparsable HTTP response: " + recvbuf[i].substr(0, 120);
        return false;
      }
      if (used) {
        done[i] = true;
        --remaining;
      }
    }
  }
  return true;
}

// ---- WebSocket framing ----

std::string ClientFrame(std::string_view payload, uint8_t opcode) {
  static const std::array<uint8_t, 4> kMask = {0x37, 0xfa, 0x21, 0x3d};
  std::string f;
  f.reserve(payload.size() + 14);
  f.push_back(static_cast<char>(0x80 | opcode));
  if (payload.size() < 126) {
    f.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(payload.size() >> 8));
    f.push_back(static_cast<char>(payload.size() & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xff));
  }
  f.append(reinterpret_cast<const char*>(kMask.data()), 4);
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ kMask[i % 4]);
  return f;
}

size_t ParseFrame(const char* p, size_t n, int* opcode, std::string_view* payload,
                  size_t* need) {
  *need = 2;
  if (n < 2) return 0;
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  *opcode = u[0] & 0x0f;
  uint64_t len = u[1] & 0x7f;
  size_t header = 2;
  if (len == 126) {
    header = 4;
    if (n < header) return 0;
    len = (uint64_t{u[2]} << 8) | u[3];
  } else if (len == 127) {
    header = 10;
    if (n < header) return 0;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | u[2 + i];
  }
  *need = header + len;
  if (n < *need) return 0;
  *payload = std::string_view(p + header, len);
  return *need;
}

// ---- WebSocket client ----

WsClient::~WsClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool WsClient::WriteAll(std::string_view data, std::string* error) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) {
      *error = std::string("WebSocket write failed: ") + std::strerror(errno);
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool WsClient::Fill(std::chrono::milliseconds timeout, std::string* error) {
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (r == 0) {
    *error = "timed out after " + std::to_string(timeout.count()) + " ms";
    return false;
  }
  char chunk[64 << 10];
  ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
  if (n <= 0) {
    *error = n == 0 ? "connection closed by the server"
                    : std::string("WebSocket read failed: ") + std::strerror(errno);
    return false;
  }
  buf_.append(chunk, static_cast<size_t>(n));
  return true;
}

bool WsClient::Drain(std::vector<std::string>* messages, bool* closed) {
  size_t pos = 0;
  for (;;) {
    int opcode = 0;
    std::string_view payload;
    size_t need = 0;
    size_t used = ParseFrame(buf_.data() + pos, buf_.size() - pos, &opcode, &payload, &need);
    if (!used) break;
    pos += used;
    if (opcode == 8) {
      *closed = true;
      break;
    }
    if (opcode == 1) messages->emplace_back(payload);
  }
  buf_.erase(0, pos);
  return !*closed;
}

bool WsClient::Connect(const Endpoint& endpoint, std::string_view token,
                       std::chrono::milliseconds timeout, std::string* error) {
  fd_ = ConnectSocket(endpoint, error);
  if (fd_ < 0) {
    *error = "WebSocket " + *error;
    return false;
  }
  std::string req = "GET /v1/ws?compress=false HTTP/1.1\r\nHost: " + endpoint.host + ":" +
                    endpoint.port +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " +
                    std::string(token) + "\r\n\r\n";
  if (!WriteAll(req, error)) return false;
  const auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !Fill(std::max(left, std::chrono::milliseconds(1)), error)) {
      *error = "WebSocket upgrade: " + *error;
      return false;
    }
  }
  if (buf_.compare(0, 12, "HTTP/1.1 101") != 0) {
    *error = "WebSocket upgrade refused: " + buf_.substr(0, buf_.find("\r\n"));
    return false;
  }
  buf_.erase(0, end + 4);
  std::string hello;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (!Read(&hello, std::max(left, std::chrono::milliseconds(1)), error)) return false;
  if (hello.find("\"auth_success\"") == std::string::npos) {
    *error = "WebSocket authentication: " + hello;
    return false;
  }
  return true;
}

bool WsClient::SendText(std::string_view text, std::string* error) {
  return WriteAll(ClientFrame(text, 1), error);
}

bool WsClient::Read(std::string* message, std::chrono::milliseconds timeout, std::string* error) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (pending_pos_ < pending_.size()) {
      *message = std::move(pending_[pending_pos_++]);
      if (pending_pos_ == pending_.size()) {
        pending_.clear();
        pending_pos_ = 0;
      }
      return true;
    }
    bool closed = false;
    Drain(&pending_, &closed);
    if (!pending_.empty()) continue;
    if (closed) {
      *error = "the server closed the WebSocket";
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      *error = "no WebSocket message within " + std::to_string(timeout.count()) + " ms";
      return false;
    }
    if (!Fill(left, error)) return false;
  }
}

bool WsClient::ReadAvailable(std::vector<std::string>* messages, std::string* error) {
  for (; pending_pos_ < pending_.size(); ++pending_pos_) {
    messages->push_back(std::move(pending_[pending_pos_]));
  }
  pending_.clear();
  pending_pos_ = 0;
  for (;;) {
    char chunk[64 << 10];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n > 0) {
      buf_.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    *error = n == 0 ? "connection closed by the server"
                    : std::string("WebSocket read failed: ") + std::strerror(errno);
    return false;
  }
  bool closed = false;
  Drain(messages, &closed);
  if (closed) *error = "the server closed the WebSocket";
  return !closed;
}

bool WsClient::Close(std::chrono::milliseconds timeout, std::string* error) {
  if (fd_ < 0) return true;
  // Status 1000 (normal closure), no reason.
  const char code[2] = {static_cast<char>(0x03), static_cast<char>(0xe8)};
  bool ok = WriteAll(ClientFrame(std::string_view(code, 2), 8), error);
  const auto deadline = Clock::now() + timeout;
  while (ok) {
    std::vector<std::string> ignored;
    bool closed = false;
    Drain(&ignored, &closed);
    if (closed) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      *error = "no close frame from the server within " + std::to_string(timeout.count()) + " ms";
      ok = false;
      break;
    }
    if (!Fill(left, error)) {
      // The server may close the TCP connection right after its close frame was consumed.
      if (error->starts_with("connection closed")) break;
      ok = false;
    }
  }
  ::close(fd_);
  fd_ = -1;
  return ok;
}

bool Subscribe(WsClient& ws, std::string_view id, std::string_view sql, bool snapshot,
               std::chrono::milliseconds timeout, int64_t* snapshot_rows, std::string* error) {
  json::object sub{{"id", id}, {"sql", sql}};
  if (snapshot) sub["options"] = json::object{};
  if (!ws.SendText(json::serialize(json::object{{"type", "subscribe"}, {"subscription", sub}}),
                   error)) {
    return false;
  }
  *snapshot_rows = 0;
  bool acked = false;
  for (;;) {
    std::string msg;
    if (!ws.Read(&msg, timeout, error)) return false;
    boost::system::error_code ec;
    json::value v = json::parse(msg, ec);
    const auto* o = !ec ? v.if_object() : nullptr;
    const auto* type = o ? o->if_contains("type") : nullptr;
    if (!type || !type->is_string()) {
      *error = "unexpected WebSocket message: " + msg.substr(0, 200);
      return false;
    }
    const auto* sid = o->if_contains("subscription_id");
    if (sid && !(sid->is_string() && sid->as_string() == id)) continue;  // another subscription
    if (*type == "error") {
      *error = "subscribe " + std::string(id) + ": " + msg.substr(0, 300);
      return false;
    }
    if (*type == "subscription_ack") {
      acked = true;
      if (!snapshot) return true;
      continue;
    }
    if (*type == "initial_data_batch" && acked) {
      if (const auto* rows = o->if_contains("rows"); rows && rows->is_array()) {
        *snapshot_rows += static_cast<int64_t>(rows->as_array().size());
      }
      const auto* bc = o->if_contains("batch_control");
      const auto* more = bc && bc->is_object() ? bc->as_object().if_contains("has_more") : nullptr;
      if (!more || !more->is_bool()) {
        *error = "initial_data_batch without batch_control.has_more: " + msg.substr(0, 200);
        return false;
      }
      if (more->as_bool()) {
        if (!ws.SendText(json::serialize(json::object{{"type", "next_batch"},
                                                      {"subscription_id", id}}),
                         error)) {
          return false;
        }
        continue;
      }
      return true;
    }
    if (*type == "change") continue;  // a change before the snapshot ended: held by the server
  }
}

}  // namespace kalam::bench
