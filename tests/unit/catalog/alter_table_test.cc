// Tests for Catalog::AlterTable: schema versions, column ids, persistence and concurrency.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "catalog/catalog.h"

namespace kalam::catalog {
namespace {

TableDef Notes() {
  TableDef t;
  t.namespace_id = "app";
  t.table_name = "notes";
  t.type = TableType::kShared;
  ColumnDef id;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  id.nullable = false;
  ColumnDef body;
  body.name = "body";
  body.type = DataType{TypeKind::kText};
  t.columns = {id, body};
  return t;
}

ColumnDef NewColumn(std::string name, TypeKind kind) {
  ColumnDef c;
  c.name = std::move(name);
  c.type = DataType{kind};
  return c;  // column_id 0: the catalog assigns it
}

std::vector<std::pair<uint32_t, std::string>> IdsAndNames(const TableDef& t) {
  std::vector<std::pair<uint32_t, std::string>> out;
  for (const auto& c : t.columns) out.emplace_back(c.column_id, c.name);
  return out;
}

using Columns = std::vector<std::pair<uint32_t, std::string>>;

class AlterTableTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;

  std::unique_ptr<Catalog> Open() {
    auto c = Catalog::Open(*kv_, clock_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }

  TableId CreateNotes(Catalog& c) {
    bool created = false;
    EXPECT_TRUE(c.CreateNamespace("app", true, &created).ok());
    auto t = c.CreateTable(Notes(), false, &created);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? (*t)->table_id : 0;
  }
};

TEST_F(AlterTableTest, EachAlterIsANewVersionPersistedAsLatestAndInHistory) {
  TableId id = 0;
  int64_t created_at = clock_.NowMicros();
  {
    auto c = Open();
    id = CreateNotes(*c);
    EXPECT_EQ(c->snapshot()->FindTableById(id)->next_column_id, 3u);
    clock_.AdvanceSeconds(10);
    auto v2 = c->AlterTable(id, 1, [](TableDef& t) {
      ColumnDef added = NewColumn("Score", TypeKind::kInt);
      added.default_value.kind = DefaultSpec::Kind::kLiteral;
      added.default_value.literal = Value::Int(5);
      added.missing_value = Value::Int(5);
      t.columns.push_back(added);
      return Status::OK();
    });
    ASSERT_TRUE(v2.ok()) << v2.status().ToString();
    EXPECT_EQ((*v2)->schema_version, 2u);
    EXPECT_EQ(IdsAndNames(**v2), (Columns{{1, "id"}, {2, "body"}, {3, "score"}}));
    EXPECT_EQ((*v2)->next_column_id, 4u);
    EXPECT_EQ((*v2)->created_at_us, created_at);
    EXPECT_EQ((*v2)->updated_at_us, created_at + 10'000'000);
    EXPECT_EQ(c->snapshot()->FindTable("app", "notes"), *v2);
    auto v3 = c->AlterTable(id, 2, [](TableDef& t) {
      t.options.access_level = AccessLevel::kPublic;
      return Status::OK();
    });
    ASSERT_TRUE(v3.ok()) << v3.status().ToString();
    EXPECT_EQ((*v3)->schema_version, 3u);
  }
  auto c = Open();
  auto latest = c->snapshot()->FindTable("app", "notes");
  ASSERT_NE(latest, nullptr);
  EXPECT_EQ(latest->schema_version, 3u);
  EXPECT_EQ(latest->options.access_level, AccessLevel::kPublic);
  EXPECT_EQ(latest->columns[2].missing_value, Value::Int(5));
  auto history = c->SchemaHistory(id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0]->schema_version, 1u);
  EXPECT_EQ(IdsAndNames(*(*history)[0]), (Columns{{1, "id"}, {2, "body"}}));
  EXPECT_EQ((*history)[0]->options.access_level, AccessLevel::kPrivate);
  EXPECT_EQ(IdsAndNames(*(*history)[1]), (Columns{{1, "id"}, {2, "body"}, {3, "score"}}));
  EXPECT_EQ((*history)[2]->schema_version, 3u);
}

TEST_F(AlterTableTest, DroppedColumnIdsAreNeverReusedEvenAfterReopen) {
  TableId id = 0;
  {
    auto c = Open();
    id = CreateNotes(*c);
    ASSERT_TRUE(c->AlterTable(id, 1, [](TableDef& t) {
                   t.columns.pop_back();  // DROP COLUMN body (id 2)
                   return Status::OK();
                 }).ok());
    auto v3 = c->AlterTable(id, 2, [](TableDef& t) {
      t.columns.push_back(NewColumn("body", TypeKind::kText));
      return Status::OK();
    });
    ASSERT_TRUE(v3.ok());
    EXPECT_EQ(IdsAndNames(**v3), (Columns{{1, "id"}, {3, "body"}}));
    ASSERT_TRUE(c->AlterTable(id, 3, [](TableDef& t) {
                   t.columns.pop_back();  // drop id 3: the highest id is now unused
                   return Status::OK();
                 }).ok());
  }
  auto c = Open();
  auto v5 = c->AlterTable(id, 4, [](TableDef& t) {
    t.columns.push_back(NewColumn("title", TypeKind::kText));
    return Status::OK();
  });
  ASSERT_TRUE(v5.ok()) << v5.status().ToString();
  EXPECT_EQ(IdsAndNames(**v5), (Columns{{1, "id"}, {4, "title"}}));
}

TEST_F(AlterTableTest, StaleExpectedVersionIsAConflictAndWritesNothing) {
  auto c = Open();
  TableId id = CreateNotes(*c);
  ASSERT_TRUE(c->AlterTable(id, 1, [](TableDef&) { return Status::OK(); }).ok());
  bool called = false;
  auto r = c->AlterTable(id, 1, [&](TableDef&) {
    called = true;
    return Status::OK();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kConflict);
  EXPECT_EQ(r.status().message(),
            "Table 'app.notes' was altered concurrently (schema version 2, expected 1); retry the "
            "ALTER TABLE");
  EXPECT_FALSE(called);
  EXPECT_EQ(c->snapshot()->FindTableById(id)->schema_version, 2u);
  EXPECT_EQ(c->SchemaHistory(id)->size(), 2u);
}

TEST_F(AlterTableTest, MutateFailureWritesAndPublishesNothing) {
  auto c = Open();
  TableId id = CreateNotes(*c);
  const uint64_t snapshot_version = c->snapshot()->version();
  auto r = c->AlterTable(id, 1, [](TableDef& t) {
    t.columns.clear();
    return Status::FailedPrecondition("table has rows");
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "table has rows");
  EXPECT_EQ(c->snapshot()->version(), snapshot_version);
  EXPECT_EQ(c->snapshot()->FindTableById(id)->columns.size(), 2u);
  EXPECT_EQ(c->SchemaHistory(id)->size(), 1u);
}

TEST_F(AlterTableTest, ResultMustKeepTableInvariants) {
  auto c = Open();
  TableId id = CreateNotes(*c);
  auto no_pk = c->AlterTable(id, 1, [](TableDef& t) {
    t.columns.erase(t.columns.begin());
    return Status::OK();
  });
  EXPECT_EQ(no_pk.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(no_pk.status().message(),
            "Table 'app.notes' must keep exactly one primary key column");
  auto duplicate = c->AlterTable(id, 1, [](TableDef& t) {
    t.columns.push_back(NewColumn("BODY", TypeKind::kText));
    return Status::OK();
  });
  EXPECT_EQ(duplicate.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(duplicate.status().message(), "Column 'body' appears twice in table 'app.notes'");
  auto renamed_table = c->AlterTable(id, 1, [](TableDef& t) {
    t.table_name = "other";
    return Status::OK();
  });
  EXPECT_EQ(renamed_table.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->snapshot()->FindTableById(id)->schema_version, 1u);
}

TEST_F(AlterTableTest, UnknownTableIsNotFound) {
  auto c = Open();
  auto r = c->AlterTable(999, 1, [](TableDef&) { return Status::OK(); });
  EXPECT_EQ(r.status().code(), StatusCode::kTableNotFound);
}

TEST_F(AlterTableTest, OldSnapshotsKeepTheVersionTheyHad) {
  auto c = Open();
  TableId id = CreateNotes(*c);
  auto before = c->snapshot();
  ASSERT_TRUE(c->AlterTable(id, 1, [](TableDef& t) {
                 t.columns[1].name = "content";
                 return Status::OK();
               }).ok());
  EXPECT_EQ(before->FindTableById(id)->columns[1].name, "body");
  EXPECT_EQ(before->FindTableById(id)->schema_version, 1u);
  EXPECT_GT(c->snapshot()->version(), before->version());
  EXPECT_EQ(c->snapshot()->FindTableById(id)->columns[1].name, "content");
  EXPECT_EQ(c->snapshot()->FindTableById(id)->columns[1].column_id, 2u);
}

TEST_F(AlterTableTest, ConcurrentAltersOfOneVersionHaveExactlyOneWinner) {
  auto c = Open();
  TableId id = CreateNotes(*c);
  constexpr int kThreads = 8;
  std::atomic<int> won{0}, conflicted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = c->AlterTable(id, 1, [i](TableDef& t) {
        t.columns.push_back(NewColumn("c" + std::to_string(i), TypeKind::kInt));
        return Status::OK();
      });
      if (r.ok()) ++won;
      else if (r.status().code() == StatusCode::kConflict) ++conflicted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(conflicted.load(), kThreads - 1);
  EXPECT_EQ(c->snapshot()->FindTableById(id)->columns.size(), 3u);
  EXPECT_EQ(c->SchemaHistory(id)->size(), 2u);
}

TEST(TableDefJsonTest, DefinitionsWrittenBeforeAlterSupportStillLoad) {
  // A definition as stored before next_column_id and missing_value existed.
  auto def = TableDef::FromJson(
      R"({"table_id":7,"namespace_id":"app","table_name":"t","table_type":"SHARED",)"
      R"("schema_version":1,"columns":[)"
      R"({"column_id":1,"name":"id","type":"INT","nullable":false,"primary_key":true,)"
      R"("default_kind":0,"default_literal":null,"comment":""},)"
      R"({"column_id":4,"name":"n","type":"INT","nullable":true,"primary_key":false,)"
      R"("default_kind":1,"default_literal":{"i":3},"comment":""}],)"
      R"("options":{"storage_id":"local","use_user_storage":false,"flush_rows":0,)"
      R"("flush_interval_seconds":0,"deleted_retention_hours":168,"ttl_seconds":0,)"
      R"("access_level":"PRIVATE"},"comment":"","created_at_us":1,"updated_at_us":1})");
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_EQ((*def)->next_column_id, 5u);
  EXPECT_EQ((*def)->columns[0].missing_value, Value::Null());
  EXPECT_EQ((*def)->columns[1].missing_value, Value::Int(3));
  // And the new fields round-trip.
  (*def)->next_column_id = 9;
  (*def)->columns[1].missing_value = Value::Text("x");
  auto again = TableDef::FromJson((*def)->ToJson());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->next_column_id, 9u);
  EXPECT_EQ((*again)->columns[1].missing_value, Value::Text("x"));
}

}  // namespace
}  // namespace kalam::catalog
