// TestServer: starts the real kalamdb-server binary on a free port with a temporary data dir for
// the client library's end-to-end tests, and stops or restarts it.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "kalam/client.h"

namespace kalam::client::testing {

inline constexpr const char* kRootPassword = "root-test-password";

// The server binary: $KALAMDB_SERVER_BIN, else the one built next to this test
// (<build>/tests/unit/unit_client → <build>/src/server/kalamdb-server). "" when not found.
inline std::string ServerBinary() {
  if (const char* env = std::getenv("KALAMDB_SERVER_BIN"); env && *env) return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (auto dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    const auto candidate = dir / "src" / "server" / "kalamdb-server";
    if (std::filesystem::exists(candidate)) return candidate.string();
  }
  return "";
}

inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// One server process; the data dir survives Stop()/Start(). Not thread-safe.
class TestServer {
 public:
  TestServer() : port_(FreePort()) {
    char tmpl[] = "/tmp/kalam-client-server-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::ofstream(dir_ + "/server.toml") << "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n";
  }
  ~TestServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Starts the process and waits until /health answers. Returns an error text, "" on success.
  std::string Start() {
    const std::string bin = ServerBinary();
    if (bin.empty()) {
      return "kalamdb-server not found: build it or set KALAMDB_SERVER_BIN";
    }
    const std::string port = std::to_string(port_);
    const std::string data = dir_ + "/data";
    const std::string config = dir_ + "/server.toml";
    const std::string log = dir_ + "/server.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setenv("KALAMDB_SERVER_PORT", port.c_str(), 1);
      ::setenv("KALAMDB_SERVER_HOST", "127.0.0.1", 1);
      ::setenv("KALAMDB_DATA_DIR", data.c_str(), 1);
      ::setenv("KALAMDB_ROOT_PASSWORD", kRootPassword, 1);
      ::setenv("KALAMDB_LOG_LEVEL", "warn", 1);
      if (std::FILE* f = std::freopen(log.c_str(), "a", stdout)) (void)f;
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
      ::chdir(dir_.c_str());
      ::execl(bin.c_str(), bin.c_str(), config.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ClientOptions o;
    o.url = url();
    o.max_retries = 0;
    auto probe = Client::Connect(o);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return "server exited during startup; see " + log;
      }
      if (probe.ok() && (*probe)->Health().ok()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "server did not become healthy; see " + log;
  }

  // SIGTERM (graceful) and wait.
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  ClientOptions RootOptions() const {
    ClientOptions o;
    o.url = url();
    o.user = "root";
    o.password = kRootPassword;
    return o;
  }

 private:
  int port_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace kalam::client::testing
