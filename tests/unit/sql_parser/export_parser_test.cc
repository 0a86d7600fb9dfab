// Tests for EXPORT USER DATA / SHOW EXPORT: classification and the "Unexpected tokens" errors.
#include "sql/parser/export_parser.h"

#include <gtest/gtest.h>

#include "sql/parser/classifier.h"

namespace kalam::sql::parser {
namespace {

SqlStatement One(std::string_view sql) { return (*SplitStatements(sql))[0]; }

std::string Error(const Status& st) { return st.ok() ? "OK" : st.message(); }

TEST(ExportClassifierTest, RecognisesBothStatements) {
  EXPECT_EQ(*ClassifyStatement(One("EXPORT USER DATA").tokens), StatementKind::kExportUserData);
  EXPECT_EQ(*ClassifyStatement(One("export user data;").tokens), StatementKind::kExportUserData);
  EXPECT_EQ(*ClassifyStatement(One("SHOW EXPORT").tokens), StatementKind::kShowExport);
  EXPECT_EQ(*ClassifyStatement(One("show export").tokens), StatementKind::kShowExport);
  EXPECT_FALSE(ClassifyStatement(One("EXPORT TABLE x").tokens).ok());
}

TEST(ExportParserTest, AcceptsTheBareStatements) {
  EXPECT_EQ(Error(ParseExportUserData(One("EXPORT USER DATA"))), "OK");
  EXPECT_EQ(Error(ParseShowExport(One("SHOW EXPORT;"))), "OK");
}

TEST(ExportParserTest, RefusesAnythingAfterwardsQuotingTheRest) {
  Status st = ParseExportUserData(One("EXPORT USER DATA FOR bob now"));
  EXPECT_EQ(st.code(), StatusCode::kInvalidSql);
  EXPECT_EQ(st.message(), "Unexpected tokens after EXPORT USER DATA: 'FOR bob now'");
  EXPECT_EQ(Error(ParseShowExport(One("SHOW EXPORT 'x'"))),
            "Unexpected tokens after SHOW EXPORT: ''x''");
}

}  // namespace
}  // namespace kalam::sql::parser
