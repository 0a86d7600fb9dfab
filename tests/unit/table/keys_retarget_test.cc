// RetargetTableKey: a restored table's keys are the backed-up ones under a new table id, built and
// parsed by table/keys.* only.
#include <gtest/gtest.h>

#include "table/keys.h"

namespace kalam::table {
namespace {

TEST(RetargetTableKeyTest, RowPkAndStreamKeysMoveToTheNewTableKeepingScopeAndSuffix) {
  std::string out;
  for (const std::string& scope : {std::string(), std::string("alice"), std::string("a\0b", 3)}) {
    ASSERT_TRUE(RetargetTableKey(RowKey(7, scope, 123456789), 7, 42, &out));
    EXPECT_EQ(out, RowKey(42, scope, 123456789));
    ASSERT_TRUE(RetargetTableKey(PkKey(7, scope, Value::Int(-5)), 7, 42, &out));
    EXPECT_EQ(out, PkKey(42, scope, Value::Int(-5)));
    ASSERT_TRUE(RetargetTableKey(PkKey(7, scope, Value::Text(std::string("k\0ey", 4))), 7, 42, &out));
    EXPECT_EQ(out, PkKey(42, scope, Value::Text(std::string("k\0ey", 4))));
    ASSERT_TRUE(RetargetTableKey(StreamKey(7, scope, 99), 7, 3, &out));
    TableId table = 0;
    Scope parsed;
    int64_t seq = 0;
    ASSERT_TRUE(ParseStreamKey(out, &table, &parsed, &seq));
    EXPECT_EQ(table, 3u);
    EXPECT_EQ(parsed, scope);
    EXPECT_EQ(seq, 99);
  }
}

TEST(RetargetTableKeyTest, KeysOfAnotherTableOrMalformedKeysAreRefusedUntouched) {
  std::string out = "unchanged";
  EXPECT_FALSE(RetargetTableKey(RowKey(8, "u", 1), 7, 42, &out));
  EXPECT_FALSE(RetargetTableKey("", 7, 42, &out));
  EXPECT_FALSE(RetargetTableKey(TableBegin(7), 7, 42, &out));  // no scope
  std::string cut = ScopePrefix(7, "alice");
  cut.pop_back();  // the scope's terminator gone
  EXPECT_FALSE(RetargetTableKey(cut, 7, 42, &out));
  EXPECT_EQ(out, "unchanged");
}

}  // namespace
}  // namespace kalam::table
