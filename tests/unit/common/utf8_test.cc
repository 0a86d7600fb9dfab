// Tests for the shared UTF-8 helpers: well-formedness per RFC 3629, maximal ill-formed subparts,
// and cutting at a character boundary.
#include "common/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace kalam {
namespace {

TEST(Utf8Test, AcceptsWellFormedTextAndRejectsEachIllFormedKind) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // stray continuation
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));  // invalid lead byte
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

TEST(Utf8Test, SequenceLengthReportsTheMaximalIllFormedSubpart) {
  size_t bad = 0;
  EXPECT_EQ(Utf8SequenceLength("a", 0, &bad), 1u);
  EXPECT_EQ(Utf8SequenceLength("x\xE2\x82\xAC", 1, &bad), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xE2\x82x", 0, &bad), 0u);
  EXPECT_EQ(bad, 2u);  // E2 82 is the start of a valid sequence: one U+FFFD for both
  EXPECT_EQ(Utf8SequenceLength("\xED\xA0\x80", 0, &bad), 0u);
  EXPECT_EQ(bad, 1u);  // A0 may not follow ED
  EXPECT_EQ(Utf8SequenceLength("\xFF", 0, &bad), 0u);
  EXPECT_EQ(bad, 1u);
}

TEST(Utf8Test, CutLengthNeverSplitsACharacter) {
  const std::string euro = "ab\xE2\x82\xAC";
  EXPECT_EQ(Utf8CutLength(euro, 10), euro.size());
  EXPECT_EQ(Utf8CutLength(euro, 5), 5u);
  EXPECT_EQ(Utf8CutLength(euro, 4), 2u);
  EXPECT_EQ(Utf8CutLength(euro, 3), 2u);
  EXPECT_EQ(Utf8CutLength(euro, 2), 2u);
  EXPECT_EQ(Utf8CutLength(euro, 0), 0u);
}

}  // namespace
}  // namespace kalam
