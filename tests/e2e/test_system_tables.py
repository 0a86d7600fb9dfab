"""SQL.md §4 system tables: system.* (dba and system only, read-only) and information_schema."""
import platform
import socket

import pytest

from helpers import unique

DENIED = {"code": "PERMISSION_DENIED",
          "message": "Statement 1 failed: Permission denied: system tables are readable by dba and system roles only"}

# Column names and wire types of every system table, in order.
SCHEMAS = {
    "system.users": [
        ("user_id", "Text"), ("role", "Text"), ("email", "Text"), ("auth_type", "Text"),
        ("created_at", "Timestamp"), ("updated_at", "Timestamp"), ("last_login_at", "Timestamp"),
        ("locked_until", "Timestamp"), ("failed_login_attempts", "Int"),
        ("deleted_at", "Timestamp")],
    "system.namespaces": [
        ("namespace_id", "Text"), ("name", "Text"), ("options", "Json"), ("table_count", "BigInt"),
        ("created_at", "Timestamp")],
    "system.tables": [
        ("namespace_id", "Text"), ("table_name", "Text"), ("table_type", "Text"),
        ("storage_id", "Text"), ("version", "Int"), ("options", "Json"), ("comment", "Text"),
        ("created_at", "Timestamp"), ("updated_at", "Timestamp")],
    "system.columns": [
        ("namespace_id", "Text"), ("table_name", "Text"), ("version", "Int"), ("column_id", "Int"),
        ("column_name", "Text"), ("ordinal", "Int"), ("data_type", "Text"),
        ("nullable", "Boolean"), ("primary_key", "Boolean"), ("default_value", "Text"),
        ("comment", "Text"), ("primary_key_pos", "Int")],
    "system.schemas": [
        ("table_id", "BigInt"), ("namespace_id", "Text"), ("table_name", "Text"),
        ("table_type", "Text"), ("schema_version", "Int"), ("columns", "Json"),
        ("options", "Json"), ("is_latest", "Boolean"), ("created_at", "Timestamp"),
        ("table_comment", "Text"), ("updated_at", "Timestamp"), ("access_level", "Text"),
        ("storage_id", "Text"), ("use_user_storage", "Boolean")],
    "system.storages": [
        ("storage_id", "Text"), ("storage_name", "Text"), ("description", "Text"),
        ("storage_type", "Text"), ("base_directory", "Text"), ("shared_tables_template", "Text"),
        ("user_tables_template", "Text"), ("created_at", "Timestamp"),
        ("updated_at", "Timestamp")],
    "system.jobs": [
        ("job_id", "Text"), ("job_type", "Text"), ("status", "Text"), ("parameters", "Json"),
        ("message", "Text"), ("exception_trace", "Text"), ("retry_count", "Int"),
        ("memory_used", "BigInt"), ("cpu_used", "BigInt"), ("created_at", "Timestamp"),
        ("started_at", "Timestamp"), ("finished_at", "Timestamp"), ("node_id", "Text")],
    "system.live": [
        ("live_id", "Text"), ("connection_id", "Text"), ("subscription_id", "Text"),
        ("namespace_id", "Text"), ("table_name", "Text"), ("user_id", "Text"), ("query", "Text"),
        ("options", "Json"), ("status", "Text"), ("created_at", "Timestamp"),
        ("last_update", "Timestamp"), ("changes", "BigInt"), ("node_id", "Text")],
    "system.stats": [("metric_name", "Text"), ("metric_value", "Text")],
    "system.cluster": [
        ("cluster_id", "Text"), ("node_id", "BigInt"), ("role", "Text"), ("status", "Text"),
        ("rpc_addr", "Text"), ("api_addr", "Text"), ("is_self", "Boolean"),
        ("is_leader", "Boolean"), ("groups_leading", "Int"), ("total_groups", "Int"),
        ("current_term", "BigInt"), ("last_applied_log", "BigInt"),
        ("leader_last_log_index", "BigInt"), ("snapshot_index", "BigInt"),
        ("catchup_progress_pct", "SmallInt"), ("replication_lag", "BigInt"),
        ("hostname", "Text"), ("version", "Text"), ("memory_mb", "BigInt"),
        ("memory_usage_mb", "BigInt"), ("cpu_usage_percent", "Float"),
        ("uptime_seconds", "BigInt"), ("uptime_human", "Text"), ("os", "Text"), ("arch", "Text")],
    "system.cluster_groups": [
        ("group_id", "BigInt"), ("cluster_id", "Text"), ("node_id", "BigInt"),
        ("group_type", "Text"), ("current_term", "BigInt"), ("vote", "Json"),
        ("last_log_index", "BigInt"), ("last_applied", "BigInt"), ("snapshot", "BigInt"),
        ("purged", "BigInt"), ("committed", "BigInt"), ("state", "Text"),
        ("current_leader", "BigInt"), ("millis_since_quorum_ack", "BigInt")],
    "system.datatypes": [("sql_name", "Text"), ("kalam_type", "Text"), ("description", "Text"),
                         ("arrow_type", "Text")],
    "system.settings": [("name", "Text"), ("value", "Text"), ("description", "Text"),
                        ("category", "Text")],
    "system.job_nodes": [
        ("job_id", "Text"), ("node_id", "BigInt"), ("status", "Text"), ("error_message", "Text"),
        ("created_at", "Timestamp"), ("started_at", "Timestamp"), ("finished_at", "Timestamp"),
        ("updated_at", "Timestamp")],
    "system.manifest": [
        ("cache_key", "Text"), ("namespace_id", "Text"), ("table_name", "Text"),
        ("scope", "Text"), ("etag", "Text"), ("last_refreshed", "Timestamp"),
        ("last_accessed", "Timestamp"), ("in_memory", "Boolean"), ("sync_state", "Text"),
        ("manifest_json", "Json")],
    "system.audit_log": [
        ("audit_id", "Text"), ("timestamp", "Timestamp"), ("actor_user_id", "Text"),
        ("action", "Text"), ("target", "Text"), ("details", "Text"), ("ip_address", "Text"),
        ("subject_user_id", "Text"), ("outcome", "Text")],
    "system.server_logs": [
        ("timestamp", "Text"), ("level", "Text"), ("thread", "Text"), ("target", "Text"),
        ("line", "BigInt"), ("message", "Text")],
    "information_schema.tables": [
        ("table_catalog", "Text"), ("table_schema", "Text"), ("table_name", "Text"),
        ("table_type", "Text")],
    "information_schema.columns": [
        ("table_catalog", "Text"), ("table_schema", "Text"), ("table_name", "Text"), ("column_name", "Text"),
        ("ordinal_position", "Int"), ("column_default", "Text"), ("is_nullable", "Text"),
        ("data_type", "Text")],
}


def wait_job(server, job_id, timeout=20):
    import time
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = server.rows(f"SELECT status FROM system.jobs WHERE job_id = '{job_id}'")
        if rows and rows[0][0] in ("completed", "failed", "cancelled", "skipped"):
            assert rows[0][0] == "completed", rows
            return
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def result(server, sql, **kw):
    return server.sql(sql, **kw)["results"][0]


@pytest.mark.parametrize("table", sorted(SCHEMAS))
def test_columns_and_types(server, table):
    res = result(server, f"SELECT * FROM {table} LIMIT 0")
    assert [(c["name"], c["data_type"]) for c in res["schema"]] == SCHEMAS[table]
    assert res["row_count"] == 0 and res["rows"] == []


def test_users_rows_and_no_password_hash(server):
    name = unique("sysu")
    server.sql(f"CREATE USER {name} WITH PASSWORD 'password123' ROLE service "
               f"EMAIL '{name}@example.com'")
    server.token(name, "password123")  # logs in: sets last_login_at
    r = server.sql_raw(f"SELECT * FROM system.users WHERE user_id = '{name}'")
    assert r.status_code == 200
    assert "argon2" not in r.text
    rows = r.json()["results"][0]["rows"]
    assert len(rows) == 1
    row = rows[0]
    assert row[:4] == [name, "service", f"{name}@example.com", "password"]
    assert isinstance(row[4], int) and row[4] == row[5]
    assert isinstance(row[6], int) and row[6] >= row[4]  # last_login_at
    assert row[7:] == [None, 0, None]
    everything = server.sql_raw("SELECT * FROM system.users")
    assert "argon2" not in everything.text and "password_hash" not in everything.text
    assert ["root", "system"] in [u[:2] for u in everything.json()["results"][0]["rows"]]


def test_dropped_user_has_deleted_at(server):
    name = unique("gone")
    server.create_user(name)
    server.sql(f"DROP USER {name}")
    [[deleted_at]] = server.rows(f"SELECT deleted_at FROM system.users WHERE user_id = '{name}'")
    assert isinstance(deleted_at, int) and deleted_at > 0


def test_namespaces_tables_and_columns(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.msgs (id INT PRIMARY KEY, body TEXT NOT NULL DEFAULT 'x', "
               "price DECIMAL(10,2)) WITH (FLUSH_POLICY = 'rows:100')")
    server.sql(f"CREATE SHARED TABLE {ns}.pub (id BIGINT PRIMARY KEY) "
               "WITH (ACCESS_LEVEL = 'PUBLIC')")
    assert server.rows(f"SELECT namespace_id, name, options, table_count FROM system.namespaces "
                       f"WHERE name = '{ns}'") == [[ns, ns, "{}", "2"]]
    assert server.rows(f"SELECT table_name, table_type, storage_id, version, comment, "
                       f"json_extract(options, '$.flush_policy'), "
                       f"json_extract(options, '$.access_level') FROM system.tables "
                       f"WHERE namespace_id = '{ns}' ORDER BY table_name") == [
        ["msgs", "USER", "local", 1, None, "rows:100", None],
        ["pub", "SHARED", "local", 1, None, None, "PUBLIC"]]
    assert server.rows(f"SELECT column_name, ordinal, data_type, nullable, primary_key, "
                       f"default_value FROM system.columns WHERE namespace_id = '{ns}' "
                       f"AND table_name = 'msgs' ORDER BY ordinal") == [
        ["id", 1, "INT", False, True, None],
        ["body", 2, "TEXT", False, False, "'x'"],
        ["price", 3, "DECIMAL(10,2)", True, False, None]]


def test_join_tables_and_columns(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.a (id INT PRIMARY KEY, x TEXT, y TEXT)")
    server.sql(f"CREATE SHARED TABLE {ns}.b (id INT PRIMARY KEY)")
    res = result(server, f"SELECT t.table_name, t.table_type, count(c.column_name) AS n "
                         f"FROM system.tables t JOIN system.columns c "
                         f"ON c.namespace_id = t.namespace_id AND c.table_name = t.table_name "
                         f"WHERE t.namespace_id = '{ns}' GROUP BY 1, 2 ORDER BY 1")
    assert [c["name"] for c in res["schema"]] == ["table_name", "table_type", "n"]
    assert res["rows"] == [["a", "USER", "3"], ["b", "SHARED", "1"]]


def test_schemas(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.s (id INT PRIMARY KEY, v TEXT)")
    assert server.rows(f"SELECT namespace_id, table_name, table_type, schema_version, is_latest, "
                       f"json_extract(columns, '$[1].column_name'), "
                       f"json_extract(options, '$.access_level') FROM system.schemas "
                       f"WHERE namespace_id = '{ns}'") == [
        [ns, "s", "SHARED", 1, True, "v", "PRIVATE"]]
    server.sql(f"ALTER TABLE {ns}.s ADD COLUMN w TEXT")
    assert server.rows(f"SELECT schema_version, is_latest, json_array_length(columns) "
                       f"FROM system.schemas WHERE namespace_id = '{ns}' "
                       f"ORDER BY schema_version") == [[1, False, "2"], [2, True, "3"]]
    assert server.rows(f"SELECT version, column_name FROM system.columns "
                       f"WHERE namespace_id = '{ns}' ORDER BY ordinal") == [
        [2, "id"], [2, "v"], [2, "w"]]


def test_storages(server):
    rows = server.rows("SELECT * FROM system.storages")
    assert len(rows) == 1
    assert rows[0][:7] == ["local", "Local storage", "Built-in storage under the data directory",
                           "filesystem", f"{server.data_dir}/storage", "{namespace}/{tableName}",
                           "{namespace}/{tableName}/{userId}"]
    assert isinstance(rows[0][7], int) and rows[0][7] == rows[0][8]


def test_jobs_and_live_are_empty(server):
    for table in ("system.jobs", "system.live"):
        res = result(server, f"SELECT * FROM {table}")
        assert res["row_count"] == 0 and res["rows"] == []
        assert [c["name"] for c in res["schema"]] == [n for n, _ in SCHEMAS[table]]


def test_stats_settings_datatypes(server):
    stats = dict(server.rows("SELECT metric_name, metric_value FROM system.stats"))
    for name in ("statement_cache_hits", "statement_cache_misses", "tables", "namespaces", "users",
                 "commits"):
        assert stats[name].isdigit(), (name, stats)
    assert int(stats["namespaces"]) >= 1
    settings = {r[0]: r[1:]
                for r in server.rows("SELECT name, value, description, category "
                                     "FROM system.settings")}
    assert settings["limits.default_query_limit"] == [
        "50", "Rows returned by a SELECT without a LIMIT.", "limits"]
    assert settings["limits.max_query_limit"][0] == "1000"
    assert settings["storage.data_dir"][0] == str(server.data_dir)
    assert settings["storage.data_dir"][2] == "storage"
    types = server.rows("SELECT sql_name, kalam_type FROM system.datatypes")
    assert len(types) == 35
    for pair in (["BIGINT", "BigInt"], ["INT8", "BigInt"], ["DOUBLE PRECISION", "Double"],
                 ["DECIMAL(p,s)", "Decimal"], ["JSONB", "Json"], ["EMBEDDING(n)", "Embedding"],
                 ["FILE", "File"]):
        assert pair in types


@pytest.mark.parametrize("role", ["user", "service"])
def test_non_dba_roles_get_403(server, role):
    name = server.create_user(unique(role))
    for sql in ("SELECT * FROM system.users", "SELECT count(*) FROM system.tables",
                "SELECT * FROM system.nope"):
        r = server.sql_raw(sql, user=name, password="password123")
        assert r.status_code == 403, r.text
        body = r.json()
        assert body["status"] == "error" and body["results"] == []
        assert body["error"] == DENIED


def test_dba_can_read(server):
    name = server.create_user(unique("dba"), role="dba")
    rows = server.rows(f"SELECT user_id, role FROM system.users WHERE user_id = '{name}'",
                       user=name, password="password123")
    assert rows == [[name, "dba"]]


@pytest.mark.parametrize("sql,table", [
    ("INSERT INTO system.users (user_id, role) VALUES ('evil', 'system')", "system.users"),
    ("UPDATE system.users SET role = 'user' WHERE user_id = 'root'", "system.users"),
    ("DELETE FROM system.namespaces", "system.namespaces"),
])
def test_system_tables_are_read_only(server, sql, table):
    err = server.sql_error(sql, status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert err["message"] == f"Statement 1 failed: Permission denied: System table '{table}' is read-only"
    assert server.rows("SELECT role FROM system.users WHERE user_id = 'root'") == [["system"]]


def test_unknown_system_table(server):
    err = server.sql_error("SELECT * FROM system.nope")
    assert err["code"] == "TABLE_NOT_FOUND"
    assert err["message"] == "Statement 1 failed: Not found: System table 'system.nope' does not exist"


def test_information_schema_shows_only_readable_tables(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.mine (id INT PRIMARY KEY, note TEXT NOT NULL)")
    server.sql(f"CREATE SHARED TABLE {ns}.open (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC')")
    server.sql(f"CREATE SHARED TABLE {ns}.closed (id INT PRIMARY KEY)")
    user = server.create_user(unique("isu"))
    tables = (f"SELECT * FROM information_schema.tables WHERE table_schema = '{ns}' "
              "ORDER BY table_name")
    assert server.rows(tables, user=user, password="password123") == [
        ["kalam", ns, "mine", "USER"], ["kalam", ns, "open", "SHARED"]]
    assert server.rows(tables) == [
        ["kalam", ns, "closed", "SHARED"], ["kalam", ns, "mine", "USER"],
        ["kalam", ns, "open", "SHARED"]]
    assert server.rows(f"SELECT * FROM information_schema.columns WHERE table_schema = '{ns}' "
                       "ORDER BY table_name, ordinal_position",
                       user=user, password="password123") == [
        ["kalam", ns, "mine", "id", 1, None, "NO", "INT"],
        ["kalam", ns, "mine", "note", 2, None, "NO", "TEXT"],
        ["kalam", ns, "open", "id", 1, None, "NO", "INT"]]
    err = server.sql_error("DELETE FROM information_schema.tables", user=user,
                           password="password123", status=403)
    assert err == {"code": "PERMISSION_DENIED",
                   "message": "Statement 1 failed: Permission denied: Table 'information_schema.tables' is read-only"}


def test_schemas_columns_use_the_wire_type_names_and_options_name_the_storage(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.w (id BIGINT PRIMARY KEY, doc JSON, "
               "v EMBEDDING(3), price DECIMAL(10,2) NOT NULL DEFAULT 1.5 COMMENT 'cost') "
               "WITH (ACCESS_LEVEL = 'PUBLIC')")
    import json
    [[columns, options, comment, access, storage, use_user_storage]] = server.rows(
        f"SELECT columns, options, table_comment, access_level, storage_id, use_user_storage "
        f"FROM system.schemas WHERE namespace_id = '{ns}' AND table_name = 'w'")
    assert json.loads(columns) == [
        {"column_id": 1, "column_name": "id", "column_comment": None, "data_type": "BigInt",
         "default_value": None, "ordinal_position": 1, "is_nullable": False,
         "is_primary_key": True, "is_partition_key": False},
        {"column_id": 2, "column_name": "doc", "column_comment": None, "data_type": "Json",
         "default_value": None, "ordinal_position": 2, "is_nullable": True,
         "is_primary_key": False, "is_partition_key": False},
        {"column_id": 3, "column_name": "v", "column_comment": None,
         "data_type": {"Embedding": 3}, "default_value": None, "ordinal_position": 3,
         "is_nullable": True, "is_primary_key": False, "is_partition_key": False},
        {"column_id": 4, "column_name": "price", "column_comment": "cost",
         "data_type": {"Decimal": {"precision": 10, "scale": 2}}, "default_value": "'1.50'",
         "ordinal_position": 4, "is_nullable": False, "is_primary_key": False,
         "is_partition_key": False}]
    assert json.loads(options)["storage_id"] == "local"
    assert [comment, access, storage, use_user_storage] == [None, "PUBLIC", "local", None]
    assert server.rows(f"SELECT column_name, primary_key_pos FROM system.columns "
                       f"WHERE namespace_id = '{ns}' AND table_name = 'w' ORDER BY ordinal") == [
        ["id", 1], ["doc", None], ["v", None], ["price", None]]


def test_manifest_lists_each_flushed_scope(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.m (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"CREATE SHARED TABLE {ns}.s (id INT PRIMARY KEY)")
    alice = server.create_user(unique("mal"))
    server.sql(f"INSERT INTO {ns}.m (id, v) VALUES (1, 'a'), (2, 'b')", user=alice,
               password="password123")
    server.sql(f"INSERT INTO {ns}.s (id) VALUES (7)")
    for t in ("m", "s"):
        job = server.sql(f"STORAGE FLUSH TABLE {ns}.{t}")["results"][0]["message"].split()[-1]
        wait_job(server, job)
    rows = server.rows(f"SELECT cache_key, namespace_id, table_name, scope, etag, in_memory, "
                       f"sync_state, json_extract(manifest_json, '$.segments[0].row_count'), "
                       f"last_refreshed = last_accessed, last_refreshed > 0 "
                       f"FROM system.manifest WHERE namespace_id = '{ns}' ORDER BY cache_key")
    assert rows == [
        [f"{ns}:m:{alice}", ns, "m", alice, None, True, "in_sync", "2", "1", "1"],
        [f"{ns}:s:shared", ns, "s", "shared", None, True, "in_sync", "1", "1", "1"]]


def test_job_nodes_has_one_row_per_job_on_this_node(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.j (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.j (id) VALUES (1)")
    job = server.sql(f"STORAGE FLUSH TABLE {ns}.j")["results"][0]["message"].split()[-1]
    wait_job(server, job)
    [[node, status, error, finished_eq_updated]] = server.rows(
        f"SELECT node_id, status, error_message, finished_at = updated_at "
        f"FROM system.job_nodes WHERE job_id = '{job}'")
    assert [node, status, error, finished_eq_updated] == ["1", "completed", None, "1"]


def test_stats_carry_the_original_metric_names(server):
    stats = dict(server.rows("SELECT metric_name, metric_value FROM system.stats"))
    for name in ("schema_cache_size", "schema_registry_size", "total_users", "total_tables",
                 "total_namespaces", "total_storages", "server_workers_effective",
                 "max_connections", "server_uptime_seconds", "memory_usage_bytes", "node_id"):
        assert stats[name].isdigit(), (name, stats.get(name))
    assert stats["max_connections"] == "10000"
    assert stats["schema_cache_size"] == stats["total_tables"]
    assert stats["cluster_mode"] == "false"
    assert stats["memory_usage_source"] == "rss"
    version = server.http.get(server.base + "/health").json()["version"]
    assert stats["server_version"] == version
    assert int(stats["server_workers_effective"]) >= 1


def test_cluster_of_one_node_without_a_cluster_section(server):
    """Without [cluster] the server is a cluster of one (docs/cluster.md): system.cluster shows
    this node leading, with no Raft groups and NULL Raft figures; system.cluster_groups is
    empty; GET /v1/api/cluster/health answers in the original's shape."""
    health = server.http.get(server.base + "/health").json()
    [row] = server.sql("SELECT * FROM system.cluster")["results"][0]["rows"]
    names = [n for n, _ in SCHEMAS["system.cluster"]]
    c = dict(zip(names, row))
    api_addr = f"127.0.0.1:{server.port}"
    assert {k: c[k] for k in names[:16]} == {
        "cluster_id": "standalone", "node_id": "1", "role": "leader", "status": "active",
        "rpc_addr": "", "api_addr": api_addr, "is_self": True, "is_leader": True,
        "groups_leading": 0, "total_groups": 0, "current_term": None, "last_applied_log": None,
        "leader_last_log_index": None, "snapshot_index": None, "catchup_progress_pct": None,
        "replication_lag": None}
    assert c["hostname"] == socket.gethostname()
    assert c["version"] == health["version"]
    assert (c["os"], c["arch"]) == (platform.system().lower(), platform.machine())
    assert int(c["memory_mb"]) > 0 and int(c["memory_usage_mb"]) > 0
    assert c["cpu_usage_percent"] is None
    assert c["uptime_human"] == (f"{int(c['uptime_seconds']) // 86400}d "
                                 f"{int(c['uptime_seconds']) // 3600 % 24}h "
                                 f"{int(c['uptime_seconds']) // 60 % 60}m "
                                 f"{int(c['uptime_seconds']) % 60}s")
    assert server.rows("SELECT * FROM system.cluster_groups") == []
    r = server.http.get(server.base + "/v1/api/cluster/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "healthy", "version": health["version"], "build_date": health["build_date"],
        "is_cluster_mode": False, "cluster_id": "standalone", "node_id": 1, "is_leader": True,
        "total_groups": 0, "groups_leading": 0, "current_term": None, "last_applied": None,
        "millis_since_quorum_ack": None,
        "nodes": [{"node_id": 1, "role": "leader", "status": "active", "api_addr": api_addr,
                   "is_self": True, "is_leader": True, "replication_lag": None,
                   "catchup_progress_pct": None}]}
