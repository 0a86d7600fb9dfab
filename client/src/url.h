// Server URL parsing: "http://host:port[/prefix]", "host:port", "host", "[::1]:8080".
#pragma once

#include <string>
#include <string_view>

#include "kalam/status.h"

namespace kalam::client {

struct Endpoint {
  std::string host;      // without IPv6 brackets
  std::string port;      // decimal
  std::string prefix;    // path prefix without a trailing slash ("" or "/kalam")

  // "http://host:port[/prefix]".
  std::string Base() const;
  // Value of the Host header ("host:port", IPv6 in brackets).
  std::string HostHeader() const;
};

// Parses a server URL. A missing scheme means http; the default port is 8080. ws:// is accepted
// as http://. kInvalidArgument for https/wss (not supported yet), an empty host or a bad port.
Result<Endpoint> ParseServerUrl(std::string_view url);

}  // namespace kalam::client
