// Router: maps an exact (method, path) pair — or a path prefix, for routes with parameters in the
// path — to a Handler and answers unknown routes with the JSON 404/405 errors of PROTOCOL.md §1.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/http_types.h"

namespace kalam::metrics {
class Counter;
class Histogram;
}  // namespace kalam::metrics

namespace kalam::net {

// The metric series of one route label (docs/metrics.md), looked up in the registry on their first
// use instead of per response (then read without a lock). Thread-safe.
class RouteMetrics {
 public:
  explicit RouteMetrics(std::string label);
  // Counts one response with `status` that took `seconds` from routing to the handler's answer.
  void Record(int status, double seconds);

 private:
  static constexpr int kFirstStatus = 100;
  static constexpr int kLastStatus = 999;
  const std::string label_;
  std::atomic<metrics::Histogram*> duration_{nullptr};
  std::array<std::atomic<metrics::Counter*>, kLastStatus - kFirstStatus + 1> by_status_{};
};

// Routing table of exact paths and path prefixes. The query string never takes part in matching,
// and paths are compared byte for byte (no trailing-slash folding, no percent-decoding). An exact
// route wins over a prefix route; among prefix routes the longest matching prefix wins. A prefix
// handler parses (and percent-decodes) the rest of the path itself.
// Thread-safety: Add is not thread-safe and must finish before the router is shared with a running
// HttpServer; every const method is safe to call concurrently afterwards.
class Router {
 public:
  // Registers `handler` for `method` (compared case-sensitively, e.g. "GET") on `path`
  // (e.g. "/v1/api/sql"). Registering the same pair again replaces the earlier handler.
  void Add(std::string method, std::string path, Handler handler);

  // Registers `handler` for `method` on every path that starts with `prefix` and is longer than
  // it (e.g. prefix "/v1/exports/" matches "/v1/exports/u1/e1", not "/v1/exports/"), unless an
  // exact route matches. `prefix` must end with '/'. Registering the same pair again replaces the
  // earlier handler.
  void AddPrefix(std::string method, std::string prefix, Handler handler);

  // Gives handlers on `path` `extra` more time to respond than the server's request timeout
  // (long polls that answer within a bounded wait). Default: none.
  void SetExtraHandlerTime(std::string path, std::chrono::seconds extra);
  // The extra handler time of `path` (0 s when none was set).
  std::chrono::seconds ExtraHandlerTime(std::string_view path) const;

  // Runs the matching handler on the calling thread, passing `respond` on, and counts the response
  // in kalamdb_http_requests_total{route,status} and kalamdb_http_request_duration_seconds{route}
  // (route = the registered path, or "unmatched"; docs/metrics.md). Without a match it
  // responds itself: unknown path → 404 `{"error":"NOT_FOUND","message":"No route for GET /x"}`;
  // known path, other method → 405 `{"error":"METHOD_NOT_ALLOWED",...}` with an Allow header.
  void Dispatch(HttpRequest&& request, Responder respond) const;

  // True when any method is registered for `path` (exactly, or through a prefix route).
  bool HasPath(std::string_view path) const;

  // The methods registered for `path` (its exact routes, else its longest prefix's) in
  // registration order, joined as for an Allow header ("GET, POST"); empty for an unknown path.
  std::string AllowedMethods(std::string_view path) const;

 private:
  struct Route {
    std::string method;
    Handler handler;
  };
  // Wraps `respond` to record the response's status and latency in `metrics`, which must stay
  // valid while the response is pending (owned by the router, or static).
  static Responder Measured(RouteMetrics* metrics, Responder respond);
  // Transparent hashing so lookups by string_view do not allocate.
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // The routes of `path`: exact ones, else those of the longest matching prefix; null if none.
  // With `label`, also where the route's metrics label is: the exact path or the prefix (a key
  // that lives as long as the router).
  const std::vector<Route>* Find(std::string_view path, const std::string** label = nullptr) const;
  static void Put(std::vector<Route>& routes, std::string method, Handler handler);

  std::unordered_map<std::string, std::vector<Route>, PathHash, std::equal_to<>> routes_;
  // Prefix routes, longest prefix first.
  std::vector<std::pair<std::string, std::vector<Route>>> prefixes_;
  std::unordered_map<std::string, std::chrono::seconds, PathHash, std::equal_to<>> extra_time_;
  // The metrics of each path and prefix routed (created by Add and AddPrefix).
  std::unordered_map<std::string, std::unique_ptr<RouteMetrics>, PathHash, std::equal_to<>>
      metrics_;
};

}  // namespace kalam::net
