// Tests for UUIDv7 / ULID generation and UUID canonicalisation.
#include "common/id_gen.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>
#include <vector>

namespace kalam {
namespace {

constexpr int64_t kMillis = 1777629600123;  // 2026-05-01T10:00:00.123Z

TEST(UuidV7Test, HasCanonicalShapeVersionAndVariant) {
  const std::regex shape("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUuidV7(kMillis);
    ASSERT_TRUE(std::regex_match(id, shape)) << id;
  }
}

TEST(UuidV7Test, First48BitsAreTheMillisecondsBigEndian) {
  const std::string id = NewUuidV7(kMillis);
  const std::string hex = id.substr(0, 8) + id.substr(9, 4);
  EXPECT_EQ(std::stoll(hex, nullptr, 16), kMillis);
  EXPECT_EQ(NewUuidV7(0).substr(0, 13), "00000000-0000");
}

TEST(UuidV7Test, OutOfRangeMillisAreClamped) {
  EXPECT_EQ(NewUuidV7(-5).substr(0, 13), "00000000-0000");
  EXPECT_EQ(NewUuidV7(INT64_MAX).substr(0, 13), "ffffffff-ffff");
}

TEST(UuidV7Test, IdsAreUniqueAndSortByMillisecond) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(seen.insert(NewUuidV7(kMillis)).second);
  EXPECT_LT(NewUuidV7(kMillis), NewUuidV7(kMillis + 1));
  EXPECT_LT(NewUuidV7(kMillis - 1), NewUuidV7(kMillis));
}

TEST(UuidV7Test, ConcurrentGenerationIsSafeAndUnique) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& out : per_thread) {
    threads.emplace_back([&out] {
      for (int i = 0; i < 2000; ++i) out.push_back(NewUuidV7(kMillis));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& out : per_thread) all.insert(out.begin(), out.end());
  EXPECT_EQ(all.size(), 8000u);
}

TEST(UlidTest, Has26CrockfordCharactersEncodingTheTime) {
  const std::regex shape("^[0-7][0-9A-HJKMNP-TV-Z]{25}$");
  const std::string id = NewUlid(kMillis);
  EXPECT_TRUE(std::regex_match(id, shape)) << id;
  // Decode the first 10 characters: 50 bits whose top 2 are zero, holding the 48-bit time.
  const std::string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  int64_t t = 0;
  for (int i = 0; i < 10; ++i) t = t * 32 + static_cast<int64_t>(alphabet.find(id[i]));
  EXPECT_EQ(t, kMillis);
  EXPECT_EQ(NewUlid(0).substr(0, 10), "0000000000");
  EXPECT_EQ(NewUlid(INT64_MAX).substr(0, 10), "7ZZZZZZZZZ");
}

TEST(UlidTest, IdsAreUniqueAndSortByMillisecond) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(seen.insert(NewUlid(kMillis)).second);
  EXPECT_LT(NewUlid(kMillis), NewUlid(kMillis + 1));
}

TEST(UlidTest, RandomPartUsesAllCharacters) {
  std::set<char> chars;
  for (int i = 0; i < 200; ++i) {
    const std::string id = NewUlid(kMillis);
    chars.insert(id.begin() + 10, id.end());
  }
  EXPECT_EQ(chars.size(), 32u);
}

TEST(CanonicalUuidTest, LowerCasesAndHyphenates) {
  EXPECT_EQ(*CanonicalUuid("0190F5E4-9C1A-7B3D-8F21-4C5D6E7F8091"),
            "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091");
  EXPECT_EQ(*CanonicalUuid("0190f5e49c1a7b3d8f214c5d6e7f8091"),
            "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091");
  EXPECT_EQ(*CanonicalUuid("0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091"),
            "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091");
}

TEST(CanonicalUuidTest, RejectsWrongShapes) {
  for (std::string_view bad : {"", "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f809",
                               "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f80911",
                               "0190f5e49-c1a-7b3d-8f21-4c5d6e7f8091",
                               "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f809g",
                               "{0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091}",
                               "0190f5e4_9c1a_7b3d_8f21_4c5d6e7f8091", "not-a-uuid"}) {
    Result<std::string> r = CanonicalUuid(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("is not a valid UUID"), std::string::npos);
    }
  }
}

TEST(CanonicalUuidTest, FromSixteenBytes) {
  const std::string bytes("\x01\x90\xf5\xe4\x9c\x1a\x7b\x3d\x8f\x21\x4c\x5d\x6e\x7f\x80\x91", 16);
  EXPECT_EQ(*CanonicalUuidFromBytes(bytes), "0190f5e4-9c1a-7b3d-8f21-4c5d6e7f8091");
  EXPECT_FALSE(CanonicalUuidFromBytes(bytes.substr(0, 15)).ok());
  EXPECT_FALSE(CanonicalUuidFromBytes(bytes + "x").ok());
}

TEST(CanonicalUuidTest, AcceptsGeneratedIdsUnchanged) {
  const std::string id = NewUuidV7(kMillis);
  EXPECT_EQ(*CanonicalUuid(id), id);
}

}  // namespace
}  // namespace kalam
