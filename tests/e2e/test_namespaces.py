"""SQL.md §2 namespaces; PROTOCOL §3 `namespace_id`, USE / SET NAMESPACE."""
import pytest

from helpers import assert_sql_error, msg_result, post_sql, unique

NS_SCHEMA = [
    {"name": "namespace_id", "data_type": "Text", "index": 0},
    {"name": "name", "data_type": "Text", "index": 1},
    {"name": "options", "data_type": "Json", "index": 2},
    {"name": "table_count", "data_type": "BigInt", "index": 3},
    {"name": "created_at", "data_type": "Timestamp", "index": 4},
]


def show_namespaces(server):
    res = server.sql("SHOW NAMESPACES")["results"]
    assert len(res) == 1
    assert res[0]["schema"] == NS_SCHEMA
    return {r[0]: r for r in res[0]["rows"]}


def test_create_namespace_message(server):
    name = unique("nsa")
    body = server.sql(f"CREATE NAMESPACE {name}")
    assert body["results"] == [msg_result(f"Namespace {name} created successfully")]
    rows = show_namespaces(server)
    assert rows[name][:4] == [name, name, "{}", "0"]
    assert isinstance(rows[name][4], int) and rows[name][4] > 1_700_000_000_000_000


def test_default_namespace_always_exists(server):
    rows = show_namespaces(server)
    assert "default" in rows
    assert rows["default"][:3] == ["default", "default", "{}"]


def test_default_namespace_cannot_be_dropped(server):
    err = server.sql_error("DROP NAMESPACE default", status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert err["message"] == "Statement 1 failed: Permission denied: Namespace 'default' cannot be dropped"
    err = server.sql_error("DROP NAMESPACE default CASCADE", status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert "default" in show_namespaces(server)


def test_create_existing_namespace_fails(server, ns):
    err = server.sql_error(f"CREATE NAMESPACE {ns}")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"] == f"Statement 1 failed: Already exists: Namespace '{ns}' already exists"


def test_create_namespace_if_not_exists(server, ns):
    body = server.sql(f"CREATE NAMESPACE IF NOT EXISTS {ns}")
    assert len(body["results"]) == 1
    assert body["results"][0]["row_count"] == 0
    new = unique("nsb")
    body = server.sql(f"CREATE NAMESPACE IF NOT EXISTS {new}")
    assert body["results"] == [msg_result(f"Namespace {new} created successfully")]
    assert new in show_namespaces(server)


def test_drop_namespace(server):
    name = unique("nsc")
    server.sql(f"CREATE NAMESPACE {name}")
    body = server.sql(f"DROP NAMESPACE {name}")
    assert body["results"] == [msg_result(f"Namespace {name} dropped successfully")]
    assert name not in show_namespaces(server)


def test_drop_missing_namespace(server):
    name = unique("nsd")
    err = server.sql_error(f"DROP NAMESPACE {name}")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"] == f"Statement 1 failed: Not found: Namespace '{name}' does not exist"
    body = server.sql(f"DROP NAMESPACE IF EXISTS {name}")
    assert len(body["results"]) == 1 and body["results"][0]["row_count"] == 0


def test_drop_namespace_with_tables_fails_naming_them(server, ns):
    server.sql(f"CREATE TABLE {ns}.alpha (id INT PRIMARY KEY)")
    server.sql(f"CREATE USER TABLE {ns}.beta (id INT PRIMARY KEY)")
    err = server.sql_error(f"DROP NAMESPACE {ns}")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert "alpha" in err["message"] and "beta" in err["message"], err
    assert "CASCADE" in err["message"], err
    assert ns in show_namespaces(server)
    assert show_namespaces(server)[ns][3] == "2"
    # tables untouched
    server.sql(f"INSERT INTO {ns}.alpha VALUES (1)")


def test_drop_namespace_cascade(server, ns):
    server.sql(f"CREATE TABLE {ns}.a (id INT PRIMARY KEY)")
    server.sql(f"CREATE USER TABLE {ns}.b (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.a VALUES (1), (2)")
    server.sql(f"INSERT INTO {ns}.b VALUES (1)")
    body = server.sql(f"DROP NAMESPACE {ns} CASCADE")
    assert body["results"] == [msg_result(f"Namespace {ns} dropped successfully")]
    assert ns not in show_namespaces(server)
    err = server.sql_error(f"SELECT * FROM {ns}.a")
    assert err["code"] == "TABLE_NOT_FOUND"
    # recreate: empty namespace, recreated tables are empty
    server.sql(f"CREATE NAMESPACE {ns}")
    assert show_namespaces(server)[ns][3] == "0"
    server.sql(f"CREATE TABLE {ns}.a (id INT PRIMARY KEY)")
    assert server.rows(f"SELECT id FROM {ns}.a") == []


def test_table_count(server, ns):
    for i in range(3):
        server.sql(f"CREATE TABLE {ns}.t{i} (id INT PRIMARY KEY)")
    assert show_namespaces(server)[ns][3] == "3"
    server.sql(f"DROP TABLE {ns}.t1")
    assert show_namespaces(server)[ns][3] == "2"


def test_create_table_missing_namespace(server):
    name = unique("missing")
    err = server.sql_error(f"CREATE TABLE {name}.t (id INT PRIMARY KEY)")
    assert err["message"] == f"Statement 1 failed: Not found: Namespace '{name}' does not exist. Create it first with CREATE NAMESPACE."
    assert err["code"] in ("SQL_EXECUTION_ERROR", "INVALID_SQL")


def test_create_user_table_missing_namespace(server):
    err = server.sql_error("CREATE USER TABLE nosuchns.t (id INT PRIMARY KEY)")
    assert err["message"] == "Statement 1 failed: Not found: Namespace 'nosuchns' does not exist. Create it first with CREATE NAMESPACE."


def test_create_table_in_system_rejected(server):
    err = server.sql_error("CREATE TABLE system.mine (id INT PRIMARY KEY)")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR", "PERMISSION_DENIED")
    assert "system" in err["message"]


@pytest.mark.parametrize("stmt", ["USE {ns}", "USE NAMESPACE {ns}", "SET NAMESPACE {ns}"])
def test_use_switches_namespace_for_rest_of_request(server, ns, stmt):
    server.sql(f"CREATE TABLE {ns}.items (id INT PRIMARY KEY, v TEXT)")
    body = server.sql(stmt.format(ns=ns) + "; INSERT INTO items VALUES (1, 'x'); "
                      "SELECT id, v FROM items")
    assert body["results"] == [
        msg_result(f"Namespace switched to '{ns}'"),
        {"schema": [{"name": "id", "data_type": "Int", "index": 0, "flags": ["pk", "nn", "uq"]},
                    {"name": "v", "data_type": "Text", "index": 1}],
         "rows": [[1, "x"]], "row_count": 1, "as_user": "root"},
        msg_result("Inserted 1 row(s)", 1),
    ]
    # the switch does not outlive the request
    err = server.sql_error("SELECT id FROM items")
    assert err["code"] == "TABLE_NOT_FOUND"
    assert err["message"] == "Statement 1 failed: Not found: Table 'default.items' does not exist"


def test_use_only_affects_later_statements(server, ns):
    server.sql(f"CREATE TABLE {ns}.only (id INT PRIMARY KEY)")
    r = server.sql_raw(f"SELECT * FROM only; USE {ns}")
    assert_sql_error(r, 400, "TABLE_NOT_FOUND",
                     message="Statement 1 failed: Not found: Table 'default.only' does not exist")


def test_use_missing_namespace_fails(server):
    err = server.sql_error("USE nosuch_ns_zz")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"] == "Statement 1 failed: Not found: Namespace 'nosuch_ns_zz' does not exist"


def test_namespace_id_request_field(server, ns):
    server.sql(f"CREATE TABLE {ns}.things (id INT PRIMARY KEY)")
    server.sql("INSERT INTO things VALUES (7)", namespace_id=ns)
    assert server.rows("SELECT id FROM things", namespace_id=ns) == [[7]]
    assert server.rows(f"SELECT id FROM {ns}.things") == [[7]]
    # qualified names ignore namespace_id
    assert server.rows(f"SELECT id FROM {ns}.things", namespace_id="default") == [[7]]
    # unqualified CREATE TABLE lands in namespace_id
    body = server.sql("CREATE TABLE other (id INT PRIMARY KEY)", namespace_id=ns)
    assert body["results"] == [msg_result(f"shared table {ns}.other created successfully")]


def test_namespace_id_then_use(server, ns):
    ns2 = unique("nse")
    server.sql(f"CREATE NAMESPACE {ns2}")
    server.sql(f"CREATE TABLE {ns}.x (id INT PRIMARY KEY)")
    server.sql(f"CREATE TABLE {ns2}.x (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.x VALUES (1)")
    server.sql(f"INSERT INTO {ns2}.x VALUES (2)")
    body = server.sql(f"SELECT id FROM x; USE {ns2}; SELECT id FROM x", namespace_id=ns)
    res = body["results"]
    assert [r.get("rows") for r in res] == [[[1]], None, [[2]]]


def test_namespace_id_default_when_absent(server):
    name = unique("dflt")
    body = server.sql(f"CREATE TABLE {name} (id INT PRIMARY KEY)")
    assert body["results"] == [msg_result(f"shared table default.{name} created successfully")]
    server.sql(f"INSERT INTO {name} VALUES (5)")
    assert server.rows(f"SELECT id FROM {name}", namespace_id="default") == [[5]]
    server.sql(f"DROP TABLE default.{name}")


@pytest.mark.parametrize("stmt,expect", [
    ("INSERT INTO default.{t} VALUES (2, 'b')", None),
    ("SELECT id FROM default.{t} ORDER BY id", [[1]]),
    ("SELECT a.id FROM default.{t} a JOIN default.{t} b ON a.id = b.id", [[1]]),
    ("UPDATE default.{t} SET v = 'x' WHERE id = 99", None),
    ("DELETE FROM default.{t} WHERE id = 99", None),
])
def test_default_namespace_qualified_dml(server, stmt, expect):
    """`default` is an SQLite keyword, but `default.t` is an ordinary qualified table name here
    (SQL.md: a table is always addressed as namespace.table)."""
    name = unique("dq")
    server.sql(f"CREATE TABLE default.{name} (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {name} VALUES (1, 'a')")
    try:
        body = server.sql(stmt.format(t=name))
        if expect is not None:
            assert body["results"][0]["rows"] == expect
    finally:
        server.sql(f"DROP TABLE default.{name}")


def test_namespace_names_case_insensitive(server):
    name = unique("MiXed")
    body = server.sql(f"CREATE NAMESPACE {name}")
    assert body["results"] == [msg_result(f"Namespace {name.lower()} created successfully")]
    server.sql(f"CREATE TABLE {name.upper()}.T (ID INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {name.lower()}.t (id) VALUES (1)")
    assert server.rows(f"SELECT Id FROM {name}.t") == [[1]]
    server.sql(f"DROP NAMESPACE {name.upper()} CASCADE")


@pytest.mark.parametrize("bad", ["a" * 65])
def test_namespace_name_too_long(server, bad):
    err = server.sql_error(f"CREATE NAMESPACE {bad}")
    assert err["code"] == "INVALID_SQL"
    assert bad in err["message"]


def test_namespace_name_64_ok(server):
    name = "n" * 63 + "z"
    server.sql(f"CREATE NAMESPACE {name}")
    server.sql(f"DROP NAMESPACE {name}")


def test_namespace_ddl_requires_dba(server):
    user = unique("nsuser")
    server.create_user(user)
    err = server.sql_error(f"CREATE NAMESPACE {unique('nope')}", user=user, password="password123",
                           status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert "details" not in err
    err = server.sql_error("DROP NAMESPACE default", user=user, password="password123", status=403)
    assert err["code"] == "PERMISSION_DENIED"
