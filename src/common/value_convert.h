// Strict conversion of SQL literals and bound parameters to the stored form of a column's type
// (SQL.md §3, PROTOCOL.md §5), and of HTTP `params` JSON values to Values.
#pragma once

#include <string_view>

#include <boost/json/fwd.hpp>

#include "common/status.h"
#include "common/types.h"
#include "common/value.h"

namespace kalam {

// Converts `input` (a literal or parameter as SQLite hands it over: Int for integers and
// TRUE/FALSE, Double, Text, Blob or Null) to the stored form of `type` (see value.h), or fails.
// Never coerces silently: text is not a number, a fraction is not an integer, 70000 is not a
// SMALLINT. NULL passes through unchanged (NOT NULL is checked elsewhere). Accepted inputs:
//   BOOLEAN      Int 0/1; Text 'true'/'false' (any case)            → Int 0/1
//   SMALLINT,INT Int or integral Double within range                → Int
//   BIGINT       Int; integral Double in int64 range; Text "-42"    → Int
//   FLOAT        Int or finite Double within float32 range          → Double (float32-rounded)
//   DOUBLE       Int or finite Double                               → Double
//   DECIMAL(p,s) Text, Int or Double (through its shortest text), at most s significant
//                decimals and p-s integer digits                    → Text with exactly s decimals
//   TEXT         Text                                               → Text
//   BYTES        Text (its UTF-8 bytes) or Blob                     → Blob
//   JSON, FILE   Text holding valid JSON (nesting depth ≤ 256)      → Text unchanged
//   UUID         Text as 8-4-4-4-12 or 32 hex digits, Blob of 16    → Text, canonical lower case
//   TIMESTAMP,   Int µs since the epoch or ISO-8601 Text (offset
//   DATETIME     normalised to UTC); years 0001–9999                → Int µs
//   DATE         Text 'YYYY-MM-DD' or Int days; years 0001–9999     → Int days
//   TIME         Text 'HH:MM:SS[.ffffff]' or Int µs in [0, 86400e6) → Int µs since midnight
//   EMBEDDING(n) Text '[0.1, 0.2, …]' of exactly n finite float32
//                numbers, or Blob of exactly 4n bytes               → Blob, 4n bytes LE float32
// Fails with kTypeMismatch and a message naming the column, the type and the problem:
// "Invalid value for column 'age' of type INT: 'abc' is not an integer".
Result<Value> CoerceToColumn(const DataType& type, const Value& input, std::string_view column);

// Converts one element of an HTTP request's `params` array (`index` is 1-based, as in `$1`):
// null → Null, bool → Int 0/1, integer → Int, floating-point number → Double, string → Text.
// Fails with kInvalidParameter: "Parameter $<index> invalid: arrays and objects are not
// supported", or for an unsigned integer above INT64_MAX or a non-finite number.
Result<Value> ValueFromJsonParam(const boost::json::value& v, int index);

}  // namespace kalam
