// LiveConnection against the real server: initial data, change events, gzip frames, errors, and
// reconnect-resume with no lost or duplicated events under KILL LIVE QUERY and a server restart.
#include "kalam/live.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "kalam/client.h"
#include "test_server.h"

namespace kalam::client {
namespace {

using testing::TestServer;
using namespace std::chrono_literals;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

int64_t IntField(const LiveRow& row, const char* name) {
  const Value* v = row.Get(name);
  return v ? v->as_int() : -1;
}

// The subscriber's copy of a table (id → v, _seq) built only from events, plus every event's
// `_seq` for the exactly-once checks. Thread-safe.
class Mirror {
 public:
  void Apply(const LiveEvent& ev) {
    std::lock_guard lock(mu_);
    events_.push_back(ev);
    switch (ev.type) {
      case LiveEventType::kInitialRows:
      case LiveEventType::kInsert:
        for (const auto& r : ev.rows) rows_[IntField(r, "id")] = {IntField(r, "v"), r.seq()};
        break;
      case LiveEventType::kUpdate:
        for (const auto& r : ev.rows) {
          auto& row = rows_[IntField(r, "id")];
          if (r.Get("v")) row.first = IntField(r, "v");
          row.second = r.seq();
        }
        break;
      case LiveEventType::kDelete:
        for (const auto& r : ev.old_rows) {
          rows_.erase(IntField(r, "id"));
          deleted_[IntField(r, "id")] = r.seq();
        }
        break;
      default:
        break;
    }
  }

  std::map<int64_t, std::pair<int64_t, int64_t>> rows() const {
    std::lock_guard lock(mu_);
    return rows_;
  }
  std::map<int64_t, int64_t> deleted() const {
    std::lock_guard lock(mu_);
    return deleted_;
  }
  std::vector<LiveEvent> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // Events a resume delivered (rows and deletes missed while resubscribing).
  size_t catch_up_events() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& e : events_) n += e.catch_up;
    return n;
  }
  size_t count(LiveEventType type) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& e : events_) n += e.type == type;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<int64_t, std::pair<int64_t, int64_t>> rows_;
  std::map<int64_t, int64_t> deleted_;
  std::vector<LiveEvent> events_;
};

// The last `n` events, one per line, for a failure message.
std::string Tail(const std::vector<LiveEvent>& events, size_t n = 25) {
  std::string out;
  for (size_t i = events.size() > n ? events.size() - n : 0; i < events.size(); ++i) {
    const LiveEvent& e = events[i];
    out += "\n  " + std::string(LiveEventTypeName(e.type)) + " seq=" + std::to_string(e.seq) +
           " rows=" + std::to_string(e.rows.size() + e.old_rows.size()) +
           (e.catch_up ? " catch_up" : "") + (e.ready ? " ready" : "") +
           (e.error.ok() ? "" : " error=" + e.error.ToString());
  }
  return out;
}

// Every row-carrying event's `_seq`s: never twice, strictly increasing (catch-up included).
void ExpectExactlyOnceInOrder(const std::vector<LiveEvent>& events) {
  std::set<int64_t> seen;
  int64_t last = 0;
  for (const auto& ev : events) {
    const auto& rows = ev.type == LiveEventType::kDelete ? ev.old_rows : ev.rows;
    if (ev.type != LiveEventType::kInitialRows && ev.type != LiveEventType::kInsert &&
        ev.type != LiveEventType::kUpdate && ev.type != LiveEventType::kDelete) {
      continue;
    }
    for (const auto& r : rows) {
      const int64_t seq = r.seq();
      ASSERT_GT(seq, 0);
      EXPECT_TRUE(seen.insert(seq).second) << "duplicate _seq " << seq;
      EXPECT_GT(seq, last) << "out of order " << LiveEventTypeName(ev.type);
      last = seq;
    }
  }
}

class LiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer();
    ASSERT_EQ(server_->Start(), "");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    auto c = Client::Connect(server_->RootOptions());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
    ns_ = "live" + std::to_string(++counter_);
    Run("CREATE NAMESPACE " + ns_);
    Run("CREATE USER TABLE " + ns_ + ".t (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, note TEXT)");
  }

  SqlResponse Run(const std::string& sql, const std::vector<Param>& params = {}) {
    auto r = client_->Execute(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? *r : SqlResponse{};
  }

  // Server truth: id → (v, _seq) of live rows.
  std::map<int64_t, std::pair<int64_t, int64_t>> ServerRows() {
    std::map<int64_t, std::pair<int64_t, int64_t>> out;
    auto r = Run("SELECT id, v, _seq FROM " + ns_ + ".t LIMIT 1000");
    for (const auto& row : r.results[0].rows) {
      out[row[0].as_int()] = {row[1].as_int(), row[2].as_int()};
    }
    return out;
  }

  std::vector<std::string> LiveIds() {
    auto r = Run("SELECT live_id FROM system.live WHERE namespace_id = '" + ns_ + "'");
    std::vector<std::string> ids;
    if (r.results.empty()) return ids;
    for (const auto& row : r.results[0].rows) ids.push_back(row[0].as_string());
    return ids;
  }

  SubscribeRequest Request(bool initial = false) {
    SubscribeRequest req;
    req.id = "sub";
    req.sql = "SELECT * FROM " + ns_ + ".t";
    req.initial_data = initial;
    return req;
  }

  static TestServer* server_;
  static int counter_;
  std::unique_ptr<Client> client_;
  std::string ns_;
};

TestServer* LiveTest::server_ = nullptr;
int LiveTest::counter_ = 0;

TEST_F(LiveTest, InitialRowsInBatchesThenChangesInCommitOrder) {
  for (int i = 0; i < 250; i += 50) {
    std::string sql = "INSERT INTO " + ns_ + ".t (id, v) VALUES ";
    for (int k = i; k < i + 50; ++k) sql += (k > i ? ", (" : "(") + std::to_string(k) + ", 0)";
    Run(sql);
  }
  auto live = client_->OpenLive(LiveOptions{});
  SubscribeRequest req = Request(true);
  req.batch_size = 100;
  ASSERT_TRUE(live->Subscribe(req).ok());
  auto first = live->Next(10s);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->type, LiveEventType::kSubscribed);
  ASSERT_EQ(first->schema.size(), 4u);  // id, v, note, _seq
  EXPECT_EQ(first->schema[0].name, "id");
  EXPECT_TRUE(first->schema[0].primary_key);
  std::vector<size_t> batch_sizes;
  Mirror mirror;
  while (true) {
    auto ev = live->Next(10s);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    ASSERT_EQ(ev->type, LiveEventType::kInitialRows);
    EXPECT_FALSE(ev->catch_up);
    batch_sizes.push_back(ev->rows.size());
    mirror.Apply(*ev);
    if (ev->ready) break;
  }
  EXPECT_EQ(batch_sizes, (std::vector<size_t>{100, 100, 50}));
  EXPECT_EQ(mirror.rows().size(), 250u);

  Run("INSERT INTO " + ns_ + ".t (id, v, note) VALUES (1000, 1, 'new')");
  Run("UPDATE " + ns_ + ".t SET v = 2 WHERE id = 1000");
  Run("DELETE FROM " + ns_ + ".t WHERE id = 1000");
  std::vector<LiveEventType> types;
  for (int i = 0; i < 3; ++i) {
    auto ev = live->Next(10s);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    types.push_back(ev->type);
    mirror.Apply(*ev);
  }
  EXPECT_EQ(types, (std::vector<LiveEventType>{LiveEventType::kInsert, LiveEventType::kUpdate,
                                               LiveEventType::kDelete}));
  const auto events = mirror.events();
  const LiveEvent& ins = events[events.size() - 3];
  EXPECT_EQ(ins.rows[0].Get("note")->as_string(), "new");
  EXPECT_EQ(ins.rows[0].Get("v")->type(), TypeKind::kBigInt);
  const LiveEvent& upd = events[events.size() - 2];
  EXPECT_EQ(IntField(upd.rows[0], "v"), 2);
  EXPECT_EQ(IntField(upd.old_rows[0], "v"), 1);
  const LiveEvent& del = events.back();
  EXPECT_TRUE(del.old_rows[0].Get("_deleted")->as_bool());
  ExpectExactlyOnceInOrder(events);
  EXPECT_EQ(live->last_seq("sub"), del.seq);
  EXPECT_EQ(mirror.rows(), ServerRows());
}

TEST_F(LiveTest, LargeMessagesArriveGzippedOrPlainAndDecodeTheSame) {
  const std::string big(5000, 'x');
  for (bool compression : {true, false}) {
    LiveOptions o;
    o.compression = compression;
    auto live = client_->OpenLive(o);
    ASSERT_TRUE(live->Subscribe(Request()).ok());
    auto ack = live->Next(10s);
    ASSERT_TRUE(ack.ok() && ack->type == LiveEventType::kSubscribed);
    const int64_t id = compression ? 1 : 2;
    Run("INSERT INTO " + ns_ + ".t (id, v, note) VALUES ($1, 0, $2)", {id, big + "日本"});
    auto ev = live->Next(10s);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    ASSERT_EQ(ev->type, LiveEventType::kInsert);
    EXPECT_EQ(ev->rows[0].Get("note")->as_string(), big + "日本");
  }
}

TEST_F(LiveTest, ServerSideErrorsAreEventsAndLocalMisuseIsAStatus) {
  auto live = client_->OpenLive(LiveOptions{});
  SubscribeRequest missing;
  missing.id = "m";
  missing.sql = "SELECT * FROM " + ns_ + ".nope";
  ASSERT_TRUE(live->Subscribe(missing).ok());
  auto ev = live->Next(10s);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->type, LiveEventType::kError);
  EXPECT_EQ(ev->subscription_id, "m");
  EXPECT_EQ(ev->error.server_code(), "NOT_FOUND");
  EXPECT_EQ(ev->error.code(), StatusCode::kNotFound);

  ASSERT_TRUE(live->Subscribe(Request()).ok());
  EXPECT_EQ(live->Subscribe(Request()).code(), StatusCode::kInvalidArgument);  // duplicate id
  SubscribeRequest empty;
  empty.id = "e";
  EXPECT_EQ(live->Subscribe(empty).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(live->Unsubscribe("unknown").code(), StatusCode::kNotFound);
  EXPECT_TRUE(live->Unsubscribe("sub").ok());
  live->Close();
  live->Close();  // idempotent
  auto after = live->Next(100ms);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kClosed);
  EXPECT_EQ(live->Subscribe(Request()).code(), StatusCode::kClosed);
}

TEST_F(LiveTest, CallbackApiDeliversOnTheConnectionThread) {
  Mirror mirror;
  std::atomic<std::thread::id> callback_thread{};
  LiveOptions o;
  o.on_event = [&](const LiveEvent& ev) {
    callback_thread = std::this_thread::get_id();
    mirror.Apply(ev);
  };
  auto live = client_->OpenLive(o);
  ASSERT_TRUE(live->Subscribe(Request()).ok());
  ASSERT_TRUE(WaitFor([&] { return mirror.count(LiveEventType::kSubscribed) == 1; }));
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (7, 7)");
  ASSERT_TRUE(WaitFor([&] { return mirror.count(LiveEventType::kInsert) == 1; }));
  EXPECT_NE(callback_thread.load(), std::this_thread::get_id());
  EXPECT_EQ(live->Next(10ms).status().code(), StatusCode::kTimeout);  // nothing queued
  live->Close();
}

TEST_F(LiveTest, StartsFromAPersistedSeq) {
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (1, 1)");
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (2, 2)");
  const int64_t after_two = ServerRows()[2].second;
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (3, 3)");
  Run("DELETE FROM " + ns_ + ".t WHERE id = 1");
  auto live = client_->OpenLive(LiveOptions{});
  SubscribeRequest req = Request();
  req.from = after_two;
  ASSERT_TRUE(live->Subscribe(req).ok());
  Mirror mirror;
  ASSERT_TRUE(WaitFor([&] {
    auto ev = live->Next(50ms);
    if (ev.ok()) mirror.Apply(*ev);
    return mirror.deleted().count(1) == 1;
  }));
  const auto rows = mirror.rows();
  EXPECT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows.count(3));  // rows 1 and 2 were delivered before `from`
  for (const auto& ev : mirror.events()) {
    if (ev.type == LiveEventType::kInitialRows || ev.type == LiveEventType::kDelete) {
      EXPECT_TRUE(ev.catch_up);
    }
  }
}

// Inserts only: every row arrives exactly once although the subscription is killed over and
// over while the writer runs.
TEST_F(LiveTest, InsertStreamSurvivesRepeatedKillsWithEveryRowExactlyOnce) {
  Mirror mirror;
  LiveOptions o;
  o.on_event = [&](const LiveEvent& ev) { mirror.Apply(ev); };
  auto live = client_->OpenLive(o);
  ASSERT_TRUE(live->Subscribe(Request()).ok());
  ASSERT_TRUE(WaitFor([&] { return mirror.count(LiveEventType::kSubscribed) == 1; }));
  std::atomic<bool> writing{true};
  std::atomic<int> kills{0};
  auto kill_all = [&](Client& c) {
    for (const auto& id : LiveIds()) {
      if (c.Execute("KILL LIVE QUERY '" + id + "'").ok()) ++kills;
    }
  };
  std::thread killer([&] {  // at random moments
    auto c = Client::Connect(server_->RootOptions());
    while (writing) {
      std::this_thread::sleep_for(37ms);
      kill_all(**c);
    }
  });
  constexpr int kRows = 400;
  for (int i = 0; i < kRows; ++i) {
    Run("INSERT INTO " + ns_ + ".t (id, v) VALUES ($1, $2)", {i, i});
    if (i % 25 == 24) kill_all(*client_);  // and between writes
  }
  writing = false;
  killer.join();
  EXPECT_GE(kills.load(), 8);
  ASSERT_TRUE(WaitFor([&] { return mirror.rows().size() == kRows; }))
      << "got " << mirror.rows().size() << " rows, " << mirror.count(LiveEventType::kError)
      << " errors, " << kills.load() << " kills; live queries: " << LiveIds().size()
      << "; last events:" << Tail(mirror.events());
  std::this_thread::sleep_for(300ms);  // nothing more may arrive
  EXPECT_EQ(mirror.rows(), ServerRows());
  std::multiset<int64_t> ids;
  for (const auto& ev : mirror.events()) {
    for (const auto& r : ev.rows) ids.insert(IntField(r, "id"));
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRows));  // no duplicates
  for (int i = 0; i < kRows; ++i) EXPECT_EQ(ids.count(i), 1u) << i;
  EXPECT_GT(mirror.catch_up_events(), 0u);  // the resume path really ran
  ExpectExactlyOnceInOrder(mirror.events());
  live->Close();
}

// Inserts, updates and deletes under repeated kills: the subscriber's mirror converges to the
// server's table, newest `_seq` per row included, with no event seen twice or out of order.
TEST_F(LiveTest, MixedWritesUnderRepeatedKillsConvergeExactly) {
  Mirror mirror;
  LiveOptions o;
  o.on_event = [&](const LiveEvent& ev) { mirror.Apply(ev); };
  auto live = client_->OpenLive(o);
  // Tiny batches: a catch-up spans several next_batch round trips, with its deletes between
  // them, so kills land inside it.
  SubscribeRequest req = Request(true);
  req.batch_size = 3;
  ASSERT_TRUE(live->Subscribe(req).ok());
  ASSERT_TRUE(WaitFor([&] { return mirror.count(LiveEventType::kSubscribed) == 1; }));
  std::atomic<bool> writing{true};
  std::atomic<int> kills{0};
  auto kill_all = [&](Client& c) {
    for (const auto& id : LiveIds()) {
      if (c.Execute("KILL LIVE QUERY '" + id + "'").ok()) ++kills;
    }
  };
  std::thread killer([&] {
    auto c = Client::Connect(server_->RootOptions());
    while (writing) {
      std::this_thread::sleep_for(41ms);
      kill_all(**c);
    }
  });
  std::mt19937 rng(42);
  std::vector<int64_t> live_keys;
  int64_t next_key = 0;
  for (int op = 0; op < 600; ++op) {
    const int dice = static_cast<int>(rng() % 10);
    if (live_keys.size() < 5 || dice < 4) {
      Run("INSERT INTO " + ns_ + ".t (id, v) VALUES ($1, $2)", {next_key, op});
      live_keys.push_back(next_key++);
    } else {
      const size_t pick = rng() % live_keys.size();
      if (dice < 8) {
        Run("UPDATE " + ns_ + ".t SET v = $1 WHERE id = $2", {op, live_keys[pick]});
      } else {
        Run("DELETE FROM " + ns_ + ".t WHERE id = $1", {live_keys[pick]});
        live_keys.erase(live_keys.begin() + static_cast<long>(pick));
      }
    }
    if (op % 40 == 39) kill_all(*client_);
  }
  writing = false;
  killer.join();
  EXPECT_GE(kills.load(), 10);
  const auto truth = ServerRows();
  ASSERT_TRUE(WaitFor([&] { return mirror.rows() == truth; }))
      << "mirror has " << mirror.rows().size() << " rows, server " << truth.size()
      << "; live queries: " << LiveIds().size() << "; last events:" << Tail(mirror.events());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(mirror.rows(), truth);
  // Every delete's tombstone `_seq` matches the server's.
  auto tomb = Run("SELECT id, _seq FROM " + ns_ + ".t WHERE _deleted = true LIMIT 1000");
  const auto deleted = mirror.deleted();
  for (const auto& row : tomb.results[0].rows) {
    auto it = deleted.find(row[0].as_int());
    ASSERT_NE(it, deleted.end()) << "delete of " << row[0].as_int() << " never arrived";
    EXPECT_EQ(it->second, row[1].as_int());
  }
  EXPECT_GT(mirror.catch_up_events(), 0u);
  ExpectExactlyOnceInOrder(mirror.events());
  live->Close();
}

// The server goes away and comes back; rows written and deleted while the client was
// disconnected arrive exactly once after it reconnects by itself.
TEST_F(LiveTest, ResumesAcrossAServerRestart) {
  Mirror mirror;
  LiveOptions o;
  o.on_event = [&](const LiveEvent& ev) { mirror.Apply(ev); };
  // The first reconnect attempt comes 2.5 s after the drop: the restart and the writes below
  // happen while the client is away.
  o.reconnect_min_delay = 2500ms;
  o.reconnect_max_delay = 2500ms;
  auto live = client_->OpenLive(o);
  ASSERT_TRUE(live->Subscribe(Request(true)).ok());
  ASSERT_TRUE(WaitFor([&] { return mirror.count(LiveEventType::kInitialRows) == 1; }));
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (1, 1)");
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (2, 2)");
  ASSERT_TRUE(WaitFor([&] { return mirror.rows().size() == 2; }));

  server_->Stop();
  ASSERT_TRUE(WaitFor([&] { return mirror.count(LiveEventType::kDisconnected) >= 1; }));
  ASSERT_EQ(server_->Start(), "");
  auto c = Client::Connect(server_->RootOptions());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  client_ = std::move(*c);
  // Written while the client is still away.
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (3, 3)");
  Run("UPDATE " + ns_ + ".t SET v = 20 WHERE id = 2");
  Run("DELETE FROM " + ns_ + ".t WHERE id = 1");
  ASSERT_TRUE(WaitFor([&] { return live->connected() && live->reconnects() >= 1; }));
  Run("INSERT INTO " + ns_ + ".t (id, v) VALUES (4, 4)");
  const auto truth = ServerRows();
  ASSERT_TRUE(WaitFor([&] { return mirror.rows() == truth; }))
      << "mirror has " << mirror.rows().size() << " rows";
  EXPECT_EQ(mirror.deleted().count(1), 1u);
  EXPECT_GE(mirror.count(LiveEventType::kReconnected), 1u);
  EXPECT_GE(mirror.catch_up_events(), 2u);  // rows 3 and 2, and the delete of 1
  ExpectExactlyOnceInOrder(mirror.events());
  live->Close();
}

}  // namespace
}  // namespace kalam::client
