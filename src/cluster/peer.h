// A cluster member as configured in [cluster] peers: its Raft node id and the address its Raft
// transport listens on ("id=host:port").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::cluster {

// A Raft node id. 1..1023 (the same range as server.node_id, which it must equal, so the id
// stamped into every `_seq` names the node that led the commit). 0 means "none".
using NodeId = uint64_t;

inline constexpr NodeId kMaxNodeId = 1023;

struct Peer {
  NodeId id = 0;
  std::string host;
  uint16_t port = 0;

  // "host:port", the form the Raft transport and NOT_LEADER answers use.
  std::string address() const { return host + ":" + std::to_string(port); }

  bool operator==(const Peer&) const = default;
};

// Parses one "id=host:port" entry. kInvalidArgument with a message that quotes the entry and
// says what is wrong ("'x=a:1': the node id must be an integer between 1 and 1023").
Result<Peer> ParsePeer(std::string_view text);

// Parses every entry and checks the list as a whole: ids and addresses unique. Does not require
// a non-empty list.
Result<std::vector<Peer>> ParsePeers(const std::vector<std::string>& entries);

}  // namespace kalam::cluster
