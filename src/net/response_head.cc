// ResponseHead: HTTP/1.x response heads written as text.
#include "net/response_head.h"

#include <charconv>
#include <ostream>  // boost/beast/http/status.hpp needs it and does not include it

#include <boost/beast/http/status.hpp>

namespace kalam::net {

namespace {

void AppendNumber(uint64_t n, std::string* out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  (void)ec;  // 24 characters hold every uint64_t
  out->append(digits, end);
}

}  // namespace

void AppendStatusLine(unsigned version, unsigned status, std::string* out) {
  namespace http = boost::beast::http;
  out->append("HTTP/");
  out->push_back(static_cast<char>('0' + version / 10));
  out->push_back('.');
  out->push_back(static_cast<char>('0' + version % 10));
  out->push_back(' ');
  AppendNumber(status, out);
  out->push_back(' ');
  const auto reason = http::obsolete_reason(http::int_to_status(status));
  out->append(reason.data(), reason.size());
  out->append("\r\n");
}

void AppendHeaderField(std::string_view name, std::string_view value, std::string* out) {
  out->append(name);
  out->append(": ");
  out->append(value);
  out->append("\r\n");
}

void AppendHeadEnd(unsigned version, bool keep_alive, std::optional<uint64_t> content_length,
                   std::string* out) {
  if (version >= 11 && !keep_alive) out->append("Connection: close\r\n");
  if (version < 11 && keep_alive) out->append("Connection: keep-alive\r\n");
  if (content_length) {
    out->append("Content-Length: ");
    AppendNumber(*content_length, out);
    out->append("\r\n");
  }
  out->append("\r\n");
}

}  // namespace kalam::net
