// Tests for bit packing, the RLE/bit-packed hybrid and the decoders of the DELTA family and
// BYTE_STREAM_SPLIT, against hand-encoded bytes from the format specification.
#include "parquet/encodings.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace kalam::parquet {
namespace {

std::vector<uint8_t> Bytes(std::initializer_list<int> b) {
  std::vector<uint8_t> out;
  for (int x : b) out.push_back(static_cast<uint8_t>(x));
  return out;
}

std::vector<uint8_t> Bytes(const std::string& s) {
  return std::vector<uint8_t>(s.begin(), s.end());
}

TEST(BitPackingTest, PacksLsbFirstAsInTheSpecExample) {
  // Encodings.md: 0..7 at bit width 3 → 10001000 11000110 11111010.
  std::vector<uint32_t> values = {0, 1, 2, 3, 4, 5, 6, 7};
  std::string out;
  PackBits(values.data(), values.size(), 3, &out);
  EXPECT_EQ(Bytes(out), Bytes({0x88, 0xC6, 0xFA}));
  std::vector<uint32_t> back(8);
  UnpackBits(reinterpret_cast<const uint8_t*>(out.data()), out.size(), 0, 8, 3, back.data());
  EXPECT_EQ(back, values);
}

TEST(BitPackingTest, UnpacksSixtyFourBitValuesAndOffsets) {
  std::vector<uint8_t> data(24);
  uint64_t a = 0x8123456789abcdefULL, b = 0xfedcba9876543210ULL, c = 1;
  std::memcpy(data.data(), &a, 8);
  std::memcpy(data.data() + 8, &b, 8);
  std::memcpy(data.data() + 16, &c, 8);
  std::vector<uint64_t> out(3);
  UnpackBits(data.data(), data.size(), 0, 3, 64, out.data());
  EXPECT_EQ(out, (std::vector<uint64_t>{a, b, c}));
  UnpackBits(data.data(), data.size(), 2, 1, 64, out.data());
  EXPECT_EQ(out[0], c);
  // 63-bit values straddle byte boundaries.
  std::vector<uint64_t> v63(3);
  UnpackBits(data.data(), data.size(), 1, 2, 63, v63.data());
  uint64_t expect1 = (a >> 63) | (b << 1);
  EXPECT_EQ(v63[0], expect1 & ((uint64_t{1} << 63) - 1));
}

TEST(RleHybridTest, RunsBecomeRleRunsAndTheRestBitPackedGroups) {
  std::vector<uint8_t> ones(10, 1);
  std::string out;
  RleEncode(ones.data(), ones.size(), 1, &out);
  EXPECT_EQ(Bytes(out), Bytes({0x14, 0x01}));  // header 10 << 1, value 1
  std::vector<uint32_t> mixed = {0, 1, 2, 3, 4, 5, 6, 7};
  out.clear();
  RleEncode(mixed.data(), mixed.size(), 3, &out);
  EXPECT_EQ(Bytes(out), Bytes({0x03, 0x88, 0xC6, 0xFA}));  // one group of 8, bit-packed
}

TEST(RleHybridTest, RoundTripsRandomDataAtEveryWidthInUnevenBatches) {
  std::mt19937 rng(3);
  for (int width = 1; width <= 32; ++width) {
    std::vector<uint32_t> values;
    const uint64_t limit = width == 32 ? 0xFFFFFFFFull : (uint64_t{1} << width) - 1;
    while (values.size() < 3000) {
      uint32_t v = static_cast<uint32_t>(rng() & limit);
      size_t repeat = rng() % 3 == 0 ? rng() % 40 : 1;
      for (size_t i = 0; i < repeat; ++i) values.push_back(v);
    }
    std::string out;
    RleEncode(values.data(), values.size(), width, &out);
    RleDecoder decoder(reinterpret_cast<const uint8_t*>(out.data()), out.size(), width);
    std::vector<uint32_t> back(values.size());
    size_t done = 0;
    while (done < values.size()) {
      size_t k = std::min<size_t>(values.size() - done, 1 + rng() % 100);
      ASSERT_TRUE(decoder.Decode(back.data() + done, k).ok()) << width;
      done += k;
    }
    EXPECT_EQ(back, values) << "width " << width;
    // The last group may be padded; past the padding the data ends.
    std::vector<uint32_t> pad(8);
    Status st = decoder.Decode(pad.data(), pad.size());
    EXPECT_EQ(st.code(), StatusCode::kCorruption);
  }
}

TEST(RleHybridTest, TruncatedOrMalformedDataIsCorruption) {
  std::vector<uint8_t> values(100);
  for (size_t i = 0; i < values.size(); ++i) values[i] = (i * 7) % 2;
  std::string out;
  RleEncode(values.data(), values.size(), 1, &out);
  for (size_t cut = 0; cut < out.size(); ++cut) {
    RleDecoder d(reinterpret_cast<const uint8_t*>(out.data()), cut, 1);
    std::vector<uint8_t> back(values.size());
    EXPECT_EQ(d.Decode(back.data(), back.size()).code(), StatusCode::kCorruption) << cut;
  }
  std::vector<uint8_t> bad_varint(12, 0xFF);
  RleDecoder d(bad_varint.data(), bad_varint.size(), 8);
  uint8_t v;
  EXPECT_EQ(d.Decode(&v, 1).code(), StatusCode::kCorruption);
}

TEST(DeltaBinaryPackedTest, DecodesTheSpecExampleWithPaddedMiniblock) {
  // Encodings.md example 2: 7 5 3 1 2 3 4 5 → deltas -2 -2 -2 1 1 1 1, min delta -2, width 2.
  std::vector<uint8_t> data = Bytes({0x80, 0x01, 0x04, 0x08, 0x0E,  // 128, 4 miniblocks, 8, 7
                                     0x03, 2, 0, 0, 0,              // min delta -2, widths
                                     0xC0, 0x3F, 0, 0, 0, 0, 0, 0,  // 0 0 0 3 | 3 3 3, padded
                                     0xAA});                        // next stream's byte
  std::vector<int32_t> out;
  auto used = DecodeDeltaBinaryPacked<int32_t>(data.data(), data.size(), 100, &out);
  ASSERT_TRUE(used.ok()) << used.status().ToString();
  EXPECT_EQ(*used, 18u);
  EXPECT_EQ(out, (std::vector<int32_t>{7, 5, 3, 1, 2, 3, 4, 5}));
  std::vector<int64_t> out64;
  ASSERT_TRUE(DecodeDeltaBinaryPacked<int64_t>(data.data(), data.size(), 100, &out64).ok());
  EXPECT_EQ(out64, (std::vector<int64_t>{7, 5, 3, 1, 2, 3, 4, 5}));
}

TEST(DeltaBinaryPackedTest, RefusesBadHeadersAndTooManyValues) {
  std::vector<uint8_t> data = Bytes({0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F});
  std::vector<int32_t> out;
  EXPECT_EQ(DecodeDeltaBinaryPacked<int32_t>(data.data(), data.size(), 7, &out).status().code(),
            StatusCode::kCorruption);  // 8 values where 7 fit
  std::vector<uint8_t> zero_block = Bytes({0x00, 0x04, 0x01, 0x00});
  EXPECT_EQ(DecodeDeltaBinaryPacked<int32_t>(zero_block.data(), zero_block.size(), 9, &out)
                .status()
                .code(),
            StatusCode::kCorruption);
  std::vector<uint8_t> wide = Bytes({0x80, 0x01, 0x04, 0x03, 0x00, 0x00, 65, 0, 0, 0});
  std::vector<int64_t> out64;
  EXPECT_EQ(DecodeDeltaBinaryPacked<int64_t>(wide.data(), wide.size(), 9, &out64).status().code(),
            StatusCode::kCorruption);  // miniblock width 65
  for (size_t cut = 0; cut < 12; ++cut) {
    EXPECT_FALSE(DecodeDeltaBinaryPacked<int32_t>(data.data(), cut, 100, &out).ok()) << cut;
  }
}

TEST(DeltaByteArrayTest, DecodesLengthsThenSuffixesSharingPrefixes) {
  // Values "ab", "abc", "b": prefix lengths 0 2 0, suffixes "ab" "c" "b".
  std::vector<uint8_t> data = Bytes({0x80, 0x01, 0x04, 0x03, 0x00,  // prefixes: first 0
                                     0x03, 3, 0, 0, 0,              // min delta -2, width 3
                                     0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // 4 0 (+2 -2)
                                     0x80, 0x01, 0x04, 0x03, 0x04,  // suffix lengths: first 2
                                     0x01, 1, 0, 0, 0,              // min delta -1, width 1
                                     0x02, 0, 0, 0,                 // 0 1 (-1 0)
                                     'a', 'b', 'c', 'b'});
  std::string arena;
  std::vector<std::string_view> out;
  Status st = DecodeDeltaByteArrays(data.data(), data.size(), 3, 1 << 20, &arena, &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out, (std::vector<std::string_view>{"ab", "abc", "b"}));
  std::vector<std::string_view> suffixes;
  auto used = DecodeDeltaLengthByteArrays(data.data() + 22, data.size() - 22, 3, &suffixes);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, data.size() - 22);
  EXPECT_EQ(suffixes, (std::vector<std::string_view>{"ab", "c", "b"}));
  // The expansion cap applies.
  EXPECT_EQ(DecodeDeltaByteArrays(data.data(), data.size(), 3, 4, &arena, &out).code(),
            StatusCode::kResourceExhausted);
  // Suffix bytes missing.
  EXPECT_EQ(DecodeDeltaByteArrays(data.data(), data.size() - 1, 3, 1 << 20, &arena, &out).code(),
            StatusCode::kCorruption);
}

TEST(ByteStreamSplitTest, ReassemblesValuesFromByteStreams) {
  float a = 1.0f, b = 2.0f;  // 00 00 80 3F, 00 00 00 40
  std::vector<uint8_t> data = Bytes({0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x3F, 0x40});
  float out[2];
  ASSERT_TRUE(DecodeByteStreamSplit(data.data(), data.size(), 2, 4,
                                    reinterpret_cast<uint8_t*>(out))
                  .ok());
  EXPECT_EQ(out[0], a);
  EXPECT_EQ(out[1], b);
  EXPECT_EQ(DecodeByteStreamSplit(data.data(), 7, 2, 4, reinterpret_cast<uint8_t*>(out)).code(),
            StatusCode::kCorruption);
}

TEST(PlainByteArrayTest, SplitsLengthPrefixedValuesAndRefusesOverruns) {
  std::vector<uint8_t> data = Bytes({2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0, 1, 0, 0, 0, 'x'});
  std::string_view out[3];
  auto used = DecodePlainByteArrays(data.data(), data.size(), 3, out);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, data.size());
  EXPECT_EQ(out[0], "hi");
  EXPECT_EQ(out[1], "");
  EXPECT_EQ(out[2], "x");
  EXPECT_EQ(DecodePlainByteArrays(data.data(), data.size() - 1, 3, out).status().code(),
            StatusCode::kCorruption);
  std::vector<uint8_t> huge = Bytes({0xFF, 0xFF, 0xFF, 0x7F, 'a'});
  EXPECT_EQ(DecodePlainByteArrays(huge.data(), huge.size(), 1, out).status().code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace kalam::parquet
