// ServerMetrics: the scrape-time metrics of a running server (commit counts, live connections and
// subscriptions, jobs, RocksDB sizes, catalog sizes, process figures), registered with
// metrics::Registry::Default() for as long as the object lives. docs/metrics.md lists them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kalam::storage {
class KvStore;
}
namespace kalam::catalog {
class Catalog;
}
namespace kalam::commit {
class CommitShards;
}
namespace kalam::live {
class LiveManager;
}
namespace kalam::api {
class WsTransport;
}
namespace kalam::sql {
class JobService;
class ClusterStatus;
}

namespace kalam::server {

// What the callbacks read. None is owned; each must outlive the ServerMetrics (null: that
// group of metrics is left out).
struct ServerMetricsSources {
  storage::KvStore* kv = nullptr;
  const catalog::Catalog* catalog = nullptr;
  const commit::CommitShards* shards = nullptr;  // commit stats, summed over the pipelines
  const live::LiveManager* live = nullptr;
  const api::WsTransport* ws = nullptr;
  const sql::JobService* jobs = nullptr;
  // A cluster node's Raft groups (kalamdb_raft_*, one sample per group); null on a single node.
  const sql::ClusterStatus* cluster = nullptr;
  std::string version;
  std::string git_rev;
  int64_t started_at_unix_us = 0;
};

// Registers the callbacks on construction and removes them on destruction (which waits for a
// scrape in progress). Construct once the sources are started; destroy before stopping them.
// Not copyable; construction and destruction are not thread-safe with each other.
class ServerMetrics {
 public:
  explicit ServerMetrics(ServerMetricsSources sources);
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

 private:
  const ServerMetricsSources sources_;
  std::vector<uint64_t> callback_ids_;
};

}  // namespace kalam::server
