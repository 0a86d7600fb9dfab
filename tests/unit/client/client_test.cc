// Client over HTTP against the real server: login, typed results, params, errors, token refresh,
// thread safety, unreachable servers.
#include "kalam/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "test_server.h"

namespace kalam::client {
namespace {

using testing::TestServer;

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new TestServer();
    const std::string err = server_->Start();
    ASSERT_EQ(err, "");
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
  }

  SqlResponse Run(std::string_view sql, const std::vector<Param>& params = {}) {
    auto r = client_->Execute(sql, params);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? *r : SqlResponse{};
  }

  static TestServer* server_;
  std::unique_ptr<Client> client_;
};

TestServer* ClientTest::server_ = nullptr;

TEST_F(ClientTest, LoginRecordsUserRoleAndTokens) {
  EXPECT_EQ(client_->user(), "root");
  EXPECT_EQ(client_->role(), "system");
  const Tokens t = client_->tokens();
  EXPECT_FALSE(t.access_token.empty());
  EXPECT_FALSE(t.refresh_token.empty());
  EXPECT_GT(t.access_expires_at, std::time(nullptr));
  EXPECT_GT(t.refresh_expires_at, t.access_expires_at);
  EXPECT_EQ(client_->url(), server_->url());
}

TEST_F(ClientTest, ResultsAreTypedByTheirSchema) {
  Run("CREATE NAMESPACE IF NOT EXISTS typed");
  Run("CREATE SHARED TABLE IF NOT EXISTS typed.t (id BIGINT PRIMARY KEY, n INT, d DOUBLE, "
      "b BOOLEAN, s TEXT, ts TIMESTAMP, raw BYTES, dec DECIMAL(10,2))");
  Run("INSERT INTO typed.t (id, n, d, b, s, ts, raw, dec) VALUES "
      "($1, $2, $3, $4, $5, $6, $7, $8)",
      {Param(9007199254740993LL), 7, 2.5, true, "日本", "2026-05-01T12:00:00Z", "hi", "200.75"});
  auto r = Run("SELECT id, n, d, b, s, ts, raw, dec, _seq FROM typed.t");
  ASSERT_EQ(r.results.size(), 1u);
  const QueryResult& q = r.results[0];
  ASSERT_EQ(q.columns.size(), 9u);
  EXPECT_EQ(q.columns[0].name, "id");
  EXPECT_EQ(q.columns[0].type.kind, TypeKind::kBigInt);
  EXPECT_TRUE(q.columns[0].primary_key);
  EXPECT_EQ(q.columns[7].type.ToString(), "Decimal(10,2)");
  ASSERT_EQ(q.rows.size(), 1u);
  const auto& row = q.rows[0];
  EXPECT_EQ(row[0].as_int(), 9007199254740993LL);  // beyond 2^53: exact through the string form
  EXPECT_EQ(row[1].as_int(), 7);
  EXPECT_EQ(row[2].as_double(), 2.5);
  EXPECT_TRUE(row[3].as_bool());
  EXPECT_EQ(row[4].as_string(), "日本");
  EXPECT_EQ(row[5].type(), TypeKind::kTimestamp);
  EXPECT_EQ(row[5].ToString(), "2026-05-01 12:00:00");
  EXPECT_EQ(row[6].as_bytes(), (std::vector<uint8_t>{'h', 'i'}));
  EXPECT_EQ(row[7].as_string(), "200.75");
  EXPECT_GT(row[8].as_int(), 0);
  EXPECT_EQ(q.row_count, 1);
  EXPECT_EQ(q.as_user, "root");
  EXPECT_GE(r.took_ms, 0.0);
}

TEST_F(ClientTest, DmlAndDdlResultsCarryMessages) {
  auto r = Run("CREATE NAMESPACE IF NOT EXISTS msgs; "
               "CREATE SHARED TABLE IF NOT EXISTS msgs.t (id INT PRIMARY KEY)");
  ASSERT_EQ(r.results.size(), 2u);
  auto ins = Run("INSERT INTO msgs.t (id) VALUES (1), (2)");
  ASSERT_EQ(ins.results.size(), 1u);
  EXPECT_EQ(*ins.results[0].message, "Inserted 2 row(s)");
  EXPECT_EQ(ins.results[0].row_count, 2);
  EXPECT_TRUE(ins.results[0].columns.empty());
}

TEST_F(ClientTest, NamespaceOfTheClientAndOfOneCall) {
  Run("CREATE NAMESPACE IF NOT EXISTS nsa; CREATE SHARED TABLE IF NOT EXISTS nsa.t (id INT PRIMARY KEY)");
  Run("INSERT INTO nsa.t (id) VALUES (5)");
  QueryOptions o;
  o.namespace_id = "nsa";
  auto r = client_->Execute("SELECT id FROM t", {}, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->results[0].rows[0][0].as_int(), 5);
  client_->set_current_namespace("nsa");
  EXPECT_TRUE(client_->Execute("SELECT id FROM t").ok());
  client_->set_current_namespace("");
  auto missing = client_->Execute("SELECT id FROM t");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(ClientTest, SqlErrorsCarryTheServerCodeAndMessage) {
  auto r = client_->Execute("SELECT * FROM default.no_such_table");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().server_code(), "TABLE_NOT_FOUND");
  EXPECT_EQ(r.status().message(), "Statement 1 failed: Not found: Table 'default.no_such_table' does not exist");
  EXPECT_EQ(r.status().http_status(), 400);

  auto bad = client_->Execute("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kSqlError);
  EXPECT_EQ(bad.status().server_code(), "INVALID_SQL");

  auto params = client_->Execute("SELECT $1, $2", {1});
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.status().server_code(), "INVALID_PARAMETER");

  auto empty = client_->Execute("   ");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ClientTest, PermissionErrorsForLowerRoles) {
  Run("CREATE USER lowly WITH PASSWORD 'lowly-pass' ROLE user");
  ClientOptions o = server_->RootOptions();
  o.user = "lowly";
  o.password = "lowly-pass";
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->role(), "user");
  auto r = (*c)->Execute("SELECT * FROM system.users");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(ClientTest, WrongPasswordIsUnauthenticated) {
  ClientOptions o = server_->RootOptions();
  o.password = "wrong";
  auto c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(c.status().message(), "Invalid credentials");
  EXPECT_EQ(c.status().http_status(), 401);
}

TEST_F(ClientTest, AccessTokenAloneIsCheckedAtConnect) {
  ClientOptions o;
  o.url = server_->url();
  o.access_token = client_->tokens().access_token;
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ((*c)->user(), "root");
  EXPECT_TRUE((*c)->Execute("SELECT 1").ok());
  o.access_token = "garbage";
  auto bad = Client::Connect(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ClientTest, RefreshReplacesTheTokensAndTheyWork) {
  const Tokens before = client_->tokens();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // new iat → new token text
  ASSERT_TRUE(client_->Refresh().ok());
  const Tokens after = client_->tokens();
  EXPECT_NE(after.access_token, before.access_token);
  EXPECT_TRUE(client_->Execute("SELECT 1").ok());
}

TEST_F(ClientTest, RenewsTokensBeforeTheyExpire) {
  // A margin longer than the token's whole lifetime makes every call "close to expiry".
  ClientOptions o = server_->RootOptions();
  o.refresh_margin = std::chrono::hours(24 * 30);
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok());
  const std::string first = (*c)->tokens().access_token;
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE((*c)->Execute("SELECT 1").ok());
  EXPECT_NE((*c)->tokens().access_token, first);
}

TEST_F(ClientTest, HealthReportsTheServer) {
  auto h = client_->Health();
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->status, "healthy");
  EXPECT_EQ(h->api_version, "v1");
  EXPECT_FALSE(h->version.empty());
}

TEST_F(ClientTest, ManyThreadsShareOneClient) {
  Run("CREATE NAMESPACE IF NOT EXISTS conc; CREATE SHARED TABLE IF NOT EXISTS conc.t "
      "(id INT PRIMARY KEY, v INT)");
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * 1000 + i;
        if (!client_->Execute("INSERT INTO conc.t (id, v) VALUES ($1, $2)", {id, i}).ok()) {
          ++failures;
        }
        auto r = client_->Execute("SELECT v FROM conc.t WHERE id = $1", {id});
        if (!r.ok() || r->results[0].rows.size() != 1 || r->results[0].rows[0][0].as_int() != i) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto count = Run("SELECT count(*) FROM conc.t");
  EXPECT_EQ(count.results[0].rows[0][0].as_int(), kThreads * kPerThread);
}

TEST_F(ClientTest, CancelledCallsReturnPromptly) {
  std::stop_source stop;
  stop.request_stop();
  QueryOptions o;
  o.stop = stop.get_token();
  auto r = client_->Execute("SELECT 1", {}, o);
  // Either it finished before noticing, or it was cancelled; it never hangs.
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
  }
}

TEST(ClientConnectTest, UnreachableServerIsConnectionFailed) {
  ClientOptions o;
  o.url = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  o.user = "root";
  o.password = "x";
  o.max_retries = 1;
  o.retry_backoff = std::chrono::milliseconds(10);
  auto c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kConnectionFailed);
  EXPECT_NE(c.status().message().find("Cannot connect to " + o.url), std::string::npos);
}

TEST(ClientConnectTest, RejectsBadUrlsAndMissingPasswords) {
  ClientOptions o;
  o.url = "https://secure:443";
  EXPECT_EQ(Client::Connect(o).status().code(), StatusCode::kInvalidArgument);
  o.url = "http://host:notaport";
  EXPECT_EQ(Client::Connect(o).status().code(), StatusCode::kInvalidArgument);
  o.url = "localhost";  // scheme and port default
  auto c = Client::Connect(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->url(), "http://localhost:8080");
  o.user = "root";
  EXPECT_EQ(Client::Connect(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kalam::client
