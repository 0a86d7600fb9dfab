// Column-type coercion of literals and parameters, and JSON request parameters to Values.
#include "common/value_convert.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/decimal.h"
#include "common/id_gen.h"
#include "common/time_format.h"

namespace kalam {
namespace {

// Deepest JSON nesting accepted in JSON/FILE columns (Boost.JSON's default is only 32).
constexpr size_t kMaxJsonDepth = 256;

// 2^63 as a double: the first double above every int64.
constexpr double kTwoPow63 = 9223372036854775808.0;

Status Mismatch(const DataType& type, std::string_view column, std::string_view reason) {
  std::string msg = "Invalid value for column '";
  msg.append(column);
  msg.append("' of type ");
  msg.append(type.SqlName());
  msg.append(": ");
  msg.append(reason);
  return Status::TypeMismatch(std::move(msg));
}

// Parses an optionally signed run of decimal digits. Returns false if `s` is anything else;
// sets `*overflow` when it is a well-formed integer outside int64.
bool ParseDecimalInteger(std::string_view s, int64_t* out, bool* overflow) {
  *overflow = false;
  const bool plus = !s.empty() && s.front() == '+';
  if (plus) s.remove_prefix(1);  // from_chars takes '-' but not '+'
  const size_t first_digit = !plus && !s.empty() && s.front() == '-' ? 1 : 0;
  if (s.size() == first_digit) return false;
  for (size_t i = first_digit; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (r.ec == std::errc::result_out_of_range) *overflow = true;
  return r.ec == std::errc() || *overflow;
}

// True if `s` reads as a number, to tell "'42' is text" apart from "'abc' is not a number".
bool LooksNumeric(std::string_view s) {
  if (s.empty() || s.find_first_not_of("0123456789+-.eE") != std::string_view::npos) return false;
  if (s.front() == '+') s.remove_prefix(1);
  double d;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string RangeText(int64_t min, int64_t max) {
  return std::to_string(min) + " to " + std::to_string(max);
}

Result<Value> CoerceInteger(const DataType& type, const Value& in, std::string_view column,
                            int64_t min, int64_t max) {
  int64_t v = 0;
  switch (in.kind()) {
    case Value::Kind::kInt:
      v = in.as_int();
      break;
    case Value::Kind::kDouble: {
      const double d = in.as_double();
      if (!std::isfinite(d) || std::trunc(d) != d) {
        return Mismatch(type, column, in.DebugString() + " is not an integer");
      }
      if (d < -kTwoPow63 || d >= kTwoPow63) {
        return Mismatch(type, column, in.DebugString() + " is out of range for " + type.SqlName() +
                                          " (" + RangeText(min, max) + ")");
      }
      v = static_cast<int64_t>(d);
      break;
    }
    case Value::Kind::kText: {
      bool overflow = false;
      const bool integer = ParseDecimalInteger(in.as_text(), &v, &overflow);
      if (type.kind != TypeKind::kBigInt) {
        return Mismatch(type, column,
                        integer || LooksNumeric(in.as_text())
                            ? "text " + in.DebugString() + " is not accepted; pass a number"
                            : in.DebugString() + " is not an integer");
      }
      if (!integer) return Mismatch(type, column, in.DebugString() + " is not an integer");
      if (overflow) {
        return Mismatch(type, column, in.DebugString() + " is out of range for BIGINT (" +
                                          RangeText(min, max) + ")");
      }
      break;
    }
    default:
      return Mismatch(type, column, in.DebugString() + " is not an integer");
  }
  if (v < min || v > max) {
    return Mismatch(type, column, std::to_string(v) + " is out of range for " + type.SqlName() +
                                      " (" + RangeText(min, max) + ")");
  }
  return Value::Int(v);
}

Result<Value> CoerceBoolean(const DataType& type, const Value& in, std::string_view column) {
  if (in.kind() == Value::Kind::kInt && (in.as_int() == 0 || in.as_int() == 1)) return in;
  if (in.kind() == Value::Kind::kText) {
    const std::string& t = in.as_text();
    auto equals_ci = [&t](std::string_view word) {
      if (t.size() != word.size()) return false;
      for (size_t i = 0; i < t.size(); ++i) {
        const auto lower = static_cast<char>(std::tolower(static_cast<unsigned char>(t[i])));
        if (lower != word[i]) return false;
      }
      return true;
    };
    if (equals_ci("true")) return Value::Int(1);
    if (equals_ci("false")) return Value::Int(0);
  }
  return Mismatch(type, column,
                  in.DebugString() + " is not a boolean (use TRUE/FALSE, 1/0 or 'true'/'false')");
}

Result<Value> CoerceFloating(const DataType& type, const Value& in, std::string_view column) {
  double d = 0;
  if (in.kind() == Value::Kind::kInt) {
    d = static_cast<double>(in.as_int());
  } else if (in.kind() == Value::Kind::kDouble) {
    d = in.as_double();
    if (!std::isfinite(d)) return Mismatch(type, column, "NaN and Infinity are not allowed");
  } else if (in.kind() == Value::Kind::kText && LooksNumeric(in.as_text())) {
    return Mismatch(type, column, "text " + in.DebugString() + " is not accepted; pass a number");
  } else {
    return Mismatch(type, column, in.DebugString() + " is not a number");
  }
  if (type.kind == TypeKind::kFloat) {
    const auto f = static_cast<float>(d);
    if (!std::isfinite(f)) {
      return Mismatch(type, column, in.DebugString() + " is out of range for FLOAT");
    }
    d = static_cast<double>(f);
  }
  return Value::Double(d);
}

Result<Value> CoerceDecimal(const DataType& type, const Value& in, std::string_view column) {
  Result<std::string> r = Status::InvalidArgument(in.DebugString() + " is not a decimal number");
  switch (in.kind()) {
    case Value::Kind::kInt:
      r = CanonicalDecimal(std::to_string(in.as_int()), type.precision, type.scale);
      break;
    case Value::Kind::kDouble:
      r = CanonicalDecimalFromDouble(in.as_double(), type.precision, type.scale);
      break;
    case Value::Kind::kText:
      r = CanonicalDecimal(in.as_text(), type.precision, type.scale);
      break;
    default:
      break;
  }
  if (!r.ok()) return Mismatch(type, column, r.status().message());
  return Value::Text(std::move(r).value());
}

// A Boost.JSON parser handler that accepts every event: parsing with it only validates.
struct NullJsonHandler {
  using error_code = boost::json::error_code;
  using string_view = boost::json::string_view;
  static constexpr size_t max_object_size = static_cast<size_t>(-1);
  static constexpr size_t max_array_size = static_cast<size_t>(-1);
  static constexpr size_t max_key_size = static_cast<size_t>(-1);
  static constexpr size_t max_string_size = static_cast<size_t>(-1);
  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(size_t, error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(size_t, error_code&) { return true; }
  bool on_string_part(string_view, size_t, error_code&) { return true; }
  bool on_string(string_view, size_t, error_code&) { return true; }
  bool on_key_part(string_view, size_t, error_code&) { return true; }
  bool on_key(string_view, size_t, error_code&) { return true; }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(int64_t, string_view, error_code&) { return true; }
  bool on_uint64(uint64_t, string_view, error_code&) { return true; }
  bool on_double(double, string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }
};

// Empty if `text` is one valid JSON document (standard JSON, valid UTF-8), else why not.
std::string JsonError(std::string_view text) {
  boost::json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  boost::json::basic_parser<NullJsonHandler> parser(opts);
  boost::json::error_code ec;
  const size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && n != text.size()) ec = boost::json::error::extra_data;
  if (!ec) return {};
  return ec.message() + " at offset " + std::to_string(n);
}

Result<Value> CoerceJson(const DataType& type, const Value& in, std::string_view column) {
  if (in.kind() != Value::Kind::kText) {
    return Mismatch(type, column,
                    in.DebugString() +
                        " is not JSON text (pass JSON as a string, e.g. '{\"a\":1}')");
  }
  if (std::string why = JsonError(in.as_text()); !why.empty()) {
    return Mismatch(type, column, in.DebugString() + " is not valid JSON: " + why);
  }
  return in;
}

Result<Value> CoerceUuid(const DataType& type, const Value& in, std::string_view column) {
  Result<std::string> r = Status::InvalidArgument(in.DebugString() + " is not a UUID");
  if (in.kind() == Value::Kind::kText) r = CanonicalUuid(in.as_text());
  if (in.kind() == Value::Kind::kBlob) r = CanonicalUuidFromBytes(in.as_bytes());
  if (!r.ok()) return Mismatch(type, column, r.status().message());
  return Value::Text(std::move(r).value());
}

Result<Value> CoerceTimestamp(const DataType& type, const Value& in, std::string_view column) {
  if (in.kind() == Value::Kind::kInt) {
    if (in.as_int() < kMinTimestampMicros || in.as_int() > kMaxTimestampMicros) {
      return Mismatch(type, column,
                      in.DebugString() + " µs is outside 0001-01-01..9999-12-31 (UTC)");
    }
    return in;
  }
  if (in.kind() == Value::Kind::kText) {
    Result<int64_t> r = ParseTimestampMicros(in.as_text());
    if (!r.ok()) return Mismatch(type, column, r.status().message());
    return Value::Int(*r);
  }
  return Mismatch(type, column,
                  in.DebugString() +
                      " is not a timestamp (use ISO-8601 text or integer µs since the epoch)");
}

Result<Value> CoerceDate(const DataType& type, const Value& in, std::string_view column) {
  if (in.kind() == Value::Kind::kInt) {
    if (in.as_int() < kMinDateDays || in.as_int() > kMaxDateDays) {
      return Mismatch(type, column, in.DebugString() + " days is outside 0001-01-01..9999-12-31");
    }
    return in;
  }
  if (in.kind() == Value::Kind::kText) {
    Result<int32_t> r = ParseDateDays(in.as_text());
    if (!r.ok()) return Mismatch(type, column, r.status().message());
    return Value::Int(*r);
  }
  return Mismatch(type, column,
                  in.DebugString() + " is not a date (use 'YYYY-MM-DD' or integer days)");
}

Result<Value> CoerceTime(const DataType& type, const Value& in, std::string_view column) {
  if (in.kind() == Value::Kind::kInt) {
    if (in.as_int() < 0 || in.as_int() >= kMicrosPerDay) {
      return Mismatch(type, column,
                      in.DebugString() + " µs is outside a day (0 to " +
                          std::to_string(kMicrosPerDay - 1) + ")");
    }
    return in;
  }
  if (in.kind() == Value::Kind::kText) {
    Result<int64_t> r = ParseTimeOfDayMicros(in.as_text());
    if (!r.ok()) return Mismatch(type, column, r.status().message());
    return Value::Int(*r);
  }
  return Mismatch(type, column,
                  in.DebugString() + " is not a time (use 'HH:MM:SS[.ffffff]' or integer µs)");
}

void AppendFloatLE(float f, std::string* out) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Parses '[x, y, …]' into little-endian float32 bytes; on failure returns why.
std::string ParseEmbeddingText(std::string_view s, int dimension, std::string* out) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && IsJsonSpace(s[i])) ++i;
  };
  skip_space();
  if (i == s.size() || s[i] != '[') return "expected '[' followed by numbers";
  ++i;
  skip_space();
  int64_t count = 0;
  if (i < s.size() && s[i] == ']') {
    ++i;
  } else {
    while (true) {
      skip_space();
      double d = 0;
      auto r = std::from_chars(s.data() + i, s.data() + s.size(), d);
      if (r.ec != std::errc() && r.ec != std::errc::result_out_of_range) {
        return "element " + std::to_string(count + 1) + " is not a number";
      }
      const auto f = static_cast<float>(d);
      if (r.ec != std::errc() || !std::isfinite(d) || !std::isfinite(f)) {
        return "element " + std::to_string(count + 1) + " is not a finite float32 number";
      }
      ++count;
      if (count <= dimension) AppendFloatLE(f, out);
      i = static_cast<size_t>(r.ptr - s.data());
      skip_space();
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') {
        ++i;
        break;
      }
      return "expected ',' or ']' after element " + std::to_string(count);
    }
  }
  skip_space();
  if (i != s.size()) return "unexpected characters after ']'";
  if (count != dimension) {
    return "expected " + std::to_string(dimension) + " numbers, got " + std::to_string(count);
  }
  return {};
}

Result<Value> CoerceEmbedding(const DataType& type, const Value& in, std::string_view column) {
  const size_t want_bytes = 4 * static_cast<size_t>(type.dimension);
  if (in.kind() == Value::Kind::kText) {
    std::string bytes;
    bytes.reserve(want_bytes);
    if (std::string why = ParseEmbeddingText(in.as_text(), type.dimension, &bytes); !why.empty()) {
      return Mismatch(type, column, in.DebugString() + " is not a valid embedding: " + why);
    }
    return Value::Bytes(std::move(bytes));
  }
  if (in.kind() == Value::Kind::kBlob) {
    const std::string& b = in.as_bytes();
    if (b.size() != want_bytes) {
      return Mismatch(type, column,
                      "a blob of " + std::to_string(b.size()) + " bytes is not " +
                          std::to_string(type.dimension) + " float32 values (" +
                          std::to_string(want_bytes) + " bytes)");
    }
    for (size_t i = 0; i < b.size(); i += 4) {
      uint32_t bits = 0;
      for (int k = 0; k < 4; ++k) {
        bits |= static_cast<uint32_t>(static_cast<uint8_t>(b[i + k])) << (8 * k);
      }
      float f;
      std::memcpy(&f, &bits, sizeof f);
      if (!std::isfinite(f)) {
        return Mismatch(type, column,
                        "element " + std::to_string(i / 4 + 1) + " is not a finite number");
      }
    }
    return in;
  }
  return Mismatch(type, column,
                  in.DebugString() + " is not an embedding (use text like '[0.1, 0.2]')");
}

}  // namespace

Result<Value> CoerceToColumn(const DataType& type, const Value& input, std::string_view column) {
  if (input.is_null()) return input;
  switch (type.kind) {
    case TypeKind::kBoolean:
      return CoerceBoolean(type, input, column);
    case TypeKind::kSmallInt:
      return CoerceInteger(type, input, column, std::numeric_limits<int16_t>::min(),
                           std::numeric_limits<int16_t>::max());
    case TypeKind::kInt:
      return CoerceInteger(type, input, column, std::numeric_limits<int32_t>::min(),
                           std::numeric_limits<int32_t>::max());
    case TypeKind::kBigInt:
      return CoerceInteger(type, input, column, std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max());
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      return CoerceFloating(type, input, column);
    case TypeKind::kDecimal:
      return CoerceDecimal(type, input, column);
    case TypeKind::kText:
      if (input.kind() == Value::Kind::kText) return input;
      return Mismatch(type, column,
                      input.DebugString() + " is not text (quote it to store it as text)");
    case TypeKind::kBytes:
      if (input.kind() == Value::Kind::kBlob) return input;
      if (input.kind() == Value::Kind::kText) return Value::Bytes(input.as_text());
      return Mismatch(type, column, input.DebugString() + " is not a string or blob");
    case TypeKind::kJson:
    case TypeKind::kFile:
      return CoerceJson(type, input, column);
    case TypeKind::kUuid:
      return CoerceUuid(type, input, column);
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
      return CoerceTimestamp(type, input, column);
    case TypeKind::kDate:
      return CoerceDate(type, input, column);
    case TypeKind::kTime:
      return CoerceTime(type, input, column);
    case TypeKind::kEmbedding:
      return CoerceEmbedding(type, input, column);
  }
  return Status::Internal("unknown type kind");
}

Result<Value> ValueFromJsonParam(const boost::json::value& v, int index) {
  const std::string prefix = "Parameter $" + std::to_string(index) + " invalid: ";
  switch (v.kind()) {
    case boost::json::kind::null:
      return Value::Null();
    case boost::json::kind::bool_:
      return Value::Int(v.get_bool() ? 1 : 0);
    case boost::json::kind::int64:
      return Value::Int(v.get_int64());
    case boost::json::kind::uint64:
      if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidParameter(prefix + std::to_string(v.get_uint64()) +
                                        " does not fit in a signed 64-bit integer");
      }
      return Value::Int(static_cast<int64_t>(v.get_uint64()));
    case boost::json::kind::double_:
      if (!std::isfinite(v.get_double())) {
        return Status::InvalidParameter(prefix + "number is out of range");
      }
      return Value::Double(v.get_double());
    case boost::json::kind::string:
      return Value::Text(std::string(v.get_string()));
    case boost::json::kind::array: {
      // A vector (EMBEDDING value, query vector): passed on as its JSON text '[0.1,0.2]', the
      // form EMBEDDING columns and the vector functions accept.
      std::string text = "[";
      for (const auto& e : v.get_array()) {
        if (!e.is_number()) {
          return Status::InvalidParameter(
              prefix + "an array parameter must hold only numbers (a vector)");
        }
        if (text.size() > 1) text += ',';
        text += boost::json::serialize(e);
      }
      return Value::Text(text + "]");
    }
    case boost::json::kind::object:
      return Status::InvalidParameter(prefix + "objects are not supported");
  }
  return Status::Internal("unknown JSON kind");
}

}  // namespace kalam
