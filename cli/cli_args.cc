// Flag parsing with CLI11. CLI11 reports problems by exception; they are caught here and turned
// into exit codes.
#include "cli_args.h"

#include <CLI/CLI.hpp>

#include <string_view>
#include <vector>

namespace kalam::cli {

namespace {

constexpr const char* kVersion = "kalam 0.1.0 (KalamDB C++ CLI)";

constexpr const char* kFooter = R"(
Without -c or -f, kalam starts an interactive shell (statements end with ';', \help lists
the commands). Settings come from ~/.kalam/config.toml, created on first run; flags win.

Exit codes: 0 ok, 1 a statement failed, 2 usage or config error, 3 server unreachable,
4 authentication failed, 130 interrupted.

Examples:
  kalam -u root -p                                   # interactive shell, prompts for the password
  kalam -H http://db:8080 -u alice -p secret -c "SELECT * FROM chat.messages LIMIT 5"
  kalam -u root -p secret --csv -f report.sql > report.csv)";

}  // namespace

std::variant<CliArgs, int> ParseArgs(int argc, char** argv) {
  // `-h` is the host flag; on its own it still means help.
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == "-h" && (i + 1 == args.size() || (args[i + 1].size() > 1 && args[i + 1][0] == '-'))) {
      args[i] = "--help";
    }
  }
  CliArgs a;
  CLI::App app{"kalam: the KalamDB command-line client", "kalam"};
  app.set_help_flag("--help", "Show this help and exit");
  app.set_version_flag("--version", kVersion);
  app.footer(kFooter);
  std::string host, user, password, token, format, color, file, command, ns, config;
  int timeout = 0;
  bool json = false, csv = false;
  auto* o_host = app.add_option("-H,-h,--host", host, "Server URL (default from config: http://127.0.0.1:8080)");
  auto* o_user = app.add_option("-u,--user", user, "User to log in as (default from config, else root)");
  auto* o_password = app.add_option("-p,--password", password,
                                    "Password; -p alone prompts for it (also $KALAM_PASSWORD)")
                         ->expected(0, 1);
  auto* o_token = app.add_option("--token", token, "Access token (JWT) instead of a password");
  auto* o_json = app.add_flag("--json", json, "Print results as JSON lines");
  auto* o_csv = app.add_flag("--csv", csv, "Print results as CSV");
  auto* o_format = app.add_option("--format", format, "Output format: table, json or csv");
  auto* o_color = app.add_option("--color", color, "Colors: auto, true or false (default auto)");
  auto* o_file = app.add_option("-f,--file", file, "Run the statements of a SQL file ('-' = stdin) and exit");
  auto* o_command = app.add_option("-c,--command", command, "Run these statements and exit");
  auto* o_ns = app.add_option("--namespace", ns, "Namespace for unqualified table names");
  auto* o_config = app.add_option("--config", config, "Config file (default ~/.kalam/config.toml)");
  auto* o_timeout = app.add_option("--timeout", timeout, "Request timeout in seconds (default 30)");
  app.add_flag("--timing", a.timing, "Print 'Took: X.XXX ms' after each statement in scripts too");
  app.add_flag("--no-pager", a.no_pager, "Never page results");
  o_json->excludes(o_csv);
  o_json->excludes(o_format);
  o_csv->excludes(o_format);
  o_file->excludes(o_command);
  o_token->excludes(o_password);
  try {
    std::vector<std::string> rest(args.rbegin(), args.rend() - 1);  // CLI11 wants them reversed
    app.parse(rest);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  if (*o_host) a.host = host;
  if (*o_user) a.user = user;
  if (*o_password) {
    if (password.empty()) {
      a.prompt_password = true;
    } else {
      a.password = password;
    }
  }
  if (*o_token) a.token = token;
  if (json) a.format = "json";
  if (csv) a.format = "csv";
  if (*o_format) a.format = format;
  if (*o_color) a.color = color;
  if (*o_file) a.file = file;
  if (*o_command) a.command = command;
  if (*o_ns) a.ns = ns;
  if (*o_config) a.config = config;
  if (*o_timeout) {
    if (timeout <= 0) {
      std::fprintf(stderr, "--timeout must be a positive number of seconds\n");
      return kExitUsage;
    }
    a.timeout_secs = timeout;
  }
  return a;
}

}  // namespace kalam::cli
