// Server wiring and lifecycle.
#include "server/server.h"

#include <sodium.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/auth_service.h"
#include "audit/audit_log.h"
#include "api/live_ws.h"
#include "api/ws_transport.h"
#include "live/live_manager.h"
#include "api/routes.h"
#include "api/ui_routes.h"
#include "auth/password.h"
#include "catalog/catalog.h"
#include "catalog/storage_catalog.h"
#include "jobs/backup.h"
#include "commit/commit_pipeline.h"
#include "commit/commit_shards.h"
#include "exports/user_export_service.h"
#include "files/file_service.h"
#include "jobs/job_system.h"
#include "common/clock.h"
#include "common/snowflake.h"
#include "net/http_server.h"
#include "net/rate_limiter.h"
#include "common/thread_pool.h"
#include "sql/executor.h"
#include "server/cluster_forwarder.h"
#include "server/cluster_node.h"
#include "server/server_metrics.h"
#include "sql/sqlite/connection.h"
#include "storage/kv_store.h"
#include "table/table_store.h"
#include "topics/topic_service.h"
#include "vector/vector_indexes.h"

namespace kalam::server {

namespace {

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  static const char* kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::string out;
  for (unsigned char c : raw) out.push_back(kAlphabet[c % 57]);
  return out;
}

// Test only: KALAMDB_TEST_FLUSH_PAUSE_MS makes every flush pause at its test pause points
// (table::FlusherOptions::test_pause), KALAMDB_TEST_RESTORE_PAUSE_MS every RESTORE NAMESPACE
// before it publishes (JobSystemOptions::restore_test_pause), so crash tests can kill the server
// there. Unset or empty: no pause.
Result<std::chrono::milliseconds> TestPause(const char* name, const char* what) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::chrono::milliseconds(0);
  const std::string_view value(text);
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (ec != std::errc() || end != value.data() + value.size() || ms < 0) {
    return Status::InvalidArgument(std::string(name) + " must be a number of milliseconds, got '" +
                                   std::string(value) + "'");
  }
  spdlog::warn("{}={}: {} (for crash tests only)", name, ms, what);
  return std::chrono::milliseconds(ms);
}

// The origin of links the server hands out: server.public_origin, else http://<host>:<port> with
// a wildcard bind address shown as loopback (a client cannot connect to 0.0.0.0).
std::string PublicOrigin(const ServerConfig& config, uint16_t port) {
  std::string origin = config.server.public_origin;
  if (!origin.empty()) {
    while (!origin.empty() && origin.back() == '/') origin.pop_back();
    return origin;
  }
  std::string host = config.server.host;
  if (host == "0.0.0.0" || host == "::" || host == "[::]") host = "127.0.0.1";
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

}  // namespace

struct Server::Impl {
  ServerConfig config;
  BuildInfo build;
  const Clock& clock = Clock::System();

  // Construction order; destroyed in reverse.
  std::unique_ptr<ThreadPool> workers;
  std::unique_ptr<api::InlineReads> inline_reads;  // null when server.inline_read_max_us = 0
  std::unique_ptr<net::HttpServer> http;
  std::unique_ptr<storage::KvStore> kv;
  // A [cluster] member's Raft groups, shard pipelines and meta group (the catalog writes through
  // it); null on a single node.
  std::unique_ptr<ClusterNode> cluster;
  // Forwards writes this node does not lead to their leader; null on a single node.
  std::unique_ptr<ClusterForwarder> forwarder;
  std::unique_ptr<catalog::Catalog> catalog;
  std::unique_ptr<audit::AuditLog> audit;
  std::unique_ptr<SnowflakeGenerator> ids;
  std::unique_ptr<catalog::StorageCatalog> storages;
  std::unique_ptr<table::ColdStore> cold;
  std::unique_ptr<table::TableStore> tables;
  // A single node's one commit pipeline (null on a cluster node: `cluster` has one per shard).
  std::unique_ptr<commit::CommitPipeline> pipeline;
  // Which pipeline each table commits through: the one `pipeline` on a single node.
  std::unique_ptr<commit::CommitShards> shards;
  std::unique_ptr<topics::TopicService> topics;
  std::unique_ptr<files::FileService> files;
  std::unique_ptr<vector::VectorIndexes> vectors;
  std::unique_ptr<commit::CommitHookChain> commit_hooks;  // files, topics, then vectors
  std::unique_ptr<sql::SqlConnectionPool> sql_pool;
  std::unique_ptr<sql::SlowQueryLog> slow_queries;
  std::unique_ptr<sql::Executor> executor;
  std::unique_ptr<api::AuthService> auth;
  // Declared before `jobs`: destroyed after it, since export jobs and the export retention task
  // call into it.
  std::unique_ptr<exports::UserExportService> exports;
  std::unique_ptr<jobs::JobSystem> jobs;
  std::unique_ptr<live::LiveManager> live;
  // `live` once started, for the commit pipeline's EPHEMERAL predicate (null before).
  std::atomic<live::LiveManager*> live_for_streams{nullptr};
  std::unique_ptr<api::LiveWsApplication> live_ws;
  std::unique_ptr<api::WsTransport> ws;
  std::unique_ptr<net::RateLimiter> auth_limiter;
  std::unique_ptr<net::RateLimiter> request_limiter;
  // Scrape-time metrics; created once everything above runs, destroyed first on Stop.
  std::unique_ptr<ServerMetrics> metrics;
  api::ApiContext api;
  std::atomic<bool> ready{false};
  bool stopped = false;

  std::vector<jobs::RestoreGap> restore_gaps;  // from RecordRestoreGaps at start

  Status OpenData();
  Status BootstrapRoot();
  // [auth] password_hash_*: the cost of every password hash the server makes.
  auth::PasswordHashParams PasswordHash() const {
    auth::PasswordHashParams p;
    p.ops_limit = config.auth.password_hash_ops_limit;
    p.mem_limit_bytes = static_cast<size_t>(config.auth.password_hash_memory_kib) << 10;
    return p;
  }
};

Status Server::Impl::OpenData() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(config.storage.data_dir, ec);
  if (ec) {
    return Status::IoError("Cannot create data directory '" + config.storage.data_dir +
                           "': " + ec.message());
  }
  // A restore staged by RESTORE DATABASE replaces the data before anything opens it.
  KALAM_ASSIGN_OR_RETURN(bool restored, jobs::ApplyStagedRestore(config.storage.data_dir));
  if (restored) {
    spdlog::warn("Applied the restore staged by RESTORE DATABASE: the data directory '{}' now holds "
                 "the backup's data",
                 config.storage.data_dir);
  }
  storage::RocksOptions ro;
  ro.block_cache_bytes = config.storage.rocksdb_block_cache_mb << 20;
  KALAM_ASSIGN_OR_RETURN(kv, storage::OpenRocksStore(
                                 (fs::path(config.storage.data_dir) / "rocks").string(), ro));
  // A cluster node's catalog writes go through the meta group (after the start-up writes).
  if (config.cluster.enabled()) cluster = std::make_unique<ClusterNode>(config, *kv);
  KALAM_ASSIGN_OR_RETURN(catalog,
                         catalog::Catalog::Open(cluster ? cluster->meta_kv() : *kv, clock,
                                                cluster ? kv.get() : nullptr));
  audit = std::make_unique<audit::AuditLog>(*kv, clock);
  ids = std::make_unique<SnowflakeGenerator>(config.server.node_id, clock);
  // A cluster node's `local` storage may live in a directory every member shares (Cold tier in
  // docs/cluster.md); else in the node's data directory.
  const bool shared_local = cluster && !config.cluster.shared_storage_dir.empty();
  const std::string storage_dir =
      fs::absolute(shared_local ? fs::path(config.cluster.shared_storage_dir)
                                : fs::path(config.storage.data_dir) / "storage")
          .lexically_normal()
          .string();
  KALAM_ASSIGN_OR_RETURN(storages, catalog::StorageCatalog::Open(*kv, clock, storage_dir));
  cold = std::make_unique<table::ColdStore>(*kv, *storages, config.storage.cold_cache_mb << 20);
  KALAM_RETURN_IF_ERROR(cold->Load());
  tables = std::make_unique<table::TableStore>(*kv, cold.get());
  commit::CommitPipelineOptions po;
  po.sync_writes = config.storage.sync_writes;
  auto configure_pipeline = [this](commit::CommitPipeline& p) {
    p.SetColdStore(cold.get());
    // EPHEMERAL streams keep a row only while someone subscribes to its (table, user); live
    // queries start later, before any request is served.
    p.SetStreamSubscriberPredicate([this](catalog::TableId table, const table::Scope& scope) {
      live::LiveManager* l = live_for_streams.load(std::memory_order_acquire);
      return l != nullptr && l->HasSubscriber(table, scope);
    });
  };
  if (!cluster) {
    pipeline = std::make_unique<commit::CommitPipeline>(*kv, *ids, po);
    configure_pipeline(*pipeline);
  }
  topics::TopicServiceOptions to;
  to.visibility_timeout = std::chrono::seconds(config.topics.visibility_timeout_secs);
  to.retention_check_interval =
      std::chrono::seconds(config.topics.retention_check_interval_seconds);
  topics = std::make_unique<topics::TopicService>(*kv, *catalog, clock, to);
  KALAM_RETURN_IF_ERROR(topics->Open());
  files::FileLimits fl;
  fl.max_size_bytes = config.files.max_size_bytes;
  fl.max_files_per_request = config.files.max_files_per_request;
  fl.max_files_per_folder = config.files.max_files_per_folder;
  fl.allowed_mime_types = config.files.allowed_mime_types;
  for (auto& m : fl.allowed_mime_types) {
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  files = std::make_unique<files::FileService>(
      *kv, *catalog, *cold, *ids, fl,
      fs::absolute(fs::path(config.storage.data_dir) / "tmp").lexically_normal().string());
  // Recovery (staged uploads of statements cut by a crash) runs before any commit.
  KALAM_RETURN_IF_ERROR(files->Start());
  // The vector indexes (derived data: docs/vectors.md); their snapshots live in the tables'
  // storages, written at flush and compaction, and pass through data_dir/tmp/vectors.
  vector::HnswParams hnsw;
  hnsw.ef_search = static_cast<size_t>(config.vector.ef_search);
  // Scratch files left by a crash are only copies: cleared (a failure only costs space).
  const fs::path vector_scratch =
      fs::absolute(fs::path(config.storage.data_dir)) / "tmp" / "vectors";
  std::error_code scratch_ec;
  fs::remove_all(vector_scratch, scratch_ec);
  vectors = std::make_unique<vector::VectorIndexes>(*tables, vector_scratch.string(), hnsw);
  commit_hooks = std::make_unique<commit::CommitHookChain>(
      std::vector<commit::CommitHook*>{files.get(), topics.get(), vectors.get()});
  if (cluster) {
    // No commit hooks on a cluster node yet (docs/cluster.md): they assume one pipeline.
    // A restored shard's rows changed without change records: its live subscriptions end with
    // an error, so their clients subscribe again (a fresh initial snapshot).
    cluster->SetOnRestored([this](cluster::GroupId group) {
      live::LiveManager* l = live_for_streams.load(std::memory_order_acquire);
      if (l == nullptr) return;
      const size_t ended = l->EndWhere(
          [&](const catalog::TableDef& table, const std::string& scope) {
            return this->cluster->GroupOf(table.type, scope) == group;
          },
          "This node restored a snapshot of the table's shard; subscribe again");
      if (ended > 0) spdlog::warn("Ended {} live subscriptions after a snapshot restore", ended);
    });
    KALAM_RETURN_IF_ERROR(cluster->Start(*ids, po, configure_pipeline, *catalog));
    shards = std::make_unique<commit::CommitShards>(cluster->shards());
  } else {
    pipeline->SetCommitHook(commit_hooks.get());
    KALAM_RETURN_IF_ERROR(pipeline->Start());
    shards = std::make_unique<commit::CommitShards>(*pipeline);
  }
  // The pipeline given to what takes one (backups and exports: not run on a cluster node yet).
  commit::CommitPipeline& primary = cluster ? cluster->shared_pipeline() : *pipeline;
  // After a restore, the `_seq`s between the backup's point and now belong to a discarded history.
  KALAM_ASSIGN_OR_RETURN(restore_gaps, jobs::RecordRestoreGaps(*kv, ids->Next()));
  for (const auto& g : restore_gaps) {
    spdlog::info("Restored history: _seq {} (backup) to {} (this server's first) is not resumable",
                 g.backup_seq, g.resumed_at_seq);
  }

  std::string secret = config.auth.jwt_secret;
  if (secret.empty()) {
    KALAM_ASSIGN_OR_RETURN(secret, catalog->GetOrCreateMeta("jwt_secret", [] { return RandomToken(48); }));
  }
  api::AuthSettings as;
  as.jwt_secret = secret;
  as.jwt_expiry_hours = config.auth.jwt_expiry_hours;
  as.min_password_length = config.auth.min_password_length;
  as.max_password_length = config.auth.max_password_length;
  as.password_hash = PasswordHash();
  auth = std::make_unique<api::AuthService>(*catalog, as, clock);
  KALAM_RETURN_IF_ERROR(BootstrapRoot());
  // Every node made its own start-up writes above; from here on DDL is replicated.
  if (cluster) {
    cluster->ReplicateCatalog();
    KALAM_ASSIGN_OR_RETURN(forwarder, ClusterForwarder::Create(config.cluster, *cluster));
  }
  // Builds the dummy hash before the first login needs it.
  auth::BurnDummyVerify("warm-up", as.password_hash);

  const size_t workers_n = workers->size();
  // Inline reads (api/inline_reads.h) lease a connection on an I/O thread only when one is free;
  // the default leaves one per I/O thread beside the workers' own.
  size_t conns = config.execution.sql_connections
                     ? config.execution.sql_connections
                     : workers_n + std::max<uint32_t>(1, config.server.io_threads);
  KALAM_ASSIGN_OR_RETURN(sql_pool, sql::SqlConnectionPool::Create(conns, config.execution.statement_cache_size));
  sql::ExecutorOptions eo;
  eo.default_query_limit = config.limits.default_query_limit;
  eo.max_query_limit = config.limits.max_query_limit;
  eo.request_time_limit = std::chrono::seconds(config.limits.request_timeout_secs);
  eo.min_password_length = config.auth.min_password_length;
  eo.max_password_length = config.auth.max_password_length;
  eo.password_ops_limit = as.password_hash.ops_limit;
  eo.password_mem_limit_bytes = as.password_hash.mem_limit_bytes;
  eo.data_dir = config.storage.data_dir;
  for (auto& setting : ListSettings(config)) {
    eo.settings.push_back({std::move(setting.name), std::move(setting.value),
                           std::move(setting.description), std::move(setting.category)});
  }
  eo.server_version = build.version;
  eo.server_build_date = build.build_date;
  eo.server_git_commit = build.git_rev;
  eo.node_id = config.server.node_id;
  eo.api_addr = config.server.host + ":" + std::to_string(config.server.port);
  eo.server_workers_configured = config.server.worker_threads;
  eo.server_workers_effective = workers_n;
  eo.max_connections = config.limits.max_connections;
  eo.log_file = config.logging.file;
  executor = std::make_unique<sql::Executor>(*catalog, *tables, *shards, *sql_pool, *ids, clock, eo);
  executor->set_storages(storages.get());
  executor->set_audit_log(audit.get());
  executor->set_vectors(vectors.get());
  if (cluster) executor->set_cluster_status(cluster.get());
  // slow.log sits beside the server log file (the original's <logs_path>/slow.log); none when
  // the threshold is -1 (off).
  const std::string slow_path =
      config.logging.file.empty() || config.logging.slow_query_threshold_ms < 0
          ? std::string()
          : (fs::path(config.logging.file).parent_path() / "slow.log").string();
  KALAM_ASSIGN_OR_RETURN(slow_queries,
                         sql::SlowQueryLog::Open(slow_path, std::chrono::milliseconds(
                                                               config.logging.slow_query_threshold_ms)));
  executor->set_slow_query_log(slow_queries.get());

  jobs::JobSystemOptions jo;
  jo.manager.threads = config.storage.job_threads;
  jo.manager.retention = std::chrono::hours(24 * config.storage.job_retention_days);
  jo.manager.node_id = std::to_string(config.server.node_id);
  jo.tick = std::chrono::milliseconds(config.storage.flush_check_interval_ms);
  jo.stream_eviction_interval = std::chrono::seconds(config.stream.eviction_interval_seconds);
  KALAM_ASSIGN_OR_RETURN(jo.flusher.test_pause,
                         TestPause("KALAMDB_TEST_FLUSH_PAUSE_MS",
                                   "every flush pauses at its test pause points"));
  KALAM_ASSIGN_OR_RETURN(jo.restore_test_pause,
                         TestPause("KALAMDB_TEST_RESTORE_PAUSE_MS",
                                   "every RESTORE NAMESPACE pauses before it publishes"));
  // Compaction that purges tombstones releases their FILE attachments in the same write.
  jo.flusher.on_purge = [f = files.get()](const catalog::TableDef& def,
                                          const std::vector<std::vector<Value>>& rows,
                                          storage::WriteBatch* batch) {
    return f->OnPurge(def, rows, batch);
  };
  jo.flusher.after_purge = [f = files.get()] { f->Wake(); };
  // Each flush and compaction writes the vector index snapshots next to the segments.
  jo.flusher.snapshot_vectors = [v = vectors.get()](
                                    const catalog::TableDef& def, const table::Scope& scope,
                                    bool rebuild, filestore::ObjectStore& store,
                                    const std::string& folder, int64_t file_id,
                                    const std::vector<table::VectorIndexEntry>& current) {
    return v->SnapshotScope(def, scope, rebuild, store, folder, file_id, current);
  };
  jo.storages = storages.get();
  jo.backup_roots = jobs::EffectiveBackupRoots(config.backup.allowed_dirs, config.storage.data_dir);
  jo.server_version = build.version;
  jo.data_dir = config.storage.data_dir;
  // A cluster node flushes and compacts the scopes whose shard it leads, each step proposed
  // through the shard's group (docs/cluster.md, Jobs on a cluster node).
  if (cluster) {
    jo.cluster = jobs::JobSystemOptions::ClusterNode{*shards, config.storage.data_dir};
    jo.flusher.unique_file_id = [g = ids.get()] { return g->Next(); };
  }
  jobs = std::make_unique<jobs::JobSystem>(*kv, *catalog, *tables, *cold, primary, *ids, clock, jo);
  exports::UserExportOptions xo;
  xo.directory = fs::absolute(fs::path(config.storage.data_dir) / "exports").lexically_normal().string();
  xo.public_origin = PublicOrigin(config, http->port());
  xo.retention = std::chrono::hours(config.exports.retention_hours);
  KALAM_ASSIGN_OR_RETURN(exports, exports::UserExportService::Create(
                                      *catalog, *tables, *kv, primary, jobs->manager(), clock,
                                      files.get(), xo));
  jobs->AddScheduledTask([this] { exports->DeleteExpired(); });
  if (config.audit.retention_days > 0) {
    jobs->AddScheduledTask(
        [this] { audit->PruneIfDue(std::chrono::hours(24 * config.audit.retention_days)); });
  }
  // Exports write around the commit pipeline: a cluster node does not serve them yet
  // (docs/cluster.md); its job system refuses backups and restores and runs no STREAM eviction.
  KALAM_RETURN_IF_ERROR(jobs->Start());
  executor->set_job_service(jobs.get());
  if (!cluster) executor->set_export_service(exports.get());
  topics->SetJobManager(&jobs->manager());
  topics->Start();
  executor->set_topic_service(topics.get());

  live::LiveManagerOptions lo;
  lo.max_subscriptions_per_user = config.rate_limit.max_subscriptions_per_user;
  lo.max_subscriptions_per_connection = config.websocket.max_subscriptions_per_connection;
  lo.max_batch_size = config.limits.max_query_limit;
  lo.node_id = std::to_string(config.server.node_id);
  for (const auto& g : restore_gaps) lo.foreign_seq_ranges.emplace_back(g.backup_seq, g.resumed_at_seq);
  live = std::make_unique<live::LiveManager>(*catalog, *executor, *shards, clock, lo);
  KALAM_RETURN_IF_ERROR(live->Start());
  live_for_streams.store(live.get(), std::memory_order_release);
  executor->set_live_registry(live.get());
  return Status::OK();
}

Status Server::Impl::BootstrapRoot() {
  auto root = catalog->GetUser("root");
  const std::string& configured = config.auth.root_password;
  if (!root) {
    catalog::UserRecord user;
    user.user_id = "root";
    user.role = auth::Role::kSystem;
    user.created_at_us = user.updated_at_us = clock.NowMicros();
    std::string password = configured;
    bool generated = false;
    if (password.empty() && config.auth.generate_root_password) {
      password = RandomToken(20);
      generated = true;
    }
    if (!password.empty()) {
      KALAM_ASSIGN_OR_RETURN(user.password_hash, auth::HashPassword(password, PasswordHash()));
    }
    KALAM_RETURN_IF_ERROR(catalog->PutUser(user));
    if (password.empty()) {
      spdlog::warn("User 'root' has no password: finish setup with POST /v1/api/auth/setup "
                   "from this machine");
    }
    if (generated) {
      // Printed once, on the first start only: it is never stored in clear text.
      std::printf(
          "\n  Generated password for user 'root': %s\n"
          "  It is shown only this once. Set KALAMDB_ROOT_PASSWORD to choose your own.\n\n",
          password.c_str());
      std::fflush(stdout);
    }
    spdlog::info("Created user 'root' (role system)");
    return Status::OK();
  }
  if (!configured.empty() && (root->password_hash.empty() ||
                              !auth::VerifyPassword(root->password_hash, configured))) {
    KALAM_ASSIGN_OR_RETURN(root->password_hash, auth::HashPassword(configured, PasswordHash()));
    root->updated_at_us = clock.NowMicros();
    KALAM_RETURN_IF_ERROR(catalog->PutUser(*root));
    spdlog::info("Password of user 'root' set from the configuration");
  }
  return Status::OK();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Stop(); }

Result<std::unique_ptr<Server>> Server::Start(const ServerConfig& config, const BuildInfo& build) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->build = build;
  size_t workers = config.server.worker_threads;
  if (workers == 0) workers = std::max<size_t>(8, 4 * std::thread::hardware_concurrency());
  impl->workers = std::make_unique<ThreadPool>(workers);

  Impl* raw = impl.get();
  impl->api.workers = impl->workers.get();
  if (config.server.inline_read_max_us > 0) {
    api::InlineReads::Options io;
    // Every I/O thread may run one: an inline run is cancelled past its budget (a few times
    // inline_read_max_us) and handed to the workers, so a text that turns long holds its I/O
    // thread only that long.
    io.max_concurrent = std::max<uint32_t>(1, config.server.io_threads);
    io.max_run = std::chrono::microseconds(config.server.inline_read_max_us);
    impl->inline_reads = std::make_unique<api::InlineReads>(io);
    impl->api.inline_reads = impl->inline_reads.get();
  }
  impl->api.limits.max_sql_length = config.limits.max_sql_length;
  impl->api.limits.max_parameters = config.execution.max_parameters;
  impl->api.version = build.version;
  impl->api.build_date = build.build_date;
  impl->api.node_id = config.server.node_id;
  impl->api.api_addr = config.server.host + ":" + std::to_string(config.server.port);
  impl->api.ready = &raw->ready;
  if (config.cluster.enabled()) {
    impl->api.snapshot_dir = ClusterNode::SnapshotDir(config);
    impl->api.cluster_secret = config.cluster.secret;
  }
  impl->api.auth_options.allow_remote_setup = config.auth.allow_remote_setup;
  impl->api.auth_options.localhost_bypass = config.auth.localhost_bypass;
  impl->api.auth_options.localhost_user = config.auth.localhost_user;
  impl->api.metrics_allow_remote = config.metrics.allow_remote;
  impl->api.ui_root =
      config.server.ui_path.empty() ? api::DefaultUiRoot()
                                    : std::filesystem::path(config.server.ui_path);
  impl->auth_limiter =
      std::make_unique<net::RateLimiter>(config.rate_limit.max_auth_requests_per_ip_per_sec);
  impl->request_limiter =
      std::make_unique<net::RateLimiter>(config.rate_limit.max_requests_per_ip_per_sec);
  impl->api.auth_limiter = impl->auth_limiter.get();
  impl->api.request_limiter = impl->request_limiter.get();
  auto router = api::BuildRouter(&impl->api);

  net::HttpServerOptions ho;
  ho.host = config.server.host;
  ho.port = config.server.port;
  ho.io_threads = static_cast<int>(std::max<uint32_t>(1, config.server.io_threads));
  ho.max_body_bytes = config.limits.max_body_bytes;
  ho.max_multipart_body_bytes = config.files.max_request_bytes;
  // Upload bodies go to disk as they arrive (files::FileService::Start creates the directory and
  // removes leftovers of a crash).
  ho.spool_dir = std::filesystem::absolute(std::filesystem::path(config.storage.data_dir) / "tmp")
                     .lexically_normal()
                     .string();
  ho.max_connections = config.limits.max_connections;
  ho.request_timeout = std::chrono::seconds(config.limits.request_timeout_secs);
  ho.cors_allowed_origins = config.security.cors_allowed_origins;
  // Bind first: a port in use fails here, before any data is opened.
  KALAM_ASSIGN_OR_RETURN(impl->http, net::HttpServer::Start(ho, router));

  Status opened = impl->OpenData();
  if (!opened.ok()) {
    impl->http->Stop(std::chrono::milliseconds(0));
    return opened;
  }
  impl->api.auth = impl->auth.get();
  impl->api.executor = impl->executor.get();
  impl->api.forwarder = impl->forwarder.get();
  impl->api.cluster = impl->cluster.get();
  impl->api.topics = impl->topics.get();
  impl->api.catalog = impl->catalog.get();
  impl->api.audit = impl->audit.get();
  impl->api.exports = impl->exports.get();
  impl->api.files = impl->files.get();
  // Live queries on /v1/ws.
  api::WsTransportOptions wo;
  wo.auth_timeout = std::chrono::seconds(config.websocket.auth_timeout_secs);
  wo.client_timeout = std::chrono::seconds(config.websocket.client_timeout_secs);
  wo.max_message_bytes = config.security.max_ws_message_size;
  wo.max_messages_per_sec = config.rate_limit.max_messages_per_sec;
  wo.outbound_queue_messages = config.websocket.outbound_queue_messages;
  impl->live_ws = std::make_unique<api::LiveWsApplication>(*impl->live, *impl->workers);
  impl->ws = std::make_unique<api::WsTransport>(wo, *impl->auth, *impl->live_ws);
  impl->http->SetUpgradeHook(impl->ws->Hook());
  ServerMetricsSources ms;
  ms.kv = impl->kv.get();
  ms.catalog = impl->catalog.get();
  ms.shards = impl->shards.get();
  ms.live = impl->live.get();
  ms.ws = impl->ws.get();
  ms.jobs = impl->jobs.get();
  ms.cluster = impl->cluster.get();
  ms.version = build.version;
  ms.git_rev = build.git_rev;
  ms.started_at_unix_us = impl->clock.NowMicros();
  impl->metrics = std::make_unique<ServerMetrics>(std::move(ms));
  impl->ready.store(true, std::memory_order_release);
  spdlog::info("kalamdb-server {} (rev {}, built {}) listening on http://{}:{} — data in {}",
               build.version, build.git_rev, build.build_date, config.server.host,
               impl->http->port(), config.storage.data_dir);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->http->port(); }

void Server::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  spdlog::info("Shutting down: finishing in-flight requests");
  impl_->ready.store(false, std::memory_order_release);
  impl_->metrics.reset();  // before any source stops; waits for a scrape in progress
  // WebSocket connections live on the HTTP server's io_context: close them (1001) first.
  if (impl_->ws) impl_->ws->Shutdown();
  // Pending long polls are answered before the HTTP server stops waiting for responses.
  if (impl_->topics) impl_->topics->Stop();
  if (impl_->http) impl_->http->Stop(std::chrono::seconds(10));
  if (impl_->workers) impl_->workers->Shutdown();
  if (impl_->live) impl_->live->Stop();
  if (impl_->jobs) {
    // Running jobs stop at their next step; then what is still hot goes to cold storage while
    // the commit pipeline still runs exclusive steps.
    impl_->jobs->Stop();
    if (impl_->config.storage.flush_on_shutdown && !impl_->cluster) {
      spdlog::info("Flushing hot rows to cold storage");
      impl_->jobs->FlushAllNow();
    }
  }
  // A cluster node: the Raft groups stop first, then the shard pipelines.
  if (impl_->cluster) impl_->cluster->Stop();
  if (impl_->pipeline) impl_->pipeline->Stop();
  if (impl_->files) impl_->files->Stop();
  impl_->ws.reset();
  impl_->live_ws.reset();
  impl_->live_for_streams.store(nullptr, std::memory_order_release);
  impl_->live.reset();
  impl_->executor.reset();
  impl_->jobs.reset();
  impl_->sql_pool.reset();
  impl_->shards.reset();
  impl_->pipeline.reset();
  impl_->commit_hooks.reset();
  impl_->vectors.reset();
  impl_->files.reset();
  impl_->topics.reset();
  if (impl_->kv) {
    Status flushed = impl_->kv->Flush();
    if (!flushed.ok()) spdlog::error("Final flush failed: {}", flushed.ToString());
  }
  impl_->auth.reset();
  impl_->tables.reset();
  impl_->cold.reset();
  impl_->storages.reset();
  impl_->catalog.reset();
  // After the catalog, which writes through its meta store (stopped above with the runtime).
  impl_->cluster.reset();
  impl_->kv.reset();
  spdlog::info("Shutdown complete");
}

}  // namespace kalam::server
