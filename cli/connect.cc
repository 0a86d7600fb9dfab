// Credential selection and login for the CLI.
#include "connect.h"

#include <cstdio>
#include <cstdlib>

#include "cli_args.h"
#include "kalam/config.h"
#include "terminal.h"

namespace kalam::cli {

using client::Client;
using client::ClientOptions;
using client::Status;
using client::StatusCode;

namespace {

ClientOptions BaseOptions(const ConnectRequest& r) {
  ClientOptions o;
  o.url = r.url;
  o.namespace_id = r.namespace_id;
  o.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(r.timeout);
  return o;
}

void SaveTokens(const ConnectRequest& r, const Client& c) {
  if (!r.save_credentials || r.credentials_path.empty()) return;
  auto list = client::LoadCredentials(r.credentials_path);
  std::vector<client::StoredCredentials> entries = list.ok() ? *list : std::vector<client::StoredCredentials>{};
  const client::Tokens t = c.tokens();
  client::StoredCredentials s;
  s.url = c.url();
  s.user = c.user();
  s.access_token = t.access_token;
  s.refresh_token = t.refresh_token;
  s.access_expires_at = t.access_expires_at;
  s.refresh_expires_at = t.refresh_expires_at;
  client::UpsertCredentials(&entries, std::move(s));
  if (Status st = client::SaveCredentials(r.credentials_path, entries); !st.ok()) {
    std::fprintf(stderr, "Warning: could not save credentials: %s\n", st.message().c_str());
  }
}

client::Result<std::unique_ptr<Client>> LoginWithPassword(const ConnectRequest& r,
                                                          const std::string& user,
                                                          const std::string& password) {
  ClientOptions o = BaseOptions(r);
  o.user = user;
  o.password = password;
  auto c = Client::Connect(o);
  if (c.ok()) SaveTokens(r, **c);
  return c;
}

}  // namespace

client::Result<std::unique_ptr<Client>> ConnectClient(const ConnectRequest& r) {
  if (r.token) {
    ClientOptions o = BaseOptions(r);
    o.access_token = *r.token;
    return Client::Connect(o);
  }
  const std::string user = r.user.empty() ? "root" : r.user;
  std::optional<std::string> password = r.password;
  if (!password) {
    if (const char* env = std::getenv("KALAM_PASSWORD"); env && !r.prompt_password) password = env;
  }
  if (!password && r.prompt_password) {
    password = ReadPassword("Password for " + user + ": ");
    if (!password) return Status(StatusCode::kUnauthenticated, "No password entered");
  }
  if (password) return LoginWithPassword(r, user, *password);

  // Saved tokens for this server (and user, when one was named).
  auto endpoint_url = [&]() -> std::string {
    ClientOptions probe = BaseOptions(r);
    // Normalize the URL the same way the client does, so lookups match what was saved.
    auto c = Client::Connect(probe);
    return c.ok() ? (*c)->url() : r.url;
  }();
  if (!r.credentials_path.empty()) {
    auto list = client::LoadCredentials(r.credentials_path);
    if (list.ok()) {
      if (auto saved = client::FindCredentials(*list, endpoint_url, r.user)) {
        ClientOptions o = BaseOptions(r);
        o.access_token = saved->access_token;
        o.refresh_token = saved->refresh_token;
        auto c = Client::Connect(o);
        if (c.ok()) {
          SaveTokens(r, **c);  // the tokens may have been renewed
          return c;
        }
        if (c.status().code() != StatusCode::kUnauthenticated) return c;
        // Stale tokens: fall through to a password prompt.
      }
    }
  }
  if (r.may_prompt) {
    password = ReadPassword("Password for " + user + ": ");
    if (!password) return Status(StatusCode::kUnauthenticated, "No password entered");
    return LoginWithPassword(r, user, *password);
  }
  return Status(StatusCode::kUnauthenticated,
                "No credentials for " + endpoint_url +
                    ": pass -p PASSWORD (or -p to be asked), --token, or set KALAM_PASSWORD");
}

std::string DescribeConnectError(const Status& st, const ConnectRequest& r) {
  switch (st.code()) {
    case StatusCode::kConnectionFailed:
    case StatusCode::kTimeout:
      return st.message() + ". Is the server running there? Check --host.";
    case StatusCode::kUnauthenticated:
      if (st.server_code().empty()) return st.message();
      return "Authentication failed for user '" + (r.user.empty() ? std::string("root") : r.user) +
             "': " + st.message();
    case StatusCode::kInvalidArgument:
      return st.message();
    default:
      return st.message().empty() ? st.ToString() : st.message();
  }
}

int ExitCodeForConnectError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kConnectionFailed:
    case StatusCode::kTimeout:
      return kExitConnection;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return kExitAuth;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitConnection;
  }
}

}  // namespace kalam::cli
