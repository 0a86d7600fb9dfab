// Bounded printf()/format().
#include "sql/sqlite/safe_printf.h"

#include <cstdlib>
#include <map>
#include <memory>

namespace kalam::sql {

namespace {

// A private connection running SQLite's own printf; one statement per argument count.
struct PrintfHelper {
  sqlite3* db = nullptr;
  std::map<int, sqlite3_stmt*> stmts;
  size_t max_width = 0;
  ~PrintfHelper() {
    for (auto& [n, s] : stmts) sqlite3_finalize(s);
    if (db) sqlite3_close_v2(db);
  }
  sqlite3_stmt* Stmt(int argc) {
    auto it = stmts.find(argc);
    if (it != stmts.end()) return it->second;
    std::string sql = "SELECT printf(";
    for (int i = 1; i <= argc; ++i) sql += (i > 1 ? ",?" : "?") + std::to_string(i);
    sql += ")";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      return nullptr;
    }
    stmts[argc] = s;
    return s;
  }
};

void DestroyHelper(void* p) { delete static_cast<PrintfHelper*>(p); }

void SafePrintfFunc(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* helper = static_cast<PrintfHelper*>(sqlite3_user_data(ctx));
  if (argc < 1 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  std::string_view format(reinterpret_cast<const char*>(sqlite3_value_text(argv[0])),
                          sqlite3_value_bytes(argv[0]));
  Status ok = CheckPrintfFormat(format, argc, argv, helper->max_width);
  if (!ok.ok()) {
    sqlite3_result_error(ctx, ok.message().c_str(), -1);
    return;
  }
  sqlite3_stmt* stmt = helper->Stmt(argc);
  if (!stmt) {
    sqlite3_result_error(ctx, "printf() is not available", -1);
    return;
  }
  for (int i = 0; i < argc; ++i) sqlite3_bind_value(stmt, i + 1, argv[i]);
  int rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    sqlite3_result_value(ctx, sqlite3_column_value(stmt, 0));
  } else {
    sqlite3_result_error(ctx, sqlite3_errmsg(helper->db), -1);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

}  // namespace

Status CheckPrintfFormat(std::string_view f, int argc, sqlite3_value** argv, size_t max_width) {
  int next_arg = 1;
  auto too_large = [&](long long n) {
    return n > static_cast<long long>(max_width) || n < -static_cast<long long>(max_width);
  };
  auto fail = [&] {
    return Status::InvalidArgument("printf() width or precision larger than " +
                                   std::to_string(max_width) + " is not allowed");
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') continue;
    if (++i >= f.size()) break;
    if (f[i] == '%') continue;
    while (i < f.size() && std::string_view("-+ 0#,!").find(f[i]) != std::string_view::npos) ++i;
    // Width, then precision: each digits or '*' (taken from the next argument).
    for (int part = 0; part < 2 && i < f.size(); ++part) {
      if (part == 1) {
        if (f[i] != '.') break;
        ++i;
      }
      if (i < f.size() && f[i] == '*') {
        if (next_arg < argc && too_large(sqlite3_value_int64(argv[next_arg]))) return fail();
        ++next_arg;
        ++i;
      } else {
        long long n = 0;
        while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
          n = n * 10 + (f[i] - '0');
          if (too_large(n)) return fail();
          ++i;
        }
      }
    }
    while (i < f.size() && f[i] == 'l') ++i;
    ++next_arg;  // the conversion's own argument
  }
  return Status::OK();
}

int RegisterSafePrintf(sqlite3* db, size_t max_width) {
  auto helper = std::make_unique<PrintfHelper>();
  helper->max_width = max_width;
  if (sqlite3_open_v2(":memory:", &helper->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return SQLITE_ERROR;
  }
  sqlite3_limit(helper->db, SQLITE_LIMIT_LENGTH, static_cast<int>(max_width));
  PrintfHelper* raw = helper.release();
  // Both names share one helper; it is destroyed with the first registration (printf), which
  // SQLite drops when `db` closes.
  int rc = sqlite3_create_function_v2(db, "printf", -1, SQLITE_UTF8 | SQLITE_INNOCUOUS, raw,
                                      SafePrintfFunc, nullptr, nullptr, DestroyHelper);
  if (rc != SQLITE_OK) return rc;
  return sqlite3_create_function_v2(db, "format", -1, SQLITE_UTF8 | SQLITE_INNOCUOUS, raw,
                                    SafePrintfFunc, nullptr, nullptr, nullptr);
}

}  // namespace kalam::sql
