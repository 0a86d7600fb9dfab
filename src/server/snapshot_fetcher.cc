// HttpSnapshotFetcher: a peer's snapshot file over its HTTP API.
#include "server/snapshot_fetcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

namespace kalam::server {

Result<std::unique_ptr<HttpSnapshotFetcher>> HttpSnapshotFetcher::Create(
    const std::vector<cluster::Peer>& api_peers, std::string secret) {
  std::map<cluster::NodeId, filestore::HttpEndpoint> endpoints;
  for (const auto& p : api_peers) endpoints[p.id] = filestore::HttpEndpoint{false, p.host, p.port};
  filestore::HttpClientOptions options;
  options.timeout = std::chrono::milliseconds(120000);
  KALAM_ASSIGN_OR_RETURN(auto client, filestore::HttpClient::Create(options));
  return std::unique_ptr<HttpSnapshotFetcher>(
      new HttpSnapshotFetcher(std::move(endpoints), std::move(secret), std::move(client)));
}

HttpSnapshotFetcher::HttpSnapshotFetcher(
    std::map<cluster::NodeId, filestore::HttpEndpoint> endpoints, std::string secret,
    std::unique_ptr<filestore::HttpClient> client)
    : endpoints_(std::move(endpoints)), secret_(std::move(secret)), client_(std::move(client)) {}

Status HttpSnapshotFetcher::Fetch(cluster::NodeId source, const std::string& path,
                                  const std::string& local_path) {
  if (secret_.empty()) {
    return Status::Unavailable("cluster.secret is empty: snapshot files cannot be fetched");
  }
  auto it = endpoints_.find(source);
  if (it == endpoints_.end()) {
    return Status::Unavailable("Node " + std::to_string(source) +
                               " has no API address in cluster.api_peers");
  }
  filestore::HttpRequest req;
  req.method = "GET";
  req.target = std::string(kSnapshotRoutePrefix) + path;
  req.headers.emplace_back("Host", it->second.host + ":" + std::to_string(it->second.port));
  req.headers.emplace_back("Authorization", "Bearer " + secret_);
  auto resp = client_->Send(it->second, req);
  if (!resp.ok()) {
    return Status::Unavailable("Snapshot file " + path + " from node " + std::to_string(source) +
                               ": " + resp.status().message());
  }
  if (resp->status == 404) {
    return Status::NotFound("Node " + std::to_string(source) + " no longer has snapshot file " +
                            path);
  }
  if (resp->status != 200) {
    return Status::Unavailable("Snapshot file " + path + " from node " + std::to_string(source) +
                               ": HTTP " + std::to_string(resp->status) + " " + resp->body);
  }
  int fd = ::open(local_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("open " + local_path + ": " + std::strerror(errno));
  const std::string& body = resp->body;
  size_t done = 0;
  while (done < body.size()) {
    ssize_t n = ::write(fd, body.data() + done, body.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Status::IoError("write " + local_path + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return Status::IoError("fsync " + local_path + ": " + std::strerror(err));
  }
  if (::close(fd) != 0) return Status::IoError("close " + local_path + ": " + std::strerror(errno));
  spdlog::info("Fetched snapshot file {} ({} bytes) from node {}", path, body.size(), source);
  return Status::OK();
}

}  // namespace kalam::server
