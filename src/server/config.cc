// Configuration loading: one table of fields (VisitFields) drives the TOML reader, the unknown-key
// check and the validator, so a new setting is added in one place (plus DefaultConfigToml).
#include "server/config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include <toml++/toml.h>

#include "cluster/group_plan.h"
#include "cluster/peer.h"

namespace kalam::server {

namespace {

constexpr std::string_view kPrefix = "Invalid configuration: ";
constexpr std::string_view kLogLevels[] = {"trace", "debug", "info", "warn",
                                           "error", "critical", "off"};
constexpr std::string_view kLogFormats[] = {"compact", "json"};
constexpr int64_t kNoMax = std::numeric_limits<int64_t>::max();

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string JoinLevels() {
  std::string out;
  for (auto level : kLogLevels) {
    if (!out.empty()) out += ", ";
    out += level;
  }
  return out;
}

// "must be > 0", "must be >= 0", "must be between 0 and 65535".
std::string RangeRule(int64_t min, int64_t max) {
  if (max == kNoMax) {
    if (min == 1) return "must be > 0";
    return "must be >= " + std::to_string(min);
  }
  return "must be between " + std::to_string(min) + " and " + std::to_string(max);
}

// The rule `value` breaks, for a field bounded by [min, max] (kNoMax: no bound of its own) and by
// the range of its type, `type_max`; nullopt when it breaks none.
std::optional<std::string> BrokenRule(int64_t value, int64_t min, int64_t max, int64_t type_max) {
  if (value < min) return RangeRule(min, max);
  const int64_t effective_max = std::min(max, type_max);
  if (value > effective_max) return RangeRule(min, effective_max);
  return std::nullopt;
}

template <typename T>
int64_t TypeMax() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::numeric_limits<U>::max() >= static_cast<uint64_t>(kNoMax)) {
    return kNoMax;
  } else {
    return static_cast<int64_t>(std::numeric_limits<U>::max());
  }
}

std::string_view TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

// Calls `v` once per setting, section by section. `Config` is ServerConfig or const ServerConfig.
// Integer bounds here are the single source of truth for both parsing and validation.
template <typename Config, typename Visitor>
void VisitFields(Config& c, Visitor& v) {
  v.Section("server");
  v.Str("host", c.server.host, /*non_empty=*/true);
  v.Int("port", c.server.port, 0, 65535);
  v.Int("io_threads", c.server.io_threads, 1, kNoMax);
  v.Int("worker_threads", c.server.worker_threads, 0, kNoMax);
  v.Int("inline_read_max_us", c.server.inline_read_max_us, 0, kNoMax);
  v.Int("node_id", c.server.node_id, 0, 1023);
  v.Str("public_origin", c.server.public_origin, /*non_empty=*/false);
  v.Str("ui_path", c.server.ui_path, /*non_empty=*/false);

  v.Section("storage");
  v.Str("data_dir", c.storage.data_dir, /*non_empty=*/true);
  v.Bool("sync_writes", c.storage.sync_writes);
  v.Int("rocksdb_block_cache_mb", c.storage.rocksdb_block_cache_mb, 1, kNoMax);
  v.Int("cold_cache_mb", c.storage.cold_cache_mb, 1, kNoMax);
  v.Bool("flush_on_shutdown", c.storage.flush_on_shutdown);
  v.Int("job_threads", c.storage.job_threads, 1, 64);
  v.Int("job_retention_days", c.storage.job_retention_days, 1, 36500);
  v.Int("flush_check_interval_ms", c.storage.flush_check_interval_ms, 10, 3600000);

  v.Section("auth");
  v.Str("jwt_secret", c.auth.jwt_secret, /*non_empty=*/false);
  v.Int("jwt_expiry_hours", c.auth.jwt_expiry_hours, 1, kNoMax);
  v.Str("root_password", c.auth.root_password, /*non_empty=*/false);
  v.Bool("generate_root_password", c.auth.generate_root_password);
  v.Bool("allow_remote_setup", c.auth.allow_remote_setup);
  v.Bool("localhost_bypass", c.auth.localhost_bypass);
  v.Str("localhost_user", c.auth.localhost_user, /*non_empty=*/true);
  v.Int("min_password_length", c.auth.min_password_length, 1, kNoMax);
  v.Int("max_password_length", c.auth.max_password_length, 1, kNoMax);
  v.Int("password_hash_ops_limit", c.auth.password_hash_ops_limit, 1, 10);
  v.Int("password_hash_memory_kib", c.auth.password_hash_memory_kib, 8, 4194304);

  v.Section("limits");
  v.Int("max_sql_length", c.limits.max_sql_length, 1, kNoMax);
  v.Int("max_body_bytes", c.limits.max_body_bytes, 1, kNoMax);
  v.Int("default_query_limit", c.limits.default_query_limit, 1, kNoMax);
  v.Int("max_query_limit", c.limits.max_query_limit, 1, kNoMax);
  v.Int("max_connections", c.limits.max_connections, 1, kNoMax);
  v.Int("request_timeout_secs", c.limits.request_timeout_secs, 1, kNoMax);

  v.Section("execution");
  v.Int("max_parameters", c.execution.max_parameters, 1, kNoMax);
  v.Int("statement_cache_size", c.execution.statement_cache_size, 0, kNoMax);
  v.Int("sql_connections", c.execution.sql_connections, 0, kNoMax);

  v.Section("logging");
  v.LogLevel("level", c.logging.level);
  v.Str("file", c.logging.file, /*non_empty=*/false);
  v.Int("max_file_mb", c.logging.max_file_mb, 1, kNoMax);
  v.Int("max_files", c.logging.max_files, 1, kNoMax);
  v.OneOf("format", c.logging.format, kLogFormats);
  v.Int("slow_query_threshold_ms", c.logging.slow_query_threshold_ms, -1, kNoMax);
  // The name the issue tracker used; the original's name above is the one documented.
  v.Alias("slow_query_ms", "slow_query_threshold_ms", c.logging.slow_query_threshold_ms, -1,
          kNoMax);

  v.Section("rate_limit");
  v.Int("max_auth_requests_per_ip_per_sec", c.rate_limit.max_auth_requests_per_ip_per_sec, 0,
        kNoMax);
  v.Int("max_requests_per_ip_per_sec", c.rate_limit.max_requests_per_ip_per_sec, 0, kNoMax);
  v.Int("max_subscriptions_per_user", c.rate_limit.max_subscriptions_per_user, 0, kNoMax);
  v.Int("max_messages_per_sec", c.rate_limit.max_messages_per_sec, 0, kNoMax);

  v.Section("security");
  v.StrList("cors_allowed_origins", c.security.cors_allowed_origins);
  v.Int("max_ws_message_size", c.security.max_ws_message_size, 1, kNoMax);

  v.Section("websocket");
  v.Int("auth_timeout_secs", c.websocket.auth_timeout_secs, 1, kNoMax);
  v.Int("client_timeout_secs", c.websocket.client_timeout_secs, 1, kNoMax);
  v.Int("max_subscriptions_per_connection", c.websocket.max_subscriptions_per_connection, 1,
        kNoMax);
  v.Int("outbound_queue_messages", c.websocket.outbound_queue_messages, 1, kNoMax);

  v.Section("stream");
  v.Int("eviction_interval_seconds", c.stream.eviction_interval_seconds, 0, kNoMax);
  v.Section("topics");
  v.Int("visibility_timeout_secs", c.topics.visibility_timeout_secs, 1, kNoMax);
  v.Int("retention_check_interval_seconds", c.topics.retention_check_interval_seconds, 0, kNoMax);

  v.Section("backup");
  v.StrList("allowed_dirs", c.backup.allowed_dirs);
  v.Section("export");
  v.Int("retention_hours", c.exports.retention_hours, 0, kNoMax);
  v.Section("metrics");
  v.Bool("allow_remote", c.metrics.allow_remote);
  v.Section("audit");
  v.Int("retention_days", c.audit.retention_days, 0, 36500);
  v.Section("files");
  v.Int("max_size_bytes", c.files.max_size_bytes, 1, kNoMax);
  v.Int("max_files_per_request", c.files.max_files_per_request, 1, kNoMax);
  v.Int("max_files_per_folder", c.files.max_files_per_folder, 1, kNoMax);
  v.Int("max_request_bytes", c.files.max_request_bytes, 1, kNoMax);
  v.StrList("allowed_mime_types", c.files.allowed_mime_types);
  v.Section("vector");
  v.Int("ef_search", c.vector.ef_search, 1, 10000);

  v.Section("cluster");
  v.Int("node_id", c.cluster.node_id, 0, 1023);
  v.StrList("peers", c.cluster.peers);
  v.StrList("api_peers", c.cluster.api_peers);
  v.Int("user_shards", c.cluster.user_shards, 1, 1024);
  v.Str("raft_dir", c.cluster.raft_dir, /*non_empty=*/false);
  v.Str("shared_storage_dir", c.cluster.shared_storage_dir, /*non_empty=*/false);
  v.Int("election_timeout_ms", c.cluster.election_timeout_ms, 100, 60000);
  v.Int("heartbeat_timeout_ms", c.cluster.heartbeat_timeout_ms, 10, 60000);
  v.Int("snapshot_threshold", c.cluster.snapshot_threshold, 1, 1000000000);
  v.Int("snapshot_trailing", c.cluster.snapshot_trailing, 0, 1000000000);
  v.Str("secret", c.cluster.secret, /*non_empty=*/false);
}

// A violated rule: the dotted key it is about and the text after "Invalid configuration: ".
struct Problem {
  std::string key;
  std::string text;
};

// Reads one parsed TOML document into a ServerConfig; stops at the first problem.
class TomlReader {
 public:
  explicit TomlReader(const toml::table& root) : root_(root) {}

  void Section(std::string_view name) {
    section_ = std::string(name);
    known_sections_.insert(section_);
    table_ = nullptr;
    if (problem_) return;
    const toml::node* node = root_.get(name);
    if (node == nullptr) return;
    table_ = node->as_table();
    if (table_ == nullptr) {
      Fail(section_, "[" + section_ + "] must be a table (got " +
                         std::string(TomlTypeName(*node)) + ")");
    }
  }

  template <typename T>
  void Int(std::string_view key, T& field, int64_t min, int64_t max) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    if (!node->is_integer()) return WrongType(key, "an integer", *node);
    int64_t value = node->as_integer()->get();
    if (auto rule = BrokenRule(value, min, max, TypeMax<T>())) {
      return Fail(Qualified(key),
                  Qualified(key) + " " + *rule + " (got " + std::to_string(value) + ")");
    }
    field = static_cast<T>(value);
  }

  void Bool(std::string_view key, bool& field) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    if (!node->is_boolean()) return WrongType(key, "a boolean (true or false)", *node);
    field = node->as_boolean()->get();
  }

  void Str(std::string_view key, std::string& field, bool /*non_empty: checked by validation*/) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    if (!node->is_string()) return WrongType(key, "a string", *node);
    field = node->as_string()->get();
  }

  void LogLevel(std::string_view key, std::string& field) {
    Str(key, field, true);
    field = Lower(field);
  }

  template <size_t N>
  void OneOf(std::string_view key, std::string& field, const std::string_view (&)[N]) {
    Str(key, field, true);
    field = Lower(field);
  }

  // A second name for the key `primary` (read just before): setting both is an error.
  template <typename T>
  void Alias(std::string_view key, std::string_view primary, T& field, int64_t min, int64_t max) {
    if (problem_ || table_ == nullptr) {
      known_keys_.insert(Qualified(key));
      return;
    }
    if (table_->get(key) != nullptr && table_->get(primary) != nullptr) {
      known_keys_.insert(Qualified(key));
      return Fail(Qualified(key), "set only one of " + Qualified(primary) + " and " +
                                      Qualified(key) + " (they are the same setting)");
    }
    Int(key, field, min, max);
  }

  void StrList(std::string_view key, std::vector<std::string>& field) {
    const toml::node* node = Find(key);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr) return WrongType(key, "an array of strings", *node);
    std::vector<std::string> values;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      if (!element.is_string()) {
        return Fail(Qualified(key), Qualified(key) + " must be an array of strings (element " +
                                        std::to_string(i + 1) + " is " +
                                        std::string(TomlTypeName(element)) + ")");
      }
      values.push_back(element.as_string()->get());
    }
    field = std::move(values);
  }

  // After VisitFields: any section or key it did not name is a typo.
  void CheckUnknown() {
    if (problem_) return;
    for (const auto& [name, node] : root_) {
      std::string section(name.str());
      if (!known_sections_.count(section)) {
        if (!node.is_table()) {
          return Fail(section, "unknown top-level key '" + section +
                                   "' (settings belong in a section such as [server])");
        }
        return Fail(section, "unknown section [" + section + "]" + Suggest(section, known_sections_));
      }
      const toml::table* table = node.as_table();
      if (table == nullptr) continue;  // already reported by Section()
      for (const auto& [key, value] : *table) {
        std::string qualified = section + "." + std::string(key.str());
        if (!known_keys_.count(qualified)) {
          return Fail(qualified, "unknown key '" + qualified + "'" + Suggest(qualified, known_keys_));
        }
      }
    }
  }

  const std::optional<Problem>& problem() const { return problem_; }

 private:
  const toml::node* Find(std::string_view key) {
    known_keys_.insert(Qualified(key));
    if (problem_ || table_ == nullptr) return nullptr;
    return table_->get(key);
  }

  std::string Qualified(std::string_view key) const { return section_ + "." + std::string(key); }

  void WrongType(std::string_view key, std::string_view expected, const toml::node& node) {
    Fail(Qualified(key), Qualified(key) + " must be " + std::string(expected) + " (got " +
                             std::string(TomlTypeName(node)) + ")");
  }

  void Fail(std::string key, std::string text) {
    if (!problem_) problem_ = Problem{std::move(key), std::move(text)};
  }

  // ", did you mean 'x'?" for a near miss (edit distance <= 2), else "".
  static std::string Suggest(const std::string& name, const std::set<std::string>& candidates) {
    size_t best = 3;
    std::string best_name;
    for (const auto& candidate : candidates) {
      size_t d = EditDistance(name, candidate);
      if (d < best) {
        best = d;
        best_name = candidate;
      }
    }
    return best_name.empty() ? "" : " (did you mean '" + best_name + "'?)";
  }

  static size_t EditDistance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  }

  const toml::table& root_;
  const toml::table* table_ = nullptr;  // the current section's table, if present
  std::string section_;
  std::set<std::string> known_sections_;
  std::set<std::string> known_keys_;
  std::optional<Problem> problem_;
};

// Checks a ServerConfig against the bounds in VisitFields; stops at the first problem.
class Validator {
 public:
  void Section(std::string_view name) { section_ = std::string(name); }

  template <typename T>
  void Int(std::string_view key, const T& field, int64_t min, int64_t max) {
    if (problem_) return;
    // Unsigned fields are clamped so the conversion cannot wrap.
    int64_t value;
    if constexpr (std::is_signed_v<T>) {
      value = static_cast<int64_t>(field);
    } else {
      value = static_cast<int64_t>(
          std::min<uint64_t>(static_cast<uint64_t>(field), static_cast<uint64_t>(kNoMax)));
    }
    if (auto rule = BrokenRule(value, min, max, TypeMax<T>())) {
      Fail(key, Qualified(key) + " " + *rule + " (got " + std::to_string(value) + ")");
    }
  }

  void Bool(std::string_view, const bool&) {}

  void Str(std::string_view key, const std::string& field, bool non_empty) {
    if (problem_ || !non_empty || !field.empty()) return;
    Fail(key, Qualified(key) + " must not be empty");
  }

  void LogLevel(std::string_view key, const std::string& field) {
    if (problem_) return;
    for (auto level : kLogLevels) {
      if (field == level) return;
    }
    Fail(key, Qualified(key) + " must be one of " + JoinLevels() + " (got \"" + field + "\")");
  }

  template <size_t N>
  void OneOf(std::string_view key, const std::string& field, const std::string_view (&allowed)[N]) {
    if (problem_) return;
    std::string list;
    for (auto a : allowed) {
      if (field == a) return;
      if (!list.empty()) list += ", ";
      list += a;
    }
    Fail(key, Qualified(key) + " must be one of " + list + " (got \"" + field + "\")");
  }

  // Validated under its primary name.
  template <typename T>
  void Alias(std::string_view, std::string_view, const T&, int64_t, int64_t) {}

  void StrList(std::string_view, const std::vector<std::string>&) {}

  std::optional<Problem>& problem() { return problem_; }

 private:
  std::string Qualified(std::string_view key) const { return section_ + "." + std::string(key); }

  void Fail(std::string_view key, std::string text) {
    if (!problem_) problem_ = Problem{Qualified(key), std::move(text)};
  }

  std::string section_;
  std::optional<Problem> problem_;
};

// The [cluster] rules that span keys (each key's own range is checked by VisitFields).
std::optional<Problem> FindClusterProblem(const ServerConfig& config) {
  const ClusterConfig& c = config.cluster;
  if (c.heartbeat_timeout_ms >= c.election_timeout_ms) {
    return Problem{"cluster.heartbeat_timeout_ms",
                   "cluster.heartbeat_timeout_ms (" + std::to_string(c.heartbeat_timeout_ms) +
                       ") must be < cluster.election_timeout_ms (" +
                       std::to_string(c.election_timeout_ms) + ")"};
  }
  if (!c.enabled()) {
    if (c.node_id != 0) {
      return Problem{"cluster.node_id",
                     "cluster.node_id is set (" + std::to_string(c.node_id) +
                         ") but cluster.peers is empty: list every member, this node included, "
                         "as \"id=host:port\""};
    }
    return std::nullopt;
  }
  if (!c.secret.empty() && c.secret.size() < 16) {
    return Problem{"cluster.secret", "cluster.secret must be at least 16 characters"};
  }
  auto peers = cluster::ParsePeers(c.peers);
  if (!peers.ok()) {
    return Problem{"cluster.peers", "cluster.peers: " + peers.status().message()};
  }
  if (c.node_id == 0) {
    return Problem{"cluster.node_id",
                   "cluster.node_id must be set (1..1023) when cluster.peers is set"};
  }
  auto api_peers = cluster::ParsePeers(c.api_peers);
  if (!api_peers.ok()) {
    return Problem{"cluster.api_peers", "cluster.api_peers: " + api_peers.status().message()};
  }
  for (const auto& api : *api_peers) {
    bool member = false;
    for (const auto& peer : *peers) member = member || peer.id == api.id;
    if (!member) {
      return Problem{"cluster.api_peers", "cluster.api_peers: node id " + std::to_string(api.id) +
                                              " is not one of the ids in cluster.peers"};
    }
  }
  bool listed = false;
  for (const auto& peer : *peers) listed = listed || peer.id == c.node_id;
  if (!listed) {
    return Problem{"cluster.node_id", "cluster.node_id (" + std::to_string(c.node_id) +
                                          ") is not one of the ids in cluster.peers"};
  }
  cluster::GroupPlanInput plan;
  plan.node_id = c.node_id;
  plan.peers = *peers;
  plan.user_shards = c.user_shards;
  if (auto planned = cluster::PlanGroups(plan); !planned.ok()) {
    return Problem{"cluster.peers", planned.status().message()};
  }
  if (c.node_id != config.server.node_id) {
    return Problem{"cluster.node_id",
                   "cluster.node_id (" + std::to_string(c.node_id) +
                       ") must equal server.node_id (" + std::to_string(config.server.node_id) +
                       "): the node id is stamped into every _seq the node's leaders assign"};
  }
  return std::nullopt;
}

std::optional<Problem> FindProblem(const ServerConfig& config) {
  Validator validator;
  VisitFields(config, validator);
  if (validator.problem()) return validator.problem();
  if (config.limits.default_query_limit > config.limits.max_query_limit) {
    return Problem{"limits.default_query_limit",
                   "limits.default_query_limit (" +
                       std::to_string(config.limits.default_query_limit) +
                       ") must be <= limits.max_query_limit (" +
                       std::to_string(config.limits.max_query_limit) + ")"};
  }
  if (config.auth.min_password_length > config.auth.max_password_length) {
    return Problem{"auth.min_password_length",
                   "auth.min_password_length (" + std::to_string(config.auth.min_password_length) +
                       ") must be <= auth.max_password_length (" +
                       std::to_string(config.auth.max_password_length) + ")"};
  }
  return FindClusterProblem(config);
}

Status Invalid(std::string_view text, std::string_view where) {
  std::string message(kPrefix);
  message += text;
  message += where;
  return Status::InvalidArgument(std::move(message));
}

// Parses `text` over `config`; on failure returns the problem (key may be empty for syntax errors).
std::optional<Problem> ApplyToml(std::string_view text, std::string_view source_name,
                                 ServerConfig& config) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    return Problem{"", "cannot parse " + std::string(source_name) + " at line " +
                           std::to_string(e.source().begin.line) + ", column " +
                           std::to_string(e.source().begin.column) + ": " +
                           std::string(e.description())};
  }
  ServerConfig parsed = config;
  TomlReader reader(root);
  VisitFields(parsed, reader);
  reader.CheckUnknown();
  if (reader.problem()) return reader.problem();
  config = std::move(parsed);
  return std::nullopt;
}

// One environment override: variable name, the key it sets, and how to apply its text.
struct EnvOverride {
  const char* variable;
  const char* key;
  std::optional<std::string> (*apply)(const std::string& text, ServerConfig& config);
};

std::optional<std::string> ApplyPort(const std::string& text, ServerConfig& config) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return "server.port must be an integer (got \"" + text + "\")";
  }
  if (auto rule = BrokenRule(value, 0, 65535, TypeMax<uint16_t>())) {
    return "server.port " + *rule + " (got " + std::to_string(value) + ")";
  }
  config.server.port = static_cast<uint16_t>(value);
  return std::nullopt;
}

constexpr EnvOverride kEnvOverrides[] = {
    {"KALAMDB_SERVER_HOST", "server.host",
     [](const std::string& text, ServerConfig& c) -> std::optional<std::string> {
       c.server.host = text;
       return std::nullopt;
     }},
    {"KALAMDB_SERVER_PORT", "server.port", ApplyPort},
    {"KALAMDB_DATA_DIR", "storage.data_dir",
     [](const std::string& text, ServerConfig& c) -> std::optional<std::string> {
       c.storage.data_dir = text;
       return std::nullopt;
     }},
    {"KALAMDB_LOG_LEVEL", "logging.level",
     [](const std::string& text, ServerConfig& c) -> std::optional<std::string> {
       c.logging.level = Lower(text);
       return std::nullopt;
     }},
    {"KALAMDB_JWT_SECRET", "auth.jwt_secret",
     [](const std::string& text, ServerConfig& c) -> std::optional<std::string> {
       c.auth.jwt_secret = text;
       return std::nullopt;
     }},
    {"KALAMDB_ROOT_PASSWORD", "auth.root_password",
     [](const std::string& text, ServerConfig& c) -> std::optional<std::string> {
       c.auth.root_password = text;
       return std::nullopt;
     }},
    {"KALAMDB_TOPIC_VISIBILITY_TIMEOUT_SECS", "topics.visibility_timeout_secs",
     [](const std::string& text, ServerConfig& c) -> std::optional<std::string> {
       int64_t value = 0;
       auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
       if (ec != std::errc() || end != text.data() + text.size() || value < 1 ||
           value > UINT32_MAX) {
         return "topics.visibility_timeout_secs must be an integer >= 1 (got \"" + text + "\")";
       }
       c.topics.visibility_timeout_secs = static_cast<uint32_t>(value);
       return std::nullopt;
     }},
};

std::string EnvWhere(std::string_view variable) {
  return " (from environment variable " + std::string(variable) + ")";
}

}  // namespace

std::optional<std::string> ProcessEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<ServerConfig> ParseConfigToml(std::string_view toml_text, std::string_view source_name) {
  ServerConfig config;
  if (auto problem = ApplyToml(toml_text, source_name, config)) {
    return Invalid(problem->text, problem->key.empty() ? "" : " in " + std::string(source_name));
  }
  return config;
}

Status ValidateConfig(const ServerConfig& config) {
  if (auto problem = FindProblem(config)) return Invalid(problem->text, "");
  return Status::OK();
}

Result<ServerConfig> LoadConfig(const std::optional<std::string>& path,
                                const GetEnvFn& getenv_fn) {
  ServerConfig config;

  // 2. The file.
  std::optional<std::string> file_path;
  std::string source_name;
  std::error_code fs_ec;
  if (path) {
    if (!std::filesystem::exists(*path, fs_ec)) {
      return Invalid("file '" + *path + "' does not exist", "");
    }
    file_path = *path;
    source_name = *path;
  } else if (std::filesystem::exists("server.toml", fs_ec)) {
    file_path = "server.toml";
    source_name = "server.toml";
  }
  if (file_path) {
    if (std::filesystem::is_directory(*file_path, fs_ec)) {
      return Invalid("'" + *file_path + "' is a directory, not a TOML file", "");
    }
    std::ifstream in(*file_path, std::ios::binary);
    if (!in.is_open()) {
      return Status::IoError("Cannot read configuration file '" + *file_path + "'");
    }
    std::ostringstream text;
    text << in.rdbuf();  // an empty file is a valid, empty TOML document
    if (in.bad()) return Status::IoError("Cannot read configuration file '" + *file_path + "'");
    if (auto problem = ApplyToml(text.str(), source_name, config)) {
      return Invalid(problem->text, problem->key.empty() ? "" : " in " + source_name);
    }
  }

  // 3. Environment overrides (env > file > default).
  std::set<std::string> from_env;
  for (const auto& override_spec : kEnvOverrides) {
    std::optional<std::string> value = getenv_fn ? getenv_fn(override_spec.variable) : std::nullopt;
    if (!value || value->empty()) continue;
    if (auto error = override_spec.apply(*value, config)) {
      return Invalid(*error, EnvWhere(override_spec.variable));
    }
    from_env.insert(override_spec.key);
  }

  // 4. Validation; say where the offending value came from.
  if (auto problem = FindProblem(config)) {
    std::string where;
    for (const auto& override_spec : kEnvOverrides) {
      if (problem->key == override_spec.key && from_env.count(problem->key)) {
        where = EnvWhere(override_spec.variable);
      }
    }
    if (where.empty() && file_path) where = " in " + source_name;
    return Invalid(problem->text, where);
  }
  return config;
}

namespace {

// Collects every setting's value, with the section as its category.
class SettingsLister {
 public:
  void Section(std::string_view name) { section_ = std::string(name); }

  template <typename T>
  void Int(std::string_view key, const T& field, int64_t, int64_t) {
    Add(key, std::to_string(field));
  }
  void Bool(std::string_view key, const bool& field) { Add(key, field ? "true" : "false"); }
  void Str(std::string_view key, const std::string& field, bool) {
    const std::string name = section_ + "." + std::string(key);
    const bool secret = name == "auth.jwt_secret" || name == "auth.root_password" ||
                        name == "cluster.secret";
    Add(key, secret && !field.empty() ? "***" : field);
  }
  void LogLevel(std::string_view key, const std::string& field) { Add(key, field); }
  template <size_t N>
  void OneOf(std::string_view key, const std::string& field, const std::string_view (&)[N]) {
    Add(key, field);
  }
  // Listed under its primary name only.
  template <typename T>
  void Alias(std::string_view, std::string_view, const T&, int64_t, int64_t) {}
  void StrList(std::string_view key, const std::vector<std::string>& field) {
    std::string joined;
    for (const auto& v : field) joined += (joined.empty() ? "" : ", ") + v;
    Add(key, joined);
  }

  std::vector<SettingValue> settings;

 private:
  void Add(std::string_view key, std::string value) {
    settings.push_back({section_ + "." + std::string(key), std::move(value), "", section_});
  }
  std::string section_;
};

// "section.key" → the comment block above the key in DefaultConfigToml (keys listed right
// after another key share its block), joined into one line.
std::map<std::string, std::string> DefaultConfigDescriptions() {
  std::map<std::string, std::string> out;
  std::istringstream in(DefaultConfigToml());
  std::string line, section, block;
  bool block_used = false;
  while (std::getline(in, line)) {
    if (line.empty()) {
      block.clear();
      block_used = false;
      continue;
    }
    if (line[0] == '[') {
      section = line.substr(1, line.find(']') - 1);
      block.clear();
      block_used = false;
      continue;
    }
    if (line[0] == '#') {
      if (block_used) {
        block.clear();
        block_used = false;
      }
      std::string text = line.substr(1);
      const size_t start = text.find_first_not_of(' ');
      text = start == std::string::npos ? "" : text.substr(start);
      if (!text.empty()) block += (block.empty() ? "" : " ") + text;
      continue;
    }
    const size_t eq = line.find(" = ");
    if (eq == std::string::npos || section.empty()) continue;
    out[section + "." + line.substr(0, eq)] = block;
    block_used = true;
  }
  return out;
}

}  // namespace

std::vector<SettingValue> ListSettings(const ServerConfig& config) {
  SettingsLister lister;
  VisitFields(config, lister);
  const auto descriptions = DefaultConfigDescriptions();
  for (auto& s : lister.settings) {
    if (auto it = descriptions.find(s.name); it != descriptions.end()) s.description = it->second;
  }
  return std::move(lister.settings);
}

std::string DefaultConfigToml() {
  return R"toml(# KalamDB server configuration (server.toml).
#
# Every key is shown with its default value. Unknown sections or keys are errors, so a typo is
# reported at startup instead of being ignored. Load order: built-in defaults, then this file
# (`kalamdb-server PATH`, else ./server.toml if present), then environment variables, which win.

[server]
# Address to listen on. Env: KALAMDB_SERVER_HOST.
host = "127.0.0.1"
# TCP port, 0..65535. 0 picks any free port (useful for tests). Env: KALAMDB_SERVER_PORT.
port = 8080
# HTTP I/O threads; they only parse requests and write responses. At least 1.
io_threads = 2
# Worker threads for SQL and storage work. 0 = one per CPU core.
worker_threads = 0
# A single SELECT whose text ran at most this many microseconds its last 3 times runs on the I/O
# thread that parsed it, saving two thread hand-offs; one still running after 4 times this long
# is cancelled and run on a worker. 0 = every request goes to a worker.
inline_read_max_us = 250
# This node's id (0..1023), stamped into every _seq value.
node_id = 1
# The origin clients reach this server at, for links it hands out (SHOW EXPORT download_url),
# e.g. "https://db.example.com". Empty: http://<host>:<port> (0.0.0.0 shown as 127.0.0.1).
public_origin = ""
# Directory with the admin console's built files (index.html, assets/), served at /ui.
# Empty: the `ui` directory next to the kalamdb-server binary (where scripts/build.sh puts it),
# else ../share/kalamdb/ui from the binary's directory (the container image's layout).
ui_path = ""

[storage]
# Directory for RocksDB (hot storage) and local cold segments. Env: KALAMDB_DATA_DIR.
data_dir = "./data"
# false: each commit is in the write-ahead log (not fsynced) before it is acknowledged; it survives
#        kill -9 of the server, but not a power loss or a kernel crash.
# true:  fsync per commit group; survives power loss, at a cost in write throughput.
sync_writes = false
# RocksDB block cache, in MiB.
rocksdb_block_cache_mb = 256
# Memory for decoded cold (Parquet) segments kept for reuse, in MiB.
cold_cache_mb = 512
# Flush every table's hot rows to Parquet on graceful shutdown.
flush_on_shutdown = true
# Threads running flush and compaction jobs.
job_threads = 1
# Days finished jobs stay in system.jobs.
job_retention_days = 7
# How often FLUSH_POLICY triggers (rows / interval) are checked, in milliseconds.
flush_check_interval_ms = 1000

[auth]
# HS256 secret for signing JWTs. Empty: a random secret is generated at first start and saved in
# the data directory, so tokens stay valid across restarts. Env: KALAMDB_JWT_SECRET.
jwt_secret = ""
# Access-token lifetime in hours; refresh tokens live 7 times as long.
jwt_expiry_hours = 24
# Password given to the built-in 'root' user at first start (and re-applied at each start when
# set). Env: KALAMDB_ROOT_PASSWORD.
root_password = ""
# With root_password empty at first start: true generates a password and prints it once;
# false leaves root without one, so the server reports needs_setup and waits for
# POST /v1/api/auth/setup (a password-less root can log in only from this machine).
generate_root_password = true
# Allow /v1/api/auth/status and /v1/api/auth/setup from other machines (default: loopback only).
allow_remote_setup = false
# Let SQL requests from this machine without an Authorization header run as localhost_user.
localhost_bypass = false
# The user those requests run as.
localhost_user = "root"
# Accepted password lengths.
min_password_length = 8
max_password_length = 1024
# Cost of the argon2id hash of each stored password; a login costs as much as the hash it
# checks. About 25 ms per hash on one core of the reference machine with these defaults (OWASP's
# minimum: 19 MiB, 2 passes); halving either roughly halves it. Existing hashes keep their cost
# until the password is changed.
password_hash_ops_limit = 2
password_hash_memory_kib = 19456

[limits]
# Longest SQL text in one request, in bytes (1 MiB).
max_sql_length = 1048576
# Largest HTTP request body, in bytes (2 MiB); larger bodies get 413 BODY_TOO_LARGE.
max_body_bytes = 2097152
# Rows returned by a SELECT without a LIMIT.
default_query_limit = 50
# Most rows any SELECT returns.
max_query_limit = 1000
# Concurrent HTTP and WebSocket connections; more get 503 TOO_MANY_CONNECTIONS.
max_connections = 10000
# Seconds allowed for each phase of a request (receiving, handling, sending).
request_timeout_secs = 30

[execution]
# Most $N parameters in one request.
max_parameters = 50
# Prepared statements kept in the plan cache. 0 disables caching.
statement_cache_size = 256
# Pooled SQLite connections. 0 = as many as worker threads plus I/O threads.
sql_connections = 0

[logging]
# trace, debug, info, warn, error, critical or off. Env: KALAMDB_LOG_LEVEL.
level = "info"
# Log file. Empty: log to the console (stderr) only; otherwise also to this file, rotated by size.
file = ""
# Rotate the log file when it reaches this many MiB.
max_file_mb = 50
# Rotated log files to keep.
max_files = 5
# Line format: "compact" (human-readable) or "json" (one JSON object per line with timestamp,
# level, thread, target and message). system.server_logs reads either from the log file.
format = "compact"
# Statements running at least this many milliseconds go to slow.log (beside the log file; none
# without one) with literals replaced by ?, and are logged as a warning. 0 = every statement,
# -1 = off. Also accepted as slow_query_ms.
slow_query_threshold_ms = 1200

[rate_limit]
# Login, refresh and setup requests per client IP per second (0 = unlimited).
max_auth_requests_per_ip_per_sec = 20
# All requests per client IP per second (0 = unlimited).
max_requests_per_ip_per_sec = 0
# Live subscriptions one user may hold across all its WebSocket connections (0 = unlimited).
max_subscriptions_per_user = 10
# subscribe, unsubscribe and authenticate messages one WebSocket connection may send per second;
# more are dropped with RATE_LIMIT_EXCEEDED. ping and next_batch are never limited (0 = unlimited).
max_messages_per_sec = 50

[security]
# Browser origins allowed to call the API, e.g. ["https://admin.example.com"]; "*" allows any.
# Empty: no CORS headers are sent.
cors_allowed_origins = []
# Largest WebSocket message accepted, in bytes (1 MiB).
max_ws_message_size = 1048576

[websocket]
# Seconds a client that sent no Authorization header on the upgrade has to authenticate in-band
# ({"type":"authenticate",...}); then it gets auth_error and close code 1008.
auth_timeout_secs = 3
# Seconds of client silence (no message, no ping) before the connection is closed with 1000.
client_timeout_secs = 10
# Live subscriptions one connection may hold.
max_subscriptions_per_connection = 100
# Server messages waiting to be written per connection. When full, the subscription that could
# not queue gets SUBSCRIBER_LAGGING and is closed (the client resumes it with `from`).
outbound_queue_messages = 1024

[stream]
# How often expired rows of STREAM tables are deleted (one stream_eviction job per table with
# expired rows), in seconds. Reads hide expired rows anyway. 0 = never.
eviction_interval_seconds = 60

[topics]
# Seconds a consumer-group claim lasts: a message fetched and not acknowledged within it is
# delivered again. Env: KALAMDB_TOPIC_VISIBILITY_TIMEOUT_SECS.
visibility_timeout_secs = 60
# Seconds between topic retention checks (0 = never).
retention_check_interval_seconds = 60

[backup]
# Directories BACKUP DATABASE may write into and backups may be restored from, e.g.
# ["/srv/kalamdb-backups"]; a path must resolve (symlinks followed) inside one of them.
# Empty: only <data_dir>/../backups (the directory beside the data directory).
allowed_dirs = []

[export]
# Hours an EXPORT USER DATA archive is kept before it is deleted (SHOW EXPORT then shows the
# export as expired). 0 = kept forever.
retention_hours = 168

[metrics]
# Answer GET /metrics (Prometheus text format) for other machines too; default: loopback only.
allow_remote = false

[audit]
# Days an entry stays in system.audit_log before it is deleted. 0 = kept forever.
retention_days = 90

[files]
# FILE column uploads (multipart POST /v1/api/sql; docs/files.md).
# Largest file in bytes (larger: 400 FILE_TOO_LARGE).
max_size_bytes = 26214400
# File parts per request (more: 400 TOO_MANY_FILES).
max_files_per_request = 20
# Files per fNNNN subfolder of a table.
max_files_per_folder = 5000
# Largest multipart request body in bytes (JSON bodies keep limits.max_body_bytes).
max_request_bytes = 27262976
# Accepted MIME types, exact or "type/*" (e.g. ["image/*", "application/pdf"]); [] = all.
allowed_mime_types = []

[vector]
# Vector indexes (docs/vectors.md). Smallest HNSW candidate list of an indexed search, 1..10000;
# a search widens it to at least 2·k, and beyond 100,000 vectors by sqrt(vectors / 100,000).
# Larger: better recall, slower searches.
ef_search = 128

[cluster]
# Raft replication across nodes (docs/cluster.md). With peers empty the server is a single node.
# This node's id in the cluster (1..1023); listed in peers and equal to server.node_id. 0 = none.
node_id = 0
# Every member, this node included, as "id=host:port" (the port of its Raft transport), e.g.
# ["1=10.0.0.1:9100", "2=10.0.0.2:9100", "3=10.0.0.3:9100"].
peers = []
# Every member's HTTP API as "id=host:port" (plain HTTP), e.g. ["1=10.0.0.1:8080", ...]: a write
# this node does not lead is forwarded to its leader's API (answered NOT_LEADER when empty);
# snapshot files are fetched from these addresses too.
api_peers = []
# User shards the rows of USER tables are split into by user id; fixed when the cluster is created.
user_shards = 8
# Directory of the Raft logs and snapshots. Empty: <data_dir>/raft.
raft_dir = ""
# Directory every member shares (same path on each node) where the built-in `local` storage keeps
# flushed segments. Empty: <data_dir>/storage, node-local, so a cluster node refuses to flush.
shared_storage_dir = ""
# Milliseconds without a leader before a follower starts an election (randomised up to 2x).
election_timeout_ms = 1000
# Milliseconds between a leader's heartbeats; below election_timeout_ms.
heartbeat_timeout_ms = 100
# Entries a data group applies between two shard snapshots.
snapshot_threshold = 1024
# Entries a data group keeps in its log behind a snapshot.
snapshot_trailing = 8192
# Shared secret (>= 16 characters, the same on every member) that members present to get each
# other's snapshot files. Empty: no snapshot files served or fetched.
secret = ""
)toml";
}

}  // namespace kalam::server
