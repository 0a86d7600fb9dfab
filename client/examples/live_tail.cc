// Example: run a query, then follow a live query as JSON lines, reconnecting and resuming by
// itself when the connection drops. Shows the whole client API in one page.
//
//   kalam_client_example --url http://127.0.0.1:8080 --user root --password secret
//       [--query "SELECT count(*) FROM chat.messages"]
//       [--subscribe "SELECT * FROM chat.messages"] [--initial] [--max-events N]
//
// Each live event prints as one line: {"event":"INSERT","id":"tail","seq":"…","catch_up":false,
// "rows":[{…}],"old_rows":[{…}]}. SIGINT or SIGTERM stops it.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "kalam/client.h"
#include "kalam/format.h"
#include "kalam/live.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

std::string RowsJson(const std::vector<kalam::client::LiveRow>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ",";
    out += "{";
    const auto& fields = rows[i].fields();
    for (size_t f = 0; f < fields.size(); ++f) {
      if (f) out += ",";
      out += kalam::client::JsonQuote(fields[f].name) + ":" + fields[f].value.ToJson();
    }
    out += "}";
  }
  return out + "]";
}

int Usage() {
  std::fprintf(stderr,
               "usage: kalam_client_example --url URL --user USER --password PASS\n"
               "       [--query SQL] [--subscribe SQL] [--initial] [--max-events N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace kc = kalam::client;
  kc::ClientOptions options;
  std::string query, subscribe;
  bool initial = false;
  long max_events = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--url") options.url = value();
    else if (arg == "--user") options.user = value();
    else if (arg == "--password") options.password = value();
    else if (arg == "--query") query = value();
    else if (arg == "--subscribe") subscribe = value();
    else if (arg == "--initial") initial = true;
    else if (arg == "--max-events") max_events = std::atol(value().c_str());
    else return Usage();
  }
  if (options.user.empty()) return Usage();

  // 1. Connect: logs in and keeps the tokens fresh from now on.
  auto client = kc::Client::Connect(options);
  if (!client.ok()) {
    std::cerr << "connect: " << client.status().ToString() << "\n";
    return 1;
  }

  // 2. One-shot SQL with typed results.
  if (!query.empty()) {
    auto res = (*client)->Execute(query);
    if (!res.ok()) {
      std::cerr << "query: " << res.status().ToString() << "\n";
      return 1;
    }
    for (const auto& r : res->results) std::cout << kc::RenderTable(r);
    std::cout.flush();
  }
  if (subscribe.empty()) return 0;

  // 3. A live query, read with the pull API.
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  auto live = (*client)->OpenLive(kc::LiveOptions{});
  kc::SubscribeRequest req;
  req.id = "tail";
  req.sql = subscribe;
  req.initial_data = initial;
  if (auto st = live->Subscribe(req); !st.ok()) {
    std::cerr << "subscribe: " << st.ToString() << "\n";
    return 1;
  }
  long printed = 0;
  int exit_code = 0;
  while (!g_stop && (max_events < 0 || printed < max_events)) {
    auto ev = live->Next(std::chrono::milliseconds(200));
    if (!ev.ok()) {
      if (ev.status().code() == kc::StatusCode::kTimeout) continue;
      break;  // closed
    }
    std::string line = "{\"event\":\"" + std::string(kc::LiveEventTypeName(ev->type)) +
                       "\",\"id\":" + kc::JsonQuote(ev->subscription_id) + ",\"seq\":\"" +
                       std::to_string(ev->seq) + "\",\"catch_up\":" +
                       (ev->catch_up ? "true" : "false") + ",\"rows\":" + RowsJson(ev->rows) +
                       ",\"old_rows\":" + RowsJson(ev->old_rows);
    if (!ev->error.ok()) line += ",\"error\":" + kc::JsonQuote(ev->error.ToString());
    line += "}";
    std::cout << line << std::endl;
    if (ev->type == kc::LiveEventType::kInsert || ev->type == kc::LiveEventType::kUpdate ||
        ev->type == kc::LiveEventType::kDelete || ev->type == kc::LiveEventType::kInitialRows) {
      ++printed;
    }
    if (ev->type == kc::LiveEventType::kError) {
      exit_code = 1;
      break;
    }
  }
  live->Close();
  return exit_code;
}
