// ExecutorOptions: the limits and settings the SQL executor runs with (server config
// [limits]/[auth]/[storage]); also shown by system.settings and system.storages.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kalam::sql {

struct ExecutorOptions {
  // Rows a SELECT without a top-level LIMIT returns at most. Default 50.
  uint64_t default_query_limit = 50;
  // Rows any SELECT returns at most. Default 1000.
  uint64_t max_query_limit = 1000;
  // Times an autocommit statement is re-run after losing a write conflict. Default 3.
  int conflict_retries = 3;
  // How long one request may run; statements still running then are interrupted. 0 = no limit.
  // Default 30 s (limits.request_timeout_secs).
  std::chrono::milliseconds request_time_limit{30000};
  // Password hashing for CREATE/ALTER USER. Lower only in tests.
  uint64_t password_ops_limit = 2;
  size_t password_mem_limit_bytes = 19u << 20;
  size_t min_password_length = 8;
  size_t max_password_length = 1024;
  // The server's data directory, shown by system.storages (the `local` storage lives under
  // <data_dir>/storage) and system.settings. Default "./data".
  std::string data_dir = "./data";

  // What system.settings and system.stats show about the server (filled by the server from its
  // configuration; empty in tests that build an Executor directly).
  struct Setting {
    std::string name;  // "limits.default_query_limit"
    std::string value;
    std::string description;
    std::string category;  // "limits"
  };
  std::vector<Setting> settings;
  std::string server_version;
  std::string server_build_date;
  std::string server_git_commit;
  uint64_t node_id = 1;
  // "<host>:<port>" the server listens on (system.cluster.api_addr). Default "".
  std::string api_addr;
  uint64_t server_workers_configured = 0;  // server.worker_threads (0 = one per core)
  uint64_t server_workers_effective = 0;
  uint64_t max_connections = 0;
  // The server log file system.server_logs reads (logging.file); empty = none. Default "".
  std::string log_file;
  // system.server_logs reads at most this many bytes from the end of log_file. Default 4 MiB.
  size_t server_logs_tail_bytes = 4u << 20;
  // system.audit_log shows at most this many entries, the newest. Default 100000.
  size_t audit_log_max_rows = 100000;
};

}  // namespace kalam::sql
