// Value's human-readable rendering for error messages.
#include "common/value.h"

#include <charconv>

#include "common/utf8.h"

namespace kalam {
namespace {

// Longest text or blob prefix shown; error messages stay short however large the value is.
constexpr size_t kMaxShownBytes = 64;

}  // namespace

std::string Value::DebugString() const {
  switch (kind()) {
    case Kind::kNull:
      return "NULL";
    case Kind::kInt:
      return std::to_string(as_int());
    case Kind::kDouble: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, as_double());
      std::string out(buf, r.ptr);
      // "2.0", not "2": a double never reads like an integer.
      if (out.find_first_not_of("-0123456789") == std::string::npos) out += ".0";
      return out;
    }
    case Kind::kText: {
      // SQL literal form: quotes doubled. Cut at a UTF-8 character boundary when long.
      const std::string& t = as_text();
      size_t n = t.size();
      if (n > kMaxShownBytes) n = Utf8CutLength(t, kMaxShownBytes);
      std::string out = "'";
      for (size_t i = 0; i < n; ++i) {
        if (t[i] == '\'') out += '\'';
        out += t[i];
      }
      if (n < t.size()) out += "...";
      out += '\'';
      return out;
    }
    case Kind::kBlob: {
      static constexpr char kHex[] = "0123456789abcdef";
      const std::string& b = as_bytes();
      const size_t n = b.size() > kMaxShownBytes / 2 ? kMaxShownBytes / 2 : b.size();
      std::string out = "x'";
      for (size_t i = 0; i < n; ++i) {
        const auto c = static_cast<unsigned char>(b[i]);
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      }
      if (n < b.size()) out += "...";
      out += '\'';
      return out;
    }
  }
  return "?";
}

}  // namespace kalam
