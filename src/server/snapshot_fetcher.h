// HttpSnapshotFetcher: gets a peer's shard snapshot file over its HTTP API
// (GET /v1/api/cluster/snapshots/<group>/<index>/keys.kv, docs/cluster.md, Snapshots),
// presenting the members' shared cluster.secret.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/peer.h"
#include "common/status.h"
#include "filestore/http_client.h"
#include "replication/shard_snapshot.h"

namespace kalam::server {

// The route's prefix; the file's path (relative to the snapshot root) follows it.
inline constexpr std::string_view kSnapshotRoutePrefix = "/v1/api/cluster/snapshots/";

class HttpSnapshotFetcher final : public replication::SnapshotFetcher {
 public:
  // `api_peers`: node id → its HTTP API address (cluster.api_peers). `secret`: cluster.secret
  // (empty: every Fetch fails with kUnavailable). kInternal when the HTTP client cannot set up.
  static Result<std::unique_ptr<HttpSnapshotFetcher>> Create(
      const std::vector<cluster::Peer>& api_peers, std::string secret);

  // The response body (one key file) is held in memory once (HttpClient reads whole bodies),
  // then written and fsynced to `local_path`. kUnavailable when the peer has no
  // API address, cannot be reached or answers other than 200/404; kNotFound on 404 (pruned).
  Status Fetch(cluster::NodeId source, const std::string& path,
               const std::string& local_path) override;

 private:
  HttpSnapshotFetcher(std::map<cluster::NodeId, filestore::HttpEndpoint> endpoints,
                      std::string secret, std::unique_ptr<filestore::HttpClient> client);
  const std::map<cluster::NodeId, filestore::HttpEndpoint> endpoints_;
  const std::string secret_;
  std::unique_ptr<filestore::HttpClient> client_;
};

}  // namespace kalam::server
