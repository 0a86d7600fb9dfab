// SpoolBody: a Beast Body that writes a request body straight into a file (multipart uploads), so
// a large body never sits in memory; and SpooledFile, the handler's owner of that file.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

namespace kalam::net {

// A request body kept in a file; the file is deleted when the last owner lets go.
// Thread-compatible (immutable after the body is read).
class SpooledFile {
 public:
  SpooledFile(std::string path, uint64_t size_bytes)
      : path_(std::move(path)), size_bytes_(size_bytes) {}
  ~SpooledFile();
  SpooledFile(const SpooledFile&) = delete;
  SpooledFile& operator=(const SpooledFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size_bytes() const { return size_bytes_; }

 private:
  std::string path_;
  uint64_t size_bytes_;
};

struct SpoolBody {
  struct value_type {
    // Directory the file is created in (set before the body is read).
    std::string dir;
    // After the read: the file (null when no body bytes were read and nothing was created).
    std::shared_ptr<SpooledFile> file;
    // Internal: the open descriptor while reading.
    int fd = -1;
    std::string path;
    uint64_t size = 0;

    value_type() = default;
    value_type(value_type&& o) noexcept { *this = std::move(o); }
    value_type& operator=(value_type&& o) noexcept;
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;
    ~value_type();
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    explicit reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec);
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      std::size_t n = 0;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        Write(static_cast<const char*>(b.data()), b.size(), ec);
        if (ec) return n;
        n += b.size();
      }
      return n;
    }
    void finish(boost::beast::error_code& ec);

   private:
    void Write(const char* data, std::size_t size, boost::beast::error_code& ec);
    value_type& body_;
  };
};

}  // namespace kalam::net
