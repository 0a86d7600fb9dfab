// Router implementation: a hash map from path to the few methods registered on it, and a short
// list of prefix routes searched when no exact path matches.
#include "net/router.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/metrics.h"

namespace kalam::net {

namespace {

constexpr std::string_view kRequestsName = "kalamdb_http_requests_total";
constexpr std::string_view kRequestsHelp = "HTTP requests answered, by route and status";

RouteMetrics& Unmatched() {
  static RouteMetrics unmatched("unmatched");
  return unmatched;
}

}  // namespace

RouteMetrics::RouteMetrics(std::string label) : label_(std::move(label)) {}

// The registry returns the same series to every thread that asks, so two threads racing to fill a
// slot store the same pointer.
void RouteMetrics::Record(int status, double seconds) {
  metrics::Histogram* duration = duration_.load(std::memory_order_acquire);
  if (duration == nullptr) {
    duration = &metrics::Registry::Default().GetHistogram(
        "kalamdb_http_request_duration_seconds",
        "HTTP request latency from routing to the handler's response", metrics::LatencyBuckets(),
        {{"route", label_}});
    duration_.store(duration, std::memory_order_release);
  }
  duration->Observe(seconds);
  if (status < kFirstStatus || status > kLastStatus) {
    metrics::Registry::Default()
        .GetCounter(kRequestsName, kRequestsHelp,
                    {{"route", label_}, {"status", std::to_string(status)}})
        .Inc();
    return;
  }
  std::atomic<metrics::Counter*>& slot = by_status_[static_cast<size_t>(status - kFirstStatus)];
  metrics::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &metrics::Registry::Default().GetCounter(
        kRequestsName, kRequestsHelp, {{"route", label_}, {"status", std::to_string(status)}});
    slot.store(counter, std::memory_order_release);
  }
  counter->Inc();
}

Responder Router::Measured(RouteMetrics* metrics, Responder respond) {
  return [metrics, start = std::chrono::steady_clock::now(),
          inner = std::move(respond)](HttpResponse response) mutable {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics->Record(response.status, seconds);
    inner(std::move(response));
  };
}

void Router::Put(std::vector<Route>& routes, std::string method, Handler handler) {
  for (auto& route : routes) {
    if (route.method == method) {
      route.handler = std::move(handler);
      return;
    }
  }
  routes.push_back(Route{std::move(method), std::move(handler)});
}

void Router::Add(std::string method, std::string path, Handler handler) {
  if (!metrics_.contains(path)) metrics_.emplace(path, std::make_unique<RouteMetrics>(path));
  Put(routes_[std::move(path)], std::move(method), std::move(handler));
}

void Router::AddPrefix(std::string method, std::string prefix, Handler handler) {
  if (!metrics_.contains(prefix)) metrics_.emplace(prefix, std::make_unique<RouteMetrics>(prefix));
  for (auto& [p, routes] : prefixes_) {
    if (p == prefix) {
      Put(routes, std::move(method), std::move(handler));
      return;
    }
  }
  prefixes_.emplace_back(std::move(prefix), std::vector<Route>{});
  Put(prefixes_.back().second, std::move(method), std::move(handler));
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

const std::vector<Router::Route>* Router::Find(std::string_view path,
                                               const std::string** label) const {
  if (auto it = routes_.find(path); it != routes_.end()) {
    if (label) *label = &it->first;
    return &it->second;
  }
  for (const auto& [prefix, routes] : prefixes_) {
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix) {
      if (label) *label = &prefix;
      return &routes;
    }
  }
  return nullptr;
}

void Router::Dispatch(HttpRequest&& request, Responder respond) const {
  const std::string* label = nullptr;
  const std::vector<Route>* routes = Find(request.path, &label);
  RouteMetrics* metrics = &Unmatched();
  if (label != nullptr) {
    if (auto it = metrics_.find(*label); it != metrics_.end()) metrics = it->second.get();
  }
  respond = Measured(metrics, std::move(respond));
  if (routes == nullptr) {
    respond(JsonErrorResponse(404, "NOT_FOUND",
                              "No route for " + request.method + " " + request.path));
    return;
  }
  for (const auto& route : *routes) {
    if (route.method == request.method) {
      route.handler(std::move(request), std::move(respond));
      return;
    }
  }
  std::string allowed = AllowedMethods(request.path);
  HttpResponse response = JsonErrorResponse(
      405, "METHOD_NOT_ALLOWED",
      "Method " + request.method + " is not allowed for " + request.path + " (allowed: " +
          allowed + ")");
  response.headers.emplace_back("Allow", std::move(allowed));
  respond(std::move(response));
}

void Router::SetExtraHandlerTime(std::string path, std::chrono::seconds extra) {
  extra_time_[std::move(path)] = extra;
}

std::chrono::seconds Router::ExtraHandlerTime(std::string_view path) const {
  auto it = extra_time_.find(path);
  return it == extra_time_.end() ? std::chrono::seconds(0) : it->second;
}

bool Router::HasPath(std::string_view path) const { return Find(path) != nullptr; }

std::string Router::AllowedMethods(std::string_view path) const {
  std::string allowed;
  const std::vector<Route>* routes = Find(path);
  if (routes == nullptr) return allowed;
  for (const auto& route : *routes) {
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  return allowed;
}

}  // namespace kalam::net
