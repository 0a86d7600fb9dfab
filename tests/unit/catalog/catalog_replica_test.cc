// Tests for what a cluster node's catalog needs (docs/cluster.md, "DDL through the meta group"):
// Reload after another node's change, the DDL gate, and login state written to the node-local
// store. Two catalogs over one store stand for the leader that wrote and a replica that applied.
#include <gtest/gtest.h>

#include "catalog/catalog.h"

namespace kalam::catalog {
namespace {

TableDef Table(std::string name) {
  TableDef t;
  t.namespace_id = "chat";
  t.table_name = std::move(name);
  t.type = TableType::kShared;
  ColumnDef id;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  id.nullable = false;
  t.columns = {id};
  return t;
}

class CatalogReplicaTest : public ::testing::Test {
 protected:
  std::unique_ptr<Catalog> Open(storage::KvStore* node_local = nullptr) {
    auto c = Catalog::Open(*kv_, clock_, node_local);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_;
};

TEST_F(CatalogReplicaTest, ReloadPublishesAnotherWritersChangesAsANewVersion) {
  auto leader = Open();
  auto replica = Open();
  bool created = false;
  ASSERT_TRUE(leader->CreateNamespace("chat", false, &created).ok());
  ASSERT_TRUE(leader->CreateTable(Table("a"), false, &created).ok());
  UserRecord u;
  u.user_id = "alice";
  ASSERT_TRUE(leader->PutUser(u).ok());
  EXPECT_EQ(replica->snapshot()->FindNamespace("chat"), nullptr);
  const uint64_t before = replica->snapshot()->version();
  ASSERT_TRUE(replica->Reload().ok());
  EXPECT_EQ(replica->snapshot()->version(), before + 1);
  ASSERT_NE(replica->snapshot()->FindTable("chat", "a"), nullptr);
  EXPECT_TRUE(replica->GetUser("alice").has_value());
}

TEST_F(CatalogReplicaTest, TheDdlGateLoadsUnseenChangesFirstAndItsErrorWritesNothing) {
  auto leader = Open();
  auto replica = Open();
  bool created = false;
  ASSERT_TRUE(leader->CreateNamespace("chat", false, &created).ok());
  auto a = leader->CreateTable(Table("a"), false, &created);
  ASSERT_TRUE(a.ok());
  // A stale catalog would hand out table a's id again; the gate says the store moved on.
  int calls = 0;
  replica->SetDdlGate([&]() -> Result<bool> { return ++calls == 1; });
  auto b = replica->CreateTable(Table("b"), false, &created);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE((*b)->table_id, (*a)->table_id);
  EXPECT_EQ(calls, 1);
  // An error from the gate fails the DDL before anything is computed or written.
  replica->SetDdlGate([]() -> Result<bool> {
    return Status::Unavailable("Not leader for shard. Leader: 10.0.0.2:9100");
  });
  created = false;
  Status st = replica->CreateNamespace("other", false, &created);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "Not leader for shard. Leader: 10.0.0.2:9100");
  EXPECT_FALSE(created);
  ASSERT_TRUE(leader->Reload().ok());
  EXPECT_EQ(leader->snapshot()->FindNamespace("other"), nullptr);
}

TEST_F(CatalogReplicaTest, LoginStateGoesToTheNodeLocalStore) {
  auto local = storage::NewMemoryStore();
  auto c = Open(local.get());
  UserRecord u;
  u.user_id = "alice";
  ASSERT_TRUE(c->PutUser(u).ok());
  u.failed_login_attempts = 2;
  ASSERT_TRUE(c->PutUserLoginState(u).ok());
  EXPECT_EQ(c->GetUser("alice")->failed_login_attempts, 2);
  // The replicated store keeps the record as PutUser wrote it; the node-local one has the state.
  auto reopened = Open();
  EXPECT_EQ(reopened->GetUser("alice")->failed_login_attempts, 0);
  auto stored = local->Get(storage::Partition::kSystem, "usr/alice");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
}

}  // namespace
}  // namespace kalam::catalog
