// The `kalam` virtual-table module.
#include "sql/sqlite/vtab_module.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <optional>

#include "commit/commit_pipeline.h"
#include "common/id_gen.h"
#include "common/value_convert.h"
#include "sql/exec_context.h"
#include "sql/parser/typed_operands.h"
#include "sql/sqlite/connection.h"
#include "sql/sqlite/grouped_rows.h"
#include "sql/sqlite/probe_index.h"
#include "table/keys.h"

namespace kalam::sql {

using catalog::ColumnDef;
using catalog::TableDef;
using catalog::TableType;
using table::StagedRow;

namespace {

// idxNum flags chosen by xBestIndex. The pushed-down constraints themselves travel in idxStr as
// "column:op," entries, in argv order, followed by "u<hex>": SQLite's colUsed mask (the columns
// the statement reads).
constexpr int kIncludeDeleted = 64;
// The plan consumes SQLite's GROUP BY / DISTINCT order: idxStr ends in "g" and a "column:desc,"
// entry per ordering column, and the cursor hands its rows back ordered by them (GroupedRows).
constexpr int kGrouped = 128;

// Repeated equality probes of one cursor (a join's inner side, an IN list's values) are served
// from a ProbeIndex of the scope: on a non-key column from the second probe (each probe would
// otherwise scan the scope), on the key after kKeyProbesBeforeIndex point lookups, and only while
// the scope has at most kKeyProbeRowsPerLookup rows per lookup so far (else retried later, after
// four times as many lookups) and never more than kMaxProbeIndexRows rows or
// kMaxProbeIndexBytes of them.
constexpr int kKeyProbesBeforeIndex = 16;
constexpr size_t kKeyProbeRowsPerLookup = 64;
constexpr size_t kMaxProbeIndexRows = 200000;
constexpr size_t kMaxProbeIndexBytes = 64u << 20;

struct KalamVtab {
  sqlite3_vtab base{};
  SqlConnection* conn = nullptr;
  std::shared_ptr<const TableDef> def;
};

struct KalamCursor {
  sqlite3_vtab_cursor base{};
  KalamVtab* vt = nullptr;
  ExecContext* ctx = nullptr;
  std::string scope;
  bool include_deleted = false;
  bool eof = true;

  // Committed rows (hot merged with cold).
  std::unique_ptr<table::RowScan> it;
  // STREAM tables: the scope's visible entries (a statement never sees its own staged rows).
  std::unique_ptr<table::StreamScan> stream;
  bool advance_it = false;  // the current row came from `it`: move past it on the next step
  // Staged rows of the same table scope in [lower, upper).
  table::WriteSet::Map::const_iterator staged_it, staged_end;
  bool have_staged = false;

  // Comparisons that only let the cold tier skip segments by statistics.
  std::vector<table::ColdBound> bounds;

  // Equality probes (see kKeyProbesBeforeIndex): how many this cursor made, when to build the
  // index, the index, and the matches of the current probe when it serves them.
  int probes = 0;
  int build_index_at = 0;
  std::unique_ptr<ProbeIndex> index;
  const std::vector<uint32_t>* probe_hits = nullptr;
  size_t probe_pos = 0;
  bool from_index = false;

  // A grouped plan (kGrouped): its ordering columns, the columns it holds, the filter's arguments
  // (copies: a source too large to hold at once is read again, GroupedRows::upper), where the
  // rows held start, the rows in order and the next one to hand out.
  std::vector<GroupedRows::OrderColumn> group_by;
  std::vector<bool> group_keep;
  int group_idx_num = 0;
  std::string group_idx_str;
  std::vector<sqlite3_value*> group_argv;
  std::optional<std::vector<Value>> group_from;
  std::unique_ptr<GroupedRows> grouped;
  size_t grouped_pos = 0;
  bool from_grouped = false;
  const GroupedRows::Cell* grouped_cells = nullptr;  // the current grouped row's

  ~KalamCursor() { FreeGroupArgs(); }
  void FreeGroupArgs() {
    for (sqlite3_value* v : group_argv) sqlite3_value_free(v);
    group_argv.clear();
  }

  // Under EXPLAIN ANALYZE: the counters of this cursor's plan (owned by the statement's
  // PlanRecorder, which outlives the cursor); else null.
  ScanCounters* counters = nullptr;

  // The table's column count as of the last XFilter (xColumn's hot path reads it, not the def).
  int ncols = 0;

  // The current row: a staged row's values, or the committed row `it` is positioned on.
  std::vector<Value> staged_values;
  const Value* row = nullptr;
  int64_t seq = 0;  // 0 for a staged row (its _seq is assigned at commit)
  bool deleted = false;
};

// The cold-tier pruning form of a SQLite comparison, if it is one.
std::optional<table::ColdBound::Op> BoundOp(int op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ: return table::ColdBound::Op::kEq;
    case SQLITE_INDEX_CONSTRAINT_GT: return table::ColdBound::Op::kGt;
    case SQLITE_INDEX_CONSTRAINT_GE: return table::ColdBound::Op::kGe;
    case SQLITE_INDEX_CONSTRAINT_LT: return table::ColdBound::Op::kLt;
    case SQLITE_INDEX_CONSTRAINT_LE: return table::ColdBound::Op::kLe;
    default: return std::nullopt;
  }
}

// EQ/GT/GE/LT/LE: the comparisons the table takes for key ranges and cold-segment pruning.
bool IsBoundOp(int op) {
  return op == SQLITE_INDEX_CONSTRAINT_EQ || op == SQLITE_INDEX_CONSTRAINT_GT ||
         op == SQLITE_INDEX_CONSTRAINT_GE || op == SQLITE_INDEX_CONSTRAINT_LT ||
         op == SQLITE_INDEX_CONSTRAINT_LE;
}

// Primary-key types whose key encoding sorts like their values (range scans, ORDER BY pk).
bool IsPkOrderable(const ColumnDef& col) {
  switch (col.type.kind) {
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kBigInt:
    case TypeKind::kText:
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime:
    case TypeKind::kUuid:
      return true;
    default:
      return false;
  }
}

bool HasIntegerAffinity(const DataType& t) { return std::strcmp(AffinityName(t), "INTEGER") == 0; }

// The collation a column is declared with (DeclareTableSql).
const char* DeclaredCollation(const DataType& t) {
  return t.kind == TypeKind::kDecimal && t.precision > parser::kMaxRealDecimalPrecision
             ? parser::kDecimalCollation.data()  // a literal: NUL-terminated
             : "BINARY";
}

// True if constraint `i` compares as stored values sort: a text comparison under another
// collation than the column's (`name = 'A' COLLATE NOCASE`) matches values outside the key range
// and segment bounds its operand gives, so the table must not narrow its scan by it.
bool ComparesAsStored(sqlite3_index_info* info, int i, const ColumnDef& col) {
  if (std::strcmp(AffinityName(col.type), "TEXT") != 0) return true;
  const char* collation = sqlite3_vtab_collation(info, i);
  return collation == nullptr || sqlite3_stricmp(collation, DeclaredCollation(col.type)) == 0;
}

// A GROUP BY or DISTINCT (sqlite3_vtab_distinct 1–3) on columns the cursor can order its rows
// by (GroupedRows::CanOrderBy): the plan consumes the order and returns the "g" suffix of idxStr
// ("g" then "column:desc," per ordering column); else "". The rows come fully ordered (not only
// grouped), so the plan is right whatever SQLite makes of the order.
std::string PlanGrouping(const TableDef& def, sqlite3_index_info* info) {
  if (info->nOrderBy <= 0) return {};
  const int distinct = sqlite3_vtab_distinct(info);
  if (distinct < 1 || distinct > 3) return {};
  const int ncols = static_cast<int>(def.columns.size());
  std::string spec = "g";
  for (int i = 0; i < info->nOrderBy; ++i) {
    const auto& o = info->aOrderBy[i];
    if (o.iColumn < 0 || o.iColumn >= ncols || !GroupedRows::CanOrderBy(def.columns[o.iColumn])) {
      return {};
    }
    spec += std::to_string(o.iColumn) + ":" + (o.desc ? "1" : "0") + ",";
  }
  info->orderByConsumed = 1;
  return spec;
}

// The plan for `info`: which constraints the table takes — the PK's equality and range bounds,
// and other comparisons with a value (only for cold-segment pruning) — in idxStr as "column:op,"
// entries in argv order, the plan's cost, and that rows come in PK order. SQLite re-checks every
// constraint (omit = 0), so a constraint only narrows what is read.
std::string PlanScan(const TableDef& def, sqlite3_index_info* info) {
  const int ncols = static_cast<int>(def.columns.size());
  const int pk = static_cast<int>(def.pk_index());
  const bool orderable = IsPkOrderable(def.columns[pk]);
  bool pk_eq = false, pk_lower = false, pk_upper = false, indexable_eq = false;
  std::string entries;
  int next_arg = 1;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.iColumn < 0 || c.iColumn >= ncols) continue;
    if (!ComparesAsStored(info, i, def.columns[c.iColumn])) continue;
    bool use = c.iColumn != pk && IsBoundOp(c.op);
    if (c.iColumn == pk) {
      if (c.op == SQLITE_INDEX_CONSTRAINT_EQ && !pk_eq) {
        use = pk_eq = true;
      } else if (orderable && (c.op == SQLITE_INDEX_CONSTRAINT_GT ||
                               c.op == SQLITE_INDEX_CONSTRAINT_GE) && !pk_lower) {
        use = pk_lower = true;
      } else if (orderable && (c.op == SQLITE_INDEX_CONSTRAINT_LT ||
                               c.op == SQLITE_INDEX_CONSTRAINT_LE) && !pk_upper) {
        use = pk_upper = true;
      }
    }
    if (!use) continue;
    if (c.iColumn != pk && c.op == SQLITE_INDEX_CONSTRAINT_EQ &&
        ProbeIndex::CanIndex(def.columns[c.iColumn])) {
      indexable_eq = true;
    }
    info->aConstraintUsage[i].argvIndex = next_arg++;
    info->aConstraintUsage[i].omit = 0;
    entries += std::to_string(c.iColumn) + ":" + std::to_string(c.op) + ",";
  }
  if (!entries.empty()) {
    info->idxStr = sqlite3_mprintf("%s", entries.c_str());
    info->needToFreeIdxStr = 1;
  }
  if (pk_eq) {
    info->estimatedCost = 1;
    info->estimatedRows = 1;
    info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
  } else if (indexable_eq) {
    // Repeated probes hash into a ProbeIndex (FilterTable): a join or IN list probing this
    // column costs about a lookup per probe, not a scan.
    info->estimatedCost = 100;
    info->estimatedRows = 10;
  } else if (pk_lower && pk_upper) {
    info->estimatedCost = 1000;
    info->estimatedRows = 100;
  } else if (pk_lower || pk_upper) {
    info->estimatedCost = 50000;
    info->estimatedRows = 5000;
  } else {
    info->estimatedCost = entries.empty() ? 1000000 : 500000;
    info->estimatedRows = entries.empty() ? 100000 : 50000;
  }
  // Every plan yields rows in PK order.
  if (orderable && info->nOrderBy == 1 && info->aOrderBy[0].iColumn == pk &&
      !info->aOrderBy[0].desc) {
    info->orderByConsumed = 1;
    return {};
  }
  return PlanGrouping(def, info);
}

// The plan for a STREAM table: `_seq` comparisons bound the key range (its keys are in `_seq`
// order), passed as "column:op," entries like PlanScan's; rows come in `_seq` order.
void PlanStreamScan(const TableDef& def, sqlite3_index_info* info) {
  const int seq_col = static_cast<int>(def.columns.size());
  std::string entries;
  int next_arg = 1;
  bool eq = false, bounded = false;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (!c.usable || c.iColumn != seq_col || !IsBoundOp(c.op)) continue;
    info->aConstraintUsage[i].argvIndex = next_arg++;
    info->aConstraintUsage[i].omit = 0;
    entries += std::to_string(c.iColumn) + ":" + std::to_string(c.op) + ",";
    eq |= c.op == SQLITE_INDEX_CONSTRAINT_EQ;
    bounded = true;
  }
  if (!entries.empty()) {
    info->idxStr = sqlite3_mprintf("%s", entries.c_str());
    info->needToFreeIdxStr = 1;
  }
  info->estimatedCost = eq ? 1 : bounded ? 1000 : 100000;
  info->estimatedRows = eq ? 1 : bounded ? 100 : 10000;
  if (eq) info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
  if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn == seq_col && !info->aOrderBy[0].desc) {
    info->orderByConsumed = 1;
  }
}

// The PK value a SQLite constraint operand denotes, in the column's stored form, if SQLite's
// comparison of the column with it means comparing stored values (same storage class after the
// column's affinity, same text); else nullopt (the caller then scans and lets SQLite compare).
// The statement rewrite has already turned typed literals and parameters into stored form.
std::optional<Value> PkOperand(const ColumnDef& col, sqlite3_value* v) {
  Value in = ValueFromSqlite(v);
  if (in.is_null()) return std::nullopt;
  const bool integral = HasIntegerAffinity(col.type);
  if (integral && in.kind() == Value::Kind::kText) {
    // SQLite applies INTEGER affinity to a text operand that looks like an integer.
    sqlite3_value* dup = sqlite3_value_dup(v);
    sqlite3_value_numeric_type(dup);
    if (sqlite3_value_type(dup) == SQLITE_INTEGER) in = Value::Int(sqlite3_value_int64(dup));
    sqlite3_value_free(dup);
  }
  if (integral && in.kind() == Value::Kind::kDouble) {
    double d = in.as_double();
    if (d != static_cast<double>(static_cast<int64_t>(d))) return std::nullopt;
    in = Value::Int(static_cast<int64_t>(d));
  }
  auto coerced = CoerceToColumn(col.type, in, col.name);
  if (!coerced.ok()) return std::nullopt;
  // Only accept conversions that keep SQLite's comparison semantics: same storage class.
  if (coerced->kind() != in.kind()) return std::nullopt;
  if (coerced->kind() == Value::Kind::kText && coerced->as_text() != in.as_text()) {
    return std::nullopt;
  }
  return *coerced;
}

std::string ScopeFor(const TableDef& def, const ExecContext& ctx) {
  return def.type == TableType::kShared ? std::string() : ctx.caller.user_id;
}

int SetVtabError(sqlite3_vtab* vt, ExecContext* ctx, Status s) {
  sqlite3_free(vt->zErrMsg);
  vt->zErrMsg = sqlite3_mprintf("%s", s.message().c_str());
  // A key that exists (kAlreadyExists) is a constraint for SQLite too (INSERT OR IGNORE …).
  const bool constraint =
      s.code() == StatusCode::kConstraint || s.code() == StatusCode::kAlreadyExists;
  int rc = constraint ? SQLITE_CONSTRAINT : SQLITE_ERROR;
  if (ctx) ctx->SetError(std::move(s));
  return rc;
}

// ---- connect / disconnect -------------------------------------------------------------------

int XConnect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
             char** err) {
  auto* conn = static_cast<SqlConnection*>(aux);
  if (argc < 4) {
    *err = sqlite3_mprintf("kalam module needs a table id");
    return SQLITE_ERROR;
  }
  auto def = conn->PendingRegistration(std::strtoull(argv[3], nullptr, 10));
  if (!def) {
    *err = sqlite3_mprintf("kalam table %s is not being registered", argv[3]);
    return SQLITE_ERROR;
  }
  int rc = sqlite3_declare_vtab(db, DeclareTableSql(*def).c_str());
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  auto* vt = new KalamVtab();
  vt->conn = conn;
  vt->def = std::move(def);
  *out = &vt->base;
  return SQLITE_OK;
}

int XDisconnect(sqlite3_vtab* base) {
  delete reinterpret_cast<KalamVtab*>(base);
  return SQLITE_OK;
}

// ---- planning ---------------------------------------------------------------------------------

struct ScanRange;
ScanRange ComputeScanRange(const TableDef& def, const std::string& scope, const char* idx_str,
                           int argc, sqlite3_value** argv);
void RecordForecast(const TableDef& def, ExecContext& ctx, sqlite3_index_info* info);
void FoldScanCounts(KalamCursor* cur);

int XBestIndex(sqlite3_vtab* base, sqlite3_index_info* info) {
  auto* vt = reinterpret_cast<KalamVtab*>(base);
  const TableDef& def = *vt->def;
  std::string grouping;
  if (def.type == TableType::kStream) {
    PlanStreamScan(def, info);
  } else {
    grouping = PlanScan(def, info);
  }
  // A constraint on _deleted (any) asks for tombstones too; SQLite filters them.
  const int deleted_col = static_cast<int>(def.columns.size()) + 1;
  int flags = 0;
  for (int i = 0; i < info->nConstraint; ++i) {
    if (info->aConstraint[i].iColumn == deleted_col) flags |= kIncludeDeleted;
  }
  if (!grouping.empty()) flags |= kGrouped;
  info->idxNum = flags;
  if (def.type != TableType::kStream) {
    char* with_mask = sqlite3_mprintf("%su%llx%s", info->idxStr ? info->idxStr : "",
                                      static_cast<unsigned long long>(info->colUsed),
                                      grouping.c_str());
    if (!with_mask) return SQLITE_NOMEM;
    if (info->needToFreeIdxStr) sqlite3_free(info->idxStr);
    info->idxStr = with_mask;
    info->needToFreeIdxStr = 1;
  }
  if (ExecContext* ctx = vt->conn->context(); ctx && ctx->statement.plan) {
    RecordForecast(def, *ctx, info);
  }
  return SQLITE_OK;
}

// ---- cursor -------------------------------------------------------------------------------------

int XOpen(sqlite3_vtab* base, sqlite3_vtab_cursor** out) {
  auto* cur = new KalamCursor();
  cur->vt = reinterpret_cast<KalamVtab*>(base);
  *out = &cur->base;
  return SQLITE_OK;
}

int XClose(sqlite3_vtab_cursor* base) {
  auto* cur = reinterpret_cast<KalamCursor*>(base);
  FoldScanCounts(cur);
  delete cur;
  return SQLITE_OK;
}

// Moves a STREAM cursor to its next entry.
int AdvanceStream(KalamCursor* cur) {
  if (cur->advance_it) {
    cur->advance_it = false;
    cur->stream->Next();
  }
  if (!cur->stream->Valid()) {
    if (!cur->stream->status().ok()) {
      return SetVtabError(&cur->vt->base, cur->ctx, cur->stream->status());
    }
    cur->eof = true;
    return SQLITE_OK;
  }
  if (cur->counters) ++cur->counters->hot_rows;
  cur->row = cur->stream->values().data();
  cur->seq = cur->stream->seq();
  cur->deleted = cur->stream->deleted();
  cur->advance_it = true;
  cur->eof = false;
  return SQLITE_OK;
}

int NextGroups(KalamCursor* cur);

// Moves to the next visible row of the merge of committed and staged rows.
int Advance(KalamCursor* cur) {
  if (cur->stream) return AdvanceStream(cur);
  if (cur->from_grouped) {
    if (cur->grouped_pos >= cur->grouped->size()) {
      if (cur->grouped->complete()) {
        cur->eof = true;
        return SQLITE_OK;
      }
      return NextGroups(cur);
    }
    const size_t i = cur->grouped_pos++;
    cur->row = nullptr;  // XColumn reads grouped_cells
    cur->grouped_cells = cur->grouped->row_cells(i);
    cur->seq = cur->grouped->seq(i);
    cur->deleted = cur->grouped->deleted(i);
    cur->eof = false;
    return SQLITE_OK;
  }
  if (cur->from_index) {
    if (!cur->probe_hits || cur->probe_pos >= cur->probe_hits->size()) {
      cur->eof = true;
      return SQLITE_OK;
    }
    const ProbeIndex::Row& row = cur->index->row((*cur->probe_hits)[cur->probe_pos++]);
    cur->row = row.values.data();
    cur->seq = row.seq;
    cur->deleted = row.deleted;
    cur->eof = false;
    return SQLITE_OK;
  }
  if (cur->advance_it) {
    cur->advance_it = false;
    cur->it->Next();
  }
  while (true) {
    bool it_valid = cur->it && cur->it->Valid();
    bool st_valid = cur->have_staged && cur->staged_it != cur->staged_end;
    if (!it_valid && !st_valid) {
      if (cur->it && !cur->it->status().ok()) {
        return SetVtabError(&cur->vt->base, cur->ctx, cur->it->status());
      }
      cur->eof = true;
      return SQLITE_OK;
    }
    int cmp = 0;
    if (it_valid && st_valid) {
      cmp = cur->it->key().compare(cur->staged_it->first);
    } else {
      cmp = it_valid ? -1 : 1;
    }
    if (cmp >= 0) {
      // A staged row (it shadows the committed one with the same key).
      const StagedRow& row = cur->staged_it->second;
      ++cur->staged_it;
      if (cmp == 0) cur->it->Next();
      if (!row.live) {
        if (!cur->include_deleted) continue;
        cur->staged_values = row.base_values;
        cur->deleted = true;
      } else {
        cur->staged_values = row.values;
        cur->deleted = false;
      }
      cur->row = cur->staged_values.data();
      cur->seq = 0;
      cur->eof = false;
      return SQLITE_OK;
    }
    if (cur->it->deleted() && !cur->include_deleted) {
      cur->it->Next();
      continue;
    }
    cur->row = cur->it->values();
    cur->seq = cur->it->seq();
    cur->deleted = cur->it->deleted();
    if (auto* scanned = cur->ctx->statement.scanned_seqs) {
      (*scanned)[std::string(cur->it->key())] = cur->seq;
    }
    cur->advance_it = true;
    cur->eof = false;
    return SQLITE_OK;
  }
}

// XFilter of a STREAM table: the caller's scope, `_seq` bounds from PlanStreamScan, expired
// entries hidden (TTL, on the injected clock), delete markers only when `_deleted` is constrained.
int FilterStream(KalamCursor* cur, int idx_num, const char* idx_str, int argc,
                 sqlite3_value** argv) {
  ExecContext* ctx = cur->ctx;
  const TableDef& def = *cur->vt->def;
  cur->scope = ScopeFor(def, *ctx);
  cur->it.reset();
  cur->stream.reset();
  cur->advance_it = false;
  cur->have_staged = false;
  int64_t lo = 0, hi = INT64_MAX;
  int arg = 0;
  for (const char* p = idx_str; p && *p && arg < argc; ++arg) {
    char* end = nullptr;
    std::strtol(p, &end, 10);
    const int op = static_cast<int>(std::strtol(end + 1, &end, 10));
    p = end + 1;
    // The operand as SQLite compares it with an INTEGER column (numeric text becomes a number).
    sqlite3_value* v = sqlite3_value_dup(argv[arg]);
    const int type = sqlite3_value_numeric_type(v);
    const double d = sqlite3_value_double(v);
    const int64_t n = sqlite3_value_int64(v);
    sqlite3_value_free(v);
    if (type != SQLITE_INTEGER && type != SQLITE_FLOAT) continue;  // SQLite compares
    if (d >= 9.2e18 || d <= -9.2e18) continue;
    const bool exact = type == SQLITE_INTEGER || static_cast<double>(n) == d;
    switch (op) {
      case SQLITE_INDEX_CONSTRAINT_EQ:
        if (!exact) {
          lo = 1;
          hi = 0;
        } else {
          lo = std::max(lo, n);
          hi = std::min(hi, n);
        }
        break;
      case SQLITE_INDEX_CONSTRAINT_GT: lo = std::max(lo, d < n ? n : n + 1); break;
      case SQLITE_INDEX_CONSTRAINT_GE: lo = std::max(lo, d <= n ? n : n + 1); break;
      case SQLITE_INDEX_CONSTRAINT_LT: hi = std::min(hi, d > n ? n : n - 1); break;
      case SQLITE_INDEX_CONSTRAINT_LE: hi = std::min(hi, d >= n ? n : n - 1); break;
      default: break;
    }
  }
  if (!ctx->services.streams || !ctx->services.clock) {
    return SetVtabError(&cur->vt->base, ctx, Status::Internal("no stream store"));
  }
  auto scan = ctx->services.streams->NewScan(def, cur->scope, lo, hi,
                                             ctx->services.clock->NowMillis(),
                                             (idx_num & kIncludeDeleted) != 0,
                                             ctx->statement.read_snapshot);
  if (!scan.ok()) return SetVtabError(&cur->vt->base, ctx, scan.status());
  cur->stream = std::move(*scan);
  return AdvanceStream(cur);
}

// The key range [lower, upper) and the segment bounds of a scan of `scope` with the constraints
// PlanScan pushed (`idx_str`) and their operands (`argv`).
struct ScanRange {
  std::string lower, upper;
  std::vector<table::ColdBound> bounds;
  bool empty() const { return lower >= upper; }
};

ScanRange ComputeScanRange(const TableDef& def, const std::string& scope, const char* idx_str,
                           int argc, sqlite3_value** argv) {
  const int pk = static_cast<int>(def.pk_index());
  const ColumnDef& pk_col = def.columns[pk];
  const std::string prefix = table::ScopePrefix(def.table_id, scope);
  ScanRange r;
  r.lower = prefix;
  r.upper = table::PrefixSuccessor(prefix);
  // idxStr: "column:op," per argv entry.
  int arg = 0;
  for (const char* p = idx_str; p && *p && arg < argc; ++arg) {
    char* end = nullptr;
    const int column = static_cast<int>(std::strtol(p, &end, 10));
    const int op = static_cast<int>(std::strtol(end + 1, &end, 10));
    p = end + 1;
    if (column != pk) {
      if (auto bop = BoundOp(op)) {
        Value operand = ValueFromSqlite(argv[arg]);
        if (!operand.is_null()) r.bounds.push_back({column, *bop, std::move(operand)});
      }
      continue;
    }
    auto key = PkOperand(pk_col, argv[arg]);
    if (!key) continue;  // scan and let SQLite (or the predicates) compare
    std::string encoded = prefix + table::EncodePk(*key);
    switch (op) {
      case SQLITE_INDEX_CONSTRAINT_EQ:
        r.lower = encoded;
        r.upper = encoded + '\0';  // exactly this key: no encoding is a prefix of another
        break;
      case SQLITE_INDEX_CONSTRAINT_GT: r.lower = std::max(r.lower, encoded + '\0'); break;
      case SQLITE_INDEX_CONSTRAINT_GE: r.lower = std::max(r.lower, encoded); break;
      case SQLITE_INDEX_CONSTRAINT_LT: r.upper = std::min(r.upper, encoded); break;
      case SQLITE_INDEX_CONSTRAINT_LE: r.upper = std::min(r.upper, encoded + '\0'); break;
      default: break;
    }
  }
  return r;
}

// EXPLAIN: records the plan `info` describes — SQLite's row estimate and, when every pushed
// operand is a constant, the cold segments its key range and bounds select (from the manifest,
// reading no data).
void RecordForecast(const TableDef& def, ExecContext& ctx, sqlite3_index_info* info) {
  ScanForecast f;
  f.estimated_rows = info->estimatedRows;
  const table::ColdStore* cold = ctx.services.store ? ctx.services.store->cold() : nullptr;
  if (def.type != TableType::kStream && ctx.statement.plan->mode() == PlanRecorder::Mode::kPlan) {
    int argc = 0;
    for (int i = 0; i < info->nConstraint; ++i) {
      argc = std::max(argc, info->aConstraintUsage[i].argvIndex);
    }
    std::vector<sqlite3_value*> argv(static_cast<size_t>(argc), nullptr);
    bool known = true;
    for (int i = 0; i < info->nConstraint && known; ++i) {
      const int arg = info->aConstraintUsage[i].argvIndex;
      if (arg <= 0) continue;
      sqlite3_value* v = nullptr;
      known = sqlite3_vtab_rhs_value(info, i, &v) == SQLITE_OK && v != nullptr;
      argv[static_cast<size_t>(arg - 1)] = v;
    }
    if (known) {
      const std::string scope = ScopeFor(def, ctx);
      ScanRange range = ComputeScanRange(def, scope, info->idxStr, argc, argv.data());
      table::ColdScanStats stats;
      if (cold && range.empty()) {
        if (auto sm = cold->Get(def.table_id, scope)) {
          stats.segments = stats.skipped_key_range =
              static_cast<int64_t>(sm->manifest.segments.size());
        }
      } else if (cold) {
        stats = cold->PlanScan(def, scope, range.lower, range.upper, range.bounds,
                               ctx.statement.read_seq > 0 ? ctx.statement.read_seq : INT64_MAX,
                               &f.files);
      }
      f.segments = stats;
    }
  }
  ctx.statement.plan->Forecast(PlanRecorder::Key(def.table_id, info->idxNum, info->idxStr), f);
}

// Adds what `cur`'s finished RowScan read to its EXPLAIN ANALYZE counters.
void FoldScanCounts(KalamCursor* cur) {
  if (cur->counters && cur->it) {
    cur->counters->hot_rows += cur->it->hot_rows();
    cur->counters->cold_rows += cur->it->cold_rows();
  }
}

// The equality probe a plan makes: the first equality on a column a ProbeIndex can hold, and the
// hash key of its operand (nullopt when SQLite would not compare it with stored values as they
// are: the cursor then scans and SQLite compares).
struct Probe {
  int column = -1;
  std::optional<std::string> key;
};

Probe FindProbe(const TableDef& def, const char* idx_str, int argc, sqlite3_value** argv) {
  const int ncols = static_cast<int>(def.columns.size());
  Probe probe;
  int arg = 0;
  for (const char* p = idx_str; p && *p && arg < argc; ++arg) {
    char* end = nullptr;
    const int column = static_cast<int>(std::strtol(p, &end, 10));
    const int op = static_cast<int>(std::strtol(end + 1, &end, 10));
    p = end + 1;
    if (op != SQLITE_INDEX_CONSTRAINT_EQ || column < 0 || column >= ncols) continue;
    const ColumnDef& col = def.columns[column];
    if (!ProbeIndex::CanIndex(col)) continue;
    probe.column = column;
    if (auto operand = PkOperand(col, argv[arg])) probe.key = ProbeIndex::KeyOf(col, *operand);
    return probe;
  }
  return probe;
}

// Builds cur->index over every committed row of the cursor's scope (tombstones only when the plan
// asks for them), unless it would hold more than `limit` rows (or kMaxProbeIndexBytes) or a value
// it cannot hash exactly; sets *built, and *over_limit when `limit` alone stopped it.
// SQLITE_OK or the scan's error.
int BuildProbeIndex(KalamCursor* cur, int column, size_t limit, bool* built, bool* over_limit) {
  *built = false;
  *over_limit = false;
  ExecContext* ctx = cur->ctx;
  const TableDef& def = *cur->vt->def;
  const std::string prefix = table::ScopePrefix(def.table_id, cur->scope);
  auto scan = ctx->services.store->NewScan(
      def, cur->scope, prefix, table::PrefixSuccessor(prefix), ctx->statement.read_snapshot, {},
      ctx->statement.read_seq > 0 ? ctx->statement.read_seq : INT64_MAX,
      cur->counters ? &cur->counters->segments : nullptr);
  if (!scan.ok()) return SetVtabError(&cur->vt->base, ctx, scan.status());
  table::RowScan& rows = **scan;
  auto index = std::make_unique<ProbeIndex>(column, cur->include_deleted);
  bool complete = true;
  for (; rows.Valid(); rows.Next()) {
    if (rows.deleted() && !cur->include_deleted) continue;
    *over_limit = index->size() >= limit;
    if (*over_limit || index->bytes() >= kMaxProbeIndexBytes ||
        !index->Add(def.columns[column], rows.key(), rows.seq(), rows.deleted(), rows.values(),
                    def.columns.size())) {
      complete = false;
      break;
    }
  }
  if (cur->counters) {
    cur->counters->hot_rows += rows.hot_rows();
    cur->counters->cold_rows += rows.cold_rows();
  }
  if (!rows.status().ok()) return SetVtabError(&cur->vt->base, ctx, rows.status());
  if (complete) {
    cur->index = std::move(index);
    *built = true;
  }
  return SQLITE_OK;
}

// Serves this filter from the cursor's ProbeIndex, building it when due (kKeyProbesBeforeIndex),
// if the plan probes an indexable column with an operand compared as stored and the statement
// neither writes (UPDATE/DELETE record what they read) nor has staged rows (the index holds
// committed rows, read once). *served says whether it did; SQLITE_OK or a scan's error.
int FilterFromIndex(KalamCursor* cur, const char* idx_str, int argc, sqlite3_value** argv,
                    bool* served) {
  *served = false;
  const StatementState& st = cur->ctx->statement;
  if (st.scanned_seqs || (st.write_set && !st.write_set->empty())) return SQLITE_OK;
  const TableDef& def = *cur->vt->def;
  const Probe probe = FindProbe(def, idx_str, argc, argv);
  if (probe.column < 0 || !probe.key) return SQLITE_OK;
  if (cur->index && (cur->index->column() != probe.column ||
                     cur->index->include_deleted() != cur->include_deleted)) {
    cur->index.reset();
  }
  if (!cur->index) {
    const bool is_pk = probe.column == static_cast<int>(def.pk_index());
    if (cur->build_index_at == 0) cur->build_index_at = is_pk ? kKeyProbesBeforeIndex : 2;
    if (++cur->probes < cur->build_index_at) return SQLITE_OK;
    const size_t lookups_limit = static_cast<size_t>(cur->probes) * kKeyProbeRowsPerLookup;
    const size_t limit = is_pk ? std::min(kMaxProbeIndexRows, lookups_limit) : kMaxProbeIndexRows;
    bool built = false, over_limit = false;
    if (int rc = BuildProbeIndex(cur, probe.column, limit, &built, &over_limit); rc != SQLITE_OK) {
      return rc;
    }
    if (!built) {
      // Too many rows for the lookups so far (retry after more), or too many at all.
      cur->build_index_at =
          over_limit && limit < kMaxProbeIndexRows ? cur->probes * 4 : INT32_MAX;
      return SQLITE_OK;
    }
  }
  cur->probe_hits = cur->index->Find(*probe.key);
  cur->probe_pos = 0;
  cur->from_index = true;
  *served = true;
  return SQLITE_OK;
}

// The user columns a scan must decode: those flagged in idxStr's "u<hex>" colUsed mask (bit 63:
// every column from the 64th on) and the primary key (SQLite reads it, unflagged, to drop
// duplicates when it unions several plans for an OR), or all (empty) when the statement is an
// UPDATE or DELETE, whose xUpdate takes every column.
std::vector<bool> ColumnsToDecode(const TableDef& def, const char* idx_str,
                                  const StatementState& st) {
  const char* mask_text = idx_str ? std::strchr(idx_str, 'u') : nullptr;
  if (!mask_text || st.scanned_seqs) return {};
  const uint64_t mask = std::strtoull(mask_text + 1, nullptr, 16);
  std::vector<bool> columns(def.columns.size());
  for (size_t i = 0; i < columns.size(); ++i) columns[i] = (mask >> std::min<size_t>(i, 63)) & 1;
  columns[def.pk_index()] = true;
  return columns;
}

// "64 MiB", or "1200 bytes" below a MiB.
std::string LimitText(size_t bytes) {
  return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MiB"
                             : std::to_string(bytes) + " bytes";
}

// Holds the rows the source yields from the cursor's position on (from group_from, when set,
// up to what fits: GroupedRows) and positions the cursor on the first of them in order.
int LoadGroups(KalamCursor* cur) {
  const TableDef& def = *cur->vt->def;
  auto grouped = std::make_unique<GroupedRows>(def, cur->group_by, cur->group_keep,
                                               cur->group_from ? &*cur->group_from : nullptr);
  while (!cur->eof) {
    if (grouped->Add(cur->row, cur->seq, cur->deleted) == GroupedRows::Added::kGroupTooLarge) {
      return SetVtabError(
          &cur->vt->base, cur->ctx,
          Status::ResourceExhausted(
              "One group of a GROUP BY or DISTINCT over table '" + def.QualifiedName() +
              "' holds more than " + LimitText(GroupedRows::max_bytes()) +
              " of rows; group by more columns or narrow the query with WHERE"));
    }
    if (int rc = Advance(cur); rc != SQLITE_OK) return rc;
  }
  grouped->Order();
  cur->grouped = std::move(grouped);
  cur->grouped_pos = 0;
  cur->from_grouped = true;
  return Advance(cur);
}

int FilterTable(KalamCursor* cur, int idx_num, const char* idx_str, int argc,
                sqlite3_value** argv);

// The rows after the last group held: the source read again from its start, holding the rows
// from the first group not held on.
int NextGroups(KalamCursor* cur) {
  cur->group_from = cur->grouped->upper();
  cur->from_grouped = false;
  cur->grouped.reset();
  if (int rc = FilterTable(cur, cur->group_idx_num, cur->group_idx_str.c_str(),
                           static_cast<int>(cur->group_argv.size()), cur->group_argv.data());
      rc != SQLITE_OK) {
    return rc;
  }
  return LoadGroups(cur);
}

// XFilter of a USER/SHARED table: FilterTable, and for a grouped plan (kGrouped) its rows held
// and handed out in order (LoadGroups).
int FilterAndGroup(KalamCursor* cur, int idx_num, const char* idx_str, int argc,
                   sqlite3_value** argv) {
  cur->from_grouped = false;
  cur->grouped.reset();
  if (int rc = FilterTable(cur, idx_num, idx_str, argc, argv);
      rc != SQLITE_OK || !(idx_num & kGrouped)) {
    return rc;
  }
  const TableDef& def = *cur->vt->def;
  // idxStr's suffix: "g" then "column:desc," per ordering column (PlanGrouping).
  const char* mask = std::strchr(idx_str, 'u');
  const char* p = mask ? std::strchr(mask, 'g') : nullptr;
  if (!p) {
    return SetVtabError(&cur->vt->base, cur->ctx,
                        Status::Internal("grouped plan without columns"));
  }
  cur->group_by.clear();
  for (++p; *p;) {
    char* end = nullptr;
    GroupedRows::OrderColumn o;
    o.column = static_cast<int>(std::strtol(p, &end, 10));
    o.desc = std::strtol(end + 1, &end, 10) != 0;
    p = end + 1;
    cur->group_by.push_back(o);
  }
  cur->group_keep = ColumnsToDecode(def, idx_str, cur->ctx->statement);
  cur->group_idx_num = idx_num;
  cur->group_idx_str = idx_str;
  cur->FreeGroupArgs();
  for (int i = 0; i < argc; ++i) {
    sqlite3_value* v = sqlite3_value_dup(argv[i]);
    if (!v) return SQLITE_NOMEM;
    cur->group_argv.push_back(v);
  }
  cur->group_from.reset();
  return LoadGroups(cur);
}

int FilterTable(KalamCursor* cur, int idx_num, const char* idx_str, int argc,
                sqlite3_value** argv) {
  ExecContext* ctx = cur->ctx;
  const TableDef& def = *cur->vt->def;
  if (def.type == TableType::kStream) return FilterStream(cur, idx_num, idx_str, argc, argv);
  cur->scope = ScopeFor(def, *ctx);
  cur->include_deleted = (idx_num & kIncludeDeleted) != 0;
  FoldScanCounts(cur);
  cur->it.reset();
  cur->advance_it = false;
  cur->from_index = false;
  cur->have_staged = false;
  bool served = false;
  if (int rc = FilterFromIndex(cur, idx_str, argc, argv, &served); rc != SQLITE_OK) return rc;
  if (served) return Advance(cur);
  ScanRange range = ComputeScanRange(def, cur->scope, idx_str, argc, argv);
  cur->bounds = std::move(range.bounds);
  if (range.empty()) {
    cur->have_staged = false;
    cur->eof = true;
    return SQLITE_OK;
  }
  auto scan = ctx->services.store->NewScan(
      def, cur->scope, range.lower, range.upper, ctx->statement.read_snapshot, cur->bounds,
      ctx->statement.read_seq > 0 ? ctx->statement.read_seq : INT64_MAX,
      cur->counters ? &cur->counters->segments : nullptr,
      ColumnsToDecode(def, idx_str, ctx->statement));
  if (!scan.ok()) return SetVtabError(&cur->vt->base, ctx, scan.status());
  cur->it = std::move(*scan);
  cur->have_staged = ctx->statement.write_set && !ctx->statement.write_set->empty();
  if (cur->have_staged) {
    const auto& rows = ctx->statement.write_set->rows();
    cur->staged_it = rows.lower_bound(range.lower);
    cur->staged_end = rows.lower_bound(range.upper);
  }
  return Advance(cur);
}

// Runs `step` and, under EXPLAIN ANALYZE, adds its time and the row it produced to the cursor's
// counters.
template <typename Step>
int Measured(KalamCursor* cur, Step step) {
  if (!cur->counters) return step();
  const auto start = std::chrono::steady_clock::now();
  const int rc = step();
  cur->counters->elapsed_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now() - start).count();
  if (rc == SQLITE_OK && !cur->eof) ++cur->counters->rows;
  return rc;
}

int XFilter(sqlite3_vtab_cursor* base, int idx_num, const char* idx_str, int argc,
            sqlite3_value** argv) {
  auto* cur = reinterpret_cast<KalamCursor*>(base);
  ExecContext* ctx = cur->vt->conn->context();
  if (!ctx) return SetVtabError(&cur->vt->base, nullptr, Status::Internal("no request context"));
  cur->ctx = ctx;
  cur->ncols = static_cast<int>(cur->vt->def->columns.size());
  PlanRecorder* plan = ctx->statement.plan;
  if (plan && plan->mode() == PlanRecorder::Mode::kAnalyze) {
    if (!cur->counters) {
      cur->counters = &plan->Counters(PlanRecorder::Key(cur->vt->def->table_id, idx_num, idx_str));
    }
    ++cur->counters->scans;
  }
  return Measured(cur, [&] { return FilterAndGroup(cur, idx_num, idx_str, argc, argv); });
}

int XNext(sqlite3_vtab_cursor* base) {
  auto* cur = reinterpret_cast<KalamCursor*>(base);
  return Measured(cur, [cur] { return Advance(cur); });
}

int XEof(sqlite3_vtab_cursor* base) { return reinterpret_cast<KalamCursor*>(base)->eof; }

int XColumn(sqlite3_vtab_cursor* base, sqlite3_context* ctx, int i) {
  auto* cur = reinterpret_cast<KalamCursor*>(base);
  const int n = cur->ncols;
  if (i < n && !cur->from_grouped) {
    const Value& v = cur->row[i];
    // Numbers and NULL inline (most of an aggregate's cells); the rest by ResultValue.
    switch (v.kind()) {
      case Value::Kind::kInt: sqlite3_result_int64(ctx, v.as_int()); break;
      case Value::Kind::kDouble: sqlite3_result_double(ctx, v.as_double()); break;
      case Value::Kind::kNull: sqlite3_result_null(ctx); break;
      default: ResultValue(ctx, &cur->vt->def->columns[i], v); break;
    }
    return SQLITE_OK;
  }
  const TableDef& def = *cur->vt->def;
  if (i < n) {
    const int slot = cur->grouped->cell_slot(static_cast<size_t>(i));
    if (slot < 0) {
      sqlite3_result_null(ctx);
      return SQLITE_OK;
    }
    const GroupedRows::Cell& c = cur->grouped_cells[slot];
    switch (c.kind) {
      case Value::Kind::kInt: sqlite3_result_int64(ctx, c.i); break;
      case Value::Kind::kDouble: sqlite3_result_double(ctx, c.d); break;
      case Value::Kind::kNull: sqlite3_result_null(ctx); break;
      default:
        ResultBytes(ctx, &def.columns[i], c.kind == Value::Kind::kBlob, cur->grouped->bytes_of(c));
        break;
    }
  } else if (i == n) {
    if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;  // UPDATE not assigning _seq
    if (cur->seq) sqlite3_result_int64(ctx, cur->seq);
    else sqlite3_result_null(ctx);
  } else {
    if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;
    sqlite3_result_int(ctx, cur->deleted ? 1 : 0);
  }
  return SQLITE_OK;
}

}  // namespace

Status ScanVisibleRows(const TableDef& def, ExecContext& ctx, const std::vector<bool>& columns,
                       const std::function<Status(const Value* row)>& visit) {
  if (def.type == TableType::kStream) {
    return Status::Internal("ScanVisibleRows reads USER and SHARED tables only");
  }
  KalamVtab vt;
  vt.def = std::shared_ptr<const TableDef>(std::shared_ptr<const TableDef>(), &def);  // unowned
  KalamCursor cur;
  cur.vt = &vt;
  cur.ctx = &ctx;
  cur.ncols = static_cast<int>(def.columns.size());
  // The plan of a scan without constraints: only idxStr's colUsed mask (ColumnsToDecode).
  uint64_t mask = 0;
  for (size_t i = 0; i < columns.size() && i < def.columns.size(); ++i) {
    if (columns[i]) mask |= uint64_t{1} << std::min<size_t>(i, 63);
  }
  char idx_str[24];
  std::snprintf(idx_str, sizeof idx_str, "u%llx", static_cast<unsigned long long>(mask));
  Status result;
  int rc = FilterTable(&cur, 0, idx_str, 0, nullptr);
  while (rc == SQLITE_OK && !cur.eof) {
    result = visit(cur.row);
    if (!result.ok()) break;
    rc = Advance(&cur);
  }
  if (rc != SQLITE_OK) {
    result = ctx.statement.callback_error;
    ctx.statement.callback_error = Status::OK();
    if (result.ok()) {
      result = Status::Internal(vt.base.zErrMsg ? vt.base.zErrMsg : "table scan failed");
    }
  }
  sqlite3_free(vt.base.zErrMsg);
  vt.base.zErrMsg = nullptr;
  return result;
}

namespace {

int XRowid(sqlite3_vtab_cursor*, sqlite3_int64* rowid) {
  *rowid = 0;  // WITHOUT ROWID: never used
  return SQLITE_OK;
}

// ---- writes -------------------------------------------------------------------------------------

// The newest version of `pk_key` as this transaction sees it: staged, else committed.
struct Existing {
  bool found = false;
  bool live = false;
  int64_t seq = 0;
  std::vector<Value> values;
};

Result<Existing> LookupRow(ExecContext& ctx, const TableDef& def, const std::string& pk_key) {
  Existing e;
  if (StagedRow* s = ctx.statement.write_set->Find(pk_key)) {
    e.found = true;
    e.live = s->live;
    e.values = s->live ? s->values : s->base_values;
    return e;
  }
  KALAM_ASSIGN_OR_RETURN(auto row, ctx.services.store->GetByKey(def, ScopeFor(def, ctx), pk_key));
  if (row) {
    e.found = true;
    e.live = !row->deleted;
    e.seq = row->seq;
    e.values = std::move(row->values);
  }
  return e;
}

Result<Value> DefaultFor(const ColumnDef& col, ExecContext& ctx) {
  using K = catalog::DefaultSpec::Kind;
  const int64_t now_us = ctx.services.clock->NowMicros();
  switch (col.default_value.kind) {
    case K::kNone: return Value::Null();
    case K::kLiteral: return col.default_value.literal;
    case K::kNow:
      if (col.type.kind == TypeKind::kDate) return Value::Int(now_us / 86400000000LL);
      if (col.type.kind == TypeKind::kTime) return Value::Int(now_us % 86400000000LL);
      return CoerceToColumn(col.type, Value::Int(now_us), col.name);
    case K::kSnowflakeId:
      return CoerceToColumn(col.type, Value::Int(ctx.services.ids->Next()), col.name);
    case K::kUuidV7: return CoerceToColumn(col.type, Value::Text(NewUuidV7(now_us / 1000)),
                                           col.name);
    case K::kUlid: return CoerceToColumn(col.type, Value::Text(NewUlid(now_us / 1000)), col.name);
    case K::kCurrentUser:
      return CoerceToColumn(col.type, Value::Text(ctx.caller.user_id), col.name);
  }
  return Value::Null();
}

Status CheckSystemColumnsUntouched(const TableDef& def, int argc, sqlite3_value** argv,
                                   bool is_insert) {
  const size_t n = def.columns.size();
  for (size_t k = 0; k < 2; ++k) {
    sqlite3_value* v = argv[2 + n + k];
    bool written = is_insert ? sqlite3_value_type(v) != SQLITE_NULL : !sqlite3_value_nochange(v);
    if (written) {
      return Status::InvalidArgument(std::string("Column '") + (k == 0 ? "_seq" : "_deleted") +
                                     "' is a system column and cannot be written");
    }
  }
  (void)argc;
  return Status::OK();
}

// The values an INSERT writes: its columns converted to their types, DEFAULTs for the columns
// it omits; kConstraint for a NULL in a NOT NULL or key column.
Result<std::vector<Value>> InsertedValues(ExecContext& ctx, const TableDef& def,
                                          sqlite3_value** argv, int argc) {
  KALAM_RETURN_IF_ERROR(CheckSystemColumnsUntouched(def, argc, argv, true));
  const size_t n = def.columns.size();
  std::vector<Value> values(n);
  for (size_t i = 0; i < n; ++i) {
    const ColumnDef& col = def.columns[i];
    bool explicit_col = ctx.statement.insert_explicit.empty() || ctx.statement.insert_explicit[i];
    if (explicit_col) {
      KALAM_ASSIGN_OR_RETURN(values[i], CoerceToColumn(col.type, ValueFromSqlite(argv[2 + i]),
                             col.name));
    } else {
      KALAM_ASSIGN_OR_RETURN(values[i], DefaultFor(col, ctx));
    }
    if (values[i].is_null() && (!col.nullable || col.primary_key)) {
      return Status::Constraint("Column '" + col.name + "' cannot be NULL");
    }
  }
  return values;
}

// A STREAM insert: appended, no key uniqueness (an event log), staged under a key of its own.
Status DoStreamInsert(ExecContext& ctx, const std::shared_ptr<const TableDef>& def,
                      sqlite3_value** argv, int argc) {
  KALAM_ASSIGN_OR_RETURN(std::vector<Value> values, InsertedValues(ctx, *def, argv, argc));
  StagedRow row;
  row.table = def;
  row.scope = ScopeFor(*def, ctx);
  row.pk_key = table::StreamInsertStagingKey(def->table_id, row.scope,
                                             ctx.statement.write_set->size());
  row.live = true;
  row.values = std::move(values);
  if (ctx.statement.inserted_keys) ctx.statement.inserted_keys->push_back(row.pk_key);
  ctx.statement.write_set->Stage(std::move(row));
  return Status::OK();
}

// A STREAM delete of the row at `_seq` = seq_value (the declared key of a stream's virtual
// table): staged with the row as read, so the commit can re-check that it is still there.
Status DoStreamDelete(ExecContext& ctx, const std::shared_ptr<const TableDef>& def,
                      sqlite3_value* seq_value) {
  if (sqlite3_value_type(seq_value) != SQLITE_INTEGER) return Status::OK();
  const int64_t seq = sqlite3_value_int64(seq_value);
  const std::string scope = ScopeFor(*def, ctx);
  KALAM_ASSIGN_OR_RETURN(auto stored, ctx.services.streams->Get(*def, scope, seq));
  StagedRow row;
  row.table = def;
  row.scope = scope;
  row.pk_key = table::StreamKey(def->table_id, scope, seq);
  row.base_seq = seq;
  row.base_live = true;
  // The scan saw the row, so SQLite counts it as deleted. When a concurrent DELETE removed it
  // since, it is staged all the same: its commit then fails with kConflict and the statement is
  // retried on what is stored, so its count never includes a row another statement deleted.
  if (stored && !stored->deleted) row.base_values = std::move(stored->values);
  row.live = false;
  ctx.statement.write_set->Stage(std::move(row));
  return Status::OK();
}

Status DoInsert(ExecContext& ctx, const std::shared_ptr<const TableDef>& def, sqlite3_value** argv,
                int argc) {
  KALAM_ASSIGN_OR_RETURN(std::vector<Value> values, InsertedValues(ctx, *def, argv, argc));
  const size_t pk = def->pk_index();
  std::string scope = ScopeFor(*def, ctx);
  std::string pk_key = table::PkKey(def->table_id, scope, values[pk]);
  KALAM_ASSIGN_OR_RETURN(Existing existing, LookupRow(ctx, *def, pk_key));
  if (existing.found && existing.live) {
    return Status::AlreadyExists("Primary key violation: value '" + commit::PkDisplay(values[pk]) +
                                 "' already exists in column '" + def->columns[pk].name + "'");
  }
  StagedRow row;
  if (StagedRow* staged = ctx.statement.write_set->Find(pk_key)) {
    row = *staged;  // re-insert after a delete in this transaction keeps the committed base
  } else {
    row.table = def;
    row.scope = std::move(scope);
    row.pk = values[pk];
    row.pk_key = pk_key;
    row.base_seq = existing.seq;  // a tombstone's _seq, or 0
    row.base_live = false;
    row.base_values = std::move(existing.values);
  }
  row.live = true;
  row.values = std::move(values);
  if (ctx.statement.inserted_keys) ctx.statement.inserted_keys->push_back(row.pk_key);
  ctx.statement.write_set->Stage(std::move(row));
  return Status::OK();
}

Status DoUpdateOrDelete(ExecContext& ctx, const std::shared_ptr<const TableDef>& def,
                        sqlite3_value* old_pk, sqlite3_value** argv, int argc, bool is_delete) {
  const ColumnDef& pk_col = def->pk_column();
  KALAM_ASSIGN_OR_RETURN(Value pk, CoerceToColumn(pk_col.type, ValueFromSqlite(old_pk),
                         pk_col.name));
  std::string scope = ScopeFor(*def, ctx);
  std::string pk_key = table::PkKey(def->table_id, scope, pk);
  KALAM_ASSIGN_OR_RETURN(Existing existing, LookupRow(ctx, *def, pk_key));
  // The committed version this statement's scan read, if it read one (StatementState::
  // scanned_seqs). When a commit changed or deleted the row since, the row is staged on the
  // version read: its commit then fails with kConflict and the statement runs again on what is
  // stored, so it never changes or counts a row that is no longer what its WHERE matched.
  int64_t read_seq = 0;
  const bool staged_before = ctx.statement.write_set->Find(pk_key) != nullptr;
  if (auto* scanned = ctx.statement.scanned_seqs; scanned && !staged_before) {
    if (auto it = scanned->find(pk_key); it != scanned->end()) read_seq = it->second;
  }
  const bool changed_since_read = read_seq != 0 && (!existing.live || existing.seq != read_seq);
  if (changed_since_read) {
    existing.found = true;
    existing.live = true;  // as read; the commit's re-check sees it changed
    existing.seq = read_seq;
  } else if (!existing.found || !existing.live) {
    return is_delete ? Status::OK()
                     : Status::InvalidArgument("Cannot update a deleted row (primary key '" +
                                               commit::PkDisplay(pk) + "')");
  }
  std::vector<Value> values;
  if (!is_delete) {
    KALAM_RETURN_IF_ERROR(CheckSystemColumnsUntouched(*def, argc, argv, false));
    const size_t n = def->columns.size();
    values.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const ColumnDef& col = def->columns[i];
      sqlite3_value* v = argv[2 + i];
      if (sqlite3_value_nochange(v)) {
        values[i] = existing.values[i];
        continue;
      }
      KALAM_ASSIGN_OR_RETURN(values[i], CoerceToColumn(col.type, ValueFromSqlite(v), col.name));
      if (values[i].is_null() && (!col.nullable || col.primary_key)) {
        return Status::Constraint("Column '" + col.name + "' cannot be NULL");
      }
    }
    if (!(values[def->pk_index()] == pk)) {
      return Status::InvalidArgument("Primary key column '" + pk_col.name +
                                     "' cannot be updated; delete the row and insert a new one");
    }
  }
  StagedRow row;
  if (StagedRow* staged = ctx.statement.write_set->Find(pk_key)) {
    row = *staged;
  } else {
    row.table = def;
    row.scope = std::move(scope);
    row.pk = pk;
    row.pk_key = pk_key;
    row.base_seq = existing.seq;
    row.base_live = true;
    row.base_values = existing.values;
  }
  if (is_delete) {
    row.live = false;
    row.values.clear();
    if (!row.base_live) row.base_values = existing.values;
  } else {
    row.live = true;
    row.values = std::move(values);
  }
  ctx.statement.write_set->Stage(std::move(row));
  return Status::OK();
}

int XUpdate(sqlite3_vtab* base, int argc, sqlite3_value** argv, sqlite3_int64*) {
  auto* vt = reinterpret_cast<KalamVtab*>(base);
  ExecContext* ctx = vt->conn->context();
  if (!ctx || !ctx->statement.write_set) {
    return SetVtabError(base, ctx, Status::Internal("write outside a request"));
  }
  Status s;
  if (vt->def->type == TableType::kStream) {
    if (argc == 1) {
      s = DoStreamDelete(*ctx, vt->def, argv[0]);
    } else if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      s = DoStreamInsert(*ctx, vt->def, argv, argc);
    } else {
      s = Status::InvalidArgument("UPDATE is not supported for STREAM tables");
    }
  } else if (argc == 1) {
    s = DoUpdateOrDelete(*ctx, vt->def, argv[0], nullptr, argc, true);
  } else if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    s = DoInsert(*ctx, vt->def, argv, argc);
  } else {
    s = DoUpdateOrDelete(*ctx, vt->def, argv[0], argv, argc, false);
  }
  if (!s.ok()) return SetVtabError(base, ctx, std::move(s));
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 2;
  m.xCreate = XConnect;
  m.xConnect = XConnect;
  m.xBestIndex = XBestIndex;
  m.xDisconnect = XDisconnect;
  m.xDestroy = XDisconnect;
  m.xOpen = XOpen;
  m.xClose = XClose;
  m.xFilter = XFilter;
  m.xNext = XNext;
  m.xEof = XEof;
  m.xColumn = XColumn;
  m.xRowid = XRowid;
  m.xUpdate = XUpdate;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

int RegisterKalamModule(sqlite3* db, SqlConnection* conn) {
  return sqlite3_create_module_v2(db, "kalam", &kModule, conn, nullptr);
}

std::string DeclareTableSql(const TableDef& def) {
  std::string sql = "CREATE TABLE x(";
  for (const auto& c : def.columns) {
    sql += "\"" + c.name + "\" " + AffinityName(c.type);
    if (const char* collation = DeclaredCollation(c.type); std::strcmp(collation, "BINARY") != 0) {
      sql += " COLLATE " + std::string(collation);
    }
    sql += ", ";
  }
  // A STREAM table is keyed by `_seq` (it may have no primary key, and keys need not be unique):
  // DELETE then names each row by its `_seq`.
  const std::string key = def.type == TableType::kStream ? "_seq" : def.pk_column().name;
  sql += "\"_seq\" INTEGER, \"_deleted\" INTEGER, PRIMARY KEY(\"" + key + "\")) WITHOUT ROWID";
  return sql;
}

}  // namespace kalam::sql
