// A WebSocket client for tests of the server side (net::WsServer, api::WsTransport), and helpers
// to build and read its messages. The client's reads give up after a timeout instead of hanging
// the test.
#pragma once

#include <zlib.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>

namespace kalam::net::wstest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using namespace std::chrono_literals;

struct Frame {
  std::string data;
  bool binary = false;
};

// A WebSocket client whose reads give up after a timeout instead of hanging the test. A read that
// timed out stays pending (Beast cannot resume a cancelled read); the next Read continues it.
// Every operation is asynchronous, run on the calling thread until it completes.
class Client {
 public:
  // Connects and upgrades `target`; `authorization` (if non-empty) goes in the header.
  Client(uint16_t port, std::string target = "/v1/ws", std::string authorization = "") {
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) ++pongs_;
    });
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    beast::get_lowest_layer(ws_).connect(endpoint, ec_);
    if (ec_) return;
    if (!authorization.empty()) {
      ws_.set_option(websocket::stream_base::decorator([authorization](websocket::request_type& r) {
        r.set(beast::http::field::authorization, authorization);
      }));
    }
    bool done = false;
    ws_.async_handshake(response_, "127.0.0.1", target, [&](beast::error_code ec) {
      ec_ = ec;
      done = true;
    });
    RunUntil(done, 5s);
    if (!done) ec_ = beast::error::timeout;
  }

  bool connected() const { return !ec_; }
  // WebSocket pong frames received so far (they arrive during reads).
  int pongs() const { return pongs_; }
  const beast::error_code& error() const { return ec_; }
  const websocket::response_type& response() const { return response_; }

  // The next message; nullopt on close, error or timeout (see error()).
  std::optional<Frame> Read(std::chrono::milliseconds timeout = 5s) {
    if (!pending_) {
      pending_ = std::make_unique<PendingRead>();
      ws_.async_read(pending_->buffer, [this, p = pending_.get()](beast::error_code ec, size_t) {
        p->ec = ec;
        p->binary = ws_.got_binary();
        p->done = true;
      });
    }
    RunUntil(pending_->done, timeout);
    if (!pending_->done) {
      ec_ = beast::error::timeout;
      return std::nullopt;
    }
    std::unique_ptr<PendingRead> read = std::move(pending_);
    ec_ = read->ec;
    if (ec_) return std::nullopt;
    return Frame{beast::buffers_to_string(read->buffer.data()), read->binary};
  }

  // Reads until the server closes; the close code and reason, or nullopt on timeout or error.
  std::optional<websocket::close_reason> ReadUntilClosed(std::chrono::milliseconds timeout = 5s) {
    for (int i = 0; i < 100000; ++i) {
      if (Read(timeout)) continue;
      if (ec_ == websocket::error::closed) return ws_.reason();
      return std::nullopt;
    }
    return std::nullopt;
  }

  void SendText(std::string_view text) { Write(text, false); }
  void SendBinary(std::string_view bytes) { Write(bytes, true); }

  void Ping() {
    bool done = false;
    ws_.async_ping({}, [&](beast::error_code ec) {
      ec_ = ec;
      done = true;
    });
    RunUntil(done, 5s);
  }

  void Close() {
    bool done = false;
    ws_.async_close(websocket::close_code::normal, [&](beast::error_code ec) {
      ec_ = ec;
      done = true;
    });
    RunUntil(done, 5s);
  }

 private:
  struct PendingRead {
    beast::flat_buffer buffer;
    beast::error_code ec;
    bool done = false;
    bool binary = false;
  };

  void Write(std::string_view data, bool binary) {
    bool done = false;
    ws_.binary(binary);
    ws_.async_write(asio::buffer(data.data(), data.size()), [&](beast::error_code ec, size_t) {
      ec_ = ec;
      done = true;
    });
    RunUntil(done, 5s);
  }

  // Runs handlers until `flag` is set or `timeout` passes.
  void RunUntil(const bool& flag, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!flag && std::chrono::steady_clock::now() < deadline) {
      ioc_.restart();
      ioc_.run_one_until(deadline);
    }
  }

  asio::io_context ioc_;
  int pongs_ = 0;
  websocket::stream<beast::tcp_stream> ws_{ioc_};
  websocket::response_type response_;
  beast::error_code ec_;
  std::unique_ptr<PendingRead> pending_;
};

inline std::string ReasonOf(const websocket::close_reason& r) {
  return std::string(r.reason.data(), r.reason.size());
}

inline std::string GzipBytes(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string GunzipBytes(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

// Message number `i`, of exactly `bytes` bytes (at least 40), with content that depends on `i`.
inline std::string Numbered(size_t i, size_t bytes) {
  std::string head = R"({"type":"change","i":)" + std::to_string(i) + R"(,"pad":")";
  const std::string tail = "\"}";
  std::string pad(bytes - head.size() - tail.size(), 'x');
  for (size_t k = 0; k < pad.size(); ++k) pad[k] = static_cast<char>('a' + (i * 7 + k) % 26);
  return head + pad + tail;
}

// A JSON message of exactly `bytes` bytes.
inline std::string JsonOfSize(size_t bytes) {
  std::string head = R"({"type":"change","pad":")";
  std::string tail = "\"}";
  return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

}  // namespace kalam::net::wstest
