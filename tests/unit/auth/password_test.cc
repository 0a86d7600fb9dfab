// argon2id password hashing: the stored format, verification, bad input, and the dummy verify
// that hides which user names exist.
#include "auth/password.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace kalam::auth {
namespace {

// Cheap parameters so tests that do not measure cost run fast.
PasswordHashParams Fast() {
  PasswordHashParams p;
  p.ops_limit = 1;
  p.mem_limit_bytes = 64 << 10;
  return p;
}

std::string HashOrDie(std::string_view password, const PasswordHashParams& params = Fast()) {
  auto hash = HashPassword(password, params);
  EXPECT_TRUE(hash.ok()) << hash.status().ToString();
  return hash.ok() ? *hash : std::string();
}

TEST(PasswordTest, DefaultsProduceStandardArgon2idStringWithOwaspParameters) {
  std::string hash = HashOrDie("correct horse", PasswordHashParams{});
  EXPECT_EQ(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << hash;
  EXPECT_TRUE(VerifyPassword(hash, "correct horse"));
}

TEST(PasswordTest, VerifyAcceptsOnlyTheHashedPassword) {
  std::string hash = HashOrDie("s3cret!");
  EXPECT_TRUE(VerifyPassword(hash, "s3cret!"));
  EXPECT_FALSE(VerifyPassword(hash, "s3cret"));
  EXPECT_FALSE(VerifyPassword(hash, "S3cret!"));
  EXPECT_FALSE(VerifyPassword(hash, ""));
  EXPECT_FALSE(VerifyPassword(hash, std::string("s3cret!\0", 8)));
}

TEST(PasswordTest, EachHashHasItsOwnSalt) {
  std::string a = HashOrDie("same");
  std::string b = HashOrDie("same");
  EXPECT_NE(a, b);
  EXPECT_TRUE(VerifyPassword(a, "same"));
  EXPECT_TRUE(VerifyPassword(b, "same"));
}

TEST(PasswordTest, EmptyBinaryAndUnicodePasswordsWork) {
  std::string empty = HashOrDie("");
  EXPECT_TRUE(VerifyPassword(empty, ""));
  EXPECT_FALSE(VerifyPassword(empty, " "));
  std::string binary("\x00\xff\x01pass", 7);
  EXPECT_TRUE(VerifyPassword(HashOrDie(binary), binary));
  EXPECT_FALSE(VerifyPassword(HashOrDie(binary), std::string("\x00\xff\x01", 3)));
  EXPECT_TRUE(VerifyPassword(HashOrDie("пароль密码🔑"), "пароль密码🔑"));
}

TEST(PasswordTest, MalformedStoredHashesNeverVerify) {
  std::string good = HashOrDie("pw");
  const std::vector<std::string> bad = {
      "",
      "pw",
      "garbage",
      "$argon2id$",
      "$argon2id$v=19$m=65536,t=1,p=1$",
      good.substr(0, good.size() - 5),
      good + "AAAA",
      std::string(good).insert(10, 1, '\0'),
      std::string(10000, '$'),
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",  // bcrypt
  };
  for (const auto& hash : bad) EXPECT_FALSE(VerifyPassword(hash, "pw")) << hash.substr(0, 40);
}

TEST(PasswordTest, ParametersOutsideLibsodiumLimitsAreInvalidArgument) {
  PasswordHashParams no_passes = Fast();
  no_passes.ops_limit = 0;
  EXPECT_EQ(HashPassword("pw", no_passes).status().code(), StatusCode::kInvalidArgument);
  PasswordHashParams tiny_memory = Fast();
  tiny_memory.mem_limit_bytes = 1024;
  auto hash = HashPassword("pw", tiny_memory);
  EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(hash.status().message().find("mem_limit_bytes"), std::string::npos);
}

TEST(PasswordTest, NeedsRehashWhenParametersChange) {
  std::string hash = HashOrDie("pw");
  EXPECT_FALSE(PasswordNeedsRehash(hash, Fast()));
  EXPECT_TRUE(PasswordNeedsRehash(hash, PasswordHashParams{}));
  EXPECT_TRUE(PasswordNeedsRehash("not a hash", Fast()));
  EXPECT_TRUE(PasswordNeedsRehash("", Fast()));
}

std::chrono::nanoseconds MedianOf3(const std::function<void()>& f) {
  std::vector<std::chrono::nanoseconds> times;
  for (int i = 0; i < 3; ++i) {
    auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::steady_clock::now() - start);
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

TEST(PasswordTest, DummyVerifyCostsAsMuchAsAWrongPassword) {
  PasswordHashParams params;  // the defaults, as the login path uses them
  std::string hash = HashOrDie("real password", params);
  BurnDummyVerify("warm-up", params);  // the first call also makes the reference hash
  auto wrong = MedianOf3([&] { EXPECT_FALSE(VerifyPassword(hash, "guess")); });
  auto dummy = MedianOf3([&] { BurnDummyVerify("guess", params); });
  // Same work, so comparable time; a generous band keeps a busy machine from failing the test
  // while a dummy that skips the hash (microseconds against tens of milliseconds) still fails.
  EXPECT_GT(dummy * 3, wrong) << "dummy " << dummy.count() << "ns, wrong " << wrong.count() << "ns";
  EXPECT_LT(dummy, wrong * 3) << "dummy " << dummy.count() << "ns, wrong " << wrong.count() << "ns";
}

TEST(PasswordTest, PolicyCountsCharactersNotBytes) {
  EXPECT_TRUE(CheckPasswordPolicy("12345678", 8, 10).ok());
  Status short_ascii = CheckPasswordPolicy("1234567", 8, 10);
  EXPECT_EQ(short_ascii.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(short_ascii.message(), "Password is too short: at least 8 characters required");
  // Four two-byte characters are eight bytes but four characters: too short.
  EXPECT_EQ(CheckPasswordPolicy("\u00e9\u00e9\u00e9\u00e9", 8, 10).message(),
            "Password is too short: at least 8 characters required");
  EXPECT_TRUE(CheckPasswordPolicy("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", 8, 8).ok());
  // Three four-byte characters (12 bytes) fit a limit of 3 characters; a fourth does not.
  EXPECT_TRUE(CheckPasswordPolicy("\U0001F511\U0001F511\U0001F511", 1, 3).ok());
  Status long_emoji = CheckPasswordPolicy("\U0001F511\U0001F511\U0001F511\U0001F511", 1, 3);
  EXPECT_EQ(long_emoji.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(long_emoji.message(), "Password is too long: at most 3 characters allowed");
}

TEST(PasswordTest, DummyVerifyRacedByManyThreadsStillCostsAVerifyEveryTime) {
  PasswordHashParams params = Fast();
  // Parameters no other test uses, so every thread races to make the reference hash.
  params.mem_limit_bytes = 96 << 10;
  // The true cost of one verify with these parameters: the fastest of several (preemption only
  // ever makes a run slower).
  const std::string hash = HashOrDie("real password", params);
  auto fastest_verify = std::chrono::nanoseconds::max();
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_FALSE(VerifyPassword(hash, "guess"));
    fastest_verify = std::min<std::chrono::nanoseconds>(fastest_verify,
                                                       std::chrono::steady_clock::now() - start);
  }
  // Calls after the first of each thread (the first may also make the reference hash). A racing
  // thread that lost the reference, or verified against a broken one, would return in
  // microseconds: a malformed hash is refused without hashing.
  constexpr int kThreads = 4;
  constexpr int kCalls = 3;
  std::vector<std::vector<std::chrono::nanoseconds>> times(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kCalls; ++j) {
        auto start = std::chrono::steady_clock::now();
        BurnDummyVerify("x", params);
        if (j > 0) times[i].push_back(std::chrono::steady_clock::now() - start);
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_EQ(times[i].size(), static_cast<size_t>(kCalls - 1));
    for (auto t : times[i]) {
      EXPECT_GT(t * 4, fastest_verify)
          << "thread " << i << ": dummy took " << t.count() << "ns, a verify takes at least "
          << fastest_verify.count() << "ns";
    }
  }
}

TEST(PasswordTest, DummyVerifyWithInvalidParametersReturnsWithoutHashing) {
  // No reference hash can be made with these; a real verify would fail as fast. Against the
  // cost of one verify with the defaults, the call must be far cheaper.
  const std::string hash = HashOrDie("real password", PasswordHashParams{});
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(VerifyPassword(hash, "guess"));
  const auto verify = std::chrono::steady_clock::now() - start;
  start = std::chrono::steady_clock::now();
  BurnDummyVerify("x", PasswordHashParams{0, 0});
  const auto burned = std::chrono::steady_clock::now() - start;
  EXPECT_LT(burned * 10, verify) << "burned " << burned.count() << "ns, verify " << verify.count()
                                 << "ns";
}

}  // namespace
}  // namespace kalam::auth
