// Process-wide logging setup: spdlog's default logger writing to stderr and, optionally, a
// size-rotated file, configured from the [logging] section.
#pragma once

#include "common/status.h"
#include "server/config.h"

namespace kalam::server {

// Makes spdlog's default logger (used by every spdlog::info/warn/... call in the process) write
// lines like `2026-05-01T10:00:00.123Z [info] [tid 4242] message` (UTC, ISO 8601) to stderr and,
// when config.file is set, to that file, rotated at config.max_file_mb MiB keeping
// config.max_files old files (missing parent directories are created). Sinks are thread-safe.
// Messages at warn and above are flushed at once, the rest at least every second.
// Failures: kInvalidArgument for an unknown level; kIoError when the file cannot be opened (the
// previous logger then stays in place). Call at startup before other threads log: replacing the
// default logger is not synchronized with concurrent logging calls.
Status SetupLogging(const LoggingConfig& config);

// Flushes every sink and stops the periodic flusher. Call last at shutdown; logging after it is
// dropped.
void ShutdownLogging();

}  // namespace kalam::server
