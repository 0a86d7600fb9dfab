// Tests for RedactLiterals: values become ?, everything else stays as written, one line.
#include "sql/parser/redact.h"

#include <gtest/gtest.h>

namespace kalam::sql::parser {
namespace {

TEST(RedactTest, StringsNumbersAndBlobsBecomeQuestionMarks) {
  EXPECT_EQ(RedactLiterals("SELECT * FROM app.items WHERE id = 42 AND name = 'bob''s' AND "
                           "price > 1.5e3 AND b = x'0aff'"),
            "SELECT * FROM app.items WHERE id = ? AND name = ? AND price > ? AND b = ?");
}

TEST(RedactTest, PasswordsNeverSurvive) {
  EXPECT_EQ(RedactLiterals("CREATE USER alice WITH PASSWORD 's3cret!' ROLE user"),
            "CREATE USER alice WITH PASSWORD ? ROLE user");
  EXPECT_EQ(RedactLiterals("ALTER USER alice SET PASSWORD 'hunter2'"),
            "ALTER USER alice SET PASSWORD ?");
}

TEST(RedactTest, KeepsIdentifiersParametersCommentsAndJoinsLines) {
  EXPECT_EQ(RedactLiterals("SELECT \"a b\", `c`\r\nFROM t -- note\nWHERE x = $1\tAND y IN (1, -2)"),
            "SELECT \"a b\", `c`  FROM t -- note WHERE x = $1 AND y IN (?, -?)");
}

TEST(RedactTest, UntokenizableTextIsNotShown) {
  EXPECT_EQ(RedactLiterals("SELECT 'unterminated password"),
            "<SQL not shown: it could not be tokenized>");
}

}  // namespace
}  // namespace kalam::sql::parser
