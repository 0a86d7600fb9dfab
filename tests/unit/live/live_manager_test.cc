// Tests for the live-query manager over the in-process stack, with a recording sink.
#include "live/live_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
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
  bool SendError(std::string_view subscription_id, std::string_view code,
                 std::string_view message, bool control) override {
    std::string msg = json::serialize(json::object{
        {"type", "error"}, {"subscription_id", subscription_id}, {"code", code},
        {"message", message}});
    return control ? SendControl(std::move(msg)) : Send(std::move(msg));
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
    live_ = std::make_unique<LiveManager>(*catalog_, *exec_, pipeline_, clock_, live_options_);
    ASSERT_TRUE(live_->Start().ok());
    exec_->set_live_registry(live_.get());
    Ok("CREATE NAMESPACE chat", root_);
    Ok("CREATE USER TABLE chat.msgs (id INT PRIMARY KEY, room TEXT, body TEXT)", root_);
  }
  void TearDown() override { live_->Stop(); }
  // The newest `_seq` of alice's rows of chat.msgs (tombstones included).
  int64_t MaxSeq() {
    auto r = Ok("SELECT max(_seq) FROM chat.msgs WHERE _deleted >= 0", alice_);
    const std::string& j = r.results[0].rows_json;  // ["<seq>"]
    return std::stoll(j.substr(2, j.size() - 4));
  }
  // Alice resumes subscription "m" to `query` after `from`, on connection 1; returns its sink.
  std::shared_ptr<RecordingSink> Resume(int64_t from,
                                        const std::string& query = "SELECT * FROM chat.msgs",
                                        uint32_t batch_size = 1000) {
    auto sink = std::make_shared<RecordingSink>(1);
    SubscribeOptions o;
    o.snapshot = true;
    o.batch_size = batch_size;
    o.from = from;
    live_->Subscribe(sink, alice_, "m", query, o);
    return sink;
  }
  LiveManagerOptions live_options_;  // set by a derived fixture before SetUp
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
  const int64_t from = MaxSeq();
  Ok("UPDATE chat.msgs SET room = 'a2' WHERE id = 1", alice_);
  Ok("DELETE FROM chat.msgs WHERE id = 2", alice_);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (3, 'c')", alice_);
  auto sink = Resume(from);
  auto m = sink->WaitFor(3);
  ASSERT_EQ(m.size(), 3u);
  const auto& rows = m[1].at("rows").as_array();
  ASSERT_EQ(rows.size(), 1u);  // row 1 (updated), then the delete of 2 at its place
  EXPECT_EQ(rows[0].at("room"), "a2");
  EXPECT_EQ(m[1].at("batch_control").at("has_more"), true);
  EXPECT_EQ(m[2].at("change_type"), "delete");
  EXPECT_EQ(m[2].at("old_values").as_array()[0].at("id"), 2);
  live_->NextBatch(1, "m");
  m = sink->WaitFor(4);
  ASSERT_EQ(m.size(), 4u);
  ASSERT_EQ(m[3].at("rows").as_array().size(), 1u);  // row 3 (new)
  EXPECT_EQ(m[3].at("rows").as_array()[0].at("room"), "c");
  EXPECT_EQ(m[3].at("batch_control").at("status"), "ready");
}

// A cluster node behind the client: the client resumes with the position it got from a node that
// had applied more (docs/cluster.md, "Live queries"). What this node applies later up to that
// position, the client has already; only what follows it is sent.
TEST_F(LiveManagerTest, ResumeFromASeqThisNodeHasNotAppliedYetSendsNothingTwice) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a')", alice_);
  const int64_t from = MaxSeq() + (int64_t{1} << 40);  // far above the next `_seq`s stamped here
  auto sink = Resume(from);
  auto m = sink->WaitFor(2);
  ASSERT_EQ(m.size(), 2u);  // the ack, then an empty last batch: nothing here is newer
  EXPECT_EQ(m[1].at("type"), "initial_data_batch");
  EXPECT_EQ(m[1].at("rows").as_array().size(), 0u);
  EXPECT_EQ(m[1].at("batch_control").at("status"), "ready");
  // This node catches up to the client's position: the changes it applies the client has.
  Ok("INSERT INTO chat.msgs (id, room) VALUES (2, 'b')", alice_);
  Ok("UPDATE chat.msgs SET room = 'a2' WHERE id = 1", alice_);
  Ok("DELETE FROM chat.msgs WHERE id = 2", alice_);
  ASSERT_LT(MaxSeq(), from);
  // As a replica applying the group at `from` does, which advances the `_seq` generator past it.
  ASSERT_TRUE(pipeline_.ApplyGroup(storage::WriteBatch{}, {}, from).ok());
  Ok("INSERT INTO chat.msgs (id, room) VALUES (3, 'c')", alice_);
  ASSERT_GT(MaxSeq(), from);
  m = sink->WaitFor(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // nothing else may follow
  m = sink->WaitFor(3);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[2].at("change_type"), "insert");
  EXPECT_EQ(m[2].at("rows").as_array()[0].at("id"), 3);
  EXPECT_GT(std::stoll(std::string(m[2].at("rows").as_array()[0].at("_seq").as_string())), from);
}

TEST_F(LiveManagerTest, DropTableIsRefusedWhileSubscribedAndListShowsChanges) {
  auto sink = std::make_shared<RecordingSink>(1);
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", SubscribeOptions{});
  sink->WaitFor(1);
  auto r = Run("DROP TABLE chat.msgs", root_);
  EXPECT_EQ(r.error.message(), "Statement 1 failed: Invalid operation: Cannot drop table 'chat.msgs': 1 live "
            "subscription(s) are active on it");
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
  const size_t ack_calls = sink->calls();
  std::string values;
  for (int i = 0; i < 20; ++i) values += (i ? ", (" : "(") + std::to_string(i) + ", 'r')";
  Ok("INSERT INTO chat.msgs (id, room) VALUES " + values, alice_);  // one commit, 20 changes
  auto m = sink->WaitFor(210);
  ASSERT_EQ(m.size(), 210u);
  std::vector<std::pair<std::string, int64_t>> expected;
  for (int i = 0; i < 20; ++i) expected.emplace_back("insert", i);
  for (int s = 0; s < 10; ++s) EXPECT_EQ(EventsOf(m, "s" + std::to_string(s)), expected) << s;
  // 200 events for one connection: handed over in batches of at most 128, not one by one.
  EXPECT_LE(sink->calls() - ack_calls, 2u);
  EXPECT_GE(sink->calls() - ack_calls, 1u);
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
  bool SendError(std::string_view subscription_id, std::string_view code,
                 std::string_view message, bool control) override {
    return conn_->SendError(subscription_id, code, message, control);
  }
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
  const size_t conn_ack_calls = conn->calls(), other_ack_calls = other->calls();
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
  EXPECT_LE(conn->calls() - conn_ack_calls, 2u);
  EXPECT_LE(other->calls() - other_ack_calls, 2u);
}

}  // namespace
}  // namespace kalam::live

namespace kalam::live {
namespace {

// What a subscription delivered, message by message: for a batch its rows' `_seq`s and its
// last_seq_id, for a change event its row's `_seq`.
struct Delivered {
  std::string what;  // "ack", "batch:<status>", "insert", "update", "delete"
  std::vector<int64_t> seqs;
  std::optional<int64_t> last_seq_id;  // ack and batch
  std::vector<int64_t> ids;
};

std::optional<int64_t> LastSeqId(const json::object& m) {
  const auto& v = m.at("batch_control").at("last_seq_id");
  if (v.is_null()) return std::nullopt;
  return v.as_int64();
}

std::vector<Delivered> Describe(const std::vector<json::object>& messages) {
  std::vector<Delivered> out;
  for (const auto& m : messages) {
    Delivered d;
    const std::string type(m.at("type").as_string());
    auto rows = [&](const char* key) {
      for (const auto& r : m.at(key).as_array()) {
        d.seqs.push_back(std::stoll(std::string(r.at("_seq").as_string())));
        d.ids.push_back(r.at("id").as_int64());
      }
    };
    if (type == "subscription_ack") {
      d.what = "ack";
      d.last_seq_id = LastSeqId(m);
    } else if (type == "initial_data_batch") {
      d.what = "batch:" + std::string(m.at("batch_control").at("status").as_string());
      d.last_seq_id = LastSeqId(m);
      rows("rows");
    } else {
      d.what = std::string(m.at("change_type").as_string());
      rows(d.what == "delete" ? "old_values" : "rows");
    }
    out.push_back(std::move(d));
  }
  return out;
}

// The delivered messages as "kind(ids)" words: "ack() batch:loading(1,2) delete(3) …".
std::string Summary(const std::vector<Delivered>& delivered) {
  std::string out;
  for (const auto& d : delivered) {
    out += (out.empty() ? "" : " ") + d.what + "(";
    for (size_t i = 0; i < d.ids.size(); ++i) out += (i ? "," : "") + std::to_string(d.ids[i]);
    out += ")";
  }
  return out;
}

// Every `_seq` delivered is larger than all before it, and every last_seq_id names one delivered
// (at or below the largest so far).
void ExpectStrictlyIncreasing(const std::vector<Delivered>& delivered) {
  int64_t max = 0;
  for (size_t i = 0; i < delivered.size(); ++i) {
    for (int64_t seq : delivered[i].seqs) {
      EXPECT_GT(seq, max) << "message " << i << " (" << delivered[i].what << ")";
      max = std::max(max, seq);
    }
    if (delivered[i].what != "ack" && delivered[i].last_seq_id) {
      EXPECT_EQ(*delivered[i].last_seq_id, max) << "message " << i;
    }
  }
}

TEST_F(LiveManagerTest, AResumeDeliversRowsAndDeletesInOneStrictlyIncreasingSeqOrder) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a'), (2, 'a'), (3, 'a')", alice_);
  const int64_t from = MaxSeq();
  Ok("DELETE FROM chat.msgs WHERE id = 1", alice_);                  // d1
  Ok("INSERT INTO chat.msgs (id, room) VALUES (4, 'a')", alice_);    // r4
  Ok("UPDATE chat.msgs SET room = 'b' WHERE id = 2", alice_);        // r2
  Ok("DELETE FROM chat.msgs WHERE id = 3", alice_);                  // d3
  Ok("INSERT INTO chat.msgs (id, room) VALUES (5, 'a')", alice_);    // r5
  auto sink = Resume(from);
  ASSERT_EQ(sink->WaitFor(3).size(), 3u);
  // Flow control: nothing more before next_batch.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_EQ(sink->WaitFor(3).size(), 3u);
  live_->NextBatch(1, "m");
  ASSERT_EQ(sink->WaitFor(5).size(), 5u);
  live_->NextBatch(1, "m");
  auto m = sink->WaitFor(6);
  ASSERT_EQ(m.size(), 6u);
  const auto d = Describe(m);
  EXPECT_EQ(Summary(d),
            "ack() batch:loading() delete(1) batch:loading_batch(4,2) delete(3) batch:ready(5)");
  EXPECT_FALSE(d[0].last_seq_id);  // nothing delivered yet
  EXPECT_FALSE(d[1].last_seq_id);  // an empty first batch
  EXPECT_EQ(d[5].seqs.back(), MaxSeq());
  ExpectStrictlyIncreasing(d);
}

TEST_F(LiveManagerTest, AResumeEndingInDeletesSendsReadyAfterThemAndHeldChangesAfterThat) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a'), (2, 'a')", alice_);
  const int64_t from = MaxSeq();
  Ok("INSERT INTO chat.msgs (id, room) VALUES (3, 'a')", alice_);
  Ok("DELETE FROM chat.msgs WHERE id = 1", alice_);
  Ok("DELETE FROM chat.msgs WHERE id = 2", alice_);
  auto sink = Resume(from);
  ASSERT_EQ(sink->WaitFor(4).size(), 4u);  // ack, batch [3], delete 1, delete 2
  Ok("INSERT INTO chat.msgs (id, room) VALUES (6, 'a')", alice_);  // held
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  ASSERT_EQ(sink->WaitFor(4).size(), 4u);
  live_->NextBatch(1, "m");
  auto m = sink->WaitFor(6);
  ASSERT_EQ(m.size(), 6u);
  const auto d = Describe(m);
  EXPECT_EQ(Summary(d), "ack() batch:loading(3) delete(1) delete(2) batch:ready() insert(6)");
  EXPECT_EQ(d[4].last_seq_id, d[3].seqs[0]);  // the last delete: delivered
  ExpectStrictlyIncreasing(d);
}

TEST_F(LiveManagerTest, ResumeStepsHoldAtMostBatchSizeItemsAndFilterExitsAreDeletesInPlace) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a'), (2, 'a'), (3, 'a'), (4, 'a')", alice_);
  const int64_t from = MaxSeq();
  Ok("UPDATE chat.msgs SET room = 'x' WHERE id = 1", alice_);  // leaves the filter
  Ok("UPDATE chat.msgs SET room = 'x' WHERE id = 2", alice_);
  Ok("UPDATE chat.msgs SET room = 'x' WHERE id = 3", alice_);
  Ok("UPDATE chat.msgs SET body = 'b' WHERE id = 4", alice_);  // stays in
  Ok("INSERT INTO chat.msgs (id, room) VALUES (5, 'x')", alice_);  // never in
  auto sink = Resume(from, "SELECT * FROM chat.msgs WHERE room = 'a'", 2);
  // Items after `from`: d1 d2 d3 r4 d5. Steps: [] d1 d2 | [] d3 | [r4] d5 | [] ready.
  std::vector<json::object> m;
  for (size_t want : {4u, 6u, 8u, 9u}) {
    m = sink->WaitFor(want);
    ASSERT_EQ(m.size(), want);
    if (want < 9) live_->NextBatch(1, "m");
  }
  const auto d = Describe(m);
  EXPECT_EQ(Summary(d),
            "ack() batch:loading() delete(1) delete(2) batch:loading_batch() delete(3) "
            "batch:loading_batch(4) delete(5) batch:ready()");
  EXPECT_EQ(m[8].at("batch_control").at("has_more"), false);
  ExpectStrictlyIncreasing(d);
}

TEST_F(LiveManagerTest, AChangesOnlyAckNamesTheReadPoint) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a')", alice_);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'bob')", bob_);  // another scope, later
  auto before = Ok("SELECT max(_seq) FROM chat.msgs", bob_).results[0].rows_json;
  const int64_t newest = std::stoll(before.substr(2, before.size() - 4));
  auto sink = std::make_shared<RecordingSink>(1);
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", SubscribeOptions{});
  auto m = sink->WaitFor(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].at("batch_control").at("status"), "ready");
  // Every commit before the subscription is at or below it (bob's too: a position, not a row).
  EXPECT_EQ(LastSeqId(m[0]), newest);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (2, 'a')", alice_);
  m = sink->WaitFor(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_GT(std::stoll(std::string(m[1].at("rows").as_array()[0].at("_seq").as_string())),
            newest);
}

TEST_F(LiveManagerTest, SnapshotBatchesNameOnlyWhatTheyDelivered) {
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a'), (2, 'a'), (3, 'a')", alice_);
  auto sink = std::make_shared<RecordingSink>(1);
  SubscribeOptions o;
  o.snapshot = true;
  o.batch_size = 2;
  live_->Subscribe(sink, alice_, "m", "SELECT * FROM chat.msgs", o);
  ASSERT_EQ(sink->WaitFor(2).size(), 2u);
  live_->NextBatch(1, "m");
  const auto d = Describe(sink->WaitFor(3));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_FALSE(d[0].last_seq_id);  // the ack comes before any row
  EXPECT_EQ(d[1].last_seq_id, d[1].seqs.back());
  EXPECT_EQ(d[2].what, "batch:ready");
  ExpectStrictlyIncreasing(d);
}

class UnlimitedPerUserTest : public LiveManagerTest {
 protected:
  void SetUp() override {
    live_options_.max_subscriptions_per_user = 0;
    live_options_.max_subscriptions_per_connection = 12;
    LiveManagerTest::SetUp();
  }
};

TEST_F(UnlimitedPerUserTest, ZeroSubscriptionsPerUserMeansUnlimited) {
  auto a = std::make_shared<RecordingSink>(1);
  auto b = std::make_shared<RecordingSink>(2);
  for (int i = 0; i < 12; ++i) {
    live_->Subscribe(a, alice_, "a" + std::to_string(i), "SELECT * FROM chat.msgs", {});
    live_->Subscribe(b, alice_, "b" + std::to_string(i), "SELECT * FROM chat.msgs", {});
  }
  for (const auto& m : a->WaitFor(12)) EXPECT_EQ(m.at("type"), "subscription_ack") << S(m);
  EXPECT_EQ(live_->List().size(), 24u);
  live_->Subscribe(a, alice_, "a12", "SELECT * FROM chat.msgs", {});  // the connection limit
  auto m = a->WaitFor(13);
  ASSERT_EQ(m.size(), 13u);
  EXPECT_EQ(m[12].at("code"), "SUBSCRIPTION_LIMIT_EXCEEDED");
  EXPECT_EQ(m[12].at("message"), "Too many subscriptions on this connection (at most 12)");
}

}  // namespace
}  // namespace kalam::live
