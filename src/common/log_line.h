// One server log line: its JSON form (logging.format = "json"), the parser system.server_logs
// uses for both log formats, and the bounded tail read of a log file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kalam {

// One log message. Value type.
struct LogLine {
  // RFC 3339 UTC with µs in JSON lines ("2026-05-01T10:00:00.123456Z"); ms in compact lines.
  std::string timestamp;
  std::string level;   // trace, debug, info, warn, error, critical
  std::string thread;  // OS thread id as text
  std::string target;  // the logger ("kalamdb", "kalamdb.slow_query"); empty when unknown
  int64_t line = 0;    // source line of the call site; 0 when unknown
  std::string file;    // source file of the call site; empty when unknown
  std::string message;
  // Extra structured fields as a JSON object's members without braces (`"user":"u1","rows":3`),
  // appended after the fixed fields; empty for none. Must be valid JSON members.
  std::string fields_json;
};

// The JSON form of `line`, one object without a trailing newline:
// {"timestamp":"…","level":"info","thread":"4242","target":"kalamdb","message":"…"} plus
// "file"/"line" when known and the extra fields. Strings are escaped so the result is always
// one valid JSON line (a newline inside a message becomes \n).
std::string FormatJsonLogLine(const LogLine& line);

// RFC 3339 UTC text with exactly six fraction digits and 'Z': "2026-05-01T10:00:00.123456Z".
std::string FormatLogTimestamp(int64_t unix_micros);

// Parses one line of either log format: a JSON object (timestamp, level and message required;
// thread, target, line optional; other members ignored) or a compact line
// `2026-05-01T10:00:00.123Z [info] [tid 4242] message`. nullopt for anything else (a
// continuation line of a multi-line message, a line cut by the tail read, foreign text).
std::optional<LogLine> ParseLogLine(std::string_view text);

// The messages in the last `max_bytes` bytes of the file at `path`, oldest first. A line cut at
// the start of that window is dropped; a line that is no log line (a continuation of a
// multi-line compact message) is appended to the previous message after "\n". A missing file
// reads as no lines. kIoError when the file exists but cannot be read. Reads at most
// `max_bytes` however large the file is.
Result<std::vector<LogLine>> ReadLogTail(const std::string& path, size_t max_bytes);

}  // namespace kalam
