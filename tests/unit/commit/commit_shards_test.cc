// Tests for CommitShards: which pipeline a table's rows commit through, a single node's one
// pipeline, and the refusal of a transaction spanning two shards.
#include "commit/commit_shards.h"

#include <gtest/gtest.h>

#include "table/keys.h"

namespace kalam::commit {
namespace {

std::shared_ptr<const catalog::TableDef> Table(catalog::TableId id, std::string name,
                                               catalog::TableType type) {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = id;
  d->namespace_id = "ns";
  d->table_name = std::move(name);
  d->type = type;
  catalog::ColumnDef pk;
  pk.column_id = 1;
  pk.name = "id";
  pk.type = DataType{TypeKind::kBigInt};
  pk.primary_key = true;
  d->columns = {pk};
  return d;
}

table::StagedRow Insert(const std::shared_ptr<const catalog::TableDef>& t, std::string scope,
                        int64_t id) {
  table::StagedRow r;
  r.table = t;
  r.scope = std::move(scope);
  r.pk = Value::Int(id);
  r.pk_key = table::PkKey(t->table_id, r.scope, r.pk);
  r.live = true;
  r.values = {Value::Int(id)};
  return r;
}

// Three pipelines, each over its own store so a test sees where each commit landed: user shard
// 0 (user "a"), user shard 1 (user "b"), shared.
class CommitShardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto* p : {&user0_, &user1_, &shared_}) ASSERT_TRUE(p->Start().ok());
  }
  CommitShards Cluster() {
    return CommitShards({&user0_, &user1_}, &shared_,
                        [](std::string_view user) -> uint32_t { return user == "a" ? 0 : 1; });
  }
  static uint64_t Commits(const CommitPipeline& p) { return p.stats().commits; }

  SnowflakeGenerator ids_{1, Clock::System()};
  std::unique_ptr<storage::KvStore> kv0_ = storage::NewMemoryStore();
  std::unique_ptr<storage::KvStore> kv1_ = storage::NewMemoryStore();
  std::unique_ptr<storage::KvStore> kvs_ = storage::NewMemoryStore();
  CommitPipeline user0_{*kv0_, ids_};
  CommitPipeline user1_{*kv1_, ids_};
  CommitPipeline shared_{*kvs_, ids_};
  std::shared_ptr<const catalog::TableDef> messages_ =
      Table(1, "messages", catalog::TableType::kUser);
  std::shared_ptr<const catalog::TableDef> events_ = Table(2, "events", catalog::TableType::kStream);
  std::shared_ptr<const catalog::TableDef> config_ = Table(3, "config", catalog::TableType::kShared);
};

TEST_F(CommitShardsTest, SingleNodeRoutesEverythingToItsOnePipeline) {
  CommitShards one(user0_);
  EXPECT_TRUE(one.single());
  ASSERT_EQ(one.all().size(), 1u);
  EXPECT_EQ(&one.For(TableType::kUser, "a"), &user0_);
  EXPECT_EQ(&one.For(TableType::kUser, "b"), &user0_);
  EXPECT_EQ(&one.For(TableType::kShared, ""), &user0_);
  // A single node commits rows of any mix of tables and users in one transaction.
  table::WriteSet ws;
  ws.Stage(Insert(messages_, "a", 1));
  ws.Stage(Insert(messages_, "b", 1));
  ws.Stage(Insert(config_, "", 1));
  auto seqs = one.Commit(ws);
  ASSERT_TRUE(seqs.ok()) << seqs.status().ToString();
  EXPECT_EQ(seqs->size(), 3u);
  EXPECT_EQ(Commits(user0_), 1u);
  EXPECT_EQ(one.stats().rows, 3u);
}

TEST_F(CommitShardsTest, ClusterRoutesUserRowsByUserAndSharedRowsToTheSharedShard) {
  CommitShards shards = Cluster();
  EXPECT_FALSE(shards.single());
  ASSERT_EQ(shards.all().size(), 3u);
  EXPECT_EQ(shards.all()[2], &shared_);
  EXPECT_EQ(&shards.For(TableType::kUser, "a"), &user0_);
  EXPECT_EQ(&shards.For(TableType::kStream, "a"), &user0_);
  EXPECT_EQ(&shards.For(TableType::kUser, "b"), &user1_);
  EXPECT_EQ(&shards.For(TableType::kShared, ""), &shared_);

  table::WriteSet a;
  a.Stage(Insert(messages_, "a", 1));
  a.Stage(Insert(messages_, "a", 2));
  ASSERT_TRUE(shards.Commit(a).ok());
  table::WriteSet b;
  b.Stage(Insert(messages_, "b", 1));
  ASSERT_TRUE(shards.Commit(b).ok());
  table::WriteSet s;
  s.Stage(Insert(config_, "", 1));
  ASSERT_TRUE(shards.Commit(s).ok());
  EXPECT_EQ(Commits(user0_), 1u);
  EXPECT_EQ(Commits(user1_), 1u);
  EXPECT_EQ(Commits(shared_), 1u);
  EXPECT_EQ(shards.stats().commits, 3u);
  EXPECT_EQ(shards.stats().rows, 4u);
  // Each row is in its shard's store only.
  EXPECT_TRUE(kv0_->Get(storage::Partition::kPk, table::PkKey(1, "a", Value::Int(2)))->has_value());
  EXPECT_FALSE(kv1_->Get(storage::Partition::kPk, table::PkKey(1, "a", Value::Int(2)))->has_value());
  EXPECT_TRUE(kvs_->Get(storage::Partition::kPk, table::PkKey(3, "", Value::Int(1)))->has_value());
}

TEST_F(CommitShardsTest, ClusterRefusesATransactionSpanningTwoShardsAndWritesNothing) {
  CommitShards shards = Cluster();
  table::WriteSet ws;
  ws.Stage(Insert(messages_, "a", 1));
  ws.Stage(Insert(config_, "", 1));
  auto r = shards.Commit(ws);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "A transaction cannot write to two shards: the rows of ns.messages for user 'a' and of "
            "ns.config are replicated by different groups. Commit them in separate transactions.");
  table::WriteSet users;
  users.Stage(Insert(messages_, "a", 1));
  users.Stage(Insert(messages_, "b", 1));
  EXPECT_EQ(shards.Commit(users).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(shards.stats().commits, 0u);
  EXPECT_FALSE(kv0_->Get(storage::Partition::kPk, table::PkKey(1, "a", Value::Int(1)))->has_value());
  // Two users of the same shard commit together.
  CommitShards same({&user0_, &user1_}, &shared_, [](std::string_view) -> uint32_t { return 1; });
  EXPECT_TRUE(same.Commit(users).ok());
  EXPECT_EQ(Commits(user1_), 1u);
}

TEST_F(CommitShardsTest, SchemaChangeOfAUserTableHoldsEveryUserShardAndRunsOnce) {
  CommitShards shards = Cluster();
  int runs = 0;
  Status st = shards.RunSchemaChange(TableType::kUser, messages_->table_id,
                                     [&]() -> Result<uint32_t> {
                                       ++runs;
                                       return 2u;
                                     });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(runs, 1);
  // Rows staged under the old version (1) of the table now fail on every user shard.
  for (const char* user : {"a", "b"}) {
    table::WriteSet ws;
    ws.Stage(Insert(messages_, user, 5));
    EXPECT_EQ(shards.Commit(ws).status().code(), StatusCode::kConflict) << user;
  }
  // The shared shard does not hold the table: its commits are not affected.
  auto other = Table(1, "messages", catalog::TableType::kShared);
  table::WriteSet ws;
  ws.Stage(Insert(other, "", 5));
  EXPECT_TRUE(shards.Commit(ws).ok());
  // A failing change is returned as is.
  EXPECT_EQ(shards
                .RunSchemaChange(TableType::kUser, messages_->table_id,
                                 []() -> Result<uint32_t> { return Status::Conflict("no"); })
                .message(),
            "no");
}

}  // namespace
}  // namespace kalam::commit
