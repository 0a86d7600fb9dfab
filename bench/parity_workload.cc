// parity_workload: settings, worker pool and checking helpers of parity_bench's workloads.
#include "parity_workload.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace kalam::bench::parity {

namespace json = boost::json;

void Settings::Finalize() {
  auto scaled = [&](int v, int min) {
    return std::max(min, static_cast<int>(std::lround(v * scale)));
  };
  if (quick) {
    iterations = std::min(iterations, 3);
    warmup = std::min(warmup, 1);
    concurrency = std::min(concurrency, 3);
    point_rows = 500;
    agg_rows = 500;
    bulk_delete_rows = 0;  // total_iterations() × 100
    parquet_files = 2;
    parquet_rows_per_file = 500;
    sql_burst = 40;
    storm = 4;
    max_subscribers = 20;
    subs_per_connection = 10;
    initial_load_rows = 200;
    return;
  }
  point_rows = scaled(point_rows, 100);
  agg_rows = scaled(agg_rows, 100);
  bulk_delete_rows = scaled(bulk_delete_rows, 100);
  parquet_files = scaled(parquet_files, 1);
  sql_burst = scaled(sql_burst, 4);
  storm = scaled(storm, 2);
  max_subscribers = scaled(max_subscribers, 10);
}

// ---- WorkerPool ----

WorkerPool::WorkerPool(const Endpoint& endpoint, const std::string& token, int workers) {
  for (int w = 0; w < workers; ++w) {
    clients_.push_back(std::make_unique<HttpClient>(endpoint));
    clients_.back()->set_token(token);
  }
  for (int w = 0; w < workers; ++w) threads_.emplace_back([this, w] { Loop(w); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::Loop(int w) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<Error(int, HttpClient&)>* job = nullptr;
    {
      std::unique_lock lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || (generation_ != seen && w < active_); });
      if (stop_) return;
      seen = generation_;
      job = job_;
    }
    Error e = (*job)(w, *clients_[w]);
    {
      std::lock_guard lock(mu_);
      if (!e.empty() && first_error_.empty()) first_error_ = std::move(e);
      if (--pending_ == 0) done_cv_.notify_all();
    }
  }
}

Error WorkerPool::Run(int n, const std::function<Error(int, HttpClient&)>& job) {
  n = std::min(n, size());
  std::unique_lock lock(mu_);
  job_ = &job;
  active_ = n;
  pending_ = n;
  first_error_.clear();
  ++generation_;
  start_cv_.notify_all();
  done_cv_.wait(lock, [&] { return pending_ == 0; });
  job_ = nullptr;
  return std::move(first_error_);
}

WorkerPool& Context::Pool(int n) {
  if (!pool_ || pool_->size() < n) {
    pool_.reset();
    pool_ = std::make_unique<WorkerPool>(s.endpoint, http.token(), n);
  }
  return *pool_;
}

// ---- helpers ----

Error Exec(HttpClient& c, const std::string& sql, SqlResult* out) {
  SqlResult r = RunSql(c, sql);
  if (!r.ok) return r.error + "  [" + sql.substr(0, 160) + (sql.size() > 160 ? "…]" : "]");
  if (out) *out = std::move(r);
  return {};
}

Error ExpectAffected(HttpClient& c, const std::string& sql, int64_t n) {
  SqlResult r;
  PARITY_TRY(Exec(c, sql, &r));
  if (r.row_count() != n) {
    return "expected " + std::to_string(n) + " affected row(s), got " +
           std::to_string(r.row_count()) + " (" + r.message() + ")  [" + sql.substr(0, 160) + "]";
  }
  return {};
}

Error ExpectRows(Context& ctx, HttpClient& c, const std::string& sql, int64_t n, bool capped,
                 SqlResult* out) {
  SqlResult r;
  PARITY_TRY(Exec(c, sql, &r));
  const int64_t limit = ctx.default_query_limit;
  const bool cut = capped && n > limit;
  const int64_t want = cut ? limit : n;
  const int64_t got = static_cast<int64_t>(r.rows().size());
  if (got != want || (cut && !r.truncated())) {
    return "expected " + std::to_string(want) + " row(s)" + (cut ? " (truncated)" : "") +
           ", got " + std::to_string(got) + (r.truncated() ? " (truncated)" : "") + "  [" +
           sql.substr(0, 160) + "]";
  }
  if (out) *out = std::move(r);
  return {};
}

Error ExpectValue(HttpClient& c, const std::string& sql, const std::string& want) {
  SqlResult r;
  PARITY_TRY(Exec(c, sql, &r));
  const auto& rows = r.rows();
  if (rows.size() != 1 || !rows[0].is_array() || rows[0].as_array().empty()) {
    return "expected one value, got " + std::to_string(rows.size()) + " row(s)  [" + sql + "]";
  }
  std::string got = ValueText(rows[0].as_array()[0]);
  if (got != want) return "expected " + want + ", got " + got + "  [" + sql + "]";
  return {};
}

Error Seed(HttpClient& c, const std::string& table, const std::string& columns, int64_t n,
           int batch, const std::function<std::string(int64_t)>& row) {
  for (int64_t base = 0; base < n; base += batch) {
    const int64_t end = std::min<int64_t>(n, base + batch);
    std::string sql = "INSERT INTO " + table + " (" + columns + ") VALUES ";
    for (int64_t i = base; i < end; ++i) {
      if (i > base) sql += ", ";
      sql += row(i);
    }
    PARITY_TRY(ExpectAffected(c, sql, end - base));
  }
  return {};
}

void Cleanup(HttpClient& c, const std::string& sql, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    SqlResult r = RunSql(c, sql);
    if (r.ok) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::fprintf(stderr, "  cleanup failed: %s: %s\n", sql.c_str(), r.error.c_str());
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double Number(const json::value& v) {
  if (v.is_double()) return v.as_double();
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_string()) return std::strtod(v.as_string().c_str(), nullptr);
  return std::nan("");
}

Workload OnTable(std::string name, std::string category, std::string description,
                 std::string table, std::string columns,
                 std::function<Error(Context&, const std::string&)> seed,
                 std::function<Error(Context&, const std::string&, int64_t)> run) {
  Workload w;
  w.name = std::move(name);
  w.category = std::move(category);
  w.description = std::move(description);
  w.setup = [table, columns, seed](Context& ctx) -> Error {
    const std::string t = ctx.Table(table);
    PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + t));
    PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + t + " (" + columns + ")"));
    return seed ? seed(ctx, t) : Error();
  };
  w.run = [table, run](Context& ctx, int64_t i) { return run(ctx, ctx.Table(table), i); };
  w.teardown = [table](Context& ctx) { Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table(table)); };
  return w;
}

std::vector<Workload> AllWorkloads() {
  static const char* kOrder[] = {
      "create_table", "drop_table", "single_insert", "bulk_insert", "transaction_multi_insert",
      "select_all", "select_by_filter", "select_count", "select_order_by_limit",
      "single_update", "single_delete", "concurrent_insert", "concurrent_select",
      "point_lookup", "aggregate_query", "multi_table_join", "large_payload_insert",
      "wide_column_insert", "bulk_delete", "sequential_crud", "alter_table",
      "concurrent_update", "concurrent_mixed_dml", "namespace_isolation",
      "subscribe_initial_load", "subscribe_change_latency", "reconnect_subscribe",
      "flushed_parquet_query", "concurrent_subscribers", "concurrent_publishers",
      "concurrent_consumers", "sql_1k_concurrent", "create_user", "drop_user",
      "connection_storm", "mixed_read_write", "wide_fanout_query", "subscriber_scale"};
  std::vector<Workload> all = SqlWorkloads();
  for (auto& w : LoadWorkloads()) all.push_back(std::move(w));
  for (auto& w : LiveWorkloads()) all.push_back(std::move(w));
  auto rank = [&](const Workload& w) {
    for (size_t i = 0; i < std::size(kOrder); ++i) {
      if (w.name == kOrder[i]) return i;
    }
    return std::size(kOrder);
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const Workload& a, const Workload& b) { return rank(a) < rank(b); });
  return all;
}

}  // namespace kalam::bench::parity
