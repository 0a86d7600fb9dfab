// Session backslash commands: \q \help \connect \config \health \stats \dt \d \format \timing
// \flush \pause \continue \subscribe \refresh.
#include <cstdio>
#include <sstream>

#include "kalam/format.h"
#include "session.h"
#include "terminal.h"

namespace kalam::cli {

using client::Status;
using client::StatusCode;

namespace {

std::vector<std::string> SplitWords(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// Text after the command name, trimmed, without a trailing ';'.
std::string Argument(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
  std::string rest = line.substr(i);
  size_t b = 0, e = rest.size();
  while (b < e && std::isspace(static_cast<unsigned char>(rest[b]))) ++b;
  while (e > b && (std::isspace(static_cast<unsigned char>(rest[e - 1])) || rest[e - 1] == ';')) --e;
  return rest.substr(b, e - b);
}

constexpr const char* kHelp = R"(Commands:
  \q, \quit               Leave the shell (also: exit, quit, Ctrl+D)
  \help                   This help
  \connect URL [USER]     Connect to another server (asks for the password)
  \config                 Show the settings in use and where they come from
  \health                 Server health (GET /health; loopback clients only)
  \stats                  Server statistics (system.stats; dba and system roles)
  \dt [NAMESPACE]         List tables (SHOW TABLES)
  \d TABLE                Describe a table's columns (DESCRIBE TABLE)
  \format table|json|csv  Choose how results are printed
  \timing [on|off]        Show or hide "Took: X.XXX ms" after each statement
  \flush [TABLE]          Flush hot rows to storage (STORAGE FLUSH TABLE / FLUSH ALL TABLES)
  \subscribe SELECT …     Stream live changes of a query (like SUBSCRIBE TO)
  \pause, \continue       While a subscription streams: hold the output / print and go on
  \refresh                Reload table and column names for TAB completion

SQL statements end with ';' and may span lines. SUBSCRIBE TO ns.table [WHERE …] streams
changes with time and INSERT/UPDATE/DELETE markers until Ctrl+C. Ctrl+C also cancels a running
statement or the line being typed. BEGIN … COMMIT blocks are sent to the server together.
)";

}  // namespace

void Session::PrintHelp() { Out(kHelp, true); }

void Session::PrintConfig() {
  std::string out;
  auto line = [&](const std::string& k, const std::string& v) { out += "  " + k + " = " + v + "\n"; };
  out += "Config file: " + settings_.config_path + "\n";
  out += "History:     " + settings_.history_path + "\n";
  out += "Connection:\n";
  line("url", client_->url());
  line("user", client_->user().empty() ? "(none)" : client_->user());
  line("role", client_->role().empty() ? "(unknown)" : client_->role());
  line("namespace", client_->current_namespace().empty() ? "default" : client_->current_namespace());
  line("timeout_secs", std::to_string(connect_.timeout.count()));
  line("save_credentials", connect_.save_credentials ? "true" : "false");
  out += "Output:\n";
  line("format", std::string(client::OutputFormatName(settings_.format)));
  line("color", settings_.color_mode == client::ColorMode::kAuto     ? "auto"
                : settings_.color_mode == client::ColorMode::kAlways ? "true"
                                                                     : "false");
  line("timing", settings_.timing ? "true" : "false");
  line("pager", settings_.pager ? "true" : "false");
  line("null_text", "\"" + settings_.null_text + "\"");
  Out(out, false);
}

bool Session::RunQueryCommand(const std::string& sql, size_t line) {
  return SendBatch(sql, line, 1);
}

bool Session::Reconnect(const std::vector<std::string>& args) {
  ConnectRequest req = connect_;
  if (!args.empty()) req.url = args[0];
  if (args.size() > 1) req.user = args[1];
  req.token.reset();
  req.password.reset();
  req.prompt_password = true;
  auto c = ConnectClient(req);
  if (!c.ok()) {
    PrintError(Status(c.status().code(), DescribeConnectError(c.status(), req),
                      c.status().server_code()),
               0);
    return false;
  }
  client_ = std::move(*c);
  connect_ = req;
  connect_.prompt_password = false;
  completer_.Invalidate();
  completer_.set_current_namespace(client_->current_namespace());
  Info("Connected to " + client_->url() + " as " + client_->user() + ".");
  return true;
}

bool Session::RunCommand(const std::string& line, size_t line_number) {
  const std::vector<std::string> words = SplitWords(line);
  std::string name = words.empty() ? std::string() : words[0];
  while (name.size() > 1 && name.back() == ';') name.pop_back();
  const std::string arg = Argument(line);
  const std::vector<std::string> args = SplitWords(arg);

  if (name == "\\q" || name == "\\quit") return false;
  if (name == "\\help" || name == "\\h" || name == "\\?") {
    PrintHelp();
  } else if (name == "\\connect" || name == "\\c") {
    Reconnect(args);
  } else if (name == "\\config") {
    PrintConfig();
  } else if (name == "\\health") {
    auto h = client_->Health();
    if (!h.ok()) {
      PrintError(h.status(), line_number);
    } else {
      client::QueryResult r;
      r.columns = {{"status", {}}, {"version", {}}, {"api_version", {}}, {"build_date", {}}};
      r.rows.push_back({client::Value::String(h->status), client::Value::String(h->version),
                        client::Value::String(h->api_version),
                        client::Value::String(h->build_date)});
      r.row_count = 1;
      client::SqlResponse resp;
      resp.results.push_back(std::move(r));
      PrintResults(resp);
    }
  } else if (name == "\\stats") {
    RunQueryCommand("SELECT metric_name, metric_value FROM system.stats", line_number);
  } else if (name == "\\dt" || (name == "\\d" && args.empty())) {
    RunQueryCommand(args.empty() ? "SHOW TABLES" : "SHOW TABLES IN " + args[0], line_number);
  } else if (name == "\\d") {
    RunQueryCommand("DESCRIBE TABLE " + args[0], line_number);
  } else if (name == "\\format") {
    if (args.empty()) {
      Info("Output format: " + std::string(client::OutputFormatName(settings_.format)));
    } else if (auto f = client::ParseOutputFormat(args[0]); f.ok()) {
      settings_.format = *f;
      Info("Output format: " + std::string(client::OutputFormatName(settings_.format)));
    } else {
      PrintError(f.status(), line_number);
    }
  } else if (name == "\\timing") {
    if (args.empty()) {
      settings_.timing = !settings_.timing;
    } else if (args[0] == "on" || args[0] == "true") {
      settings_.timing = true;
    } else if (args[0] == "off" || args[0] == "false") {
      settings_.timing = false;
    } else {
      PrintError(Status(StatusCode::kInvalidArgument, "Use \\timing on or \\timing off"),
                 line_number);
      return true;
    }
    Info(std::string("Timing is ") + (settings_.timing ? "on." : "off."));
  } else if (name == "\\flush") {
    RunQueryCommand(args.empty() ? "FLUSH ALL TABLES" : "STORAGE FLUSH TABLE " + args[0],
                    line_number);
  } else if (name == "\\pause" || name == "\\continue") {
    Info(name + " works while a subscription streams (SUBSCRIBE TO … or \\subscribe): type it "
                "and press Enter.");
  } else if (name == "\\subscribe") {
    if (arg.empty()) {
      PrintError(Status(StatusCode::kInvalidArgument,
                        "Usage: \\subscribe SELECT … FROM namespace.table [WHERE …]"),
                 line_number);
    } else {
      client::SubscribeRequest req;
      req.id = "cli-" + std::to_string(++subscription_counter_);
      req.sql = arg;
      StreamSubscription(req);
    }
  } else if (name == "\\refresh") {
    completer_.Invalidate();
    Info("Table and column names will be reloaded at the next TAB.");
  } else {
    PrintError(Status(StatusCode::kInvalidArgument,
                      "Unknown command '" + name + "'. Type \\help for the list."),
               line_number);
  }
  return true;
}

}  // namespace kalam::cli
