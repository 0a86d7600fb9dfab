// SlowQueryLog: slow.log lines, the warning and the counter.
#include "sql/slow_query_log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/log_line.h"
#include "common/metrics.h"

namespace kalam::sql {

namespace {

std::string Seconds(std::chrono::microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(d.count()) / 1e6);
  return buf;
}

std::string TableText(const SlowQuery& q) {
  if (q.table.empty()) return "unknown (none)";
  return q.table + " (" + q.table_type + ")";
}

metrics::Counter& SlowQueries() {
  static metrics::Counter& c = metrics::Registry::Default().GetCounter(
      "kalamdb_slow_queries_total",
      "SQL statements that ran at least logging.slow_query_threshold_ms", {});
  return c;
}

}  // namespace

std::string FormatSlowQueryLine(const SlowQuery& q) {
  // "2026-05-01T10:00:00.123456Z" → "2026-05-01 10:00:00.123".
  std::string ts = FormatLogTimestamp(q.at_us);
  ts[10] = ' ';
  ts.resize(23);
  return "[" + ts + "] SLOW QUERY - user=" + q.user_id + ", table=" + TableText(q) +
         ", duration=" + Seconds(q.duration) + "s, rows=" + std::to_string(q.rows) +
         ", query=" + q.query;
}

Result<std::unique_ptr<SlowQueryLog>> SlowQueryLog::Open(const std::string& path,
                                                         std::chrono::milliseconds threshold) {
  std::FILE* file = nullptr;
  if (!path.empty()) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    file = std::fopen(path.c_str(), "a");
    if (!file) {
      return Status::IoError("Cannot open slow query log '" + path + "': " +
                             std::strerror(errno));
    }
  }
  (void)SlowQueries();  // registered at start, so /metrics shows 0 before the first one
  return std::unique_ptr<SlowQueryLog>(new SlowQueryLog(file, threshold));
}

SlowQueryLog::~SlowQueryLog() {
  if (file_) std::fclose(file_);
}

void SlowQueryLog::Record(const SlowQuery& q) {
  SlowQueries().Inc();
  spdlog::warn("SLOW QUERY: {}s | user={} | table={} | rows={} | query={}", Seconds(q.duration),
               q.user_id, TableText(q), q.rows, q.query.substr(0, 100));
  if (!file_) return;
  std::string line = FormatSlowQueryLine(q);
  line += '\n';
  bool ok;
  {
    std::lock_guard lock(mu_);
    ok = std::fwrite(line.data(), 1, line.size(), file_) == line.size() &&
         std::fflush(file_) == 0;
  }
  if (!ok) spdlog::error("Cannot write the slow query log: {}", std::strerror(errno));
}

}  // namespace kalam::sql
