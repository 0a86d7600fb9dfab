// SafePrintf: SQL printf()/format() with bounded widths and precisions. SQLite 3.40 pads a huge
// width one character at a time even after its length limit is hit (about 10 s for a width of
// 2e9) without checking for interrupts, so an authenticated caller could pin a worker per call.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <string>

#include "common/status.h"

namespace kalam::sql {

// Checks a printf format and its arguments (argv[1..argc-1], as consumed by '*' widths and
// precisions) so that no width or precision exceeds `max_width`. kInvalidArgument otherwise.
Status CheckPrintfFormat(std::string_view format, int argc, sqlite3_value** argv, size_t max_width);

// Registers printf() and format() on `db`, overriding SQLite's built-ins: arguments are checked
// with CheckPrintfFormat, then formatted by SQLite's own printf on a private helper connection
// (so the output is exactly SQLite's). The helper lives as long as `db`.
int RegisterSafePrintf(sqlite3* db, size_t max_width);

}  // namespace kalam::sql
