// PlanRecorder and the EXPLAIN text renderers.
#include "sql/plan_recorder.h"

#include <cstdio>
#include <cstdlib>

namespace kalam::sql {

std::string PlanRecorder::Key(uint64_t table_id, int idx_num, const char* idx_str) {
  return std::to_string(table_id) + "/" + std::to_string(idx_num) + ":" +
         (idx_str ? idx_str : "");
}

const ScanCounters* PlanRecorder::FindCounters(const std::string& key) const {
  auto it = counters_.find(key);
  return it == counters_.end() ? nullptr : &it->second;
}

void PlanRecorder::Forecast(const std::string& key, const ScanForecast& forecast) {
  auto [it, inserted] = forecasts_.emplace(key, forecast);
  if (inserted) return;
  const auto& a = it->second.segments;
  const auto& b = forecast.segments;
  const bool same = a && b && a->segments == b->segments && a->read == b->read &&
                    a->skipped_key_range == b->skipped_key_range &&
                    a->skipped_stats == b->skipped_stats && it->second.files == forecast.files;
  if (!same) {
    it->second.segments.reset();
    it->second.files.clear();
  }
}

const ScanForecast* PlanRecorder::FindForecast(const std::string& key) const {
  auto it = forecasts_.find(key);
  return it == forecasts_.end() ? nullptr : &it->second;
}

namespace {

constexpr std::string_view kVtabMarker = " VIRTUAL TABLE INDEX ";
constexpr int kIncludeDeleted = 64;  // vtab_module.cc's idxNum flag

// A plan line of a virtual-table scan: "SCAN <name> VIRTUAL TABLE INDEX <idxNum>:<idxStr>".
struct VtabLine {
  std::string verb;  // SCAN or SEARCH
  std::string name;  // the alias or table name SQLite shows
  int idx_num = 0;
  std::string idx_str;
};

std::optional<VtabLine> ParseVtabLine(const std::string& detail) {
  const size_t marker = detail.find(kVtabMarker);
  const size_t space = detail.find(' ');
  if (marker == std::string::npos || space == std::string::npos || space >= marker) {
    return std::nullopt;
  }
  VtabLine line;
  line.verb = detail.substr(0, space);
  line.name = detail.substr(space + 1, marker - space - 1);
  const std::string rest = detail.substr(marker + kVtabMarker.size());
  char* end = nullptr;
  line.idx_num = static_cast<int>(std::strtol(rest.c_str(), &end, 10));
  if (end == rest.c_str() || *end != ':') return std::nullopt;
  line.idx_str = end + 1;
  return line;
}

std::string OpText(int op) {
  switch (op) {
    case 2: return "=";   // SQLITE_INDEX_CONSTRAINT_EQ
    case 4: return ">";   // GT
    case 8: return "<=";  // LE
    case 16: return "<";  // LT
    case 32: return ">=";  // GE
    default: return "op" + std::to_string(op);
  }
}

std::string ColumnName(const catalog::TableDef& def, int column) {
  const int n = static_cast<int>(def.columns.size());
  if (column >= 0 && column < n) return def.columns[column].name;
  if (column == n) return "_seq";
  if (column == n + 1) return "_deleted";
  return "column" + std::to_string(column);
}

// The "column:op," entries of an idxStr split into the key constraints (the primary key, or
// `_seq` of a STREAM table) and those used only to prune cold segments by statistics.
void DescribeConstraints(const catalog::TableDef& def, const std::string& idx_str,
                         std::string* key, std::string* stats) {
  const int key_col = def.type == catalog::TableType::kStream
                          ? static_cast<int>(def.columns.size())
                          : static_cast<int>(def.pk_index());
  for (const char* p = idx_str.c_str(); *p;) {
    char* end = nullptr;
    const int column = static_cast<int>(std::strtol(p, &end, 10));
    if (*end != ':') break;
    const int op = static_cast<int>(std::strtol(end + 1, &end, 10));
    std::string* out = column == key_col ? key : stats;
    if (!out->empty()) *out += " AND ";
    *out += ColumnName(def, column) + " " + OpText(op) + " ?";
    p = *end == ',' ? end + 1 : end;
  }
}

std::string SegmentsText(const table::ColdScanStats& s, bool actual) {
  return std::string("in_manifest=") + std::to_string(s.segments) +
         (actual ? " read=" : " to_read=") + std::to_string(s.read) +
         " skipped_by_key_range=" + std::to_string(s.skipped_key_range) +
         " skipped_by_statistics=" + std::to_string(s.skipped_stats);
}

// At most kMaxFiles names, then how many more.
std::string FileList(const std::vector<std::string>& files) {
  constexpr size_t kMaxFiles = 8;
  std::string out;
  for (size_t i = 0; i < files.size() && i < kMaxFiles; ++i) {
    if (i) out += ", ";
    out += files[i];
  }
  if (files.size() > kMaxFiles) out += " and " + std::to_string(files.size() - kMaxFiles) + " more";
  return out;
}

std::string Millis(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

// Numbers the virtual-table lines of `in.rows` in plan order: line index → scan number.
std::map<size_t, int> NumberScans(const PlanInput& in) {
  std::map<size_t, int> numbers;
  int next = 1;
  for (size_t i = 0; i < in.rows.size(); ++i) {
    if (ParseVtabLine(in.rows[i].detail)) numbers[i] = next++;
  }
  return numbers;
}

// SQLite's plan as a tree, in the style of the sqlite3 shell; a virtual-table line shows its scan
// number instead of the raw index.
std::string RenderTree(const PlanInput& in) {
  const auto numbers = NumberScans(in);
  std::string out = "QUERY PLAN\n";
  std::function<void(int, const std::string&)> children = [&](int parent,
                                                              const std::string& prefix) {
    std::vector<size_t> kids;
    for (size_t i = 0; i < in.rows.size(); ++i) {
      if (in.rows[i].parent == parent) kids.push_back(i);
    }
    for (size_t k = 0; k < kids.size(); ++k) {
      const bool last = k + 1 == kids.size();
      const QueryPlanRow& row = in.rows[kids[k]];
      std::string detail = row.detail;
      if (auto it = numbers.find(kids[k]); it != numbers.end()) {
        detail = detail.substr(0, detail.find(kVtabMarker)) + " (scan " +
                 std::to_string(it->second) + ")";
      }
      out += prefix + (last ? "`--" : "|--") + detail + "\n";
      children(row.id, prefix + (last ? "   " : "|  "));
    }
  };
  children(0, "");
  return out;
}

// The order a scan hands rows to SQLite in: the key's, or, for a grouped plan (idxStr ends in
// "g" and "column:desc," entries, vtab_module.cc PlanGrouping), that of its GROUP BY or DISTINCT
// columns.
std::string DescribeOrder(const catalog::TableDef& def, const std::string& idx_str,
                          const std::string& key_col) {
  const size_t mask = idx_str.find('u');
  const size_t g = mask == std::string::npos ? mask : idx_str.find('g', mask);
  if (g == std::string::npos) return key_col + " ascending";
  std::string out;
  for (const char* p = idx_str.c_str() + g + 1; *p;) {
    char* end = nullptr;
    const long column = std::strtol(p, &end, 10);
    const bool desc = std::strtol(end + 1, &end, 10) != 0;
    p = end + 1;
    if (column < 0 || static_cast<size_t>(column) >= def.columns.size()) break;
    out += (out.empty() ? "" : ", ") + def.columns[static_cast<size_t>(column)].name +
           (desc ? " descending" : " ascending");
  }
  return out + " (the scan's rows grouped in memory for GROUP BY / DISTINCT, no SQLite sort)";
}

// One scan's description: the header and the plan lines, without numbers measured or foreseen.
// Returns the recorder key through `key` ("" when the table is not a catalog table).
std::string DescribeScan(const PlanInput& in, int number, const VtabLine& line, std::string* key) {
  key->clear();
  std::optional<PlannedTable> table = in.resolve ? in.resolve(line.name) : std::nullopt;
  std::string out = "[" + std::to_string(number) + "] ";
  if (!table) return out + line.verb + " " + line.name + " (not a KalamDB table)\n";
  out += "scan " + table->qualified_name;
  if (table->qualified_name.substr(table->qualified_name.find('.') + 1) != line.name) {
    out += " AS " + line.name;
  }
  if (!table->def) return out + " (system table: its rows are computed for the statement)\n";
  const catalog::TableDef& def = *table->def;
  out += " (" + std::string(catalog::TableTypeName(def.type)) + " table";
  if (def.type != catalog::TableType::kShared) out += ", scope user '" + table->scope + "'";
  out += ")\n";
  std::string key_text, stats_text;
  DescribeConstraints(def, line.idx_str, &key_text, &stats_text);
  const std::string key_col = def.type == catalog::TableType::kStream ? "_seq"
                                                                      : def.pk_column().name;
  out += "    key: " + (key_text.empty() ? "every row of the scope (no " + key_col +
                                               " constraint)"
                                         : key_text) + "\n";
  if (!stats_text.empty()) {
    out += def.type == catalog::TableType::kStream
               ? "    filters: " + stats_text + " (checked by SQLite)\n"
               : "    segment statistics: " + stats_text + "\n";
  }
  if (line.idx_num & kIncludeDeleted) out += "    tombstones: read (_deleted is constrained)\n";
  out += "    order: " + DescribeOrder(def, line.idx_str, key_col) + "\n";
  *key = PlanRecorder::Key(def.table_id, line.idx_num, line.idx_str.c_str());
  return out;
}

bool HasColdTier(const PlanInput& in, const VtabLine& line) {
  std::optional<PlannedTable> table = in.resolve ? in.resolve(line.name) : std::nullopt;
  return table && table->def && table->def->type != catalog::TableType::kStream;
}

}  // namespace

std::string RenderLogicalPlan(const PlanInput& in) {
  return "SQL: " + in.sql + "\nRow limit: " + in.limit_note + "\n" + RenderTree(in);
}

std::string RenderPhysicalPlan(const PlanInput& in, const PlanRecorder& recorder) {
  std::string out;
  const auto numbers = NumberScans(in);
  for (const auto& [index, number] : numbers) {
    const VtabLine line = *ParseVtabLine(in.rows[index].detail);
    std::string key;
    out += DescribeScan(in, number, line, &key);
    if (key.empty()) continue;
    if (!HasColdTier(in, line)) {
      if (const ScanForecast* f = recorder.FindForecast(key)) {
        out += "    planner estimate: rows=" + std::to_string(f->estimated_rows) + "\n";
      }
      out += "    cold segments: none (STREAM tables keep rows in the hot tier only)\n";
      continue;
    }
    const ScanForecast* f = recorder.FindForecast(key);
    if (f) out += "    planner estimate: rows=" + std::to_string(f->estimated_rows) + "\n";
    if (f && f->segments) {
      out += "    cold segments: " + SegmentsText(*f->segments, false) + "\n";
      if (!f->files.empty()) out += "    files to read: " + FileList(f->files) + "\n";
    } else {
      out += "    cold segments: chosen at run time (an operand is a parameter or another "
             "table's column)\n";
    }
  }
  if (numbers.empty()) out += "no table scans\n";
  return out;
}

std::string RenderPlanWithMetrics(const PlanInput& in, const PlanRecorder& recorder,
                                  uint64_t rows_returned, bool truncated, int64_t elapsed_ns) {
  std::string out = RenderLogicalPlan(in);
  const auto numbers = NumberScans(in);
  for (const auto& [index, number] : numbers) {
    const VtabLine line = *ParseVtabLine(in.rows[index].detail);
    std::string key;
    out += DescribeScan(in, number, line, &key);
    if (key.empty()) continue;
    const ScanCounters* c = recorder.FindCounters(key);
    const ScanCounters none;
    if (!c) c = &none;
    out += "    actual: scans=" + std::to_string(c->scans) +
           " rows_to_sqlite=" + std::to_string(c->rows) +
           " hot_rows_read=" + std::to_string(c->hot_rows) +
           " cold_rows_read=" + std::to_string(c->cold_rows) + " time=" + Millis(c->elapsed_ns) +
           "\n";
    if (HasColdTier(in, line)) out += "    segments: " + SegmentsText(c->segments, true) + "\n";
  }
  out += "Result: " + std::to_string(rows_returned) + " row(s)" +
         (truncated ? " (truncated at the row limit)" : "") + ", total time " +
         Millis(elapsed_ns) + "\n";
  return out;
}

}  // namespace kalam::sql
