// The user's KalamDB settings under ~/.kalam: config.toml (where to connect, how to show
// results) and credentials.toml (saved tokens, mode 0600). Shared by the `kalam` CLI and any
// application that wants the same defaults. Functions are thread-safe; files are not locked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kalam/status.h"

namespace kalam::client {

enum class OutputFormat { kTable, kJson, kCsv };
enum class ColorMode { kAuto, kAlways, kNever };

// "table" | "json" | "csv" → format; kInvalidArgument otherwise.
Result<OutputFormat> ParseOutputFormat(std::string_view text);
std::string_view OutputFormatName(OutputFormat format);
// "auto" | "true" | "false" (also "always"/"never", "yes"/"no", "on"/"off") → mode.
Result<ColorMode> ParseColorMode(std::string_view text);

// [connection] of config.toml.
struct ConnectionConfig {
  // Server URL. Default "http://127.0.0.1:8080".
  std::string url = "http://127.0.0.1:8080";
  // User to log in as when none is given on the command line. Default "" (then "root").
  std::string user;
  // Namespace for unqualified table names. Default "" (the server's "default").
  std::string namespace_id;
  // Request timeout in seconds. Default 30.
  int64_t timeout_secs = 30;
  // Save the tokens of a password login to credentials.toml for later runs. Default true.
  bool save_credentials = true;
};

// [output] of config.toml.
struct OutputConfig {
  OutputFormat format = OutputFormat::kTable;  // key `format`, default "table"
  ColorMode color = ColorMode::kAuto;          // key `color`, default "auto"
  // Print "Took: X.XXX ms" after each statement in the interactive shell. Default true.
  bool timing = true;
  // Send results taller than the terminal through $PAGER (interactive shell only). Default true.
  bool pager = true;
  // How NULL is shown in tables. Default "NULL".
  std::string null_text = "NULL";
};

struct KalamConfig {
  ConnectionConfig connection;
  OutputConfig output;
};

// Parses config.toml text. Unknown sections or keys and values of the wrong type fail with
// kInvalidArgument naming the key (and the line for TOML syntax errors).
Result<KalamConfig> ParseConfig(std::string_view toml_text);
// The commented file written on first run; parses to the defaults.
std::string DefaultConfigText();

// $HOME/.kalam (the passwd entry's home when $HOME is unset).
std::string KalamHomeDir();
// Reads `path`; when it does not exist, creates it (and its directory, mode 0700) with
// DefaultConfigText() and returns the defaults. kIoError / kInvalidArgument on failure.
Result<KalamConfig> LoadOrCreateConfig(const std::string& path);

// One saved login (tokens only — passwords are never stored).
struct StoredCredentials {
  std::string url;
  std::string user;
  std::string access_token;
  std::string refresh_token;
  int64_t access_expires_at = 0;   // seconds since the epoch
  int64_t refresh_expires_at = 0;
};

// Reads credentials.toml; a missing file is an empty list.
Result<std::vector<StoredCredentials>> LoadCredentials(const std::string& path);
// Writes the list atomically (temp file + rename) with mode 0600, whatever the umask.
Status SaveCredentials(const std::string& path, const std::vector<StoredCredentials>& entries);
// The entry for `url` (and `user` unless it is empty), or nothing.
std::optional<StoredCredentials> FindCredentials(const std::vector<StoredCredentials>& entries,
                                                 std::string_view url, std::string_view user);
// Replaces the entry with the same url and user, or appends it.
void UpsertCredentials(std::vector<StoredCredentials>* entries, StoredCredentials entry);

}  // namespace kalam::client
