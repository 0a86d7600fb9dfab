// parity_live_workloads: the workloads of parity_bench that use live queries over /v1/ws —
// snapshot load, change latency, reconnects, concurrent subscribers and the subscriber scale
// ramp. Each connection authenticates with the run's token (Bearer header on the upgrade), and
// every subscription's snapshot rows and change events are counted against what was written.
#include <algorithm>
#include <chrono>
#include <memory>

#include <poll.h>

#include "parity_workload.h"

namespace kalam::bench::parity {
namespace {

namespace json = boost::json;
using std::to_string;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout(10000);

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Connects, subscribes to `sql` (snapshot first) and checks the snapshot holds `rows` rows.
Error OpenWithSnapshot(Context& ctx, WsClient& ws, const std::string& id, const std::string& sql,
                       int64_t rows) {
  std::string error;
  if (!ws.Connect(ctx.s.endpoint, ctx.http.token(), kTimeout, &error)) return error;
  int64_t got = 0;
  if (!Subscribe(ws, id, sql, true, kTimeout, &got, &error)) return error;
  if (rows >= 0 && got != rows) {
    return "snapshot of " + sql + " had " + to_string(got) + " rows, want " + to_string(rows);
  }
  return {};
}

Error CloseWs(WsClient& ws) {
  std::string error;
  if (!ws.Close(milliseconds(5000), &error)) return "WebSocket close: " + error;
  return {};
}

// True if `msg` is an insert event whose first row has column `id` equal to `want`.
bool IsInsertOf(const std::string& msg, int64_t want) {
  boost::system::error_code ec;
  json::value v = json::parse(msg, ec);
  const auto* o = !ec ? v.if_object() : nullptr;
  if (!o || ValueText(o->contains("type") ? o->at("type") : json::value()) != "change" ||
      ValueText(o->contains("change_type") ? o->at("change_type") : json::value()) != "insert") {
    return false;
  }
  const auto* rows = o->if_contains("rows");
  if (!rows || !rows->is_array() || rows->as_array().empty()) return false;
  const auto* id = rows->as_array()[0].is_object() ? rows->as_array()[0].as_object().if_contains("id")
                                                   : nullptr;
  return id && Number(*id) == static_cast<double>(want);
}

// A USER table owned by the run's user: setup creates (and seeds) it, teardown drops it.
Workload OnUserTable(std::string name, std::string description, std::string table,
                     std::string columns, std::function<Error(Context&, const std::string&)> seed,
                     std::function<Error(Context&, const std::string&, int64_t)> run) {
  Workload w;
  w.name = std::move(name);
  w.category = "Subscribe";
  w.description = std::move(description);
  w.setup = [table, columns, seed](Context& ctx) -> Error {
    const std::string t = ctx.Table(table);
    PARITY_TRY(Exec(ctx.http, "DROP USER TABLE IF EXISTS " + t));
    PARITY_TRY(Exec(ctx.http, "CREATE USER TABLE " + t + " (" + columns + ")"));
    return seed ? seed(ctx, t) : Error();
  };
  w.run = [table, run](Context& ctx, int64_t i) { return run(ctx, ctx.Table(table), i); };
  w.teardown = [table](Context& ctx) {
    Cleanup(ctx.http, "DROP USER TABLE IF EXISTS " + ctx.Table(table), std::chrono::seconds(10));
  };
  return w;
}

// ---- concurrent_subscribers ----

Error ConcurrentSubscribers(Context& ctx, const std::string& t, int64_t i) {
  const int n = ctx.s.concurrency;
  constexpr int kWrites = 10;  // the original's writes per iteration
  const int64_t rows_before = i * kWrites;
  std::vector<std::unique_ptr<WsClient>> subs;
  for (int w = 0; w < n; ++w) subs.push_back(std::make_unique<WsClient>());
  WorkerPool& pool = ctx.Pool(std::max(n, kWrites));
  PARITY_TRY(pool.Run(n, [&](int w, HttpClient&) {
    return OpenWithSnapshot(ctx, *subs[w], "sub_" + to_string(i) + "_" + to_string(w),
                            "SELECT * FROM " + t, rows_before);
  }));
  PARITY_TRY(pool.Run(kWrites, [&](int w, HttpClient& c) {
    const std::string id = to_string(i * 10000 + w);
    return ExpectAffected(c, "INSERT INTO " + t + " (id, payload) VALUES (" + id + ", 'load_" + id +
                                 "')",
                          1);
  }));
  return pool.Run(n, [&](int w, HttpClient&) -> Error {
    std::vector<bool> seen(kWrites, false);
    int got = 0;
    while (got < kWrites) {
      std::string msg, error;
      if (!subs[w]->Read(&msg, kTimeout, &error)) {
        return "subscriber " + to_string(w) + " got " + to_string(got) + "/" + to_string(kWrites) +
               " inserts: " + error;
      }
      for (int k = 0; k < kWrites; ++k) {
        if (!seen[k] && IsInsertOf(msg, i * 10000 + k)) {
          seen[k] = true;
          ++got;
        }
      }
    }
    return CloseWs(*subs[w]);
  });
}

// ---- subscriber_scale ----

struct ScaleConn {
  WsClient ws;
  int subs = 0;
  int events = 0;
};

// Waits until every connection received one insert event per subscription it holds.
Error AwaitDelivery(std::vector<std::unique_ptr<ScaleConn>>& conns, int64_t want_total,
                    int64_t* delivered) {
  for (auto& c : conns) c->events = 0;
  *delivered = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::vector<pollfd> fds;
  while (*delivered < want_total) {
    fds.clear();
    for (auto& c : conns) {
      if (c->events < c->subs) fds.push_back({c->ws.fd(), POLLIN, 0});
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return "only " + to_string(*delivered) + " of " + to_string(want_total) +
             " subscriptions got the probe insert within 30 s";
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) <= 0) continue;
    for (auto& c : conns) {
      if (c->events >= c->subs) continue;
      std::vector<std::string> msgs;
      std::string error;
      if (!c->ws.ReadAvailable(&msgs, &error) && msgs.empty()) return error;
      for (const auto& m : msgs) {
        if (!m.starts_with(R"({"type":"change")")) return "unexpected message: " + m.substr(0, 200);
        ++c->events;
        ++*delivered;
      }
    }
  }
  return {};
}

Error SubscriberScale(Context& ctx, const std::string& t, int64_t) {
  const int max = ctx.s.max_subscribers, per = ctx.s.subs_per_connection;
  std::vector<int> tiers;
  for (int tier : {10, 100, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000}) {
    if (tier <= max) tiers.push_back(tier);
  }
  if (tiers.empty() || tiers.back() != max) tiers.push_back(max);
  std::vector<std::unique_ptr<ScaleConn>> conns;
  int current = 0;
  const std::string sql = "SELECT * FROM " + t;
  Error result;
  for (int tier : tiers) {
    const auto t0 = Clock::now();
    while (current < tier) {
      std::string error;
      if (conns.empty() || conns.back()->subs == per) {
        conns.push_back(std::make_unique<ScaleConn>());
        if (!conns.back()->ws.Connect(ctx.s.endpoint, ctx.http.token(), kTimeout, &error)) {
          result = "connection " + to_string(conns.size()) + ": " + error;
          break;
        }
      }
      int64_t rows = 0;
      if (!Subscribe(conns.back()->ws, "scale_" + to_string(current), sql, false, kTimeout, &rows,
                     &error)) {
        result = "subscription " + to_string(current + 1) + ": " + error;
        break;
      }
      ++conns.back()->subs;
      ++current;
    }
    if (!result.empty()) break;
    const double connect_ms = MsSince(t0);
    const auto t1 = Clock::now();
    result = ExpectAffected(ctx.http,
                            "INSERT INTO " + t + " (id, payload) VALUES (" +
                                to_string(1000000 + tier) + ", 'tier_" + to_string(tier) + "')",
                            1);
    int64_t delivered = 0;
    if (result.empty()) result = AwaitDelivery(conns, current, &delivered);
    const double deliver_ms = MsSince(t1);
    ctx.details.emplace_back(
        "tier " + to_string(tier),
        to_string(conns.size()) + " connections, subscribe " + Fixed(connect_ms, 1) +
            " ms, probe delivered " + to_string(delivered) + "/" + to_string(current) + " in " +
            Fixed(deliver_ms, 1) + " ms");
    std::printf("    tier %6d: %4zu connections, subscribe %9.1f ms, delivered %6lld/%-6d in %8.1f ms\n",
                tier, conns.size(), connect_ms, static_cast<long long>(delivered), current,
                deliver_ms);
    std::fflush(stdout);
    if (!result.empty()) break;
  }
  for (auto& c : conns) {
    std::string error;
    if (!c->ws.Close(milliseconds(2000), &error) && result.empty()) result = "close: " + error;
  }
  return result;
}

}  // namespace

std::vector<Workload> LiveWorkloads() {
  std::vector<Workload> all;
  all.push_back(OnUserTable(
      "subscribe_initial_load", "Subscribe to a 1000-row user table and receive the full initial data batch",
      "sub_init_load", "id INT PRIMARY KEY, name TEXT, value INT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, name, value", ctx.s.initial_load_rows, 50, [](int64_t id) {
          return "(" + to_string(id) + ", 'row_" + to_string(id) + "', " + to_string(id * 10) + ")";
        });
      },
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        WsClient ws;
        PARITY_TRY(OpenWithSnapshot(ctx, ws, "init_load_" + to_string(i), "SELECT * FROM " + t,
                                    ctx.s.initial_load_rows));
        return CloseWs(ws);
      }));
  all.push_back(OnUserTable(
      "subscribe_change_latency", "Latency from INSERT to subscriber receiving the change notification",
      "change_latency", "id INT PRIMARY KEY, ts TEXT", nullptr,
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        WsClient ws;
        PARITY_TRY(OpenWithSnapshot(ctx, ws, "latency_" + to_string(i), "SELECT * FROM " + t, i));
        const int64_t id = 500000 + i;
        const auto t0 = Clock::now();
        PARITY_TRY(ExpectAffected(ctx.http,
                                  "INSERT INTO " + t + " (id, ts) VALUES (" + to_string(id) +
                                      ", 'ts_" + to_string(i) + "')",
                                  1));
        for (;;) {
          std::string msg, error;
          if (!ws.Read(&msg, milliseconds(5000), &error)) {
            return "change notification not received: " + error;
          }
          if (IsInsertOf(msg, id)) break;
        }
        ctx.sample_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0)
                            .count();
        return CloseWs(ws);
      }));
  all.push_back(OnUserTable(
      "reconnect_subscribe", "Disconnect and re-subscribe to a user table (reconnection overhead)",
      "reconnect_sub", "id INT PRIMARY KEY, data TEXT",
      [](Context& ctx, const std::string& t) {
        return Seed(ctx.http, t, "id, data", 100, 100, [](int64_t i) {
          return "(" + to_string(i) + ", 'initial_" + to_string(i) + "')";
        });
      },
      [](Context& ctx, const std::string& t, int64_t i) -> Error {
        for (const char* round : {"reconn_a_", "reconn_b_"}) {
          WsClient ws;
          PARITY_TRY(OpenWithSnapshot(ctx, ws, round + to_string(i), "SELECT * FROM " + t, 100));
          PARITY_TRY(CloseWs(ws));
        }
        return {};
      }));
  {
    auto w = OnUserTable("concurrent_subscribers",
                         "N WebSocket live-query subscribers receiving changes from concurrent writes",
                         "sub_bench", "id INT PRIMARY KEY, payload TEXT", nullptr,
                         ConcurrentSubscribers);
    w.category = "Load";
    all.push_back(std::move(w));
  }
  {
    auto w = OnUserTable("subscriber_scale",
                         "Progressive live-query subscriber scale and insert fan-out verification",
                         "scale_sub", "id INT PRIMARY KEY, payload TEXT", nullptr, SubscriberScale);
    w.category = "Scale";
    w.single_run = true;
    all.push_back(std::move(w));
  }
  return all;
}

}  // namespace kalam::bench::parity
