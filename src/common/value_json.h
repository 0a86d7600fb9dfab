// JSON output encoding of cells (PROTOCOL.md §5) for HTTP rows and WebSocket rows, appended
// straight to a string without building a DOM.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "common/types.h"
#include "common/value.h"

namespace kalam {

// Appends `s` as a quoted JSON string. Escapes '"', '\\', \n \r \t \b \f by name and other
// control characters as \u00XX; passes valid UTF-8 through unchanged and replaces each maximal
// invalid UTF-8 subsequence (bad lead byte, truncated sequence, overlong form, surrogate, above
// U+10FFFF) with U+FFFD, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);

// Appends one cell as JSON, encoded by its column type `type`:
//   BOOLEAN → true/false; SMALLINT, INT → number; BIGINT → string ("42");
//   FLOAT, DOUBLE → number, shortest round-trip text; a double that prints as an integer gets
//     ".0" (2.0 → 2.0, 1e20 → 1e+20); FLOAT prints the float32 shortest text (0.1, not
//     0.10000000149011612);
//   DECIMAL(p,s) → string with exactly s decimals, from canonical text, a double (SQLite
//     arithmetic; formatted from its shortest text, rounding half away from zero) or an integer;
//   TEXT, JSON, FILE, UUID → string; BYTES → array of byte values [104,105];
//   TIMESTAMP, DATETIME, DATE, TIME → integer number; EMBEDDING → array of numbers (float32
//     shortest text, same ".0" rule); NULL → null.
// With `type == nullptr` (a computed column), or when the storage class is not the one `type`
// uses (SQLite may return anything through CAST), the value is encoded by what it holds:
// Null → null, Int → string ("42"), Double → number, Text → string, Blob → byte array. An Int in
// a FLOAT/DOUBLE column is the one exception: it prints as a number (3 → 3.0).
// Fails with kInvalidArgument, appending nothing, for NaN or Infinity (which JSON cannot hold).
Status AppendJsonValue(const DataType* type, const Value& v, std::string* out);

}  // namespace kalam
