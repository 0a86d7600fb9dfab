// Router implementation: a hash map from path to the few methods registered on it.
#include "net/router.h"

#include <chrono>
#include <utility>

#include "common/metrics.h"

namespace kalam::net {

namespace {
const std::string kUnmatched = "unmatched";
}  // namespace

Responder Router::Measured(const std::string* route, Responder respond) {
  return [route, start = std::chrono::steady_clock::now(),
          inner = std::move(respond)](HttpResponse response) mutable {
    auto& registry = metrics::Registry::Default();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    registry
        .GetHistogram("kalamdb_http_request_duration_seconds",
                      "HTTP request latency from routing to the handler's response",
                      metrics::LatencyBuckets(), {{"route", *route}})
        .Observe(seconds);
    registry
        .GetCounter("kalamdb_http_requests_total", "HTTP requests answered, by route and status",
                    {{"route", *route}, {"status", std::to_string(response.status)}})
        .Inc();
    inner(std::move(response));
  };
}

void Router::Add(std::string method, std::string path, Handler handler) {
  auto& routes = routes_[std::move(path)];
  for (auto& route : routes) {
    if (route.method == method) {
      route.handler = std::move(handler);
      return;
    }
  }
  routes.push_back(Route{std::move(method), std::move(handler)});
}

void Router::Dispatch(HttpRequest&& request, Responder respond) const {
  auto it = routes_.find(std::string_view(request.path));
  respond = Measured(it == routes_.end() ? &kUnmatched : &it->first, std::move(respond));
  if (it == routes_.end()) {
    respond(JsonErrorResponse(404, "NOT_FOUND",
                              "No route for " + request.method + " " + request.path));
    return;
  }
  for (const auto& route : it->second) {
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

bool Router::HasPath(std::string_view path) const { return routes_.find(path) != routes_.end(); }

std::string Router::AllowedMethods(std::string_view path) const {
  std::string allowed;
  auto it = routes_.find(path);
  if (it == routes_.end()) return allowed;
  for (const auto& route : it->second) {
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method;
  }
  return allowed;
}

}  // namespace kalam::net
