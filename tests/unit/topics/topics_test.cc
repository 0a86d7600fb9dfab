// Tests for the topics module: claims, message encoding, payloads, offsets in the commit hook.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "commit/commit_pipeline.h"
#include "common/clock.h"
#include "table/keys.h"
#include "sql/parser/splitter.h"
#include "topics/consumer_group.h"
#include "topics/message.h"
#include "topics/topic_service.h"

namespace kalam::topics {
namespace {

using sql::parser::PayloadMode;

TEST(ConsumerGroupTest, ConsumersOfAGroupGetDisjointWindows) {
  ConsumerGroup g(std::nullopt);
  uint64_t stop = 0;
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 0u);
  g.Take(0, 5, 1000);
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 5u);
  g.Take(5, 10, 1000);
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 10u);
  EXPECT_EQ(stop, UINT64_MAX);
}

TEST(ConsumerGroupTest, AnExpiredClaimIsRedeliveredAndLiveClaimsAreSkipped) {
  ConsumerGroup g(std::nullopt);
  uint64_t stop = 0;
  g.Take(0, 5, 100);   // expires at 100
  g.Take(5, 10, 500);  // still live at 200
  EXPECT_EQ(g.NextWindow(0, 200, &stop), 0u);
  EXPECT_EQ(stop, 5u);  // the redelivery stops before the live claim
  g.Take(0, 5, 300);
  EXPECT_EQ(g.NextWindow(0, 200, &stop), 10u);
}

TEST(ConsumerGroupTest, AckNeverRegressesAndMovesTheCursor) {
  ConsumerGroup g(std::optional<uint64_t>(3));
  uint64_t stop = 0;
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 4u);  // committed + 1 wins over the start
  g.Take(4, 8, 1000);
  EXPECT_EQ(g.Ack(6), 6u);
  EXPECT_EQ(g.Ack(2), 6u);
  ASSERT_EQ(g.claims().size(), 1u);  // [7,8) of the batch is still claimed
  EXPECT_EQ(g.claims()[0].begin, 7u);
  EXPECT_EQ(g.Ack(7), 7u);
  EXPECT_TRUE(g.claims().empty());
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 8u);
}

TEST(ConsumerGroupTest, AnAckCoversOnlyTheBatchHoldingItSoACrashedConsumersBatchComesBack) {
  ConsumerGroup g(std::nullopt);
  uint64_t stop = 0;
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 0u);
  g.Take(0, 10, 100);                          // consumer A
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 10u);
  g.Take(10, 20, 100);                         // consumer B
  EXPECT_EQ(g.Ack(19), std::nullopt);          // B's batch only: A's [0,10) is not acknowledged
  EXPECT_TRUE(g.committed() == std::nullopt);
  ASSERT_EQ(g.claims().size(), 1u);
  EXPECT_EQ(g.claims()[0].begin, 0u);
  // A crashed: its claim expires and exactly its batch is delivered again, stopping before B's.
  EXPECT_EQ(g.NextWindow(0, 150, &stop), 0u);
  EXPECT_EQ(stop, 10u);
  g.Take(0, 10, 300);                          // consumer C
  EXPECT_EQ(g.Ack(9), std::optional<uint64_t>(19));  // the run 0..19 is now contiguous
  EXPECT_TRUE(g.claims().empty());
  EXPECT_TRUE(g.acked().empty());
  EXPECT_EQ(g.NextWindow(0, 150, &stop), 20u);
}

TEST(ConsumerGroupTest, AcknowledgedRangesAreNotRedeliveredAndAStrayAckCoversOneOffset) {
  ConsumerGroup g(std::optional<uint64_t>(4));
  uint64_t stop = 0;
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 5u);
  g.Take(5, 8, 100);
  EXPECT_EQ(g.NextWindow(0, 0, &stop), 8u);
  g.Take(8, 12, 100);
  EXPECT_EQ(g.Ack(11), std::optional<uint64_t>(4));
  // After both expire, only [5,8) comes back: [8,12) was acknowledged.
  EXPECT_EQ(g.NextWindow(0, 200, &stop), 5u);
  EXPECT_EQ(stop, 8u);
  // An offset no claim holds (e.g. a batch fetched before a restart) acknowledges itself only.
  ConsumerGroup h(std::optional<uint64_t>(4));
  EXPECT_EQ(h.Ack(9), std::optional<uint64_t>(4));
  EXPECT_EQ(h.NextWindow(0, 0, &stop), 5u);
  EXPECT_EQ(stop, 9u);
  EXPECT_EQ(h.Ack(5), std::optional<uint64_t>(5));
}

TEST(GroupRecordTest, RoundTripsAndReadsTheFirstFormat) {
  GroupRecord r;
  r.updated_ms = 1234;
  r.acked = {{10, 20}, {25, 26}};
  auto back = GroupRecord::Decode(r.Encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->committed.has_value());
  EXPECT_EQ(back->updated_ms, 1234);
  ASSERT_EQ(back->acked.size(), 2u);
  EXPECT_EQ(back->acked[1].begin, 25u);
  r.committed = 7;
  back = GroupRecord::Decode(r.Encode());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->committed, std::optional<uint64_t>(7));
  const std::string v1 = U64Bytes(42) + U64Bytes(99);  // committed · updated_ms
  back = GroupRecord::Decode(v1);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->committed, std::optional<uint64_t>(42));
  EXPECT_TRUE(back->acked.empty());
  std::string bad = r.Encode();
  bad.pop_back();
  EXPECT_FALSE(GroupRecord::Decode(bad).has_value());
  GroupRecord overlapping;
  overlapping.acked = {{10, 20}, {15, 30}};
  EXPECT_FALSE(GroupRecord::Decode(overlapping.Encode()).has_value());
}

TEST(ConsumerGroupTest, ARedeliveryNeverSpansTwoExpiredBatches) {
  ConsumerGroup g(std::nullopt);
  uint64_t stop = 0;
  g.NextWindow(0, 0, &stop);
  g.Take(0, 5, 100);    // B
  g.NextWindow(0, 0, &stop);
  g.Take(5, 10, 100);   // A
  // Both expire. C gets B's batch alone, not [0,10): A's late ack of 9 must not cover 0..4.
  EXPECT_EQ(g.NextWindow(0, 200, &stop), 0u);
  EXPECT_EQ(stop, 5u);
  g.Take(0, 5, 1000);   // C
  EXPECT_EQ(g.NextWindow(0, 200, &stop), 5u);
  EXPECT_EQ(stop, UINT64_MAX);  // A's batch, then on into anything never delivered
  g.Take(5, 10, 1000);  // D
  EXPECT_EQ(g.Ack(9), std::nullopt);  // A's late ack: [5,10) only; C still holds [0,5)
  ASSERT_EQ(g.claims().size(), 1u);
  EXPECT_EQ(g.claims()[0].begin, 0u);
}

TEST(ConsumerGroupTest, PersistedAcknowledgementsAreNotRedeliveredAfterARestart) {
  ConsumerGroup before(std::nullopt);
  uint64_t stop = 0;
  before.NextWindow(0, 0, &stop);
  before.Take(0, 10, 100);
  before.NextWindow(0, 0, &stop);
  before.Take(10, 20, 100);
  before.Ack(19);
  // A restart: claims are gone, the acknowledged range [10,20) was persisted.
  ConsumerGroup after(before.committed(), before.acked());
  EXPECT_EQ(after.NextWindow(0, 0, &stop), 0u);
  EXPECT_EQ(stop, 10u);  // [0,10) comes again, [10,20) does not
  after.Take(0, 10, 100);
  EXPECT_EQ(after.NextWindow(0, 0, &stop), 20u);
}

TEST(MessageTest, EncodeDecodeRoundTrips) {
  Message m;
  m.key = "k1";
  m.payload = "{\"a\":1}";
  m.timestamp_ms = 1730000000000;
  m.user_id = "alice";
  m.op = sql::parser::TopicOp::kDelete;
  m.seq = 42;
  auto d = Message::Decode(m.Encode());
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->key, m.key);
  EXPECT_EQ(d->payload, m.payload);
  EXPECT_EQ(d->timestamp_ms, m.timestamp_ms);
  EXPECT_EQ(d->user_id, m.user_id);
  EXPECT_EQ(d->op, m.op);
  EXPECT_EQ(d->seq, 42);
  Message bare;
  bare.payload = "{}";
  auto b = Message::Decode(bare.Encode());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->key.has_value());
  EXPECT_FALSE(b->user_id.has_value());
  EXPECT_FALSE(Message::Decode("x").ok());
}

TEST(MessageTest, PartitionIsDeterministicAndInRange) {
  EXPECT_EQ(PartitionFor(std::string("42"), 0, 4), PartitionFor(std::string("42"), 9, 4));
  EXPECT_EQ(PartitionFor(std::nullopt, 77, 4), PartitionFor(std::string("77"), 0, 4));
  for (int i = 0; i < 100; ++i) EXPECT_LT(PartitionFor(std::to_string(i), 0, 3), 3u);
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
  EXPECT_EQ(PartitionFor(std::string("a"), 0, 1000), 0xaf63dc4c8601ec8cull % 1000);
}

std::shared_ptr<catalog::TableDef> Table() {
  auto d = std::make_shared<catalog::TableDef>();
  d->table_id = 9;
  d->namespace_id = "ns";
  d->table_name = "t";
  d->type = catalog::TableType::kShared;
  catalog::ColumnDef id;
  id.column_id = 1;
  id.name = "id";
  id.type = DataType{TypeKind::kBigInt};
  id.primary_key = true;
  catalog::ColumnDef v;
  v.column_id = 2;
  v.name = "v";
  v.type = DataType{TypeKind::kText};
  d->columns = {id, v};
  return d;
}

TEST(PayloadTest, ModesCarryWhatTheyPromise) {
  table::ChangeRecord rec;
  rec.table = Table();
  rec.kind = table::ChangeKind::kUpdate;
  rec.seq = 5;
  rec.values = {Value::Int(1), Value::Text("new")};
  rec.old_values = {Value::Int(1), Value::Text("old")};
  EXPECT_EQ(BuildPayload(rec, PayloadMode::kFull),
            R"({"id":"1","v":"new","_seq":"5","_deleted":false,"_table":"ns:t"})");
  EXPECT_EQ(BuildPayload(rec, PayloadMode::kKey), R"({"id":"1","_seq":"5","_table":"ns:t"})");
  EXPECT_EQ(BuildPayload(rec, PayloadMode::kDiff),
            R"({"id":"1","v":"new","_old":{"v":"old"},"_seq":"5","_table":"ns:t"})");
  EXPECT_EQ(MessageKeyText(rec), "1");
}

class TopicServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cat = catalog::Catalog::Open(*kv_, clock_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    catalog_ = std::move(*cat);
    service_ = std::make_unique<TopicService>(*kv_, *catalog_, clock_, TopicServiceOptions{});
    ASSERT_TRUE(service_->Open().ok());
  }

  void Run(std::string_view sql, const std::shared_ptr<const catalog::TableDef>& source) {
    auto stmts = sql::parser::SplitStatements(sql);
    ASSERT_TRUE(stmts.ok());
    auto ast = sql::parser::ParseTopicStatement((*stmts)[0]);
    ASSERT_TRUE(ast.ok()) << ast.status().ToString();
    sql::TopicStatementContext ctx;
    ctx.topic_id = ast->topic_ns + "." + ast->topic_name;
    ctx.source = source;
    auto r = service_->Run(*ast, ctx);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  table::ChangeRecord Insert(int64_t id, int64_t seq) {
    table::ChangeRecord rec;
    rec.table = table_;
    rec.kind = table::ChangeKind::kInsert;
    rec.seq = seq;
    rec.values = {Value::Int(id), Value::Text("x")};
    return rec;
  }

  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  FakeClock clock_{1000000};
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<TopicService> service_;
  std::shared_ptr<const catalog::TableDef> table_ = Table();
};

TEST_F(TopicServiceTest, OffsetsOfAFailedWriteAreReused) {
  Run("CREATE TOPIC ns.tp", nullptr);
  Run("ALTER TOPIC ns.tp ADD SOURCE ns.t ON INSERT", table_);
  storage::WriteBatch batch;
  ASSERT_TRUE(service_->OnStamped({Insert(1, 10), Insert(2, 11)}, &batch).ok());
  service_->OnWritten(Status::IoError("disk full"));  // nothing of the batch exists
  ConsumeRequest req;
  req.topic_id = "ns.tp";
  req.start = sql::parser::TopicStatement::Start::kEarliest;
  auto r = service_->ConsumeNow(req);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->messages.empty());
  storage::WriteBatch ok;
  ASSERT_TRUE(service_->OnStamped({Insert(3, 12)}, &ok).ok());
  ASSERT_TRUE(kv_->Write(ok).ok());
  service_->OnWritten(Status::OK());
  r = service_->ConsumeNow(req);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].offset, 0u);  // offset 0 again: the failed group's never existed
  EXPECT_EQ(r->messages[0].message.key, "3");
}

TEST_F(TopicServiceTest, AckBeyondTheNewestOffsetIsRefused) {
  Run("CREATE TOPIC ns.tp", nullptr);
  Run("ALTER TOPIC ns.tp ADD SOURCE ns.t ON INSERT", table_);
  storage::WriteBatch batch;
  ASSERT_TRUE(service_->OnStamped({Insert(1, 10)}, &batch).ok());
  ASSERT_TRUE(kv_->Write(batch).ok());
  service_->OnWritten(Status::OK());
  EXPECT_FALSE(service_->Ack("ns.tp", "g", 0, 1).ok());
  auto acked = service_->Ack("ns.tp", "g", 0, 0);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(*acked, 0u);
  ASSERT_EQ(service_->ListOffsets().size(), 1u);
}

TEST_F(TopicServiceTest, ACommitThatFailsItsConflictCheckPublishesNothing) {
  Run("CREATE TOPIC ns.tp PARTITIONS 2", nullptr);
  Run("ALTER TOPIC ns.tp ADD SOURCE ns.t ON INSERT", table_);
  SnowflakeGenerator ids(1, Clock::System());
  commit::CommitPipeline pipeline(*kv_, ids);
  pipeline.SetCommitHook(service_.get());
  ASSERT_TRUE(pipeline.Start().ok());
  auto staged = [&](int64_t id) {
    table::StagedRow r;
    r.table = table_;
    r.pk = Value::Int(id);
    r.pk_key = table::PkKey(table_->table_id, "", r.pk);
    r.live = true;
    r.values = {Value::Int(id), Value::Text("v")};
    return r;
  };
  // Both transactions staged id 1 against "absent"; the second COMMIT fails its re-check.
  table::WriteSet first, second;
  first.Stage(staged(1));
  second.Stage(staged(1));
  second.Stage(staged(2));
  ASSERT_TRUE(pipeline.Commit(first).ok());
  auto failed = pipeline.Commit(second);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kAlreadyExists);
  size_t messages = 0;
  for (uint32_t p = 0; p < 2; ++p) {
    ConsumeRequest req;
    req.topic_id = "ns.tp";
    req.partition = p;
    req.start = sql::parser::TopicStatement::Start::kEarliest;
    auto r = service_->ConsumeNow(req);
    ASSERT_TRUE(r.ok());
    for (const auto& m : r->messages) {
      EXPECT_EQ(m.message.key, "1");  // never "2": its transaction did not commit
      ++messages;
    }
  }
  EXPECT_EQ(messages, 1u);
  pipeline.Stop();
}

TEST_F(TopicServiceTest, MessagesOfADroppedTopicWhoseCleanupNeverRanGoAtTheNextOpen) {
  // A message under topic number 77, which no topic has (its DROP's job never ran).
  storage::WriteBatch orphan;
  orphan.Put(storage::Partition::kTopic, MessageKey(77, 0, 0), "x");
  orphan.Put(storage::Partition::kTopic, MessageKey(77, 3, 9), "x");
  ASSERT_TRUE(kv_->Write(orphan).ok());
  TopicService reopened(*kv_, *catalog_, clock_, TopicServiceOptions{});
  ASSERT_TRUE(reopened.Open().ok());
  auto it = kv_->NewIterator(storage::Partition::kTopic);
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
}

TEST_F(TopicServiceTest, ConcurrentWritersAndGroupConsumersSeeEveryMessageOnce) {
  Run("CREATE TOPIC ns.tp PARTITIONS 3", nullptr);
  Run("ALTER TOPIC ns.tp ADD SOURCE ns.t ON INSERT", table_);
  service_->Start();
  SnowflakeGenerator ids(1, Clock::System());
  commit::CommitPipeline pipeline(*kv_, ids);
  pipeline.SetCommitHook(service_.get());
  ASSERT_TRUE(pipeline.Start().ok());
  constexpr int kWriters = 4, kPerWriter = 150, kTotal = kWriters * kPerWriter;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        table::WriteSet ws;
        table::StagedRow r;
        r.table = table_;
        r.pk = Value::Int(w * 1000 + i);
        r.pk_key = table::PkKey(table_->table_id, "", r.pk);
        r.live = true;
        r.values = {r.pk, Value::Text("v")};
        ws.Stage(std::move(r));
        ASSERT_TRUE(pipeline.Commit(ws).ok());
      }
    });
  }
  std::mutex mu;
  std::multiset<std::string> seen;
  std::atomic<bool> done{false};
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&, c] {
      uint32_t p = c % 3;
      while (!done) {
        p = (p + 1) % 3;
        ConsumeRequest req;
        req.topic_id = "ns.tp";
        req.group = "g";
        req.partition = p;
        req.limit = 7;
        req.start = sql::parser::TopicStatement::Start::kEarliest;
        req.wait = std::chrono::milliseconds(20);
        std::promise<Result<ConsumeResult>> answer;
        service_->Consume(req, [&](Result<ConsumeResult> r) { answer.set_value(std::move(r)); });
        auto r = answer.get_future().get();
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        if (r->messages.empty()) continue;
        ASSERT_TRUE(service_->Ack("ns.tp", "g", p, r->messages.back().offset).ok());
        std::lock_guard lock(mu);
        for (const auto& m : r->messages) seen.insert(*m.message.key);
        if (seen.size() >= static_cast<size_t>(kTotal)) done = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  pipeline.Stop();
  service_->Stop();
  // Every message once: acks came right after each fetch and no claim expired (60 s timeout).
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), static_cast<size_t>(kTotal));
}

}  // namespace
}  // namespace kalam::topics
