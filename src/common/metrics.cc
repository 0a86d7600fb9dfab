// Metrics registry and its two renderers (Prometheus text format 0.0.4, system.stats rows).
#include "common/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace kalam::metrics {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBounds = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                              0.0005,  0.001,    0.0025,  0.005,  0.01,
                                              0.025,   0.05,     0.1,     0.25,   0.5,
                                              1,       2.5,      10};
  return kBounds;
}

const std::vector<double>& SizeBuckets() {
  static const std::vector<double> kBounds = {1,  2,   4,   8,   16,   32,   64,
                                              128, 256, 512, 1024, 2048, 4096};
  return kBounds;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

namespace {

// Exposition-format escaping: backslash and newline always, the double quote in label values.
std::string Escape(std::string_view v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) { return Escape(v, /*quote=*/true); }

namespace {

uint64_t CountEntries(const char* dir) {
  std::error_code ec;
  uint64_t n = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    ++n;
  }
  return n;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats out;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) {
    out.virtual_bytes = size_pages * page;
    out.rss_bytes = resident_pages * page;
  }
  // The iterator's own descriptor is among the entries it counts.
  const uint64_t fds = CountEntries("/proc/self/fd");
  out.open_fds = fds > 0 ? fds - 1 : 0;
  out.threads = CountEntries("/proc/self/task");
  return out;
}

namespace {

// `{k="v",…}` with `extra` (the histogram's `le`) appended; empty for no labels.
std::string LabelText(const Labels& labels, std::string_view extra_key = {},
                      std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += EscapeLabelValue(v);
    out += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_key.empty()) add(extra_key, extra_value);
  out += '}';
  return out;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

struct Registry::Family {
  std::string help;
  MetricType type;
  // Keyed by the rendered label text, so equal label sets share a series.
  std::map<std::string, Labels> labels;
  std::map<std::string, std::unique_ptr<Counter>> counters;
  std::map<std::string, std::unique_ptr<Gauge>> gauges;
  std::map<std::string, std::unique_ptr<Histogram>> histograms;
};

// One family as rendered: its samples read at scrape time.
struct Registry::Rendered {
  std::string name;
  std::string help;
  MetricType type;
  std::vector<Sample> samples;  // counters and gauges
  struct Hist {
    Labels labels;
    std::vector<double> bounds;
    std::vector<uint64_t> buckets;
    uint64_t count;
    double sum;
  };
  std::vector<Hist> histograms;
};

Registry::Registry() = default;
Registry::~Registry() = default;

Registry& Registry::Default() {
  static Registry* registry = new Registry();  // never destroyed: recorded into until exit
  return *registry;
}

Registry::Family* Registry::FamilyFor(std::string_view name, std::string_view help,
                                      MetricType type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto family = std::make_unique<Family>();
    family->help = std::string(help);
    family->type = type;
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  return it->second->type == type ? it->second.get() : nullptr;
}

namespace {

// The series of `labels` in `series` (one of a family's maps), created with `make` on first use.
template <typename T, typename Make>
T& SeriesFor(std::map<std::string, std::unique_ptr<T>>& series,
             std::map<std::string, Labels>& label_sets, const Labels& labels, Make make) {
  std::string key = LabelText(labels);
  auto& slot = series[key];
  if (!slot) {
    slot = make();
    label_sets[key] = labels;
  }
  return *slot;
}

}  // namespace

Counter& Registry::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family* f = FamilyFor(name, help, MetricType::kCounter);
  static Counter detached;
  if (!f) return detached;
  return SeriesFor(f->counters, f->labels, labels, [] { return std::make_unique<Counter>(); });
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family* f = FamilyFor(name, help, MetricType::kGauge);
  static Gauge detached;
  if (!f) return detached;
  return SeriesFor(f->gauges, f->labels, labels, [] { return std::make_unique<Gauge>(); });
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help,
                                  const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard lock(mu_);
  Family* f = FamilyFor(name, help, MetricType::kHistogram);
  static Histogram detached({});
  if (!f) return detached;
  return SeriesFor(f->histograms, f->labels, labels,
                   [&] { return std::make_unique<Histogram>(bounds); });
}

uint64_t Registry::AddCallback(std::string_view name, std::string_view help, MetricType type,
                               Collector fn) {
  std::lock_guard lock(mu_);
  uint64_t id = next_callback_id_++;
  callbacks_[id] = std::make_shared<CallbackEntry>(
      CallbackEntry{std::string(name), std::string(help), type, std::move(fn)});
  return id;
}

void Registry::RemoveCallback(uint64_t id) {
  std::lock_guard scrape(scrape_mu_);
  std::lock_guard lock(mu_);
  callbacks_.erase(id);
}

std::vector<Registry::Rendered> Registry::Collect() const {
  std::map<std::string, Rendered> out;
  std::vector<std::shared_ptr<CallbackEntry>> callbacks;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : families_) {
      Rendered& r = out[name];
      r.name = name;
      r.help = f->help;
      r.type = f->type;
      for (const auto& [key, c] : f->counters) {
        r.samples.push_back({f->labels.at(key), static_cast<double>(c->value())});
      }
      for (const auto& [key, g] : f->gauges) {
        r.samples.push_back({f->labels.at(key), static_cast<double>(g->value())});
      }
      for (const auto& [key, h] : f->histograms) {
        r.histograms.push_back({f->labels.at(key), h->bounds(), h->BucketCounts(), h->count(),
                                h->sum()});
      }
    }
    for (const auto& [id, cb] : callbacks_) callbacks.push_back(cb);
  }
  std::lock_guard scrape(scrape_mu_);
  for (const auto& cb : callbacks) {
    auto [it, inserted] = out.try_emplace(cb->name);
    Rendered& r = it->second;
    if (inserted) {
      r.name = cb->name;
      r.help = cb->help;
      r.type = cb->type;
    } else if (r.type != cb->type || cb->type == MetricType::kHistogram) {
      continue;  // a name registered twice with different types: keep the first
    }
    cb->fn(&r.samples);
  }
  std::vector<Rendered> result;
  result.reserve(out.size());
  for (auto& [name, r] : out) {
    if (r.samples.empty() && r.histograms.empty()) continue;
    result.push_back(std::move(r));
  }
  return result;
}

std::string Registry::RenderPrometheus() const {
  std::string out;
  for (const auto& r : Collect()) {
    out += "# HELP " + r.name + " " + Escape(r.help, /*quote=*/false) + "\n";
    out += "# TYPE " + r.name + " " + TypeName(r.type) + "\n";
    for (const auto& s : r.samples) {
      out += r.name + LabelText(s.labels) + " " + FormatValue(s.value) + "\n";
    }
    for (const auto& h : r.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.buckets.size(); ++i) {
        cumulative += h.buckets[i];
        const std::string le = i < h.bounds.size() ? FormatValue(h.bounds[i]) : "+Inf";
        out += r.name + "_bucket" + LabelText(h.labels, "le", le) + " " +
               std::to_string(cumulative) + "\n";
      }
      out += r.name + "_sum" + LabelText(h.labels) + " " + FormatValue(h.sum) + "\n";
      out += r.name + "_count" + LabelText(h.labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Registry::Rows() const {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& r : Collect()) {
    for (const auto& s : r.samples) {
      rows.emplace_back(r.name + LabelText(s.labels), FormatValue(s.value));
    }
    for (const auto& h : r.histograms) {
      rows.emplace_back(r.name + "_count" + LabelText(h.labels), std::to_string(h.count));
      rows.emplace_back(r.name + "_sum" + LabelText(h.labels), FormatValue(h.sum));
    }
  }
  return rows;
}

}  // namespace kalam::metrics
