// InlineReads: which statement texts may run on an I/O thread, and how a long run sends a text back
// to the workers.
#include "api/inline_reads.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace kalam::api {
namespace {

using std::chrono::microseconds;

InlineReads::Options Opts(size_t max_concurrent = 1) {
  InlineReads::Options o;
  o.max_concurrent = max_concurrent;
  o.max_run = microseconds(250);
  o.min_fast_runs = 3;
  o.max_texts = 4;
  return o;
}

TEST(InlineReadsTest, RecognisesOnlyOneSelect) {
  EXPECT_TRUE(InlineReads::IsSingleSelect("SELECT 1"));
  EXPECT_TRUE(InlineReads::IsSingleSelect("  \n select id FROM t WHERE id = $1"));
  EXPECT_TRUE(InlineReads::IsSingleSelect("SeLeCt(1)"));
  EXPECT_TRUE(InlineReads::IsSingleSelect("SELECT*FROM t"));
  EXPECT_TRUE(InlineReads::IsSingleSelect("SELECT 1; ;\n "));
  EXPECT_FALSE(InlineReads::IsSingleSelect("SELECT 1; DELETE FROM t"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("SELECT 1; COMMIT"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("SELECT 'a;b'"));  // conservative: stays on workers
  EXPECT_FALSE(InlineReads::IsSingleSelect("INSERT INTO t VALUES (1)"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("BEGIN; SELECT 1; COMMIT"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("SELECTED"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("select_x FROM t"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("SELECT"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("-- c\nSELECT 1"));
  EXPECT_FALSE(InlineReads::IsSingleSelect("WITH a AS (SELECT 1) SELECT * FROM a"));
  EXPECT_FALSE(InlineReads::IsSingleSelect(""));
}

TEST(InlineReadsTest, KeyDependsOnNamespaceAndText) {
  EXPECT_EQ(InlineReads::Key("a", "SELECT 1"), InlineReads::Key("a", "SELECT 1"));
  EXPECT_NE(InlineReads::Key("a", "SELECT 1"), InlineReads::Key("b", "SELECT 1"));
  EXPECT_NE(InlineReads::Key("a", "SELECT 1"), InlineReads::Key("a", "SELECT 2"));
}

TEST(InlineReadsTest, AdmitsOnlyAfterThreeShortRunsInARow) {
  InlineReads reads(Opts());
  const uint64_t key = InlineReads::Key("", "SELECT 1");
  EXPECT_FALSE(reads.Admit(key).has_value());  // never seen
  reads.Record(key, microseconds(10));
  reads.Record(key, microseconds(250));  // the limit itself still counts as short
  EXPECT_FALSE(reads.Admit(key).has_value());
  reads.Record(key, microseconds(10));
  EXPECT_TRUE(reads.Admit(key).has_value());
}

TEST(InlineReadsTest, OneLongRunSendsTheTextBackToTheWorkers) {
  InlineReads reads(Opts());
  const uint64_t key = InlineReads::Key("", "SELECT * FROM t WHERE id > $1");
  for (int i = 0; i < 5; ++i) reads.Record(key, microseconds(20));
  ASSERT_TRUE(reads.Admit(key).has_value());
  reads.Record(key, microseconds(251));
  EXPECT_FALSE(reads.Admit(key).has_value());
  reads.Record(key, microseconds(20));
  reads.Record(key, microseconds(20));
  EXPECT_FALSE(reads.Admit(key).has_value());
  reads.Record(key, microseconds(20));
  EXPECT_TRUE(reads.Admit(key).has_value());
}

TEST(InlineReadsTest, AnUnknownLongTextIsNotRemembered) {
  InlineReads reads(Opts());
  const uint64_t key = InlineReads::Key("", "SELECT big");
  reads.Record(key, microseconds(5000));
  reads.Record(key, microseconds(10));
  reads.Record(key, microseconds(10));
  EXPECT_FALSE(reads.Admit(key).has_value());
  reads.Record(key, microseconds(10));
  EXPECT_TRUE(reads.Admit(key).has_value());
}

TEST(InlineReadsTest, AtMostMaxConcurrentTicketsAtOnce) {
  InlineReads reads(Opts(/*max_concurrent=*/2));
  const uint64_t key = InlineReads::Key("", "SELECT 1");
  for (int i = 0; i < 3; ++i) reads.Record(key, microseconds(10));
  auto a = reads.Admit(key);
  auto b = reads.Admit(key);
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(reads.running(), 2u);
  EXPECT_FALSE(reads.Admit(key).has_value());
  EXPECT_EQ(reads.running(), 2u);
  a.reset();
  EXPECT_EQ(reads.running(), 1u);
  auto c = reads.Admit(key);
  EXPECT_TRUE(c.has_value());
  auto moved = std::move(*c);
  c.reset();  // the moved-from ticket frees nothing
  EXPECT_EQ(reads.running(), 2u);
}

TEST(InlineReadsTest, AFullHistoryStartsOver) {
  InlineReads reads(Opts());  // max_texts = 4
  const uint64_t first = InlineReads::Key("", "SELECT 0");
  for (int i = 0; i < 3; ++i) reads.Record(first, microseconds(10));
  ASSERT_TRUE(reads.Admit(first).has_value());
  for (int t = 1; t <= 4; ++t) {
    reads.Record(InlineReads::Key("", "SELECT " + std::to_string(t)), microseconds(10));
  }
  EXPECT_FALSE(reads.Admit(first).has_value());
}

}  // namespace
}  // namespace kalam::api
