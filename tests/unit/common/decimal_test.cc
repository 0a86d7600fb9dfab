// Tests for DECIMAL text canonicalisation and output rounding.
#include "common/decimal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace kalam {
namespace {

std::string Canon(std::string_view text, int p, int s) {
  Result<std::string> r = CanonicalDecimal(text, p, s);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : "<error>";
}

std::string CanonError(std::string_view text, int p, int s) {
  Result<std::string> r = CanonicalDecimal(text, p, s);
  EXPECT_FALSE(r.ok()) << text << " gave " << (r.ok() ? *r : "");
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::string Rounded(std::string_view text, int scale) {
  std::string out = "prefix:";
  EXPECT_TRUE(AppendRoundedDecimal(text, scale, &out)) << text;
  return out.substr(7);
}

TEST(CanonicalDecimalTest, PadsToExactlyScaleDecimals) {
  EXPECT_EQ(Canon("200.75", 10, 2), "200.75");
  EXPECT_EQ(Canon("200.7", 10, 2), "200.70");
  EXPECT_EQ(Canon("200", 10, 2), "200.00");
  EXPECT_EQ(Canon("0", 10, 2), "0.00");
  EXPECT_EQ(Canon("42", 5, 0), "42");
  EXPECT_EQ(Canon("0.5", 3, 3), "0.500");
}

TEST(CanonicalDecimalTest, AcceptsSignsLeadingZerosBarePointsAndExponents) {
  EXPECT_EQ(Canon("-1.5", 10, 2), "-1.50");
  EXPECT_EQ(Canon("+1.5", 10, 2), "1.50");
  EXPECT_EQ(Canon("007.5", 10, 2), "7.50");
  EXPECT_EQ(Canon(".5", 10, 2), "0.50");
  EXPECT_EQ(Canon("-.5", 10, 2), "-0.50");
  EXPECT_EQ(Canon("5.", 10, 2), "5.00");
  EXPECT_EQ(Canon("1.25e2", 10, 2), "125.00");
  EXPECT_EQ(Canon("125E-2", 10, 2), "1.25");
  EXPECT_EQ(Canon("1e-2", 10, 2), "0.01");
  EXPECT_EQ(Canon("0e999999999", 10, 2), "0.00");
}

TEST(CanonicalDecimalTest, TrailingZerosBeyondScaleAreNotSignificant) {
  EXPECT_EQ(Canon("1.20", 10, 1), "1.2");
  EXPECT_EQ(Canon("1.2000000000000", 10, 2), "1.20");
  EXPECT_EQ(Canon("5.000", 3, 0), "5");
}

TEST(CanonicalDecimalTest, NegativeZeroIsZero) {
  EXPECT_EQ(Canon("-0", 10, 2), "0.00");
  EXPECT_EQ(Canon("-0.000", 10, 2), "0.00");
}

TEST(CanonicalDecimalTest, RejectsTooManyDecimalPlaces) {
  EXPECT_EQ(CanonError("1.234", 10, 2), "'1.234' has too many decimal places (at most 2)");
  EXPECT_NE(CanonError("0.001", 10, 2).find("too many decimal places"), std::string::npos);
  EXPECT_NE(CanonError("1.5", 10, 0).find("too many decimal places (at most 0)"),
            std::string::npos);
  EXPECT_NE(CanonError("1e-3", 10, 2).find("too many decimal places"), std::string::npos);
  EXPECT_NE(CanonError("1e-999999999", 10, 2).find("too many decimal places"), std::string::npos);
}

TEST(CanonicalDecimalTest, RejectsTooManyIntegerDigits) {
  EXPECT_EQ(CanonError("123456789", 10, 2), "'123456789' has too many integer digits (at most 8)");
  EXPECT_EQ(Canon("12345678", 10, 2), "12345678.00");
  EXPECT_EQ(Canon("-12345678.99", 10, 2), "-12345678.99");
  EXPECT_NE(CanonError("1", 2, 2).find("at most 0"), std::string::npos);
  EXPECT_EQ(Canon("0.99", 2, 2), "0.99");
  EXPECT_NE(CanonError("1e9", 10, 2).find("too many integer digits"), std::string::npos);
  EXPECT_NE(CanonError("1e999999999999", 10, 2).find("too many integer digits"), std::string::npos);
  // Leading zeros do not count.
  EXPECT_EQ(Canon("00000000001", 2, 0), "1");
}

TEST(CanonicalDecimalTest, AcceptsThirtyEightDigits) {
  const std::string max38(38, '9');
  EXPECT_EQ(Canon(max38, 38, 0), max38);
  EXPECT_EQ(Canon("0." + max38, 38, 38), "0." + max38);
}

TEST(CanonicalDecimalTest, RejectsNonNumbers) {
  for (std::string_view bad : {"", "abc", "1.2.3", "--1", "+", "-", ".", "1e", "1e+", "1 ", " 1",
                               "1,5", "0x10", "NaN", "Infinity", "1.5f", "e5"}) {
    EXPECT_NE(CanonError(bad, 10, 2).find("is not a decimal number"), std::string::npos) << bad;
  }
}

TEST(CanonicalDecimalFromDoubleTest, UsesShortestRoundTripText) {
  EXPECT_EQ(*CanonicalDecimalFromDouble(0.1, 10, 2), "0.10");
  EXPECT_EQ(*CanonicalDecimalFromDouble(200.75, 10, 2), "200.75");
  EXPECT_EQ(*CanonicalDecimalFromDouble(-3.0, 10, 2), "-3.00");
  EXPECT_EQ(*CanonicalDecimalFromDouble(1e-2, 10, 2), "0.01");
  EXPECT_EQ(*CanonicalDecimalFromDouble(-0.0, 10, 2), "0.00");
  EXPECT_EQ(*CanonicalDecimalFromDouble(1e20, 38, 2), "100000000000000000000.00");
  Result<std::string> r = CanonicalDecimalFromDouble(1.234, 10, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "'1.234' has too many decimal places (at most 2)");
}

TEST(CanonicalDecimalFromDoubleTest, RejectsNonFinite) {
  EXPECT_FALSE(CanonicalDecimalFromDouble(std::nan(""), 10, 2).ok());
  EXPECT_FALSE(CanonicalDecimalFromDouble(std::numeric_limits<double>::infinity(), 10, 2).ok());
}

TEST(AppendRoundedDecimalTest, RoundsHalfAwayFromZero) {
  EXPECT_EQ(Rounded("1.234", 2), "1.23");
  EXPECT_EQ(Rounded("1.235", 2), "1.24");
  EXPECT_EQ(Rounded("-1.235", 2), "-1.24");
  EXPECT_EQ(Rounded("9.995", 2), "10.00");
  EXPECT_EQ(Rounded("-9.995", 2), "-10.00");
  EXPECT_EQ(Rounded("0.005", 2), "0.01");
  EXPECT_EQ(Rounded("0.004", 2), "0.00");
  EXPECT_EQ(Rounded("-0.004", 2), "0.00");
  EXPECT_EQ(Rounded("0.5", 0), "1");
  EXPECT_EQ(Rounded("0.05", 0), "0");
  EXPECT_EQ(Rounded("99.5", 0), "100");
  EXPECT_EQ(Rounded("1e-9", 2), "0.00");
}

TEST(AppendRoundedDecimalTest, PadsAndIgnoresPrecision) {
  EXPECT_EQ(Rounded("200.75", 2), "200.75");
  EXPECT_EQ(Rounded("7", 3), "7.000");
  EXPECT_EQ(Rounded(std::string(50, '9'), 1), std::string(50, '9') + ".0");
}

TEST(AppendRoundedDecimalTest, RejectsNonNumbersAndHugeExponentsAppendingNothing) {
  std::string out = "keep";
  EXPECT_FALSE(AppendRoundedDecimal("abc", 2, &out));
  EXPECT_FALSE(AppendRoundedDecimal("1e5000", 2, &out));
  EXPECT_FALSE(AppendRoundedDecimal("1e-5000", 2, &out));
  EXPECT_EQ(out, "keep");
}

TEST(AppendDoubleAsDecimalTest, FormatsFromShortestTextSoHumanHalvesRoundUp) {
  std::string out;
  ASSERT_TRUE(AppendDoubleAsDecimal(2.675, 2, &out));  // binary 2.67499999…, shortest "2.675"
  EXPECT_EQ(out, "2.68");
  out.clear();
  ASSERT_TRUE(AppendDoubleAsDecimal(0.1 + 0.2, 2, &out));
  EXPECT_EQ(out, "0.30");
  out.clear();
  ASSERT_TRUE(AppendDoubleAsDecimal(1e-7, 2, &out));
  EXPECT_EQ(out, "0.00");
  out.clear();
  EXPECT_FALSE(AppendDoubleAsDecimal(std::nan(""), 2, &out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace kalam
