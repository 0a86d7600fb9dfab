// The export download route (docs/export.md): GET /v1/exports/{user_id}/{export_id}, a prefix
// route on /v1/exports/.
#pragma once

#include <functional>

#include "api/routes.h"
#include "net/router.h"

namespace kalam::api {

// Registers the download route on `router`; `bind` wraps a handler with the common guards
// (readiness, rate limits).
void AddExportRoutes(net::Router& router,
                     const std::function<net::Handler(void (*)(ApiContext*, net::HttpRequest&&,
                                                               net::Responder))>& bind);

}  // namespace kalam::api
