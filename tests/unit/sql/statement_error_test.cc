// The wire text of a failed statement (sql/statement_error.h, docs/compatibility.md).
#include "sql/statement_error.h"

#include <gtest/gtest.h>

namespace kalam::sql {
namespace {

TEST(StatementErrorTest, ExecutionFailuresCarryNumberAndKindPrefixEvenAlone) {
  const Status st = Status::NotFound("Namespace 'x' does not exist");
  Status single = DescribeStatementFailure(st, 1, /*batch=*/false, /*bare=*/false);
  EXPECT_EQ(single.code(), StatusCode::kNotFound);
  EXPECT_EQ(single.message(), "Statement 1 failed: Not found: Namespace 'x' does not exist");
  EXPECT_EQ(DescribeStatementFailure(Status::AlreadyExists("Primary key violation: value '1'"), 3,
                                     true, false)
                .message(),
            "Statement 3 failed: Already exists: Primary key violation: value '1'");
}

TEST(StatementErrorTest, ParseAndParameterErrorsAndClassifierDenialsAreBareOnASingleStatement) {
  const Status parse = Status::InvalidSql("near \"SELEC\": syntax error");
  EXPECT_EQ(DescribeStatementFailure(parse, 1, false, false).message(), parse.message());
  EXPECT_EQ(DescribeStatementFailure(parse, 2, true, false).message(),
            "Statement 2 failed: near \"SELEC\": syntax error");
  const Status param = Status::InvalidParameter("parameter mismatch: expected 2, got 1");
  EXPECT_EQ(DescribeStatementFailure(param, 1, false, false).message(), param.message());
  const Status denied = Status::PermissionDenied("Admin privileges (DBA or System role) required");
  EXPECT_EQ(DescribeStatementFailure(denied, 1, false, true).message(), denied.message());
  EXPECT_EQ(DescribeStatementFailure(denied, 2, true, true).message(), denied.message());
  EXPECT_EQ(DescribeStatementFailure(denied, 1, false, false).message(),
            "Statement 1 failed: Permission denied: Admin privileges (DBA or System role) required");
}

TEST(StatementErrorTest, AMessageWithItsOwnKindPrefixGetsNoSecond) {
  const Status st = Status::Conflict("Idempotent conflict: Job with idempotency key 'k' is running");
  EXPECT_EQ(DescribeStatementFailure(st, 1, false, false).message(),
            "Statement 1 failed: Idempotent conflict: Job with idempotency key 'k' is running");
  EXPECT_TRUE(HasErrorKindPrefix("Not found: x"));
  EXPECT_FALSE(HasErrorKindPrefix("Table not found"));
}

TEST(StatementErrorTest, EveryCodeHasAKnownPrefix) {
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kTableNotFound), "Not found: ");
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kConstraint), "Invalid operation: ");
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kInvalidArgument), "Invalid operation: ");
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kUnauthenticated), "Unauthorized: ");
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kIoError), "Execution error: ");
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kInvalidParameter), "");
  EXPECT_EQ(ErrorKindPrefix(StatusCode::kInvalidSql), "");
}

}  // namespace
}  // namespace kalam::sql
