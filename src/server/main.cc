// kalamdb-server: loads the configuration, starts the server, and stops it in order on SIGINT or
// SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "jobs/backup.h"
#include "server/config.h"
#include "server/logging.h"
#include "server/server.h"

namespace {

// `kalamdb-server restore --from DIR --data-dir D` (docs/backup.md): verifies the backup at DIR
// and restores it into the new data directory D, with no server running on D. Exit 0 on success,
// 1 when the backup is refused or the restore fails (D untouched), 2 on a usage error.
int RunRestore(int argc, char** argv) {
  std::string from, data_dir;
  for (int i = 2; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--from") == 0 && has_value) {
      from = argv[++i];
    } else if (std::strcmp(argv[i], "--data-dir") == 0 && has_value) {
      data_dir = argv[++i];
    } else {
      std::fprintf(stderr, "kalamdb-server restore: unexpected argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (from.empty() || data_dir.empty()) {
    std::fprintf(stderr, "usage: kalamdb-server restore --from BACKUP_DIR --data-dir NEW_DATA_DIR\n");
    return 2;
  }
  auto restored = kalam::jobs::RestoreBackup(from, data_dir);
  if (!restored.ok()) {
    std::fprintf(stderr, "kalamdb-server restore: %s\n", restored.status().message().c_str());
    return 1;
  }
  std::printf("Restored backup '%s' (_seq %lld, %zu files, %llu bytes) into '%s'\n", from.c_str(),
              static_cast<long long>(restored->seq), restored->files.size(),
              static_cast<unsigned long long>(restored->total_bytes()), data_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kalam::server;
  if (argc >= 2 && std::strcmp(argv[1], "restore") == 0) return RunRestore(argc, argv);
  std::optional<std::string> config_path;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--version") == 0) {
      std::printf("kalamdb-server %s (rev %s, built %s)\n", KALAM_VERSION, KALAM_GIT_REV,
                  KALAM_BUILD_DATE);
      return 0;
    }
    if (std::strcmp(argv[i], "--print-default-config") == 0) {
      std::printf("%s", DefaultConfigToml().c_str());
      return 0;
    }
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: kalamdb-server [CONFIG.toml]\n"
          "       kalamdb-server restore --from BACKUP_DIR --data-dir NEW_DATA_DIR\n"
          "  CONFIG.toml defaults to ./server.toml if present, else built-in defaults.\n"
          "  --print-default-config  print a commented default configuration\n"
          "  --version               print version and exit\n");
      return 0;
    }
    if (argv[i][0] == '-') {
      std::fprintf(stderr, "kalamdb-server: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    }
    config_path = argv[i];
  }

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto config = LoadConfig(config_path, ProcessEnv);
  if (!config.ok()) {
    std::fprintf(stderr, "kalamdb-server: %s\n", config.status().message().c_str());
    return 1;
  }
  if (auto st = SetupLogging(config->logging); !st.ok()) {
    std::fprintf(stderr, "kalamdb-server: %s\n", st.message().c_str());
    return 1;
  }
  auto server = Server::Start(*config, BuildInfo{KALAM_VERSION, KALAM_GIT_REV, KALAM_BUILD_DATE});
  if (!server.ok()) {
    std::fprintf(stderr, "kalamdb-server: %s\n", server.status().message().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("Received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Stop();
  return 0;
}
