// parity_sql_workloads: the workloads of parity_bench on tables over HTTP — DDL, inserts,
// selects, updates, deletes, concurrent DML, point lookups, aggregates, joins, namespaces and
// flushed Parquet queries. Shapes, row counts and SQL follow the original KalamDB benchmark tool;
// every statement's outcome is checked.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include "parity_workload.h"

namespace kalam::bench::parity {
namespace {

namespace json = boost::json;
using std::to_string;

// The 200-row table of the select_* workloads: (id, 'user_id', id × 1.1, id % 3 == 0).
Error SeedSelectTable(Context& ctx, const std::string& table) {
  PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + table));
  PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + table +
                                " (id INT PRIMARY KEY, name TEXT, score DOUBLE, active BOOLEAN)"));
  return Seed(ctx.http, table, "id, name, score, active", 200, 50, [](int64_t id) {
    return "(" + to_string(id) + ", 'user_" + to_string(id) + "', " + Fixed(id * 1.1, 2) + ", " +
           (id % 3 == 0 ? "true" : "false") + ")";
  });
}

// A select_* workload on its own 200-row table.
Workload SelectWorkload(std::string name, std::string description, std::string suffix,
                        std::function<Error(Context&, const std::string&, int64_t)> run) {
  Workload w;
  w.name = std::move(name);
  w.category = "Select";
  w.description = std::move(description);
  w.setup = [suffix](Context& ctx) { return SeedSelectTable(ctx, ctx.Table("select_" + suffix)); };
  w.run = [suffix, run](Context& ctx, int64_t i) {
    return run(ctx, ctx.Table("select_" + suffix), i);
  };
  w.teardown = [suffix](Context& ctx) {
    Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("select_" + suffix));
  };
  return w;
}

Error CountIs(Context& ctx, const std::string& table, int64_t n) {
  return ExpectValue(ctx.http, "SELECT COUNT(*) FROM " + table, to_string(n));
}

// ---- aggregate_query: expected answers computed from the seed ----

const char* kRegions[] = {"us-east", "us-west", "eu-west", "eu-east", "ap-south"};
const char* kProducts[] = {"widget", "gadget", "doohickey", "thingamajig", "whatsit"};

Error AggregateCheck(Context& ctx, const std::string& t, int64_t i) {
  const int64_t n = ctx.s.agg_rows;
  std::map<std::string, int64_t> count, qty;
  std::map<std::string, double> price_sum;
  std::map<std::pair<std::string, std::string>, int64_t> revenue;
  int64_t min_price = INT64_MAX, max_price = 0, east_qty = 0;
  for (int64_t id = 0; id < n; ++id) {
    const std::string region = kRegions[id % 5], product = kProducts[id % 5];
    const int64_t q = (id * 7) % 100 + 1, p = (id * 13) % 1000 + 10;
    ++count[region];
    qty[region] += q;
    price_sum[region] += p;
    revenue[{product, region}] += q * p;
    if (region == "us-east") {
      east_qty += q;
      min_price = std::min(min_price, p);
      max_price = std::max(max_price, p);
    }
  }
  const int64_t having = n / 10;  // 1,000 at the original's 10,000 rows
  SqlResult r;
  switch (i % 4) {
    case 0: {
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT region, COUNT(*) as cnt, SUM(quantity) as total_qty, "
                            "AVG(price) as avg_price FROM " + t +
                                " GROUP BY region ORDER BY total_qty DESC",
                            5, true, &r));
      for (const auto& row : r.rows()) {
        const auto& a = row.as_array();
        const std::string region = ValueText(a[0]);
        if (Number(a[1]) != count[region] || Number(a[2]) != qty[region] ||
            std::fabs(Number(a[3]) - price_sum[region] / count[region]) > 1e-6) {
          return "aggregate_query: wrong group " + json::serialize(row);
        }
      }
      return {};
    }
    case 1: {
      const int64_t groups = static_cast<int64_t>(revenue.size());
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT product, region, SUM(quantity * price) as revenue FROM " + t +
                                " GROUP BY product, region ORDER BY revenue DESC LIMIT 10",
                            std::min<int64_t>(groups, 10), false, &r));
      int64_t best = 0;
      for (const auto& [k, v] : revenue) best = std::max(best, v);
      if (Number(r.rows()[0].as_array()[2]) != best) {
        return "aggregate_query: top revenue " + json::serialize(r.rows()[0]) + ", want " +
               to_string(best);
      }
      return {};
    }
    case 2: {
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT product, SUM(quantity) as total_qty, MIN(price) as min_price, "
                            "MAX(price) as max_price FROM " + t +
                                " WHERE region = 'us-east' GROUP BY product",
                            1, true, &r));
      const auto& a = r.rows()[0].as_array();
      if (ValueText(a[0]) != "widget" || Number(a[1]) != east_qty || Number(a[2]) != min_price ||
          Number(a[3]) != max_price) {
        return "aggregate_query: filtered group " + json::serialize(r.rows()[0]);
      }
      return {};
    }
    default: {
      int64_t over = 0;
      for (const auto& [k, v] : count) over += v > having;
      return ExpectRows(ctx, ctx.http,
                        "SELECT region, COUNT(*) as cnt FROM " + t +
                            " GROUP BY region HAVING COUNT(*) > " + to_string(having) +
                            " ORDER BY cnt DESC",
                        over, true);
    }
  }
}

// ---- multi_table_join ----

const char* Tier(int64_t id) { return id % 3 == 0 ? "gold" : id % 3 == 1 ? "silver" : "bronze"; }
const char* Status(int64_t id) {
  static const char* k[] = {"pending", "shipped", "delivered", "cancelled"};
  return k[id % 4];
}

Error JoinCheck(Context& ctx, int64_t i) {
  const std::string o = ctx.Table("join_orders"), c = ctx.Table("join_customers");
  SqlResult r;
  switch (i % 3) {
    case 0: {
      int64_t gold = 0;
      for (int64_t id = 0; id < 1000; ++id) gold += (id % 200) % 3 == 0;
      return ExpectRows(ctx, ctx.http,
                        "SELECT o.id, o.amount, o.status FROM " + o + " o WHERE o.customer_id IN "
                        "(SELECT c.id FROM " + c + " c WHERE c.tier = 'gold')",
                        gold, true);
    }
    case 1: {
      std::map<std::string, int64_t> spent;
      for (int64_t id = 0; id < 1000; ++id) spent[Tier(id % 200)] += (id * 17) % 10000;
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT c.tier, SUM(o.amount) as total_spent FROM " + o + " o JOIN " +
                                c + " c ON o.customer_id = c.id GROUP BY c.tier "
                                "ORDER BY total_spent DESC",
                            3, true, &r));
      for (const auto& row : r.rows()) {
        if (Number(row.as_array()[1]) != spent[ValueText(row.as_array()[0])]) {
          return "multi_table_join: wrong tier sum " + json::serialize(row);
        }
      }
      return {};
    }
    default: {
      int64_t best = -1;
      for (int64_t id = 0; id < 1000; ++id) {
        if (std::string(Status(id)) == "shipped") best = std::max<int64_t>(best, (id * 17) % 10000);
      }
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT c.name, o.amount, o.status FROM " + o + " o JOIN " + c +
                                " c ON o.customer_id = c.id WHERE o.status = 'shipped' "
                                "ORDER BY o.amount DESC LIMIT 20",
                            20, false, &r));
      if (Number(r.rows()[0].as_array()[1]) != best) {
        return "multi_table_join: top shipped amount " + json::serialize(r.rows()[0]);
      }
      return {};
    }
  }
}

// ---- flushed_parquet_query ----

// Waits for job `id` (from "… Job ID: FL-…") to complete.
Error WaitForJob(Context& ctx, const std::string& message) {
  const size_t at = message.find("Job ID: ");
  if (at == std::string::npos) return "no job id in '" + message + "'";
  const std::string id = message.substr(at + 8);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    SqlResult r;
    PARITY_TRY(Exec(ctx.http, "SELECT status, message FROM system.jobs WHERE job_id = '" + id + "'",
                    &r));
    if (!r.rows().empty()) {
      const std::string status = ValueText(r.rows()[0].as_array()[0]);
      if (status == "completed") return {};
      if (status == "failed" || status == "cancelled" || status == "skipped") {
        return "flush job " + id + " " + status + ": " + json::serialize(r.rows()[0]);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "flush job " + id + " did not complete within 120 s";
}

Error ParquetSetup(Context& ctx) {
  const std::string t = ctx.Table("parquet_bench");
  const int files = ctx.s.parquet_files, per = ctx.s.parquet_rows_per_file;
  PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + t));
  PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + t +
                                " (id INT PRIMARY KEY, category TEXT, amount INT, description TEXT)"));
  for (int f = 0; f < files; ++f) {
    const int64_t base = int64_t{f} * per;
    PARITY_TRY(Seed(ctx.http, t, "id, category, amount, description", per, 50, [&](int64_t k) {
      const int64_t id = base + k;
      return "(" + to_string(id) + ", 'cat_" + to_string(id % 100) + "', " +
             to_string(id * 7 % 10000) + ", 'desc_for_" + to_string(id) + "')";
    }));
    SqlResult r;
    PARITY_TRY(Exec(ctx.http, "STORAGE FLUSH TABLE " + t, &r));
    PARITY_TRY(WaitForJob(ctx, r.message()));
  }
  SqlResult stats;
  PARITY_TRY(Exec(ctx.http, "SHOW STATS FOR TABLE " + t, &stats));
  if (stats.rows().size() != 1) return "SHOW STATS returned no row";
  const auto& a = stats.rows()[0].as_array();  // … hot_rows, flushed_segments, flushed_rows …
  const int64_t total = int64_t{files} * per;
  if (Number(a[4]) != 0 || Number(a[5]) != files || Number(a[6]) != total) {
    return "after " + to_string(files) + " flushes of " + to_string(per) +
           " rows, SHOW STATS says " + json::serialize(stats.rows()[0]);
  }
  ctx.details.emplace_back("parquet", to_string(files) + " files, " + to_string(total) + " rows");
  return {};
}

Error ParquetQuery(Context& ctx, int64_t i) {
  const std::string t = ctx.Table("parquet_bench");
  const int64_t total = int64_t{ctx.s.parquet_files} * ctx.s.parquet_rows_per_file;
  SqlResult r;
  switch (i % 5) {
    case 0:
      return ExpectValue(ctx.http, "SELECT COUNT(*) as cnt FROM " + t, to_string(total));
    case 1:
      return ExpectRows(ctx, ctx.http, "SELECT * FROM " + t + " WHERE category = 'cat_42'",
                        total / 100 + (total % 100 > 42), true);
    case 2: {
      std::map<int64_t, int64_t> sums;
      for (int64_t id = 0; id < total; ++id) sums[id % 100] += id * 7 % 10000;
      int64_t best = 0;
      for (const auto& [k, v] : sums) best = std::max(best, v);
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT category, SUM(amount) as total FROM " + t +
                                " GROUP BY category ORDER BY total DESC LIMIT 10",
                            std::min<int64_t>(10, static_cast<int64_t>(sums.size())), false, &r));
      if (Number(r.rows()[0].as_array()[1]) != best) {
        return "flushed_parquet_query: top category " + json::serialize(r.rows()[0]);
      }
      return {};
    }
    case 3: {
      const int64_t id = std::min<int64_t>(99999, total - 1);
      PARITY_TRY(ExpectRows(ctx, ctx.http, "SELECT * FROM " + t + " WHERE id = " + to_string(id),
                            1, false, &r));
      if (Number(r.rows()[0].as_array()[0]) != id) return "point lookup returned the wrong row";
      return {};
    }
    default: {
      int64_t over = 0, best = -1;
      for (int64_t id = 0; id < total; ++id) {
        const int64_t amount = id * 7 % 10000;
        over += amount > 5000;
        best = std::max(best, amount);
      }
      PARITY_TRY(ExpectRows(ctx, ctx.http,
                            "SELECT * FROM " + t + " WHERE amount > 5000 ORDER BY amount DESC "
                                                   "LIMIT 100",
                            std::min<int64_t>(over, 100), false, &r));
      if (Number(r.rows()[0].as_array()[2]) != best) return "range scan: wrong top amount";
      return {};
    }
  }
}

}  // namespace

std::vector<Workload> SqlWorkloads() {
  std::vector<Workload> all;

  {  // create_table
    Workload w;
    w.name = "create_table";
    w.category = "DDL";
    w.description = "CREATE TABLE with 3 columns";
    w.setup = [](Context&) { return Error(); };
    w.run = [](Context& ctx, int64_t i) {
      return Exec(ctx.http, "CREATE TABLE " + ctx.Table("ct_bench_" + to_string(i)) +
                                " (id INT PRIMARY KEY, name TEXT, value DOUBLE)");
    };
    w.verify = [](Context& ctx) {
      return ExpectValue(ctx.http,
                         "SELECT COUNT(*) FROM system.tables WHERE namespace_id = '" + ctx.s.ns +
                             "' AND table_name LIKE 'ct_bench_%'",
                         to_string(ctx.s.total_iterations()));
    };
    w.teardown = [](Context& ctx) {
      for (int i = 0; i < ctx.s.total_iterations(); ++i) {
        Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("ct_bench_" + to_string(i)));
      }
    };
    all.push_back(std::move(w));
  }
  {  // drop_table
    Workload w;
    w.name = "drop_table";
    w.category = "DDL";
    w.description = "DROP TABLE on a previously created table";
    w.setup = [](Context& ctx) -> Error {
      for (int i = 0; i < ctx.s.total_iterations(); ++i) {
        PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + ctx.Table("dt_bench_" + to_string(i)) +
                                      " (id INT PRIMARY KEY, name TEXT)"));
      }
      return {};
    };
    w.run = [](Context& ctx, int64_t i) {
      return Exec(ctx.http, "DROP TABLE " + ctx.Table("dt_bench_" + to_string(i)));
    };
    w.verify = [](Context& ctx) {
      return ExpectValue(ctx.http,
                         "SELECT COUNT(*) FROM system.tables WHERE namespace_id = '" + ctx.s.ns +
                             "' AND table_name LIKE 'dt_bench_%'",
                         "0");
    };
    w.teardown = [](Context&) {};
    all.push_back(std::move(w));
  }
  {
    auto w = OnTable("single_insert", "Insert", "INSERT a single row into a table", "insert_bench",
                     "id INT PRIMARY KEY, name TEXT, score DOUBLE, active BOOLEAN", nullptr,
                     [](Context& ctx, const std::string& t, int64_t i) {
                       return ExpectAffected(
                           ctx.http,
                           "INSERT INTO " + t + " (id, name, score, active) VALUES (" +
                               to_string(i) + ", 'user_" + to_string(i) + "', " +
                               Fixed(i * 1.5, 2) + ", " + (i % 2 == 0 ? "true" : "false") + ")",
                           1);
                     });
    w.verify = [](Context& ctx) {
      return CountIs(ctx, ctx.Table("insert_bench"), ctx.s.total_iterations());
    };
    all.push_back(std::move(w));
  }
  {
    auto w = OnTable("bulk_insert", "Insert", "INSERT 50 rows in a single statement",
                     "bulk_insert_bench", "id INT PRIMARY KEY, name TEXT, value DOUBLE", nullptr,
                     [](Context& ctx, const std::string& t, int64_t i) {
                       std::string sql = "INSERT INTO " + t + " (id, name, value) VALUES ";
                       for (int64_t k = 0; k < 50; ++k) {
                         const int64_t id = i * 50 + k;
                         sql += (k ? ", (" : "(") + to_string(id) + ", 'bulk_user_" +
                                to_string(id) + "', " + Fixed(id * 0.7, 2) + ")";
                       }
                       return ExpectAffected(ctx.http, sql, 50);
                     });
    w.verify = [](Context& ctx) {
      return CountIs(ctx, ctx.Table("bulk_insert_bench"), 50 * ctx.s.total_iterations());
    };
    all.push_back(std::move(w));
  }
  {
    auto w = OnTable(
        "transaction_multi_insert", "Insert",
        "Explicit BEGIN/COMMIT with 50 single-row INSERT statements", "txn_insert_bench",
        "id INT PRIMARY KEY, name TEXT, value DOUBLE", nullptr,
        [](Context& ctx, const std::string& t, int64_t i) {
          std::string sql = "BEGIN; ";
          for (int64_t k = 0; k < 50; ++k) {
            const int64_t id = i * 50 + k;
            sql += "INSERT INTO " + t + " (id, name, value) VALUES (" + to_string(id) +
                   ", 'txn_user_" + to_string(id) + "', " + Fixed(id * 0.7, 2) + "); ";
          }
          sql += "COMMIT";
          return ExpectAffected(ctx.http, sql, 50);
        });
    w.verify = [](Context& ctx) {
      return CountIs(ctx, ctx.Table("txn_insert_bench"), 50 * ctx.s.total_iterations());
    };
    all.push_back(std::move(w));
  }
  all.push_back(SelectWorkload("select_all", "SELECT * from a 200-row table", "all",
                               [](Context& ctx, const std::string& t, int64_t) {
                                 return ExpectRows(ctx, ctx.http, "SELECT * FROM " + t, 200, true);
                               }));
  all.push_back(SelectWorkload(
      "select_by_filter", "SELECT with WHERE clause on a 200-row table", "filter",
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        SqlResult r;
        const int64_t id = i % 200;
        PARITY_TRY(ExpectRows(ctx, ctx.http, "SELECT * FROM " + t + " WHERE id = " + to_string(id),
                              1, false, &r));
        if (ValueText(r.rows()[0].as_array()[1]) != "user_" + to_string(id)) {
          return "select_by_filter: wrong row " + json::serialize(r.rows()[0]);
        }
        return {};
      }));
  all.push_back(SelectWorkload("select_count", "SELECT COUNT(*) on a 200-row table", "count",
                               [](Context& ctx, const std::string& t, int64_t) {
                                 return ExpectValue(ctx.http, "SELECT COUNT(*) FROM " + t, "200");
                               }));
  all.push_back(SelectWorkload(
      "select_order_by_limit", "SELECT with ORDER BY + LIMIT 10 on a 200-row table", "orderby",
      [](Context& ctx, const std::string& t, int64_t) -> Error {
        SqlResult r;
        PARITY_TRY(ExpectRows(ctx, ctx.http,
                              "SELECT * FROM " + t + " ORDER BY score DESC LIMIT 10", 10, false,
                              &r));
        if (Number(r.rows()[0].as_array()[0]) != 199) return "select_order_by_limit: wrong order";
        return {};
      }));
  {
    auto w = OnTable("single_update", "Update", "UPDATE a single row by filter condition",
                     "update_bench", "id INT PRIMARY KEY, name TEXT, score DOUBLE",
                     [](Context& ctx, const std::string& t) {
                       return Seed(ctx.http, t, "id, name, score", 200, 50, [](int64_t i) {
                         return "(" + to_string(i) + ", 'user_" + to_string(i) + "', " +
                                Fixed(i, 2) + ")";
                       });
                     },
                     [](Context& ctx, const std::string& t, int64_t i) {
                       return ExpectAffected(ctx.http,
                                             "UPDATE " + t + " SET score = " + Fixed(i * 2.5, 2) +
                                                 " WHERE id = " + to_string(i % 200),
                                             1);
                     });
    all.push_back(std::move(w));
  }
  all.push_back(OnTable(
      "single_delete", "Delete", "DELETE a single row by filter condition", "delete_bench",
      "id INT PRIMARY KEY, name TEXT, value DOUBLE",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, name, value", std::max(500, ctx.s.total_iterations()), 50,
                    [](int64_t i) {
                      return "(" + to_string(i) + ", 'del_user_" + to_string(i) + "', " +
                             Fixed(i, 2) + ")";
                    });
      },
      [](Context& ctx, const std::string& t, int64_t i) {
        return ExpectAffected(ctx.http, "DELETE FROM " + t + " WHERE id = " + to_string(i), 1);
      }));
  {
    auto w = OnTable(
        "concurrent_insert", "Concurrent",
        "N concurrent INSERT operations in parallel (N = concurrency setting)",
        "conc_insert_bench", "id INT PRIMARY KEY, name TEXT, value DOUBLE", nullptr,
        [](Context& ctx, const std::string& t, int64_t i) {
          const int n = ctx.s.concurrency;
          return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) {
            const int64_t id = i * n + w;
            return ExpectAffected(c,
                                  "INSERT INTO " + t + " (id, name, value) VALUES (" +
                                      to_string(id) + ", 'conc_" + to_string(id) + "', " +
                                      Fixed(id, 2) + ")",
                                  1);
          });
        });
    w.verify = [](Context& ctx) {
      return CountIs(ctx, ctx.Table("conc_insert_bench"),
                     int64_t{ctx.s.concurrency} * ctx.s.total_iterations());
    };
    all.push_back(std::move(w));
  }
  all.push_back(OnTable(
      "concurrent_select", "Concurrent",
      "N concurrent SELECT operations in parallel (N = concurrency setting)", "conc_select_bench",
      "id INT PRIMARY KEY, name TEXT, value DOUBLE",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, name, value", 200, 50, [](int64_t i) {
          return "(" + to_string(i) + ", 'cs_user_" + to_string(i) + "', " + Fixed(i, 2) + ")";
        });
      },
      [](Context& ctx, const std::string& t, int64_t) {
        const int n = ctx.s.concurrency;
        return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) {
          return ExpectRows(ctx, c, "SELECT * FROM " + t + " WHERE id = " + to_string(w % 200), 1,
                            false);
        });
      }));
  all.push_back(OnTable(
      "point_lookup", "Select", "SELECT by primary key from a 10K-row table (single row lookup)",
      "point_lookup", "id INT PRIMARY KEY, name TEXT, value INT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, name, value", ctx.s.point_rows, 50, [](int64_t i) {
          return "(" + to_string(i) + ", 'name_" + to_string(i) + "', " + to_string(i * 3) + ")";
        });
      },
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        const int64_t id = (i * 997) % ctx.s.point_rows;
        SqlResult r;
        PARITY_TRY(ExpectRows(ctx, ctx.http, "SELECT * FROM " + t + " WHERE id = " + to_string(id),
                              1, false, &r));
        if (Number(r.rows()[0].as_array()[2]) != id * 3) return "point_lookup: wrong value";
        return {};
      }));
  all.push_back(OnTable(
      "aggregate_query", "Select",
      "GROUP BY + SUM/AVG/COUNT on a 10K-row table (analytical query performance)", "agg_bench",
      "id INT PRIMARY KEY, region TEXT, product TEXT, quantity INT, price INT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, region, product, quantity, price", ctx.s.agg_rows, 50,
                    [](int64_t id) {
                      return "(" + to_string(id) + ", '" + kRegions[id % 5] + "', '" +
                             kProducts[id % 5] + "', " + to_string((id * 7) % 100 + 1) + ", " +
                             to_string((id * 13) % 1000 + 10) + ")";
                    });
      },
      [](Context& ctx, const std::string& t, int64_t i) { return AggregateCheck(ctx, t, i); }));
  {
    Workload w;
    w.name = "multi_table_join";
    w.category = "Select";
    w.description = "SELECT with subquery across two tables (200 customers, 1000 orders)";
    w.setup = [](Context& ctx) -> Error {
      const std::string c = ctx.Table("join_customers"), o = ctx.Table("join_orders");
      PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + c));
      PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + c + " (id INT PRIMARY KEY, name TEXT, tier TEXT)"));
      PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + o));
      PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + o +
                                    " (id INT PRIMARY KEY, customer_id INT, amount INT, status TEXT)"));
      PARITY_TRY(Seed(ctx.http, c, "id, name, tier", 200, 50, [](int64_t id) {
        return "(" + to_string(id) + ", 'customer_" + to_string(id) + "', '" + Tier(id) + "')";
      }));
      return Seed(ctx.http, o, "id, customer_id, amount, status", 1000, 50, [](int64_t id) {
        return "(" + to_string(id) + ", " + to_string(id % 200) + ", " +
               to_string((id * 17) % 10000) + ", '" + Status(id) + "')";
      });
    };
    w.run = [](Context& ctx, int64_t i) { return JoinCheck(ctx, i); };
    w.teardown = [](Context& ctx) {
      Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("join_orders"));
      Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("join_customers"));
    };
    all.push_back(std::move(w));
  }
  all.push_back(OnTable(
      "large_payload_insert", "Insert",
      "INSERT rows with ~4KB TEXT payloads (serialization + storage throughput)", "large_payload",
      "id INT PRIMARY KEY, body TEXT, metadata TEXT", nullptr,
      [](Context& ctx, const std::string& t, int64_t i) {
        static const std::string payload(4000, 'X'), metadata(512, 'M');
        std::string sql = "INSERT INTO " + t + " (id, body, metadata) VALUES ";
        for (int64_t k = 0; k < 10; ++k) {
          sql += (k ? ", (" : "(") + to_string(i * 100 + k) + ", '" + payload + "', '" +
                 metadata + "')";
        }
        return ExpectAffected(ctx.http, sql, 10);
      }));
  {
    std::string columns = "id INT PRIMARY KEY", names = "id";
    for (int c = 1; c < 20; ++c) {
      columns += ", col_" + to_string(c) + (c % 3 == 0 ? " INT" : " TEXT");
      names += ", col_" + to_string(c);
    }
    all.push_back(OnTable("wide_column_insert", "Insert",
                          "INSERT into a 20-column table (wide schema overhead)", "wide_cols",
                          columns, nullptr, [names](Context& ctx, const std::string& t, int64_t i) {
                            std::string sql = "INSERT INTO " + t + " (" + names + ") VALUES ";
                            for (int64_t r = 0; r < 10; ++r) {
                              const int64_t id = i * 10 + r;
                              sql += (r ? ", (" : "(") + to_string(id);
                              for (int c = 1; c < 20; ++c) {
                                sql += c % 3 == 0 ? ", " + to_string(id * c)
                                                  : ", 'val_" + to_string(id) + "_" + to_string(c) +
                                                        "'";
                              }
                              sql += ")";
                            }
                            return ExpectAffected(ctx.http, sql, 10);
                          }));
  }
  all.push_back(OnTable(
      "bulk_delete", "Delete", "DELETE 100 rows at once with a range filter (bulk deletion)",
      "bulk_del", "id INT PRIMARY KEY, bucket INT, payload TEXT",
      [](Context& ctx, const std::string& t) {
        const int64_t n = std::max<int64_t>(ctx.s.bulk_delete_rows, ctx.s.total_iterations() * 100);
        ctx.details.emplace_back("seed", to_string(n) + " rows");
        return Seed(ctx.http, t, "id, bucket, payload", n, 50, [](int64_t id) {
          return "(" + to_string(id) + ", " + to_string(id / 100) + ", 'data_" + to_string(id) +
                 "')";
        });
      },
      [](Context& ctx, const std::string& t, int64_t i) {
        return ExpectAffected(ctx.http, "DELETE FROM " + t + " WHERE bucket = " + to_string(i),
                              100);
      }));
  all.push_back(OnTable(
      "sequential_crud", "DML", "INSERT → UPDATE → SELECT → DELETE full DML lifecycle per iteration",
      "crud_cycle", "id INT PRIMARY KEY, value TEXT, version INT", nullptr,
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        const std::string id = to_string(800000 + i);
        PARITY_TRY(ExpectAffected(ctx.http,
                                  "INSERT INTO " + t + " (id, value, version) VALUES (" + id +
                                      ", 'created', 1)",
                                  1));
        PARITY_TRY(ExpectAffected(
            ctx.http, "UPDATE " + t + " SET value = 'updated', version = 2 WHERE id = " + id, 1));
        SqlResult r;
        PARITY_TRY(ExpectRows(ctx, ctx.http, "SELECT * FROM " + t + " WHERE id = " + id, 1, false,
                              &r));
        const auto& row = r.rows()[0].as_array();
        if (ValueText(row[1]) != "updated" || Number(row[2]) != 2) {
          return "sequential_crud: SELECT after UPDATE saw " + json::serialize(r.rows()[0]);
        }
        return ExpectAffected(ctx.http, "DELETE FROM " + t + " WHERE id = " + id, 1);
      }));
  all.push_back(OnTable(
      "alter_table", "DDL", "ALTER TABLE ADD COLUMN + DROP COLUMN (schema evolution latency)",
      "alter_bench", "id INT PRIMARY KEY, name TEXT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, name", 100, 100, [](int64_t i) {
          return "(" + to_string(i) + ", 'row_" + to_string(i) + "')";
        });
      },
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        const std::string col = "extra_col_" + to_string(i);
        PARITY_TRY(Exec(ctx.http, "ALTER TABLE " + t + " ADD COLUMN " + col + " TEXT"));
        PARITY_TRY(ExpectRows(ctx, ctx.http, "SELECT id, " + col + " FROM " + t + " LIMIT 1", 1,
                              false));
        return Exec(ctx.http, "ALTER TABLE " + t + " DROP COLUMN " + col);
      }));
  all.push_back(OnTable(
      "concurrent_update", "Concurrent",
      "N concurrent UPDATE operations on the same table (write contention test)", "conc_upd",
      "id INT PRIMARY KEY, counter INT, label TEXT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, counter, label", std::max(ctx.s.concurrency, 100), 1000,
                    [](int64_t i) { return "(" + to_string(i) + ", 0, 'init')"; });
      },
      [](Context& ctx, const std::string& t, int64_t i) {
        const int n = ctx.s.concurrency;
        return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) {
          return ExpectAffected(c,
                                "UPDATE " + t + " SET counter = " + to_string(i * 100 + w) +
                                    ", label = 'iter_" + to_string(i) + "' WHERE id = " +
                                    to_string(w),
                                1);
        });
      }));
  all.push_back(OnTable(
      "concurrent_mixed_dml", "Concurrent",
      "Concurrent INSERT + UPDATE + DELETE on the same table (multi-op contention)", "mixed_dml",
      "id INT PRIMARY KEY, value INT, label TEXT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, value, label", 500, 50, [](int64_t i) {
          return "(" + to_string(100000 + i) + ", " + to_string(100000 + i) + ", 'seed')";
        });
      },
      [](Context& ctx, const std::string& t, int64_t i) {
        const int n = ctx.s.concurrency;
        return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) -> Error {
          switch (w % 3) {
            case 0: {  // above the seed's 100000…100499, whatever the iteration count
              const int64_t id = 200000 + i * n + w;
              return ExpectAffected(c,
                                    "INSERT INTO " + t + " (id, value, label) VALUES (" +
                                        to_string(id) + ", " + to_string(id * 2) + ", 'inserted')",
                                    1);
            }
            case 1:
              return ExpectAffected(c,
                                    "UPDATE " + t + " SET value = " + to_string(i * 100 + w) +
                                        ", label = 'updated_" + to_string(i) + "' WHERE id = " +
                                        to_string(100000 + (i * n + w) % 500),
                                    1);
            default:
              return ExpectRows(ctx, c, "SELECT * FROM " + t + " WHERE id >= 100000 LIMIT 10", 10,
                                false);
          }
        });
      }));
  {
    Workload w;
    w.name = "namespace_isolation";
    w.category = "Concurrent";
    w.description = "Concurrent queries across 5 different namespaces (isolation test)";
    w.setup = [](Context& ctx) -> Error {
      for (int k = 0; k < 5; ++k) {
        const std::string ns = ctx.s.ns + "_iso_" + to_string(k), t = ns + ".iso_data";
        PARITY_TRY(Exec(ctx.http, "CREATE NAMESPACE IF NOT EXISTS " + ns));
        PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + t));
        PARITY_TRY(Exec(ctx.http,
                        "CREATE TABLE " + t + " (id INT PRIMARY KEY, ns_id INT, payload TEXT)"));
        PARITY_TRY(Seed(ctx.http, t, "id, ns_id, payload", 200, 50, [k](int64_t id) {
          return "(" + to_string(id) + ", " + to_string(k) + ", 'ns_" + to_string(k) + "_row_" +
                 to_string(id) + "')";
        }));
      }
      return {};
    };
    w.run = [](Context& ctx, int64_t) {
      return ctx.Pool(10).Run(10, [&](int w, HttpClient& c) -> Error {
        const int k = w / 2;
        const std::string t = ctx.s.ns + "_iso_" + to_string(k) + ".iso_data";
        if (w % 2 == 0) {
          return ExpectRows(ctx, c, "SELECT * FROM " + t + " WHERE ns_id = " + to_string(k), 200,
                            true);
        }
        return ExpectValue(c, "SELECT COUNT(*) FROM " + t, "200");
      });
    };
    w.teardown = [](Context& ctx) {
      for (int k = 0; k < 5; ++k) {
        const std::string ns = ctx.s.ns + "_iso_" + to_string(k);
        Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ns + ".iso_data");
        Cleanup(ctx.http, "DROP NAMESPACE IF EXISTS " + ns);
      }
    };
    all.push_back(std::move(w));
  }
  {
    Workload w;
    w.name = "flushed_parquet_query";
    w.category = "Storage";
    w.description = "SELECT from a shared table with 20 flushed Parquet files (200K rows)";
    w.setup = ParquetSetup;
    w.run = ParquetQuery;
    w.teardown = [](Context& ctx) {
      Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("parquet_bench"));
    };
    all.push_back(std::move(w));
  }
  return all;
}

}  // namespace kalam::bench::parity
