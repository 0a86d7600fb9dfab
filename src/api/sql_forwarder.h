// SqlForwarder: how a cluster node's SQL route hands a write it does not lead to the leader's API
// (docs/cluster.md, "Forwarding, not NOT_LEADER"). Implemented by the server; null on a single
// node, where no forwarding code runs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kalam::api {

// The hop header: a request that carries it was forwarded once and is never forwarded again.
inline constexpr std::string_view kForwardedHeader = "X-Kalam-Forwarded";
// On the answer to a forwarded request: "<group>=<applied index>,..." for every group of the
// answering node, read after the statements ran (internal: never shown to clients).
inline constexpr std::string_view kAppliedHeader = "X-Kalam-Applied";

struct ForwardedAnswer {
  int status = 200;
  std::string body;  // JSON
  // False when the leader could not be reached (connection refused, no route): the request never
  // left this node, so nothing ran. The forwarder has then waited for the group to elect another
  // leader; the route may run the request again (it runs here or is forwarded to the new leader).
  // `status`/`body` are then the answer to give when it does not.
  bool delivered = true;
};

// Thread-safe.
class SqlForwarder {
 public:
  virtual ~SqlForwarder() = default;
  // `not_leader` is a NOT_LEADER status message ("... Leader: <raft addr>"). nullopt when the
  // leader is unknown or is not a configured member (the NOT_LEADER answer stands). Else sends
  // `body` to the leader's API at `path` (with `authorization` when given and the hop header),
  // waits until this node applied what the leader had applied, and returns what to answer: the
  // leader's answer, or 503 when the leader's answer did not arrive (outcome unknown) or this
  // node did not catch up in time. When the leader cannot be reached at all, waits (up to four
  // election timeouts) until the group names another leader and returns `delivered` false.
  virtual std::optional<ForwardedAnswer> Forward(std::string_view not_leader, std::string_view path,
                                                 const std::optional<std::string>& authorization,
                                                 std::string_view body) = 0;
  // When `not_leader` (a NOT_LEADER status message) names no leader ("... Leader unknown": an
  // election is running), waits up to one election timeout (cluster.election_timeout_ms) until
  // every group of this node knows a leader again. True when they do: the request may be run
  // again (its first statement was refused, so nothing ran). False at once when `not_leader`
  // names a leader, and when the time ran out (the NOT_LEADER answer stands).
  virtual bool AwaitLeader(std::string_view not_leader) = 0;
  // The kAppliedHeader value of this node now, for the answer to a forwarded request; also has
  // the groups this node leads tell their followers the commit index at once (else they learn
  // it with the next heartbeat), so the forwarding node's wait is short.
  virtual std::string AppliedIndexes() const = 0;
};

}  // namespace kalam::api
