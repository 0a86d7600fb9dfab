// SQL script splitting and input classification: a small scanner that knows quotes and comments.
#include "kalam/sql_script.h"

#include <cctype>

namespace kalam::client {

namespace {

enum class Mode { kCode, kSingle, kDouble, kBacktick, kBracket, kLineComment, kBlockComment };

// Walks `text` and reports each top-level `;` (its offset) and, per character, whether it is
// "code" (outside comments). `on_semicolon(offset)`; `on_code(offset)` for every code character
// that is not whitespace (quotes included). Returns the mode at the end.
template <typename OnSemicolon, typename OnCode>
Mode Scan(std::string_view s, OnSemicolon on_semicolon, OnCode on_code) {
  Mode mode = Mode::kCode;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    switch (mode) {
      case Mode::kCode:
        if (c == '-' && next == '-') {
          mode = Mode::kLineComment;
          ++i;
        } else if (c == '/' && next == '*') {
          mode = Mode::kBlockComment;
          ++i;
        } else if (c == ';') {
          on_semicolon(i);
        } else {
          if (c == '\'') mode = Mode::kSingle;
          if (c == '"') mode = Mode::kDouble;
          if (c == '`') mode = Mode::kBacktick;
          if (c == '[') mode = Mode::kBracket;
          if (!std::isspace(static_cast<unsigned char>(c))) on_code(i);
        }
        break;
      case Mode::kSingle:
      case Mode::kDouble:
      case Mode::kBacktick: {
        on_code(i);
        const char quote = mode == Mode::kSingle ? '\'' : mode == Mode::kDouble ? '"' : '`';
        if (c == quote) {
          if (next == quote) {
            on_code(++i);  // doubled quote: an escaped quote character
          } else {
            mode = Mode::kCode;
          }
        }
        break;
      }
      case Mode::kBracket:
        on_code(i);
        if (c == ']') mode = Mode::kCode;
        break;
      case Mode::kLineComment:
        if (c == '\n') mode = Mode::kCode;
        break;
      case Mode::kBlockComment:
        if (c == '*' && next == '/') {
          mode = Mode::kCode;
          ++i;
        }
        break;
    }
  }
  return mode;
}

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

size_t LineOf(std::string_view s, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < s.size(); ++i) {
    if (s[i] == '\n') ++line;
  }
  return line;
}

// Upper-case words of the statement, skipping comments and quoted text, at most `max` of them.
std::vector<std::string> Words(std::string_view s, size_t max) {
  std::vector<std::string> words;
  std::string current;
  bool in_quote = false;
  size_t last = std::string_view::npos;
  auto flush = [&] {
    if (!current.empty()) words.push_back(current);
    current.clear();
  };
  Scan(
      s, [&](size_t) { flush(); },
      [&](size_t i) {
        if (words.size() >= max) return;
        const char c = s[i];
        const bool adjacent = last != std::string_view::npos && last + 1 == i;
        last = i;
        if (!adjacent) flush();
        if (c == '\'' || c == '"' || c == '`') in_quote = !in_quote;
        if (in_quote || c == '\'' || c == '"' || c == '`') {
          flush();
          return;
        }
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
          current.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        } else {
          flush();
        }
      });
  flush();
  if (words.size() > max) words.resize(max);
  return words;
}

}  // namespace

std::vector<ScriptStatement> SplitStatements(std::string_view script) {
  std::vector<ScriptStatement> out;
  size_t start = 0;
  size_t first_code = std::string_view::npos;  // first code character of the current statement
  auto emit = [&](size_t end) {
    if (first_code != std::string_view::npos && first_code < end) {
      ScriptStatement st;
      st.text = Trim(script.substr(start, end - start));
      st.line = LineOf(script, first_code);
      out.push_back(std::move(st));
    }
    start = end + 1;
    first_code = std::string_view::npos;
  };
  Scan(
      script, [&](size_t i) { emit(i); },
      [&](size_t i) {
        if (first_code == std::string_view::npos) first_code = i;
      });
  if (start < script.size()) emit(script.size());
  // A statement that begins with comments keeps them; trim only whitespace, but drop a leading
  // comment-only prefix so the text starts where the statement does.
  for (auto& st : out) {
    size_t code = std::string::npos;
    Scan(
        st.text, [](size_t) {},
        [&](size_t i) {
          if (code == std::string::npos) code = i;
        });
    if (code != std::string::npos && code > 0) st.text = Trim(std::string_view(st.text).substr(code));
  }
  return out;
}

InputState ClassifyInput(std::string_view buffer) {
  bool any_code = false;
  bool code_after_semicolon = false;
  bool any_semicolon = false;
  const Mode end = Scan(
      buffer,
      [&](size_t) {
        any_semicolon = true;
        code_after_semicolon = false;
      },
      [&](size_t) {
        any_code = true;
        code_after_semicolon = true;
      });
  if (end != Mode::kCode && end != Mode::kLineComment) {
    return InputState::kIncomplete;  // inside a quote or a block comment
  }
  if (!any_code) return InputState::kEmpty;
  if (any_semicolon && !code_after_semicolon) return InputState::kComplete;
  return InputState::kIncomplete;
}

std::string FirstKeyword(std::string_view statement) {
  auto w = Words(statement, 1);
  return w.empty() ? std::string() : w[0];
}

bool IsReadOnlyStatement(std::string_view statement) {
  const std::string first = FirstKeyword(statement);
  if (first == "SELECT" || first == "SHOW" || first == "DESCRIBE" || first == "DESC" ||
      first == "EXPLAIN" || first == "VALUES") {
    return true;
  }
  if (first == "WITH") {
    for (const auto& w : Words(statement, 100000)) {
      if (w == "INSERT" || w == "UPDATE" || w == "DELETE") return false;
    }
    return true;
  }
  return false;
}

}  // namespace kalam::client
