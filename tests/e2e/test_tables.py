"""SQL.md §1-§2 tables: CREATE USER/SHARED TABLE, WITH options, validation, DESCRIBE, SHOW, DROP."""
import pytest

from helpers import PK, msg_result

DESCRIBE_SCHEMA = [
    {"name": "column_name", "data_type": "Text", "index": 0},
    {"name": "ordinal_position", "data_type": "Int", "index": 1},
    {"name": "column_id", "data_type": "Int", "index": 2},
    {"name": "data_type", "data_type": "Text", "index": 3},
    {"name": "is_nullable", "data_type": "Boolean", "index": 4},
    {"name": "is_primary_key", "data_type": "Boolean", "index": 5},
    {"name": "column_default", "data_type": "Text", "index": 6},
    {"name": "column_comment", "data_type": "Text", "index": 7},
    {"name": "schema_version", "data_type": "Int", "index": 8},
]

SHOW_TABLES_NAMES = ["namespace_id", "table_name", "table_type", "storage_id", "version",
                     "created_at", "updated_at"]


def show_tables(server, ns):
    res = server.sql(f"SHOW TABLES IN {ns}")["results"][0]
    assert [c["name"] for c in res["schema"]] == SHOW_TABLES_NAMES
    return {r[1]: r for r in res.get("rows", [])}


def test_create_user_table_message(server, ns):
    body = server.sql(f"CREATE USER TABLE {ns}.t (id BIGINT PRIMARY KEY, body TEXT)")
    assert body["results"] == [msg_result(f"user table {ns}.t created successfully")]
    assert show_tables(server, ns)["t"][:5] == [ns, "t", "USER", "local", 1]


def test_create_shared_table_message(server, ns):
    body = server.sql(f"CREATE SHARED TABLE {ns}.s (id INT PRIMARY KEY)")
    assert body["results"] == [msg_result(f"shared table {ns}.s created successfully")]
    assert show_tables(server, ns)["s"][:5] == [ns, "s", "SHARED", "local", 1]


def test_plain_create_table_is_shared(server, ns):
    body = server.sql(f"CREATE TABLE {ns}.p (id INT PRIMARY KEY)")
    assert body["results"] == [msg_result(f"shared table {ns}.p created successfully")]
    assert show_tables(server, ns)["p"][2] == "SHARED"


def test_with_type_user(server, ns):
    body = server.sql(f"CREATE TABLE {ns}.u (id INT PRIMARY KEY) WITH (TYPE = 'USER')")
    assert body["results"] == [msg_result(f"user table {ns}.u created successfully")]
    assert show_tables(server, ns)["u"][2] == "USER"


def test_with_all_user_options_accepted(server, ns):
    body = server.sql(
        f"CREATE TABLE {ns}.full (id INT PRIMARY KEY) WITH (TYPE = 'USER', STORAGE_ID = 'local', "
        "USE_USER_STORAGE = TRUE, FLUSH_POLICY = 'rows:100,interval:60', "
        "DELETED_RETENTION_HOURS = 168)")
    assert body["results"] == [msg_result(f"user table {ns}.full created successfully")]


@pytest.mark.parametrize("level", ["PUBLIC", "PRIVATE", "RESTRICTED", "DBA"])
def test_with_access_level_on_shared(server, ns, level):
    body = server.sql(f"CREATE SHARED TABLE {ns}.a (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = '{level}')")
    assert body["results"] == [msg_result(f"shared table {ns}.a created successfully")]


@pytest.mark.parametrize("policy", ["rows:1", "interval:5", "rows:10,interval:3"])
def test_with_flush_policy_valid(server, ns, policy):
    server.sql(f"CREATE TABLE {ns}.f (id INT PRIMARY KEY) WITH (FLUSH_POLICY = '{policy}')")
    server.sql(f"INSERT INTO {ns}.f VALUES (1)")
    assert server.rows(f"SELECT id FROM {ns}.f") == [[1]]


@pytest.mark.parametrize("options,needle", [
    ("FLUSH_POLICY = 'bogus'", "FLUSH_POLICY"),
    ("FLUSH_POLICY = 'rows:0'", "FLUSH_POLICY"),
    ("FLUSH_POLICY = 'rows:abc'", "FLUSH_POLICY"),
    ("FOO = 1", "FOO"),
    ("TTL_SECONDS = 30", "TTL_SECONDS"),
    ("ACCESS_LEVEL = 'WEIRD'", "ACCESS_LEVEL"),
    ("TYPE = 'WEIRD'", "TYPE"),
    ("STORAGE_ID = 'nope'", "nope"),
])
def test_with_invalid_option_on_shared(server, ns, options, needle):
    err = server.sql_error(f"CREATE TABLE {ns}.bad (id INT PRIMARY KEY) WITH ({options})")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR"), err
    assert needle in err["message"], err
    assert err["details"] == f"CREATE TABLE {ns}.bad (id INT PRIMARY KEY) WITH ({options})"
    assert "bad" not in show_tables(server, ns)


@pytest.mark.parametrize("options,needle", [
    ("ACCESS_LEVEL = 'PUBLIC'", "ACCESS_LEVEL"),
    ("TTL_SECONDS = 10", "TTL_SECONDS"),
])
def test_with_invalid_option_on_user(server, ns, options, needle):
    err = server.sql_error(f"CREATE USER TABLE {ns}.bad (id INT PRIMARY KEY) WITH ({options})")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR"), err
    assert needle in err["message"], err
    assert "bad" not in show_tables(server, ns)


def test_type_option_conflicts_with_keyword(server, ns):
    err = server.sql_error(f"CREATE SHARED TABLE {ns}.c (id INT PRIMARY KEY) WITH (TYPE = 'USER')")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert "TYPE" in err["message"]


def test_stream_table_requires_ttl(server, ns):
    err = server.sql_error(f"CREATE STREAM TABLE {ns}.st (id INT PRIMARY KEY)")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert "TTL_SECONDS" in err["message"]


def test_no_primary_key(server, ns):
    err = server.sql_error(f"CREATE TABLE {ns}.x (a INT, b TEXT)")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert "PRIMARY KEY" in err["message"]


def test_two_primary_keys(server, ns):
    err = server.sql_error(f"CREATE TABLE {ns}.x (a INT PRIMARY KEY, b INT PRIMARY KEY)")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert "PRIMARY KEY" in err["message"]


def test_composite_primary_key_rejected(server, ns):
    err = server.sql_error(f"CREATE TABLE {ns}.x (a INT, b INT, PRIMARY KEY (a, b))")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert "PRIMARY KEY" in err["message"].upper()
    assert "x" not in show_tables(server, ns)


def test_table_level_single_primary_key_ok(server, ns):
    server.sql(f"CREATE TABLE {ns}.x (a INT, b TEXT, PRIMARY KEY (a))")
    rows = server.rows(f"DESCRIBE TABLE {ns}.x")
    assert [(r[0], r[4], r[5]) for r in rows] == [("a", False, True), ("b", True, False)]


def test_duplicate_column(server, ns):
    err = server.sql_error(f"CREATE TABLE {ns}.x (a INT PRIMARY KEY, A TEXT)")
    assert err["code"] == "INVALID_SQL", err  # column names are case-insensitive
    assert err["message"] == f"Duplicate column name 'A' in CREATE TABLE {ns}.x", err


@pytest.mark.parametrize("colname", ["_seq", "_deleted", "_SEQ"])
def test_reserved_system_column(server, ns, colname):
    err = server.sql_error(f"CREATE TABLE {ns}.x (a INT PRIMARY KEY, {colname} BIGINT)")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert colname.lower() in err["message"].lower()


def test_unknown_type(server, ns):
    err = server.sql_error(f"CREATE TABLE {ns}.x (a INT PRIMARY KEY, b FOOTYPE)")
    assert err["code"] in ("INVALID_SQL", "SQL_EXECUTION_ERROR")
    assert "FOOTYPE" in err["message"].upper()


def test_create_existing_table(server, ns):
    server.sql(f"CREATE TABLE {ns}.x (id INT PRIMARY KEY)")
    err = server.sql_error(f"CREATE TABLE {ns}.x (id INT PRIMARY KEY)")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"] == f"Statement 1 failed: Already exists: Table '{ns}.x' already exists"
    body = server.sql(f"CREATE TABLE IF NOT EXISTS {ns}.x (id INT PRIMARY KEY, extra TEXT)")
    assert body["results"][0]["row_count"] == 0
    # the original definition is kept
    assert [r[0] for r in server.rows(f"DESCRIBE TABLE {ns}.x")] == ["id"]


def test_describe_table_exact(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.d (id BIGINT PRIMARY KEY, body TEXT NOT NULL, "
               "n INT DEFAULT 7, price DECIMAL(10,2), e EMBEDDING(3))")
    for stmt in (f"DESCRIBE TABLE {ns}.d", f"DESC TABLE {ns}.d"):
        res = server.sql(stmt)["results"]
        assert len(res) == 1
        assert res[0]["schema"] == DESCRIBE_SCHEMA
        assert res[0]["row_count"] == 5
        assert res[0]["rows"] == [
            ["id", 1, 1, "BIGINT", False, True, None, None, 1],
            ["body", 2, 2, "TEXT", False, False, None, None, 1],
            ["n", 3, 3, "INT", True, False, "7", None, 1],
            ["price", 4, 4, "DECIMAL(10,2)", True, False, None, None, 1],
            ["e", 5, 5, "EMBEDDING(3)", True, False, None, None, 1],
        ]


def test_describe_unqualified_uses_namespace_id(server, ns):
    server.sql(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY)")
    assert server.rows("DESCRIBE TABLE d", namespace_id=ns) == [["id", 1, 1, "INT", False, True, None, None, 1]]


def test_describe_missing_table(server, ns):
    err = server.sql_error(f"DESCRIBE TABLE {ns}.nope")
    assert err["code"] == "TABLE_NOT_FOUND"
    assert err["message"] == f"Statement 1 failed: Not found: Table '{ns}.nope' does not exist"


def test_show_tables(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.b (id INT PRIMARY KEY)")
    server.sql(f"CREATE SHARED TABLE {ns}.a (id INT PRIMARY KEY)")
    res = server.sql(f"SHOW TABLES IN {ns}")["results"][0]
    assert res["schema"] == [
        {"name": "namespace_id", "data_type": "Text", "index": 0},
        {"name": "table_name", "data_type": "Text", "index": 1},
        {"name": "table_type", "data_type": "Text", "index": 2},
        {"name": "storage_id", "data_type": "Text", "index": 3},
        {"name": "version", "data_type": "Int", "index": 4},
        {"name": "created_at", "data_type": "Timestamp", "index": 5},
        {"name": "updated_at", "data_type": "Timestamp", "index": 6},
    ]
    assert [r[:5] for r in res["rows"]] == [[ns, "a", "SHARED", "local", 1],
                                             [ns, "b", "USER", "local", 1]]
    assert res["row_count"] == 2
    same = server.sql(f"SHOW TABLES IN NAMESPACE {ns}")["results"][0]["rows"]
    assert same == res["rows"]


def test_show_tables_missing_namespace(server):
    err = server.sql_error("SHOW TABLES IN no_such_namespace_q")
    assert err["code"] in ("SQL_EXECUTION_ERROR", "TABLE_NOT_FOUND")
    assert "no_such_namespace_q" in err["message"]


def test_drop_table_then_gone_and_recreate_empty(server, ns):
    server.sql(f"CREATE TABLE {ns}.t (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {ns}.t VALUES (1, 'a'), (2, 'b')")
    server.sql(f"DELETE FROM {ns}.t WHERE id = 2")
    body = server.sql(f"DROP TABLE {ns}.t")
    assert body["results"] == [msg_result(f"Table {ns}.t dropped successfully")]
    err = server.sql_error(f"SELECT * FROM {ns}.t")
    assert err["code"] == "TABLE_NOT_FOUND"
    assert err["message"] == f"Statement 1 failed: Not found: Table '{ns}.t' does not exist"
    err = server.sql_error(f"INSERT INTO {ns}.t VALUES (3, 'c')")
    assert err["code"] == "TABLE_NOT_FOUND"
    assert "t" not in show_tables(server, ns)
    server.sql(f"CREATE TABLE {ns}.t (id INT PRIMARY KEY, v TEXT)")
    assert server.rows(f"SELECT * FROM {ns}.t") == []
    assert server.rows(f"SELECT id FROM {ns}.t WHERE _deleted = true") == []
    server.sql(f"INSERT INTO {ns}.t VALUES (1, 'new')")  # no PK clash with the dropped row
    assert server.rows(f"SELECT id, v FROM {ns}.t") == [[1, "new"]]


def test_drop_user_table_then_recreate_empty(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.u (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.u VALUES (1)")
    server.sql(f"DROP USER TABLE {ns}.u")
    server.sql(f"CREATE USER TABLE {ns}.u (id INT PRIMARY KEY)")
    assert server.rows(f"SELECT id FROM {ns}.u") == []


def test_drop_missing_table(server, ns):
    err = server.sql_error(f"DROP TABLE {ns}.nope")
    assert err["code"] == "TABLE_NOT_FOUND"
    body = server.sql(f"DROP TABLE IF EXISTS {ns}.nope")
    assert body["results"][0]["row_count"] == 0


def test_drop_table_wrong_type(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.s (id INT PRIMARY KEY)")
    err = server.sql_error(f"DROP USER TABLE {ns}.s")
    assert err["code"] in ("SQL_EXECUTION_ERROR", "TABLE_NOT_FOUND")
    assert "s" in show_tables(server, ns)


def test_select_star_schema_has_system_columns_last(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.m (id BIGINT PRIMARY KEY, body TEXT NOT NULL)")
    res = server.sql(f"SELECT * FROM {ns}.m")["results"][0]
    assert res["schema"] == [
        {"name": "id", "data_type": "BigInt", "index": 0, "flags": PK},
        {"name": "body", "data_type": "Text", "index": 1, "flags": ["nn"]},
        {"name": "_seq", "data_type": "BigInt", "index": 2},
        {"name": "_deleted", "data_type": "Boolean", "index": 3},
    ]
    assert res["rows"] == []
    assert res["row_count"] == 0


def test_user_role_can_create_user_table_not_shared(server, ns):
    from helpers import unique
    u = unique("tblu")
    server.create_user(u)
    body = server.sql(f"CREATE USER TABLE {ns}.mine (id INT PRIMARY KEY)", user=u, password="password123")
    assert body["results"] == [msg_result(f"user table {ns}.mine created successfully", as_user=u)]
    err = server.sql_error(f"CREATE SHARED TABLE {ns}.sh (id INT PRIMARY KEY)", user=u,
                           password="password123", status=403)
    assert err["code"] == "PERMISSION_DENIED"
    err = server.sql_error(f"DROP TABLE {ns}.mine", user=u, password="password123", status=403)
    assert err["code"] == "PERMISSION_DENIED"
