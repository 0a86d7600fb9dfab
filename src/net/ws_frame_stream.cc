// FrameStream: write arbitration between data batches and Beast's frames.
#include "net/ws_frame_stream.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/error.hpp>

namespace kalam::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;

void AppendFrameHeader(bool binary, size_t payload_bytes, std::string& out) {
  out.push_back(static_cast<char>(binary ? 0x82 : 0x81));
  if (payload_bytes < 126) {
    out.push_back(static_cast<char>(payload_bytes));
  } else if (payload_bytes <= 0xffff) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(payload_bytes >> 8));
    out.push_back(static_cast<char>(payload_bytes & 0xff));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<uint64_t>(payload_bytes) >> shift) & 0xff));
    }
  }
}

FrameStream::FrameStream(beast::tcp_stream&& stream) : next_(std::move(stream)) {
  // TryWrite must never block an I/O thread (asynchronous operations work either way).
  beast::error_code ec;
  next_.socket().non_blocking(true, ec);
  try_write_ = !ec;
}

bool FrameStream::TryWrite(std::vector<asio::const_buffer>& buffers, beast::error_code& ec) {
  if (!try_write_ || writing_ || control_ || data_ || close_written_) return false;
  const size_t total = asio::buffer_size(buffers);
  const size_t n = next_.socket().write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  if (ec) return false;
  if (n == total) return true;
  Consume(buffers, n);
  return false;
}

void FrameStream::WriteData(const std::vector<asio::const_buffer>& buffers, DataCallback done) {
  data_.emplace(DataWrite{buffers, std::move(done)});
  if (!writing_) StartNext();
}

void FrameStream::StartNext() {
  if (control_) {
    writing_ = true;
    asio::async_write(next_.socket(), asio::buffer(control_->bytes),
                      [this](beast::error_code ec, size_t n) {
                        ControlWrite w = std::move(*control_);
                        control_.reset();
                        writing_ = false;
                        StartNext();  // a waiting data batch
                        // Last: once Beast's operation is done, nothing may keep the Session
                        // (and this stream) alive.
                        std::move(w.handler)(ec, n);
                      });
    return;
  }
  if (data_) {
    writing_ = true;
    if (close_written_) {
      asio::post(next_.get_executor(), [this] { FinishData(websocket::error::closed); });
      return;
    }
    asio::async_write(next_.socket(), data_->buffers,
                      [this](beast::error_code ec, size_t) { FinishData(ec); });
  }
}

void FrameStream::FinishData(beast::error_code ec) {
  DataCallback done = std::move(data_->done);  // holds the Session until it returns
  data_.reset();
  writing_ = false;
  StartNext();  // a waiting Beast write goes before the next batch
  done(ec);
}

void FrameStream::Consume(std::vector<asio::const_buffer>& buffers, size_t n) {
  size_t i = 0;
  while (i < buffers.size() && n >= buffers[i].size()) n -= buffers[i++].size();
  buffers.erase(buffers.begin(), buffers.begin() + static_cast<std::ptrdiff_t>(i));
  if (n > 0 && !buffers.empty()) buffers.front() += n;
}

}  // namespace kalam::net
