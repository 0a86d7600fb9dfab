// Server URL parsing.
#include "url.h"

#include <cctype>

namespace kalam::client {

std::string Endpoint::HostHeader() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + port;
}

std::string Endpoint::Base() const { return "http://" + HostHeader() + prefix; }

Result<Endpoint> ParseServerUrl(std::string_view url) {
  auto invalid = [&](const std::string& why) {
    return Status(StatusCode::kInvalidArgument,
                  "Invalid server URL '" + std::string(url) + "': " + why);
  };
  std::string_view rest = url;
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) {
    rest.remove_prefix(1);
  }
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) {
    rest.remove_suffix(1);
  }
  if (const size_t colon = rest.find("://"); colon != std::string_view::npos) {
    std::string scheme(rest.substr(0, colon));
    for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "https" || scheme == "wss") {
      return invalid("TLS (https) is not supported by this client yet; use http://");
    }
    if (scheme != "http" && scheme != "ws") return invalid("unknown scheme '" + scheme + "'");
    rest.remove_prefix(colon + 3);
  }
  Endpoint ep;
  std::string_view authority = rest;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    std::string prefix(rest.substr(slash));
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    ep.prefix = prefix;
  }
  if (authority.empty()) return invalid("no host");
  std::string_view port;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("unterminated '['");
    ep.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("expected ':' after ']'");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      ep.host = std::string(authority.substr(0, colon));
      port = authority.substr(colon + 1);
    } else {
      ep.host = std::string(authority);
    }
  }
  if (ep.host.empty()) return invalid("no host");
  if (port.empty()) {
    ep.port = "8080";
  } else {
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return invalid("bad port");
    }
    if (port.size() > 5 || std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
      return invalid("bad port");
    }
    ep.port = std::string(port);
  }
  return ep;
}

}  // namespace kalam::client
