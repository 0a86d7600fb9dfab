// DataType names, Value construction, display text and JSON re-encoding, LiveRow lookup.
#include "kalam/value.h"

#include <charconv>
#include <cstdio>

#include "kalam/format.h"

namespace kalam::client {

namespace {

// Days since 1970-01-01 → civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

// "HH:MM:SS" plus ".ffffff" when the microseconds are not zero.
std::string FormatTimeOfDay(int64_t micros_of_day) {
  const int64_t secs = micros_of_day / 1000000;
  const int64_t frac = micros_of_day % 1000000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  std::string out = buf;
  if (frac) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  return out;
}

// Shortest round-trip text, with ".0" when it would read as an integer (as the server writes).
// The server writes FLOAT values as their shortest float text; read back as a double, that text
// is again the shortest, so one rule reproduces both.
std::string ShortestDouble(double v) {
  char buf[64];
  std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, v);
  std::string out(buf, r.ptr);
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";
  return out;
}

}  // namespace

std::string FormatTimestampMicros(int64_t micros) {
  const int64_t day = FloorDiv(micros, 86400LL * 1000000);
  const int64_t of_day = micros - day * 86400LL * 1000000;
  return FormatDate(day) + " " + FormatTimeOfDay(of_day);
}

std::string DataType::ToString() const {
  switch (kind) {
    case TypeKind::kUnknown: return unknown_name.empty() ? "Unknown" : unknown_name;
    case TypeKind::kBoolean: return "Boolean";
    case TypeKind::kSmallInt: return "SmallInt";
    case TypeKind::kInt: return "Int";
    case TypeKind::kBigInt: return "BigInt";
    case TypeKind::kFloat: return "Float";
    case TypeKind::kDouble: return "Double";
    case TypeKind::kDecimal:
      return "Decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::kText: return "Text";
    case TypeKind::kBytes: return "Bytes";
    case TypeKind::kJson: return "Json";
    case TypeKind::kTimestamp: return "Timestamp";
    case TypeKind::kDate: return "Date";
    case TypeKind::kDateTime: return "DateTime";
    case TypeKind::kTime: return "Time";
    case TypeKind::kUuid: return "Uuid";
    case TypeKind::kFile: return "File";
    case TypeKind::kEmbedding: return "Embedding(" + std::to_string(dimension) + ")";
  }
  return "Unknown";
}

bool DataType::IsNumeric() const {
  switch (kind) {
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kBigInt:
    case TypeKind::kFloat:
    case TypeKind::kDouble:
    case TypeKind::kDecimal:
      return true;
    default:
      return false;
  }
}

Value Value::Null(TypeKind type) {
  Value v;
  v.type_ = type;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.storage_ = Storage::kBool;
  v.type_ = TypeKind::kBoolean;
  v.i_ = b ? 1 : 0;
  return v;
}

Value Value::Int(int64_t i, TypeKind type) {
  Value v;
  v.storage_ = Storage::kInt;
  v.type_ = type;
  v.i_ = i;
  return v;
}

Value Value::Double(double d, TypeKind type) {
  Value v;
  v.storage_ = Storage::kDouble;
  v.type_ = type;
  v.d_ = d;
  return v;
}

Value Value::String(std::string s, TypeKind type) {
  Value v;
  v.storage_ = Storage::kString;
  v.type_ = type;
  v.s_ = std::move(s);
  return v;
}

Value Value::Bytes(std::vector<uint8_t> b) {
  Value v;
  v.storage_ = Storage::kBytes;
  v.type_ = TypeKind::kBytes;
  v.bytes_ = std::move(b);
  return v;
}

Value Value::Vector(std::vector<double> d) {
  Value v;
  v.storage_ = Storage::kVector;
  v.type_ = TypeKind::kEmbedding;
  v.vec_ = std::move(d);
  return v;
}

std::string Value::ToString() const {
  switch (storage_) {
    case Storage::kNull: return "NULL";
    case Storage::kBool: return i_ ? "true" : "false";
    case Storage::kInt:
      switch (type_) {
        case TypeKind::kTimestamp:
        case TypeKind::kDateTime:
          return FormatTimestampMicros(i_);
        case TypeKind::kDate: return FormatDate(i_);
        case TypeKind::kTime: return FormatTimeOfDay(i_);
        default: return std::to_string(i_);
      }
    case Storage::kDouble: return ShortestDouble(d_);
    case Storage::kString: return s_;
    case Storage::kBytes: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "\\x";
      for (uint8_t b : bytes_) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 15]);
      }
      return out;
    }
    case Storage::kVector: {
      std::string out = "[";
      for (size_t i = 0; i < vec_.size(); ++i) {
        if (i) out.push_back(',');
        out += ShortestDouble(vec_[i]);
      }
      return out + "]";
    }
  }
  return "";
}

std::string Value::ToJson() const {
  switch (storage_) {
    case Storage::kNull: return "null";
    case Storage::kBool: return i_ ? "true" : "false";
    case Storage::kInt:
      if (type_ == TypeKind::kBigInt) return "\"" + std::to_string(i_) + "\"";
      return std::to_string(i_);
    case Storage::kDouble: return ShortestDouble(d_);
    case Storage::kString: return JsonQuote(s_);
    case Storage::kBytes: {
      std::string out = "[";
      for (size_t i = 0; i < bytes_.size(); ++i) {
        if (i) out.push_back(',');
        out += std::to_string(bytes_[i]);
      }
      return out + "]";
    }
    case Storage::kVector: {
      std::string out = "[";
      for (size_t i = 0; i < vec_.size(); ++i) {
        if (i) out.push_back(',');
        out += ShortestDouble(vec_[i]);
      }
      return out + "]";
    }
  }
  return "null";
}

bool operator==(const Value& a, const Value& b) {
  if (a.storage_ != b.storage_) return false;
  switch (a.storage_) {
    case Value::Storage::kNull: return true;
    case Value::Storage::kBool:
    case Value::Storage::kInt: return a.i_ == b.i_;
    case Value::Storage::kDouble: return a.d_ == b.d_;
    case Value::Storage::kString: return a.s_ == b.s_;
    case Value::Storage::kBytes: return a.bytes_ == b.bytes_;
    case Value::Storage::kVector: return a.vec_ == b.vec_;
  }
  return false;
}

const Value* LiveRow::Get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (f.name == name) return &f.value;
  }
  return nullptr;
}

int64_t LiveRow::seq() const {
  const Value* v = Get("_seq");
  return v && v->is_int() ? v->as_int() : 0;
}

}  // namespace kalam::client
