// PlanRecorder and the EXPLAIN renderers: exact texts for hand-made plans.
#include "sql/plan_recorder.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

catalog::TableDef MakeTable(catalog::TableType type) {
  catalog::TableDef def;
  def.table_id = 7;
  def.namespace_id = "chat";
  def.table_name = "messages";
  def.type = type;
  catalog::ColumnDef id;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  id.nullable = false;
  catalog::ColumnDef n;
  n.name = "n";
  n.type = DataType{TypeKind::kInt};
  def.columns = {id, n};
  return def;
}

PlanInput Input(const catalog::TableDef* def, std::vector<QueryPlanRow> rows) {
  PlanInput in;
  in.sql = "SELECT * FROM chat.messages AS \"messages\" WHERE id = 5";
  in.limit_note = "1000 rows (the default LIMIT: the statement has none)";
  in.rows = std::move(rows);
  in.resolve = [def](const std::string& name) -> std::optional<PlannedTable> {
    if (name != "messages") return std::nullopt;
    return PlannedTable{def, "chat.messages", def->type == catalog::TableType::kShared ? "" : "u1"};
  };
  return in;
}

TEST(PlanRecorderTest, KeysNameTableIndexNumberAndString) {
  EXPECT_EQ(PlanRecorder::Key(7, 64, "0:2,"), "7/64:0:2,");
  EXPECT_EQ(PlanRecorder::Key(7, 0, nullptr), "7/0:");
}

TEST(PlanRecorderTest, ConflictingForecastsForOneKeyBecomeUnknown) {
  PlanRecorder r(PlanRecorder::Mode::kPlan);
  table::ColdScanStats a;
  a.segments = 3;
  a.read = 1;
  a.skipped_key_range = 2;
  r.Forecast("k", ScanForecast{1, a, {"batch-2.parquet"}});
  r.Forecast("k", ScanForecast{1, a, {"batch-2.parquet"}});  // the same again: still known
  ASSERT_TRUE(r.FindForecast("k")->segments.has_value());
  table::ColdScanStats b = a;
  b.read = 3;
  b.skipped_key_range = 0;
  r.Forecast("k", ScanForecast{1, b, {"batch-1.parquet", "batch-2.parquet"}});
  EXPECT_FALSE(r.FindForecast("k")->segments.has_value());
  EXPECT_TRUE(r.FindForecast("k")->files.empty());
  EXPECT_EQ(r.FindForecast("other"), nullptr);
}

TEST(PlanRecorderTest, LogicalPlanShowsSqlLimitAndTree) {
  const auto def = MakeTable(catalog::TableType::kShared);
  PlanInput in = Input(&def, {{2, 0, "SCAN messages VIRTUAL TABLE INDEX 0:0:2,"},
                              {5, 0, "LIST SUBQUERY 1"},
                              {7, 5, "SCAN x"},
                              {20, 0, "USE TEMP B-TREE FOR ORDER BY"}});
  EXPECT_EQ(RenderLogicalPlan(in),
            "SQL: SELECT * FROM chat.messages AS \"messages\" WHERE id = 5\n"
            "Row limit: 1000 rows (the default LIMIT: the statement has none)\n"
            "QUERY PLAN\n"
            "|--SCAN messages (scan 1)\n"
            "|--LIST SUBQUERY 1\n"
            "|  `--SCAN x\n"
            "`--USE TEMP B-TREE FOR ORDER BY\n");
}

TEST(PlanRecorderTest, PhysicalPlanDescribesEachVirtualTableScan) {
  const auto def = MakeTable(catalog::TableType::kUser);
  PlanRecorder r(PlanRecorder::Mode::kPlan);
  table::ColdScanStats s;
  s.segments = 3;
  s.read = 1;
  s.skipped_stats = 2;
  r.Forecast(PlanRecorder::Key(7, 0, "0:32,1:4,"),
             ScanForecast{5000, s, {"batch-3.parquet"}});
  PlanInput in = Input(&def, {{2, 0, "SCAN messages VIRTUAL TABLE INDEX 0:0:32,1:4,"},
                              {4, 0, "SCAN other VIRTUAL TABLE INDEX 64:"}});
  EXPECT_EQ(RenderPhysicalPlan(in, r),
            "[1] scan chat.messages (USER table, scope user 'u1')\n"
            "    key: id >= ?\n"
            "    segment statistics: n > ?\n"
            "    order: id ascending\n"
            "    planner estimate: rows=5000\n"
            "    cold segments: in_manifest=3 to_read=1 skipped_by_key_range=0 "
            "skipped_by_statistics=2\n"
            "    files to read: batch-3.parquet\n"
            "[2] SCAN other (not a KalamDB table)\n");
}

TEST(PlanRecorderTest, LongFileListsAreCut) {
  const auto def = MakeTable(catalog::TableType::kShared);
  PlanRecorder r(PlanRecorder::Mode::kPlan);
  table::ColdScanStats s;
  s.segments = s.read = 10;
  std::vector<std::string> files;
  for (int i = 1; i <= 10; ++i) files.push_back("s" + std::to_string(i));
  r.Forecast(PlanRecorder::Key(7, 0, ""), ScanForecast{100000, s, files});
  PlanInput in = Input(&def, {{2, 0, "SCAN messages VIRTUAL TABLE INDEX 0:"}});
  const std::string text = RenderPhysicalPlan(in, r);
  EXPECT_EQ(text.substr(text.find("    files")),
            "    files to read: s1, s2, s3, s4, s5, s6, s7, s8 and 2 more\n");
}

TEST(PlanRecorderTest, UnknownOperandsLeaveSegmentsToRunTime) {
  const auto def = MakeTable(catalog::TableType::kShared);
  PlanRecorder r(PlanRecorder::Mode::kPlan);
  r.Forecast(PlanRecorder::Key(7, 64, "0:2,"), ScanForecast{1, std::nullopt, {}});
  PlanInput in = Input(&def, {{2, 0, "SCAN messages VIRTUAL TABLE INDEX 64:0:2,"}});
  EXPECT_EQ(RenderPhysicalPlan(in, r),
            "[1] scan chat.messages (SHARED table)\n"
            "    key: id = ?\n"
            "    tombstones: read (_deleted is constrained)\n"
            "    order: id ascending\n"
            "    planner estimate: rows=1\n"
            "    cold segments: chosen at run time (an operand is a parameter or another "
            "table's column)\n");
}

TEST(PlanRecorderTest, PlanWithMetricsAddsWhatEachScanDid) {
  const auto def = MakeTable(catalog::TableType::kShared);
  PlanRecorder r(PlanRecorder::Mode::kAnalyze);
  ScanCounters& c = r.Counters(PlanRecorder::Key(7, 0, ""));
  c.scans = 1;
  c.rows = 4;
  c.hot_rows = 1;
  c.cold_rows = 9;
  c.segments.segments = 3;
  c.segments.read = 3;
  c.elapsed_ns = 1500000;
  PlanInput in = Input(&def, {{2, 0, "SCAN messages VIRTUAL TABLE INDEX 0:"}});
  EXPECT_EQ(RenderPlanWithMetrics(in, r, 4, false, 2250000),
            "SQL: SELECT * FROM chat.messages AS \"messages\" WHERE id = 5\n"
            "Row limit: 1000 rows (the default LIMIT: the statement has none)\n"
            "QUERY PLAN\n"
            "`--SCAN messages (scan 1)\n"
            "[1] scan chat.messages (SHARED table)\n"
            "    key: every row of the scope (no id constraint)\n"
            "    order: id ascending\n"
            "    actual: scans=1 rows_to_sqlite=4 hot_rows_read=1 cold_rows_read=9 time=1.500 ms\n"
            "    segments: in_manifest=3 read=3 skipped_by_key_range=0 skipped_by_statistics=0\n"
            "Result: 4 row(s), total time 2.250 ms\n");
}

TEST(PlanRecorderTest, StreamScansHaveNoColdTier) {
  auto def = MakeTable(catalog::TableType::kStream);
  PlanRecorder r(PlanRecorder::Mode::kPlan);
  r.Forecast(PlanRecorder::Key(7, 0, "2:4,"), ScanForecast{100, std::nullopt, {}});
  PlanInput in = Input(&def, {{2, 0, "SCAN messages VIRTUAL TABLE INDEX 0:2:4,"}});
  EXPECT_EQ(RenderPhysicalPlan(in, r),
            "[1] scan chat.messages (STREAM table, scope user 'u1')\n"
            "    key: _seq > ?\n"
            "    order: _seq ascending\n"
            "    planner estimate: rows=100\n"
            "    cold segments: none (STREAM tables keep rows in the hot tier only)\n");
}

}  // namespace
}  // namespace kalam::sql
