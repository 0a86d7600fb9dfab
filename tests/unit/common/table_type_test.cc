// Tests for the names of table types and access levels.
#include "common/table_type.h"

#include <gtest/gtest.h>

namespace kalam {
namespace {

TEST(TableTypeTest, NamesAreTheSqlKeywords) {
  EXPECT_EQ(TableTypeName(TableType::kUser), "USER");
  EXPECT_EQ(TableTypeName(TableType::kShared), "SHARED");
  EXPECT_EQ(TableTypeName(TableType::kStream), "STREAM");
  EXPECT_EQ(TableTypeName(TableType::kSystem), "SYSTEM");
}

TEST(TableTypeTest, AccessLevelsParseInAnyCaseAndRoundTrip) {
  for (auto level : {AccessLevel::kPublic, AccessLevel::kPrivate, AccessLevel::kRestricted,
                     AccessLevel::kDba}) {
    EXPECT_EQ(ParseAccessLevel(AccessLevelName(level)), level);
  }
  EXPECT_EQ(ParseAccessLevel("public"), AccessLevel::kPublic);
  EXPECT_EQ(ParseAccessLevel("Dba"), AccessLevel::kDba);
  EXPECT_EQ(ParseAccessLevel("secret"), std::nullopt);
  EXPECT_EQ(ParseAccessLevel("DBAX"), std::nullopt);
}

}  // namespace
}  // namespace kalam
