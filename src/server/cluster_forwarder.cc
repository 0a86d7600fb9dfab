// ClusterForwarder: forwarding a write to its group's leader and waiting for the local apply.
#include "server/cluster_forwarder.h"

#include <charconv>
#include <thread>

#include <spdlog/spdlog.h>

#include "api/sql_response_json.h"

namespace kalam::server {

namespace {

using SteadyClock = std::chrono::steady_clock;

api::ForwardedAnswer Unavailable(std::string message, SteadyClock::time_point start) {
  return {503, api::EncodeSqlError("INTERNAL_ERROR", message, api::MillisSince(start))};
}

// "<group>=<index>,...": nullopt when malformed.
std::optional<std::vector<std::pair<uint32_t, cluster::LogIndex>>> ParseApplied(
    std::string_view text) {
  std::vector<std::pair<uint32_t, cluster::LogIndex>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    uint32_t group = 0;
    cluster::LogIndex index = 0;
    auto a = std::from_chars(item.data(), item.data() + eq, group);
    auto b = std::from_chars(item.data() + eq + 1, item.data() + item.size(), index);
    if (a.ec != std::errc() || a.ptr != item.data() + eq || b.ec != std::errc() ||
        b.ptr != item.data() + item.size()) {
      return std::nullopt;
    }
    out.emplace_back(group, index);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<ClusterForwarder>> ClusterForwarder::Create(const ClusterConfig& config,
                                                                   const ClusterNode& node) {
  KALAM_ASSIGN_OR_RETURN(auto raft_peers, cluster::ParsePeers(config.peers));
  KALAM_ASSIGN_OR_RETURN(auto api_list, cluster::ParsePeers(config.api_peers));
  std::map<cluster::NodeId, cluster::Peer> api_peers;
  for (auto& p : api_list) api_peers[p.id] = p;
  KALAM_ASSIGN_OR_RETURN(auto http, filestore::HttpClient::Create({}));
  return std::unique_ptr<ClusterForwarder>(
      new ClusterForwarder(node, std::move(raft_peers), std::move(api_peers), std::move(http),
                           std::chrono::milliseconds(config.election_timeout_ms)));
}

bool ClusterForwarder::AwaitLeader(std::string_view not_leader) {
  if (not_leader.rfind("Leader: ") != std::string_view::npos) return false;  // one is known
  const auto deadline = SteadyClock::now() + election_timeout_;
  while (!node_.every_group_has_leader()) {
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string ClusterForwarder::AppliedIndexes() const {
  node_.PushCommitIndex();
  std::string out;
  for (uint32_t g = 0; g < node_.group_count(); ++g) {
    if (!out.empty()) out.push_back(',');
    out += std::to_string(g) + "=" + std::to_string(node_.applied_index(g));
  }
  return out;
}

std::optional<api::ForwardedAnswer> ClusterForwarder::Forward(
    std::string_view not_leader, std::string_view path,
    const std::optional<std::string>& authorization, std::string_view body) {
  const auto start = SteadyClock::now();
  // "... Leader: host:port" names the group's Raft address: the member's base port + ordinal.
  constexpr std::string_view kLeader = "Leader: ";
  const size_t at = not_leader.rfind(kLeader);
  if (at == std::string_view::npos) return std::nullopt;  // "Leader unknown"
  const std::string_view addr = not_leader.substr(at + kLeader.size());
  const size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view host = addr.substr(0, colon);
  uint32_t port = 0;
  auto pr = std::from_chars(addr.data() + colon + 1, addr.data() + addr.size(), port);
  if (pr.ec != std::errc() || pr.ptr != addr.data() + addr.size()) return std::nullopt;
  cluster::NodeId leader = 0;
  uint32_t group = 0;
  for (const auto& p : raft_peers_) {
    if (p.host == host && port >= p.port && port < uint32_t{p.port} + node_.group_count()) {
      leader = p.id;
      group = port - p.port;
    }
  }
  auto api = api_peers_.find(leader);
  if (api == api_peers_.end()) return std::nullopt;

  filestore::HttpEndpoint endpoint{false, api->second.host, api->second.port};
  filestore::HttpRequest request;
  request.method = "POST";
  request.target = std::string(path);
  request.headers.emplace_back("Host", api->second.address());
  request.headers.emplace_back("Content-Type", "application/json");
  if (authorization) request.headers.emplace_back("Authorization", *authorization);
  request.headers.emplace_back(std::string(api::kForwardedHeader), "1");
  request.body = body;
  auto response = http_->Send(endpoint, request);
  const auto answered = SteadyClock::now();
  if (!response.ok() && response.status().code() == StatusCode::kUnavailable) {
    // Never reached the leader (its process is gone, most likely): nothing ran. Wait for the
    // group to name another leader; the route then runs the request again.
    const std::string cause = response.status().message();
    // A follower waits a randomised 1-2 election timeouts before it stands, and a vote can be
    // split: 4 cover a failover (measured p99 1.9 s at 500 ms, docs/cluster.md "Measured").
    const auto deadline = SteadyClock::now() + 4 * election_timeout_;
    while (SteadyClock::now() < deadline) {
      const cluster::NodeId now_leading = node_.leader_of(group);
      if (now_leading != 0 && now_leading != leader) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    api::ForwardedAnswer refused{
        503,
        api::EncodeSqlError("NOT_LEADER",
                            "Forwarded to the leader (node " + std::to_string(leader) + " at " +
                                api->second.address() + "), but it could not be reached (" +
                                cause + "): the request did not run",
                            api::MillisSince(start))};
    refused.delivered = false;
    return refused;
  }
  if (!response.ok()) {
    // It may have run there: never re-sent (docs/cluster.md).
    return Unavailable("Forwarded to the leader (node " + std::to_string(leader) + " at " +
                           api->second.address() + "), but its answer did not arrive (" +
                           response.status().message() +
                           "): the outcome of the request is unknown",
                       start);
  }
  api::ForwardedAnswer answer{response->status, std::move(response->body)};
  const auto applied_header = response->Header(api::kAppliedHeader);
  if (!applied_header) return answer;  // refused before running (authentication, bad input)
  auto applied = ParseApplied(*applied_header);
  if (!applied) {
    return Unavailable("The leader's answer carried a malformed " +
                           std::string(api::kAppliedHeader) + " header: the outcome of the "
                           "request is unknown here",
                       start);
  }
  // Read-your-writes: answer once this node applied everything the leader had when it answered
  // (and reloaded its catalog for the DDL among it).
  const auto deadline = SteadyClock::now() + kForwardCatchUp;
  for (const auto& [group, index] : *applied) {
    while (node_.applied_index(group) < index) {
      if (SteadyClock::now() >= deadline) {
        return Unavailable("The leader (node " + std::to_string(leader) +
                               ") executed the request, but this node did not apply it within " +
                               std::to_string(kForwardCatchUp.count()) + " ms (group " +
                               std::to_string(group) + ": applied " +
                               std::to_string(node_.applied_index(group)) + " of " +
                               std::to_string(index) + ")",
                           start);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  while (!node_.catalog_current()) {
    if (SteadyClock::now() >= deadline) {
      return Unavailable("The leader (node " + std::to_string(leader) +
                             ") executed the request, but this node did not reload its catalog "
                             "within " + std::to_string(kForwardCatchUp.count()) + " ms",
                         start);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  // The steps of a forwarded write (bench/forward_bench.py --steps reads these).
  spdlog::debug("forwarded to node {}: leader answered after {} us, applied here {} us later",
                leader,
                std::chrono::duration_cast<std::chrono::microseconds>(answered - start).count(),
                std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - answered)
                    .count());
  return answer;
}

}  // namespace kalam::server
