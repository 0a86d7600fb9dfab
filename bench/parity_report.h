// parity_report: the results of a parity_bench run — statistics per workload, the JSON file
// (the original benchmark tool's field names, so either tool's file can be compared with the
// other's), the readable table, and the comparison with an earlier run.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace kalam::bench::parity {

struct WorkloadResult {
  std::string name, category, description;
  bool success = false;
  std::string error;
  std::vector<double> samples_us;  // one per timed iteration
  std::vector<std::pair<std::string, std::string>> details;
  double setup_ms = 0;
  // Filled by Summarize():
  double total_us = 0, mean_us = 0, median_us = 0, p95_us = 0, p99_us = 0, min_us = 0, max_us = 0,
         stddev_us = 0, ops_per_sec = 0;
};

// Statistics of `samples_us` (percentiles interpolated between ranks); ops/s = iterations / total.
void Summarize(WorkloadResult& r);

struct RunInfo {
  std::string server_url, ns, timestamp;
  int iterations = 0, warmup = 0, concurrency = 0;
  double scale = 1;
  bool quick = false;
  double total_ms = 0;
  boost::json::object sizes;  // the scaled workload sizes
};

boost::json::value ToJson(const RunInfo& info, const std::vector<WorkloadResult>& results);
void PrintTable(const std::vector<WorkloadResult>& results);

// Reads the results of an earlier run (this tool's or the original's JSON), by workload name.
bool LoadResults(const std::string& path, std::map<std::string, WorkloadResult>* out,
                 std::string* error);
// Per workload: p50 before / p50 now (> 1 = faster now) and ops/s now / before; their geometric
// mean over the workloads that succeeded in both runs.
void PrintComparison(const std::vector<WorkloadResult>& now,
                     const std::map<std::string, WorkloadResult>& before,
                     const std::string& before_label);

}  // namespace kalam::bench::parity
