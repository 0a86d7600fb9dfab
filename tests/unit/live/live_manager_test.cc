// Tests for the live-query manager over the in-process stack, with a recording sink.
#include "live/live_manager.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <thread>

#include "../sql/sql_test_stack.h"

namespace kalam::live {
namespace {

namespace json = boost::json;

class RecordingSink : public LiveSink {
 public:
  explicit RecordingSink(uint64_t id, size_t capacity = 100000) : id_(id), capacity_(capacity) {}
  uint64_t connection_id() const override { return id_; }
  bool Send(std::string msg) override {
    std::lock_guard lock(mu_);
    if (messages_.size() >= capacity_) return false;
    messages_.push_back(json::parse(msg).as_object());
    return true;
  }
  void Close(uint16_t code, std::string) override { closed_code_ = code; }
  // Waits until at least `n` messages arrived; returns a copy.
  std::vector<json::object> WaitFor(size_t n) {
    for (int i = 0; i < 400; ++i) {
      {
        std::lock_guard lock(mu_);
        if (messages_.size() >= n) return messages_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::lock_guard lock(mu_);
    return messages_;
  }
  uint16_t closed_code_ = 0;

 private:
  uint64_t id_;
  size_t capacity_;
  std::mutex mu_;
  std::vector<json::object> messages_;
};

class LiveManagerTest : public sql::SqlStackTest {
 protected:
  void SetUp() override {
    SqlStackTest::SetUp();
    live_ = std::make_unique<LiveManager>(*catalog_, *exec_, pipeline_, clock_,
                                          LiveManagerOptions{});
    ASSERT_TRUE(live_->Start().ok());
    exec_->set_live_registry(live_.get());
    Ok("CREATE NAMESPACE chat", root_);
    Ok("CREATE USER TABLE chat.msgs (id INT PRIMARY KEY, room TEXT, body TEXT)", root_);
  }
  void TearDown() override { live_->Stop(); }
  std::unique_ptr<LiveManager> live_;
};

std::string S(const json::value& v) { return json::serialize(v); }

TEST_F(LiveManagerTest, SnapshotThenChangesInCommitOrderWithExactShapes) {
  Ok("INSERT INTO chat.msgs (id, room, body) VALUES (1, 'r1', 'hi'), (2, 'r2', 'yo')", alice_);
  auto sink = std::make_shared<RecordingSink>(7);
  SubscribeOptions o;
  o.snapshot = true;
  live_->Subscribe(sink, alice_, "m", "SELECT id, body FROM chat.msgs", o);
  auto m = sink->WaitFor(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].at("type"), "subscription_ack");
  EXPECT_EQ(S(m[0].at("schema")),
            R"([{"name":"id","data_type":"Int","index":0,"flags":["pk","nn","uq"]},)"
            R"({"name":"body","data_type":"Text","index":1},)"
            R"({"name":"_seq","data_type":"BigInt","index":2}])");
  EXPECT_EQ(m[1].at("type"), "initial_data_batch");
  const auto& rows = m[1].at("rows").as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("id"), 1);
  EXPECT_EQ(rows[0].at("body"), "hi");
  EXPECT_EQ(m[1].at("batch_control").at("status"), "ready");
  EXPECT_EQ(m[1].at("batch_control").at("has_more"), false);

  Ok("INSERT INTO chat.msgs (id, room, body) VALUES (3, 'r1', 'new')", alice_);
  Ok("UPDATE chat.msgs SET body = 'edited' WHERE id = 3", alice_);
  Ok("DELETE FROM chat.msgs WHERE id = 3", alice_);
  m = sink->WaitFor(5);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[2].at("change_type"), "insert");
  EXPECT_EQ(m[2].at("rows").as_array()[0].at("body"), "new");
  EXPECT_EQ(m[3].at("change_type"), "update");
  EXPECT_EQ(m[3].at("rows").as_array()[0].at("body"), "edited");
  EXPECT_EQ(m[3].at("old_values").as_array()[0].at("body"), "new");
  EXPECT_EQ(m[4].at("change_type"), "delete");
  EXPECT_EQ(m[4].at("old_values").as_array()[0].at("_deleted"), true);
  EXPECT_EQ(m[4].at("old_values").as_array()[0].at("id"), 3);
}

TEST_F(LiveManagerTest, OtherUsersWritesNeverReachASubscription) {
  auto sink = std::make_shared<RecordingSink>(1);
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", SubscribeOptions{});
  ASSERT_EQ(sink->WaitFor(1).size(), 1u);  // ack only (no options: no snapshot)
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'bob room')", bob_);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'alice room')", alice_);
  auto m = sink->WaitFor(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[1].at("rows").as_array()[0].at("room"), "alice room");
}

TEST_F(LiveManagerTest, FilterTransitionsBecomeInsertsAndDeletes) {
  auto sink = std::make_shared<RecordingSink>(1);
  live_->Subscribe(sink, alice_, "r1", "SELECT * FROM chat.msgs WHERE room = 'r1'",
                   SubscribeOptions{});
  sink->WaitFor(1);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'r2')", alice_);    // never matches
  Ok("UPDATE chat.msgs SET room = 'r1' WHERE id = 1", alice_);        // moves in → insert
  Ok("UPDATE chat.msgs SET body = 'x' WHERE id = 1", alice_);         // stays → update
  Ok("UPDATE chat.msgs SET room = 'r3' WHERE id = 1", alice_);        // moves out → delete
  auto m = sink->WaitFor(4);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[1].at("change_type"), "insert");
  EXPECT_EQ(m[2].at("change_type"), "update");
  EXPECT_EQ(m[3].at("change_type"), "delete");
  EXPECT_EQ(m[3].at("old_values").as_array()[0].at("room"), "r1");
}

TEST_F(LiveManagerTest, ResumeFromSeqReplaysChangesAndDeletesExactlyOnce) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a'), (2, 'b')", alice_);
  auto seq = Ok("SELECT max(_seq) FROM chat.msgs", alice_).results[0].rows_json;
  const int64_t from = std::stoll(seq.substr(2, seq.size() - 4));
  Ok("UPDATE chat.msgs SET room = 'a2' WHERE id = 1", alice_);
  Ok("DELETE FROM chat.msgs WHERE id = 2", alice_);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (3, 'c')", alice_);
  auto sink = std::make_shared<RecordingSink>(1);
  SubscribeOptions o;
  o.snapshot = true;
  o.from = from;
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", o);
  auto m = sink->WaitFor(3);
  ASSERT_EQ(m.size(), 3u);
  const auto& rows = m[1].at("rows").as_array();
  ASSERT_EQ(rows.size(), 2u);  // row 1 (updated) and row 3 (new)
  EXPECT_EQ(rows[0].at("room"), "a2");
  EXPECT_EQ(rows[1].at("room"), "c");
  EXPECT_EQ(m[2].at("change_type"), "delete");
  EXPECT_EQ(m[2].at("old_values").as_array()[0].at("id"), 2);
}

TEST_F(LiveManagerTest, DropTableIsRefusedWhileSubscribedAndListShowsChanges) {
  auto sink = std::make_shared<RecordingSink>(1);
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", SubscribeOptions{});
  sink->WaitFor(1);
  auto r = Run("DROP TABLE chat.msgs", root_);
  EXPECT_EQ(r.error.message(), "Cannot drop table 'chat.msgs': 1 live subscription(s) are active on it");
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);
  sink->WaitFor(2);
  auto list = live_->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].live_id, "alice-1-m");
  EXPECT_EQ(list[0].changes, 1u);
  Ok("KILL LIVE QUERY 'alice-1-m'", root_);
  EXPECT_EQ(live_->CountOnTable(list.empty() ? 0 : catalog_->snapshot()->FindTable("chat", "msgs")->table_id), 0u);
  Ok("DROP TABLE chat.msgs", root_);
}

TEST_F(LiveManagerTest, UnsupportedAndInvalidQueriesAreErrors) {
  auto sink = std::make_shared<RecordingSink>(1);
  live_->Subscribe(sink, alice_, "a", "SELECT * FROM chat.msgs ORDER BY id", SubscribeOptions{});
  live_->Subscribe(sink, alice_, "b", "SELECT * FROM chat.nope", SubscribeOptions{});
  live_->Subscribe(sink, alice_, "c", "SELECT * FROM chat.msgs WHERE (SELECT 1 FROM chat.msgs)",
                   SubscribeOptions{});
  auto m = sink->WaitFor(3);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].at("code"), "UNSUPPORTED");
  EXPECT_EQ(m[1].at("code"), "NOT_FOUND");
  EXPECT_EQ(m[2].at("code"), "INVALID_SQL");
}

}  // namespace
}  // namespace kalam::live

namespace kalam::live {
namespace {

// A sink whose queue takes `capacity` messages, plus a small reserve for control messages.
class FullSink : public RecordingSink {
 public:
  FullSink() : RecordingSink(9, 1) {}
  bool SendControl(std::string msg) override {
    std::lock_guard lock(control_mu);
    control.push_back(msg);
    return true;
  }
  std::vector<std::string> Control() {
    std::lock_guard lock(control_mu);
    return control;
  }
  std::mutex control_mu;
  std::vector<std::string> control;  // guarded by control_mu
};

TEST_F(LiveManagerTest, ASubscriberThatCannotKeepUpIsToldAndDroppedNeverSilentlyGapped) {
  auto sink = std::make_shared<FullSink>();
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", SubscribeOptions{});  // ack fills it
  sink->WaitFor(1);
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);
  for (int i = 0; i < 200 && sink->Control().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto control = sink->Control();
  ASSERT_EQ(control.size(), 1u);
  EXPECT_NE(control[0].find("\"code\":\"SUBSCRIBER_LAGGING\""), std::string::npos);
  EXPECT_TRUE(live_->List().empty());
}

}  // namespace
}  // namespace kalam::live

namespace kalam::live {
namespace {

TEST_F(LiveManagerTest, UnsubscribeAndCloseConnectionForgetEverything) {
  auto sink = std::make_shared<RecordingSink>(3);
  live_->Subscribe(sink, alice_, "a", "SELECT * FROM chat.msgs", SubscribeOptions{});
  live_->Subscribe(sink, alice_, "b", "SELECT * FROM chat.msgs", SubscribeOptions{});
  ASSERT_EQ(sink->WaitFor(2).size(), 2u);
  live_->Unsubscribe(3, "a");  // the map entry holding the subscription is erased while in use
  EXPECT_EQ(live_->List().size(), 1u);
  live_->CloseConnection(3);
  EXPECT_TRUE(live_->List().empty());
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);
  Ok("DROP TABLE chat.msgs", root_);  // nothing left on the table
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sink->WaitFor(3).size(), 2u);  // no change events after unsubscribing
}

}  // namespace
}  // namespace kalam::live

namespace kalam::live {
namespace {

// A sink that counts SendMany calls and, once limited, takes only `budget` more messages.
class BatchSink : public RecordingSink {
 public:
  explicit BatchSink(uint64_t id) : RecordingSink(id) {}
  size_t SendMany(std::vector<LiveEvent>& events) override {
    std::lock_guard lock(batch_mu_);
    ++calls_;
    size_t n = 0;
    while (n < events.size() && (!limited_ || budget_ > 0) && Send(events[n].Text())) {
      ++n;
      if (limited_) --budget_;
    }
    return n;
  }
  bool SendControl(std::string msg) override {
    std::lock_guard lock(batch_mu_);
    control_.push_back(msg);
    return true;
  }
  void Limit(size_t budget) {
    std::lock_guard lock(batch_mu_);
    limited_ = true;
    budget_ = budget;
  }
  size_t calls() {
    std::lock_guard lock(batch_mu_);
    return calls_;
  }
  std::vector<std::string> control() {
    std::lock_guard lock(batch_mu_);
    return control_;
  }

 private:
  std::mutex batch_mu_;
  size_t calls_ = 0;         // guarded by batch_mu_
  bool limited_ = false;     // guarded by batch_mu_
  size_t budget_ = 0;        // guarded by batch_mu_
  std::vector<std::string> control_;  // guarded by batch_mu_
};

// The change events in `messages` for subscription `sid`: (change_type, id) in arrival order.
std::vector<std::pair<std::string, int64_t>> EventsOf(const std::vector<json::object>& messages,
                                                      std::string_view sid) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& m : messages) {
    if (m.at("type") != "change" || m.at("subscription_id").as_string() != sid) continue;
    const auto& rows = m.contains("rows") ? m.at("rows") : m.at("old_values");
    out.emplace_back(std::string(m.at("change_type").as_string()),
                     rows.as_array()[0].at("id").as_int64());
  }
  return out;
}

TEST_F(LiveManagerTest, OneCommitReachesAConnectionInFewSendManyCallsInSubscriptionOrder) {
  auto sink = std::make_shared<BatchSink>(5);
  for (int s = 0; s < 10; ++s) {
    live_->Subscribe(sink, alice_, "s" + std::to_string(s), "SELECT * FROM chat.msgs",
                     SubscribeOptions{});
  }
  ASSERT_EQ(sink->WaitFor(10).size(), 10u);  // the acks
  std::string values;
  for (int i = 0; i < 20; ++i) values += (i ? ", (" : "(") + std::to_string(i) + ", 'r')";
  Ok("INSERT INTO chat.msgs (id, room) VALUES " + values, alice_);  // one commit, 20 changes
  auto m = sink->WaitFor(210);
  ASSERT_EQ(m.size(), 210u);
  std::vector<std::pair<std::string, int64_t>> expected;
  for (int i = 0; i < 20; ++i) expected.emplace_back("insert", i);
  for (int s = 0; s < 10; ++s) EXPECT_EQ(EventsOf(m, "s" + std::to_string(s)), expected) << s;
  // 200 events for one connection: handed over in batches of at most 128, not one by one.
  EXPECT_LE(sink->calls(), 2u);
  EXPECT_GE(sink->calls(), 1u);
}

TEST_F(LiveManagerTest, SubscriptionsWhoseEventsDidNotFitGetAPrefixThenLaggingOthersGoOn) {
  auto slow = std::make_shared<BatchSink>(1);
  auto fast = std::make_shared<BatchSink>(2);
  live_->Subscribe(slow, alice_, "b", "SELECT * FROM chat.msgs", SubscribeOptions{});
  live_->Subscribe(slow, alice_, "c", "SELECT * FROM chat.msgs", SubscribeOptions{});
  live_->Subscribe(fast, alice_, "a", "SELECT * FROM chat.msgs", SubscribeOptions{});
  ASSERT_EQ(slow->WaitFor(2).size(), 2u);
  ASSERT_EQ(fast->WaitFor(1).size(), 1u);
  slow->Limit(3);  // b0, c0, b1 fit; the rest does not
  Ok("INSERT INTO chat.msgs (id) VALUES (0), (1), (2), (3), (4)", alice_);
  auto a = fast->WaitFor(6);
  for (int i = 0; i < 200 && slow->control().size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto m = slow->WaitFor(5);
  EXPECT_EQ(EventsOf(m, "b"), (std::vector<std::pair<std::string, int64_t>>{{"insert", 0},
                                                                            {"insert", 1}}));
  EXPECT_EQ(EventsOf(m, "c"), (std::vector<std::pair<std::string, int64_t>>{{"insert", 0}}));
  auto control = slow->control();
  ASSERT_EQ(control.size(), 2u);
  // In the order their first refused event came: c1, then b2.
  for (size_t k = 0; k < 2; ++k) {
    const std::string sid = k == 0 ? "c" : "b";
    EXPECT_EQ(control[k], R"({"type":"error","subscription_id":")" + sid +
                              R"(","code":"SUBSCRIBER_LAGGING","message":"The subscriber fell )"
                              R"(behind and the subscription was closed; resubscribe with from )"
                              R"(= the last _seq received"})");
  }
  EXPECT_EQ(EventsOf(a, "a").size(), 5u);
  ASSERT_EQ(live_->List().size(), 1u);
  EXPECT_EQ(live_->List()[0].subscription_id, "a");
  // Nothing more for the dropped ones; the other subscriber goes on.
  Ok("INSERT INTO chat.msgs (id) VALUES (5)", alice_);
  EXPECT_EQ(EventsOf(fast->WaitFor(7), "a").back(), (std::pair<std::string, int64_t>{"insert", 5}));
  EXPECT_EQ(slow->WaitFor(6).size(), 5u);
  EXPECT_EQ(slow->control().size(), 2u);
}

TEST_F(LiveManagerTest, SharedFilterResultsAndBodiesNeverMixSubscriptionsUp) {
  auto sink = std::make_shared<RecordingSink>(3);
  const char* queries[] = {
      "SELECT * FROM chat.msgs WHERE room = 'a'",   "SELECT * FROM chat.msgs WHERE room = 'a'",
      "SELECT * FROM chat.msgs WHERE room = 'b'",   "SELECT * FROM chat.msgs",
      "SELECT id FROM chat.msgs WHERE room = 'a'",  "SELECT id, room FROM chat.msgs",
  };
  for (int s = 0; s < 6; ++s) {
    live_->Subscribe(sink, alice_, "q" + std::to_string(s), queries[s], SubscribeOptions{});
  }
  ASSERT_EQ(sink->WaitFor(6).size(), 6u);
  Ok("INSERT INTO chat.msgs (id, room, body) VALUES (1, 'a', 'x'), (2, 'b', 'y')", alice_);
  Ok("UPDATE chat.msgs SET room = 'b' WHERE id = 1", alice_);  // a → b
  auto m = sink->WaitFor(6 + 14);
  ASSERT_EQ(m.size(), 20u);
  using Events = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(EventsOf(m, "q0"), (Events{{"insert", 1}, {"delete", 1}}));
  EXPECT_EQ(EventsOf(m, "q1"), (Events{{"insert", 1}, {"delete", 1}}));
  EXPECT_EQ(EventsOf(m, "q2"), (Events{{"insert", 2}, {"insert", 1}}));
  EXPECT_EQ(EventsOf(m, "q3"), (Events{{"insert", 1}, {"insert", 2}, {"update", 1}}));
  EXPECT_EQ(EventsOf(m, "q4"), (Events{{"insert", 1}, {"delete", 1}}));
  EXPECT_EQ(EventsOf(m, "q5"), (Events{{"insert", 1}, {"insert", 2}, {"update", 1}}));
  // Each got its own projection.
  for (const auto& e : m) {
    if (e.at("type") != "change" || e.at("change_type") != "insert") continue;
    const auto& row = e.at("rows").as_array()[0].as_object();
    const std::string sid(e.at("subscription_id").as_string());
    if (sid == "q4") EXPECT_EQ(row.size(), 2u) << S(row);       // id, _seq
    else if (sid == "q5") EXPECT_EQ(row.size(), 3u) << S(row);  // id, room, _seq
    else EXPECT_EQ(row.size(), 4u) << S(row);                   // id, room, body, _seq
  }
}

// One sink object per subscription over one shared connection, as the WebSocket service makes
// them.
class FacadeSink : public LiveSink {
 public:
  explicit FacadeSink(std::shared_ptr<BatchSink> conn) : conn_(std::move(conn)) {}
  uint64_t connection_id() const override { return conn_->connection_id(); }
  bool Send(std::string json) override { return conn_->Send(std::move(json)); }
  size_t SendMany(std::vector<LiveEvent>& events) override { return conn_->SendMany(events); }
  void Close(uint16_t code, std::string reason) override { conn_->Close(code, reason); }

 private:
  std::shared_ptr<BatchSink> conn_;
};

TEST_F(LiveManagerTest, SubscriptionsOfOneConnectionShareItsBatchesWhicheverSinkTheyCameWith) {
  auto conn = std::make_shared<BatchSink>(8);
  auto other = std::make_shared<BatchSink>(9);
  for (int s = 0; s < 5; ++s) {  // interleaved with another connection's subscriptions
    live_->Subscribe(std::make_shared<FacadeSink>(conn), alice_, "s" + std::to_string(s),
                     "SELECT * FROM chat.msgs", SubscribeOptions{});
    live_->Subscribe(std::make_shared<FacadeSink>(other), alice_, "o" + std::to_string(s),
                     "SELECT * FROM chat.msgs", SubscribeOptions{});
  }
  ASSERT_EQ(conn->WaitFor(5).size(), 5u);
  ASSERT_EQ(other->WaitFor(5).size(), 5u);
  Ok("INSERT INTO chat.msgs (id) VALUES (1)", alice_);  // one change
  Ok("INSERT INTO chat.msgs (id) VALUES (2), (3)", alice_);  // two in one commit
  auto m = conn->WaitFor(5 + 15);
  ASSERT_EQ(m.size(), 20u);
  using Events = std::vector<std::pair<std::string, int64_t>>;
  for (int s = 0; s < 5; ++s) {
    EXPECT_EQ(EventsOf(m, "s" + std::to_string(s)),
              (Events{{"insert", 1}, {"insert", 2}, {"insert", 3}}));
  }
  EXPECT_EQ(other->WaitFor(20).size(), 20u);
  // One SendMany per connection per dispatch round (there may have been one or two rounds).
  EXPECT_LE(conn->calls(), 2u);
  EXPECT_LE(other->calls(), 2u);
}

}  // namespace
}  // namespace kalam::live
