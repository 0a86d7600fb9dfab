// The topic HTTP API (docs/topics.md "HTTP API"): POST /v1/api/topics/consume (long poll) and
// POST /v1/api/topics/ack.
#pragma once

#include <functional>

#include "api/routes.h"
#include "net/router.h"

namespace kalam::api {

using RouteFn = void (*)(ApiContext*, net::HttpRequest&&, net::Responder);

// Registers the topic routes on `router`; `bind` wraps a handler with the common guards
// (readiness, rate limits). Consume gets extra handler time for its long poll.
void AddTopicRoutes(net::Router& router, const std::function<net::Handler(RouteFn)>& bind);

}  // namespace kalam::api
