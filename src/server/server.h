// Server: builds and owns every part of a running kalamdb-server, starts them in dependency order
// and stops them in reverse (ARCHITECTURE.md §8, STYLE.md "Ownership and threads").
#pragma once

#include <memory>

#include "common/status.h"
#include "server/config.h"

namespace kalam::server {

struct BuildInfo {
  std::string version;
  std::string git_rev;
  std::string build_date;
};

class Server {
 public:
  // Binds the HTTP port first (so a port in use fails before any data is touched), then opens
  // storage, the catalog and the commit pipeline, bootstraps `root`, and starts serving.
  static Result<std::unique_ptr<Server>> Start(const ServerConfig& config, const BuildInfo& build);
  ~Server();

  // The port actually listened on.
  uint16_t port() const;

  // Ordered shutdown: stop accepting and finish in-flight requests, stop the workers, drain the
  // commit pipeline, close storage. Idempotent.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kalam::server
