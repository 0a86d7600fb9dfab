// Router implementation: a hash map from path to the few methods registered on it.
#include "net/router.h"

#include <utility>

namespace kalam::net {

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
