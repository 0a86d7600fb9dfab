// Completer: TAB-completion candidates for the shell — SQL keywords, backslash commands,
// namespaces, tables and columns (the latter fetched from the server on first use).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kalam::cli {

// What the server says exists, as far as the user may see it.
struct SchemaInfo {
  std::vector<std::string> namespaces;
  // "ns.table" → column names in order.
  std::map<std::string, std::vector<std::string>> tables;
};

// Not thread-safe (the shell's thread only).
class Completer {
 public:
  // `loader` fetches the schema; called lazily, again after Invalidate(). A failed load
  // (nullopt) leaves only keywords and commands.
  explicit Completer(std::function<std::optional<SchemaInfo>()> loader);

  // Candidates for `word` (the text before the cursor back to the last space or punctuation),
  // given everything typed before the cursor in the current statement (`context`, which ends
  // with `word`). Keywords follow the case of `word` (lower-case input → lower-case keyword);
  // names are returned as stored. Sorted, without duplicates.
  std::vector<std::string> Candidates(std::string_view context, std::string_view word);

  // Forget the cached schema (after DDL, \connect, \refresh).
  void Invalidate() { loaded_ = false; }
  void set_current_namespace(std::string ns) { current_namespace_ = std::move(ns); }

  // Characters that belong to a completable word.
  static bool IsWordChar(char c);

 private:
  void EnsureLoaded();

  std::function<std::optional<SchemaInfo>()> loader_;
  bool loaded_ = false;
  SchemaInfo schema_;
  std::string current_namespace_;
};

// The longest common prefix of `items` (case-sensitive).
std::string CommonPrefix(const std::vector<std::string>& items);

}  // namespace kalam::cli
