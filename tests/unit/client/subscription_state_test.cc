// Tests of SubscriptionState, the resume bookkeeping of one live subscription, message by
// message: duplicates dropped, catch-up deletes that step back delivered once, a resume cut short
// resumed early enough, and the resubscribe back-off.
#include "../../../client/src/subscription_state.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace kalam::client {
namespace {

namespace json = boost::json;

json::object Msg(const std::string& text) { return json::parse(text).as_object(); }

json::object Ack() {
  return Msg(R"({"type":"subscription_ack","subscription_id":"s","total_rows":0,
    "batch_control":{"batch_num":0,"has_more":false,"status":"ready","last_seq_id":null},
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
  void Ack() { s_->OnAck(kalam::client::Ack(), &events_); }
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

constexpr std::chrono::milliseconds kSlack{2000};

TEST(SubscriptionStateTest, FreshSubscriptionDropsDuplicatesAndOlderSeqs) {
  SubscriptionState s(Request());
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), -1);
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

TEST(SubscriptionStateTest, ResumeDeliversCatchUpRowsThenDeletesThatStepBack) {
  SubscriptionState s(Request());
  s.NextSubscribeMessage(kSlack);
  Feeder f(&s);
  f.Ack();
  f.Change("insert", 10);
  f.Take();
  s.MarkUnsent();  // the connection dropped
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 10);
  f.Ack();
  EXPECT_TRUE(f.events().empty());  // no second kSubscribed
  f.Batch({10, 12, 15}, false);      // 10 is at the floor: not again
  f.Change("delete", 11);           // the resume's delete, below the rows
  f.Change("delete", 11);           // never twice
  f.Change("insert", 20);           // live
  EXPECT_TRUE(f.events()[0].catch_up);
  EXPECT_TRUE(f.events()[1].catch_up);
  EXPECT_FALSE(f.events()[2].catch_up);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{12, 15, 11, 20}));
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 20);
}

TEST(SubscriptionStateTest, ACatchUpCutShortIsResumedFromBeforeItsDeletes) {
  SubscriptionState s(Request());
  s.NextSubscribeMessage(kSlack);
  Feeder f(&s);
  f.Ack();
  f.Change("insert", 10);
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 10);
  f.Ack();
  f.Batch({12, 13}, true);  // more to come, then the connection drops
  ASSERT_EQ(f.replies().size(), 1u);
  EXPECT_NE(f.replies()[0].find(R"("type":"next_batch")"), std::string::npos);
  EXPECT_NE(f.replies()[0].find(R"("last_seq_id":13)"), std::string::npos);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{10, 12, 13}));
  s.MarkUnsent();
  // Rows up to 13 arrived, but deletes below 13 may still be owed: resume from 10 again.
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 10);
  f.Ack();
  f.Batch({12, 13, 16}, false);
  f.Change("delete", 11);
  f.Change("delete", 14);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{16, 11, 14}));
  s.MarkUnsent();  // drops again before any live insert or update
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 10);
  f.Ack();
  f.Batch({12, 13, 16}, false);
  f.Change("delete", 11);  // delivered by the previous catch-up
  f.Change("delete", 14);
  f.Change("delete", 17);  // new
  f.Change("update", 18);  // live: the catch-up is over
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{17, 18}));
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 18);
}

TEST(SubscriptionStateTest, InitialDataAdvancesTheCursorRowByRow) {
  SubscribeRequest r = Request();
  r.initial_data = true;
  r.batch_size = 2;
  SubscriptionState s(r);
  const std::string first = s.NextSubscribeMessage(kSlack);
  EXPECT_NE(first.find(R"("options":{"batch_size":2})"), std::string::npos);
  Feeder f(&s);
  f.Ack();
  f.Batch({3, 5}, true);
  EXPECT_FALSE(f.events().back().ready);
  EXPECT_FALSE(f.events().back().catch_up);
  f.Take();
  s.MarkUnsent();
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 5);  // a fresh snapshot owes no deletes
}

TEST(SubscriptionStateTest, BeforeAnyEventAResumeStartsShortlyBeforeTheFirstAck) {
  SubscriptionState s(Request());
  s.NextSubscribeMessage(kSlack);
  Feeder f(&s);
  f.Ack();
  s.MarkUnsent();
  const int64_t from = FromOf(s.NextSubscribeMessage(kSlack));
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t from_ms = (from >> 22) + 1704067200000;
  EXPECT_LE(from_ms, now_ms - 2000);
  EXPECT_GT(from_ms, now_ms - 4000);
}

TEST(SubscriptionStateTest, CallerGivenFromIsACatchUpFromTheStart) {
  SubscribeRequest r = Request();
  r.from = 100;
  SubscriptionState s(r);
  EXPECT_EQ(s.last_seq(), 100);
  EXPECT_EQ(FromOf(s.NextSubscribeMessage(kSlack)), 100);
  Feeder f(&s);
  f.Ack();
  EXPECT_EQ(f.events().size(), 1u);  // kSubscribed: the first ack of this subscription
  f.Take();
  f.Batch({100, 105}, false);
  f.Change("delete", 101);
  EXPECT_EQ(f.Take(), (std::vector<int64_t>{105, 101}));
}

TEST(SubscriptionStateTest, ServerClosesResubscribeAtOnceThenWithBackOff) {
  LiveOptions o;
  o.reconnect_min_delay = std::chrono::milliseconds(100);
  o.reconnect_max_delay = std::chrono::milliseconds(1000);
  SubscriptionState never(Request());
  never.NextSubscribeMessage(kSlack);
  EXPECT_FALSE(never.OnServerClose("SUBSCRIPTION_FAILED", o).has_value());  // never worked

  SubscriptionState s(Request());
  s.NextSubscribeMessage(kSlack);
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
  off.NextSubscribeMessage(kSlack);
  Feeder g(&off);
  g.Ack();
  o.resubscribe_on_server_close = false;
  EXPECT_FALSE(off.OnServerClose("SUBSCRIBER_LAGGING", o).has_value());
}

TEST(SubscriptionStateTest, EachSubscribeMessageIsANewAttempt) {
  SubscriptionState s(Request());
  const uint64_t a = s.attempt();
  s.NextSubscribeMessage(kSlack);
  EXPECT_TRUE(s.sent());
  EXPECT_EQ(s.attempt(), a + 1);
  s.MarkUnsent();
  EXPECT_FALSE(s.sent());
}

}  // namespace
}  // namespace kalam::client
