// FrameStream: the byte stream under a WebSocket session's Beast websocket::stream, through
// which every write to a connection's socket goes, so that batches of data frames the session
// (net/ws_session.cc) frames itself and Beast's own control frames never interleave.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

namespace kalam::net {

// Appends the header of an unmasked, final server frame (RFC 6455 §5.2) carrying
// `payload_bytes`: text (opcode 1), or binary (opcode 2).
void AppendFrameHeader(bool binary, size_t payload_bytes, std::string& out);

// The stream under Beast's websocket::stream. Reads pass through to the socket. Every byte
// written to the socket goes through here, one write at a time: the Session's batches of data
// frames (TryWrite / WriteData: it frames them itself, so that a batch of many messages is one
// write) and Beast's own writes (the 101 response, pongs, close frames, via async_write_some).
// A Beast write waiting here goes before a waiting data batch, and once Beast has written a close
// frame no data frame follows it (RFC 6455 §5.5.1): WriteData then fails with
// websocket::error::closed. Writes go to the socket itself, not through the tcp_stream: its
// timeout (never set once upgraded: the WebSocket layer and the Session time the connection) and
// rate policy would only add work per write. Not thread-safe: used on the connection's strand.
class FrameStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using next_layer_type = boost::beast::tcp_stream;
  using DataCallback = std::function<void(boost::beast::error_code)>;

  // Takes over the socket of an upgraded connection, whose executor is the connection's strand.
  explicit FrameStream(boost::beast::tcp_stream&& stream);

  executor_type get_executor() noexcept { return next_.get_executor(); }
  next_layer_type& next_layer() noexcept { return next_; }
  const next_layer_type& next_layer() const noexcept { return next_; }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return next_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  // Beast's writes: the bytes are copied and written whole (Beast never has two outstanding).
  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return boost::asio::async_initiate<WriteHandler, void(boost::beast::error_code, size_t)>(
        [this](auto&& h, const ConstBufferSequence& b) {
          std::string bytes(boost::asio::buffer_size(b), '\0');
          boost::asio::buffer_copy(boost::asio::buffer(bytes), b);
          // A close frame: FIN + opcode 8 (the 101 response starts with 'H').
          if (!bytes.empty() && static_cast<unsigned char>(bytes[0]) == 0x88) {
            close_written_ = true;
          }
          control_.emplace(ControlWrite{std::move(bytes), ErasedHandler(std::move(h))});
          if (!writing_) StartNext();
        },
        handler, buffers);
  }

  // Writes as much of `buffers` as the socket takes at once, without waiting, if nothing else is
  // being written or waiting (Beast's frames go first). True when all of it was written. Else
  // the written bytes are consumed from the front of `buffers` and the caller continues with
  // WriteData; `ec` is set if the socket failed.
  bool TryWrite(std::vector<boost::asio::const_buffer>& buffers, boost::beast::error_code& ec);

  // The Session's next batch, written asynchronously (it never has two outstanding). `buffers`
  // must stay valid until `done` runs, on the strand, once every byte is written or the write
  // failed.
  void WriteData(const std::vector<boost::asio::const_buffer>& buffers, DataCallback done);

 private:
  // Beast's completion handler, type-erased (Boost 1.81's asio::any_completion_handler recurses
  // when moved). Invoked on the strand, which is its associated executor.
  class ErasedHandler {
   public:
    template <class Handler>
    explicit ErasedHandler(Handler&& h)
        : impl_(std::make_unique<Impl<std::decay_t<Handler>>>(std::forward<Handler>(h))) {}
    void operator()(boost::beast::error_code ec, size_t n) && {
      std::unique_ptr<Base> impl = std::move(impl_);
      impl->Invoke(ec, n);
    }

   private:
    struct Base {
      virtual ~Base() = default;
      virtual void Invoke(boost::beast::error_code ec, size_t n) = 0;
    };
    template <class Handler>
    struct Impl final : Base {
      explicit Impl(Handler&& h) : handler(std::move(h)) {}
      void Invoke(boost::beast::error_code ec, size_t n) override { std::move(handler)(ec, n); }
      Handler handler;
    };
    std::unique_ptr<Base> impl_;
  };
  struct ControlWrite {
    std::string bytes;
    ErasedHandler handler;
  };
  struct DataWrite {
    std::vector<boost::asio::const_buffer> buffers;
    DataCallback done;
  };

  // Starts the waiting write, Beast's first. Requires !writing_.
  void StartNext();
  // The data write is over: on to the next write, then tell the Session.
  void FinishData(boost::beast::error_code ec);

  // Drops the first `n` bytes of `buffers`.
  static void Consume(std::vector<boost::asio::const_buffer>& buffers, size_t n);

  boost::beast::tcp_stream next_;
  bool try_write_ = false;      // the socket is non-blocking: TryWrite may write
  bool writing_ = false;        // a write of next_ is in flight
  bool close_written_ = false;  // Beast queued a close frame: no data frames after it
  std::optional<ControlWrite> control_;
  std::optional<DataWrite> data_;
};

// The customization point Beast's closing handshake finds by argument-dependent lookup
// (websocket/teardown.hpp). Only the asynchronous one: a session never closes synchronously.
template <class TeardownHandler>
void async_teardown(boost::beast::role_type role, FrameStream& stream, TeardownHandler&& handler) {
  using boost::beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

}  // namespace kalam::net
