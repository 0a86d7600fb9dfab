// Calendar arithmetic and text forms of TIMESTAMP/DATETIME (µs since the Unix epoch, UTC), DATE
// (days since the epoch) and TIME (µs since midnight), without timegm, time zones or locales.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam {

inline constexpr int64_t kMicrosPerSecond = 1000000;
inline constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

// Days of 0001-01-01 and 9999-12-31 since 1970-01-01: the range every parser here accepts.
inline constexpr int32_t kMinDateDays = -719162;
inline constexpr int32_t kMaxDateDays = 2932896;
// µs of 0001-01-01T00:00:00Z and of the last µs of 9999-12-31 since the epoch.
inline constexpr int64_t kMinTimestampMicros = int64_t{kMinDateDays} * kMicrosPerDay;
inline constexpr int64_t kMaxTimestampMicros = (int64_t{kMaxDateDays} + 1) * kMicrosPerDay - 1;

// A proleptic Gregorian calendar date.
struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
};

// Days since 1970-01-01 of a proleptic Gregorian date (negative before 1970). Fields are not
// validated; month must be 1..12.
int64_t DaysFromCivil(const CivilDate& date);

// The proleptic Gregorian date `days` days after 1970-01-01 (exact for any int64 day count whose
// year fits in int64).
CivilDate CivilFromDays(int64_t days);

// Parses an ISO-8601 / RFC 3339 timestamp into µs since the Unix epoch, UTC:
//   "2026-05-01"                       midnight UTC
//   "2026-05-01T10:00:00"              'T', 't' or one space between date and time
//   "2026-05-01 10:00"                 seconds may be omitted
//   "2026-05-01T10:00:00.123456789"    1–9 fraction digits ('.' or ','), truncated to µs
//   "…Z", "…+02:00", "…-0530", "…+02"   offset after a time; none means UTC
// Years 0001–9999 only. Fails with kInvalidArgument saying what is wrong for an invalid date
// (Feb 30), an out-of-range field (hour 24, second 60, offset 24:00), a missing part or trailing
// characters (including whitespace).
Result<int64_t> ParseTimestampMicros(std::string_view s);

// RFC 3339 text of µs since the epoch, in UTC: "2026-05-01T10:00:00+00:00", or with exactly six
// fraction digits when the µs part is non-zero: "2026-05-01T10:00:00.123456+00:00". Total: any
// int64 formats (years outside 0001–9999 print with more digits or a leading '-').
std::string FormatRfc3339(int64_t unix_micros);

// Parses 'YYYY-MM-DD' (years 0001–9999) into days since 1970-01-01. Fails with kInvalidArgument on
// any other shape, an invalid date or trailing characters.
Result<int32_t> ParseDateDays(std::string_view s);

// Parses 'HH:MM[:SS[.f…]]' (1–9 fraction digits, truncated to µs) into µs since midnight, in
// [0, 86400·10⁶). Fails with kInvalidArgument on another shape, an out-of-range field or trailing
// characters.
Result<int64_t> ParseTimeOfDayMicros(std::string_view s);

}  // namespace kalam
