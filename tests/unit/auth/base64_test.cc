// Base64url without padding: RFC 4648 vectors, round trips, and strict rejection.
#include "auth/base64.h"

#include <random>

#include <gtest/gtest.h>

namespace kalam::auth {
namespace {

TEST(Base64UrlTest, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("fooba"), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");  // the URL-safe alphabet, not "+/"
}

TEST(Base64UrlTest, RoundTripsArbitraryBytesOfEveryLength) {
  std::mt19937 rng(7);
  for (size_t n = 0; n <= 70; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string encoded = Base64UrlEncode(bytes);
    EXPECT_EQ(encoded.find_first_of("=+/"), std::string::npos);
    EXPECT_EQ(Base64UrlDecode(encoded), bytes) << n;
  }
}

TEST(Base64UrlTest, RejectsPaddingAndForeignCharacters) {
  EXPECT_EQ(Base64UrlDecode("Zg=="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm8="), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("+_8"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("-/8"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v Yg"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v\n"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zm9v."), std::nullopt);
  EXPECT_EQ(Base64UrlDecode(std::string_view("Zm9v\0", 5)), std::nullopt);
}

TEST(Base64UrlTest, RejectsImpossibleLengthsAndNonCanonicalTrailingBits) {
  EXPECT_EQ(Base64UrlDecode("Z"), std::nullopt);      // 6 bits cannot make a byte
  EXPECT_EQ(Base64UrlDecode("Zm9vY"), std::nullopt);
  EXPECT_EQ(Base64UrlDecode("Zh"), std::nullopt);     // "Zg" with a stray low bit
  EXPECT_EQ(Base64UrlDecode("Zm9"), std::nullopt);    // "Zm8" with a stray low bit
  EXPECT_EQ(Base64UrlDecode(""), std::string());
}

}  // namespace
}  // namespace kalam::auth
