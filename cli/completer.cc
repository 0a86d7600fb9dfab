// Completion candidates: keywords, commands, namespaces, tables, columns.
#include "completer.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace kalam::cli {

namespace {

constexpr const char* kKeywords[] = {
    "ACCESS",    "ADD",       "ALL",        "ALTER",      "AND",          "AS",
    "ASC",       "AUTO_INCREMENT", "BACKUP", "BEGIN",     "BETWEEN",      "BIGINT",
    "BOOLEAN",   "BY",        "BYTES",      "CASCADE",    "CASE",         "CHECK",
    "COLUMN",    "COMMIT",    "COMPACT",    "COUNT",      "CREATE",       "CROSS",
    "CURRENT_USER", "DATABASE", "DATE",     "DATETIME",   "DECIMAL",      "DEFAULT",
    "DELETE",    "DESC",      "DESCRIBE",   "DISTINCT",   "DOUBLE",       "DROP",
    "ELSE",      "EMAIL",     "EMBEDDING",  "END",        "EXECUTE",      "EXISTS",
    "EXPLAIN",   "FALSE",     "FILE",       "FLOAT",      "FLUSH",        "FROM",
    "FULL",      "GROUP",     "HAVING",     "HISTORY",    "IF",           "IN",
    "INNER",     "INSERT",    "INT",        "INTO",       "IS",           "JOB",
    "JOIN",      "JSON",      "KEY",        "KILL",       "LEFT",         "LIKE",
    "LIMIT",     "LIVE",      "MODIFY",     "NAMESPACE",  "NAMESPACES",   "NOT",
    "NOW",       "NULL",      "OFFSET",     "ON",         "OPTIONS",      "OR",
    "ORDER",     "OUTER",     "PASSWORD",   "PRIMARY",    "QUERY",        "RENAME",
    "RESTORE",   "RETURNING", "RIGHT",      "ROLE",       "ROLLBACK",     "SELECT",
    "SET",       "SHARED",    "SHOW",       "SMALLINT",   "SNOWFLAKE_ID", "START",
    "STATS",     "STORAGE",   "STORAGES",   "STREAM",     "SUBSCRIBE",    "TABLE",
    "TABLES",    "TEXT",      "THEN",       "TIME",       "TIMESTAMP",    "TO",
    "TRANSACTION", "TRUE",    "TYPE",       "UNION",      "UPDATE",       "USE",
    "USER",      "USERS",     "USING",      "UUID",       "VALUES",       "WHEN",
    "WHERE",     "WITH",
};

constexpr const char* kCommands[] = {
    "\\connect", "\\config", "\\continue", "\\d",     "\\dt",        "\\flush",  "\\format",
    "\\health",  "\\help",   "\\pause",    "\\q",     "\\quit",      "\\refresh", "\\stats",
    "\\subscribe", "\\timing",
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (prefix.size() > s.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// Words of `text` (upper-cased), ignoring punctuation.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  std::string cur;
  for (char c : text) {
    if (Completer::IsWordChar(c)) {
      cur.push_back(c);
    } else if (!cur.empty()) {
      words.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

}  // namespace

bool Completer::IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '\\' ||
         (static_cast<unsigned char>(c) >= 0x80);
}

Completer::Completer(std::function<std::optional<SchemaInfo>()> loader)
    : loader_(std::move(loader)) {}

void Completer::EnsureLoaded() {
  if (loaded_) return;
  loaded_ = true;
  if (auto s = loader_()) {
    schema_ = std::move(*s);
  } else {
    schema_ = SchemaInfo{};
  }
}

std::vector<std::string> Completer::Candidates(std::string_view context, std::string_view word) {
  std::set<std::string> out;
  if (!word.empty() && word.front() == '\\') {
    for (const char* c : kCommands) {
      if (StartsWithNoCase(c, word)) out.insert(c);
    }
    return {out.begin(), out.end()};
  }
  const std::string_view before = context.substr(0, context.size() - std::min(context.size(), word.size()));
  const std::vector<std::string> words = Words(before);
  const std::string prev = words.empty() ? "" : Upper(words.back());
  const bool wants_table = prev == "FROM" || prev == "JOIN" || prev == "INTO" ||
                           prev == "UPDATE" || prev == "TABLE" || prev == "DESCRIBE" ||
                           prev == "DESC" || prev == "TO" || prev == "\\D";
  const bool wants_namespace = prev == "USE" || prev == "NAMESPACE" || prev == "IN";
  const std::string ns = current_namespace_.empty() ? "default" : Lower(current_namespace_);

  // Backslash commands that take a table or namespace.
  const bool command_arg = !words.empty() && words.front().size() > 1 && words.front()[0] == '\\';

  EnsureLoaded();
  const size_t dot = word.rfind('.');
  if (dot != std::string_view::npos) {
    // "ns.ta" → tables of ns; "table.co" → columns of that table.
    const std::string qualifier = Lower(word.substr(0, dot));
    const std::string_view rest = word.substr(dot + 1);
    for (const auto& [qualified, columns] : schema_.tables) {
      const size_t d = qualified.find('.');
      const std::string t_ns = qualified.substr(0, d), t_name = qualified.substr(d + 1);
      if (t_ns == qualifier && StartsWithNoCase(t_name, rest)) {
        out.insert(std::string(word.substr(0, dot + 1)) + t_name);
      }
      if (!wants_table && (t_name == qualifier || qualified == qualifier)) {
        for (const auto& c : columns) {
          if (StartsWithNoCase(c, rest)) out.insert(std::string(word.substr(0, dot + 1)) + c);
        }
      }
    }
    return {out.begin(), out.end()};
  }

  const bool lower = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return !std::isalpha(static_cast<unsigned char>(c)) || std::islower(static_cast<unsigned char>(c));
  });
  for (const auto& ns_name : schema_.namespaces) {
    if (StartsWithNoCase(ns_name, word)) out.insert(wants_namespace ? ns_name : ns_name + ".");
  }
  if (wants_namespace) return {out.begin(), out.end()};
  // Tables: unqualified names of the current namespace.
  std::vector<std::string> mentioned;  // tables named in the statement, for column candidates
  for (const auto& [qualified, columns] : schema_.tables) {
    const size_t d = qualified.find('.');
    const std::string t_ns = qualified.substr(0, d), t_name = qualified.substr(d + 1);
    if (t_ns == ns && StartsWithNoCase(t_name, word)) out.insert(t_name);
    for (const auto& w : words) {
      const std::string lw = Lower(w);
      if (lw == qualified || (t_ns == ns && lw == t_name)) mentioned.push_back(qualified);
    }
  }
  if (wants_table || command_arg) return {out.begin(), out.end()};
  // Columns of the tables this statement names; of every table when it names none yet (the
  // select list is usually typed before FROM).
  if (mentioned.empty()) {
    for (const auto& [qualified, columns] : schema_.tables) mentioned.push_back(qualified);
  }
  for (const auto& q : mentioned) {
    for (const auto& c : schema_.tables[q]) {
      if (StartsWithNoCase(c, word)) out.insert(c);
    }
  }
  if (!word.empty()) {
    for (const char* k : kKeywords) {
      if (StartsWithNoCase(k, word)) out.insert(lower ? Lower(k) : std::string(k));
    }
  }
  return {out.begin(), out.end()};
}

std::string CommonPrefix(const std::vector<std::string>& items) {
  if (items.empty()) return "";
  std::string prefix = items.front();
  for (const auto& s : items) {
    size_t i = 0;
    while (i < prefix.size() && i < s.size() && prefix[i] == s[i]) ++i;
    prefix.resize(i);
  }
  return prefix;
}

}  // namespace kalam::cli
