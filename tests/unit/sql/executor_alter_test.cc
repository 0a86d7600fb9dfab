// Tests for ALTER TABLE through the executor over the whole in-process stack: statements cached
// before an ALTER see the new schema, denied or failed ALTERs change nothing, and concurrent
// writes cannot slip a row past an ALTER's checks.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "sql/executor.h"
#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

class ExecutorAlterTest : public SqlStackTest {
 protected:
  void SetUp() override {
    SqlStackTest::SetUp();
    Ok("CREATE NAMESPACE app", root_);
    Ok("CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)", root_);
  }
  uint32_t Version() { return catalog_->snapshot()->FindTable("app", "notes")->schema_version; }
};

TEST_F(ExecutorAlterTest, CachedStatementsSeeTheNewSchemaAfterAlter) {
  Ok("INSERT INTO app.notes (id, body) VALUES (1, 'a')", alice_);
  const std::string query = "SELECT * FROM app.notes WHERE id = $1";
  auto before = Ok(query, alice_, {Value::Int(1)});
  ASSERT_EQ(before.results[0].schema.size(), 4u);  // id, body, _seq, _deleted
  auto altered = Ok("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 't'", root_);
  ASSERT_EQ(altered.results.size(), 1u);
  EXPECT_EQ(altered.results[0].message, "Table app.notes altered successfully");
  EXPECT_EQ(altered.results[0].row_count, 0u);
  auto after = Ok(query, alice_, {Value::Int(1)});
  ASSERT_EQ(after.results[0].schema.size(), 5u);
  EXPECT_EQ(after.results[0].schema[2].name, "tag");
  Ok("ALTER TABLE app.notes RENAME COLUMN body TO text", root_);
  EXPECT_EQ(Ok("SELECT id, text, tag FROM app.notes", alice_).results[0].rows_json,
            "[1,\"a\",\"t\"]");
  EXPECT_FALSE(Run("SELECT body FROM app.notes", alice_).error.ok());
}

TEST_F(ExecutorAlterTest, DeniedOrFailedAltersChangeNothing) {
  auto denied = Run("ALTER TABLE app.notes ADD COLUMN x INT", alice_);
  EXPECT_EQ(denied.error.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.error.message(),
            "Statement 1 failed: Permission denied: ALTER TABLE on a USER table requires role 'dba' or higher (you "
            "are 'user')");
  Ok("INSERT INTO app.notes (id) VALUES (1)", alice_);
  auto failed = Run("ALTER TABLE app.notes ALTER COLUMN body SET NOT NULL", root_);
  EXPECT_EQ(failed.error.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.error.message(),
            "Statement 1 failed: Invalid operation: Cannot make column 'body' of table 'app.notes' NOT NULL: the row with primary key "
            "'1' (and maybe others) holds NULL. Update those rows first.");
  // A later statement of the same batch does not run after the failure.
  auto batch = Run("ALTER TABLE app.notes ADD COLUMN y INT; ALTER TABLE app.notes DROP COLUMN id",
                   root_);
  EXPECT_EQ(batch.error.message(),
            "Statement 2 failed: Invalid operation: Cannot drop column 'id': it is the primary key of table "
            "'app.notes'");
  EXPECT_EQ(Version(), 2u);  // only the ADD COLUMN y
  auto history = catalog_->SchemaHistory(catalog_->snapshot()->FindTable("app", "notes")->table_id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);
}

TEST_F(ExecutorAlterTest, RowsStagedBeforeAnAlterNeverBreakItsNotNullCheck) {
  // A writer inserts rows without column n while ALTER adds n NOT NULL (no default), which is
  // allowed only while the table is empty. An insert staged under the old schema and committed
  // after the ALTER would leave a row reading NULL in n; the commit pipeline refuses it, the
  // statement is retried under the new schema and fails its NOT NULL check instead.
  for (int round = 0; round < 100; ++round) {
    const std::string table = "app.race" + std::to_string(round);
    Ok("CREATE TABLE " + table + " (id INT PRIMARY KEY)", root_);
    std::atomic<bool> stop{false};
    std::thread writer([&] {
      for (int i = 0; i < 200 && !stop; ++i) {
        auto r = Run("INSERT INTO " + table + " (id) VALUES (" + std::to_string(i) + ")", root_);
        if (!r.error.ok()) {
          EXPECT_EQ(r.error.message(), "Statement 1 failed: Invalid operation: Column 'n' cannot be NULL");
          break;
        }
      }
    });
    auto altered = Run("ALTER TABLE " + table + " ADD COLUMN n TEXT NOT NULL", root_);
    stop = true;
    writer.join();
    if (!altered.error.ok()) {
      EXPECT_EQ(altered.error.code(), StatusCode::kFailedPrecondition);
      continue;
    }
    EXPECT_EQ(Ok("SELECT count(*) FROM " + table + " WHERE n IS NULL", root_).results[0].rows_json,
              "[\"0\"]");
  }
}

}  // namespace
}  // namespace kalam::sql
