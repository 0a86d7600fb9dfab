// ResponseHead: the status line and header fields of an HTTP/1.x response written straight into
// the connection's output buffer, so that a response (head and body) leaves in one contiguous
// write without building a field container per response.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kalam::net {

// Appends "HTTP/<major>.<minor> <status> <reason>\r\n" to `out`. `version` is 10 or 11 (Beast's
// encoding: major * 10 + minor); the reason is the standard one, "<unknown-status>" for codes
// without one (as Beast writes them).
void AppendStatusLine(unsigned version, unsigned status, std::string* out);

// Appends "<name>: <value>\r\n" to `out`. The caller has checked that neither contains a line
// break.
void AppendHeaderField(std::string_view name, std::string_view value, std::string* out);

// Appends the fields that end every head: Connection when it differs from the version's default
// (HTTP/1.1 "close" when not kept alive, HTTP/1.0 "keep-alive" when kept alive), then
// Content-Length when given, then the blank line.
void AppendHeadEnd(unsigned version, bool keep_alive, std::optional<uint64_t> content_length,
                   std::string* out);

}  // namespace kalam::net
