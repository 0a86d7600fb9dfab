// Tests for the slow-query log: the slow.log line format and the threshold.
#include "sql/slow_query_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

namespace fs = std::filesystem;

SlowQuery Sample() {
  SlowQuery q;
  q.at_us = 1767225600123456;  // 2026-01-01T00:00:00.123456Z
  q.user_id = "alice";
  q.table = "app.items";
  q.table_type = "user";
  q.duration = std::chrono::microseconds(1250400);
  q.rows = 3;
  q.query = "SELECT * FROM app.items WHERE id = ?";
  return q;
}

TEST(SlowQueryLogTest, LineFormat) {
  EXPECT_EQ(FormatSlowQueryLine(Sample()),
            "[2026-01-01 00:00:00.123] SLOW QUERY - user=alice, table=app.items (user), "
            "duration=1.250s, rows=3, query=SELECT * FROM app.items WHERE id = ?");
  SlowQuery q = Sample();
  q.table.clear();
  q.table_type.clear();
  EXPECT_EQ(FormatSlowQueryLine(q),
            "[2026-01-01 00:00:00.123] SLOW QUERY - user=alice, table=unknown (none), "
            "duration=1.250s, rows=3, query=SELECT * FROM app.items WHERE id = ?");
}

TEST(SlowQueryLogTest, ThresholdZeroLogsEverythingNegativeNothing) {
  auto all = SlowQueryLog::Open("", std::chrono::milliseconds(0));
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE((*all)->IsSlow(std::chrono::microseconds(0)));
  auto some = SlowQueryLog::Open("", std::chrono::milliseconds(5));
  ASSERT_TRUE(some.ok());
  EXPECT_FALSE((*some)->IsSlow(std::chrono::microseconds(4999)));
  EXPECT_TRUE((*some)->IsSlow(std::chrono::microseconds(5000)));
  auto off = SlowQueryLog::Open("", std::chrono::milliseconds(-1));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE((*off)->IsSlow(std::chrono::hours(1)));
}

TEST(SlowQueryLogTest, RecordAppendsOneLinePerStatement) {
  const fs::path dir = fs::temp_directory_path() / "kalam_slow_query_test";
  fs::remove_all(dir);
  const std::string path = (dir / "logs" / "slow.log").string();
  {
    auto log = SlowQueryLog::Open(path, std::chrono::milliseconds(0));
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    (*log)->Record(Sample());
    (*log)->Record(Sample());
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string line = FormatSlowQueryLine(Sample()) + "\n";
  EXPECT_EQ(text.str(), line + line);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kalam::sql
