// Test support for the S3 store tests: a moto_server child process (optionally with TLS and with
// signature checking switched on), a scripted in-process HTTP server for retry and request-shape
// tests, and a self-signed certificate generator.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace kalam::filestore::testing {

// The moto_server executable: $KALAM_MOTO_SERVER, else the first ".venv/bin/moto_server" found
// walking up from this test binary's directory. Empty when there is none.
std::string FindMotoServer();

// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
uint16_t FreePort();

// A moto_server child. Not thread-safe.
class MotoServer {
 public:
  struct Options {
    // INITIAL_NO_AUTH_ACTION_COUNT: requests after this many are signature-checked by moto
    // (through botocore's SigV4 implementation). -1 = never check.
    int no_auth_actions = -1;
    // PEM certificate and key: serve https with them. Empty = http.
    std::string cert_file;
    std::string key_file;
  };
  MotoServer() = default;
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  // Starts moto_server on a free port and waits (up to 60 s) until it accepts connections.
  // kFailedPrecondition with a clear message when moto_server cannot be found or does not start.
  Status Start(const Options& options, const std::string& log_file);
  // SIGTERM and reap. Safe to call twice.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A scripted HTTP/1.1 server on 127.0.0.1: answers each request with the next canned reply (the
// last one repeats), one request per connection, and records every request. Thread-safe.
class FakeHttpServer {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    bool hang = false;  // accept and read the request, then never answer (until Stop)
    // Extra header lines, each ending in "\r\n" ("ETag: \"e1\"\r\n").
    std::string headers = {};
  };
  explicit FakeHttpServer(std::vector<Reply> replies);
  ~FakeHttpServer();

  uint16_t port() const { return port_; }
  // Raw request heads (request line + headers) and bodies, in arrival order.
  std::vector<std::string> heads() const;
  std::vector<std::string> bodies() const;
  int request_count() const;

 private:
  void Serve();

  std::vector<Reply> replies_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<std::string> heads_;   // guarded by mu_
  std::vector<std::string> bodies_;  // guarded by mu_
  std::vector<int> open_fds_;        // guarded by mu_; hung connections closed by the destructor
  std::thread thread_;
};

// Writes a self-signed certificate (EC P-256, SHA-256, valid for a day) whose subjectAltName is
// `san` (e.g. "IP:127.0.0.1" or "DNS:other.example") and its private key, as PEM files.
Status WriteSelfSignedCertificate(const std::string& san, const std::string& cert_file,
                                  const std::string& key_file);

}  // namespace kalam::filestore::testing
