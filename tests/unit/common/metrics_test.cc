// Tests of the metrics registry and its Prometheus text and row renderers.
#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace kalam::metrics {
namespace {

TEST(MetricsTest, CounterRendersWithHelpTypeAndLabels) {
  Registry r;
  r.GetCounter("kalamdb_x_total", "Things done", {{"route", "/a"}, {"status", "200"}}).Inc(3);
  r.GetCounter("kalamdb_x_total", "ignored", {{"route", "/a"}, {"status", "200"}}).Inc();
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP kalamdb_x_total Things done\n"
            "# TYPE kalamdb_x_total counter\n"
            "kalamdb_x_total{route=\"/a\",status=\"200\"} 4\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.GetGauge("g", "a \\ b\nc", {{"v", "q\"x\\y\nz"}}).Set(-2);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP g a \\\\ b\\nc\n"
            "# TYPE g gauge\n"
            "g{v=\"q\\\"x\\\\y\\nz\"} -2\n");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeAndEndInInf) {
  Registry r;
  Histogram& h = r.GetHistogram("lat_seconds", "Latency", {0.1, 1}, {{"route", "/q"}});
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP lat_seconds Latency\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{route=\"/q\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{route=\"/q\",le=\"1\"} 3\n"
            "lat_seconds_bucket{route=\"/q\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{route=\"/q\"} 7.65\n"
            "lat_seconds_count{route=\"/q\"} 4\n");
}

TEST(MetricsTest, FamiliesAreSortedAndCallbacksRunAtScrape) {
  Registry r;
  r.GetCounter("b_total", "B").Inc();
  double size = 10;
  uint64_t id = r.AddCallback("a_bytes", "A", MetricType::kGauge, [&](std::vector<Sample>* out) {
    out->push_back({{{"kind", "x"}}, size});
  });
  size = 12;
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP a_bytes A\n# TYPE a_bytes gauge\na_bytes{kind=\"x\"} 12\n"
            "# HELP b_total B\n# TYPE b_total counter\nb_total 1\n");
  r.RemoveCallback(id);
  EXPECT_EQ(r.RenderPrometheus(), "# HELP b_total B\n# TYPE b_total counter\nb_total 1\n");
}

TEST(MetricsTest, RowsNameEachSeries) {
  Registry r;
  r.GetCounter("c_total", "C", {{"kind", "select"}}).Inc(2);
  r.GetHistogram("h", "H", {1}).Observe(0.5);
  auto rows = r.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], std::make_pair(std::string("c_total{kind=\"select\"}"), std::string("2")));
  EXPECT_EQ(rows[1], std::make_pair(std::string("h_count"), std::string("1")));
  EXPECT_EQ(rows[2], std::make_pair(std::string("h_sum"), std::string("0.5")));
}

TEST(MetricsTest, TypeMismatchIsDetachedNotRendered) {
  Registry r;
  r.GetCounter("m", "M").Inc();
  r.GetGauge("m", "M").Set(99);
  EXPECT_EQ(r.RenderPrometheus(), "# HELP m M\n# TYPE m counter\nm 1\n");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  Counter& c = r.GetCounter("n_total", "N");
  Histogram& h = r.GetHistogram("d", "D", SizeBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.Observe(3);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 40000u);
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.sum(), 120000.0);
}

TEST(MetricsTest, FormatValue) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1e-05), "1e-05");
}

}  // namespace
}  // namespace kalam::metrics
