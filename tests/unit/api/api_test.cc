// Tests for the API layer: SQL response encoding and redaction, bearer-token authentication.
#include <cmath>
#include <cstdio>

#include <gtest/gtest.h>

#include "api/auth_service.h"
#include "api/sql_response_json.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "../storage/failing_store.h"

namespace kalam::api {
namespace {

TEST(SqlResponseJsonTest, SuccessShapeHasSchemaRowsRowCountAndAsUser) {
  sql::SqlResponse r;
  r.as_user = "alice";
  sql::StatementResult res;
  res.schema.push_back({"id", "\"BigInt\"", {"pk", "nn", "uq"}});
  res.rows_json = "[\"1\"]";
  res.row_count = 1;
  r.results.push_back(res);
  sql::StatementResult msg;
  msg.message = "Inserted 2 row(s)";
  msg.row_count = 2;
  r.results.push_back(msg);
  int status = 0;
  std::string body = EncodeSqlResponse(r, 1.23456, auth::Role::kUser, &status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body,
            "{\"status\":\"success\",\"results\":[{\"schema\":[{\"name\":\"id\",\"data_type\":"
            "\"BigInt\",\"index\":0,\"flags\":[\"pk\",\"nn\",\"uq\"]}],\"rows\":[[\"1\"]],"
            "\"row_count\":1,\"as_user\":\"alice\"},{\"row_count\":2,\"message\":\"Inserted 2 "
            "row(s)\",\"as_user\":\"alice\"}],\"took\":1.235}");
}

TEST(SqlResponseJsonTest, DetailsOnlyForAdminsAndInternalErrorsRedacted) {
  sql::SqlResponse r;
  r.error = Status::AlreadyExists("Primary key violation: value '1' already exists in column 'id'");
  r.error_details = "INSERT INTO t VALUES (1)";
  int status = 0;
  std::string user_body = EncodeSqlResponse(r, 0.5, auth::Role::kUser, &status);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(user_body,
            "{\"status\":\"error\",\"results\":[],\"took\":0.500,\"error\":{\"code\":\"SQL_"
            "EXECUTION_ERROR\",\"message\":\"Primary key violation: value '1' already exists in "
            "column 'id'\"}}");
  std::string dba_body = EncodeSqlResponse(r, 0.5, auth::Role::kDba, &status);
  EXPECT_NE(dba_body.find("\"details\":\"INSERT INTO t VALUES (1)\""), std::string::npos);

  r.error = Status::IoError("disk /var/x failed");
  std::string hidden = EncodeSqlResponse(r, 0.5, auth::Role::kService, &status);
  EXPECT_EQ(status, 500);
  EXPECT_NE(hidden.find("\"message\":\"SQL request failed\""), std::string::npos);
  EXPECT_EQ(hidden.find("/var/x"), std::string::npos);
}

// FEATURES §0.4: the fixed public texts a caller below dba gets instead of a message that could
// tell it what exists, by wire code; validation kinds keep their message.
TEST(SqlResponseJsonTest, CallersBelowDbaGetPublicTextsForUnsafeKinds) {
  auto message_for = [](Status st, auth::Role role) {
    sql::SqlResponse r;
    r.error = std::move(st);
    int status = 0;
    std::string body = EncodeSqlResponse(r, 0.5, role, &status);
    const size_t at = body.find("\"message\":\"") + 11;
    return body.substr(at, body.find('"', at) - at);
  };
  const Status table = Status::TableNotFound("Statement 1 failed: Not found: Table 'a.b' does not exist");
  EXPECT_EQ(message_for(table, auth::Role::kUser), "Requested table is not available");
  EXPECT_EQ(message_for(table, auth::Role::kService), "Requested table is not available");
  EXPECT_EQ(message_for(table, auth::Role::kDba), table.message());
  EXPECT_EQ(message_for(Status::InvalidSql("near SELEC: syntax error"), auth::Role::kUser),
            "SQL statement is invalid or not allowed");
  EXPECT_EQ(message_for(Status::InvalidSql("no such column: nope"), auth::Role::kUser),
            "no such column: nope");
  EXPECT_EQ(message_for(Status::Internal("bug"), auth::Role::kUser), "SQL request failed");
  for (const Status& kept :
       {Status::NotFound("Namespace 'x' does not exist"), Status::AlreadyExists("a"),
        Status::Constraint("Column 'c' cannot be NULL"), Status::InvalidArgument("bad"),
        Status::FailedPrecondition("state"), Status::Conflict("retry"),
        Status::TypeMismatch("not an int"), Status::InvalidParameter("parameter mismatch")}) {
    EXPECT_EQ(message_for(kept, auth::Role::kUser), kept.message()) << kept.ToString();
  }
}

TEST(SqlResponseJsonTest, TookIsMillisecondsWithThreeDecimalsRoundedToMicroseconds) {
  EXPECT_EQ(FormatTook(0.0), "0.000");
  EXPECT_EQ(FormatTook(0.0284), "0.028");
  EXPECT_EQ(FormatTook(0.0286), "0.029");
  EXPECT_EQ(FormatTook(1.9996), "2.000");
  EXPECT_EQ(FormatTook(12345.678), "12345.678");
  EXPECT_EQ(FormatTook(7.05), "7.050");
  // What "%.3f" gives for the same values, for any value a request can take.
  for (double ms : {0.001, 0.0105, 0.999, 3.14159, 250.0004, 86400000.0}) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f", std::round(ms * 1000.0) / 1000.0);
    EXPECT_EQ(FormatTook(ms), buf) << ms;
  }
}

TEST(SqlResponseJsonTest, ErrorCodesMapToWireCodes) {
  EXPECT_EQ(MapSqlError(Status::PermissionDenied("x")).http_status, 403);
  EXPECT_EQ(MapSqlError(Status::PermissionDenied("x")).code, "PERMISSION_DENIED");
  EXPECT_EQ(MapSqlError(Status::TableNotFound("x")).code, "TABLE_NOT_FOUND");
  EXPECT_EQ(MapSqlError(Status::InvalidParameter("x")).code, "INVALID_PARAMETER");
  EXPECT_EQ(MapSqlError(Status::InvalidSql("x")).code, "INVALID_SQL");
  EXPECT_EQ(MapSqlError(Status::TypeMismatch("x")).code, "SQL_EXECUTION_ERROR");
  EXPECT_EQ(MapSqlError(Status::Internal("x")).http_status, 500);
}

class AuthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = std::move(catalog::Catalog::Open(store_, clock_)).value();
    catalog::UserRecord u;
    u.user_id = "alice";
    u.role = auth::Role::kService;
    u.password_hash = *auth::HashPassword("correct horse", {1, 8192});
    ASSERT_TRUE(catalog_->PutUser(u).ok());
    AuthSettings settings;
    settings.jwt_secret = "secret";
    settings.lockout_seconds = 900;
    service_ = std::make_unique<AuthService>(*catalog_, settings, clock_);
  }
  std::string Bearer(const catalog::UserRecord& u) {
    return "Bearer " + service_->Issue(u).access_token;
  }
  std::unique_ptr<storage::KvStore> kv_ = storage::NewMemoryStore();
  storage::FailingStore store_{*kv_};
  FakeClock clock_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<AuthService> service_;
};

TEST_F(AuthServiceTest, AccessTokenAuthenticatesAndRefreshTokenDoesNot) {
  auto user = *catalog_->GetUser("alice");
  auto ok = service_->AuthenticateBearer(Bearer(user));
  ASSERT_TRUE(std::holds_alternative<Principal>(ok));
  EXPECT_EQ(std::get<Principal>(ok).user_id, "alice");
  EXPECT_EQ(std::get<Principal>(ok).role, auth::Role::kService);
  auto refresh = service_->AuthenticateBearer("Bearer " + service_->Issue(user).refresh_token);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(refresh));
  EXPECT_EQ(std::get<AuthFailure>(refresh).http_status, 401);
}

TEST_F(AuthServiceTest, MissingBasicExpiredAndRoleChangedAreRejectedWithTheirCodes) {
  auto user = *catalog_->GetUser("alice");
  EXPECT_EQ(std::get<AuthFailure>(service_->AuthenticateBearer("")).code, "MISSING_AUTHORIZATION");
  EXPECT_EQ(std::get<AuthFailure>(service_->AuthenticateBearer("Basic YWxpY2U6eA==")).code,
            "AUTHENTICATION_ERROR");
  std::string token = Bearer(user);
  clock_.AdvanceSeconds(25 * 3600);
  EXPECT_EQ(std::get<AuthFailure>(service_->AuthenticateBearer(token)).code, "TOKEN_EXPIRED");
  token = Bearer(user);
  user.role = auth::Role::kUser;  // demoted after the token was issued
  ASSERT_TRUE(catalog_->PutUser(user).ok());
  EXPECT_EQ(std::get<AuthFailure>(service_->AuthenticateBearer(token)).code, "INVALID_CREDENTIALS");
}

TEST_F(AuthServiceTest, FiveFailedLoginsLockTheAccountUntilTheWindowPasses) {
  for (int i = 0; i < 5; ++i) {
    auto r = service_->Login("alice", "wrong", true);
    EXPECT_EQ(std::get<AuthFailure>(r).code, "unauthorized");
  }
  auto locked = service_->Login("alice", "correct horse", true);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(locked));
  EXPECT_EQ(std::get<AuthFailure>(locked).code, "account_locked");
  clock_.AdvanceSeconds(901);
  EXPECT_TRUE(std::holds_alternative<catalog::UserRecord>(
      service_->Login("alice", "correct horse", true)));
}

TEST_F(AuthServiceTest, LoginWhoseOutcomeCannotBeStoredIsRefusedWhateverThePassword) {
  // Four failures are counted; then the store refuses writes. Were the fifth failure answered
  // "unauthorized" without being stored, the lockout would never come and guessing would be
  // unlimited; were the right password let in, the answer would tell a guesser it was right.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(std::get<AuthFailure>(service_->Login("alice", "wrong", true)).code, "unauthorized");
  }
  store_.FailWrites(true);
  for (const char* password : {"wrong", "wrong", "wrong", "correct horse"}) {
    auto r = service_->Login("alice", password, true);
    ASSERT_TRUE(std::holds_alternative<AuthFailure>(r)) << password;
    const auto& f = std::get<AuthFailure>(r);
    EXPECT_EQ(f.http_status, 500);
    EXPECT_EQ(f.code, "internal_error");
    EXPECT_EQ(f.message, "The login could not be recorded; try again later");
  }
  EXPECT_EQ(store_.failed_writes(), 4);
  EXPECT_EQ(catalog_->GetUser("alice")->failed_login_attempts, 4u);
  // Once the store works again, counting resumes where it stopped: the next failure locks.
  store_.FailWrites(false);
  EXPECT_EQ(std::get<AuthFailure>(service_->Login("alice", "wrong", true)).code, "unauthorized");
  EXPECT_EQ(std::get<AuthFailure>(service_->Login("alice", "correct horse", true)).code,
            "account_locked");
}

TEST_F(AuthServiceTest, SetupRefusesPasswordsShortInCharactersThoughLongInBytes) {
  catalog::UserRecord root;
  root.user_id = "root";
  root.role = auth::Role::kSystem;
  ASSERT_TRUE(catalog_->PutUser(root).ok());  // no password: setup pending
  auto weak = service_->Setup("admin", "\u00e9\u00e9\u00e9\u00e9", "root-password", std::nullopt);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(weak));
  const auto& f = std::get<AuthFailure>(weak);
  EXPECT_EQ(f.http_status, 400);
  EXPECT_EQ(f.code, "weak_password");
  EXPECT_EQ(f.message, "Password is too short: at least 8 characters required");
  EXPECT_TRUE(service_->NeedsSetup());
}

TEST_F(AuthServiceTest, UnknownUserAndWrongPasswordFailIdentically) {
  auto a = std::get<AuthFailure>(service_->Login("nobody", "x", true));
  auto b = std::get<AuthFailure>(service_->Login("alice", "x", true));
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.http_status, b.http_status);
}

}  // namespace
}  // namespace kalam::api
