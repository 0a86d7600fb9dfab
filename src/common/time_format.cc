// Calendar arithmetic and the ISO-8601 / RFC 3339 parsers and formatter of time_format.h.
#include "common/time_format.h"

#include <cstdio>

namespace kalam {
namespace {

// Longest input echoed back in an error message.
constexpr size_t kMaxEchoChars = 64;

std::string Echo(std::string_view s) {
  if (s.size() <= kMaxEchoChars) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kMaxEchoChars)) + "...'";
}

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

// Floor division and modulo, so that times before 1970 split into (day, time of day) correctly.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) {
  const int64_t r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

// A forward-only reader over the text being parsed. Failures record a reason for the caller.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ == s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  bool Consume(char c) {
    if (Peek() != c || AtEnd()) return false;
    ++pos_;
    return true;
  }
  // Reads exactly `n` decimal digits.
  bool Digits(int n, int64_t* out) {
    if (s_.size() - pos_ < static_cast<size_t>(n)) return false;
    int64_t v = 0;
    for (int i = 0; i < n; ++i) {
      char c = s_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += n;
    *out = v;
    return true;
  }
  // Reads 1–9 fraction digits after a '.' or ',' already consumed; truncates to µs.
  bool FractionMicros(int64_t* micros, std::string* why) {
    int64_t v = 0;
    int n = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      if (n == 9) {
        *why = "more than 9 fraction digits";
        return false;
      }
      if (n < 6) v = v * 10 + (Peek() - '0');
      ++n;
      ++pos_;
    }
    if (n == 0) {
      *why = "expected digits after the decimal separator";
      return false;
    }
    for (int i = n; i < 6; ++i) v *= 10;
    *micros = v;
    return true;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// Reads 'YYYY-MM-DD' and validates it; years 0001–9999.
bool ReadDate(Cursor& c, int64_t* days, std::string* why) {
  int64_t y = 0, m = 0, d = 0;
  if (!c.Digits(4, &y) || !c.Consume('-') || !c.Digits(2, &m) || !c.Consume('-') ||
      !c.Digits(2, &d)) {
    *why = "expected a date as YYYY-MM-DD";
    return false;
  }
  if (y < 1) {
    *why = "year 0000 is out of range (0001-9999)";
    return false;
  }
  if (m < 1 || m > 12) {
    *why = "month " + std::to_string(m) + " is out of range (1-12)";
    return false;
  }
  if (d < 1 || d > DaysInMonth(y, static_cast<int>(m))) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d", static_cast<int>(y), static_cast<int>(m));
    *why = "day " + std::to_string(d) + " does not exist in " + buf;
    return false;
  }
  *days = DaysFromCivil({y, static_cast<int>(m), static_cast<int>(d)});
  return true;
}

// Reads 'HH:MM[:SS[.f…]]' into µs since midnight.
bool ReadTimeOfDay(Cursor& c, int64_t* micros, std::string* why) {
  int64_t h = 0, mi = 0, s = 0, frac = 0;
  if (!c.Digits(2, &h) || !c.Consume(':') || !c.Digits(2, &mi)) {
    *why = "expected a time as HH:MM:SS";
    return false;
  }
  if (c.Consume(':')) {
    if (!c.Digits(2, &s)) {
      *why = "expected two digits of seconds";
      return false;
    }
    if (c.Consume('.') || c.Consume(',')) {
      if (!c.FractionMicros(&frac, why)) return false;
    }
  }
  if (h > 23) {
    *why = "hour " + std::to_string(h) + " is out of range (00-23)";
    return false;
  }
  if (mi > 59) {
    *why = "minute " + std::to_string(mi) + " is out of range (00-59)";
    return false;
  }
  if (s > 59) {
    *why = "second " + std::to_string(s) + " is out of range (00-59)";
    return false;
  }
  *micros = ((h * 60 + mi) * 60 + s) * kMicrosPerSecond + frac;
  return true;
}

// Reads 'Z', '±HH', '±HHMM' or '±HH:MM' into an offset east of UTC in µs.
bool ReadOffset(Cursor& c, int64_t* offset_micros, std::string* why) {
  if (c.Consume('Z') || c.Consume('z')) {
    *offset_micros = 0;
    return true;
  }
  int sign = 0;
  if (c.Consume('+')) {
    sign = 1;
  } else if (c.Consume('-')) {
    sign = -1;
  } else {
    *why = "unexpected characters after the time";
    return false;
  }
  int64_t h = 0, m = 0;
  if (!c.Digits(2, &h)) {
    *why = "expected a UTC offset as +HH:MM";
    return false;
  }
  if (!c.AtEnd()) {
    c.Consume(':');
    if (!c.Digits(2, &m)) {
      *why = "expected a UTC offset as +HH:MM";
      return false;
    }
  }
  if (h > 23 || m > 59) {
    *why = "UTC offset is out of range";
    return false;
  }
  *offset_micros = sign * (h * 60 + m) * 60 * kMicrosPerSecond;
  return true;
}

}  // namespace

int64_t DaysFromCivil(const CivilDate& date) {
  // Count from 0000-03-01 so that the leap day is the last day of each (March-based) year, in
  // 400-year eras of 146097 days.
  const int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t year_of_era = y - era * 400;                                   // [0, 399]
  const int64_t month_from_march = date.month > 2 ? date.month - 3 : date.month + 9;  // [0, 11]
  const int64_t day_of_year = (153 * month_from_march + 2) / 5 + date.day - 1;  // [0, 365]
  const int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;  // [0, 146096]
  return era * 146097 + day_of_era - 719468;  // 719468 = days from 0000-03-01 to 1970-01-01
}

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;  // [0, 146096]
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
  const int64_t month_from_march = (5 * day_of_year + 2) / 153;  // [0, 11]
  CivilDate out;
  out.day = static_cast<int>(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  out.month = static_cast<int>(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  out.year = year_of_era + era * 400 + (out.month <= 2 ? 1 : 0);
  return out;
}

Result<int64_t> ParseTimestampMicros(std::string_view s) {
  Cursor c(s);
  std::string why;
  int64_t days = 0, tod = 0, offset = 0;
  bool ok = ReadDate(c, &days, &why);
  if (ok && !c.AtEnd()) {
    if (c.Consume('T') || c.Consume('t') || c.Consume(' ')) {
      ok = ReadTimeOfDay(c, &tod, &why) && (c.AtEnd() || ReadOffset(c, &offset, &why));
      if (ok && !c.AtEnd()) {
        ok = false;
        why = "unexpected characters after the UTC offset";
      }
    } else {
      ok = false;
      why = "unexpected characters after the date";
    }
  }
  if (ok) {
    const int64_t micros = days * kMicrosPerDay + tod - offset;
    if (micros >= kMinTimestampMicros && micros <= kMaxTimestampMicros) return micros;
    why = "it is outside 0001-01-01..9999-12-31 in UTC";
  }
  return Status::InvalidArgument(Echo(s) + " is not a valid timestamp: " + why +
                                 " (expected ISO-8601 like '2026-05-01T10:00:00Z')");
}

std::string FormatRfc3339(int64_t unix_micros) {
  const int64_t days = FloorDiv(unix_micros, kMicrosPerDay);
  const int64_t tod = FloorMod(unix_micros, kMicrosPerDay);
  const CivilDate d = CivilFromDays(days);
  const int64_t secs = tod / kMicrosPerSecond;
  const int64_t frac = tod % kMicrosPerSecond;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d",
                        static_cast<long long>(d.year), d.month, d.day,
                        static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                        static_cast<int>(secs % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    n = std::snprintf(buf, sizeof buf, ".%06d", static_cast<int>(frac));
    out.append(buf, static_cast<size_t>(n));
  }
  out += "+00:00";
  return out;
}

Result<int32_t> ParseDateDays(std::string_view s) {
  Cursor c(s);
  std::string why;
  int64_t days = 0;
  if (ReadDate(c, &days, &why)) {
    if (c.AtEnd()) return static_cast<int32_t>(days);
    why = "unexpected characters after the date";
  }
  return Status::InvalidArgument(Echo(s) + " is not a valid date: " + why +
                                 " (expected 'YYYY-MM-DD')");
}

Result<int64_t> ParseTimeOfDayMicros(std::string_view s) {
  Cursor c(s);
  std::string why;
  int64_t micros = 0;
  if (ReadTimeOfDay(c, &micros, &why)) {
    if (c.AtEnd()) return micros;
    why = "unexpected characters after the time";
  }
  return Status::InvalidArgument(Echo(s) + " is not a valid time: " + why +
                                 " (expected 'HH:MM:SS[.ffffff]')");
}

}  // namespace kalam
