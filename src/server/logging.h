// Process-wide logging setup: spdlog's default logger writing to stderr and, optionally, a
// size-rotated file, configured from the [logging] section.
#pragma once

#include <memory>

#include <spdlog/formatter.h>

#include "common/status.h"
#include "server/config.h"

namespace kalam::server {

// The formatter of logging.format = "json": one JSON object per line (common/log_line.h) with
// timestamp (RFC 3339 UTC, µs), level (spdlog's names: info, warning, …), thread (OS thread id),
// target (the logger's name, "kalamdb"), file and line when the call site passed them, message.
// Stateless; thread-safe as spdlog uses it (each sink owns a clone).
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};
std::unique_ptr<spdlog::formatter> NewJsonLogFormatter();

// Makes spdlog's default logger (used by every spdlog::info/warn/... call in the process) write
// lines like `2026-05-01T10:00:00.123Z [info] [tid 4242] message` (UTC, ISO 8601; with
// config.format "json", JsonLogFormatter's lines instead) to stderr and,
// when config.file is set, to that file, rotated at config.max_file_mb MiB keeping
// config.max_files old files (missing parent directories are created). Sinks are thread-safe.
// Messages at warn and above are flushed at once, the rest at least every second.
// Failures: kInvalidArgument for an unknown level or format; kIoError when the file cannot be opened (the
// previous logger then stays in place). Call at startup before other threads log: replacing the
// default logger is not synchronized with concurrent logging calls.
Status SetupLogging(const LoggingConfig& config);

// Flushes every sink and stops the periodic flusher. Call last at shutdown; logging after it is
// dropped.
void ShutdownLogging();

}  // namespace kalam::server
