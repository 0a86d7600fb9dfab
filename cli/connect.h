// Connecting the CLI: choosing credentials (token, password, saved tokens, prompt), logging in,
// saving tokens, and turning connection failures into messages and exit codes.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "kalam/client.h"

namespace kalam::cli {

struct ConnectRequest {
  std::string url;
  std::string user;                     // "" = from saved credentials, else root
  std::optional<std::string> password;  // -p VALUE or $KALAM_PASSWORD
  bool prompt_password = false;         // -p without a value
  std::optional<std::string> token;     // --token
  std::string namespace_id;
  std::chrono::seconds timeout{30};
  bool may_prompt = false;              // stdin is a terminal
  bool save_credentials = true;
  std::string credentials_path;         // ~/.kalam/credentials.toml
};

// Connects with the first usable credentials, in this order: --token; a password (flag,
// $KALAM_PASSWORD, or prompted for -p); tokens saved for this URL (and user); a password prompt
// when stdin is a terminal. After a password login the tokens are saved (mode 0600) when
// `save_credentials`. Errors: the client's (kConnectionFailed, kUnauthenticated, …), or
// kUnauthenticated when no credentials are available.
client::Result<std::unique_ptr<client::Client>> ConnectClient(const ConnectRequest& request);

// A one-line explanation of a connection failure for people ("Cannot connect to … Is the server
// running?").
std::string DescribeConnectError(const client::Status& status, const ConnectRequest& request);

// The process exit code for a connection failure.
int ExitCodeForConnectError(const client::Status& status);

}  // namespace kalam::cli
