// Storage path templates and object-key validation: the one place that decides which relative
// paths may reach a storage backend.
//
// Design notes:
//  * A key or template is checked segment by segment; "." and ".." segments, empty segments (which
//    covers a leading '/', a trailing '/' and "//"), backslashes, NUL and every control character
//    (U+0000..U+001F and DEL) are refused, so no key can name anything outside the base.
//  * A key must also be valid UTF-8: S3 keys are UTF-8 by definition and ListObjectsV2 returns them
//    in XML, which cannot carry anything else.
//  * '%' is allowed, literally. Nothing in KalamDB percent-decodes a key (the S3 client encodes
//    it as "%25"; the local store uses it as a file-name byte), so "%2e%2e" is just a five-byte
//    name and cannot become "..". Refusing it would reject legitimate user ids for no safety gain.
#include "filestore/path_template.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/utf8.h"

namespace kalam::filestore {
namespace {

constexpr size_t kMaxKeyBytes = 1024;

enum class Placeholder { kNamespace, kTableName, kUserId, kShard };

struct PlaceholderName {
  std::string_view name;
  Placeholder placeholder;
};

constexpr PlaceholderName kPlaceholders[] = {
    {"namespace", Placeholder::kNamespace}, {"tableName", Placeholder::kTableName},
    {"table_name", Placeholder::kTableName}, {"userId", Placeholder::kUserId},
    {"user_id", Placeholder::kUserId},       {"shard", Placeholder::kShard},
};

bool LookupPlaceholder(std::string_view name, Placeholder* out) {
  for (const auto& p : kPlaceholders) {
    if (p.name == name) {
      *out = p.placeholder;
      return true;
    }
  }
  return false;
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

// A printable rendering of `s` for error messages: control bytes become \xNN, and long input is
// cut so that a hostile 1 MB key does not become a 1 MB log line.
std::string Printable(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (IsControl(c) || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

// Checks the bytes every path-ish string shares: no backslash, NUL or control character, valid
// UTF-8. `what` names the string in the message ("key", "template", "value of {userId}").
Status CheckCharacters(std::string_view s, std::string_view what) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\\') {
      return Status::InvalidArgument(std::string(what) + " '" + Printable(s) +
                                     "' contains a backslash; use '/' between segments");
    }
    if (c == 0) {
      return Status::InvalidArgument(std::string(what) + " '" + Printable(s) +
                                     "' contains a NUL byte");
    }
    if (IsControl(c)) {
      return Status::InvalidArgument(std::string(what) + " '" + Printable(s) +
                                     "' contains a control character");
    }
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      return Status::InvalidArgument(std::string(what) + " '" + Printable(s) +
                                     "' is not valid UTF-8");
    }
    i += n;
  }
  return Status::OK();
}

// Checks the '/'-separated structure: relative, no empty, "." or ".." segment.
Status CheckSegments(std::string_view s, std::string_view what) {
  if (s.empty()) return Status::InvalidArgument(std::string(what) + " is empty");
  if (s.front() == '/') {
    return Status::InvalidArgument(std::string(what) + " '" + Printable(s) +
                                   "' is absolute; it must be relative to the storage base");
  }
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    size_t len = slash == std::string_view::npos ? std::string_view::npos : slash - start;
    std::string_view seg = s.substr(start, len);
    if (seg.empty()) {
      return Status::InvalidArgument(std::string(what) + " '" + Printable(s) +
                                     "' has an empty path segment");
    }
    if (seg == "." || seg == "..") {
      return Status::InvalidArgument(std::string(what) + " '" + Printable(s) + "' has a '" +
                                     std::string(seg) + "' segment");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::OK();
}

// One piece of a parsed template: literal text, or a placeholder.
struct Piece {
  bool is_placeholder = false;
  std::string_view text;  // literal text, or the placeholder name as written
  Placeholder placeholder = Placeholder::kNamespace;
};

// Splits a template into pieces, checking braces and placeholder names. `visit(piece)` is called
// for each piece in order and returns a Status.
template <typename Visit>
Status ParseTemplate(std::string_view tmpl, Visit&& visit) {
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c == '}') {
      return Status::InvalidArgument("storage path template '" + Printable(tmpl) +
                                     "' has an unmatched '}' at offset " + std::to_string(i));
    }
    if (c != '{') {
      size_t next = tmpl.find_first_of("{}", i);
      if (next == std::string_view::npos) next = tmpl.size();
      KALAM_RETURN_IF_ERROR(visit(Piece{false, tmpl.substr(i, next - i)}));
      i = next;
      continue;
    }
    size_t close = tmpl.find_first_of("{}", i + 1);
    if (close == std::string_view::npos || tmpl[close] != '}') {
      return Status::InvalidArgument("storage path template '" + Printable(tmpl) +
                                     "' has an unclosed '{' at offset " + std::to_string(i));
    }
    std::string_view name = tmpl.substr(i + 1, close - i - 1);
    Piece piece{true, name};
    if (!LookupPlaceholder(name, &piece.placeholder)) {
      return Status::InvalidArgument(
          "storage path template '" + Printable(tmpl) + "' has an unknown placeholder {" +
          Printable(name) +
          "}; use {namespace}, {tableName}, {userId} or {shard} "
          "(or the aliases {table_name}, {user_id})");
    }
    KALAM_RETURN_IF_ERROR(visit(piece));
    i = close + 1;
  }
  return Status::OK();
}

// Syntax and path checks shared by ValidateTemplate and ExpandTemplate. Sets *has_user_id.
Status CheckTemplate(std::string_view tmpl, bool* has_user_id) {
  *has_user_id = false;
  if (tmpl.empty()) return Status::InvalidArgument("storage path template is empty");
  KALAM_RETURN_IF_ERROR(CheckCharacters(tmpl, "storage path template"));
  KALAM_RETURN_IF_ERROR(ParseTemplate(tmpl, [&](const Piece& p) {
    if (p.is_placeholder && p.placeholder == Placeholder::kUserId) *has_user_id = true;
    return Status::OK();
  }));
  // Placeholder names hold no '/' and no placeholder is "." or "..", so the '/' structure of the
  // template as written is the structure of every expansion.
  return CheckSegments(tmpl, "storage path template");
}

Status CheckValue(std::string_view value, std::string_view placeholder) {
  std::string what = "value '" + Printable(value) + "' of {" + std::string(placeholder) + "}";
  if (value.empty()) return Status::InvalidArgument("value of {" + std::string(placeholder) +
                                                    "} is empty");
  if (value == "." || value == "..") {
    return Status::InvalidArgument(what + " is not allowed in a storage path");
  }
  if (value.find('/') != std::string_view::npos) {
    return Status::InvalidArgument(what + " contains '/'; a value must be one path segment");
  }
  return CheckCharacters(value, "value of {" + std::string(placeholder) + "}");
}

}  // namespace

Status ValidateTemplate(std::string_view tmpl, bool user_table) {
  bool has_user_id = false;
  KALAM_RETURN_IF_ERROR(CheckTemplate(tmpl, &has_user_id));
  if (user_table && !has_user_id) {
    return Status::InvalidArgument("storage path template '" + Printable(tmpl) +
                                   "' of a USER table must contain {userId}, so that every user's "
                                   "rows live in their own folder");
  }
  if (!user_table && has_user_id) {
    return Status::InvalidArgument("storage path template '" + Printable(tmpl) +
                                   "' of a SHARED table must not contain {userId}");
  }
  return Status::OK();
}

Result<std::string> ExpandTemplate(std::string_view tmpl, const TemplateValues& values) {
  bool has_user_id = false;
  KALAM_RETURN_IF_ERROR(CheckTemplate(tmpl, &has_user_id));
  std::string out;
  KALAM_RETURN_IF_ERROR(ParseTemplate(tmpl, [&](const Piece& p) {
    if (!p.is_placeholder) {
      out += p.text;
      return Status::OK();
    }
    const std::string* value = nullptr;
    switch (p.placeholder) {
      case Placeholder::kNamespace: value = &values.namespace_id; break;
      case Placeholder::kTableName: value = &values.table_name; break;
      case Placeholder::kUserId: value = &values.user_id; break;
      case Placeholder::kShard: value = &values.shard; break;
    }
    KALAM_RETURN_IF_ERROR(CheckValue(*value, p.text));
    out += *value;
    return Status::OK();
  }));
  // Each value is one safe segment and the template is safe, so this cannot fail unless a length
  // limit is hit; it is the last line of defence all the same.
  Status st = ValidateKey(out);
  if (!st.ok()) return st.WithPrefix("expanded storage path: ");
  return out;
}

Status ValidateKey(std::string_view key) {
  if (key.size() > kMaxKeyBytes) {
    return Status::InvalidArgument("object key of " + std::to_string(key.size()) +
                                   " bytes is longer than the limit of " +
                                   std::to_string(kMaxKeyBytes) + " bytes");
  }
  KALAM_RETURN_IF_ERROR(CheckCharacters(key, "object key"));
  return CheckSegments(key, "object key");
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::OK();
  std::string_view body = prefix;
  if (body.back() == '/') body.remove_suffix(1);
  Status st = ValidateKey(body);
  if (!st.ok()) return st.WithPrefix("list prefix '" + Printable(prefix) + "': ");
  return Status::OK();
}

}  // namespace kalam::filestore
