// LogLine: JSON formatting, parsing of both log formats, and the bounded tail read.
#include "common/log_line.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <boost/json.hpp>

#include "common/time_format.h"
#include "common/value_json.h"

namespace kalam {

namespace json = boost::json;

std::string FormatLogTimestamp(int64_t unix_micros) {
  const int64_t days = unix_micros >= 0 ? unix_micros / kMicrosPerDay
                                        : -((-unix_micros + kMicrosPerDay - 1) / kMicrosPerDay);
  const int64_t in_day = unix_micros - days * kMicrosPerDay;
  const CivilDate d = CivilFromDays(days);
  const int64_t secs = in_day / kMicrosPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02lld:%02lld:%02lld.%06lldZ",
                static_cast<long long>(d.year), d.month, d.day,
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60),
                static_cast<long long>(in_day % kMicrosPerSecond));
  return buf;
}

std::string FormatJsonLogLine(const LogLine& line) {
  std::string out = "{\"timestamp\":";
  AppendJsonString(line.timestamp, &out);
  out += ",\"level\":";
  AppendJsonString(line.level, &out);
  out += ",\"thread\":";
  AppendJsonString(line.thread, &out);
  out += ",\"target\":";
  AppendJsonString(line.target, &out);
  if (!line.file.empty()) {
    out += ",\"file\":";
    AppendJsonString(line.file, &out);
  }
  if (line.line > 0) out += ",\"line\":" + std::to_string(line.line);
  out += ",\"message\":";
  AppendJsonString(line.message, &out);
  if (!line.fields_json.empty()) {
    out += ",";
    out += line.fields_json;
  }
  out += "}";
  return out;
}

namespace {

std::optional<LogLine> ParseJsonLine(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  auto str = [&](std::string_view key) -> std::optional<std::string> {
    const json::value* f = o.if_contains(key);
    if (!f || !f->is_string()) return std::nullopt;
    return std::string(f->as_string());
  };
  LogLine l;
  auto ts = str("timestamp");
  auto level = str("level");
  auto message = str("message");
  if (!ts || !level || !message) return std::nullopt;
  l.timestamp = std::move(*ts);
  l.level = std::move(*level);
  l.message = std::move(*message);
  l.thread = str("thread").value_or("");
  l.target = str("target").value_or("");
  l.file = str("file").value_or("");
  if (const json::value* n = o.if_contains("line"); n && n->is_int64()) l.line = n->as_int64();
  return l;
}

// `2026-05-01T10:00:00.123Z [info] [tid 4242] message`.
std::optional<LogLine> ParseCompactLine(std::string_view text) {
  // The timestamp: digits at the fixed places of YYYY-MM-DDTHH:MM:SS, up to the first space.
  const size_t space = text.find(' ');
  if (space == std::string_view::npos || space < 19) return std::nullopt;
  const std::string_view ts = text.substr(0, space);
  if (ts[4] != '-' || ts[7] != '-' || ts[10] != 'T' || ts[13] != ':' || ts[16] != ':' ||
      !std::isdigit(static_cast<unsigned char>(ts[0]))) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(space + 1);
  auto bracket = [&](std::string_view* out) {
    if (rest.empty() || rest.front() != '[') return false;
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    *out = rest.substr(1, close - 1);
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return true;
  };
  std::string_view level, tid;
  if (!bracket(&level) || !bracket(&tid)) return std::nullopt;
  if (tid.substr(0, 4) != "tid ") return std::nullopt;
  // A colored console line carries ANSI escapes around the level; a file line does not.
  std::string clean;
  for (size_t i = 0; i < level.size(); ++i) {
    if (level[i] == '\x1b') {
      while (i < level.size() && level[i] != 'm') ++i;
      continue;
    }
    clean += level[i];
  }
  LogLine l;
  l.timestamp = std::string(ts);
  l.level = std::move(clean);
  l.thread = std::string(tid.substr(4));
  l.target = "kalamdb";
  l.message = std::string(rest);
  return l;
}

}  // namespace

std::optional<LogLine> ParseLogLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  if (text.front() == '{') return ParseJsonLine(text);
  return ParseCompactLine(text);
}

Result<std::vector<LogLine>> ReadLogTail(const std::string& path, size_t max_bytes) {
  std::vector<LogLine> lines;
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    if (errno == ENOENT) return lines;
    return Status::IoError("Cannot read log file '" + path + "': " + std::strerror(errno));
  }
  if (std::fseek(file.get(), 0, SEEK_END) != 0) {
    return Status::IoError("Cannot read log file '" + path + "': " + std::strerror(errno));
  }
  const long size = std::ftell(file.get());
  if (size < 0) return Status::IoError("Cannot read log file '" + path + "'");
  const size_t start = static_cast<size_t>(size) > max_bytes ? size - max_bytes : 0;
  if (std::fseek(file.get(), static_cast<long>(start), SEEK_SET) != 0) {
    return Status::IoError("Cannot read log file '" + path + "': " + std::strerror(errno));
  }
  std::string buf(static_cast<size_t>(size) - start, '\0');
  buf.resize(std::fread(buf.data(), 1, buf.size(), file.get()));
  if (std::ferror(file.get())) {
    return Status::IoError("Cannot read log file '" + path + "': " + std::strerror(errno));
  }
  std::string_view rest(buf);
  if (start > 0) {
    // The window starts inside a line unless the byte before it ends one: drop that part.
    const size_t nl = rest.find('\n');
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
  }
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    std::string_view text = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (auto l = ParseLogLine(text)) {
      lines.push_back(std::move(*l));
    } else if (!lines.empty() && !text.empty()) {
      lines.back().message += "\n";
      lines.back().message += text;
    }
  }
  return lines;
}

}  // namespace kalam
