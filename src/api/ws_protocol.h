// The server→client messages of `GET /v1/ws` (PROTOCOL.md §4) that api itself writes: the
// authentication results, pong and error objects. Live-query messages (acks, batches, changes)
// are written by live/.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
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

// The error for a client message dropped by the rate limit: RATE_LIMIT_EXCEEDED, naming
// `max_per_sec`.
std::string WsRateLimitExceededJson(uint32_t max_per_sec);

// The error for a client message over `max_bytes`: MESSAGE_TOO_LARGE (close 1009 follows).
std::string WsMessageTooLargeJson(size_t max_bytes);

// `{"type":"pong"}`, the answer to `{"type":"ping"}`.
std::string WsPongJson();

// The auth_error message (and close reason) when no `authenticate` came within `timeout`.
std::string WsAuthTimeoutMessage(std::chrono::seconds timeout);

}  // namespace kalam::api
