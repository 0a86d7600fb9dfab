// parity_report: statistics, JSON, table and comparison of parity_bench runs.
#include "parity_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <numeric>

#include <unistd.h>

namespace kalam::bench::parity {

namespace json = boost::json;

namespace {

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
}

double Get(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_double()) return v->as_double();
  if (v->is_int64()) return static_cast<double>(v->as_int64());
  if (v->is_uint64()) return static_cast<double>(v->as_uint64());
  return 0;
}

std::string Ms(double us) {
  char buf[32];
  std::snprintf(buf, sizeof buf, us >= 100000 ? "%.0f" : us >= 1000 ? "%.2f" : "%.3f", us / 1000);
  return buf;
}

}  // namespace

void Summarize(WorkloadResult& r) {
  std::vector<double> s = r.samples_us;
  std::sort(s.begin(), s.end());
  if (s.empty()) return;
  r.total_us = std::accumulate(s.begin(), s.end(), 0.0);
  r.mean_us = r.total_us / static_cast<double>(s.size());
  r.median_us = Percentile(s, 0.50);
  r.p95_us = Percentile(s, 0.95);
  r.p99_us = Percentile(s, 0.99);
  r.min_us = s.front();
  r.max_us = s.back();
  double var = 0;
  for (double x : s) var += (x - r.mean_us) * (x - r.mean_us);
  r.stddev_us = std::sqrt(var / static_cast<double>(s.size()));
  r.ops_per_sec = r.total_us > 0 ? 1e6 * static_cast<double>(s.size()) / r.total_us : 0;
}

json::value ToJson(const RunInfo& info, const std::vector<WorkloadResult>& results) {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  std::string load;
  {
    std::ifstream f("/proc/loadavg");
    std::getline(f, load);
  }
  json::array out;
  int passed = 0;
  for (const auto& r : results) {
    json::array details;
    for (const auto& [label, value] : r.details) {
      details.push_back(json::object{{"label", label}, {"value", value}});
    }
    passed += r.success;
    out.push_back(json::object{
        {"name", r.name},
        {"category", r.category},
        {"description", r.description},
        {"details", details},
        {"iterations", r.samples_us.size()},
        {"setup_ms", r.setup_ms},
        {"total_us", r.total_us},
        {"mean_us", r.mean_us},
        {"median_us", r.median_us},
        {"p95_us", r.p95_us},
        {"p99_us", r.p99_us},
        {"min_us", r.min_us},
        {"max_us", r.max_us},
        {"stddev_us", r.stddev_us},
        {"ops_per_sec", r.ops_per_sec},
        {"success", r.success},
        {"error", r.success ? json::value(nullptr) : json::value(r.error)},
    });
  }
  return json::object{
      {"version", "parity_bench 1"},
      {"server_url", info.server_url},
      {"timestamp", info.timestamp},
      {"config",
       json::object{{"iterations", info.iterations},
                    {"warmup", info.warmup},
                    {"concurrency", info.concurrency},
                    {"namespace", info.ns},
                    {"scale", info.scale},
                    {"quick", info.quick},
                    {"sizes", info.sizes}}},
      {"system",
       json::object{{"hostname", host},
                    {"cpu_logical_cores", sysconf(_SC_NPROCESSORS_ONLN)},
                    {"loadavg_at_end", load}}},
      {"results", out},
      {"summary", json::object{{"total_benchmarks", results.size()},
                               {"passed", passed},
                               {"failed", static_cast<int>(results.size()) - passed},
                               {"total_duration_ms", info.total_ms}}},
  };
}

void PrintTable(const std::vector<WorkloadResult>& results) {
  std::printf("\n%-26s %-10s %5s %10s %10s %10s %10s %10s  %s\n", "workload", "category", "iters",
              "p50 ms", "p95 ms", "p99 ms", "mean ms", "ops/s", "status");
  int failed = 0;
  for (const auto& r : results) {
    if (!r.success) {
      ++failed;
      std::printf("%-26s %-10s %5zu %10s %10s %10s %10s %10s  FAILED: %s\n", r.name.c_str(),
                  r.category.c_str(), r.samples_us.size(), "-", "-", "-", "-", "-",
                  r.error.c_str());
      continue;
    }
    std::printf("%-26s %-10s %5zu %10s %10s %10s %10s %10.1f  ok\n", r.name.c_str(),
                r.category.c_str(), r.samples_us.size(), Ms(r.median_us).c_str(),
                Ms(r.p95_us).c_str(), Ms(r.p99_us).c_str(), Ms(r.mean_us).c_str(), r.ops_per_sec);
  }
  std::printf("%zu workloads, %zu passed, %d failed\n", results.size(), results.size() - failed,
              failed);
}

bool LoadResults(const std::string& path, std::map<std::string, WorkloadResult>* out,
                 std::string* error) {
  std::ifstream f(path);
  if (!f) {
    *error = "cannot read " + path;
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const auto* results = !ec && v.is_object() ? v.as_object().if_contains("results") : nullptr;
  if (!results || !results->is_array()) {
    *error = path + " is not a results file (no \"results\" array)";
    return false;
  }
  for (const auto& item : results->as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    WorkloadResult r;
    r.name = o.contains("name") && o.at("name").is_string() ? std::string(o.at("name").as_string())
                                                            : "";
    const auto* success = o.if_contains("success");
    r.success = success && success->is_bool() && success->as_bool();
    r.median_us = Get(o, "median_us");
    r.p95_us = Get(o, "p95_us");
    r.p99_us = Get(o, "p99_us");
    r.mean_us = Get(o, "mean_us");
    r.ops_per_sec = Get(o, "ops_per_sec");
    if (!r.name.empty()) (*out)[r.name] = std::move(r);
  }
  return true;
}

void PrintComparison(const std::vector<WorkloadResult>& now,
                     const std::map<std::string, WorkloadResult>& before,
                     const std::string& before_label) {
  std::printf("\nCompared with %s (ratio = before / now for p50: > 1 is faster now)\n",
              before_label.c_str());
  std::printf("%-26s %12s %12s %9s %12s %12s %9s\n", "workload", "p50 before", "p50 now",
              "p50 ×", "ops/s before", "ops/s now", "ops/s ×");
  double log_sum = 0;
  int n = 0, faster = 0;
  for (const auto& r : now) {
    auto it = before.find(r.name);
    if (it == before.end()) {
      std::printf("%-26s %12s\n", r.name.c_str(), "(not in the earlier run)");
      continue;
    }
    const WorkloadResult& b = it->second;
    if (!r.success || !b.success || r.median_us <= 0 || b.median_us <= 0) {
      std::printf("%-26s %12s\n", r.name.c_str(),
                  !r.success ? "(failed now)" : "(failed before)");
      continue;
    }
    const double ratio = b.median_us / r.median_us;
    const double ops_ratio = b.ops_per_sec > 0 ? r.ops_per_sec / b.ops_per_sec : 0;
    log_sum += std::log(ratio);
    ++n;
    faster += ratio > 1;
    std::printf("%-26s %12s %12s %8.2f× %12.1f %12.1f %8.2f×\n", r.name.c_str(),
                Ms(b.median_us).c_str(), Ms(r.median_us).c_str(), ratio, b.ops_per_sec,
                r.ops_per_sec, ops_ratio);
  }
  if (n) {
    std::printf("geometric mean of p50 ratios over %d workloads: %.2f× (faster now on %d of %d)\n",
                n, std::exp(log_sum / n), faster, n);
  }
}

}  // namespace kalam::bench::parity
