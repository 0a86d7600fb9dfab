// Varints, the row-cell codec and the order-preserving key codec.
#include "common/value_codec.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace kalam {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

// Kind bytes of the ordered encoding; their order is the order between kinds.
constexpr uint8_t kOrderedNull = 0x01;
constexpr uint8_t kOrderedInt = 0x02;
constexpr uint8_t kOrderedDouble = 0x03;
constexpr uint8_t kOrderedText = 0x04;
constexpr uint8_t kOrderedBlob = 0x05;

uint64_t DoubleBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  return bits;
}

double BitsDouble(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

// Reads a varint length and that many bytes.
bool GetLengthPrefixed(std::string_view* in, std::string* out) {
  std::string_view rest = *in;
  uint64_t len = 0;
  if (!GetVarint64(&rest, &len) || len > rest.size()) return false;
  out->assign(rest.data(), static_cast<size_t>(len));
  rest.remove_prefix(static_cast<size_t>(len));
  *in = rest;
  return true;
}

}  // namespace

void PutVarint64(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, static_cast<size_t>(n));
}

VarintRead GetVarint64MultiPtr(const char* p, const char* limit) {
  uint64_t result = 0;
  for (size_t i = 0; p + i < limit && i < 10; ++i) {
    const auto byte = static_cast<uint8_t>(p[i]);
    // The 10th byte holds only bit 63: anything more would overflow.
    if (i == 9 && byte > 1) return {};
    result |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) return {p + i + 1, result};
  }
  return {};
}

void EncodeValue(const Value& v, std::string* out) {
  out->push_back(static_cast<char>(v.kind()));
  switch (v.kind()) {
    case Value::Kind::kNull:
      break;
    case Value::Kind::kInt:
      PutVarint64(out, ZigZagEncode64(v.as_int()));
      break;
    case Value::Kind::kDouble: {
      const uint64_t bits = DoubleBits(v.as_double());
      char buf[8];
      for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(bits >> (8 * i));
      out->append(buf, 8);
      break;
    }
    case Value::Kind::kText:
      PutVarint64(out, v.as_text().size());
      out->append(v.as_text());
      break;
    case Value::Kind::kBlob:
      PutVarint64(out, v.as_bytes().size());
      out->append(v.as_bytes());
      break;
  }
}

Status DecodeValueInto(std::string_view* in, Value* out) {
  if (TryDecodeValueInto(in, out)) return Status::OK();
  // Malformed: say what is wrong.
  if (in->empty()) return Status::Corruption("Truncated value: no tag byte");
  const auto tag = static_cast<uint8_t>(in->front());
  switch (tag) {
    case static_cast<uint8_t>(Value::Kind::kInt):
      return Status::Corruption("Bad integer value: truncated varint");
    case static_cast<uint8_t>(Value::Kind::kDouble):
      return Status::Corruption("Bad double value: fewer than 8 bytes");
    case static_cast<uint8_t>(Value::Kind::kText):
      return Status::Corruption("Bad text value: truncated");
    case static_cast<uint8_t>(Value::Kind::kBlob):
      return Status::Corruption("Bad blob value: truncated");
    default:
      return Status::Corruption("Bad value: unknown tag byte " + std::to_string(tag));
  }
}

Result<Value> DecodeValue(std::string_view* in) {
  if (in->empty()) return Status::Corruption("Truncated value: no tag byte");
  std::string_view rest = in->substr(1);
  const auto tag = static_cast<uint8_t>(in->front());
  Value out;
  switch (tag) {
    case static_cast<uint8_t>(Value::Kind::kNull):
      break;
    case static_cast<uint8_t>(Value::Kind::kInt): {
      uint64_t z = 0;
      if (!GetVarint64(&rest, &z)) return Status::Corruption("Bad integer value: truncated varint");
      out = Value::Int(ZigZagDecode64(z));
      break;
    }
    case static_cast<uint8_t>(Value::Kind::kDouble): {
      if (rest.size() < 8) return Status::Corruption("Bad double value: fewer than 8 bytes");
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) {
        bits |= static_cast<uint64_t>(static_cast<uint8_t>(rest[i])) << (8 * i);
      }
      rest.remove_prefix(8);
      out = Value::Double(BitsDouble(bits));
      break;
    }
    case static_cast<uint8_t>(Value::Kind::kText): {
      std::string s;
      if (!GetLengthPrefixed(&rest, &s)) return Status::Corruption("Bad text value: truncated");
      out = Value::Text(std::move(s));
      break;
    }
    case static_cast<uint8_t>(Value::Kind::kBlob): {
      std::string s;
      if (!GetLengthPrefixed(&rest, &s)) return Status::Corruption("Bad blob value: truncated");
      out = Value::Bytes(std::move(s));
      break;
    }
    default:
      return Status::Corruption("Bad value: unknown tag byte " + std::to_string(tag));
  }
  *in = rest;
  return out;
}

void AppendOrderedU64(uint64_t v, std::string* out) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * (7 - i)));
  out->append(buf, 8);
}

void AppendOrderedString(std::string_view s, std::string* out) {
  size_t start = 0;
  for (size_t zero = s.find('\0'); zero != std::string_view::npos; zero = s.find('\0', start)) {
    out->append(s.data() + start, zero - start);
    out->append("\x00\xFF", 2);
    start = zero + 1;
  }
  out->append(s.data() + start, s.size() - start);
  out->append("\x00\x01", 2);
}

bool ReadOrderedString(std::string_view* in, std::string* s) {
  std::string result;
  size_t start = 0;
  while (true) {
    const size_t zero = in->find('\0', start);
    if (zero == std::string_view::npos || zero + 1 >= in->size()) return false;
    result.append(in->data() + start, zero - start);
    const auto marker = static_cast<uint8_t>((*in)[zero + 1]);
    if (marker == 0x01) {
      in->remove_prefix(zero + 2);
      *s = std::move(result);
      return true;
    }
    if (marker != 0xFF) return false;
    result.push_back('\0');
    start = zero + 2;
  }
}

void AppendOrderedValue(const Value& v, std::string* out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out->push_back(static_cast<char>(kOrderedNull));
      break;
    case Value::Kind::kInt:
      out->push_back(static_cast<char>(kOrderedInt));
      AppendOrderedU64(static_cast<uint64_t>(v.as_int()) ^ kSignBit, out);
      break;
    case Value::Kind::kDouble: {
      double d = v.as_double();
      if (d == 0.0) d = 0.0;  // -0.0 == 0.0, so both get the one encoding
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      const uint64_t bits = DoubleBits(d);
      out->push_back(static_cast<char>(kOrderedDouble));
      AppendOrderedU64((bits & kSignBit) ? ~bits : bits | kSignBit, out);
      break;
    }
    case Value::Kind::kText:
      out->push_back(static_cast<char>(kOrderedText));
      AppendOrderedString(v.as_text(), out);
      break;
    case Value::Kind::kBlob:
      out->push_back(static_cast<char>(kOrderedBlob));
      AppendOrderedString(v.as_bytes(), out);
      break;
  }
}

Result<Value> ReadOrderedValue(std::string_view* in) {
  if (in->empty()) return Status::Corruption("Truncated key: no kind byte");
  std::string_view rest = in->substr(1);
  Value out;
  switch (static_cast<uint8_t>(in->front())) {
    case kOrderedNull:
      break;
    case kOrderedInt: {
      uint64_t u = 0;
      if (!ReadOrderedU64(&rest, &u)) return Status::Corruption("Truncated integer key");
      out = Value::Int(static_cast<int64_t>(u ^ kSignBit));
      break;
    }
    case kOrderedDouble: {
      uint64_t u = 0;
      if (!ReadOrderedU64(&rest, &u)) return Status::Corruption("Truncated double key");
      out = Value::Double(BitsDouble((u & kSignBit) ? u & ~kSignBit : ~u));
      break;
    }
    case kOrderedText:
    case kOrderedBlob: {
      std::string s;
      if (!ReadOrderedString(&rest, &s)) {
        return Status::Corruption("Bad string key: missing terminator or bad escape");
      }
      out = static_cast<uint8_t>(in->front()) == kOrderedText ? Value::Text(std::move(s))
                                                             : Value::Bytes(std::move(s));
      break;
    }
    default:
      return Status::Corruption("Bad key: unknown kind byte " +
                                std::to_string(static_cast<uint8_t>(in->front())));
  }
  *in = rest;
  return out;
}

}  // namespace kalam
