// The HTTP API of PROTOCOL.md §1–§3: route table and handlers. Handlers parse on the I/O thread
// and run SQL and password hashing on the worker pool.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "api/auth_service.h"
#include "api/inline_reads.h"
#include "api/sql_forwarder.h"
#include "net/rate_limiter.h"
#include "net/router.h"
#include "common/thread_pool.h"
#include "sql/cluster_status.h"
#include "sql/executor.h"

namespace kalam::audit {
class AuditLog;
}
namespace kalam::topics {
class TopicService;
}
namespace kalam::exports {
class UserExportService;
}
namespace kalam::files {
class FileService;
}

namespace kalam::api {

struct ApiLimits {
  size_t max_sql_length = 1 << 20;
  size_t max_parameters = 50;
};

struct ApiAuthOptions {
  // /v1/api/auth/status and /setup from non-loopback peers. Default false.
  bool allow_remote_setup = false;
  // A loopback SQL request without Authorization runs as `localhost_user`. Default false.
  bool localhost_bypass = false;
  std::string localhost_user = "root";
};

// Everything the handlers use. Owned by the server; outlives the HTTP server.
struct ApiContext {
  AuthService* auth = nullptr;
  sql::Executor* executor = nullptr;
  ThreadPool* workers = nullptr;
  // Short single SELECTs run on the I/O thread (api/inline_reads.h). Null: every SQL request
  // goes to the workers.
  InlineReads* inline_reads = nullptr;
  ApiLimits limits;
  ApiAuthOptions auth_options;
  net::RateLimiter* auth_limiter = nullptr;     // per IP, on /v1/api/auth/*
  net::RateLimiter* request_limiter = nullptr;  // per IP, on every request
  std::string version;
  std::string build_date;
  uint64_t node_id = 1;  // server.node_id (GET /v1/api/cluster/health)
  std::string api_addr;  // "<host>:<port>" this node answers on
  topics::TopicService* topics = nullptr;       // the topic API (null: topics unavailable)
  const catalog::Catalog* catalog = nullptr;    // users named in consumed messages
  audit::AuditLog* audit = nullptr;             // logins and token refreshes (null: not recorded)
  exports::UserExportService* exports = nullptr;  // export downloads (null: unavailable)
  files::FileService* files = nullptr;  // FILE uploads and downloads (null: unavailable)
  // GET /metrics from non-loopback peers ([metrics] allow_remote). Default false.
  bool metrics_allow_remote = false;
  // The admin console's built files (server.ui_path, else DefaultUiRoot()), served at /ui.
  std::filesystem::path ui_root;
  // A cluster member's shard snapshot root and the members' shared secret (cluster.secret),
  // for the snapshot file route (api/snapshot_routes.h). Empty secret: the route answers 401.
  std::string snapshot_dir;
  std::string cluster_secret;
  // False until storage is open and while shutting down: requests then get 503.
  const std::atomic<bool>* ready = nullptr;
  // A cluster node's forwarding of writes to their group's leader (docs/cluster.md). Null on a
  // single node: no forwarding code runs.
  SqlForwarder* forwarder = nullptr;
  // A cluster node's view of its groups and members (GET /v1/api/cluster/health). Null on a
  // single node: the health answer is a cluster of one.
  const sql::ClusterStatus* cluster = nullptr;
};

std::shared_ptr<net::Router> BuildRouter(ApiContext* ctx);

}  // namespace kalam::api
