// Tests for varints, the row-cell codec and the order-preserving key codec.
#include "common/value_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace kalam {
namespace {

std::string Varint(uint64_t v) {
  std::string out;
  PutVarint64(&out, v);
  return out;
}

std::string Encoded(const Value& v) {
  std::string out;
  EncodeValue(v, &out);
  return out;
}

std::string Ordered(const Value& v) {
  std::string out;
  AppendOrderedValue(v, &out);
  return out;
}

std::string OrderedStr(std::string_view s) {
  std::string out;
  AppendOrderedString(s, &out);
  return out;
}

std::string RandomBytes(std::mt19937_64& rng, size_t max_len, int alphabet) {
  std::uniform_int_distribution<size_t> len(0, max_len);
  std::uniform_int_distribution<int> byte(0, alphabet - 1);
  std::string s(len(rng), '\0');
  // A small alphabet that includes 0x00, 0x01 and 0xFF makes shared prefixes and escapes common.
  static constexpr char kSmall[] = {'\x00', '\x01', '\xFF', 'a', 'b'};
  for (char& c : s) c = alphabet <= 5 ? kSmall[byte(rng)] : static_cast<char>(byte(rng));
  return s;
}

// ---- Varints ----

TEST(VarintTest, EncodesBoundariesWithTheExpectedLength) {
  EXPECT_EQ(Varint(0), std::string(1, '\0'));
  EXPECT_EQ(Varint(127), "\x7F");
  EXPECT_EQ(Varint(128), "\x80\x01");
  EXPECT_EQ(Varint(300), "\xAC\x02");
  EXPECT_EQ(Varint(UINT64_MAX).size(), 10u);
  EXPECT_EQ(Varint(uint64_t{1} << 63).size(), 10u);
  EXPECT_EQ(Varint((uint64_t{1} << 56) - 1).size(), 8u);
}

TEST(VarintTest, RoundTripsAndAdvancesInput) {
  std::mt19937_64 rng(7);
  std::string buf;
  std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, UINT64_MAX, UINT64_MAX - 1};
  for (int i = 0; i < 1000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) PutVarint64(&buf, v);
  buf += "tail";
  std::string_view in = buf;
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got));
    ASSERT_EQ(got, v);
  }
  EXPECT_EQ(in, "tail");
}

TEST(VarintTest, RejectsTruncatedAndOverlongInputWithoutConsuming) {
  uint64_t v = 0;
  std::string_view empty;
  EXPECT_FALSE(GetVarint64(&empty, &v));
  const std::string full = Varint(UINT64_MAX);
  for (size_t n = 0; n < full.size(); ++n) {
    std::string_view in(full.data(), n);
    EXPECT_FALSE(GetVarint64(&in, &v)) << n;
    EXPECT_EQ(in.size(), n);
  }
  // An 11-byte varint, and a 10th byte carrying more than bit 63, overflow 64 bits.
  std::string eleven(10, '\x80');
  eleven += '\x01';
  std::string_view in = eleven;
  EXPECT_FALSE(GetVarint64(&in, &v));
  std::string overflow(9, '\xFF');
  overflow += '\x02';
  in = overflow;
  EXPECT_FALSE(GetVarint64(&in, &v));
}

TEST(ZigZagTest, MapsSmallMagnitudesToSmallCodes) {
  EXPECT_EQ(ZigZagEncode64(0), 0u);
  EXPECT_EQ(ZigZagEncode64(-1), 1u);
  EXPECT_EQ(ZigZagEncode64(1), 2u);
  EXPECT_EQ(ZigZagEncode64(-2), 3u);
  EXPECT_EQ(ZigZagEncode64(INT64_MAX), UINT64_MAX - 1);
  EXPECT_EQ(ZigZagEncode64(INT64_MIN), UINT64_MAX);
  for (int64_t v :
       {int64_t{0}, int64_t{-1}, int64_t{1}, INT64_MIN, INT64_MAX, int64_t{-123456789}}) {
    EXPECT_EQ(ZigZagDecode64(ZigZagEncode64(v)), v);
  }
}

// ---- Row cells ----

std::vector<Value> SampleValues() {
  return {Value::Null(),
          Value::Int(0),
          Value::Int(-1),
          Value::Int(INT64_MIN),
          Value::Int(INT64_MAX),
          Value::Double(0.0),
          Value::Double(-0.0),
          Value::Double(1.5),
          Value::Double(std::numeric_limits<double>::infinity()),
          Value::Double(std::numeric_limits<double>::denorm_min()),
          Value::Text(""),
          Value::Text("hello"),
          Value::Text(std::string("a\0b", 3)),
          Value::Text(std::string(300, 'x')),
          Value::Bytes(""),
          Value::Bytes(std::string("\x00\xFF\x01", 3))};
}

TEST(ValueCodecTest, RoundTripsEveryKind) {
  std::string buf;
  const std::vector<Value> values = SampleValues();
  for (const Value& v : values) EncodeValue(v, &buf);
  std::string_view in = buf;
  for (const Value& v : values) {
    Result<Value> got = DecodeValue(&in);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, v) << v.DebugString();
  }
  EXPECT_TRUE(in.empty());
}

TEST(ValueCodecTest, PreservesNegativeZeroAndNaNBits) {
  std::string buf = Encoded(Value::Double(-0.0));
  std::string_view in = buf;
  Result<Value> got = DecodeValue(&in);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(std::signbit(got->as_double()));
  buf = Encoded(Value::Double(std::nan("")));
  in = buf;
  got = DecodeValue(&in);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(std::isnan(got->as_double()));
}

TEST(ValueCodecTest, IsCompact) {
  EXPECT_EQ(Encoded(Value::Null()).size(), 1u);
  EXPECT_EQ(Encoded(Value::Int(5)).size(), 2u);
  EXPECT_EQ(Encoded(Value::Int(-64)).size(), 2u);
  EXPECT_EQ(Encoded(Value::Double(1.0)).size(), 9u);
  EXPECT_EQ(Encoded(Value::Text("abc")).size(), 5u);
  EXPECT_EQ(Encoded(Value::Bytes("ab")).size(), 4u);
}

TEST(ValueCodecTest, EveryTruncationIsCorruptionAndConsumesNothing) {
  for (const Value& v : SampleValues()) {
    const std::string full = Encoded(v);
    for (size_t n = 0; n < full.size(); ++n) {
      std::string_view in(full.data(), n);
      Result<Value> got = DecodeValue(&in);
      ASSERT_FALSE(got.ok()) << v.DebugString() << " cut at " << n;
      EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
      EXPECT_EQ(in.size(), n);
    }
  }
}

TEST(ValueCodecTest, UnknownTagAndHugeLengthAreCorruption) {
  std::string bad = "\x09";
  std::string_view in = bad;
  EXPECT_EQ(DecodeValue(&in).status().code(), StatusCode::kCorruption);
  std::string huge = "\x03";  // Text with a length far past the end
  PutVarint64(&huge, UINT64_MAX);
  huge += "abc";
  in = huge;
  EXPECT_EQ(DecodeValue(&in).status().code(), StatusCode::kCorruption);
}

TEST(ValueCodecTest, RandomGarbageNeverCrashesOrOverReads) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 20000; ++i) {
    const std::string garbage = RandomBytes(rng, 24, 256);
    // A heap copy of exactly the garbage's size, so a sanitizer build flags any over-read.
    std::vector<char> exact(garbage.begin(), garbage.end());
    std::string_view in(exact.data(), exact.size());
    while (!in.empty()) {
      const size_t before = in.size();
      Result<Value> got = DecodeValue(&in);
      if (!got.ok()) {
        EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
        EXPECT_EQ(in.size(), before);
        break;
      }
      ASSERT_LT(in.size(), before);
    }
  }
}

TEST(ValueCodecTest, DecodeIntoAgreesWithDecodeAndSaysWhatIsMalformed) {
  // TryDecodeValueInto (the scans' inline decoder) and DecodeValueInto (the same with a message)
  // decode what DecodeValue does into a reused slot, and on every truncation return false /
  // kCorruption consuming nothing and leaving the slot as it was.
  Value slot = Value::Text("previous");
  for (const Value& v : SampleValues()) {
    const std::string full = Encoded(v) + "tail";
    std::string_view in = full;
    ASSERT_TRUE(TryDecodeValueInto(&in, &slot)) << v.DebugString();
    EXPECT_EQ(slot, v);
    EXPECT_EQ(in, "tail");
    in = full;
    slot = Value::Int(7);
    ASSERT_TRUE(DecodeValueInto(&in, &slot).ok());
    EXPECT_EQ(slot, v);
    in = full;
    ASSERT_TRUE(TryDecodeValueInto(&in, nullptr));  // only skipped
    EXPECT_EQ(in, "tail");
    for (size_t n = 0; n + 4 < full.size(); ++n) {
      std::string_view cut(full.data(), n);
      slot = Value::Text("kept");
      EXPECT_FALSE(TryDecodeValueInto(&cut, &slot)) << v.DebugString() << " cut at " << n;
      EXPECT_EQ(cut.size(), n);
      EXPECT_EQ(slot, Value::Text("kept"));
      EXPECT_EQ(DecodeValueInto(&cut, &slot).code(), StatusCode::kCorruption);
      EXPECT_EQ(cut.size(), n);
    }
  }
  auto message = [](const std::string& bytes) {
    std::string_view in = bytes;
    Value out;
    return DecodeValueInto(&in, &out).message();
  };
  EXPECT_EQ(message(""), "Truncated value: no tag byte");
  EXPECT_EQ(message("\x01\x80"), "Bad integer value: truncated varint");
  EXPECT_EQ(message("\x02\x01\x02"), "Bad double value: fewer than 8 bytes");
  EXPECT_EQ(message("\x03\x05" "ab"), "Bad text value: truncated");
  EXPECT_EQ(message("\x04\x05" "ab"), "Bad blob value: truncated");
  EXPECT_EQ(message("\x09"), "Bad value: unknown tag byte 9");
  // A varint of 11 bytes, and one whose 10th byte overflows 64 bits.
  EXPECT_EQ(message("\x01" + std::string(10, '\x80') + "\x01"),
            "Bad integer value: truncated varint");
  EXPECT_EQ(message("\x01" + std::string(9, '\xFF') + "\x02"),
            "Bad integer value: truncated varint");
}

// ---- Ordered codec: primitives ----

TEST(OrderedU64Test, IsBigEndianAndRoundTrips) {
  std::string out;
  AppendOrderedU64(0x0102030405060708, &out);
  EXPECT_EQ(out, "\x01\x02\x03\x04\x05\x06\x07\x08");
  std::string_view in = out;
  uint64_t v = 0;
  ASSERT_TRUE(ReadOrderedU64(&in, &v));
  EXPECT_EQ(v, 0x0102030405060708u);
  EXPECT_TRUE(in.empty());
  std::string_view short_in("\x01\x02", 2);
  EXPECT_FALSE(ReadOrderedU64(&short_in, &v));
  EXPECT_EQ(short_in.size(), 2u);
}

TEST(OrderedU64Test, MemcmpOrderIsNumericOrder) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t a = rng() >> (rng() % 64), b = rng() >> (rng() % 64);
    std::string ea, eb;
    AppendOrderedU64(a, &ea);
    AppendOrderedU64(b, &eb);
    ASSERT_EQ(a < b, ea < eb);
  }
}

TEST(OrderedStringTest, EscapesZeroBytesAndTerminates) {
  EXPECT_EQ(OrderedStr(""), std::string("\x00\x01", 2));
  EXPECT_EQ(OrderedStr("ab"), std::string("ab\x00\x01", 4));
  EXPECT_EQ(OrderedStr(std::string("a\0b", 3)), std::string("a\x00\xFF" "b\x00\x01", 6));
  EXPECT_EQ(OrderedStr(std::string(2, '\0')), std::string("\x00\xFF\x00\xFF\x00\x01", 6));
}

TEST(OrderedStringTest, PrefixesSortFirst) {
  EXPECT_LT(OrderedStr(""), OrderedStr(std::string(1, '\0')));
  EXPECT_LT(OrderedStr("a"), OrderedStr(std::string("a\0", 2)));
  EXPECT_LT(OrderedStr(std::string("a\0", 2)), OrderedStr("a\x01"));
  EXPECT_LT(OrderedStr("a\x01"), OrderedStr("ab"));
  EXPECT_LT(OrderedStr("ab"), OrderedStr("b"));
  EXPECT_LT(OrderedStr("a\xFF"), OrderedStr("b"));
}

TEST(OrderedStringTest, RandomStringsKeepOrderAndNoEncodingIsAPrefixOfAnother) {
  std::mt19937_64 rng(11);
  std::vector<std::string> strings;
  for (int i = 0; i < 2000; ++i) strings.push_back(RandomBytes(rng, 6, 5));
  for (size_t i = 0; i + 1 < strings.size(); ++i) {
    for (size_t j = i + 1; j < std::min(strings.size(), i + 40); ++j) {
      const std::string& a = strings[i];
      const std::string& b = strings[j];
      const std::string ea = OrderedStr(a), eb = OrderedStr(b);
      ASSERT_EQ(a < b, ea < eb);
      ASSERT_EQ(a == b, ea == eb);
      if (a != b) {
        ASSERT_FALSE(eb.compare(0, ea.size(), ea) == 0 && eb.size() > ea.size());
        ASSERT_FALSE(ea.compare(0, eb.size(), eb) == 0 && ea.size() > eb.size());
      }
    }
  }
}

TEST(OrderedStringTest, RoundTripsAndRejectsBadInput) {
  std::mt19937_64 rng(5);
  std::string buf;
  std::vector<std::string> strings;
  for (int i = 0; i < 200; ++i) strings.push_back(RandomBytes(rng, 10, 5));
  for (const auto& s : strings) AppendOrderedString(s, &buf);
  std::string_view in = buf;
  for (const auto& s : strings) {
    std::string got;
    ASSERT_TRUE(ReadOrderedString(&in, &got));
    ASSERT_EQ(got, s);
  }
  EXPECT_TRUE(in.empty());

  std::string got;
  for (std::string_view bad : {std::string_view("abc"), std::string_view("abc\0", 4),
                               std::string_view("a\0\x02", 3), std::string_view("\0\xFF", 2)}) {
    std::string_view b = bad;
    EXPECT_FALSE(ReadOrderedString(&b, &got));
    EXPECT_EQ(b.size(), bad.size());
  }
}

TEST(OrderedStringTest, CompositeKeysSortLikeTuples) {
  std::mt19937_64 rng(17);
  struct Key {
    std::string s;
    uint64_t n;
  };
  std::vector<Key> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back({RandomBytes(rng, 3, 5), rng() % 4});
  auto enc = [](const Key& k) {
    std::string out;
    AppendOrderedString(k.s, &out);
    AppendOrderedU64(k.n, &out);
    return out;
  };
  std::vector<Key> by_tuple = keys, by_bytes = keys;
  std::stable_sort(by_tuple.begin(), by_tuple.end(), [](const Key& a, const Key& b) {
    return a.s != b.s ? a.s < b.s : a.n < b.n;
  });
  std::stable_sort(by_bytes.begin(), by_bytes.end(),
                   [&](const Key& a, const Key& b) { return enc(a) < enc(b); });
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(by_tuple[i].s, by_bytes[i].s);
    ASSERT_EQ(by_tuple[i].n, by_bytes[i].n);
  }
}

// ---- Ordered codec: values ----

// Checks that encodings order exactly like `values` under `less`: sorts the values, then checks
// every adjacent pair (which covers all pairs by transitivity) and a sample of random pairs.
template <typename T, typename MakeValue, typename Less>
void ExpectOrderPreserved(std::vector<T> values, MakeValue make, Less less) {
  std::sort(values.begin(), values.end(), less);
  std::vector<std::string> encs;
  for (const T& v : values) encs.push_back(Ordered(make(v)));
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    const bool lt = less(values[i], values[i + 1]);
    ASSERT_EQ(lt, encs[i] < encs[i + 1]) << "at sorted index " << i;
    ASSERT_EQ(!lt, encs[i] == encs[i + 1]) << "at sorted index " << i;
  }
  std::mt19937_64 rng(values.size());
  for (int k = 0; k < 20000; ++k) {
    const size_t i = rng() % values.size(), j = rng() % values.size();
    ASSERT_EQ(less(values[i], values[j]), encs[i] < encs[j]);
  }
}

TEST(OrderedValueTest, IntsSortNumericallyIncludingNegatives) {
  std::mt19937_64 rng(23);
  std::vector<int64_t> ints = {INT64_MIN, INT64_MIN + 1, -256, -1, 0, 1, 255, 256, INT64_MAX - 1,
                               INT64_MAX, 0, -1};
  for (int i = 0; i < 5000; ++i) {
    const auto v = static_cast<int64_t>(rng());
    ints.push_back(v >> (rng() % 64));
  }
  ExpectOrderPreserved(ints, Value::Int, std::less<int64_t>());
}

TEST(OrderedValueTest, DoublesSortNumericallyIncludingZerosInfinitiesAndSubnormals) {
  using L = std::numeric_limits<double>;
  std::vector<double> doubles = {-L::infinity(), -L::max(), -1e300, -1.5, -1.0, -L::min(),
                                 -L::denorm_min(), -0.0, 0.0, L::denorm_min(), L::min(), 1e-300,
                                 1.0, 1.5, 1e300, L::max(), L::infinity()};
  std::mt19937_64 rng(29);
  for (int i = 0; i < 3000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isnan(d)) doubles.push_back(d);
    doubles.push_back(std::uniform_real_distribution<double>(-1000, 1000)(rng));
  }
  ExpectOrderPreserved(doubles, Value::Double, std::less<double>());
}

TEST(OrderedValueTest, NegativeZeroEncodesAsPositiveZero) {
  EXPECT_EQ(Ordered(Value::Double(-0.0)), Ordered(Value::Double(0.0)));
  std::string buf = Ordered(Value::Double(-0.0));
  std::string_view in = buf;
  Result<Value> got = ReadOrderedValue(&in);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->as_double(), 0.0);
  EXPECT_FALSE(std::signbit(got->as_double()));
}

TEST(OrderedValueTest, AllNaNsEncodeAlikeAndSortAfterInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  const double neg_nan = -std::nan("");
  EXPECT_EQ(Ordered(Value::Double(std::nan(""))), Ordered(Value::Double(neg_nan)));
  EXPECT_EQ(Ordered(Value::Double(std::nan("7"))), Ordered(Value::Double(std::nan(""))));
  EXPECT_GT(Ordered(Value::Double(std::nan(""))), Ordered(Value::Double(inf)));
  std::string buf = Ordered(Value::Double(neg_nan));
  std::string_view in = buf;
  Result<Value> got = ReadOrderedValue(&in);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(std::isnan(got->as_double()));
}

TEST(OrderedValueTest, TextAndBlobsSortBytewiseWithEmbeddedZeros) {
  std::mt19937_64 rng(31);
  std::vector<std::string> strings = {"", std::string(1, '\0'), "a", std::string("a\0", 2),
                                      std::string("a\0\0", 3), "a\x01", "ab", "\xFF"};
  for (int i = 0; i < 5000; ++i) strings.push_back(RandomBytes(rng, 5, 5));
  ExpectOrderPreserved(strings, Value::Text, std::less<std::string>());
  ExpectOrderPreserved(strings, Value::Bytes, std::less<std::string>());
}

TEST(OrderedValueTest, KindsSortNullIntDoubleTextBlob) {
  const std::vector<std::string> encs = {
      Ordered(Value::Null()), Ordered(Value::Int(INT64_MAX)),
      Ordered(Value::Double(-std::numeric_limits<double>::infinity())), Ordered(Value::Text("")),
      Ordered(Value::Bytes(""))};
  for (size_t i = 0; i + 1 < encs.size(); ++i) EXPECT_LT(encs[i], encs[i + 1]);
  EXPECT_EQ(Ordered(Value::Null()).size(), 1u);
}

TEST(OrderedValueTest, RoundTripsSequencesOfValues) {
  std::string buf;
  std::vector<Value> values = SampleValues();
  for (const Value& v : values) AppendOrderedValue(v, &buf);
  std::string_view in = buf;
  for (const Value& v : values) {
    Result<Value> got = ReadOrderedValue(&in);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    if (v.kind() == Value::Kind::kDouble && v.as_double() == 0.0) {
      EXPECT_EQ(got->as_double(), 0.0);  // -0.0 comes back as +0.0
    } else {
      EXPECT_EQ(*got, v) << v.DebugString();
    }
  }
  EXPECT_TRUE(in.empty());
}

TEST(OrderedValueTest, TruncatedOrUnknownInputIsCorruption) {
  for (const Value& v : SampleValues()) {
    const std::string full = Ordered(v);
    for (size_t n = 0; n < full.size(); ++n) {
      std::string_view in(full.data(), n);
      Result<Value> got = ReadOrderedValue(&in);
      ASSERT_FALSE(got.ok()) << v.DebugString() << " cut at " << n;
      EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
      EXPECT_EQ(in.size(), n);
    }
  }
  std::string_view bad("\x00", 1);
  EXPECT_EQ(ReadOrderedValue(&bad).status().code(), StatusCode::kCorruption);
  bad = std::string_view("\x09", 1);
  EXPECT_EQ(ReadOrderedValue(&bad).status().code(), StatusCode::kCorruption);
}

TEST(OrderedValueTest, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(37);
  for (int i = 0; i < 20000; ++i) {
    std::string garbage = RandomBytes(rng, 20, 256);
    if (!garbage.empty()) garbage[0] = static_cast<char>(rng() % 7);
    std::vector<char> exact(garbage.begin(), garbage.end());
    std::string_view in(exact.data(), exact.size());
    while (!in.empty()) {
      const size_t before = in.size();
      Result<Value> got = ReadOrderedValue(&in);
      if (!got.ok()) {
        EXPECT_EQ(in.size(), before);
        break;
      }
      ASSERT_LT(in.size(), before);
    }
  }
}

}  // namespace
}  // namespace kalam
