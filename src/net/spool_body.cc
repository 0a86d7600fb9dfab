// SpoolBody: request bodies written to a file as they are received.
#include "net/spool_body.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace kalam::net {

namespace {

boost::beast::error_code Errno() {
  return boost::beast::error_code(errno, boost::system::system_category());
}

}  // namespace

SpooledFile::~SpooledFile() { ::unlink(path_.c_str()); }

SpoolBody::value_type& SpoolBody::value_type::operator=(value_type&& o) noexcept {
  if (this != &o) {
    if (fd >= 0) {
      ::close(fd);
      ::unlink(path.c_str());
    }
    dir = std::move(o.dir);
    file = std::move(o.file);
    fd = std::exchange(o.fd, -1);
    path = std::move(o.path);
    size = o.size;
  }
  return *this;
}

SpoolBody::value_type::~value_type() {
  if (fd >= 0) {
    ::close(fd);
    ::unlink(path.c_str());  // a read that never finished
  }
}

void SpoolBody::reader::init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) {
  static std::atomic<uint64_t> counter{0};
  body_.path = body_.dir + "/upload-body-" + std::to_string(::getpid()) + "-" +
               std::to_string(counter.fetch_add(1)) + "-" +
               std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  body_.fd = ::open(body_.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  ec = body_.fd < 0 ? Errno() : boost::beast::error_code();
}

void SpoolBody::reader::Write(const char* data, std::size_t size, boost::beast::error_code& ec) {
  while (size > 0) {
    ssize_t n = ::write(body_.fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      ec = Errno();
      return;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
    body_.size += static_cast<uint64_t>(n);
  }
}

void SpoolBody::reader::finish(boost::beast::error_code& ec) {
  ec = {};
  if (body_.fd < 0) return;
  const int rc = ::close(body_.fd);
  body_.fd = -1;
  // From here the file belongs to whoever holds `file`.
  body_.file = std::make_shared<SpooledFile>(body_.path, body_.size);
  if (rc != 0) ec = Errno();
}

}  // namespace kalam::net
