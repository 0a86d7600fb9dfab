// Result renderings: terminal display width, aligned tables, CSV and JSON lines.
#include "kalam/format.h"

#include <algorithm>
#include <cstdint>

namespace kalam::client {

namespace {

struct Range {
  char32_t first, last;
};

// Characters that take no column: combining marks, zero-width spaces and joiners, variation
// selectors.
constexpr Range kZeroWidth[] = {
    {0x0300, 0x036F},   {0x0483, 0x0489},   {0x0591, 0x05BD},   {0x05BF, 0x05BF},
    {0x05C1, 0x05C2},   {0x05C4, 0x05C5},   {0x05C7, 0x05C7},   {0x0610, 0x061A},
    {0x064B, 0x065F},   {0x0670, 0x0670},   {0x06D6, 0x06DC},   {0x06DF, 0x06E4},
    {0x06E7, 0x06E8},   {0x06EA, 0x06ED},   {0x0711, 0x0711},   {0x0730, 0x074A},
    {0x07A6, 0x07B0},   {0x0900, 0x0902},   {0x093A, 0x093A},   {0x093C, 0x093C},
    {0x0941, 0x0948},   {0x094D, 0x094D},   {0x0951, 0x0957},   {0x0962, 0x0963},
    {0x0E31, 0x0E31},   {0x0E34, 0x0E3A},   {0x0E47, 0x0E4E},   {0x1AB0, 0x1AFF},
    {0x1DC0, 0x1DFF},   {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},
    {0x20D0, 0x20FF},   {0x302A, 0x302D},   {0x3099, 0x309A},   {0xFE00, 0xFE0F},
    {0xFE20, 0xFE2F},   {0xFEFF, 0xFEFF},   {0x1F3FB, 0x1F3FF}, {0xE0000, 0xE0FFF},
};

// East Asian Wide (W) and Fullwidth (F) ranges, and emoji presented wide.
constexpr Range kWide[] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x16FE4},
    {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
    {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F202}, {0x1F210, 0x1F23B},
    {0x1F240, 0x1F248}, {0x1F250, 0x1F251}, {0x1F260, 0x1F265}, {0x1F300, 0x1F320},
    {0x1F32D, 0x1F335}, {0x1F337, 0x1F37C}, {0x1F37E, 0x1F393}, {0x1F3A0, 0x1F3CA},
    {0x1F3CF, 0x1F3D3}, {0x1F3E0, 0x1F3F0}, {0x1F3F4, 0x1F3F4}, {0x1F3F8, 0x1F43E},
    {0x1F440, 0x1F440}, {0x1F442, 0x1F4FC}, {0x1F4FF, 0x1F53D}, {0x1F54B, 0x1F54E},
    {0x1F550, 0x1F567}, {0x1F57A, 0x1F57A}, {0x1F595, 0x1F596}, {0x1F5A4, 0x1F5A4},
    {0x1F5FB, 0x1F64F}, {0x1F680, 0x1F6C5}, {0x1F6CC, 0x1F6CC}, {0x1F6D0, 0x1F6D2},
    {0x1F6D5, 0x1F6D7}, {0x1F6EB, 0x1F6EC}, {0x1F6F4, 0x1F6FC}, {0x1F7E0, 0x1F7EB},
    {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945}, {0x1F947, 0x1F9FF}, {0x1FA70, 0x1FAFF},
    {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                             [](char32_t v, const Range& r) { return v < r.first; });
  if (it == std::begin(ranges)) return false;
  --it;
  return c >= it->first && c <= it->last;
}

int CharWidth(char32_t c) {
  if (c == 0) return 0;
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
  if (InRanges(kZeroWidth, c)) return 0;
  if (InRanges(kWide, c)) return 2;
  return 1;
}

// Decodes one UTF-8 character at `s[i]`; returns its length (1 for an invalid byte, with
// `*ok` false).
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* out, bool* ok) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  *ok = true;
  if (b0 < 0x80) {
    *out = b0;
    return 1;
  }
  size_t len = 0;
  char32_t c = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    c = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    c = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    c = b0 & 0x07;
  } else {
    *ok = false;
    *out = b0;
    return 1;
  }
  if (i + len > s.size()) {
    *ok = false;
    *out = b0;
    return 1;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      *ok = false;
      *out = b0;
      return 1;
    }
    c = (c << 6) | (b & 0x3F);
  }
  *out = c;
  return len;
}

// A cell as one line of text: control characters made visible.
std::string CellText(const Value& v, const TableOptions& o) {
  if (v.is_null()) return o.null_text;
  std::string raw = v.ToString();
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "?";
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

void AppendPadded(std::string* out, const std::string& text, size_t width, bool right) {
  const size_t w = DisplayWidth(text);
  const size_t pad = width > w ? width - w : 0;
  if (right) out->append(pad, ' ');
  out->append(text);
  if (!right) out->append(pad, ' ');
}

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

}  // namespace

size_t DisplayWidth(std::string_view utf8) {
  size_t width = 0;
  for (size_t i = 0; i < utf8.size();) {
    char32_t c;
    bool ok;
    i += DecodeUtf8(utf8, i, &c, &ok);
    width += ok ? CharWidth(c) : 1;
  }
  return width;
}

std::string TruncateToWidth(std::string_view utf8, size_t width) {
  if (DisplayWidth(utf8) <= width) return std::string(utf8);
  if (width == 0) return "";
  const size_t budget = width - 1;  // room for "…"
  size_t used = 0, i = 0;
  while (i < utf8.size()) {
    char32_t c;
    bool ok;
    const size_t len = DecodeUtf8(utf8, i, &c, &ok);
    const size_t w = ok ? CharWidth(c) : 1;
    if (used + w > budget) break;
    used += w;
    i += len;
  }
  return std::string(utf8.substr(0, i)) + "\xE2\x80\xA6";
}

std::string RenderTable(const QueryResult& result, const TableOptions& options) {
  if (result.columns.empty()) {
    return (result.message ? *result.message : std::string("OK")) + "\n";
  }
  const size_t n = result.columns.size();
  std::vector<std::string> headers(n);
  std::vector<size_t> widths(n);
  std::vector<bool> right(n);
  for (size_t c = 0; c < n; ++c) {
    headers[c] = result.columns[c].name;
    widths[c] = DisplayWidth(headers[c]);
    right[c] = result.columns[c].type.IsNumeric();
  }
  std::vector<std::vector<std::string>> cells(result.rows.size(), std::vector<std::string>(n));
  for (size_t r = 0; r < result.rows.size(); ++r) {
    for (size_t c = 0; c < n && c < result.rows[r].size(); ++c) {
      cells[r][c] = CellText(result.rows[r][c], options);
      widths[c] = std::max(widths[c], DisplayWidth(cells[r][c]));
    }
  }
  // Fit the terminal: take one column off the widest column until the table fits or every
  // column is down to a few characters.
  if (options.max_width > 0) {
    constexpr size_t kMinWidth = 4;
    auto total = [&] {
      size_t t = 1;
      for (size_t w : widths) t += w + 3;
      return t;
    };
    while (total() > options.max_width) {
      auto widest = std::max_element(widths.begin(), widths.end());
      if (*widest <= kMinWidth) break;
      --*widest;
    }
    for (size_t c = 0; c < n; ++c) headers[c] = TruncateToWidth(headers[c], widths[c]);
    for (auto& row : cells) {
      for (size_t c = 0; c < n; ++c) row[c] = TruncateToWidth(row[c], widths[c]);
    }
  }
  std::string rule = "+";
  for (size_t w : widths) {
    rule.append(w + 2, '-');
    rule.push_back('+');
  }
  rule.push_back('\n');

  std::string out = rule;
  out += "|";
  for (size_t c = 0; c < n; ++c) {
    out.push_back(' ');
    if (options.color) out += kBold;
    AppendPadded(&out, headers[c], widths[c], false);
    if (options.color) out += kReset;
    out += " |";
  }
  out += "\n" + rule;
  for (size_t r = 0; r < cells.size(); ++r) {
    out += "|";
    for (size_t c = 0; c < n; ++c) {
      out.push_back(' ');
      const bool is_null = c < result.rows[r].size() && result.rows[r][c].is_null();
      if (options.color && is_null) out += kDim;
      AppendPadded(&out, cells[r][c], widths[c], right[c]);
      if (options.color && is_null) out += kReset;
      out += " |";
    }
    out += "\n";
  }
  if (!cells.empty()) out += rule;
  const size_t rows = result.rows.size();
  out += "(" + std::to_string(rows) + (rows == 1 ? " row" : " rows");
  if (result.truncated) out += "; truncated by the server's row limit, add LIMIT to see more";
  out += ")\n";
  return out;
}

std::string CsvField(std::string_view text) {
  const bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!text.empty() && (text.front() == ' ' || text.back() == ' '));
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string RenderCsv(const QueryResult& result) {
  if (result.columns.empty()) return "";
  std::string out;
  for (size_t c = 0; c < result.columns.size(); ++c) {
    if (c) out.push_back(',');
    out += CsvField(result.columns[c].name);
  }
  out.push_back('\n');
  for (const auto& row : result.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out.push_back(',');
      if (!row[c].is_null()) out += CsvField(row[c].ToString());
    }
    out.push_back('\n');
  }
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string RenderJsonLine(const QueryResult& result) {
  std::string out = "{";
  if (!result.columns.empty()) {
    out += "\"rows\":[";
    for (size_t r = 0; r < result.rows.size(); ++r) {
      if (r) out.push_back(',');
      out.push_back('{');
      const auto& row = result.rows[r];
      for (size_t c = 0; c < result.columns.size() && c < row.size(); ++c) {
        if (c) out.push_back(',');
        out += JsonQuote(result.columns[c].name);
        out.push_back(':');
        out += row[c].ToJson();
      }
      out.push_back('}');
    }
    out += "],";
  }
  out += "\"row_count\":" + std::to_string(result.row_count);
  if (result.message) out += ",\"message\":" + JsonQuote(*result.message);
  if (result.truncated) out += ",\"truncated\":true";
  out += "}\n";
  return out;
}

}  // namespace kalam::client
