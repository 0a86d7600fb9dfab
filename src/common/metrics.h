// Metrics registry: counters, gauges and fixed-bucket histograms that every module records into,
// rendered as the Prometheus text exposition format 0.0.4 (GET /metrics) and as name/value rows
// (system.stats). docs/metrics.md lists every metric.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kalam::metrics {

// A label set, e.g. {{"route", "/v1/api/sql"}, {"status", "200"}}. Order is kept as given; use
// the same order for every series of a metric.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. Thread-safe; Inc is one relaxed atomic add.
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down. Thread-safe; Set/Add are one relaxed atomic operation.
class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A distribution over fixed upper bounds (Prometheus `le`, in the metric's unit, ascending; +Inf
// is implicit). Thread-safe; Observe is a short scan of the bounds and three relaxed atomic adds.
// A snapshot read concurrently with Observe may be off by the observations in flight.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket counts, not cumulative: bounds().size() + 1 entries, the last one above every bound.
  std::vector<uint64_t> BucketCounts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for latencies from 10 µs to 10 s.
const std::vector<double>& LatencyBuckets();
// Bucket bounds for sizes (rows per group…): 1, 2, 4, … 4096.
const std::vector<double>& SizeBuckets();

enum class MetricType { kCounter, kGauge, kHistogram };

// One sample produced by a scrape-time callback.
struct Sample {
  Labels labels;
  double value = 0;
};

// Named metric families. Get* return a reference that stays valid for the registry's lifetime, so
// callers look a series up once and record through the reference on the hot path.
// Thread-safe: every method may be called concurrently.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The process-wide registry every module records into.
  static Registry& Default();

  // The series of metric `name` with `labels`, created on first use. `help` is kept from the first
  // call. Asking for a name registered with another type is a programming error: it returns a
  // series detached from the registry (recorded, never rendered).
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          const std::vector<double>& bounds, const Labels& labels = {});

  // Registers a family computed at scrape time (sizes read from RocksDB, /proc, job lists). `fn`
  // runs on the scraping thread without the registry's lock held and appends its samples; it
  // must stay callable until RemoveCallback(id). Returns the id to remove it with.
  using Collector = std::function<void(std::vector<Sample>*)>;
  uint64_t AddCallback(std::string_view name, std::string_view help, MetricType type,
                       Collector fn);
  // Removes a callback; unknown ids are ignored. After it returns the callback is not running.
  void RemoveCallback(uint64_t id);

  // The Prometheus text exposition format 0.0.4: families sorted by name, each with # HELP and
  // # TYPE; histograms as cumulative `_bucket{le=…}` series ending in +Inf, `_sum` and `_count`.
  std::string RenderPrometheus() const;

  // One (name, value) row per series, families sorted by name: `name` or `name{k="v",…}`;
  // a histogram gives `name_count` and `name_sum`.
  std::vector<std::pair<std::string, std::string>> Rows() const;

 private:
  struct Family;
  struct CallbackEntry {
    std::string name;
    std::string help;
    MetricType type;
    Collector fn;
  };
  struct Rendered;
  Family* FamilyFor(std::string_view name, std::string_view help, MetricType type);
  std::vector<Rendered> Collect() const;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;  // guarded by mu_
  std::map<uint64_t, std::shared_ptr<CallbackEntry>> callbacks_;          // guarded by mu_
  uint64_t next_callback_id_ = 1;                                         // guarded by mu_
  // Held while callbacks run, so RemoveCallback can wait for a running scrape.
  mutable std::mutex scrape_mu_;
};

// This process's resource use, read from /proc/self (Linux); fields stay 0 where unreadable.
struct ProcessStats {
  uint64_t rss_bytes = 0;      // resident set size
  uint64_t virtual_bytes = 0;  // virtual memory size
  uint64_t open_fds = 0;       // entries of /proc/self/fd
  uint64_t threads = 0;        // entries of /proc/self/task
};
ProcessStats ReadProcessStats();

// Formats a sample value as Prometheus writes it: integers without a fraction, "+Inf", "NaN".
std::string FormatValue(double v);
// Escapes a label value for the exposition format: backslash, double quote and newline.
std::string EscapeLabelValue(std::string_view v);

}  // namespace kalam::metrics
