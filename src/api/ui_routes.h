// The admin console (ui/, docs/console.md): its built files served at /ui and /ui/* from a
// directory (server.ui_path, else `ui` next to the server binary), with the single-page app's
// route fallback, a strict Content-Security-Policy and caching headers; `/` redirects to /ui/.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "api/routes.h"
#include "net/http_types.h"
#include "net/router.h"

namespace kalam::api {

// The Content-Security-Policy of every console response: scripts, styles, images, fonts and
// connections (HTTP and WebSocket) only from the server itself; no frames, plugins or inline code
// (index.html answers add a per-response style nonce: UiContentSecurityPolicy).
inline constexpr std::string_view kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'";

// index.html's placeholder for the per-response CSP nonce (a <meta name="csp-nonce">).
inline constexpr std::string_view kNoncePlaceholder = "%CSP_NONCE%";

// kUiContentSecurityPolicy, with style-src also admitting `nonce` when it is not empty (index.html
// answers: the editor mounts its stylesheet with that nonce).
std::string UiContentSecurityPolicy(std::string_view nonce);

// Content type of a console file, by its extension (".js" → "text/javascript; charset=utf-8");
// "application/octet-stream" for an unknown one.
std::string_view UiContentType(std::string_view filename);

// The answer to GET `request_path` (as sent, "/ui/…", not percent-decoded) from the console
// files under `root`. Reads the file (blocking: call it off the I/O threads).
//  - "/ui/" and "/ui/index.html": index.html, `Cache-Control: no-cache`.
//  - "/ui/assets/…": content-hashed bundle files, `Cache-Control: public, max-age=31536000,
//    immutable`; other files `no-cache`.
//  - a missing path whose last segment has no '.' (a client-side route, "/ui/sql"): index.html
//    (200); a missing file with an extension: 404 NOT_FOUND.
//  - a path with a "." or ".." segment, a backslash, a NUL, a bad %-escape, or one that leaves
//    `root` through a symbolic link: 400 INVALID_PATH, nothing read.
//  - no index.html under `root`: 404 UI_NOT_INSTALLED naming the directory.
// index.html answers get a fresh nonce in place of kNoncePlaceholder and in their CSP's
// style-src. Every answer carries the CSP and `X-Content-Type-Options: nosniff`.
net::HttpResponse UiResponse(const std::filesystem::path& root, std::string_view request_path);

// Registers GET /ui (redirect to /ui/), GET /ui/* and GET / (redirect to /ui/) on `router`; the
// files are read from ctx->ui_root on the worker pool. `bind` wraps a handler with the common
// guards.
void AddUiRoutes(net::Router& router,
                 const std::function<net::Handler(void (*)(ApiContext*, net::HttpRequest&&,
                                                           net::Responder))>& bind);

// The default console directory for a server binary at `exe`: `ui` next to the binary (where
// scripts/build.sh installs it) when that holds an index.html, else `../share/kalamdb/ui` from the
// binary's directory (an installed layout: /usr/local/bin/kalamdb-server with
// /usr/local/share/kalamdb/ui, as in the container image) when that does, else `ui` next to the
// binary (which then answers UI_NOT_INSTALLED).
std::filesystem::path DefaultUiRoot(const std::filesystem::path& exe);
// The same for the running binary (/proc/self/exe).
std::filesystem::path DefaultUiRoot();

}  // namespace kalam::api
