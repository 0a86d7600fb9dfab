// DECIMAL(p,s) values as KalamDB stores them: canonical text with exactly `scale` decimals
// ("200.75", "-0.50", "42" for scale 0), and the conversions into and out of that form.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace kalam {

// The canonical text of a decimal literal for DECIMAL(precision, scale): an optional sign, digits
// with an optional '.', and an optional exponent ("1.5", "-.5", "007", "1.25e2"); no whitespace.
// Trailing fraction zeros beyond `scale` are fine ("1.20" fits scale 1 as "1.2"); negative zero
// becomes "0.00". Fails with kInvalidArgument giving the reason only (the caller names the
// column): "'abc' is not a decimal number", "'1.234' has too many decimal places (at most 2)",
// "'123456789' has too many integer digits (at most 8)".
Result<std::string> CanonicalDecimal(std::string_view text, int precision, int scale);

// CanonicalDecimal of a double's shortest round-trip text (0.1 → "0.1", never
// "0.1000000000000000055…"). Fails with kInvalidArgument for NaN/Infinity and as above.
Result<std::string> CanonicalDecimalFromDouble(double v, int precision, int scale);

// Appends `text` (a decimal literal as accepted by CanonicalDecimal) with exactly `scale`
// decimals, rounding half away from zero and not checking any precision: the output path, which
// must render whatever SQLite computed. Returns false, appending nothing, if `text` is not a
// decimal number or has more than 4096 digits either side of the point.
bool AppendRoundedDecimal(std::string_view text, int scale, std::string* out);

// AppendRoundedDecimal of a double's shortest round-trip text (so 2.675 renders as "2.68" for
// scale 2). Returns false, appending nothing, for NaN/Infinity.
bool AppendDoubleAsDecimal(double v, int scale, std::string* out);

}  // namespace kalam
