// Tests of SubscriptionState, the resume bookkeeping of one live subscription, message by
// message: duplicates dropped, a resume's rows and deletes delivered in `_seq` order as catch-up,
// a cut after any message resumed from the largest `_seq` received, the position a changes-only
// ack gives, and the resubscribe back-off.
#include "../../../client/src/subscription_state.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace kalam::client {
namespace {

namespace json = boost::json;

json::object Msg(const std::string& text) { return json::parse(text).as_object(); }

// An ack whose batch_control.last_seq_id is `last_seq_id` ("null" or a number).
json::object Ack(const std::string& last_seq_id = "null") {
  return Msg(R"({"type":"subscription_ack","subscription_id":"s","total_rows":0,
    "batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":)" +
             last_seq_id + R"(},
    "schema":[{"name":"id","data_type":"BigInt","index":0,"flags":["pk"]},
              {"name":"_seq","data_type":"BigInt","index":1}]})");
}

json::object Batch(std::vector<int64_t> seqs, bool has_more) {
  std::string rows;
  for (int64_t s : seqs) {
    if (!rows.empty()) rows += ",";
    rows += R"({"id":")" + std::to_string(s) + R"(","_seq":")" + std::to_string(s) + R"("})";
  }
  const std::string last = seqs.empty() ? "null" : std::to_string(seqs.back());
  return Msg(R"({"type":"initial_data_batch","subscription_id":"s","rows":[)" + rows +
             R"(],"batch_control":{"batch_num":0,"has_more":)" + (has_more ? "true" : "false") +
             R"(,"status":"loading","last_seq_id":)" + last + "}}");
}

json::object Change(const std::string& kind, int64_t seq) {
  const std::string row = R"({"id":")" + std::to_string(seq) + R"(","_seq":")" +
                          std::to_string(seq) + R"("})";
  if (kind == "delete") {
    return Msg(R"({"type":"change","subscription_id":"s","change_type":"delete","old_values":[)" +
               row + "]}");
  }
  return Msg(R"({"type":"change","subscription_id":"s","change_type":")" + kind +
             R"(","rows":[)" + row + "]}");
}

// The `from` of a subscribe message, or -1 when it has none.
int64_t FromOf(const std::string& message) {
  const auto sub = json::parse(message).as_object().at("subscription").as_object();
  if (!sub.contains("options")) return -1;
  const auto& o = sub.at("options").as_object();
  return o.contains("from") ? o.at("from").to_number<int64_t>() : -1;
}

SubscribeRequest Request() {
  SubscribeRequest r;
  r.id = "s";
  r.sql = "SELECT * FROM ns.t";
  return r;
}

// Feeds messages and returns the `_seq`s delivered, in order ("d" prefix for deletes would be
// overkill: each test knows which seqs are deletes).
class Feeder {
 public:
  explicit Feeder(SubscriptionState* s) : s_(s) {}
  std::vector<int64_t> Take() {
    std::vector<int64_t> out;
    for (const auto& ev : events_) {
      for (const auto& r : ev.type == LiveEventType::kDelete ? ev.old_rows : ev.rows) {
        out.push_back(r.seq());
      }
    }
    events_.clear();
    return out;
  }
  void Ack(const std::string& last_seq_id = "null") {
    s_->OnAck(kalam::client::Ack(last_seq_id), &events_);
  }
  void Batch(std::vector<int64_t> seqs, bool has_more) {
    s_->OnBatch(kalam::client::Batch(std::move(seqs), has_more), &events_, &replies_);
  }
  void Change(const std::string& kind, int64_t seq) {
    s_->OnChange(kalam::client::Change(kind, seq), &events_);
  }
  std::vector<LiveEvent>& events() { return events_; }
  std::vector<std::string>& replies() { return replies_; }

 private:
  SubscriptionState* s_;
  std::vector<LiveEvent> events_;
  std::vector<std::string> replies_;
};

TEST(SubscriptionStateTest, FreshSubscriptionDropsDuplicatesAndOlderSeqs) {
  SubscriptionState s(Request());
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), -1);
  Feeder f(&s);
  f.Ack();
  ASSERT_EQ(f.events().size(), 1u);
  EXPECT_EQ(f.events()[0].type, LiveEventType::kSubscribed);
  EXPECT_EQ(f.events()[0].schema.size(), 2u);
  f.Take();
  f.Change("insert", 10);
  f.Change("insert", 10);  // duplicate
  f.Change("update", 9);   // older
  f.Change("update", 11);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{10, 11}));
  EXPECT_EQ(s.last_seq(), 11);
}

TEST(SubscriptionStateTest, AResumeDeliversRowsAndDeletesInSeqOrderAsCatchUpUntilReady) {
  SubscriptionState s(Request());
  s.NextSubscribeMessage();
  Feeder f(&s);
  f.Ack();
  f.Change("insert", 10);
  f.Take();
  s.MarkUnsent();  // the connection dropped
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 10);
  f.Ack();
  EXPECT_TRUE(f.events().empty());  // no second kSubscribed
  f.Batch({12}, true);              // the resume's rows up to its first delete
  f.Change("delete", 13);           // then that delete
  f.Batch({15}, true);
  f.Change("delete", 16);
  f.Batch({}, false);               // ready: caught up (an empty resume batch is no event)
  f.Change("insert", 20);           // live
  ASSERT_EQ(f.events().size(), 5u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(f.events()[i].catch_up) << i;
  EXPECT_FALSE(f.events()[4].catch_up);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{12, 13, 15, 16, 20}));
  EXPECT_EQ(f.replies().size(), 2u);  // next_batch after each batch with more
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 20);
}

TEST(SubscriptionStateTest, ACutAfterAnyMessageResumesFromTheLargestSeqReceived) {
  SubscriptionState s(Request());
  s.NextSubscribeMessage();
  Feeder f(&s);
  f.Ack();
  f.Change("insert", 10);
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 10);
  f.Ack();
  s.MarkUnsent();  // cut right after the ack
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 10);
  f.Ack();
  f.Batch({12, 13}, true);  // more to come, then the connection drops
  ASSERT_EQ(f.replies().size(), 1u);
  EXPECT_NE(f.replies()[0].find(R"("type":"next_batch")"), std::string::npos);
  EXPECT_NE(f.replies()[0].find(R"("last_seq_id":13)"), std::string::npos);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{10, 12, 13}));
  s.MarkUnsent();  // cut right after a batch
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 13);
  f.Ack();
  f.Change("delete", 14);
  s.MarkUnsent();  // cut right after a replayed delete
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 14);
  f.Ack();
  f.Batch({14, 16}, false);  // 14 again (a duplicate) would be dropped
  f.Change("update", 18);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{14, 16, 18}));
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 18);
}

TEST(SubscriptionStateTest, InitialDataAdvancesTheCursorRowByRow) {
  SubscribeRequest r = Request();
  r.initial_data = true;
  r.batch_size = 2;
  SubscriptionState s(r);
  const std::string first = s.NextSubscribeMessage();
  EXPECT_NE(first.find(R"("options":{"batch_size":2})"), std::string::npos);
  Feeder f(&s);
  f.Ack();
  f.Batch({3, 5}, true);
  EXPECT_FALSE(f.events().back().ready);
  EXPECT_FALSE(f.events().back().catch_up);
  f.Take();
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 5);
}

TEST(SubscriptionStateTest, ASnapshotCutBeforeItsFirstRowIsAskedForAgain) {
  SubscribeRequest r = Request();
  r.last_rows = 5;
  SubscriptionState s(r);
  const std::string first = s.NextSubscribeMessage();
  Feeder f(&s);
  f.Ack("77");  // only a changes-only ack names a position
  s.MarkUnsent();
  EXPECT_EQ(s.NextSubscribeMessage(), first);
  EXPECT_EQ(s.last_seq(), 0);
}

TEST(SubscriptionStateTest, AChangesOnlySubscriptionResumesFromItsAcksReadPoint) {
  SubscriptionState s(Request());
  const std::string first = s.NextSubscribeMessage();
  EXPECT_EQ(FromOf(first), -1);
  Feeder f(&s);
  f.Ack("500");
  EXPECT_EQ(s.last_seq(), 500);
  s.MarkUnsent();  // cut before any change
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 500);
  f.Ack("null");  // a resume's ack names nothing
  f.Batch({}, false);
  f.Change("insert", 501);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{501}));

  SubscriptionState unknown(Request());  // an ack without a position: start over
  const std::string again = unknown.NextSubscribeMessage();
  Feeder g(&unknown);
  g.Ack("null");
  unknown.MarkUnsent();
  EXPECT_EQ(unknown.NextSubscribeMessage(), again);
}

TEST(SubscriptionStateTest, CallerGivenFromIsACatchUpFromTheStart) {
  SubscribeRequest r = Request();
  r.from = 100;
  SubscriptionState s(r);
  EXPECT_EQ(s.last_seq(), 100);
  EXPECT_EQ(FromOf(s.NextSubscribeMessage()), 100);
  Feeder f(&s);
  f.Ack();
  EXPECT_EQ(f.events().size(), 1u);  // kSubscribed: the first ack of this subscription
  f.Take();
  f.Batch({100, 105}, true);  // 100 is the caller's own position: not again
  f.Change("delete", 106);
  f.Batch({}, false);
  EXPECT_EQ(f.events().size(), 2u);
  EXPECT_TRUE(f.events()[0].catch_up && f.events()[1].catch_up);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{105, 106}));
}

TEST(SubscriptionStateTest, ServerClosesResubscribeAtOnceThenWithBackOff) {
  LiveOptions o;
  o.reconnect_min_delay = std::chrono::milliseconds(100);
  o.reconnect_max_delay = std::chrono::milliseconds(1000);
  SubscriptionState never(Request());
  never.NextSubscribeMessage();
  EXPECT_FALSE(never.OnServerClose("SUBSCRIPTION_FAILED", o).has_value());  // never worked

  SubscriptionState s(Request());
  s.NextSubscribeMessage();
  Feeder f(&s);
  f.Ack();
  EXPECT_FALSE(s.OnServerClose("INVALID_SQL", o).has_value());
  EXPECT_EQ(s.OnServerClose("SUBSCRIBER_LAGGING", o), std::chrono::milliseconds(0));
  EXPECT_FALSE(s.sent());
  EXPECT_EQ(s.OnServerClose("SUBSCRIPTION_FAILED", o), std::chrono::milliseconds(100));
  EXPECT_EQ(s.OnServerClose("SUBSCRIPTION_FAILED", o), std::chrono::milliseconds(200));
  EXPECT_EQ(s.OnServerClose("SUBSCRIPTION_FAILED", o), std::chrono::milliseconds(400));
  EXPECT_EQ(s.OnServerClose("SUBSCRIPTION_FAILED", o), std::chrono::milliseconds(800));
  EXPECT_EQ(s.OnServerClose("SUBSCRIPTION_FAILED", o), std::chrono::milliseconds(1000));
  f.Ack();  // an acknowledgement resets the count
  EXPECT_EQ(s.OnServerClose("SUBSCRIPTION_FAILED", o), std::chrono::milliseconds(0));
  for (int i = 2; i <= 10; ++i) EXPECT_TRUE(s.OnServerClose("SUBSCRIPTION_FAILED", o));
  EXPECT_FALSE(s.OnServerClose("SUBSCRIPTION_FAILED", o).has_value());  // gives up

  SubscriptionState off(Request());
  off.NextSubscribeMessage();
  Feeder g(&off);
  g.Ack();
  o.resubscribe_on_server_close = false;
  EXPECT_FALSE(off.OnServerClose("SUBSCRIBER_LAGGING", o).has_value());
}

TEST(SubscriptionStateTest, EachSubscribeMessageIsANewAttempt) {
  SubscriptionState s(Request());
  const uint64_t a = s.attempt();
  s.NextSubscribeMessage();
  EXPECT_TRUE(s.sent());
  EXPECT_EQ(s.attempt(), a + 1);
  s.MarkUnsent();
  EXPECT_FALSE(s.sent());
}

}  // namespace
}  // namespace kalam::client
