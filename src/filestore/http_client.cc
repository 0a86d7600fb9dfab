// HttpClient: one Beast exchange per request, run as a C++20 coroutine on a private io_context
// so that a single deadline can bound resolve, connect, handshake, write and read.
#include "filestore/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <strings.h>

#include <algorithm>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace kalam::filestore {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr size_t kMaxResponseHeaderBytes = 64 << 10;
// The body an error answer may have when the caller bounded the response (S3 error documents
// are a few hundred bytes).
constexpr uint64_t kMaxErrorBody = 1 << 20;
constexpr std::chrono::milliseconds kResolveGrace{250};

// Inputs and outputs of one exchange. Outlives the io_context that runs it.
struct Exchange {
  const HttpEndpoint* endpoint = nullptr;
  const HttpRequest* request = nullptr;
  ssl::context* tls_context = nullptr;
  std::chrono::milliseconds timeout{0};

  bool done = false;
  bool writing = false;  // the request's first byte may have been handed to the socket
  std::string error;  // set when !done or the exchange failed
  HttpResponse response;
};

std::string Describe(const beast::error_code& ec, std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout) {
    return "timed out after " + std::to_string(timeout.count()) + " ms";
  }
  return ec.message();
}

bool IsIpLiteral(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Writes the request and reads the whole response on a connected (and, for TLS, handshaken)
// stream.
template <typename Stream>
asio::awaitable<void> Transfer(Stream& stream, Exchange* x) {
  const HttpRequest& in = *x->request;
  beast::error_code ec;
  // span_body: the caller's bytes are sent as they are, without a copy (parts are megabytes).
  http::request<http::span_body<const char>> req;
  http::verb verb = http::string_to_verb(in.method);
  if (verb == http::verb::unknown) {
    x->error = "unsupported HTTP method " + in.method;
    co_return;
  }
  req.method(verb);
  req.target(in.target);
  req.version(11);
  for (const auto& [name, value] : in.headers) req.insert(name, value);
  req.body() = beast::span<const char>(in.body.data(), in.body.size());
  req.keep_alive(false);
  req.prepare_payload();

  x->writing = true;
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x->error = "sending request: " + Describe(ec, x->timeout);
    co_return;
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(boost::none);  // set below, once the status is known
  parser.header_limit(kMaxResponseHeaderBytes);
  if (verb == http::verb::head) parser.skip(true);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x->error = "reading response: " + Describe(ec, x->timeout);
    co_return;
  }
  uint64_t limit = 0;
  if (in.max_response_body) {
    // The bound is for what the caller asked for; an error answer may say why at its own length.
    const bool success = parser.get().result_int() / 100 == 2;
    limit = success ? *in.max_response_body : std::max(*in.max_response_body, kMaxErrorBody);
    if (parser.content_length() && *parser.content_length() > limit) {
      x->error = "reading response: response body exceeds " + std::to_string(limit) + " bytes";
      co_return;
    }
    parser.body_limit(limit);  // also bounds a chunked body
  }
  if (!parser.is_done()) {
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec == http::error::body_limit) {
    x->error = "reading response: response body exceeds " + std::to_string(limit) + " bytes";
    co_return;
  }
  if (ec) {
    x->error = "reading response: " + Describe(ec, x->timeout);
    co_return;
  }
  x->response.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    x->response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  x->response.body = std::move(parser.get().body());
  x->done = true;
}

asio::awaitable<void> Run(Exchange* x) {
  auto executor = co_await asio::this_coro::executor;
  const HttpEndpoint& ep = *x->endpoint;
  beast::error_code ec;

  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(ep.host, std::to_string(ep.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x->error = "resolving " + ep.host + ": " + ec.message();
    co_return;
  }

  if (!ep.tls) {
    beast::tcp_stream stream(executor);
    stream.expires_after(x->timeout);  // one deadline for connect, write and read together
    co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      x->error = "connect: " + Describe(ec, x->timeout);
      co_return;
    }
    co_await Transfer(stream, x);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    co_return;
  }

  beast::ssl_stream<beast::tcp_stream> stream(executor, *x->tls_context);
  SSL* ssl_handle = stream.native_handle();
  if (IsIpLiteral(ep.host)) {
    // No SNI for IP literals (RFC 6066); verify the certificate's IP SAN instead of a name.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), ep.host.c_str()) != 1) {
      x->error = "TLS setup: cannot verify against IP address " + ep.host;
      co_return;
    }
  } else {
    if (SSL_set_tlsext_host_name(ssl_handle, ep.host.c_str()) != 1 ||
        SSL_set1_host(ssl_handle, ep.host.c_str()) != 1) {
      x->error = "TLS setup: cannot set server name " + ep.host;
      co_return;
    }
  }
  beast::get_lowest_layer(stream).expires_after(x->timeout);
  co_await beast::get_lowest_layer(stream).async_connect(
      endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x->error = "connect: " + Describe(ec, x->timeout);
    co_return;
  }
  co_await stream.async_handshake(ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    x->error = "TLS handshake: " + Describe(ec, x->timeout);
    long verify = SSL_get_verify_result(ssl_handle);
    if (verify != X509_V_OK) {
      x->error += " (certificate verification: ";
      x->error += X509_verify_cert_error_string(verify);
      x->error += ")";
    }
    co_return;
  }
  co_await Transfer(stream, x);
  // No TLS close_notify: the response is complete (Content-Length or chunked), and waiting for
  // the peer's close_notify would only add a round trip. Closing the socket is enough.
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && ::strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  }
  return std::nullopt;
}

struct HttpClient::Impl {
  HttpClientOptions options;
  std::unique_ptr<ssl::context> tls_context;
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(const HttpClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  try {
    impl->tls_context = std::make_unique<ssl::context>(ssl::context::tls_client);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot create a TLS context: ") + e.what());
  }
  ssl::context& ctx = *impl->tls_context;
  boost::system::error_code ec;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    if (options.ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.load_verify_file(options.ca_file, ec);
      if (ec) {
        return Status::InvalidArgument("cannot load CA certificates from '" + options.ca_file +
                                       "': " + ec.message());
      }
    }
  }
  if (ec) return Status::Internal("cannot set up TLS verification: " + ec.message());
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpResponse> HttpClient::Send(const HttpEndpoint& endpoint, const HttpRequest& request) {
  Exchange x;
  x.endpoint = &endpoint;
  x.request = &request;
  x.tls_context = impl_->tls_context.get();
  x.timeout = impl_->options.timeout;
  {
    asio::io_context ioc(1);
    asio::co_spawn(ioc, Run(&x), [&x](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        x.error = std::string("unexpected failure: ") + ex.what();
      } catch (...) {
        x.error = "unexpected failure";
      }
      x.done = false;
    });
    // The stream deadline covers connect/handshake/write/read and names the phase that ran out;
    // this slightly later one also bounds name resolution. Whatever is still pending afterwards
    // is abandoned with the io_context.
    ioc.run_for(x.timeout + kResolveGrace);
    if (!ioc.stopped() && !x.done && x.error.empty()) {
      x.error = "timed out after " + std::to_string(x.timeout.count()) + " ms";
    }
  }
  if (!x.done) {
    std::string error = x.error.empty() ? "no response" : x.error;
    // Before the first byte was written (resolve, connect, TLS handshake) the server never saw
    // the request.
    return x.writing ? Status::IoError(std::move(error)) : Status::Unavailable(std::move(error));
  }
  return std::move(x.response);
}

}  // namespace kalam::filestore
