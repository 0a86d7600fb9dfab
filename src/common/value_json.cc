// JSON output encoding of cells: strings with UTF-8 repair, numbers, decimals, bytes, embeddings.
#include "common/value_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/decimal.h"
#include "common/utf8.h"

namespace kalam {
namespace {

// Characters that pass through a JSON string unchanged: printable ASCII except '"' and '\\'.
bool IsPlainAscii(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

// Appends shortest round-trip text of a finite float or double; adds ".0" if it reads as an
// integer, so a JSON reader that distinguishes the two sees a floating-point number.
template <typename F>
void AppendShortest(F v, std::string* out) {
  char buf[40];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
  if (std::find_if(buf, r.ptr, [](char c) { return c == '.' || c == 'e'; }) == r.ptr) {
    out->append(".0");
  }
}

Status NonFinite(double d) {
  return Status::InvalidArgument(std::string("Cannot encode ") +
                                 (std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")) +
                                 " as JSON");
}

Status AppendDouble(double d, std::string* out) {
  if (!std::isfinite(d)) return NonFinite(d);
  AppendShortest(d, out);
  return Status::OK();
}

void AppendByteArray(std::string_view bytes, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendInt(static_cast<unsigned char>(bytes[i]), out);
  }
  out->push_back(']');
}

// Little-endian float32 elements, as EMBEDDING columns store them.
Status AppendFloatArray(std::string_view bytes, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i + 4 <= bytes.size(); i += 4) {
    uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) {
      bits |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + b])) << (8 * b);
    }
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (!std::isfinite(f)) return NonFinite(f);
    if (i > 0) out->push_back(',');
    AppendShortest(f, out);
  }
  out->push_back(']');
  return Status::OK();
}

// The encoding of a value by its storage class alone.
Status AppendComputed(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out->append("null");
      return Status::OK();
    case Value::Kind::kInt:
      out->push_back('"');
      AppendInt(v.as_int(), out);
      out->push_back('"');
      return Status::OK();
    case Value::Kind::kDouble:
      return AppendDouble(v.as_double(), out);
    case Value::Kind::kText:
      AppendJsonString(v.as_text(), out);
      return Status::OK();
    case Value::Kind::kBlob:
      AppendByteArray(v.as_bytes(), out);
      return Status::OK();
  }
  return Status::Internal("unknown value kind");
}

Status AppendDecimal(const DataType& type, const Value& v, std::string* out) {
  const size_t mark = out->size();
  out->push_back('"');
  bool ok = false;
  switch (v.kind()) {
    case Value::Kind::kText:
      ok = AppendRoundedDecimal(v.as_text(), type.scale, out);
      break;
    case Value::Kind::kDouble:
      if (!std::isfinite(v.as_double())) return NonFinite(v.as_double());
      ok = AppendDoubleAsDecimal(v.as_double(), type.scale, out);
      break;
    case Value::Kind::kInt:
      ok = AppendRoundedDecimal(std::to_string(v.as_int()), type.scale, out);
      break;
    default:
      break;
  }
  if (!ok) {
    out->resize(mark);
    return AppendComputed(v, out);
  }
  out->push_back('"');
  return Status::OK();
}

Status AppendTyped(const DataType& type, const Value& v, std::string* out) {
  const Value::Kind k = v.kind();
  if (k == Value::Kind::kNull) {
    out->append("null");
    return Status::OK();
  }
  switch (type.kind) {
    case TypeKind::kBoolean:
      if (k != Value::Kind::kInt) break;
      out->append(v.as_int() != 0 ? "true" : "false");
      return Status::OK();
    case TypeKind::kSmallInt:
    case TypeKind::kInt:
    case TypeKind::kTimestamp:
    case TypeKind::kDateTime:
    case TypeKind::kDate:
    case TypeKind::kTime:
      if (k != Value::Kind::kInt) break;
      AppendInt(v.as_int(), out);
      return Status::OK();
    case TypeKind::kBigInt:
      break;  // the computed encoding of an Int is exactly BIGINT's: "42"
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      if (k != Value::Kind::kDouble && k != Value::Kind::kInt) break;
      const double d = k == Value::Kind::kInt ? static_cast<double>(v.as_int()) : v.as_double();
      if (!std::isfinite(d)) return NonFinite(d);
      const auto f = static_cast<float>(d);
      if (type.kind == TypeKind::kFloat && static_cast<double>(f) == d) {
        AppendShortest(f, out);
      } else {
        AppendShortest(d, out);
      }
      return Status::OK();
    }
    case TypeKind::kDecimal:
      return AppendDecimal(type, v, out);
    case TypeKind::kText:
    case TypeKind::kJson:
    case TypeKind::kFile:
    case TypeKind::kUuid:
      break;  // Text → string is the computed encoding
    case TypeKind::kBytes:
      break;  // Blob → byte array is the computed encoding
    case TypeKind::kEmbedding:
      if (k != Value::Kind::kBlob || v.as_bytes().size() % 4 != 0) break;
      return AppendFloatArray(v.as_bytes(), out);
  }
  return AppendComputed(v, out);
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && IsPlainAscii(static_cast<unsigned char>(s[run]))) ++run;
    out->append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t bad_len = 0;
      const size_t len = Utf8SequenceLength(s, i, &bad_len);
      if (len > 0) {
        out->append(s.data() + i, len);
        i += len;
      } else {
        out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
        i += bad_len;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(esc, 6);
      }
    }
    ++i;
  }
  out->push_back('"');
}

Status AppendJsonValue(const DataType* type, const Value& v, std::string* out) {
  const size_t mark = out->size();
  Status s = type == nullptr ? AppendComputed(v, out) : AppendTyped(*type, v, out);
  if (!s.ok()) out->resize(mark);
  return s;
}

}  // namespace kalam
