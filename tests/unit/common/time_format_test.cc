// Tests for calendar arithmetic and the ISO-8601 / RFC 3339 parsers and formatter.
#include "common/time_format.h"

#include <gtest/gtest.h>

#include <random>

namespace kalam {
namespace {

constexpr int64_t k20260501 = 1777593600000000;  // 2026-05-01T00:00:00Z in µs

int64_t Ts(std::string_view s) {
  Result<int64_t> r = ParseTimestampMicros(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

void ExpectBadTimestamp(std::string_view s, std::string_view why_part) {
  Result<int64_t> r = ParseTimestampMicros(s);
  ASSERT_FALSE(r.ok()) << s << " parsed as " << *r;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(why_part), std::string::npos) << r.status().message();
}

TEST(CivilDateTest, KnownDaysSinceEpoch) {
  EXPECT_EQ(DaysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(DaysFromCivil({1969, 12, 31}), -1);
  EXPECT_EQ(DaysFromCivil({2024, 2, 29}), 19782);
  EXPECT_EQ(DaysFromCivil({2000, 3, 1}), 11017);
  EXPECT_EQ(DaysFromCivil({1600, 2, 29}), -135081);
  EXPECT_EQ(DaysFromCivil({1, 1, 1}), kMinDateDays);
  EXPECT_EQ(DaysFromCivil({9999, 12, 31}), kMaxDateDays);
}

TEST(CivilDateTest, RoundTripsEveryDayFromYear1To9999) {
  int64_t expected = kMinDateDays;
  for (int64_t y = 1; y <= 9999; ++y) {
    for (int m = 1; m <= 12; ++m) {
      const int days_in_month = m == 2 ? ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28)
                                : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;
      for (int d = 1; d <= days_in_month; ++d) {
        ASSERT_EQ(DaysFromCivil({y, m, d}), expected) << y << "-" << m << "-" << d;
        ASSERT_EQ(CivilFromDays(expected), (CivilDate{y, m, d}));
        ++expected;
      }
    }
  }
  EXPECT_EQ(expected - 1, kMaxDateDays);
}

TEST(ParseTimestampTest, DateOnlyIsMidnightUtc) { EXPECT_EQ(Ts("2026-05-01"), k20260501); }

TEST(ParseTimestampTest, AcceptsTSpaceAndLowerCaseT) {
  const int64_t ten = k20260501 + 10 * 3600 * kMicrosPerSecond;
  EXPECT_EQ(Ts("2026-05-01T10:00:00"), ten);
  EXPECT_EQ(Ts("2026-05-01 10:00:00"), ten);
  EXPECT_EQ(Ts("2026-05-01t10:00:00"), ten);
  EXPECT_EQ(Ts("2026-05-01T10:00"), ten);
}

TEST(ParseTimestampTest, FractionOfOneToNineDigitsTruncatesToMicros) {
  const int64_t ten = k20260501 + 10 * 3600 * kMicrosPerSecond;
  EXPECT_EQ(Ts("2026-05-01 10:00:00.123456"), ten + 123456);
  EXPECT_EQ(Ts("2026-05-01T10:00:00.1"), ten + 100000);
  EXPECT_EQ(Ts("2026-05-01T10:00:00.123456789"), ten + 123456);
  EXPECT_EQ(Ts("2026-05-01T10:00:00.999999999Z"), ten + 999999);
  EXPECT_EQ(Ts("2026-05-01T10:00:00,5"), ten + 500000);
  ExpectBadTimestamp("2026-05-01T10:00:00.1234567890", "more than 9 fraction digits");
  ExpectBadTimestamp("2026-05-01T10:00:00.", "digits after the decimal separator");
}

TEST(ParseTimestampTest, OffsetsNormaliseToUtc) {
  const int64_t ten = k20260501 + 10 * 3600 * kMicrosPerSecond;
  const int64_t hour = 3600 * kMicrosPerSecond;
  EXPECT_EQ(Ts("2026-05-01T10:00:00Z"), ten);
  EXPECT_EQ(Ts("2026-05-01T10:00:00z"), ten);
  EXPECT_EQ(Ts("2026-05-01T10:00:00+00:00"), ten);
  EXPECT_EQ(Ts("2026-05-01T12:00:00+02:00"), ten);
  EXPECT_EQ(Ts("2026-05-01T12:00:00+02"), ten);
  EXPECT_EQ(Ts("2026-05-01T04:30:00-0530"), ten);
  EXPECT_EQ(Ts("2026-05-01T04:30:00.25-05:30"), ten + 250000);
  // An offset can move the instant to another UTC day.
  EXPECT_EQ(Ts("2026-05-01T01:00:00+02:00"), k20260501 - hour);
}

TEST(ParseTimestampTest, BeforeEpochIsNegative) {
  EXPECT_EQ(Ts("1969-12-31T23:59:59.999999Z"), -1);
  EXPECT_EQ(Ts("1900-03-01 12:30:00"), -2203846200000000);
  EXPECT_EQ(Ts("0001-01-01T00:00:00Z"), kMinTimestampMicros);
  EXPECT_EQ(Ts("9999-12-31T23:59:59.999999"), kMaxTimestampMicros);
  EXPECT_EQ(kMinTimestampMicros, -62135596800000000);
}

TEST(ParseTimestampTest, RejectsInvalidDates) {
  ExpectBadTimestamp("2026-02-30", "day 30 does not exist in 2026-02");
  ExpectBadTimestamp("2026-02-29", "day 29 does not exist");
  ExpectBadTimestamp("2026-04-31", "day 31");
  ExpectBadTimestamp("2026-13-01", "month 13");
  ExpectBadTimestamp("2026-00-01", "month 0");
  ExpectBadTimestamp("2026-01-00", "day 0");
  ExpectBadTimestamp("0000-01-01", "year 0000");
  EXPECT_EQ(Ts("2024-02-29"), int64_t{19782} * kMicrosPerDay);
  EXPECT_TRUE(ParseTimestampMicros("2000-02-29").ok());
  ExpectBadTimestamp("1900-02-29", "day 29");
}

TEST(ParseTimestampTest, RejectsOutOfRangeTimeFields) {
  ExpectBadTimestamp("2026-05-01T24:00:00", "hour 24");
  ExpectBadTimestamp("2026-05-01T10:60:00", "minute 60");
  ExpectBadTimestamp("2026-05-01T10:00:60", "second 60");
  ExpectBadTimestamp("2026-05-01T10:00:00+24:00", "offset is out of range");
  ExpectBadTimestamp("2026-05-01T10:00:00+02:60", "offset is out of range");
}

TEST(ParseTimestampTest, RejectsMalformedTextAndTrailingJunk) {
  ExpectBadTimestamp("", "expected a date");
  ExpectBadTimestamp("yesterday", "expected a date");
  ExpectBadTimestamp("26-05-01", "expected a date");
  ExpectBadTimestamp("2026-5-1", "expected a date");
  ExpectBadTimestamp("2026/05/01", "expected a date");
  ExpectBadTimestamp("2026-05-01 ", "expected a time");
  ExpectBadTimestamp(" 2026-05-01", "expected a date");
  ExpectBadTimestamp("2026-05-01x", "after the date");
  ExpectBadTimestamp("2026-05-01T10", "expected a time");
  ExpectBadTimestamp("2026-05-01T10:00:00 ", "unexpected characters after the time");
  ExpectBadTimestamp("2026-05-01T10:00:00Zjunk", "after the UTC offset");
  ExpectBadTimestamp("2026-05-01T10:00:00+2", "expected a UTC offset");
  ExpectBadTimestamp("2026-05-01T10:00:00+02:0", "expected a UTC offset");
  ExpectBadTimestamp("2026-05-01T10:00:0", "two digits of seconds");
}

TEST(ParseTimestampTest, RejectsInstantsOutsideYears1To9999AfterOffset) {
  ExpectBadTimestamp("0001-01-01T00:00:00+01:00", "outside 0001-01-01..9999-12-31");
  ExpectBadTimestamp("9999-12-31T23:30:00-01:00", "outside");
}

TEST(ParseTimestampTest, ErrorMessageQuotesInputAndShowsExpectedForm) {
  Result<int64_t> r = ParseTimestampMicros("2026-02-30");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "'2026-02-30' is not a valid timestamp: day 30 does not exist in 2026-02 (expected "
            "ISO-8601 like '2026-05-01T10:00:00Z')");
}

TEST(FormatRfc3339Test, OmitsFractionWhenZeroElseSixDigits) {
  EXPECT_EQ(FormatRfc3339(k20260501 + 10 * 3600 * kMicrosPerSecond), "2026-05-01T10:00:00+00:00");
  EXPECT_EQ(FormatRfc3339(k20260501 + 10 * 3600 * kMicrosPerSecond + 123456),
            "2026-05-01T10:00:00.123456+00:00");
  EXPECT_EQ(FormatRfc3339(1), "1970-01-01T00:00:00.000001+00:00");
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00+00:00");
}

TEST(FormatRfc3339Test, NegativeMicrosFloorToThePreviousSecond) {
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999999+00:00");
  EXPECT_EQ(FormatRfc3339(-kMicrosPerSecond), "1969-12-31T23:59:59+00:00");
  EXPECT_EQ(FormatRfc3339(kMinTimestampMicros), "0001-01-01T00:00:00+00:00");
  EXPECT_EQ(FormatRfc3339(kMaxTimestampMicros), "9999-12-31T23:59:59.999999+00:00");
}

TEST(FormatRfc3339Test, ExtremeInt64ValuesFormatWithoutCrashing) {
  EXPECT_FALSE(FormatRfc3339(INT64_MIN).empty());
  EXPECT_FALSE(FormatRfc3339(INT64_MAX).empty());
  EXPECT_EQ(FormatRfc3339(INT64_MAX).substr(0, 6), "294247");
}

TEST(FormatRfc3339Test, RoundTripsThroughParseForRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(kMinTimestampMicros, kMaxTimestampMicros);
  for (int i = 0; i < 20000; ++i) {
    int64_t us = dist(rng);
    if (i % 2 == 0) us -= us % kMicrosPerSecond;  // also exercise the no-fraction form
    const std::string text = FormatRfc3339(us);
    Result<int64_t> back = ParseTimestampMicros(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().ToString();
    ASSERT_EQ(*back, us) << text;
  }
}

TEST(ParseDateDaysTest, ParsesIsoDates) {
  EXPECT_EQ(*ParseDateDays("1970-01-01"), 0);
  EXPECT_EQ(*ParseDateDays("2026-05-01"), 20574);
  EXPECT_EQ(*ParseDateDays("1969-12-31"), -1);
  EXPECT_EQ(*ParseDateDays("0001-01-01"), kMinDateDays);
  EXPECT_EQ(*ParseDateDays("9999-12-31"), kMaxDateDays);
}

TEST(ParseDateDaysTest, RejectsTimesInvalidDatesAndJunk) {
  for (std::string_view bad : {"2026-05-01T00:00:00", "2026-02-30", "2026-5-01", "", "20260501",
                               "2026-05-01 ", "abcd-ef-gh"}) {
    Result<int32_t> r = ParseDateDays(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("is not a valid date"), std::string::npos);
    }
  }
}

TEST(ParseTimeOfDayTest, ParsesHoursMinutesSecondsAndFraction) {
  EXPECT_EQ(*ParseTimeOfDayMicros("00:00:00"), 0);
  EXPECT_EQ(*ParseTimeOfDayMicros("12:34:56"), (12 * 3600 + 34 * 60 + 56) * kMicrosPerSecond);
  EXPECT_EQ(*ParseTimeOfDayMicros("12:34:56.5"),
            (12 * 3600 + 34 * 60 + 56) * kMicrosPerSecond + 500000);
  EXPECT_EQ(*ParseTimeOfDayMicros("23:59:59.999999"), kMicrosPerDay - 1);
  EXPECT_EQ(*ParseTimeOfDayMicros("23:59:59.9999999"), kMicrosPerDay - 1);
  EXPECT_EQ(*ParseTimeOfDayMicros("08:15"), (8 * 3600 + 15 * 60) * kMicrosPerSecond);
}

TEST(ParseTimeOfDayTest, RejectsOutOfRangeAndMalformed) {
  for (std::string_view bad : {"24:00:00", "12:60:00", "12:00:60", "1:00:00", "12:00:00Z",
                               "12:00:00+01:00", "", "noon", "12:00:00.", "12:00:00 "}) {
    Result<int64_t> r = ParseTimeOfDayMicros(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("is not a valid time"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace kalam
