// InlineReads: the admission rule and the per-text history of run times.
#include "api/inline_reads.h"

#include <cctype>
#include <functional>

namespace kalam::api {

namespace {
bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsIdentifierChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}
}  // namespace

bool InlineReads::IsSingleSelect(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size() && IsSpace(sql[i])) ++i;
  constexpr std::string_view kSelect = "select";
  if (sql.size() - i <= kSelect.size()) return false;
  for (size_t k = 0; k < kSelect.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(sql[i + k])) != kSelect[k]) return false;
  }
  if (IsIdentifierChar(sql[i + kSelect.size()])) return false;  // SELECTED, select_x, …
  const size_t semicolon = sql.find(';', i);
  if (semicolon == std::string_view::npos) return true;
  for (size_t k = semicolon; k < sql.size(); ++k) {
    if (sql[k] != ';' && !IsSpace(sql[k])) return false;
  }
  return true;
}

uint64_t InlineReads::Key(std::string_view namespace_id, std::string_view sql) {
  const uint64_t h = std::hash<std::string_view>{}(sql);
  return h ^ (std::hash<std::string_view>{}(namespace_id) + 0x9e3779b97f4a7c15ULL + (h << 6) +
              (h >> 2));
}

std::optional<InlineReads::Ticket> InlineReads::Admit(uint64_t key) {
  {
    std::lock_guard lock(mu_);
    auto it = fast_runs_.find(key);
    if (it == fast_runs_.end() || it->second < options_.min_fast_runs) return std::nullopt;
  }
  if (running_.fetch_add(1) >= options_.max_concurrent) {
    running_.fetch_sub(1);
    return std::nullopt;
  }
  return Ticket(this);
}

void InlineReads::Record(uint64_t key, std::chrono::nanoseconds took) {
  const bool fast = took <= options_.max_run;
  std::lock_guard lock(mu_);
  auto it = fast_runs_.find(key);
  if (it == fast_runs_.end()) {
    if (!fast) return;  // unknown and long: nothing to remember
    if (fast_runs_.size() >= options_.max_texts) fast_runs_.clear();
    fast_runs_.emplace(key, 1);
    return;
  }
  if (!fast) it->second = 0;
  else if (it->second < options_.min_fast_runs) ++it->second;
}

}  // namespace kalam::api
