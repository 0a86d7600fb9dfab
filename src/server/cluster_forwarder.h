// ClusterForwarder: a cluster node's api::SqlForwarder (docs/cluster.md, "Forwarding, not
// NOT_LEADER"). Maps the Raft address a NOT_LEADER names to the member and group (peer port +
// group ordinal), the member to its API address (cluster.api_peers), sends the request there
// once, and waits until this node applied what the leader had.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "api/sql_forwarder.h"
#include "cluster/peer.h"
#include "common/status.h"
#include "filestore/http_client.h"
#include "server/cluster_node.h"
#include "server/config.h"

namespace kalam::server {

// How long a forwarding node waits for its own applied state to reach the leader's.
inline constexpr std::chrono::milliseconds kForwardCatchUp{5000};

class ClusterForwarder : public api::SqlForwarder {
 public:
  // `node` (started) must outlive the forwarder. kInvalidArgument for malformed peers.
  static Result<std::unique_ptr<ClusterForwarder>> Create(const ClusterConfig& config,
                                                          const ClusterNode& node);

  std::optional<api::ForwardedAnswer> Forward(std::string_view not_leader, std::string_view path,
                                              const std::optional<std::string>& authorization,
                                              std::string_view body) override;
  std::string AppliedIndexes() const override;
  bool AwaitLeader(std::string_view not_leader) override;

 private:
  ClusterForwarder(const ClusterNode& node, std::vector<cluster::Peer> raft_peers,
                   std::map<cluster::NodeId, cluster::Peer> api_peers,
                   std::unique_ptr<filestore::HttpClient> http,
                   std::chrono::milliseconds election_timeout)
      : node_(node), raft_peers_(std::move(raft_peers)), api_peers_(std::move(api_peers)),
        http_(std::move(http)), election_timeout_(election_timeout) {}

  const ClusterNode& node_;
  const std::vector<cluster::Peer> raft_peers_;                  // Raft base ports
  const std::map<cluster::NodeId, cluster::Peer> api_peers_;     // API host:port per member
  const std::unique_ptr<filestore::HttpClient> http_;
  const std::chrono::milliseconds election_timeout_;  // cluster.election_timeout_ms
};

}  // namespace kalam::server
