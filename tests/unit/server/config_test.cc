// Tests for LoadConfig: defaults, every key from TOML, unknown keys and wrong types rejected with
// a clear message, environment precedence (env > file > default), and validation.
#include "server/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>
#include <toml++/toml.h>

namespace kalam::server {
namespace {

namespace fs = std::filesystem;

// Every key, each set to a value different from its default.
constexpr std::string_view kFullToml = R"toml(
[server]
host = "0.0.0.0"
port = 9090
io_threads = 4
worker_threads = 8
inline_read_max_us = 100
node_id = 7
public_origin = "https://db.example.com"
ui_path = "/opt/kalamdb/ui"

[storage]
data_dir = "/var/lib/kalamdb"
sync_writes = true
rocksdb_block_cache_mb = 512
cold_cache_mb = 64
flush_on_shutdown = false
job_threads = 2
job_retention_days = 3
flush_check_interval_ms = 250

[auth]
jwt_secret = "s3cret-s3cret-s3cret-s3cret-s3cret"
jwt_expiry_hours = 12
root_password = "rootpass!"
allow_remote_setup = true
generate_root_password = false
localhost_bypass = true
localhost_user = "admin"
min_password_length = 12
max_password_length = 256
password_hash_ops_limit = 3
password_hash_memory_kib = 65536

[limits]
max_sql_length = 2048
max_body_bytes = 4096
default_query_limit = 10
max_query_limit = 100
max_connections = 64
request_timeout_secs = 5

[execution]
max_parameters = 5
statement_cache_size = 16
sql_connections = 3

[logging]
level = "DEBUG"
file = "/tmp/kalamdb.log"
max_file_mb = 10
max_files = 2
format = "JSON"
slow_query_threshold_ms = 0

[rate_limit]
max_auth_requests_per_ip_per_sec = 3
max_requests_per_ip_per_sec = 100
max_subscriptions_per_user = 4
max_messages_per_sec = 20

[security]
cors_allowed_origins = ["https://a.example", "https://b.example"]
max_ws_message_size = 65536

[websocket]
auth_timeout_secs = 7
client_timeout_secs = 30
max_subscriptions_per_connection = 8
outbound_queue_messages = 64

[stream]
eviction_interval_seconds = 5
[topics]
visibility_timeout_secs = 5
retention_check_interval_seconds = 0

[backup]
allowed_dirs = ["/srv/backups", "/mnt/offsite"]

[export]
retention_hours = 1

[metrics]
allow_remote = true

[audit]
retention_days = 3

[files]
max_size_bytes = 1000
max_files_per_request = 3
max_files_per_folder = 10
max_request_bytes = 5000
allowed_mime_types = ["image/*", "text/plain"]

[vector]
ef_search = 200

[cluster]
node_id = 7
peers = ["7=10.0.0.7:9100", "8=10.0.0.8:9100", "9=10.0.0.9:9100"]
api_peers = ["7=10.0.0.7:8080", "9=10.0.0.9:8080"]
user_shards = 16
raft_dir = "/var/lib/kalamdb-raft"
shared_storage_dir = "/mnt/kalamdb-shared"
election_timeout_ms = 2000
heartbeat_timeout_ms = 200
snapshot_threshold = 64
snapshot_trailing = 16
secret = "0123456789abcdef"
)toml";

using Env = std::map<std::string, std::string>;

GetEnvFn FakeEnv(Env env) {
  return [env = std::move(env)](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

// Runs each test in an empty temporary working directory (LoadConfig looks for ./server.toml).
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    old_cwd_ = fs::current_path();
    dir_ = fs::temp_directory_path() /
           ("kalam_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::current_path(dir_);
  }
  void TearDown() override {
    fs::current_path(old_cwd_);
    fs::remove_all(dir_);
  }

  std::string Write(const std::string& name, std::string_view text) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << text;
    return (dir_ / name).string();
  }

  // Loads `text` written as ./server.toml (found implicitly) and returns the error message.
  std::string ErrorFor(std::string_view text, Env env = {}) {
    Write("server.toml", text);
    auto r = LoadConfig(std::nullopt, FakeEnv(std::move(env)));
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  }

  fs::path old_cwd_;
  fs::path dir_;
};

TEST_F(ConfigTest, DefaultsLoadWithoutAFile) {
  auto r = LoadConfig(std::nullopt, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ServerConfig& c = *r;
  EXPECT_EQ(c, ServerConfig{});
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.io_threads, 2u);
  EXPECT_EQ(c.server.worker_threads, 0u);
  EXPECT_EQ(c.server.inline_read_max_us, 250u);
  EXPECT_EQ(c.server.node_id, 1u);
  EXPECT_EQ(c.storage.data_dir, "./data");
  EXPECT_FALSE(c.storage.sync_writes);
  EXPECT_EQ(c.storage.rocksdb_block_cache_mb, 256u);
  EXPECT_EQ(c.auth.jwt_secret, "");
  EXPECT_EQ(c.auth.jwt_expiry_hours, 24u);
  EXPECT_EQ(c.auth.root_password, "");
  EXPECT_FALSE(c.auth.allow_remote_setup);
  EXPECT_TRUE(c.auth.generate_root_password);
  EXPECT_FALSE(c.auth.localhost_bypass);
  EXPECT_EQ(c.auth.localhost_user, "root");
  EXPECT_EQ(c.auth.min_password_length, 8u);
  EXPECT_EQ(c.auth.max_password_length, 1024u);
  EXPECT_EQ(c.auth.password_hash_ops_limit, 2u);
  EXPECT_EQ(c.auth.password_hash_memory_kib, 19456u);
  EXPECT_EQ(c.limits.max_sql_length, 1048576u);
  EXPECT_EQ(c.limits.max_body_bytes, 2097152u);
  EXPECT_EQ(c.limits.default_query_limit, 50u);
  EXPECT_EQ(c.limits.max_query_limit, 1000u);
  EXPECT_EQ(c.limits.max_connections, 10000u);
  EXPECT_EQ(c.limits.request_timeout_secs, 30u);
  EXPECT_EQ(c.execution.max_parameters, 50u);
  EXPECT_EQ(c.execution.statement_cache_size, 256u);
  EXPECT_EQ(c.execution.sql_connections, 0u);
  EXPECT_EQ(c.logging.level, "info");
  EXPECT_EQ(c.logging.file, "");
  EXPECT_EQ(c.logging.max_file_mb, 50u);
  EXPECT_EQ(c.logging.max_files, 5u);
  EXPECT_EQ(c.logging.format, "compact");
  EXPECT_EQ(c.logging.slow_query_threshold_ms, 1200);
  EXPECT_EQ(c.audit.retention_days, 90u);
  EXPECT_EQ(c.rate_limit.max_auth_requests_per_ip_per_sec, 20u);
  EXPECT_EQ(c.rate_limit.max_requests_per_ip_per_sec, 0u);
  EXPECT_TRUE(c.security.cors_allowed_origins.empty());
  EXPECT_EQ(c.security.max_ws_message_size, 1048576u);
  EXPECT_EQ(c.rate_limit.max_subscriptions_per_user, 10u);
  EXPECT_EQ(c.rate_limit.max_messages_per_sec, 50u);
  EXPECT_EQ(c.websocket.auth_timeout_secs, 3u);
  EXPECT_EQ(c.websocket.client_timeout_secs, 10u);
  EXPECT_EQ(c.websocket.max_subscriptions_per_connection, 100u);
  EXPECT_EQ(c.websocket.outbound_queue_messages, 1024u);
  EXPECT_EQ(c.stream.eviction_interval_seconds, 60u);
  EXPECT_EQ(c.topics.visibility_timeout_secs, 60u);
  EXPECT_EQ(c.topics.retention_check_interval_seconds, 60u);
  EXPECT_FALSE(c.metrics.allow_remote);
  EXPECT_TRUE(ValidateConfig(ServerConfig{}).ok());
}

TEST_F(ConfigTest, FullTomlOverridesEveryKey) {
  std::string path = Write("custom.toml", kFullToml);
  auto r = LoadConfig(path, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const ServerConfig& c = *r;
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9090);
  EXPECT_EQ(c.server.io_threads, 4u);
  EXPECT_EQ(c.server.worker_threads, 8u);
  EXPECT_EQ(c.server.inline_read_max_us, 100u);
  EXPECT_EQ(c.server.node_id, 7u);
  EXPECT_EQ(c.server.ui_path, "/opt/kalamdb/ui");
  EXPECT_EQ(c.storage.data_dir, "/var/lib/kalamdb");
  EXPECT_TRUE(c.storage.sync_writes);
  EXPECT_EQ(c.storage.rocksdb_block_cache_mb, 512u);
  EXPECT_EQ(c.storage.cold_cache_mb, 64u);
  EXPECT_FALSE(c.storage.flush_on_shutdown);
  EXPECT_EQ(c.storage.job_threads, 2u);
  EXPECT_EQ(c.storage.job_retention_days, 3u);
  EXPECT_EQ(c.storage.flush_check_interval_ms, 250u);
  EXPECT_EQ(c.auth.jwt_secret, "s3cret-s3cret-s3cret-s3cret-s3cret");
  EXPECT_EQ(c.auth.jwt_expiry_hours, 12u);
  EXPECT_EQ(c.auth.root_password, "rootpass!");
  EXPECT_TRUE(c.auth.allow_remote_setup);
  EXPECT_FALSE(c.auth.generate_root_password);
  EXPECT_TRUE(c.auth.localhost_bypass);
  EXPECT_EQ(c.auth.localhost_user, "admin");
  EXPECT_EQ(c.auth.min_password_length, 12u);
  EXPECT_EQ(c.auth.password_hash_ops_limit, 3u);
  EXPECT_EQ(c.auth.password_hash_memory_kib, 65536u);
  EXPECT_EQ(c.auth.max_password_length, 256u);
  EXPECT_EQ(c.limits.max_sql_length, 2048u);
  EXPECT_EQ(c.limits.max_body_bytes, 4096u);
  EXPECT_EQ(c.limits.default_query_limit, 10u);
  EXPECT_EQ(c.limits.max_query_limit, 100u);
  EXPECT_EQ(c.limits.max_connections, 64u);
  EXPECT_EQ(c.limits.request_timeout_secs, 5u);
  EXPECT_EQ(c.execution.max_parameters, 5u);
  EXPECT_EQ(c.execution.statement_cache_size, 16u);
  EXPECT_EQ(c.execution.sql_connections, 3u);
  EXPECT_EQ(c.logging.level, "debug");  // levels are case-insensitive, stored lower-case
  EXPECT_EQ(c.logging.file, "/tmp/kalamdb.log");
  EXPECT_EQ(c.logging.max_file_mb, 10u);
  EXPECT_EQ(c.logging.max_files, 2u);
  EXPECT_EQ(c.logging.format, "json");  // case-insensitive, stored lower-case
  EXPECT_EQ(c.logging.slow_query_threshold_ms, 0);
  EXPECT_EQ(c.audit.retention_days, 3u);
  EXPECT_EQ(c.rate_limit.max_auth_requests_per_ip_per_sec, 3u);
  EXPECT_EQ(c.rate_limit.max_requests_per_ip_per_sec, 100u);
  EXPECT_EQ(c.security.cors_allowed_origins,
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_EQ(c.security.max_ws_message_size, 65536u);
  EXPECT_EQ(c.rate_limit.max_subscriptions_per_user, 4u);
  EXPECT_EQ(c.rate_limit.max_messages_per_sec, 20u);
  EXPECT_EQ(c.websocket.auth_timeout_secs, 7u);
  EXPECT_EQ(c.websocket.client_timeout_secs, 30u);
  EXPECT_EQ(c.websocket.max_subscriptions_per_connection, 8u);
  EXPECT_EQ(c.websocket.outbound_queue_messages, 64u);
  EXPECT_EQ(c.stream.eviction_interval_seconds, 5u);
  EXPECT_EQ(c.topics.visibility_timeout_secs, 5u);
  EXPECT_EQ(c.topics.retention_check_interval_seconds, 0u);
  EXPECT_EQ(c.backup.allowed_dirs, (std::vector<std::string>{"/srv/backups", "/mnt/offsite"}));
  EXPECT_TRUE(c.metrics.allow_remote);
  EXPECT_EQ(c.files.max_size_bytes, 1000u);
  EXPECT_EQ(c.files.max_files_per_request, 3u);
  EXPECT_EQ(c.files.max_files_per_folder, 10u);
  EXPECT_EQ(c.files.max_request_bytes, 5000u);
  EXPECT_EQ(c.files.allowed_mime_types, (std::vector<std::string>{"image/*", "text/plain"}));
  EXPECT_EQ(c.vector.ef_search, 200u);
  EXPECT_EQ(c.cluster.node_id, 7u);
  EXPECT_EQ(c.cluster.peers, (std::vector<std::string>{"7=10.0.0.7:9100", "8=10.0.0.8:9100",
                                                      "9=10.0.0.9:9100"}));
  EXPECT_TRUE(c.cluster.enabled());
  EXPECT_EQ(c.cluster.user_shards, 16u);
  EXPECT_EQ(c.cluster.raft_dir, "/var/lib/kalamdb-raft");
  EXPECT_EQ(c.cluster.shared_storage_dir, "/mnt/kalamdb-shared");
  EXPECT_EQ(c.cluster.election_timeout_ms, 2000u);
  EXPECT_EQ(c.cluster.heartbeat_timeout_ms, 200u);
  EXPECT_EQ(c.cluster.api_peers, (std::vector<std::string>{"7=10.0.0.7:8080", "9=10.0.0.9:8080"}));
}

TEST_F(ConfigTest, NoClusterSectionMeansASingleNode) {
  auto r = LoadConfig(std::nullopt, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->cluster.enabled());
  EXPECT_EQ(r->cluster, ClusterConfig{});
  EXPECT_EQ(r->cluster.user_shards, 8u);
  EXPECT_EQ(r->cluster.node_id, 0u);
}

TEST_F(ConfigTest, ClusterRulesNameTheKey) {
  const std::string three = "peers = [\"1=a:9100\", \"2=b:9100\", \"3=c:9100\"]\n";
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 2\n"),
            "Invalid configuration: cluster.node_id is set (2) but cluster.peers is empty: list "
            "every member, this node included, as \"id=host:port\" in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\n" + three),
            "Invalid configuration: cluster.node_id must be set (1..1023) when cluster.peers is "
            "set in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 4\n" + three),
            "Invalid configuration: cluster.node_id (4) is not one of the ids in cluster.peers in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 2\n" + three),
            "Invalid configuration: cluster.node_id (2) must equal server.node_id (1): the node id "
            "is stamped into every _seq the node's leaders assign in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1\npeers = [\"1=a:9100\", \"2=a:9100\"]\n"),
            "Invalid configuration: cluster.peers: '2=a:9100': address a:9100 is listed twice in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1\npeers = [\"1=a:9100\", \"b:9100\"]\n"),
            "Invalid configuration: cluster.peers: 'b:9100': expected id=host:port in "
            "server.toml");
  // Each node uses user_shards + 2 consecutive ports from its peer port (one per Raft group).
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1\npeers = [\"1=a:9100\", \"2=a:9109\"]\n"),
            "Invalid configuration: cluster.peers '1=a:9100' and '2=a:9109' share a host and their "
            "port ranges overlap: each node uses 10 consecutive ports (one per Raft group), so put "
            "their ports at least 10 apart in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1\npeers = [\"1=a:65530\", \"2=b:9100\"]\n"),
            "Invalid configuration: cluster.peers '1=a:65530': with 10 Raft groups the node uses "
            "ports 65530 to 65539, past 65535: choose a lower port in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\npeers = [1, 2]\n"),
            "Invalid configuration: cluster.peers must be an array of strings (element 1 is "
            "integer) in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nuser_shards = 0\n"),
            "Invalid configuration: cluster.user_shards must be between 1 and 1024 (got 0) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1024\n"),
            "Invalid configuration: cluster.node_id must be between 0 and 1023 (got 1024) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nelection_timeout_ms = 50\n"),
            "Invalid configuration: cluster.election_timeout_ms must be between 100 and 60000 "
            "(got 50) in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nelection_timeout_ms = 500\nheartbeat_timeout_ms = 500\n"),
            "Invalid configuration: cluster.heartbeat_timeout_ms (500) must be < "
            "cluster.election_timeout_ms (500) in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nuser_shard = 4\n"),
            "Invalid configuration: unknown key 'cluster.user_shard' (did you mean "
            "'cluster.user_shards'?) in server.toml");
  // cluster.api_peers: the same "id=host:port" form, ids of cluster.peers.
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1\n" + three + "api_peers = [\"4=a:8080\"]\n"),
            "Invalid configuration: cluster.api_peers: node id 4 is not one of the ids in "
            "cluster.peers in server.toml");
  EXPECT_EQ(ErrorFor("[cluster]\nnode_id = 1\n" + three + "api_peers = [\"a:8080\"]\n"),
            "Invalid configuration: cluster.api_peers: 'a:8080': expected id=host:port in "
            "server.toml");
  // A valid three-node member.
  Write("server.toml", "[server]\nnode_id = 3\n[cluster]\nnode_id = 3\n" + three);
  auto ok = LoadConfig(std::nullopt, FakeEnv({}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->cluster.enabled());
  EXPECT_EQ(ok->cluster.peers.size(), 3u);
}

TEST_F(ConfigTest, WebSocketTimeoutsAndQueueMustBePositiveButRateLimitsMayBeZero) {
  EXPECT_EQ(ErrorFor("[websocket]\nauth_timeout_secs = 0\n"),
            "Invalid configuration: websocket.auth_timeout_secs must be > 0 (got 0) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[websocket]\noutbound_queue_messages = 0\n"),
            "Invalid configuration: websocket.outbound_queue_messages must be > 0 (got 0) in "
            "server.toml");
  auto r = ParseConfigToml(
      "[rate_limit]\nmax_messages_per_sec = 0\nmax_subscriptions_per_user = 0\n", "inline");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(ValidateConfig(*r).ok());
  ServerConfig c;
  c.websocket.client_timeout_secs = 0;
  EXPECT_EQ(ValidateConfig(c).message(),
            "Invalid configuration: websocket.client_timeout_secs must be > 0 (got 0)");
}

TEST_F(ConfigTest, ImplicitServerTomlInWorkingDirectoryIsUsed) {
  Write("server.toml", "[server]\nport = 9999\n");
  auto r = LoadConfig(std::nullopt, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server.port, 9999);
  EXPECT_EQ(r->server.host, "127.0.0.1");  // untouched keys keep their defaults
}

TEST_F(ConfigTest, EmptyFileMeansDefaults) {
  std::string path = Write("empty.toml", "");
  auto r = LoadConfig(path, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ServerConfig{});
}

TEST_F(ConfigTest, MissingExplicitFileIsAnError) {
  auto r = LoadConfig(std::string("nope/missing.toml"), FakeEnv({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Invalid configuration: file 'nope/missing.toml' does not exist");
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorNamingIt) {
  EXPECT_EQ(ErrorFor("[limits]\nmax_qurey_limit = 10\n"),
            "Invalid configuration: unknown key 'limits.max_qurey_limit' "
            "(did you mean 'limits.max_query_limit'?) in server.toml");
  EXPECT_EQ(ErrorFor("[server]\nflavour = \"vanilla\"\n"),
            "Invalid configuration: unknown key 'server.flavour' in server.toml");
}

TEST_F(ConfigTest, LoggingFormatAndSlowQueryKeys) {
  EXPECT_EQ(ErrorFor("[logging]\nformat = \"xml\"\n"),
            "Invalid configuration: logging.format must be one of compact, json (got \"xml\") "
            "in server.toml");
  EXPECT_EQ(ErrorFor("[logging]\nslow_query_threshold_ms = -2\n"),
            "Invalid configuration: logging.slow_query_threshold_ms must be >= -1 (got -2) in "
            "server.toml");
  auto alias = ParseConfigToml("[logging]\nslow_query_ms = 7\n", "server.toml");
  ASSERT_TRUE(alias.ok()) << alias.status().ToString();
  EXPECT_EQ(alias->logging.slow_query_threshold_ms, 7);
  auto off = ParseConfigToml("[logging]\nslow_query_threshold_ms = -1\n", "server.toml");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_TRUE(ValidateConfig(*off).ok());
  EXPECT_EQ(ErrorFor("[logging]\nslow_query_ms = 7\nslow_query_threshold_ms = 8\n"),
            "Invalid configuration: set only one of logging.slow_query_threshold_ms and "
            "logging.slow_query_ms (they are the same setting) in server.toml");
}

TEST_F(ConfigTest, UnknownSectionIsAnErrorNamingIt) {
  EXPECT_EQ(ErrorFor("[servre]\nport = 1\n"),
            "Invalid configuration: unknown section [servre] (did you mean 'server'?) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("port = 1\n"),
            "Invalid configuration: unknown top-level key 'port' (settings belong in a section "
            "such as [server]) in server.toml");
}

TEST_F(ConfigTest, WrongTypeIsAnErrorNamingKeyAndExpectedType) {
  EXPECT_EQ(ErrorFor("[server]\nport = \"8080\"\n"),
            "Invalid configuration: server.port must be an integer (got string) in server.toml");
  EXPECT_EQ(ErrorFor("[storage]\nsync_writes = 1\n"),
            "Invalid configuration: storage.sync_writes must be a boolean (true or false) (got "
            "integer) in server.toml");
  EXPECT_EQ(ErrorFor("[server]\nhost = 127\n"),
            "Invalid configuration: server.host must be a string (got integer) in server.toml");
  EXPECT_EQ(ErrorFor("[limits]\nmax_body_bytes = 1.5\n"),
            "Invalid configuration: limits.max_body_bytes must be an integer (got float) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[security]\ncors_allowed_origins = \"*\"\n"),
            "Invalid configuration: security.cors_allowed_origins must be an array of strings "
            "(got string) in server.toml");
  EXPECT_EQ(ErrorFor("[security]\ncors_allowed_origins = [\"a\", 2]\n"),
            "Invalid configuration: security.cors_allowed_origins must be an array of strings "
            "(element 2 is integer) in server.toml");
  EXPECT_EQ(ErrorFor("server = 5\n"),
            "Invalid configuration: [server] must be a table (got integer) in server.toml");
}

TEST_F(ConfigTest, SyntaxErrorNamesLine) {
  std::string message = ErrorFor("[server]\nport = = 1\n");
  EXPECT_EQ(message.rfind("Invalid configuration: cannot parse server.toml at line 2, column ", 0),
            0u)
      << message;
}

TEST_F(ConfigTest, OutOfRangeValuesAreRejected) {
  EXPECT_EQ(ErrorFor("[limits]\nmax_query_limit = 0\n"),
            "Invalid configuration: limits.max_query_limit must be > 0 (got 0) in server.toml");
  EXPECT_EQ(ErrorFor("[server]\nport = 70000\n"),
            "Invalid configuration: server.port must be between 0 and 65535 (got 70000) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[server]\nport = -1\n"),
            "Invalid configuration: server.port must be between 0 and 65535 (got -1) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[server]\nworker_threads = -2\n"),
            "Invalid configuration: server.worker_threads must be >= 0 (got -2) in server.toml");
  EXPECT_EQ(ErrorFor("[server]\nio_threads = 0\n"),
            "Invalid configuration: server.io_threads must be > 0 (got 0) in server.toml");
  EXPECT_EQ(ErrorFor("[server]\nnode_id = 1024\n"),
            "Invalid configuration: server.node_id must be between 0 and 1023 (got 1024) in "
            "server.toml");
  EXPECT_EQ(ErrorFor("[auth]\npassword_hash_ops_limit = 0\n"),
            "Invalid configuration: auth.password_hash_ops_limit must be between 1 and 10 (got 0) "
            "in server.toml");
  EXPECT_EQ(ErrorFor("[auth]\npassword_hash_memory_kib = 4\n"),
            "Invalid configuration: auth.password_hash_memory_kib must be between 8 and 4194304 "
            "(got 4) in server.toml");
  EXPECT_EQ(ErrorFor("[execution]\nmax_parameters = 5000000000\n"),
            "Invalid configuration: execution.max_parameters must be between 1 and 4294967295 "
            "(got 5000000000) in server.toml");
}

TEST_F(ConfigTest, CrossFieldRulesAreChecked) {
  EXPECT_EQ(ErrorFor("[limits]\ndefault_query_limit = 2000\n"),
            "Invalid configuration: limits.default_query_limit (2000) must be <= "
            "limits.max_query_limit (1000) in server.toml");
  EXPECT_EQ(ErrorFor("[auth]\nmin_password_length = 2000\n"),
            "Invalid configuration: auth.min_password_length (2000) must be <= "
            "auth.max_password_length (1024) in server.toml");
  EXPECT_EQ(ErrorFor("[logging]\nlevel = \"verbose\"\n"),
            "Invalid configuration: logging.level must be one of trace, debug, info, warn, "
            "error, critical, off (got \"verbose\") in server.toml");
  EXPECT_EQ(ErrorFor("[server]\nhost = \"\"\n"),
            "Invalid configuration: server.host must not be empty in server.toml");
}

TEST_F(ConfigTest, PortZeroMeansAnyFreePort) {
  Write("server.toml", "[server]\nport = 0\n");
  auto r = LoadConfig(std::nullopt, FakeEnv({}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server.port, 0);
}

TEST_F(ConfigTest, EnvironmentBeatsFileBeatsDefault) {
  Write("server.toml",
        "[server]\nhost = \"10.0.0.1\"\nport = 9000\n"
        "[storage]\ndata_dir = \"/file/data\"\n"
        "[logging]\nlevel = \"warn\"\n"
        "[auth]\njwt_secret = \"from-file\"\n");
  auto r = LoadConfig(std::nullopt, FakeEnv({{"KALAMDB_SERVER_PORT", "9100"},
                                             {"KALAMDB_DATA_DIR", "/env/data"},
                                             {"KALAMDB_LOG_LEVEL", "Error"},
                                             {"KALAMDB_JWT_SECRET", "from-env"},
                                             {"KALAMDB_ROOT_PASSWORD", "env-root-pw"},
                                             {"KALAMDB_SERVER_HOST", ""}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server.port, 9100);               // env > file
  EXPECT_EQ(r->storage.data_dir, "/env/data");   // env > file
  EXPECT_EQ(r->logging.level, "error");          // env > file, lower-cased
  EXPECT_EQ(r->auth.jwt_secret, "from-env");     // env > file
  EXPECT_EQ(r->auth.root_password, "env-root-pw");  // env > default
  EXPECT_EQ(r->server.host, "10.0.0.1");         // empty env var counts as unset: file wins
  EXPECT_EQ(r->limits.max_query_limit, 1000u);   // default
}

TEST_F(ConfigTest, EnvironmentOverridesWithoutAFile) {
  auto r = LoadConfig(std::nullopt, FakeEnv({{"KALAMDB_SERVER_HOST", "0.0.0.0"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->server.host, "0.0.0.0");
}

TEST_F(ConfigTest, InvalidPortFromEnvironmentIsRejected) {
  for (const auto& [value, expected] : std::vector<std::pair<std::string, std::string>>{
           {"abc", "server.port must be an integer (got \"abc\")"},
           {"80a", "server.port must be an integer (got \"80a\")"},
           {" 80", "server.port must be an integer (got \" 80\")"},
           {"70000", "server.port must be between 0 and 65535 (got 70000)"},
           {"-5", "server.port must be between 0 and 65535 (got -5)"},
       }) {
    auto r = LoadConfig(std::nullopt, FakeEnv({{"KALAMDB_SERVER_PORT", value}}));
    ASSERT_FALSE(r.ok()) << value;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "Invalid configuration: " + expected +
                                        " (from environment variable KALAMDB_SERVER_PORT)");
  }
}

TEST_F(ConfigTest, InvalidLogLevelFromEnvironmentNamesTheVariable) {
  Write("server.toml", "[logging]\nlevel = \"info\"\n");
  auto r = LoadConfig(std::nullopt, FakeEnv({{"KALAMDB_LOG_LEVEL", "loud"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Invalid configuration: logging.level must be one of trace, debug, info, warn, "
            "error, critical, off (got \"loud\") (from environment variable KALAMDB_LOG_LEVEL)");
}

TEST_F(ConfigTest, ExplicitPathNamesThatFileInErrors) {
  std::string path = Write("prod.toml", "[limits]\nmax_connections = 0\n");
  auto r = LoadConfig(path, FakeEnv({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Invalid configuration: limits.max_connections must be > 0 "
                                  "(got 0) in " + path);
}

TEST_F(ConfigTest, ValidateConfigChecksProgrammaticConfigs) {
  ServerConfig c;
  c.limits.max_query_limit = 0;
  Status s = ValidateConfig(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "Invalid configuration: limits.max_query_limit must be > 0 (got 0)");
  c = ServerConfig{};
  c.server.node_id = 5000;
  EXPECT_EQ(ValidateConfig(c).message(),
            "Invalid configuration: server.node_id must be between 0 and 1023 (got 5000)");
}

TEST_F(ConfigTest, DefaultConfigTomlParsesToDefaultsAndListsEveryKey) {
  std::string text = DefaultConfigToml();
  auto r = ParseConfigToml(text, "default");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, ServerConfig{});

  // Same keys as the full example above, which sets every field.
  auto keys = [](std::string_view doc) {
    std::set<std::string> out;
    toml::table root = toml::parse(doc);
    for (const auto& [section, node] : root) {
      for (const auto& [key, value] : *node.as_table()) {
        out.insert(std::string(section.str()) + "." + std::string(key.str()));
      }
    }
    return out;
  };
  EXPECT_EQ(keys(text), keys(kFullToml));
  EXPECT_EQ(keys(text).size(), 76u);
}

TEST_F(ConfigTest, ListSettingsNamesEveryKeyWithItsValueSectionAndDescription) {
  ServerConfig c;
  c.limits.default_query_limit = 70;
  c.auth.jwt_secret = "top-secret";
  c.backup.allowed_dirs = {"/a", "/b"};
  const auto settings = ListSettings(c);
  // The same keys as the default server.toml, in its order.
  auto toml = toml::parse(DefaultConfigToml());
  std::vector<std::string> expected;
  for (const auto& [section, node] : toml) {
    for (const auto& [key, value] : *node.as_table()) {
      expected.push_back(std::string(section.str()) + "." + std::string(key.str()));
    }
  }
  std::vector<std::string> names;
  std::map<std::string, SettingValue> by_name;
  for (const auto& s : settings) {
    names.push_back(s.name);
    by_name[s.name] = s;
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_EQ(s.name.substr(0, s.category.size() + 1), s.category + ".") << s.name;
  }
  std::sort(expected.begin(), expected.end());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, expected);
  EXPECT_EQ(by_name["limits.default_query_limit"].value, "70");
  EXPECT_EQ(by_name["limits.default_query_limit"].category, "limits");
  EXPECT_EQ(by_name["limits.max_sql_length"].description,
            "Longest SQL text in one request, in bytes (1 MiB).");
  // Keys listed right after another key share its comment.
  EXPECT_EQ(by_name["auth.max_password_length"].description, "Accepted password lengths.");
  EXPECT_EQ(by_name["auth.jwt_secret"].value, "***");
  EXPECT_EQ(by_name["auth.root_password"].value, "");  // unset: nothing to hide
  EXPECT_EQ(by_name["backup.allowed_dirs"].value, "/a, /b");
  EXPECT_EQ(by_name["storage.sync_writes"].value, "false");
  EXPECT_EQ(by_name["server.host"].value, "127.0.0.1");
}

TEST_F(ConfigTest, ParseConfigTomlDoesNotValidateOrReadEnvironment) {
  auto r = ParseConfigToml("[limits]\ndefault_query_limit = 5000\n", "inline");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->limits.default_query_limit, 5000u);
  EXPECT_FALSE(ValidateConfig(*r).ok());
}

}  // namespace
}  // namespace kalam::server
