// FILE columns over HTTP (docs/files.md): multipart `POST /v1/api/sql` with file parts and
// FILE("name") placeholders, and `GET /v1/files/{namespace}/{table}/{sub}/{stored_name}`.
#pragma once

#include <chrono>
#include <functional>

#include "api/auth_service.h"
#include "api/routes.h"
#include "net/router.h"

namespace kalam::api {

// Registers the download route on `router`; `bind` wraps a handler with the common guards.
void AddFileRoutes(net::Router& router,
                   const std::function<net::Handler(void (*)(ApiContext*, net::HttpRequest&&,
                                                             net::Responder))>& bind);

// Runs a multipart/form-data SQL request of the authenticated `who` (called by the SQL handler
// when the Content-Type is multipart/form-data). `start` is when the request arrived (`took`).
void HandleMultipartSql(ApiContext* ctx, net::HttpRequest&& req, net::Responder respond,
                        const Principal& who, std::chrono::steady_clock::time_point start);

}  // namespace kalam::api
