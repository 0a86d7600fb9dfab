// Parsing of "id=host:port" peer entries.
#include "cluster/peer.h"

#include <charconv>
#include <set>

namespace kalam::cluster {

namespace {

bool ParseUint(std::string_view text, uint64_t max, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return false;
  *out = value;
  return true;
}

Status Bad(std::string_view entry, std::string_view why) {
  return Status::InvalidArgument("'" + std::string(entry) + "': " + std::string(why));
}

}  // namespace

Result<Peer> ParsePeer(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return Bad(text, "expected id=host:port");
  uint64_t id = 0;
  if (!ParseUint(text.substr(0, eq), kMaxNodeId, &id) || id == 0) {
    return Bad(text, "the node id must be an integer between 1 and 1023");
  }
  const std::string_view address = text.substr(eq + 1);
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return Bad(text, "expected id=host:port");
  const std::string_view host = address.substr(0, colon);
  if (host.empty()) return Bad(text, "the host must not be empty");
  uint64_t port = 0;
  if (!ParseUint(address.substr(colon + 1), 65535, &port) || port == 0) {
    return Bad(text, "the port must be an integer between 1 and 65535");
  }
  Peer peer;
  peer.id = id;
  peer.host = std::string(host);
  peer.port = static_cast<uint16_t>(port);
  return peer;
}

Result<std::vector<Peer>> ParsePeers(const std::vector<std::string>& entries) {
  std::vector<Peer> peers;
  std::set<NodeId> ids;
  std::set<std::string> addresses;
  for (const auto& entry : entries) {
    KALAM_ASSIGN_OR_RETURN(Peer peer, ParsePeer(entry));
    if (!ids.insert(peer.id).second) {
      return Bad(entry, "node id " + std::to_string(peer.id) + " is listed twice");
    }
    if (!addresses.insert(peer.address()).second) {
      return Bad(entry, "address " + peer.address() + " is listed twice");
    }
    peers.push_back(std::move(peer));
  }
  return peers;
}

}  // namespace kalam::cluster
