// Tests for the catalog: namespaces, tables, schema versions and users, and their persistence.
#include "catalog/catalog.h"

#include <gtest/gtest.h>

namespace kalam::catalog {
namespace {

TableDef Messages(std::string ns = "chat") {
  TableDef t;
  t.namespace_id = std::move(ns);
  t.table_name = "Messages";
  t.type = TableType::kUser;
  ColumnDef id;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  id.nullable = false;
  ColumnDef body;
  body.name = "Body";
  body.type = DataType{TypeKind::kText};
  body.default_value.kind = DefaultSpec::Kind::kLiteral;
  body.default_value.literal = Value::Text("it's");
  t.columns = {id, body};
  return t;
}

class CatalogTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;
  std::unique_ptr<Catalog> Open() {
    auto c = Catalog::Open(*kv_, clock_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
};

TEST_F(CatalogTest, DefaultNamespaceExistsFromFirstOpen) {
  auto c = Open();
  EXPECT_NE(c->snapshot()->FindNamespace("default"), nullptr);
  bool dropped = false;
  Status s = c->DropNamespace("default", false, false, {}, &dropped);
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
}

TEST_F(CatalogTest, CreateTableRequiresItsNamespace) {
  auto c = Open();
  bool created = false;
  auto r = c->CreateTable(Messages(), false, &created);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Namespace 'chat' does not exist. Create it first with CREATE NAMESPACE.");
}

TEST_F(CatalogTest, TablesAndUsersSurviveReopenWithIdsAndVersions) {
  TableId id = 0;
  {
    auto c = Open();
    bool created = false;
    ASSERT_TRUE(c->CreateNamespace("chat", false, &created).ok());
    auto t = c->CreateTable(Messages(), false, &created);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(created);
    id = (*t)->table_id;
    EXPECT_EQ((*t)->table_name, "messages");
    EXPECT_EQ((*t)->columns[1].name, "body");
    EXPECT_EQ((*t)->columns[1].column_id, 2u);
    UserRecord u;
    u.user_id = "alice";
    u.role = auth::Role::kService;
    u.email = "a@example.com";
    ASSERT_TRUE(c->PutUser(u).ok());
  }
  auto c = Open();
  auto t = c->snapshot()->FindTable("CHAT", "messages");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->table_id, id);
  EXPECT_EQ(t->schema_version, 1u);
  EXPECT_EQ(t->type, TableType::kUser);
  EXPECT_EQ(t->columns[1].default_value.literal, Value::Text("it's"));
  auto history = c->SchemaHistory(id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  auto u = c->GetUser("alice");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->role, auth::Role::kService);
  EXPECT_EQ(u->email, "a@example.com");
  // A new table never reuses an id.
  bool created = false;
  TableDef other = Messages();
  other.table_name = "other";
  auto t2 = c->CreateTable(other, false, &created);
  ASSERT_TRUE(t2.ok());
  EXPECT_GT((*t2)->table_id, id);
}

TEST_F(CatalogTest, DropNamespaceWithTablesNeedsCascade) {
  auto c = Open();
  bool created = false, dropped = false;
  ASSERT_TRUE(c->CreateNamespace("chat", false, &created).ok());
  ASSERT_TRUE(c->CreateTable(Messages(), false, &created).ok());
  Status s = c->DropNamespace("chat", false, false, {}, &dropped);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("messages"), std::string::npos) << s.message();
  int data_drops = 0;
  ASSERT_TRUE(c->DropNamespace("chat", false, true,
                               [&](const TableDef&, storage::WriteBatch*) { ++data_drops; },
                               &dropped)
                  .ok());
  EXPECT_TRUE(dropped);
  EXPECT_EQ(data_drops, 1);
  EXPECT_EQ(c->snapshot()->FindTable("chat", "messages"), nullptr);
}

TEST_F(CatalogTest, CreateExistingTableFailsUnlessIfNotExists) {
  auto c = Open();
  bool created = false;
  ASSERT_TRUE(c->CreateNamespace("chat", false, &created).ok());
  ASSERT_TRUE(c->CreateTable(Messages(), false, &created).ok());
  auto again = c->CreateTable(Messages(), false, &created);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto quiet = c->CreateTable(Messages(), true, &created);
  EXPECT_TRUE(quiet.ok());
  EXPECT_FALSE(created);
}

}  // namespace
}  // namespace kalam::catalog
