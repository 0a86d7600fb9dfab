// HS256 JWTs: what SignJwt produces, and every way VerifyJwt must refuse a token.
#include "auth/jwt.h"

#include <sodium.h>

#include <chrono>
#include <limits>

#include <gtest/gtest.h>

#include "auth/base64.h"

namespace kalam::auth {
namespace {

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z
constexpr std::string_view kSecret = "test-secret-with-enough-entropy-0123456789";

JwtClaims AliceAccess() {
  JwtClaims c;
  c.sub = "alice";
  c.iat = kNow;
  c.exp = kNow + 24 * 3600;
  c.email = "alice@example.com";
  c.role = "user";
  c.token_type = "access";
  return c;
}

// HMAC-SHA256 with libsodium's streaming API, independent of jwt.cc's helper.
std::string Mac(std::string_view data, std::string_view key) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()),
                                data.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return std::string(reinterpret_cast<char*>(mac), sizeof mac);
}

// A token with exactly this header and payload JSON, correctly signed with `key`.
std::string Forge(std::string_view header_json, std::string_view payload_json,
                  std::string_view key = kSecret) {
  std::string signing_input = Base64UrlEncode(header_json) + "." + Base64UrlEncode(payload_json);
  return signing_input + "." + Base64UrlEncode(Mac(signing_input, key));
}

constexpr std::string_view kHs256Header = R"({"alg":"HS256","typ":"JWT"})";

// Claims JSON for Forge, with every field overridable as raw JSON ("" = leave the claim out).
std::string ClaimsJson(std::string sub = R"("alice")", std::string iss = R"("kalamdb")",
                       std::string iat = std::to_string(kNow),
                       std::string exp = std::to_string(kNow + 3600),
                       std::string email = "null", std::string role = R"("user")",
                       std::string token_type = R"("access")") {
  std::string out = "{";
  auto add = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(name) + "\":" + value;
  };
  add("sub", sub);
  add("iss", iss);
  add("iat", iat);
  add("exp", exp);
  add("email", email);
  add("role", role);
  add("token_type", token_type);
  return out + "}";
}

std::string Segment(const std::string& token, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  size_t end = token.find('.', start);
  return token.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST(JwtTest, RoundTripPreservesEveryClaim) {
  JwtClaims claims = AliceAccess();
  JwtVerification v = VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow);
  ASSERT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.message, "");
  EXPECT_EQ(v.claims.sub, "alice");
  EXPECT_EQ(v.claims.iss, "kalamdb");
  EXPECT_EQ(v.claims.iat, kNow);
  EXPECT_EQ(v.claims.exp, kNow + 24 * 3600);
  EXPECT_EQ(v.claims.email, "alice@example.com");
  EXPECT_EQ(v.claims.role, "user");
  EXPECT_EQ(v.claims.token_type, "access");
}

TEST(JwtTest, RoundTripWithoutEmailAndWithEscapedCharacters) {
  JwtClaims claims = AliceAccess();
  claims.sub = "bob \"the\" \\ ünïcødé";
  claims.email.reset();
  claims.token_type = "refresh";
  JwtVerification v = VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow);
  ASSERT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.claims.sub, claims.sub);
  EXPECT_EQ(v.claims.email, std::nullopt);
  EXPECT_EQ(v.claims.token_type, "refresh");
}

TEST(JwtTest, SignedTokenHasStandardHeaderAndProtocolClaims) {
  JwtClaims claims = AliceAccess();
  claims.email.reset();
  std::string token = SignJwt(claims, kSecret);
  EXPECT_EQ(token.find('='), std::string::npos);
  EXPECT_EQ(Base64UrlDecode(Segment(token, 0)), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(Base64UrlDecode(Segment(token, 1)),
            R"({"sub":"alice","iss":"kalamdb","iat":1767225600,"exp":1767312000,)"
            R"("email":null,"role":"user","token_type":"access"})");
  EXPECT_EQ(Base64UrlDecode(Segment(token, 2))->size(), 32u);
  EXPECT_EQ(token, Forge(kHs256Header, *Base64UrlDecode(Segment(token, 1))));
}

TEST(JwtTest, Rfc7515ExampleSignatureVerifies) {
  // RFC 7515 appendix A.1: an HS256 JWS with a 64-byte key. Its claims are not KalamDB's, so the
  // token fails on claims, which proves that signature and encoding checks passed.
  auto key = Base64UrlDecode(
      "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  ASSERT_TRUE(key.has_value());
  std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19y"
      "b290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  JwtVerification v = VerifyJwt(token, *key, 1300819000);
  EXPECT_EQ(v.failure, JwtFailure::kClaims) << v.message;
  std::string forged_sig = token;
  forged_sig.back() = forged_sig.back() == 'k' ? 'A' : 'k';
  EXPECT_NE(VerifyJwt(forged_sig, *key, 1300819000).failure, JwtFailure::kClaims);
}

TEST(JwtTest, TamperedPayloadFailsSignature) {
  std::string token = SignJwt(AliceAccess(), kSecret);
  JwtClaims escalated = AliceAccess();
  escalated.role = "system";
  std::string other = SignJwt(escalated, "attacker's secret");
  std::string spliced = Segment(token, 0) + "." + Segment(other, 1) + "." + Segment(token, 2);
  JwtVerification v = VerifyJwt(spliced, kSecret, kNow);
  EXPECT_EQ(v.failure, JwtFailure::kSignature);
  EXPECT_EQ(v.message, "Invalid token signature");
  EXPECT_TRUE(v.claims.sub.empty()) << "claims of an unverified token are not exposed";
}

TEST(JwtTest, TamperedSignatureFails) {
  std::string token = SignJwt(AliceAccess(), kSecret);
  size_t sig = token.rfind('.') + 1;
  token[sig] = token[sig] == 'A' ? 'B' : 'A';
  EXPECT_EQ(VerifyJwt(token, kSecret, kNow).failure, JwtFailure::kSignature);
  std::string truncated = SignJwt(AliceAccess(), kSecret);
  truncated.resize(truncated.size() - 3);  // still valid base64url: 30 bytes instead of 32
  EXPECT_EQ(VerifyJwt(truncated, kSecret, kNow).failure, JwtFailure::kSignature);
}

TEST(JwtTest, TokenSignedWithAnotherSecretFails) {
  std::string token = SignJwt(AliceAccess(), kSecret);
  EXPECT_EQ(VerifyJwt(token, "another secret", kNow).failure, JwtFailure::kSignature);
  EXPECT_EQ(VerifyJwt(token, "", kNow).failure, JwtFailure::kSignature);
}

TEST(JwtTest, SecretsOfAnyLengthWork) {
  for (size_t length : {1u, 16u, 32u, 64u, 65u, 200u}) {
    std::string secret(length, 'k');
    std::string token = SignJwt(AliceAccess(), secret);
    EXPECT_TRUE(VerifyJwt(token, secret, kNow).ok()) << length;
    std::string other = secret;
    other.back() = 'x';
    EXPECT_EQ(VerifyJwt(token, other, kNow).failure, JwtFailure::kSignature) << length;
  }
}

TEST(JwtTest, AlgNoneWithoutSignatureIsRejected) {
  std::string unsigned_token = Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                               Base64UrlEncode(ClaimsJson()) + ".";
  JwtVerification v = VerifyJwt(unsigned_token, kSecret, kNow);
  EXPECT_EQ(v.failure, JwtFailure::kAlgorithm);
  EXPECT_EQ(v.message, "Unsupported token algorithm 'none'");
}

TEST(JwtTest, AlgNoneWithValidSignatureIsRejected) {
  std::string token = Forge(R"({"alg":"none","typ":"JWT"})", ClaimsJson());
  EXPECT_EQ(VerifyJwt(token, kSecret, kNow).failure, JwtFailure::kAlgorithm);
  token = Forge(R"({"alg":"None"})", ClaimsJson());
  EXPECT_EQ(VerifyJwt(token, kSecret, kNow).failure, JwtFailure::kAlgorithm);
}

TEST(JwtTest, OtherAlgorithmsAreRejected) {
  for (const char* header : {R"({"alg":"HS512","typ":"JWT"})", R"({"alg":"hs256","typ":"JWT"})",
                             R"({"alg":"HS256 ","typ":"JWT"})", R"({"alg":"RS256"})",
                             R"({"alg":"","typ":"JWT"})"}) {
    JwtVerification v = VerifyJwt(Forge(header, ClaimsJson()), kSecret, kNow);
    EXPECT_EQ(v.failure, JwtFailure::kAlgorithm) << header;
  }
  EXPECT_EQ(VerifyJwt(Forge(R"({"alg":"HS512","typ":"JWT"})", ClaimsJson()), kSecret, kNow).message,
            "Unsupported token algorithm 'HS512'");
}

TEST(JwtTest, MissingOrNonStringAlgIsRejected) {
  EXPECT_EQ(VerifyJwt(Forge(R"({"typ":"JWT"})", ClaimsJson()), kSecret, kNow).failure,
            JwtFailure::kAlgorithm);
  EXPECT_EQ(VerifyJwt(Forge(R"({"alg":256})", ClaimsJson()), kSecret, kNow).failure,
            JwtFailure::kAlgorithm);
  EXPECT_EQ(VerifyJwt(Forge(R"({"alg":["HS256"]})", ClaimsJson()), kSecret, kNow).failure,
            JwtFailure::kAlgorithm);
}

TEST(JwtTest, AnyCritHeaderIsRejected) {
  JwtVerification v =
      VerifyJwt(Forge(R"({"alg":"HS256","typ":"JWT","crit":["exp"]})", ClaimsJson()), kSecret,
                kNow);
  EXPECT_EQ(v.failure, JwtFailure::kAlgorithm);
  EXPECT_EQ(VerifyJwt(Forge(R"({"alg":"HS256","crit":[]})", ClaimsJson()), kSecret, kNow).failure,
            JwtFailure::kAlgorithm);
}

TEST(JwtTest, UnprintableAlgIsSanitizedInTheMessage) {
  JwtVerification v =
      VerifyJwt(Forge(R"({"alg":"x\u0000\n)" + std::string(100, 'y') + "\"}", ClaimsJson()),
                kSecret, kNow);
  EXPECT_EQ(v.failure, JwtFailure::kAlgorithm);
  EXPECT_EQ(v.message, "Unsupported token algorithm 'x??" + std::string(29, 'y') + "...'");
}

TEST(JwtTest, ExpiryAllowsLeewayAndNoMore) {
  JwtClaims claims = AliceAccess();
  claims.iat = kNow - 7200;
  claims.exp = kNow - 60;
  EXPECT_TRUE(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow).ok());
  claims.exp = kNow - 61;
  JwtVerification v = VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow);
  EXPECT_EQ(v.failure, JwtFailure::kExpired);
  EXPECT_EQ(v.message, "Token expired");
  EXPECT_EQ(v.claims.sub, "alice") << "claims are filled for an expired but genuine token";

  claims.exp = kNow;
  EXPECT_TRUE(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow, 0).ok());
  claims.exp = kNow - 1;
  EXPECT_EQ(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow, 0).failure, JwtFailure::kExpired);
  EXPECT_EQ(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow, -100).failure,
            JwtFailure::kExpired)
      << "negative leeway counts as 0";
}

TEST(JwtTest, IssuedInTheFutureBeyondLeewayIsRejected) {
  JwtClaims claims = AliceAccess();
  claims.iat = kNow + 60;
  claims.exp = kNow + 3600;
  EXPECT_TRUE(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow).ok());
  claims.iat = kNow + 61;
  JwtVerification v = VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow);
  EXPECT_EQ(v.failure, JwtFailure::kIssuedInFuture);
  EXPECT_EQ(v.message, "Token issued in the future");
}

TEST(JwtTest, ExtremeTimesDoNotOverflow) {
  JwtClaims claims = AliceAccess();
  claims.exp = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow,
                        std::numeric_limits<int64_t>::max())
                  .ok());
  claims.exp = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow).failure, JwtFailure::kExpired);
  claims = AliceAccess();
  claims.iat = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(VerifyJwt(SignJwt(claims, kSecret), kSecret, kNow).failure,
            JwtFailure::kIssuedInFuture);
}

TEST(JwtTest, EachMissingRequiredClaimIsRejected) {
  const std::vector<std::string> payloads = {
      ClaimsJson(""),                                  // no sub
      ClaimsJson(R"("alice")", ""),                    // no iss
      ClaimsJson(R"("alice")", R"("kalamdb")", ""),    // no iat
      ClaimsJson(R"("alice")", R"("kalamdb")", std::to_string(kNow), ""),  // no exp
      ClaimsJson(R"("alice")", R"("kalamdb")", std::to_string(kNow),
                 std::to_string(kNow + 60), "null", ""),  // no role
      ClaimsJson(R"("alice")", R"("kalamdb")", std::to_string(kNow),
                 std::to_string(kNow + 60), "null", R"("user")", ""),  // no token_type
      "{}",
  };
  for (const auto& payload : payloads) {
    JwtVerification v = VerifyJwt(Forge(kHs256Header, payload), kSecret, kNow);
    EXPECT_EQ(v.failure, JwtFailure::kClaims) << payload;
    EXPECT_EQ(v.message.rfind("Invalid token claims: ", 0), 0u) << v.message;
  }
}

TEST(JwtTest, AbsentEmailIsAccepted) {
  JwtVerification v = VerifyJwt(
      Forge(kHs256Header, ClaimsJson(R"("alice")", R"("kalamdb")", std::to_string(kNow),
                                     std::to_string(kNow + 60), "")),
      kSecret, kNow);
  ASSERT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.claims.email, std::nullopt);
}

TEST(JwtTest, ClaimsOfTheWrongTypeAreRejected) {
  const std::string iat = std::to_string(kNow);
  const std::string exp = std::to_string(kNow + 60);
  const std::vector<std::string> payloads = {
      ClaimsJson("123"),
      ClaimsJson(R"("")"),
      ClaimsJson("null"),
      ClaimsJson(R"("alice")", R"("other-issuer")"),
      ClaimsJson(R"("alice")", "null"),
      ClaimsJson(R"("alice")", R"("kalamdb")", "\"" + iat + "\""),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, "1767229200.5"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, "1.7672292e9"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, "18446744073709551615"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, "true"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, exp, "5"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, exp, R"({"a":1})"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, exp, "null", "null"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, exp, "null", R"(["user"])"),
      ClaimsJson(R"("alice")", R"("kalamdb")", iat, exp, "null", R"("user")", "1"),
  };
  for (const auto& payload : payloads) {
    EXPECT_EQ(VerifyJwt(Forge(kHs256Header, payload), kSecret, kNow).failure, JwtFailure::kClaims)
        << payload;
  }
}

TEST(JwtTest, GarbageIsMalformed) {
  const std::string good = SignJwt(AliceAccess(), kSecret);
  const std::vector<std::string> tokens = {
      "",
      ".",
      "..",
      "...",
      "a.b.c",
      "not a token",
      "Bearer " + good,
      good + " ",
      " " + good,
      good + "=",
      Segment(good, 0) + "=." + Segment(good, 1) + "." + Segment(good, 2),
      Base64UrlEncode("not json") + "." + Segment(good, 1) + "." + Segment(good, 2),
      Base64UrlEncode("[]") + "." + Segment(good, 1) + "." + Segment(good, 2),
      Base64UrlEncode(R"({"alg":"HS256")") + "." + Segment(good, 1) + "." + Segment(good, 2),
      Forge(kHs256Header, "[1,2]"),
      Forge(kHs256Header, "not json"),
      Forge(kHs256Header, "{\"sub\":\"\xff\"}"),  // invalid UTF-8
      Forge(kHs256Header, ""),
      std::string("\0\0\0", 3),
  };
  for (const auto& token : tokens) {
    JwtVerification v = VerifyJwt(token, kSecret, kNow);
    EXPECT_EQ(v.failure, JwtFailure::kMalformed) << token;
    EXPECT_EQ(v.message, "Malformed token");
  }
}

TEST(JwtTest, TokensWithOtherThanThreePartsAreMalformed) {
  const std::string good = SignJwt(AliceAccess(), kSecret);
  std::string two_parts = Segment(good, 0) + "." + Segment(good, 1);
  EXPECT_EQ(VerifyJwt(two_parts, kSecret, kNow).failure, JwtFailure::kMalformed);
  EXPECT_EQ(VerifyJwt(Segment(good, 0), kSecret, kNow).failure, JwtFailure::kMalformed);
  EXPECT_EQ(VerifyJwt(good + "." + Segment(good, 2), kSecret, kNow).failure,
            JwtFailure::kMalformed);
}

TEST(JwtTest, HugeTokenIsRejectedQuickly) {
  std::string huge = SignJwt(AliceAccess(), kSecret);
  huge.insert(huge.find('.') + 1, std::string(1 << 20, 'A'));
  auto start = std::chrono::steady_clock::now();
  JwtVerification v = VerifyJwt(huge, kSecret, kNow);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(v.failure, JwtFailure::kMalformed);
  EXPECT_LT(elapsed, std::chrono::milliseconds(50));
  EXPECT_EQ(VerifyJwt(std::string(1 << 20, '.'), kSecret, kNow).failure, JwtFailure::kMalformed);
}

// ---- VerifiedJwtCache --------------------------------------------------------------------------

TEST(VerifiedJwtCacheTest, ARememberedTokenGetsVerifyJwtsAnswerAtEveryTime) {
  VerifiedJwtCache cache;
  const std::string token = SignJwt(AliceAccess(), kSecret);
  JwtVerification first = cache.Verify(token, kSecret, kNow);
  ASSERT_TRUE(first.ok()) << first.message;
  EXPECT_EQ(cache.size(), 1u);
  JwtVerification again = cache.Verify(token, kSecret, kNow + 10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.claims.sub, "alice");
  EXPECT_EQ(again.claims.role, "user");
  EXPECT_EQ(again.claims.token_type, "access");
  EXPECT_EQ(again.claims.email, std::optional<std::string>("alice@example.com"));
  // Within the leeway after exp: still ok; beyond it: expired, exactly as VerifyJwt says.
  const int64_t exp = AliceAccess().exp;
  EXPECT_TRUE(cache.Verify(token, kSecret, exp + 60).ok());
  JwtVerification late = cache.Verify(token, kSecret, exp + 61);
  EXPECT_EQ(late.failure, JwtFailure::kExpired);
  EXPECT_EQ(late.message, "Token expired");
  EXPECT_EQ(late.failure, VerifyJwt(token, kSecret, exp + 61).failure);
  // Before iat - leeway (a clock set back): issued in the future, as VerifyJwt says.
  JwtVerification early = cache.Verify(token, kSecret, kNow - 61);
  EXPECT_EQ(early.failure, JwtFailure::kIssuedInFuture);
  EXPECT_EQ(early.message, VerifyJwt(token, kSecret, kNow - 61).message);
}

TEST(VerifiedJwtCacheTest, FailedTokensAreNeverRemembered) {
  VerifiedJwtCache cache;
  const std::string token = SignJwt(AliceAccess(), kSecret);
  std::string tampered = token;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(cache.Verify(tampered, kSecret, kNow).failure, JwtFailure::kSignature);
  EXPECT_EQ(cache.Verify(token, "another-secret", kNow).failure, JwtFailure::kSignature);
  EXPECT_EQ(cache.Verify(token, kSecret, AliceAccess().exp + 61).failure, JwtFailure::kExpired);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Verify(tampered, kSecret, kNow).failure, JwtFailure::kSignature);
  // A token with trailing bytes is a different (and bad) token, not a hit.
  ASSERT_TRUE(cache.Verify(token, kSecret, kNow).ok());
  EXPECT_FALSE(cache.Verify(token + "x", kSecret, kNow).ok());
  EXPECT_FALSE(cache.Verify(token.substr(0, token.size() - 1), kSecret, kNow).ok());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(VerifiedJwtCacheTest, AFullCacheStartsOver) {
  VerifiedJwtCache cache(/*max_tokens=*/2);
  for (int i = 0; i < 3; ++i) {
    JwtClaims c = AliceAccess();
    c.sub = "user" + std::to_string(i);
    ASSERT_TRUE(cache.Verify(SignJwt(c, kSecret), kSecret, kNow).ok());
  }
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace kalam::auth
