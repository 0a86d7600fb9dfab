// The route serving this node's shard snapshot files to the other cluster members
// (docs/cluster.md, Snapshots): GET /v1/api/cluster/snapshots/<group>/<index>/keys.kv, a prefix
// route, authenticated by the members' shared cluster.secret.
#pragma once

#include <functional>
#include <string_view>

#include "api/routes.h"
#include "net/router.h"

namespace kalam::api {

// True when `path` (after the route prefix) names a snapshot file as a ShardStateMachine writes
// it: "<group>/<index>/keys.kv", the group of [a-z0-9_] (1..64), the index decimal digits
// (1..20). Nothing else — no "..", no absolute path, no other file name — is ever served.
bool IsSnapshotFilePath(std::string_view path);

void AddSnapshotRoutes(net::Router& router,
                       const std::function<net::Handler(void (*)(ApiContext*, net::HttpRequest&&,
                                                                 net::Responder))>& bind);

}  // namespace kalam::api
