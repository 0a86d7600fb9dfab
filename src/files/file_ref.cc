// FileRef JSON, stored names and MIME sniffing.
#include "files/file_ref.h"

#include <cctype>

#include <boost/json.hpp>

#include "common/value_json.h"

namespace kalam::files {

namespace json = boost::json;

std::string FileRef::ToJson() const {
  std::string out = "{\"id\":";
  AppendJsonString(id, &out);
  out += ",\"sub\":";
  AppendJsonString(sub, &out);
  out += ",\"name\":";
  AppendJsonString(name, &out);
  out += ",\"size\":" + std::to_string(size) + ",\"mime\":";
  AppendJsonString(mime, &out);
  out += ",\"sha256\":";
  AppendJsonString(sha256, &out);
  out += "}";
  return out;
}

std::string SanitizeFileName(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) name = name.substr(0, dot);
  std::string out;
  for (char raw : name) {
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c == ' ' || c == '_' || c == '-') {
      if (!out.empty() && out.back() != '-') out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  if (out.size() > 50) {
    out.resize(50);
    while (!out.empty() && out.back() == '-') out.pop_back();
  }
  return out;
}

std::string FileExtension(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return "bin";
  std::string ext(name.substr(dot + 1));
  if (ext.size() > 10) return "bin";
  for (char& c : ext) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return "bin";
  }
  return ext;
}

std::string FileRef::StoredName() const {
  std::string base = SanitizeFileName(name);
  std::string out = id;
  if (!base.empty()) out += "-" + base;
  return out + "." + FileExtension(name);
}

std::optional<FileRef> ParseFileRef(std::string_view text) {
  if (text.empty() || text.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.as_object();
  auto str = [&o](const char* key) -> std::optional<std::string> {
    const json::value* f = o.if_contains(key);
    if (!f || !f->is_string()) return std::nullopt;
    return std::string(f->as_string());
  };
  FileRef r;
  auto id = str("id"), sub = str("sub"), name = str("name");
  if (!id || !sub || !name) return std::nullopt;
  r.id = *id;
  r.sub = *sub;
  r.name = *name;
  if (r.id.empty() || r.id.size() > 20) return std::nullopt;
  for (char c : r.id) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (!IsValidSub(r.sub)) return std::nullopt;
  if (const json::value* s = o.if_contains("size")) {
    if (s->is_uint64()) r.size = s->as_uint64();
    else if (s->is_int64() && s->as_int64() >= 0) r.size = static_cast<uint64_t>(s->as_int64());
  }
  if (auto m = str("mime")) r.mime = *m;
  if (auto h = str("sha256")) r.sha256 = *h;
  return r;
}

bool HasFileColumn(const catalog::TableDef& def) {
  for (const auto& c : def.columns) {
    if (c.type.kind == TypeKind::kFile) return true;
  }
  return false;
}

std::vector<FileRef> FileRefsOfRow(const catalog::TableDef& def, const std::vector<Value>& values) {
  std::vector<FileRef> out;
  for (size_t i = 0; i < def.columns.size() && i < values.size(); ++i) {
    if (def.columns[i].type.kind != TypeKind::kFile) continue;
    if (values[i].kind() != Value::Kind::kText) continue;
    if (auto ref = ParseFileRef(values[i].as_text())) out.push_back(std::move(*ref));
  }
  return out;
}

bool IsValidSub(std::string_view sub) {
  if (sub.size() != 5 || sub[0] != 'f') return false;
  for (size_t i = 1; i < 5; ++i) {
    if (sub[i] < '0' || sub[i] > '9') return false;
  }
  return true;
}

std::optional<std::string> StoredNameId(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  if (i == 0 || i > 20) return std::nullopt;
  std::string id(s.substr(0, i));
  size_t dot = s.rfind('.');
  if (dot == std::string_view::npos || dot < i) return std::nullopt;
  std::string_view middle = s.substr(i, dot - i);
  if (!middle.empty()) {
    if (middle[0] != '-' || middle.size() < 2) return std::nullopt;
    for (char c : middle.substr(1)) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return std::nullopt;
    }
  }
  std::string_view ext = s.substr(dot + 1);
  if (ext.empty() || ext.size() > 10) return std::nullopt;
  for (char c : ext) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return std::nullopt;
  }
  return id;
}

std::string SniffMime(std::string_view head, std::string_view name) {
  auto starts = [&head](std::string_view magic) {
    return head.size() >= magic.size() && head.substr(0, magic.size()) == magic;
  };
  if (starts("\x89PNG\r\n\x1a\n")) return "image/png";
  if (starts("\xff\xd8\xff")) return "image/jpeg";
  if (starts("GIF87a") || starts("GIF89a")) return "image/gif";
  if (starts("%PDF-")) return "application/pdf";
  if (starts(std::string_view("PK\x03\x04", 4))) return "application/zip";
  if (head.size() >= 12 && starts("RIFF") && head.substr(8, 4) == "WEBP") return "image/webp";
  static const std::pair<std::string_view, std::string_view> kByExt[] = {
      {"txt", "text/plain"},        {"csv", "text/csv"},          {"json", "application/json"},
      {"html", "text/html"},        {"htm", "text/html"},         {"xml", "application/xml"},
      {"png", "image/png"},         {"jpg", "image/jpeg"},        {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},         {"webp", "image/webp"},       {"svg", "image/svg+xml"},
      {"pdf", "application/pdf"},   {"zip", "application/zip"},   {"mp3", "audio/mpeg"},
      {"mp4", "video/mp4"},         {"wav", "audio/wav"},         {"md", "text/markdown"},
  };
  const std::string ext = FileExtension(name);
  for (const auto& [e, mime] : kByExt) {
    if (ext == e) return std::string(mime);
  }
  return "application/octet-stream";
}

}  // namespace kalam::files
