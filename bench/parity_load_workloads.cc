// parity_load_workloads: the load workloads of parity_bench — topic publishers and consumers,
// the 1,000-query burst, user creation and removal, connection storms, mixed reads and writes,
// wide fan-out queries. Shapes, row counts and SQL follow the original KalamDB benchmark tool;
// every statement's outcome is checked.
#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include "parity_workload.h"

namespace kalam::bench::parity {
namespace {

namespace json = boost::json;
using std::to_string;

// ---- topics ----

Error ConsumeOnce(HttpClient& c, const std::string& topic, const std::string& group) {
  json::object req{{"topic_id", topic}, {"group_id", group}, {"start", "Earliest"},
                   {"limit", 50},       {"partition_id", 0}, {"timeout_seconds", 5}};
  HttpResponse res = c.Post("/v1/api/topics/consume", json::serialize(req));
  if (res.status != 200) return "consume: HTTP " + to_string(res.status) + " " + res.body;
  boost::system::error_code ec;
  json::value v = json::parse(res.body, ec);
  const auto* msgs = !ec && v.is_object() ? v.as_object().if_contains("messages") : nullptr;
  if (!msgs || !msgs->is_array() || msgs->as_array().size() != 50) {
    return "consume: expected 50 messages, got " + res.body.substr(0, 200);
  }
  const auto& last = msgs->as_array().back().as_object();
  json::object ack{{"topic_id", topic},
                   {"group_id", group},
                   {"partition_id", 0},
                   {"upto_offset", last.at("offset")}};
  res = c.Post("/v1/api/topics/ack", json::serialize(ack));
  if (res.status != 200 || res.body.find("\"success\":true") == std::string::npos) {
    return "ack: HTTP " + to_string(res.status) + " " + res.body;
  }
  return {};
}

// ---- connection_storm ----

Error StormOne(Context& ctx, const std::string& table) {
  HttpClient fresh(ctx.s.endpoint);
  auto delay = std::chrono::milliseconds(200);
  for (;;) {
    int status = 0;
    std::string error;
    if (Login(fresh, ctx.s.user, ctx.s.password, &status, &error)) break;
    if (status != 429) return error;
    std::this_thread::sleep_for(delay);  // rate limited: back off like the original
    delay = std::min(delay * 2, std::chrono::milliseconds(5000));
  }
  SqlResult r;
  PARITY_TRY(Exec(fresh, "SELECT * FROM " + table, &r));
  if (r.rows().size() != 3) return "storm query: expected 3 rows";
  return {};
}


}  // namespace

std::vector<Workload> LoadWorkloads() {
  std::vector<Workload> all;
  {
    Workload w;
    w.name = "concurrent_publishers";
    w.category = "Load";
    w.description = "N concurrent INSERTs into a topic-sourced table (measures publish overhead)";
    w.setup = [](Context& ctx) -> Error {
      const std::string t = ctx.Table("pub_bench"), topic = ctx.Table("pub_topic");
      PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + t));
      PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + t + " (id INT PRIMARY KEY, data TEXT, ts BIGINT)"));
      PARITY_TRY(Exec(ctx.http, "CREATE TOPIC " + topic));
      return Exec(ctx.http, "ALTER TOPIC " + topic + " ADD SOURCE " + t + " ON INSERT");
    };
    w.run = [](Context& ctx, int64_t i) {
      const int n = ctx.s.concurrency;
      const std::string t = ctx.Table("pub_bench");
      return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) {
        const std::string id = to_string(i * n * 2 + w);
        return ExpectAffected(c,
                              "INSERT INTO " + t + " (id, data, ts) VALUES (" + id + ", 'event_" +
                                  id + "', " + id + ")",
                              1);
      });
    };
    w.verify = [](Context& ctx) -> Error {  // every insert became one topic message
      SqlResult r;
      const int64_t want = int64_t{ctx.s.concurrency} * ctx.s.total_iterations();
      PARITY_TRY(Exec(ctx.http,
                      "CONSUME FROM " + ctx.Table("pub_topic") + " LIMIT " + to_string(want + 1),
                      &r));
      if (static_cast<int64_t>(r.rows().size()) != want) {
        return "topic holds " + to_string(r.rows().size()) + " messages, want " + to_string(want);
      }
      return {};
    };
    w.teardown = [](Context& ctx) {
      Cleanup(ctx.http, "DROP TOPIC " + ctx.Table("pub_topic"));
      Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("pub_bench"));
    };
    all.push_back(std::move(w));
  }
  {
    Workload w;
    w.name = "concurrent_consumers";
    w.category = "Load";
    w.description = "N concurrent topic CONSUME calls pulling messages in parallel";
    w.setup = [](Context& ctx) -> Error {
      const std::string t = ctx.Table("consume_bench"), topic = ctx.Table("consume_topic");
      PARITY_TRY(Exec(ctx.http, "DROP TABLE IF EXISTS " + t));
      PARITY_TRY(Exec(ctx.http, "CREATE TABLE " + t + " (id INT PRIMARY KEY, val TEXT)"));
      PARITY_TRY(Exec(ctx.http, "CREATE TOPIC " + topic));
      PARITY_TRY(Exec(ctx.http, "ALTER TOPIC " + topic + " ADD SOURCE " + t + " ON INSERT"));
      return Seed(ctx.http, t, "id, val", 200, 200, [](int64_t i) {
        return "(" + to_string(i) + ", 'seed_" + to_string(i) + "')";
      });
    };
    w.run = [](Context& ctx, int64_t i) {
      const int n = ctx.s.concurrency;
      const std::string topic = ctx.Table("consume_topic");
      return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) {
        return ConsumeOnce(c, topic, "bench_group_" + to_string(i) + "_" + to_string(w));
      });
    };
    w.teardown = [](Context& ctx) {
      Cleanup(ctx.http, "DROP TOPIC " + ctx.Table("consume_topic"));
      Cleanup(ctx.http, "DROP TABLE IF EXISTS " + ctx.Table("consume_bench"));
    };
    all.push_back(std::move(w));
  }
  {
    // One HttpBurst (a poll()-driven client on sql_burst connections) for the run's iterations.
    auto burst = std::make_shared<std::unique_ptr<HttpBurst>>();
    auto w = OnTable(
        "sql_1k_concurrent", "Load",
        "1000 concurrent SQL SELECT queries at once (RPS degradation test)", "load_1k",
        "id INT PRIMARY KEY, name TEXT, score DOUBLE",
        [burst](Context& ctx, const std::string& t) -> Error {
          PARITY_TRY(Seed(ctx.http, t, "id, name, score", 500, 100, [](int64_t i) {
            return "(" + to_string(i) + ", 'user_" + to_string(i) + "', " + Fixed(i * 1.1, 1) + ")";
          }));
          *burst = std::make_unique<HttpBurst>(ctx.s.endpoint, ctx.http.token());
          std::string error;
          if (!(*burst)->Connect(ctx.s.sql_burst, &error)) return error;
          ctx.details.emplace_back("burst", to_string(ctx.s.sql_burst) +
                                                " queries at once, one per connection, one client thread");
          return {};
        },
        [burst](Context& ctx, const std::string& t, int64_t) -> Error {
          const int n = ctx.s.sql_burst;
          std::vector<std::string> bodies;
          for (int q = 0; q < n; ++q) {
            switch (q % 4) {
              case 0: bodies.push_back(SqlBody("SELECT * FROM " + t + " WHERE id = " + to_string(q % 500))); break;
              case 1: bodies.push_back(SqlBody("SELECT COUNT(*) FROM " + t)); break;
              case 2:
                bodies.push_back(SqlBody("SELECT * FROM " + t + " WHERE score > " + Fixed(q % 500, 1) +
                                         " ORDER BY score LIMIT 10"));
                break;
              default: bodies.push_back(SqlBody("SELECT name, score FROM " + t + " LIMIT 20")); break;
            }
          }
          std::vector<HttpResponse> answers;
          std::string error;
          if (!(*burst)->Run("/v1/api/sql", bodies, &answers, std::chrono::seconds(60), &error)) {
            return error;
          }
          for (int q = 0; q < n; ++q) {
            SqlResult r = ParseSqlResponse(answers[q]);
            if (!r.ok) return "query " + to_string(q) + ": " + r.error;
            const size_t want[] = {1, 1, 10, 20};
            if (r.rows().size() != want[q % 4] ||
                (q % 4 == 1 && ValueText(r.rows()[0].as_array()[0]) != "500")) {
              return "query " + to_string(q) + " returned " + json::serialize(r.json).substr(0, 200);
            }
          }
          return {};
        });
    auto table_teardown = w.teardown;
    w.teardown = [burst, table_teardown](Context& ctx) {
      burst->reset();
      table_teardown(ctx);
    };
    all.push_back(std::move(w));
  }
  {
    Workload w;
    w.name = "create_user";
    w.category = "Load";
    w.description = "CREATE USER (auth subsystem stress test)";
    w.setup = [](Context&) { return Error(); };
    w.run = [](Context& ctx, int64_t i) {
      return Exec(ctx.http, "CREATE USER bcu_" + ctx.s.ns + "_" + to_string(i) +
                                " WITH PASSWORD 'BenchP@ss1234' ROLE 'user'");
    };
    w.teardown = [](Context& ctx) {
      for (int i = 0; i < ctx.s.total_iterations(); ++i) {
        Cleanup(ctx.http, "DROP USER IF EXISTS bcu_" + ctx.s.ns + "_" + to_string(i));
      }
    };
    all.push_back(std::move(w));
  }
  {
    Workload w;
    w.name = "drop_user";
    w.category = "Load";
    w.description = "DROP USER (auth subsystem teardown stress test)";
    w.setup = [](Context& ctx) -> Error {
      for (int i = 0; i < ctx.s.total_iterations(); ++i) {
        PARITY_TRY(Exec(ctx.http, "CREATE USER bdu_" + ctx.s.ns + "_" + to_string(i) +
                                      " WITH PASSWORD 'BenchP@ss1234' ROLE 'user'"));
      }
      return {};
    };
    w.run = [](Context& ctx, int64_t i) -> Error {
      SqlResult r;
      const std::string name = "bdu_" + ctx.s.ns + "_" + to_string(i);
      PARITY_TRY(Exec(ctx.http, "DROP USER IF EXISTS " + name, &r));
      if (r.message() != "User " + name + " dropped successfully") {
        return "drop_user: '" + r.message() + "'";
      }
      return {};
    };
    w.teardown = [](Context& ctx) {
      for (int i = 0; i < ctx.s.total_iterations(); ++i) {
        Cleanup(ctx.http, "DROP USER IF EXISTS bdu_" + ctx.s.ns + "_" + to_string(i));
      }
    };
    all.push_back(std::move(w));
  }
  all.push_back(OnTable(
      "connection_storm", "Load", "N simultaneous login + SQL + cycles (connection setup overhead)",
      "storm_bench", "id INT PRIMARY KEY, val TEXT",
      [](Context& ctx, const std::string& t) {
        ctx.details.emplace_back("storm", to_string(ctx.s.storm) + " simultaneous logins");
        return ExpectAffected(ctx.http,
                              "INSERT INTO " + t + " (id, val) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
                              3);
      },
      [](Context& ctx, const std::string& t, int64_t) {
        const int n = ctx.s.storm;
        return ctx.Pool(n).Run(n, [&](int, HttpClient&) { return StormOne(ctx, t); });
      }));
  {
    auto w = OnTable(
        "mixed_read_write", "Load", "50/50 concurrent reads + writes on same table (contention test)",
        "mixed_bench", "id INT PRIMARY KEY, counter INT, label TEXT",
        [](Context& ctx, const std::string& t) {
          return Seed(ctx.http, t, "id, counter, label", 200, 50, [](int64_t i) {
            return "(" + to_string(i) + ", 0, 'item_" + to_string(i) + "')";
          });
        },
        [](Context& ctx, const std::string& t, int64_t i) {
          const int n = ctx.s.concurrency, half = std::max(1, n / 2);
          // Rows before this iteration: the seed plus `half` per earlier iteration.
          const int64_t before = 200 + i * half;
          return ctx.Pool(2 * half).Run(2 * half, [&](int w, HttpClient& c) -> Error {
            if (w < half) {
              const std::string id = to_string(10000 + i * n + w);
              return ExpectAffected(c,
                                    "INSERT INTO " + t + " (id, counter, label) VALUES (" + id +
                                        ", " + id + ", 'new_" + id + "')",
                                    1);
            }
            switch ((w - half) % 3) {
              case 0:
                return ExpectRows(ctx, c, "SELECT * FROM " + t + " WHERE id < 50", 50, true);
              case 1: {
                SqlResult r;
                PARITY_TRY(Exec(c, "SELECT COUNT(*) FROM " + t, &r));
                const double got = r.rows().empty() ? -1 : Number(r.rows()[0].as_array()[0]);
                if (got < before || got > before + half) {
                  return "mixed_read_write: COUNT(*) " + Fixed(got, 0) + " outside [" +
                         to_string(before) + ", " + to_string(before + half) + "]";
                }
                return {};
              }
              default:
                return ExpectRows(ctx, c, "SELECT * FROM " + t + " ORDER BY id DESC LIMIT 20", 20,
                                  false);
            }
          });
        });
    all.push_back(std::move(w));
  }
  all.push_back(OnTable(
      "wide_fanout_query", "Load",
      "N concurrent large-result-set SELECTs (serialization + memory pressure)", "fanout_bench",
      "id INT PRIMARY KEY, col_a TEXT, col_b TEXT, col_c DOUBLE, col_d BIGINT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, col_a, col_b, col_c, col_d", 1000, 100, [](int64_t id) {
          return "(" + to_string(id) + ", 'alpha_bravo_charlie_delta_echo_" + to_string(id) +
                 "', 'foxtrot_golf_hotel_india_juliet_" + to_string(id) + "', " +
                 Fixed(id * 3.14159, 4) + ", " + to_string(id * 1000000) + ")";
        });
      },
      [](Context& ctx, const std::string& t, int64_t) {
        const int n = ctx.s.concurrency;
        int64_t over_100 = 0;
        for (int64_t id = 0; id < 1000; ++id) over_100 += id * 3.14159 > 100.0;
        return ctx.Pool(n).Run(n, [&](int w, HttpClient& c) -> Error {
          switch (w % 3) {
            case 0:
              return ExpectRows(ctx, c, "SELECT * FROM " + t, 1000, true);
            case 1:
              return ExpectRows(ctx, c,
                                "SELECT * FROM " + t + " WHERE col_c > 100.0 ORDER BY col_d DESC",
                                over_100, true);
            default:
              return ExpectRows(ctx, c,
                                "SELECT id, col_a, col_b, col_c, col_d FROM " + t +
                                    " WHERE id > 200",
                                799, true);
          }
        });
      }));
  return all;
}

}  // namespace kalam::bench::parity
