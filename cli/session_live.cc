// Session live streaming: SUBSCRIBE TO / \subscribe print each event with its time and an
// INSERT/UPDATE/DELETE marker until Ctrl+C; \pause and \continue typed meanwhile hold the output.
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "kalam/format.h"
#include "session.h"
#include "terminal.h"

namespace kalam::cli {

using client::LiveEvent;
using client::LiveEventType;
using client::LiveRow;
using client::Status;
using client::StatusCode;
using client::TypeKind;
using client::Value;

namespace {

// Local wall-clock time "HH:MM:SS.mmm".
std::string ClockNow() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count()));
  return buf;
}

// A cell as SQL-ish text: strings and dates quoted, numbers and booleans bare.
std::string Literal(const Value& v) {
  if (v.is_null()) return "NULL";
  const TypeKind t = v.type();
  const bool quoted = v.is_string() || t == TypeKind::kTimestamp || t == TypeKind::kDateTime ||
                      t == TypeKind::kDate || t == TypeKind::kTime;
  if (!quoted) return v.ToString();
  std::string out = "'";
  for (char c : v.ToString()) {
    if (c == '\'') out.push_back('\'');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "'";
}

std::string Fields(const LiveRow& row) {
  std::string out;
  for (const auto& f : row.fields()) {
    if (f.name == "_deleted") continue;
    if (!out.empty()) out += ", ";
    out += f.name + "=" + Literal(f.value);
  }
  return out;
}

std::string RowsJson(const std::vector<LiveRow>& rows) {
  std::string out = "[";
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i) out += ",";
    out += "{";
    const auto& fields = rows[i].fields();
    for (size_t f = 0; f < fields.size(); ++f) {
      if (f) out += ",";
      out += client::JsonQuote(fields[f].name) + ":" + fields[f].value.ToJson();
    }
    out += "}";
  }
  return out + "]";
}

// Reads whatever the user typed (the terminal is in line mode while streaming); returns the
// complete lines.
std::vector<std::string> PollInputLines(std::string* partial) {
  std::vector<std::string> lines;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  while (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
    char buf[256];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) break;
    partial->append(buf, static_cast<size_t>(n));
  }
  size_t nl;
  while ((nl = partial->find('\n')) != std::string::npos) {
    std::string line = partial->substr(0, nl);
    partial->erase(0, nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t b = 0;
    while (b < line.size() && line[b] == ' ') ++b;
    lines.push_back(line.substr(b));
  }
  return lines;
}

}  // namespace

bool Session::StreamSubscription(const client::SubscribeRequest& request) {
  const bool json = settings_.format == client::OutputFormat::kJson;
  const bool color = settings_.color_out;
  auto live = client_->OpenLive(client::LiveOptions{});
  if (Status st = live->Subscribe(request); !st.ok()) {
    PrintError(st, 0);
    return false;
  }
  ClearInterrupt();
  // Announced once the server acknowledged it: from then on no change is missed.
  const std::string announcement =
      "Subscribed to " + request.sql + " (id '" + request.id + "'). Ctrl+C stops" +
      (settings_.interactive ? "; \\pause and \\continue hold and resume the output." : ".");
  size_t changes = 0;
  size_t initial_rows = 0;
  bool paused = false;
  bool ok = true;
  std::string typed;
  auto marker = [&](LiveEventType t) {
    std::string name(client::LiveEventTypeName(t));
    name.resize(std::max<size_t>(name.size(), 7), ' ');
    switch (t) {
      case LiveEventType::kInsert: return Green(name, color);
      case LiveEventType::kUpdate: return Yellow(name, color);
      case LiveEventType::kDelete:
      case LiveEventType::kError: return Red(name, color);
      default: return Cyan(name, color);
    }
  };
  auto print_event = [&](const LiveEvent& ev) {
    const std::string time = ClockNow();
    if (ev.type == LiveEventType::kSubscribed) Info(announcement);
    if (json) {
      std::string line = "{\"time\":\"" + time + "\",\"event\":\"" +
                         std::string(client::LiveEventTypeName(ev.type)) +
                         "\",\"subscription_id\":" + client::JsonQuote(ev.subscription_id);
      if (ev.type == LiveEventType::kSubscribed) {
        line += ",\"columns\":[";
        for (size_t i = 0; i < ev.schema.size(); ++i) {
          line += (i ? "," : "") + client::JsonQuote(ev.schema[i].name);
        }
        line += "]";
      }
      if (!ev.rows.empty()) line += ",\"rows\":" + RowsJson(ev.rows);
      if (!ev.old_rows.empty()) line += ",\"old_rows\":" + RowsJson(ev.old_rows);
      if (!ev.error.ok()) {
        line += ",\"code\":" + client::JsonQuote(ev.error.server_code()) +
                ",\"message\":" + client::JsonQuote(ev.error.message());
      }
      Out(line + "}\n", false);
      return;
    }
    const std::string stamp = Dim("[" + time + "]", color) + " ";
    std::string out;
    switch (ev.type) {
      case LiveEventType::kSubscribed:
        return;  // announced
      case LiveEventType::kInitialRows:
        for (const auto& r : ev.rows) out += stamp + marker(ev.type) + " " + Fields(r) + "\n";
        if (ev.ready && !ev.catch_up) {
          out += stamp + Dim("-- " + std::to_string(initial_rows + ev.rows.size()) +
                                 " initial row(s); waiting for changes",
                             color) +
                 "\n";
        }
        break;
      case LiveEventType::kInsert:
        for (const auto& r : ev.rows) out += stamp + marker(ev.type) + " " + Fields(r) + "\n";
        break;
      case LiveEventType::kUpdate:
        for (size_t i = 0; i < ev.rows.size(); ++i) {
          out += stamp + marker(ev.type) + " " + Fields(ev.rows[i]);
          if (i < ev.old_rows.size()) out += "  (was: " + Fields(ev.old_rows[i]) + ")";
          out += "\n";
        }
        break;
      case LiveEventType::kDelete:
        for (const auto& r : ev.old_rows) out += stamp + marker(ev.type) + " " + Fields(r) + "\n";
        break;
      case LiveEventType::kError:
        out += stamp + marker(ev.type) + " " +
               (ev.error.server_code().empty() ? "" : "[" + ev.error.server_code() + "] ") +
               ev.error.message() + "\n";
        break;
      case LiveEventType::kDisconnected:
        out += stamp + Dim("-- connection lost (" + ev.error.message() + "); reconnecting", color) +
               "\n";
        break;
      case LiveEventType::kReconnected:
        out += stamp + Dim("-- reconnected; resuming after the last change received", color) + "\n";
        break;
    }
    Out(out, false);
  };

  bool by_ctrl_c = false;
  while (true) {
    if (Interrupted()) {
      ClearInterrupt();
      by_ctrl_c = true;
      break;
    }
    if (settings_.interactive) {
      bool stop = false;
      for (const auto& cmd : PollInputLines(&typed)) {
        if (cmd == "\\pause") {
          paused = true;
          Info("Paused: changes are kept and printed at \\continue. Ctrl+C stops.");
        } else if (cmd == "\\continue") {
          paused = false;
          Info("Continuing.");
        } else if (cmd == "\\q" || cmd == "\\quit") {
          stop = true;
        } else if (!cmd.empty()) {
          Info("While streaming only \\pause, \\continue and \\q (or Ctrl+C) are understood.");
        }
      }
      if (stop) break;
    }
    if (paused) {
      ::usleep(100 * 1000);
      continue;
    }
    auto ev = live->Next(std::chrono::milliseconds(100));
    if (!ev.ok()) {
      if (ev.status().code() == StatusCode::kTimeout) continue;
      break;  // closed
    }
    print_event(*ev);
    if (ev->type == LiveEventType::kInitialRows) initial_rows += ev->rows.size();
    if (ev->type == LiveEventType::kInsert || ev->type == LiveEventType::kUpdate ||
        ev->type == LiveEventType::kDelete) {
      ++changes;
    }
    if (ev->type == LiveEventType::kError) {
      ++failures_;
      ok = false;
      break;
    }
  }
  live->Close();
  if (by_ctrl_c && IsTty(STDERR_FILENO)) std::fputs("\n", stderr);  // after the echoed "^C"
  Info("Subscription stopped (" + std::to_string(changes) + " change(s)).");
  return ok;
}

}  // namespace kalam::cli
