// ZipWriter: the archive's structure (local headers, central directory, end record), CRC-32 and
// raw-Deflate payloads read back with zlib, and the refusals.
#include "common/zip_writer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace kalam {
namespace {

uint32_t Get32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}
uint16_t Get16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) | (static_cast<uint8_t>(s[at + 1]) << 8));
}

std::string Inflate(std::string_view packed, size_t size) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, -15), Z_OK);
  std::string out(size, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  zs.avail_in = static_cast<uInt>(packed.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

TEST(ZipWriterTest, EntriesRoundTripThroughTheCentralDirectory) {
  ZipWriter zip(1700000000);  // 2023-11-14 22:13:20 UTC
  const std::string a(10000, 'a');
  const std::string b = "{\"x\": 1}";
  ASSERT_TRUE(zip.Add("README.json", b).ok());
  ASSERT_TRUE(zip.Add("ns/t.parquet", a).ok());
  EXPECT_EQ(zip.entries(), 2u);
  auto out = zip.Finish();
  ASSERT_TRUE(out.ok());
  const std::string& z = *out;
  // End record: 22 bytes at the end.
  const size_t end = z.size() - 22;
  ASSERT_EQ(Get32(z, end), 0x06054b50u);
  EXPECT_EQ(Get16(z, end + 8), 2);
  EXPECT_EQ(Get16(z, end + 10), 2);
  const uint32_t dir_size = Get32(z, end + 12);
  const uint32_t dir_offset = Get32(z, end + 16);
  EXPECT_EQ(dir_offset + dir_size, end);
  size_t at = dir_offset;
  const std::string* contents[] = {&b, &a};
  const char* names[] = {"README.json", "ns/t.parquet"};
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Get32(z, at), 0x02014b50u);
    EXPECT_EQ(Get16(z, at + 10), 8);  // deflate
    const uint32_t crc = Get32(z, at + 16);
    const uint32_t csize = Get32(z, at + 20);
    const uint32_t usize = Get32(z, at + 24);
    const uint16_t nlen = Get16(z, at + 28);
    const uint32_t local = Get32(z, at + 42);
    EXPECT_EQ(z.substr(at + 46, nlen), names[i]);
    EXPECT_EQ(usize, contents[i]->size());
    EXPECT_EQ(crc, crc32(0L, reinterpret_cast<const Bytef*>(contents[i]->data()),
                         static_cast<uInt>(contents[i]->size())));
    // The local header repeats CRC and sizes; the data follows header and name.
    ASSERT_EQ(Get32(z, local), 0x04034b50u);
    EXPECT_EQ(Get32(z, local + 14), crc);
    EXPECT_EQ(Get32(z, local + 18), csize);
    EXPECT_EQ(Get16(z, local + 26), nlen);
    const std::string_view packed = std::string_view(z).substr(local + 30 + nlen, csize);
    EXPECT_EQ(Inflate(packed, usize), *contents[i]);
    at += 46 + nlen;
  }
  EXPECT_LT(z.size(), a.size());  // the 10 000 'a's compress
}

TEST(ZipWriterTest, EmptyArchiveIsJustTheEndRecord) {
  ZipWriter zip;
  auto out = zip.Finish();
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 22u);
  EXPECT_EQ(Get32(*out, 0), 0x06054b50u);
}

TEST(ZipWriterTest, RefusesNamesThatAreNotRelativePathsAndDuplicates) {
  ZipWriter zip;
  for (const char* bad : {"", "/abs", "a/../b", "..", "a//b", "a\\b", "./a", "a/"}) {
    EXPECT_EQ(zip.Add(bad, "x").code(), StatusCode::kInvalidArgument) << bad;
  }
  ASSERT_TRUE(zip.Add("a/b.json", "x").ok());
  EXPECT_EQ(zip.Add("a/b.json", "y").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(zip.entries(), 1u);
}

}  // namespace
}  // namespace kalam
