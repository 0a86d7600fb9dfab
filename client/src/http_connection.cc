// HttpConnection on Boost.Beast: an Asio coroutine per round trip, driven on the caller's thread
// by a private io_context so deadlines and cancellation work without extra threads.
#include "http_connection.h"

#include <sys/socket.h>

#include <optional>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace kalam::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr uint64_t kMaxBodyBytes = 1ull << 30;
}  // namespace

class HttpConnection::State {
 public:
  explicit State(Endpoint ep) : endpoint(std::move(ep)), stream(ioc) {}

  Endpoint endpoint;
  asio::io_context ioc;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool open = false;
  std::optional<tcp::resolver::results_type> resolved;

  void Close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    buffer.clear();
    open = false;
  }

  asio::awaitable<Status> Connect(std::chrono::milliseconds timeout) {
    auto ex = co_await asio::this_coro::executor;
    if (!resolved) {
      tcp::resolver resolver(ex);
      asio::steady_timer timer(ex, timeout);
      bool timed_out = false;
      timer.async_wait([&](beast::error_code ec) {
        if (!ec) {
          timed_out = true;
          resolver.cancel();
        }
      });
      auto [ec, results] = co_await resolver.async_resolve(endpoint.host, endpoint.port, kNoThrow);
      timer.cancel();
      if (ec) {
        co_return Status(timed_out ? StatusCode::kTimeout : StatusCode::kConnectionFailed,
                         "Cannot resolve " + endpoint.host + ": " +
                             (timed_out ? std::string("timed out") : ec.message()));
      }
      resolved = results;
    }
    stream.expires_after(timeout);
    auto [ec, ep] = co_await stream.async_connect(*resolved, kNoThrow);
    if (ec) {
      stream.close();
      const bool timed_out = ec == beast::error::timeout;
      co_return Status(timed_out ? StatusCode::kTimeout : StatusCode::kConnectionFailed,
                       "Cannot connect to " + endpoint.Base() + ": " +
                           (timed_out ? std::string("connection timed out") : ec.message()));
    }
    stream.socket().set_option(tcp::no_delay(true));
    open = true;
    co_return Status::OK();
  }

  asio::awaitable<Status> Exchange(const HttpRequest& request, std::chrono::milliseconds timeout,
                                   HttpResponse* out) {
    http::request<http::string_body> req(request.post ? http::verb::post : http::verb::get,
                                         endpoint.prefix + request.target, 11);
    req.set(http::field::host, endpoint.HostHeader());
    req.set(http::field::user_agent, "kalam-cpp-client/0.1");
    req.keep_alive(true);
    for (const auto& [k, v] : request.headers) req.set(k, v);
    if (request.post) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body;
      req.prepare_payload();
    }
    stream.expires_after(timeout);
    auto [wec, written] = co_await http::async_write(stream, req, kNoThrow);
    if (wec) co_return Failure(wec, "sending the request");
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    auto [rec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (rec) co_return Failure(rec, "reading the answer");
    stream.expires_never();
    auto res = parser.release();
    out->status = static_cast<int>(res.result_int());
    out->body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) {
      out->retry_after = std::string(it->value());
    }
    if (!res.keep_alive()) Close();
    co_return Status::OK();
  }

  Status Failure(beast::error_code ec, const std::string& during) {
    Close();
    if (ec == beast::error::timeout) {
      return Status(StatusCode::kTimeout, "Request to " + endpoint.Base() + " timed out while " +
                                              during);
    }
    if (ec == asio::error::operation_aborted) {
      return Status(StatusCode::kCancelled, "Request cancelled");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
      return Status(StatusCode::kConnectionFailed,
                    "Connection to " + endpoint.Base() + " closed while " + during);
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return Status(StatusCode::kProtocolError, "Bad HTTP answer from " + endpoint.Base() + ": " +
                                                    ec.message());
    }
    return Status(StatusCode::kConnectionFailed,
                  "Connection to " + endpoint.Base() + " failed while " + during + ": " +
                      ec.message());
  }
};

HttpConnection::HttpConnection(Endpoint endpoint)
    : state_(std::make_unique<State>(std::move(endpoint))) {}

HttpConnection::~HttpConnection() {
  if (state_->open) state_->Close();
}

bool HttpConnection::Usable() {
  if (!state_->open) return false;
  char c;
  const int fd = state_->stream.socket().native_handle();
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
  state_->Close();  // closed by the peer (0), an error, or unexpected bytes
  return false;
}

Result<HttpResponse> HttpConnection::RoundTrip(const HttpRequest& request,
                                               std::chrono::milliseconds connect_timeout,
                                               std::chrono::milliseconds timeout,
                                               std::stop_token stop, FailurePoint* failure) {
  State& s = *state_;
  *failure = FailurePoint::kBeforeSending;
  was_reused_ = Usable();
  HttpResponse response;
  bool done = false;
  Status result;
  auto run = [&]() -> asio::awaitable<void> {
    if (!s.open) {
      result = co_await s.Connect(connect_timeout);
      if (!result.ok()) co_return;
    }
    *failure = FailurePoint::kAfterSending;
    result = co_await s.Exchange(request, timeout, &response);
  };
  s.ioc.restart();
  asio::co_spawn(s.ioc, run(), [&](std::exception_ptr e) {
    if (e && result.ok()) result = Status(StatusCode::kProtocolError, "HTTP client failure");
    done = true;
  });
  bool cancelled = false;
  while (!done) {
    s.ioc.run_for(std::chrono::milliseconds(50));
    if (!done && !cancelled && stop.stop_requested()) {
      cancelled = true;
      beast::error_code ec;
      s.stream.socket().cancel(ec);
      s.stream.cancel();
    }
  }
  if (cancelled && !result.ok()) {
    s.Close();
    return Status(StatusCode::kCancelled, "Cancelled");
  }
  if (!result.ok()) return result;
  return response;
}

}  // namespace kalam::client
