// Command-line flags of `kalam` (CLI11) and the exit codes the CLI uses.
#pragma once

#include <optional>
#include <string>
#include <variant>

namespace kalam::cli {

// Process exit codes.
enum ExitCode : int {
  kExitOk = 0,
  kExitStatementFailed = 1,  // a statement or command failed (non-interactive)
  kExitUsage = 2,            // bad flags, bad config, unreadable --file
  kExitConnection = 3,       // the server could not be reached
  kExitAuth = 4,             // authentication failed or no credentials
  kExitInterrupted = 130,    // Ctrl+C stopped a script
};

// What the user asked for on the command line. Unset optionals fall back to config.toml.
struct CliArgs {
  std::optional<std::string> host;      // -H/-h/--host URL
  std::optional<std::string> user;      // -u/--user
  std::optional<std::string> password;  // -p/--password VALUE
  bool prompt_password = false;         // -p without a value
  std::optional<std::string> token;     // --token JWT
  std::optional<std::string> format;    // --json, --csv, --format
  std::optional<std::string> color;     // --color=auto|true|false
  std::optional<std::string> file;      // -f/--file script.sql ("-" = stdin)
  std::optional<std::string> command;   // -c/--command "SQL"
  std::optional<std::string> ns;        // --namespace
  std::optional<std::string> config;    // --config PATH (default ~/.kalam/config.toml)
  std::optional<int> timeout_secs;      // --timeout
  bool timing = false;                  // --timing: "Took" lines also in scripts
  bool no_pager = false;                // --no-pager
};

// Parses argv. Returns the args, or the exit code to leave with after --help/--version (0) or a
// usage error (kExitUsage, message already printed). `-h` is --host; a bare `-h` (last argument
// or followed by another flag) means --help.
std::variant<CliArgs, int> ParseArgs(int argc, char** argv);

}  // namespace kalam::cli
