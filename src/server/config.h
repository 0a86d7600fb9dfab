// ServerConfig: every setting of kalamdb-server, one struct per server.toml section, and how it is
// loaded: built-in defaults, then server.toml, then KALAMDB_* environment variables, then checks.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam::server {

// [server]: where and how the process listens.
struct ServerSectionConfig {
  // Address to listen on. Default: "127.0.0.1". Env: KALAMDB_SERVER_HOST.
  std::string host = "127.0.0.1";
  // TCP port, 0..65535; 0 = any free port (for tests; the chosen port is logged). Default: 8080.
  // Env: KALAMDB_SERVER_PORT.
  uint16_t port = 8080;
  // HTTP I/O threads; they only parse and write sockets. >= 1. Default: 2.
  uint32_t io_threads = 2;
  // Worker threads running SQL and storage work. 0 = one per CPU core. Default: 0.
  uint32_t worker_threads = 0;
  // A single SELECT whose text ran at most this long (µs) its last 3 times runs on the I/O thread
  // that parsed it instead of a worker (api/inline_reads.h); 0 = every request goes to a worker.
  // Default: 250.
  uint32_t inline_read_max_us = 250;
  // This node's id in Snowflake `_seq` values, 0..1023. Default: 1.
  uint32_t node_id = 1;
  // The origin clients reach this server at ("https://db.example.com"), used in the links the
  // server hands out (SHOW EXPORT download_url). No trailing '/'. Empty: "http://<host>:<port>"
  // with 0.0.0.0 / :: replaced by 127.0.0.1. Default: "".
  std::string public_origin;
  // Directory holding the admin console's built files (index.html, assets/), served at /ui.
  // Empty: `ui` next to the kalamdb-server binary. Default: "".
  std::string ui_path;

  bool operator==(const ServerSectionConfig&) const = default;
};

// [storage]: the hot store on local disk.
struct StorageConfig {
  // Directory holding RocksDB and local cold segments. Default: "./data". Env: KALAMDB_DATA_DIR.
  std::string data_dir = "./data";
  // false: every commit is in the write-ahead log before it is acknowledged, without fsync; it
  // survives `kill -9` of the server but not a power loss or kernel crash. true: fsync per commit
  // group; survives power loss, costs write throughput. Default: false.
  bool sync_writes = false;
  // RocksDB block cache size in MiB. > 0. Default: 256.
  uint64_t rocksdb_block_cache_mb = 256;
  // Memory for decoded cold (Parquet) segments kept for reuse, in MiB. > 0. Default: 512.
  uint64_t cold_cache_mb = 512;
  // Flush every table's hot rows to cold storage on graceful shutdown. Default: true.
  bool flush_on_shutdown = true;
  // Threads running flush and compaction jobs. > 0. Default: 1.
  uint32_t job_threads = 1;
  // Finished jobs stay in system.jobs this many days. > 0. Default: 7.
  uint32_t job_retention_days = 7;
  // How often FLUSH_POLICY triggers are checked, in milliseconds. > 0. Default: 1000.
  uint32_t flush_check_interval_ms = 1000;

  bool operator==(const StorageConfig&) const = default;
};

// [auth]: tokens, the bootstrap root user and password policy (PROTOCOL.md §2).
struct AuthConfig {
  // HS256 key signing JWTs. Empty: a random secret is generated at first start and persisted in
  // the data directory, so tokens survive restarts. Default: "". Env: KALAMDB_JWT_SECRET.
  std::string jwt_secret;
  // Access-token lifetime in hours (refresh tokens live 7x as long). > 0. Default: 24.
  uint32_t jwt_expiry_hours = 24;
  // Password given to `root` at first start. Empty: root has no password, can log in only from
  // loopback, and the server reports `needs_setup`. Default: "". Env: KALAMDB_ROOT_PASSWORD.
  std::string root_password;
  // When root_password is empty at first start: true generates a password for root and prints
  // it once (the quick start); false leaves root without a password, so the server reports
  // `needs_setup` and waits for POST /v1/api/auth/setup (PROTOCOL.md §2). Default: true.
  bool generate_root_password = true;
  // Allow /v1/api/auth/status and /v1/api/auth/setup from non-loopback peers. Default: false.
  bool allow_remote_setup = false;
  // A loopback request to the SQL endpoint without an Authorization header runs as
  // `localhost_user`. Default: false.
  bool localhost_bypass = false;
  // User that loopback requests run as when `localhost_bypass` is on. Non-empty. Default: "root".
  std::string localhost_user = "root";
  // Shortest accepted password. >= 1 and <= max_password_length. Default: 8.
  uint32_t min_password_length = 8;
  // Longest accepted password. >= 1. Default: 1024.
  uint32_t max_password_length = 1024;
  // Cost of the argon2id hash of each stored password (CREATE USER, ALTER USER … PASSWORD,
  // setup, root bootstrap); a login costs the same as the hash it checks. Passes over memory
  // (argon2 t), 1..10. Default: 2.
  uint32_t password_hash_ops_limit = 2;
  // Memory per hash in KiB (argon2 m), 8..4194304. Default: 19456 (19 MiB; OWASP's minimum for
  // argon2id with t = 2). Hashes keep the parameters they were made with: a change applies to
  // passwords set from then on, and logins verify old hashes with their own parameters.
  uint32_t password_hash_memory_kib = 19456;

  bool operator==(const AuthConfig&) const = default;
};

// [limits]: request-level limits (PROTOCOL.md §1, §3). All must be > 0.
struct LimitsConfig {
  // Longest SQL text in one request, in bytes; longer → 400 INVALID_SQL. Default: 1048576 (1 MiB).
  uint64_t max_sql_length = 1048576;
  // Largest HTTP request body; larger → 413 BODY_TOO_LARGE. Default: 2097152 (2 MiB).
  uint64_t max_body_bytes = 2097152;
  // Rows returned by a SELECT without a top-level LIMIT. <= max_query_limit. Default: 50.
  uint32_t default_query_limit = 50;
  // Most rows any SELECT returns. Default: 1000.
  uint32_t max_query_limit = 1000;
  // Concurrent connections (HTTP and WebSocket); more → 503 TOO_MANY_CONNECTIONS. Default: 10000.
  uint32_t max_connections = 10000;
  // Seconds allowed per request phase (receiving, handling, sending). Default: 30.
  uint32_t request_timeout_secs = 30;

  bool operator==(const LimitsConfig&) const = default;
};

// [execution]: the SQL engine.
struct ExecutionConfig {
  // Most `$N` parameters in one request. > 0. Default: 50.
  uint32_t max_parameters = 50;
  // Prepared statements kept in the shared plan cache; 0 = no caching. Default: 256.
  uint32_t statement_cache_size = 256;
  // Pooled SQLite connections; 0 = as many as worker threads plus I/O threads. Default: 0.
  uint32_t sql_connections = 0;

  bool operator==(const ExecutionConfig&) const = default;
};

// [logging]
struct LoggingConfig {
  // One of trace, debug, info, warn, error, critical, off. Default: "info".
  // Env: KALAMDB_LOG_LEVEL.
  std::string level = "info";
  // Log file path. Empty: console (stderr) only; else also a size-rotated file. Default: "".
  std::string file;
  // Rotate the file when it reaches this many MiB. > 0. Default: 50.
  uint32_t max_file_mb = 50;
  // Rotated files kept besides the current one. > 0. Default: 5.
  uint32_t max_files = 5;
  // Line format of the console and the file: "compact" (human-readable, one line per message)
  // or "json" (one JSON object per line: timestamp, level, thread, target, message). Both are
  // readable through system.server_logs. Default: "compact".
  std::string format = "compact";
  // Statements running at least this many milliseconds are written to slow.log (beside `file`;
  // none when `file` is empty) and logged as a warning. 0 = every statement, -1 = off.
  // Also accepted as logging.slow_query_ms. Default: 1200.
  int64_t slow_query_threshold_ms = 1200;

  bool operator==(const LoggingConfig&) const = default;
};

// [rate_limit]: per client IP, before authentication.
struct RateLimitConfig {
  // Login/refresh/setup requests per IP per second; more → 429. 0 = unlimited. Default: 20.
  uint32_t max_auth_requests_per_ip_per_sec = 20;
  // All requests per IP per second; more → 429 RATE_LIMIT_EXCEEDED. 0 = unlimited. Default: 0.
  uint32_t max_requests_per_ip_per_sec = 0;
  // Live subscriptions one user may hold across all its WebSocket connections; more →
  // SUBSCRIPTION_LIMIT_EXCEEDED (PROTOCOL.md §4). 0 = unlimited. Default: 10.
  uint32_t max_subscriptions_per_user = 10;
  // Messages one WebSocket connection may send per second (bursts up to this many); more →
  // RATE_LIMIT_EXCEEDED and the message is dropped. 0 = unlimited. Default: 50.
  uint32_t max_messages_per_sec = 50;

  bool operator==(const RateLimitConfig&) const = default;
};

// [security]
struct SecurityConfig {
  // Origins allowed to call the API from a browser ("*" = any). Empty: no CORS headers.
  // Default: [].
  std::vector<std::string> cors_allowed_origins;
  // Largest WebSocket frame accepted, in bytes; larger → MESSAGE_TOO_LARGE. > 0.
  // Default: 1048576 (1 MiB).
  uint64_t max_ws_message_size = 1048576;

  bool operator==(const SecurityConfig&) const = default;
};

// [stream]: STREAM tables (docs/streams.md).
struct StreamConfig {
  // Seconds between eviction passes that delete expired stream rows (reads hide them anyway).
  // 0 = never. Default: 60.
  uint64_t eviction_interval_seconds = 60;

  bool operator==(const StreamConfig&) const = default;
};

// [export]: user data exports (EXPORT USER DATA; docs/export.md).
struct ExportConfig {
  // Hours an export file is kept before the job scheduler deletes it (SHOW EXPORT then shows
  // the job as `expired`). 0 = kept forever. Default: 168 (7 days).
  uint64_t retention_hours = 168;

  bool operator==(const ExportConfig&) const = default;
};

// [vector]: vector indexes (docs/vectors.md).
struct VectorConfig {
  // Smallest HNSW candidate list of an indexed search; each search widens it with k and with
  // the index's size (vector::SearchEf). Default: 128.
  uint64_t ef_search = 128;

  bool operator==(const VectorConfig&) const = default;
};

// [files]: FILE column uploads (docs/files.md).
struct FilesConfig {
  // Largest uploaded file, in bytes; larger → 400 FILE_TOO_LARGE. Default: 26214400 (25 MiB).
  uint64_t max_size_bytes = 26214400;
  // File parts per request; more → 400 TOO_MANY_FILES. Default: 20.
  uint64_t max_files_per_request = 20;
  // Files per `fNNNN` subfolder of a table before the next one is used. Default: 5000.
  uint64_t max_files_per_folder = 5000;
  // Largest multipart/form-data request body (413 BODY_TOO_LARGE above it); JSON bodies keep
  // limits.max_body_bytes. Default: 27262976 (26 MiB: one file of max_size_bytes and the SQL).
  uint64_t max_request_bytes = 27262976;
  // MIME types accepted: exact ("image/png") or "type/*". Empty = all. Default: [].
  std::vector<std::string> allowed_mime_types;

  bool operator==(const FilesConfig&) const = default;
};

// [websocket]: live-query connections on /v1/ws (PROTOCOL.md §4). All must be > 0.
struct WebSocketConfig {
  // Seconds a connection that sent no Authorization header on the upgrade has to send its
  // `authenticate` message; then auth_error and close 1008. Default: 3.
  uint32_t auth_timeout_secs = 3;
  // Seconds of client silence (no message, no WebSocket ping) after which the connection is
  // closed with 1000 "Heartbeat timeout". Default: 10.
  uint32_t client_timeout_secs = 10;
  // Live subscriptions one connection may hold; more → SUBSCRIPTION_LIMIT_EXCEEDED. Default: 100.
  uint32_t max_subscriptions_per_connection = 100;
  // Server→client messages waiting to be written per connection; when full, the subscription
  // that could not queue gets SUBSCRIBER_LAGGING and is closed. Default: 1024.
  uint32_t outbound_queue_messages = 1024;

  bool operator==(const WebSocketConfig&) const = default;
};

// [topics]: topics and consumer groups (docs/topics.md).
struct TopicsConfig {
  // Seconds a consumer-group claim lasts; an unacknowledged message is redelivered after it.
  // Env: KALAMDB_TOPIC_VISIBILITY_TIMEOUT_SECS. Must be > 0. Default: 60.
  uint32_t visibility_timeout_secs = 60;
  // Seconds between retention checks (a topic_retention job runs when messages expired).
  // 0 = never. Default: 60.
  uint32_t retention_check_interval_seconds = 60;

  bool operator==(const TopicsConfig&) const = default;
};

// [backup]: BACKUP DATABASE and restore (docs/backup.md).
struct BackupConfig {
  // Directories backups may be written into and restored from (a backup path must resolve, with
  // symlinks followed, to a directory inside one of them). Empty = the single directory
  // `<data_dir>/../backups`. Default: [].
  std::vector<std::string> allowed_dirs;

  bool operator==(const BackupConfig&) const = default;
};

// [metrics]: GET /metrics (docs/metrics.md).
struct MetricsConfig {
  // Answer GET /metrics for peers other than loopback too. Default false: loopback only (403
  // otherwise), as the figures describe the server's load and contents.
  bool allow_remote = false;

  bool operator==(const MetricsConfig&) const = default;
};

// [audit]: system.audit_log (docs/audit.md).
struct AuditConfig {
  // Days an audit entry is kept; older entries are deleted by the job scheduler (checked at most
  // once a minute). 0 = kept forever. Default: 90.
  uint64_t retention_days = 90;

  bool operator==(const AuditConfig&) const = default;
};

// [cluster]: Raft replication across nodes (docs/cluster.md). Without peers (the default, and
// when the section is absent) the server is a single node, exactly as without this section.
struct ClusterConfig {
  // This node's Raft id, 1..1023; must be listed in `peers` and equal server.node_id (the id
  // stamped into every `_seq`). 0 = not a cluster member. Default: 0.
  uint32_t node_id = 0;
  // Every member, this node included, as "id=host:port" with the port its Raft transport
  // listens on, e.g. ["1=10.0.0.1:9100", "2=10.0.0.2:9100", "3=10.0.0.3:9100"]. Ids and
  // addresses unique. Empty: single node. Default: [].
  std::vector<std::string> peers;
  // Every member's HTTP API as "id=host:port" (plain HTTP), e.g. ["1=10.0.0.1:8080", ...]: a
  // write this node does not lead is forwarded to its leader's entry (docs/cluster.md). Ids
  // must be ids of `peers`; a leader without an entry gets no forwarding (NOT_LEADER stays).
  // A node that restores a snapshot fetches its files from the source's entry. Default: [].
  std::vector<std::string> api_peers;
  // User shards the rows of USER tables are split into, by user id; fixed when the cluster is
  // created. 1..1024. Default: 8.
  uint32_t user_shards = 8;
  // Directory for the Raft logs and snapshots. Empty: "<data_dir>/raft". Default: "".
  std::string raft_dir;
  // Directory every member shares (the same path on each: a network file system, or one
  // machine's directory for local clusters): the built-in `local` storage keeps the flushed
  // segments there instead of "<data_dir>/storage", so every node reads the segments the shard
  // leaders flush. Empty: `local` stays in the node's data directory and a flush into it is
  // refused on a cluster node (docs/cluster.md, Cold tier). Default: "".
  std::string shared_storage_dir;
  // Milliseconds a follower waits without hearing from its leader before it starts an election
  // (libraft randomises it between 1x and 2x). 100..60000. Default: 1000.
  uint32_t election_timeout_ms = 1000;
  // Milliseconds between a leader's heartbeats; < election_timeout_ms. 10..60000. Default: 100.
  uint32_t heartbeat_timeout_ms = 100;
  // Entries a data group applies between two shard snapshots (docs/cluster.md, Snapshots).
  // 1..1000000000. Default: 1024 (libraft's).
  uint32_t snapshot_threshold = 1024;
  // Entries a data group keeps in its log behind a snapshot (a follower that lags by more gets
  // the snapshot). 0..1000000000. Default: 8192 (libraft's).
  uint32_t snapshot_trailing = 8192;
  // The shared secret members present (Authorization: Bearer) to get each other's snapshot
  // files; the same on every member, at least 16 characters. Empty: this node serves no
  // snapshot files and cannot fetch any. Default: "".
  std::string secret;

  // True when this node is a cluster member (peers are configured).
  bool enabled() const { return !peers.empty(); }

  bool operator==(const ClusterConfig&) const = default;
};

// The whole configuration. A plain value: copy it freely; thread-compatible.
struct ServerConfig {
  ServerSectionConfig server;
  StorageConfig storage;
  AuthConfig auth;
  LimitsConfig limits;
  ExecutionConfig execution;
  LoggingConfig logging;
  RateLimitConfig rate_limit;
  SecurityConfig security;
  WebSocketConfig websocket;
  StreamConfig stream;
  TopicsConfig topics;
  BackupConfig backup;
  ExportConfig exports;  // [export]
  FilesConfig files;     // [files]
  VectorConfig vector;   // [vector]
  MetricsConfig metrics;
  AuditConfig audit;
  ClusterConfig cluster;

  bool operator==(const ServerConfig&) const = default;
};

// Looks up an environment variable; nullopt when unset. Injected so tests control the environment.
using GetEnvFn = std::function<std::optional<std::string>(const char* name)>;

// Reads the real process environment (std::getenv). For main().
std::optional<std::string> ProcessEnv(const char* name);

// Loads the configuration:
//  1. built-in defaults;
//  2. the TOML file: `path` if given (it must exist), else ./server.toml if it exists, else none;
//  3. environment overrides (an empty variable counts as unset): KALAMDB_SERVER_HOST,
//     KALAMDB_SERVER_PORT, KALAMDB_DATA_DIR, KALAMDB_LOG_LEVEL, KALAMDB_JWT_SECRET,
//     KALAMDB_ROOT_PASSWORD;
//  4. ValidateConfig.
// Every failure is kInvalidArgument with one line for a person, naming the key and where the value
// came from: "Invalid configuration: limits.max_query_limit must be > 0 (got 0) in server.toml".
// Unknown sections and keys are errors (a typo must not be silently ignored), as are values of
// the wrong type. An existing file that cannot be read is kIoError.
Result<ServerConfig> LoadConfig(const std::optional<std::string>& path, const GetEnvFn& getenv_fn);

// Parses TOML text over the defaults (step 2 alone, no environment, no ValidateConfig).
// `source_name` is used in error messages ("server.toml").
Result<ServerConfig> ParseConfigToml(std::string_view toml_text, std::string_view source_name);

// Checks ranges and cross-field rules: port 0..65535, node_id 0..1023, io_threads >= 1, limits
// and sizes > 0, default_query_limit <= max_query_limit, min_password_length <=
// max_password_length, non-empty host/data_dir/localhost_user, a known log level; with
// cluster.peers set: well-formed unique peers, cluster.node_id among them and equal to
// server.node_id; heartbeat_timeout_ms < election_timeout_ms.
// kInvalidArgument ("Invalid configuration: ...") on the first violation.
Status ValidateConfig(const ServerConfig& config);

// A complete server.toml holding every key at its default, each commented; parsing it yields
// ServerConfig{}. Printed by `kalamdb-server --print-default-config` and used in docs.
std::string DefaultConfigToml();

// One setting as system.settings shows it.
struct SettingValue {
  std::string name;         // dotted key: "limits.default_query_limit"
  std::string value;        // as TOML would write it, without quotes for strings; lists joined
                            // with ", "; secrets (auth.jwt_secret, auth.root_password) as "***"
                            // when set
  std::string description;  // the comment above the key in DefaultConfigToml, on one line
  std::string category;     // the section: "limits"
};

// Every setting of `config`, in VisitFields order (the same keys and sections as server.toml).
std::vector<SettingValue> ListSettings(const ServerConfig& config);

}  // namespace kalam::server
