// The slow-query log: statements that ran at least logging.slow_query_threshold_ms, one line each
// in slow.log (docs/logging.md), also logged as a warning and counted in
// kalamdb_slow_queries_total.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"

namespace kalam::sql {

// One slow statement. Value type.
struct SlowQuery {
  int64_t at_us = 0;          // when it finished, µs since the epoch
  std::string user_id;        // the authenticated caller (not an EXECUTE AS target)
  std::string table;          // "ns.table" it read or wrote; empty = unknown (not a DML)
  std::string table_type;     // "user", "shared", "stream", "system"; empty with `table`
  std::chrono::microseconds duration{0};
  uint64_t rows = 0;          // rows returned (SELECT) or changed (INSERT/UPDATE/DELETE)
  std::string query;          // the statement, already redacted (parser::RedactLiterals)
};

// `[2026-05-01 10:00:00.123] SLOW QUERY - user=u1, table=app.items (user), duration=1.250s,
// rows=3, query=SELECT * FROM app.items WHERE id = ?` — UTC time in ms, no trailing newline.
// Without a table: `table=unknown (none)`.
std::string FormatSlowQueryLine(const SlowQuery& q);

// Thread-safe: Record may be called from every worker.
class SlowQueryLog {
 public:
  // Statements of at least `threshold` are recorded; negative = none. Lines are appended to the
  // file at `path` (created if missing; parent directories too); empty path = only the warning
  // and the counter. kIoError naming the path when the file cannot be opened.
  static Result<std::unique_ptr<SlowQueryLog>> Open(const std::string& path,
                                                    std::chrono::milliseconds threshold);
  ~SlowQueryLog();

  // Whether a statement that took `d` is slow.
  bool IsSlow(std::chrono::microseconds d) const {
    return threshold_.count() >= 0 && d >= threshold_;
  }
  // Appends q's line to the file (flushed at once), logs the warning
  // `SLOW QUERY: 1.250s | user=u1 | table=app.items (user) | rows=3 | query=<first 100 chars>`
  // and counts it. A failed write is logged as an error, never returned: the statement it
  // describes has already succeeded or failed on its own.
  void Record(const SlowQuery& q);

 private:
  SlowQueryLog(std::FILE* file, std::chrono::milliseconds threshold)
      : file_(file), threshold_(threshold) {}

  std::mutex mu_;
  std::FILE* file_;  // owned; null = no file. Written under mu_.
  const std::chrono::milliseconds threshold_;
};

}  // namespace kalam::sql
