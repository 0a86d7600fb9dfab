// Text renderings of query results: aligned tables (Unicode- and terminal-width aware), CSV and
// JSON lines. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kalam/client.h"

namespace kalam::client {

// Display width of UTF-8 text in terminal columns: East Asian wide and fullwidth characters and
// emoji count 2; combining marks, zero-width and control characters 0; each byte of an invalid
// sequence 1.
size_t DisplayWidth(std::string_view utf8);

// The longest prefix of `utf8` whose display width is at most `width`, followed by "…" when it
// had to be cut (the ellipsis counts in `width`). Never splits a character.
std::string TruncateToWidth(std::string_view utf8, size_t width);

// How RenderTable draws.
struct TableOptions {
  // Fit the table into this many terminal columns by shortening the widest columns (cut cells
  // end in "…"); 0 = never shorten. Default 0.
  size_t max_width = 0;
  // Wrap the header in bold and NULLs in dim ANSI escapes. Default false.
  bool color = false;
  // Text shown for NULL. Default "NULL".
  std::string null_text = "NULL";
};

// An aligned ASCII table with a "(N rows)" footer, e.g.
//   +----+-------+
//   | id | body  |
//   +----+-------+
//   |  1 | hello |
//   +----+-------+
//   (1 row)
// Numbers are right-aligned, everything else left-aligned; newlines and tabs in cells show as
// "\n" and "\t". A result without columns renders as its message (or "OK"). A truncated result
// says so in the footer. Every line ends in '\n'.
std::string RenderTable(const QueryResult& result, const TableOptions& options = {});

// One CSV field (RFC 4180): quoted when it contains a comma, quote, CR or LF, or starts or
// ends with a space; quotes doubled.
std::string CsvField(std::string_view text);

// Header line of column names, then one line per row; NULL is an empty field. Lines end in '\n'.
// A result without columns renders as "" (its message is not data).
std::string RenderCsv(const QueryResult& result);

// One compact JSON object on one line (ending in '\n'):
//   {"rows":[{"id":"1","body":"hello"}],"row_count":1}
// `rows` (objects keyed by column name, values encoded as PROTOCOL.md §5) appears when the
// result has columns; then `row_count`; then `message` and `"truncated":true` when present.
std::string RenderJsonLine(const QueryResult& result);

// A JSON string literal (quotes included) with the escapes JSON requires.
std::string JsonQuote(std::string_view text);

}  // namespace kalam::client
