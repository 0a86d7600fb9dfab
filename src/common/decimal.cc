// Decimal text parsing, canonicalisation and rounding.
#include "common/decimal.h"

#include <charconv>
#include <cmath>

namespace kalam {
namespace {

// Exponents are saturated here while parsing; anything this large fails every check anyway.
constexpr int64_t kExponentCap = 1000000;
// Output rounding refuses to materialise more digits than this on either side of the point.
constexpr int64_t kMaxRenderedDigits = 4096;

// A decimal number as 0.d1d2d3… × 10^point with no leading or trailing zero digits; zero is an
// empty `digits` with point 0 and negative false.
struct DecimalParts {
  bool negative = false;
  std::string digits;
  int64_t point = 0;

  int64_t IntegerDigits() const { return point > 0 ? point : 0; }
  int64_t FractionDigits() const {
    const int64_t n = static_cast<int64_t>(digits.size()) - point;
    return n > 0 ? n : 0;
  }
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool ParseDecimal(std::string_view s, DecimalParts* out) {
  size_t i = 0;
  out->negative = false;
  out->digits.clear();
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) out->negative = s[i++] == '-';
  int64_t int_digits = 0;
  size_t digit_count = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i, ++digit_count, ++int_digits) out->digits += s[i];
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && IsDigit(s[i]); ++i, ++digit_count) out->digits += s[i];
  }
  if (digit_count == 0) return false;
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    if (i == s.size() || !IsDigit(s[i])) return false;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      exponent = exponent * 10 + (s[i] - '0');
      if (exponent > kExponentCap) exponent = kExponentCap;
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != s.size()) return false;

  size_t lead = 0;
  while (lead < out->digits.size() && out->digits[lead] == '0') ++lead;
  out->digits.erase(0, lead);
  out->point = int_digits - static_cast<int64_t>(lead) + exponent;
  while (!out->digits.empty() && out->digits.back() == '0') out->digits.pop_back();
  if (out->digits.empty()) {
    out->negative = false;
    out->point = 0;
  }
  return true;
}

// Appends `d` with exactly `scale` decimals, rounding half away from zero. |d.point| must be
// bounded by the caller so that the rendered digits stay small.
void AppendScaled(const DecimalParts& d, int scale, std::string* out) {
  const int64_t len = static_cast<int64_t>(d.digits.size());
  // n holds the digits of |value| × 10^scale, truncated; `keep` digits of d.digits survive.
  const int64_t keep = d.point + scale;
  std::string n;
  if (keep > 0) {
    n.assign(d.digits, 0, static_cast<size_t>(keep < len ? keep : len));
    if (keep > len) n.append(static_cast<size_t>(keep - len), '0');
  }
  if (keep >= 0 && keep < len && d.digits[static_cast<size_t>(keep)] >= '5') {
    int64_t k = static_cast<int64_t>(n.size()) - 1;
    while (k >= 0 && n[static_cast<size_t>(k)] == '9') n[static_cast<size_t>(k--)] = '0';
    if (k < 0) {
      n.insert(n.begin(), '1');
    } else {
      ++n[static_cast<size_t>(k)];
    }
  }
  if (n.empty()) n = "0";
  if (d.negative && n.find_first_not_of('0') != std::string::npos) *out += '-';
  if (n.size() < static_cast<size_t>(scale) + 1) n.insert(0, scale + 1 - n.size(), '0');
  const size_t int_len = n.size() - static_cast<size_t>(scale);
  out->append(n, 0, int_len);
  if (scale > 0) {
    *out += '.';
    out->append(n, int_len, std::string::npos);
  }
}

// Shortest text that reads back as exactly `v` ("0.1", "1e+20"). `v` must be finite.
std::string ShortestDouble(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string Quote(std::string_view s) {
  if (s.size() <= 64) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, 64)) + "...'";
}

}  // namespace

Result<std::string> CanonicalDecimal(std::string_view text, int precision, int scale) {
  DecimalParts d;
  if (!ParseDecimal(text, &d)) {
    return Status::InvalidArgument(Quote(text) + " is not a decimal number");
  }
  if (d.FractionDigits() > scale) {
    return Status::InvalidArgument(Quote(text) + " has too many decimal places (at most " +
                                   std::to_string(scale) + ")");
  }
  if (d.IntegerDigits() > precision - scale) {
    return Status::InvalidArgument(Quote(text) + " has too many integer digits (at most " +
                                   std::to_string(precision - scale) + ")");
  }
  std::string out;
  AppendScaled(d, scale, &out);
  return out;
}

Result<std::string> CanonicalDecimalFromDouble(double v, int precision, int scale) {
  if (!std::isfinite(v)) {
    return Status::InvalidArgument(std::string(std::isnan(v) ? "NaN" : "Infinity") +
                                   " is not a decimal number");
  }
  return CanonicalDecimal(ShortestDouble(v), precision, scale);
}

bool AppendRoundedDecimal(std::string_view text, int scale, std::string* out) {
  DecimalParts d;
  if (!ParseDecimal(text, &d)) return false;
  if (d.point > kMaxRenderedDigits || d.point < -kMaxRenderedDigits) return false;
  AppendScaled(d, scale, out);
  return true;
}

bool AppendDoubleAsDecimal(double v, int scale, std::string* out) {
  if (!std::isfinite(v)) return false;
  return AppendRoundedDecimal(ShortestDouble(v), scale, out);
}

}  // namespace kalam
