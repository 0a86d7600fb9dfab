// The server→client messages of `GET /v1/ws` (PROTOCOL.md §4) that api itself writes: the
// authentication results and error objects. Live-query messages (acks, batches, changes) are
// written by live/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/auth_service.h"

namespace kalam::api {

// `{"type":"error","subscription_id":…,"code":…,"message":…}`, without `subscription_id` when it
// is nullopt (errors about the connection rather than one subscription, such as
// RATE_LIMIT_EXCEEDED). Invalid UTF-8 in any string becomes U+FFFD.
std::string WsErrorJson(std::optional<std::string_view> subscription_id, std::string_view code,
                        std::string_view message);

// `{"type":"auth_error","message":…}`; the connection is closed with 1008 after it.
std::string WsAuthErrorJson(std::string_view message);

// `{"type":"auth_success","user":…,"role":…,"protocol":{"serialization":"json",
// "compression":"gzip"|"none"}}` for `who`, with the connection's compression.
std::string WsAuthSuccessJson(const Principal& who, bool compress);

}  // namespace kalam::api
