// Gunzip for the server's binary WebSocket frames (gzip of the JSON text, PROTOCOL.md §4).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kalam/status.h"

namespace kalam::client {

// Inflates one gzip stream. kProtocolError for corrupt data or output over `max_bytes`.
Result<std::string> Gunzip(std::string_view data, size_t max_bytes = 256u << 20);

}  // namespace kalam::client
