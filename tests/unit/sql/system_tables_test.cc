// Tests for the system tables (system.*, information_schema.*) over the whole in-process stack:
// their columns and types, their rows, who may read them, and that they cannot be written.
#include "sql/sqlite/system_tables.h"

#include <gtest/gtest.h>

#include <map>
#include <unordered_set>

#include "sql/executor.h"
#include "sql_test_stack.h"

namespace kalam::sql {
namespace {

std::vector<std::string> Names(const StatementResult& r) {
  std::vector<std::string> out;
  for (const auto& c : r.schema) out.push_back(c.name);
  return out;
}

std::string TypeOf(const StatementResult& r, std::string_view column) {
  for (const auto& c : r.schema) {
    if (c.name == column) return c.data_type_json;
  }
  return "<no column " + std::string(column) + ">";
}

class SystemTablesTest : public SqlStackTest {
 protected:
  SystemTablesTest() { clock_.Set(1'700'000'000'000'000); }
  void CustomizeOptions(ExecutorOptions& o) override {
    o.default_query_limit = 500;
    o.data_dir = "/srv/kdb";
    o.settings = {{"limits.default_query_limit", "500", "Rows a SELECT returns without LIMIT.",
                   "limits"},
                  {"storage.data_dir", "/srv/kdb", "Where the data lives.", "storage"}};
  }
  void SetUp() override {
    SqlStackTest::SetUp();
    clock_.AdvanceMicros(1000);
    Ok("CREATE NAMESPACE chat", root_);
    Ok("CREATE USER TABLE chat.msgs (id INT PRIMARY KEY, room TEXT NOT NULL, "
       "body TEXT DEFAULT 'none', price DECIMAL(10,2)) WITH (FLUSH_POLICY = 'rows:100')",
       root_);
    Ok("CREATE SHARED TABLE chat.pub (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = "
       "'PUBLIC')",
       root_);
    Ok("CREATE SHARED TABLE chat.priv (id BIGINT PRIMARY KEY, v TEXT)", root_);
  }

  StatementResult Query(const std::string& sql, const Caller& who = Caller{"root",
                                                                            auth::Role::kSystem}) {
    auto r = Ok(sql, who);
    if (r.results.empty()) return StatementResult();
    return r.results[0];
  }

  Caller service_{"svc", auth::Role::kService};
  Caller dba_{"dora", auth::Role::kDba};
};

TEST_F(SystemTablesTest, EveryTableHasTheColumnsOfTheSpecInOrder) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"system.users",
       {"user_id", "role", "email", "auth_type", "created_at", "updated_at", "last_login_at",
        "locked_until", "failed_login_attempts", "deleted_at"}},
      {"system.namespaces", {"namespace_id", "name", "options", "table_count", "created_at"}},
      {"system.tables",
       {"namespace_id", "table_name", "table_type", "storage_id", "version", "options", "comment",
        "created_at", "updated_at"}},
      {"system.columns",
       {"namespace_id", "table_name", "version", "column_id", "column_name", "ordinal",
        "data_type", "nullable", "primary_key", "default_value", "comment", "primary_key_pos"}},
      {"system.schemas",
       {"table_id", "namespace_id", "table_name", "table_type", "schema_version", "columns",
        "options", "is_latest", "created_at", "table_comment", "updated_at", "access_level",
        "storage_id", "use_user_storage"}},
      {"system.storages",
       {"storage_id", "storage_name", "description", "storage_type", "base_directory",
        "shared_tables_template", "user_tables_template", "created_at", "updated_at"}},
      {"system.jobs",
       {"job_id", "job_type", "status", "parameters", "message", "exception_trace", "retry_count",
        "memory_used", "cpu_used", "created_at", "started_at", "finished_at", "node_id"}},
      {"system.live",
       {"live_id", "connection_id", "subscription_id", "namespace_id", "table_name", "user_id",
        "query", "options", "status", "created_at", "last_update", "changes", "node_id"}},
      {"system.stats", {"metric_name", "metric_value"}},
      {"system.datatypes", {"sql_name", "kalam_type", "description", "arrow_type"}},
      {"system.settings", {"name", "value", "description", "category"}},
      {"system.job_nodes",
       {"job_id", "node_id", "status", "error_message", "created_at", "started_at", "finished_at",
        "updated_at"}},
      {"system.manifest",
       {"cache_key", "namespace_id", "table_name", "scope", "etag", "last_refreshed",
        "last_accessed", "in_memory", "sync_state", "manifest_json"}},
      {"system.topics",
       {"topic_id", "name", "alias", "partitions", "retention_seconds", "retention_max_bytes",
        "routes", "created_at", "updated_at"}},
      {"system.topic_offsets",
       {"topic_id", "group_id", "partition_id", "last_acked_offset", "updated_at"}},
      {"system.audit_log",
       {"audit_id", "timestamp", "actor_user_id", "action", "target", "details", "ip_address",
        "subject_user_id", "outcome"}},
      {"system.server_logs", {"timestamp", "level", "thread", "target", "line", "message"}},
      {"system.cluster",
       {"cluster_id", "node_id", "role", "status", "rpc_addr", "api_addr", "is_self", "is_leader",
        "groups_leading", "total_groups", "current_term", "last_applied_log",
        "leader_last_log_index", "snapshot_index", "catchup_progress_pct", "replication_lag",
        "hostname", "version", "memory_mb", "memory_usage_mb", "cpu_usage_percent",
        "uptime_seconds", "uptime_human", "os", "arch"}},
      {"system.cluster_groups",
       {"group_id", "cluster_id", "node_id", "group_type", "current_term", "vote",
        "last_log_index", "last_applied", "snapshot", "purged", "committed", "state",
        "current_leader", "millis_since_quorum_ack"}},
      {"information_schema.tables", {"table_catalog", "table_schema", "table_name", "table_type"}},
      {"information_schema.columns",
       {"table_catalog", "table_schema", "table_name", "column_name", "ordinal_position", "column_default",
        "is_nullable", "data_type"}},
  };
  ASSERT_EQ(AllSystemTables().size(), expected.size());
  for (const auto& [table, columns] : expected) {
    EXPECT_EQ(Names(Query("SELECT * FROM " + table + " LIMIT 0")), columns) << table;
  }
}

TEST_F(SystemTablesTest, UsersShowAccountsWithTypedTimestampsAndNeverAPasswordHash) {
  Ok("CREATE USER alice WITH PASSWORD 'password123' ROLE user EMAIL 'alice@example.com'", root_);
  ASSERT_TRUE(catalog_->GetUser("alice")->password_hash.starts_with("$argon2"));
  auto r = Query("SELECT * FROM system.users");
  ASSERT_EQ(r.row_count, 1u);
  const std::string created = std::to_string(clock_.NowMicros());
  EXPECT_EQ(r.rows_json, "[\"alice\",\"user\",\"alice@example.com\",\"password\"," + created +
                             "," + created + ",null,null,0,null]");
  EXPECT_EQ(TypeOf(r, "created_at"), "\"Timestamp\"");
  EXPECT_EQ(TypeOf(r, "deleted_at"), "\"Timestamp\"");
  EXPECT_EQ(TypeOf(r, "failed_login_attempts"), "\"Int\"");
  for (const auto& c : r.schema) EXPECT_EQ(c.name.find("password"), std::string::npos);
  EXPECT_EQ(r.rows_json.find("$argon2"), std::string::npos);
  // Not through any expression either: no column holds it.
  auto all = Query("SELECT group_concat(user_id || role || coalesce(email, '') || auth_type) "
                   "FROM system.users");
  EXPECT_EQ(all.rows_json.find("argon2"), std::string::npos);
}

TEST_F(SystemTablesTest, DroppedUserKeepsItsRowWithDeletedAt) {
  Ok("CREATE USER bob WITH PASSWORD 'password123' ROLE service", root_);
  clock_.AdvanceMicros(5);
  Ok("DROP USER bob", root_);
  EXPECT_EQ(Query("SELECT user_id, role, deleted_at FROM system.users").rows_json,
            "[\"bob\",\"service\"," + std::to_string(clock_.NowMicros()) + "]");
}

TEST_F(SystemTablesTest, NamespacesCountTheirTables) {
  auto r = Query("SELECT namespace_id, name, options, table_count FROM system.namespaces "
                 "ORDER BY namespace_id");
  EXPECT_EQ(r.rows_json, "[\"chat\",\"chat\",\"{}\",\"3\"],[\"default\",\"default\",\"{}\",\"0\"]");
  EXPECT_EQ(TypeOf(r, "table_count"), "\"BigInt\"");
  EXPECT_EQ(TypeOf(r, "options"), "\"Json\"");
}

TEST_F(SystemTablesTest, TablesShowTypeVersionAndOptions) {
  auto r = Query("SELECT table_name, table_type, storage_id, version, comment FROM system.tables "
                 "ORDER BY table_name");
  EXPECT_EQ(r.rows_json,
            "[\"msgs\",\"USER\",\"local\",1,null],[\"priv\",\"SHARED\",\"local\",1,null],"
            "[\"pub\",\"SHARED\",\"local\",1,null]");
  EXPECT_EQ(TypeOf(r, "version"), "\"Int\"");
  auto o = Query("SELECT json_extract(options, '$.flush_policy'), "
                 "json_extract(options, '$.deleted_retention_hours'), "
                 "json_extract(options, '$.access_level'), "
                 "json_extract(options, '$.use_user_storage') FROM system.tables "
                 "WHERE table_name IN ('msgs', 'pub') ORDER BY table_name");
  EXPECT_EQ(o.rows_json, "[\"rows:100\",\"168\",null,\"0\"],[null,\"168\",\"PUBLIC\",\"0\"]");
}

TEST_F(SystemTablesTest, ColumnsDescribeEveryColumnWithSqlTypesAndDefaults) {
  auto r = Query("SELECT column_name, ordinal, column_id, data_type, nullable, primary_key, "
                 "default_value, version FROM system.columns WHERE table_name = 'msgs' "
                 "ORDER BY ordinal");
  EXPECT_EQ(r.rows_json,
            "[\"id\",1,1,\"INT\",false,true,null,1],"
            "[\"room\",2,2,\"TEXT\",false,false,null,1],"
            "[\"body\",3,3,\"TEXT\",true,false,\"'none'\",1],"
            "[\"price\",4,4,\"DECIMAL(10,2)\",true,false,null,1]");
  EXPECT_EQ(TypeOf(r, "nullable"), "\"Boolean\"");
  // Booleans filter as SQL booleans.
  EXPECT_EQ(Query("SELECT table_name, column_name FROM system.columns WHERE primary_key = true "
                  "AND namespace_id = 'chat' ORDER BY 1")
                .rows_json,
            "[\"msgs\",\"id\"],[\"priv\",\"id\"],[\"pub\",\"id\"]");
}

TEST_F(SystemTablesTest, JoinsFiltersAndAggregatesWorkAcrossSystemTables) {
  auto r = Query("SELECT t.table_name, t.table_type, count(*) AS n FROM system.tables t "
                 "JOIN system.columns c ON c.namespace_id = t.namespace_id "
                 "AND c.table_name = t.table_name WHERE t.namespace_id = 'chat' "
                 "GROUP BY t.table_name, t.table_type ORDER BY n DESC, t.table_name");
  EXPECT_EQ(Names(r), (std::vector<std::string>{"table_name", "table_type", "n"}));
  EXPECT_EQ(r.rows_json,
            "[\"msgs\",\"USER\",\"4\"],[\"priv\",\"SHARED\",\"2\"],[\"pub\",\"SHARED\",\"2\"]");
  // Unaliased: the written names stay usable as qualifiers.
  auto q = Query("SELECT tables.table_name FROM system.tables, system.namespaces "
                 "WHERE tables.namespace_id = namespaces.name "
                 "AND namespaces.table_count > 2 ORDER BY 1");
  EXPECT_EQ(q.rows_json, "[\"msgs\"],[\"priv\"],[\"pub\"]");
  // And with user tables in the same statement.
  Ok("INSERT INTO chat.pub (id, v) VALUES (1, 'msgs')", root_);
  EXPECT_EQ(Query("SELECT p.id, t.table_type FROM chat.pub p JOIN system.tables t "
                  "ON t.table_name = p.v")
                .rows_json,
            "[\"1\",\"USER\"]");
}

TEST_F(SystemTablesTest, SchemasListEveryVersionWithItsColumnsAsJson) {
  auto r = Query("SELECT namespace_id, table_name, table_type, schema_version, is_latest, "
                 "json_array_length(columns), json_extract(columns, '$[3].data_type'), "
                 "json_extract(options, '$.access_level') FROM system.schemas "
                 "WHERE table_name = 'priv'");
  EXPECT_EQ(r.rows_json,
            "[\"chat\",\"priv\",\"SHARED\",1,true,\"2\",null,\"PRIVATE\"]");
  auto m = Query("SELECT json_extract(columns, '$[3].data_type'), table_id > 0 "
                 "FROM system.schemas WHERE table_name = 'msgs'");
  EXPECT_EQ(m.rows_json, "[\"{\\\"Decimal\\\":{\\\"precision\\\":10,\\\"scale\\\":2}}\",\"1\"]");
  EXPECT_EQ(TypeOf(r, "schema_version"), "\"Int\"");
  EXPECT_EQ(TypeOf(Query("SELECT table_id FROM system.schemas"), "table_id"), "\"BigInt\"");
}

TEST_F(SystemTablesTest, StoragesShowTheBuiltInLocalStorage) {
  const int64_t started = 1'700'000'000'000'000;  // the clock when the executor was built
  auto r = Query("SELECT * FROM system.storages");
  EXPECT_EQ(r.rows_json,
            "[\"local\",\"Local storage\",\"Built-in storage under the data directory\","
            "\"filesystem\",\"/srv/kdb/storage\",\"{namespace}/{tableName}\","
            "\"{namespace}/{tableName}/{userId}\"," +
                std::to_string(started) + "," + std::to_string(started) + "]");
}

TEST_F(SystemTablesTest, JobsAndLiveAreEmptyButTyped) {
  auto jobs = Query("SELECT * FROM system.jobs");
  EXPECT_EQ(jobs.row_count, 0u);
  EXPECT_EQ(TypeOf(jobs, "parameters"), "\"Json\"");
  EXPECT_EQ(TypeOf(jobs, "created_at"), "\"Timestamp\"");
  auto live = Query("SELECT * FROM system.live");
  EXPECT_EQ(live.row_count, 0u);
  EXPECT_EQ(TypeOf(live, "changes"), "\"BigInt\"");
  EXPECT_EQ(Query("SELECT count(*) FROM system.jobs").rows_json, "[\"0\"]");
}

TEST_F(SystemTablesTest, StatsReportCountsCacheAndCommits) {
  Ok("CREATE USER alice WITH PASSWORD 'password123' ROLE user", root_);
  Ok("INSERT INTO chat.msgs (id, room) VALUES (1, 'a')", alice_);
  auto r = Query("SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN "
                 "('tables', 'namespaces', 'users', 'commits', 'committed_rows') ORDER BY 1");
  EXPECT_EQ(r.rows_json,
            "[\"commits\",\"1\"],[\"committed_rows\",\"1\"],[\"namespaces\",\"2\"],"
            "[\"tables\",\"3\"],[\"users\",\"1\"]");
  auto cache = Query("SELECT count(*) FROM system.stats WHERE metric_name IN "
                     "('statement_cache_hits', 'statement_cache_misses') "
                     "AND CAST(metric_value AS INTEGER) >= 0");
  EXPECT_EQ(cache.rows_json, "[\"2\"]");
}

TEST_F(SystemTablesTest, DatatypesListEverySqlNameThatParsesToItsType) {
  auto r = Query("SELECT sql_name, kalam_type FROM system.datatypes");
  EXPECT_EQ(r.row_count, 35u);
  size_t checked = 0;
  // rows_json: ["NAME","Kind"],…
  for (size_t pos = 0; (pos = r.rows_json.find("[\"", pos)) != std::string::npos; ++checked) {
    size_t a = pos + 2, b = r.rows_json.find('"', a);
    std::string name = r.rows_json.substr(a, b - a);
    size_t c = r.rows_json.find('"', b + 1) + 1, d = r.rows_json.find('"', c);
    std::string kind = r.rows_json.substr(c, d - c);
    pos = d;
    if (auto p = name.find("(p,s)"); p != std::string::npos) name.replace(p, 5, "(10,2)");
    if (auto p = name.find("(n)"); p != std::string::npos) name.replace(p, 3, "(3)");
    auto parsed = DataType::Parse(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(TypeKindWireName(parsed->kind), kind) << name;
  }
  EXPECT_EQ(checked, 35u);
}

TEST_F(SystemTablesTest, SettingsShowTheExecutorOptions) {
  EXPECT_EQ(Query("SELECT name, value, description, category FROM system.settings ORDER BY name")
                .rows_json,
            "[\"limits.default_query_limit\",\"500\",\"Rows a SELECT returns without LIMIT.\","
            "\"limits\"],[\"storage.data_dir\",\"/srv/kdb\",\"Where the data lives.\","
            "\"storage\"]");
}

TEST_F(SystemTablesTest, OnlyDbaAndSystemMayReadSystemTables) {
  const std::string denied =
      "Statement 1 failed: Permission denied: system tables are readable by dba and system roles "
      "only";
  for (const Caller& who : {alice_, service_}) {
    for (const char* sql :
         {"SELECT * FROM system.users", "SELECT count(*) FROM system.tables",
          "SELECT m.id FROM chat.msgs m JOIN system.users u ON u.user_id = m.room",
          "SELECT * FROM system.nope", "SELECT 1 WHERE EXISTS (SELECT 1 FROM system.settings)"}) {
      auto r = Run(sql, who);
      EXPECT_EQ(r.error.code(), StatusCode::kPermissionDenied) << sql;
      EXPECT_EQ(r.error.message(), denied) << sql;
    }
  }
  Query("SELECT * FROM system.users", dba_);
  Query("SELECT * FROM system.stats", dba_);
}

TEST_F(SystemTablesTest, SystemTablesAreReadOnly) {
  struct Case {
    const char* sql;
    const char* message;
  };
  for (const auto& c : std::vector<Case>{
           {"INSERT INTO system.users (user_id, role) VALUES ('x', 'dba')",
            "System table 'system.users' is read-only"},
           {"UPDATE system.users SET role = 'system' WHERE user_id = 'root'",
            "System table 'system.users' is read-only"},
           {"DELETE FROM system.tables", "System table 'system.tables' is read-only"},
           {"INSERT INTO system.namespaces SELECT * FROM system.namespaces",
            "System table 'system.namespaces' is read-only"},
           {"DELETE FROM information_schema.tables",
            "Table 'information_schema.tables' is read-only"}}) {
    auto r = Run(c.sql, root_);
    EXPECT_EQ(r.error.code(), StatusCode::kPermissionDenied) << c.sql;
    EXPECT_EQ(r.error.message(), std::string("Statement 1 failed: Permission denied: ") + c.message)
        << c.sql;
  }
  // Reading a system table while writing a user table is fine.
  Ok("INSERT INTO chat.pub (id, v) SELECT 1, name FROM system.namespaces WHERE name = 'chat'",
     root_);
  EXPECT_EQ(Query("SELECT v FROM chat.pub").rows_json, "[\"chat\"]");
}

TEST_F(SystemTablesTest, UnknownSystemTableIsNotFound) {
  auto r = Run("SELECT * FROM system.nope", root_);
  EXPECT_EQ(r.error.code(), StatusCode::kTableNotFound);
  EXPECT_EQ(r.error.message(), "Statement 1 failed: Not found: System table 'system.nope' does not exist");
  auto i = Run("SELECT * FROM information_schema.schemata", alice_);
  EXPECT_EQ(i.error.code(), StatusCode::kTableNotFound);
  EXPECT_EQ(i.error.message(), "Statement 1 failed: Not found: Table 'information_schema.schemata' does not exist");
}

TEST_F(SystemTablesTest, InternalNamesAreDeniedUnlessTheStatementNamedTheTable) {
  // The analyzer resolves `ks_users` as a table of the current namespace…
  Query("SELECT * FROM system.users");
  auto r = Run("SELECT * FROM ks_users", root_);
  EXPECT_EQ(r.error.code(), StatusCode::kTableNotFound);
  // …and behind it the authorizer refuses any ks_* table the statement was not checked for.
  auto conn = SqlConnection::Open(4);
  ASSERT_TRUE(conn.ok());
  const SystemTable* users = FindSystemTable("system", "USERS");
  ASSERT_NE(users, nullptr);
  ASSERT_EQ(*(*conn)->EnsureSystemRegistered(*users), "ks_users");
  std::unordered_set<std::string> allowed;
  (*conn)->set_allowed_tables(&allowed);
  auto denied = (*conn)->Prepare("SELECT * FROM ks_users");
  EXPECT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("access to temp.ks_users.user_id is prohibited"),
            std::string::npos)
      << denied.status().ToString();
  allowed.insert("ks_users");
  EXPECT_TRUE((*conn)->Prepare("SELECT * FROM ks_users").ok());
  EXPECT_EQ((*conn)->RegisteredByName("ks_users"), users->def.get());
}

TEST_F(SystemTablesTest, EachStatementSeesTheStateBeforeIt) {
  auto r = Ok("SELECT count(*) FROM system.users; "
              "CREATE USER carol WITH PASSWORD 'password123' ROLE user; "
              "SELECT count(*) FROM system.users; "
              "CREATE SHARED TABLE chat.more (id INT PRIMARY KEY); "
              "SELECT count(*) FROM system.tables",
              root_);
  ASSERT_EQ(r.results.size(), 5u);
  EXPECT_EQ(r.results[0].rows_json, "[\"0\"]");
  EXPECT_EQ(r.results[2].rows_json, "[\"1\"]");
  EXPECT_EQ(r.results[4].rows_json, "[\"4\"]");
}

TEST_F(SystemTablesTest, UnqualifiedNamesResolveInTheCurrentNamespace) {
  auto r = Ok("SELECT count(*) FROM tables", root_, "system");
  EXPECT_EQ(r.results[0].rows_json, "[\"3\"]");
  auto denied = Run("SELECT count(*) FROM tables", alice_, "system");
  EXPECT_EQ(denied.error.code(), StatusCode::kPermissionDenied);
}

TEST_F(SystemTablesTest, InformationSchemaListsOnlyTablesTheCallerMayRead) {
  const std::string sql =
      "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables "
      "WHERE table_schema = 'chat' ORDER BY table_name";
  EXPECT_EQ(Query(sql, alice_).rows_json,
            "[\"kalam\",\"chat\",\"msgs\",\"USER\"],[\"kalam\",\"chat\",\"pub\",\"SHARED\"]");
  EXPECT_EQ(Query(sql, service_).rows_json,
            "[\"kalam\",\"chat\",\"msgs\",\"USER\"],[\"kalam\",\"chat\",\"priv\",\"SHARED\"],"
            "[\"kalam\",\"chat\",\"pub\",\"SHARED\"]");
  // System tables are listed to those who may read them.
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'system'",
                  alice_)
                .rows_json,
            "[\"0\"]");
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'system'")
                .rows_json,
            "[\"19\"]");
  auto cols = Query("SELECT column_name, ordinal_position, column_default, is_nullable, data_type "
                    "FROM information_schema.columns WHERE table_name = 'msgs' "
                    "ORDER BY ordinal_position",
                    alice_);
  EXPECT_EQ(cols.rows_json,
            "[\"id\",1,null,\"NO\",\"INT\"],[\"room\",2,null,\"NO\",\"TEXT\"],"
            "[\"body\",3,\"'none'\",\"YES\",\"TEXT\"],"
            "[\"price\",4,null,\"YES\",\"DECIMAL(10,2)\"]");
  EXPECT_EQ(Query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'priv'",
                  alice_)
                .rows_json,
            "[\"0\"]");
}

}  // namespace
}  // namespace kalam::sql

namespace kalam::sql {
namespace {

TEST_F(SystemTablesTest, SchemasKeepEveryVersionAfterAlter) {
  clock_.AdvanceMicros(7);
  Ok("ALTER TABLE chat.priv ADD COLUMN extra INT", root_);
  auto r = Query("SELECT schema_version, is_latest, json_array_length(columns), "
                 "json_extract(columns, '$[2].column_name'), created_at FROM system.schemas "
                 "WHERE table_name = 'priv' ORDER BY schema_version");
  const std::string created = std::to_string(1'700'000'000'000'000 + 1000);
  EXPECT_EQ(r.rows_json, "[1,false,\"2\",null," + created + "],[2,true,\"3\",\"extra\"," +
                             std::to_string(clock_.NowMicros()) + "]");
  EXPECT_EQ(Query("SELECT version, count(*) FROM system.columns WHERE table_name = 'priv' "
                  "GROUP BY version")
                .rows_json,
            "[2,\"3\"]");
}

}  // namespace
}  // namespace kalam::sql
