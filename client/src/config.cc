// ~/.kalam/config.toml and credentials.toml: parsing, defaults, first-run creation, and the
// 0600 credentials store. toml++ exceptions are caught here and nowhere else.
#include "kalam/config.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <toml++/toml.h>

namespace kalam::client {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status ReadString(const toml::node& node, const std::string& key, std::string* out) {
  auto v = node.value<std::string>();
  if (!node.is_string() || !v) return Invalid("config: '" + key + "' must be a string");
  *out = *v;
  return Status::OK();
}

Status ReadBool(const toml::node& node, const std::string& key, bool* out) {
  if (!node.is_boolean()) return Invalid("config: '" + key + "' must be true or false");
  *out = *node.value<bool>();
  return Status::OK();
}

Status ReadInt(const toml::node& node, const std::string& key, int64_t* out) {
  if (!node.is_integer()) return Invalid("config: '" + key + "' must be an integer");
  *out = *node.value<int64_t>();
  return Status::OK();
}

Status ReadConnection(const toml::table& t, ConnectionConfig* c) {
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    const std::string full = "connection." + key;
    if (key == "url") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadString(node, full, &c->url));
    } else if (key == "user") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadString(node, full, &c->user));
    } else if (key == "namespace") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadString(node, full, &c->namespace_id));
    } else if (key == "timeout_secs") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadInt(node, full, &c->timeout_secs));
      if (c->timeout_secs <= 0) return Invalid("config: 'connection.timeout_secs' must be > 0");
    } else if (key == "save_credentials") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadBool(node, full, &c->save_credentials));
    } else {
      return Invalid("config: unknown key '" + full +
                     "' (known: url, user, namespace, timeout_secs, save_credentials)");
    }
  }
  return Status::OK();
}

Status ReadOutput(const toml::table& t, OutputConfig* o) {
  for (const auto& [k, node] : t) {
    const std::string key(k.str());
    const std::string full = "output." + key;
    if (key == "format") {
      std::string s;
      KALAM_CLIENT_RETURN_IF_ERROR(ReadString(node, full, &s));
      auto f = ParseOutputFormat(s);
      if (!f.ok()) return Invalid("config: 'output.format': " + f.status().message());
      o->format = *f;
    } else if (key == "color") {
      std::string s;
      if (node.is_boolean()) {
        s = *node.value<bool>() ? "true" : "false";
      } else {
        KALAM_CLIENT_RETURN_IF_ERROR(ReadString(node, full, &s));
      }
      auto m = ParseColorMode(s);
      if (!m.ok()) return Invalid("config: 'output.color': " + m.status().message());
      o->color = *m;
    } else if (key == "timing") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadBool(node, full, &o->timing));
    } else if (key == "pager") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadBool(node, full, &o->pager));
    } else if (key == "null_text") {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadString(node, full, &o->null_text));
    } else {
      return Invalid("config: unknown key '" + full +
                     "' (known: format, color, timing, pager, null_text)");
    }
  }
  return Status::OK();
}

Result<toml::table> ParseToml(std::string_view text) {
  try {
    return toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::string msg(e.description());
    return Invalid("config: TOML syntax error at line " +
                   std::to_string(e.source().begin.line) + ": " + msg);
  }
}

Result<std::string> ReadFile(const std::string& path, bool* missing) {
  *missing = false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      *missing = true;
      return std::string();
    }
    return Status(StatusCode::kIoError, Errno("cannot read", path));
  }
  std::string data;
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string err = Errno("cannot read", path);
      ::close(fd);
      return Status(StatusCode::kIoError, err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return Status::OK();
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) return Status::OK();
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    KALAM_CLIENT_RETURN_IF_ERROR(MakeDirs(dir.substr(0, slash)));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status(StatusCode::kIoError, Errno("cannot create directory", dir));
  }
  return Status::OK();
}

std::string DirName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// Writes `data` to `path` through a temporary file created with `mode`, then renames it.
Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  KALAM_CLIENT_RETURN_IF_ERROR(MakeDirs(DirName(path)));
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status(StatusCode::kIoError, Errno("cannot create", tmp));
  ::fchmod(fd, mode);  // the umask may have narrowed or (for 0600) must not widen it
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = Errno("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status(StatusCode::kIoError, err);
    }
    off += static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = Errno("cannot rename to", path);
    ::unlink(tmp.c_str());
    return Status(StatusCode::kIoError, err);
  }
  return Status::OK();
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view text) {
  const std::string s = Lower(text);
  if (s == "table") return OutputFormat::kTable;
  if (s == "json") return OutputFormat::kJson;
  if (s == "csv") return OutputFormat::kCsv;
  return Invalid("unknown format '" + std::string(text) + "' (table, json or csv)");
}

std::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable: return "table";
    case OutputFormat::kJson: return "json";
    case OutputFormat::kCsv: return "csv";
  }
  return "table";
}

Result<ColorMode> ParseColorMode(std::string_view text) {
  const std::string s = Lower(text);
  if (s == "auto") return ColorMode::kAuto;
  if (s == "true" || s == "always" || s == "yes" || s == "on") return ColorMode::kAlways;
  if (s == "false" || s == "never" || s == "no" || s == "off") return ColorMode::kNever;
  return Invalid("unknown color mode '" + std::string(text) + "' (auto, true or false)");
}

Result<KalamConfig> ParseConfig(std::string_view toml_text) {
  KALAM_CLIENT_ASSIGN_OR_RETURN(toml::table root, ParseToml(toml_text));
  KalamConfig config;
  for (const auto& [k, node] : root) {
    const std::string key(k.str());
    const toml::table* section = node.as_table();
    if (key == "connection" && section) {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadConnection(*section, &config.connection));
    } else if (key == "output" && section) {
      KALAM_CLIENT_RETURN_IF_ERROR(ReadOutput(*section, &config.output));
    } else {
      return Invalid("config: unknown section or key '" + key +
                     "' (expected [connection] and [output])");
    }
  }
  return config;
}

std::string DefaultConfigText() {
  return R"(# kalam CLI settings (created on first run). Command-line flags override them.

[connection]
# Server URL.
url = "http://127.0.0.1:8080"
# User to log in as when -u is not given ("" = root).
user = ""
# Namespace for unqualified table names ("" = the server's "default").
namespace = ""
# Request timeout in seconds.
timeout_secs = 30
# Save the tokens (never the password) of a password login in credentials.toml (mode 0600).
save_credentials = true

[output]
# table | json | csv
format = "table"
# auto | true | false
color = "auto"
# Print "Took: X.XXX ms" after each statement in the interactive shell.
timing = true
# Send results taller than the terminal through $PAGER (interactive shell only).
pager = true
# How NULL is shown in tables.
null_text = "NULL"
)";
}

std::string KalamHomeDir() {
  const char* home = std::getenv("HOME");
  std::string base;
  if (home && *home) {
    base = home;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) {
    base = pw->pw_dir;
  } else {
    base = ".";
  }
  return base + "/.kalam";
}

Result<KalamConfig> LoadOrCreateConfig(const std::string& path) {
  bool missing = false;
  KALAM_CLIENT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, &missing));
  if (missing) {
    KALAM_CLIENT_RETURN_IF_ERROR(WriteFileAtomic(path, DefaultConfigText(), 0644));
    return KalamConfig{};
  }
  auto parsed = ParseConfig(text);
  if (!parsed.ok()) {
    return Status(parsed.status().code(), path + ": " + parsed.status().message());
  }
  return parsed;
}

Result<std::vector<StoredCredentials>> LoadCredentials(const std::string& path) {
  bool missing = false;
  KALAM_CLIENT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, &missing));
  std::vector<StoredCredentials> out;
  if (missing) return out;
  KALAM_CLIENT_ASSIGN_OR_RETURN(toml::table root, ParseToml(text));
  const toml::array* list = root["instance"].as_array();
  if (!list) return out;
  for (const auto& node : *list) {
    const toml::table* t = node.as_table();
    if (!t) continue;
    StoredCredentials c;
    c.url = (*t)["url"].value_or(std::string());
    c.user = (*t)["user"].value_or(std::string());
    c.access_token = (*t)["access_token"].value_or(std::string());
    c.refresh_token = (*t)["refresh_token"].value_or(std::string());
    c.access_expires_at = (*t)["access_expires_at"].value_or(int64_t{0});
    c.refresh_expires_at = (*t)["refresh_expires_at"].value_or(int64_t{0});
    if (!c.url.empty()) out.push_back(std::move(c));
  }
  return out;
}

Status SaveCredentials(const std::string& path, const std::vector<StoredCredentials>& entries) {
  toml::array list;
  for (const auto& c : entries) {
    toml::table t;
    t.insert("url", c.url);
    t.insert("user", c.user);
    t.insert("access_token", c.access_token);
    t.insert("refresh_token", c.refresh_token);
    t.insert("access_expires_at", c.access_expires_at);
    t.insert("refresh_expires_at", c.refresh_expires_at);
    list.push_back(std::move(t));
  }
  toml::table root;
  root.insert("instance", std::move(list));
  std::ostringstream ss;
  ss << "# KalamDB tokens saved by kalam (never passwords). Keep this file private (mode 0600).\n"
     << toml::toml_formatter(root) << "\n";
  return WriteFileAtomic(path, ss.str(), 0600);
}

std::optional<StoredCredentials> FindCredentials(const std::vector<StoredCredentials>& entries,
                                                 std::string_view url, std::string_view user) {
  for (const auto& c : entries) {
    if (c.url == url && (user.empty() || c.user == user)) return c;
  }
  return std::nullopt;
}

void UpsertCredentials(std::vector<StoredCredentials>* entries, StoredCredentials entry) {
  for (auto& c : *entries) {
    if (c.url == entry.url && c.user == entry.user) {
      c = std::move(entry);
      return;
    }
  }
  entries->push_back(std::move(entry));
}

}  // namespace kalam::client
