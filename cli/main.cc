// `kalam`: the KalamDB command-line client — flags and config, connection, then the interactive
// shell or a one-shot run of -c / -f / stdin.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <variant>

#include "cli_args.h"
#include "connect.h"
#include "kalam/config.h"
#include "session.h"
#include "shell.h"
#include "terminal.h"

namespace kalam::cli {
namespace {

// Feeds `text` line by line; returns false when the session asked to stop.
bool FeedText(Session& session, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (!session.FeedLine(line, ++n)) return false;
  }
  return session.Finish();
}

int Run(int argc, char** argv) {
  auto parsed = ParseArgs(argc, argv);
  if (std::holds_alternative<int>(parsed)) return std::get<int>(parsed);
  const CliArgs& args = std::get<CliArgs>(parsed);
  InstallSignalHandlers();

  const std::string home = client::KalamHomeDir();
  const std::string config_path = args.config.value_or(home + "/config.toml");
  auto config = client::LoadOrCreateConfig(config_path);
  if (!config.ok() && config.status().code() == client::StatusCode::kIoError) {
    // An unwritable home must not stop the CLI: warn and use the defaults.
    std::fprintf(stderr, "Warning: %s; using default settings\n",
                 config.status().message().c_str());
    config = client::KalamConfig{};
  }
  if (!config.ok()) {
    std::fprintf(stderr, "Error: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  SessionSettings settings;
  settings.format = config->output.format;
  if (args.format) {
    auto f = client::ParseOutputFormat(*args.format);
    if (!f.ok()) {
      std::fprintf(stderr, "Error: --format: %s\n", f.status().message().c_str());
      return kExitUsage;
    }
    settings.format = *f;
  }
  settings.color_mode = config->output.color;
  if (args.color) {
    auto m = client::ParseColorMode(*args.color);
    if (!m.ok()) {
      std::fprintf(stderr, "Error: --color: %s\n", m.status().message().c_str());
      return kExitUsage;
    }
    settings.color_mode = *m;
  }
  const bool one_shot = args.command || args.file;
  settings.interactive = !one_shot && IsTty(STDIN_FILENO);
  settings.color_out = UseColor(settings.color_mode, STDOUT_FILENO);
  settings.color_err = UseColor(settings.color_mode, STDERR_FILENO);
  settings.timing = settings.interactive ? config->output.timing || args.timing : args.timing;
  settings.pager = settings.interactive && config->output.pager && !args.no_pager;
  settings.null_text = config->output.null_text;
  settings.config_path = config_path;
  settings.history_path = home + "/history";

  // Read the script before connecting, so a missing file fails fast.
  std::string script;
  if (args.file) {
    if (*args.file == "-") {
      std::ostringstream ss;
      ss << std::cin.rdbuf();
      script = ss.str();
      settings.source_name = "stdin";
    } else {
      std::ifstream in(*args.file, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "Error: cannot read %s\n", args.file->c_str());
        return kExitUsage;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      script = ss.str();
      settings.source_name = *args.file;
    }
  }

  ConnectRequest req;
  req.url = args.host.value_or(config->connection.url);
  req.user = args.user.value_or(config->connection.user);
  req.password = args.password;
  req.prompt_password = args.prompt_password;
  req.token = args.token;
  req.namespace_id = args.ns.value_or(config->connection.namespace_id);
  req.timeout = std::chrono::seconds(args.timeout_secs.value_or(
      static_cast<int>(config->connection.timeout_secs)));
  req.may_prompt = IsTty(STDIN_FILENO) && !(args.file && *args.file == "-");
  req.save_credentials = config->connection.save_credentials;
  req.credentials_path = home + "/credentials.toml";
  auto client = ConnectClient(req);
  if (!client.ok()) {
    std::fprintf(stderr, "Error: %s\n", DescribeConnectError(client.status(), req).c_str());
    return ExitCodeForConnectError(client.status());
  }

  const bool from_stdin = !one_shot && !settings.interactive;  // `kalam < script.sql`
  if (from_stdin) settings.source_name = "stdin";
  Session session(std::move(*client), req, settings);
  if (args.command) {
    FeedText(session, *args.command);
  } else if (args.file) {
    FeedText(session, script);
  } else if (settings.interactive) {
    return RunShell(session, settings.history_path);
  } else {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    FeedText(session, ss.str());
  }
  if (session.interrupted()) return kExitInterrupted;
  return session.failures() > 0 ? kExitStatementFailed : kExitOk;
}

}  // namespace
}  // namespace kalam::cli

int main(int argc, char** argv) { return kalam::cli::Run(argc, argv); }
