"""SQL.md §3 types and PROTOCOL §5 value encoding: literals, params, schema names, rejects,
defaults, AUTO_INCREMENT, NOT NULL."""
import re
import time

import pytest

from helpers import PK, seq_time_ms, unique

TS_2026 = 1777629600000000  # 2026-05-01T10:00:00Z in µs

# SQL type → schema data_type
TYPE_NAMES = [
    ("BOOLEAN", "Boolean"), ("SMALLINT", "SmallInt"), ("INT", "Int"), ("BIGINT", "BigInt"),
    ("FLOAT", "Float"), ("DOUBLE", "Double"),
    ("DECIMAL(10,2)", {"Decimal": {"precision": 10, "scale": 2}}),
    ("TEXT", "Text"), ("BYTES", "Bytes"), ("JSON", "Json"), ("TIMESTAMP", "Timestamp"),
    ("DATETIME", "DateTime"), ("DATE", "Date"), ("TIME", "Time"), ("UUID", "Uuid"),
    ("EMBEDDING(3)", {"Embedding": 3}), ("FILE", "File"),
]

ALIASES = [
    ("BOOL", "Boolean"), ("INT2", "SmallInt"), ("INTEGER", "Int"), ("INT4", "Int"),
    ("INT8", "BigInt"), ("REAL", "Float"), ("FLOAT4", "Float"), ("DOUBLE PRECISION", "Double"),
    ("FLOAT8", "Double"), ("NUMERIC(5,1)", {"Decimal": {"precision": 5, "scale": 1}}),
    ("NUMERIC", {"Decimal": {"precision": 38, "scale": 10}}),
    ("DECIMAL", {"Decimal": {"precision": 38, "scale": 10}}),
    ("VARCHAR", "Text"), ("CHAR", "Text"), ("STRING", "Text"), ("BINARY", "Bytes"),
    ("VARBINARY", "Bytes"), ("BLOB", "Bytes"), ("BYTEA", "Bytes"), ("JSONB", "Json"),
    ("EMBEDDING(384)", {"Embedding": 384}),
]


def make(server, ns, sql_type, name="v"):
    table = unique("ty")
    server.sql(f"CREATE TABLE {ns}.{table} (id INT PRIMARY KEY, {name} {sql_type})")
    return f"{ns}.{table}"


def test_all_types_schema(server, ns):
    cols = ", ".join(f"c{i} {t}" for i, (t, _) in enumerate(TYPE_NAMES))
    server.sql(f"CREATE TABLE {ns}.all_types (id INT PRIMARY KEY, {cols})")
    schema = server.sql(f"SELECT * FROM {ns}.all_types")["results"][0]["schema"]
    expected = [{"name": "id", "data_type": "Int", "index": 0, "flags": PK}]
    for i, (_, dt) in enumerate(TYPE_NAMES):
        expected.append({"name": f"c{i}", "data_type": dt, "index": i + 1})
    n = len(expected)
    expected += [{"name": "_seq", "data_type": "BigInt", "index": n},
                 {"name": "_deleted", "data_type": "Boolean", "index": n + 1}]
    assert schema == expected


@pytest.mark.parametrize("alias,dt", ALIASES)
def test_alias_schema_name(server, ns, alias, dt):
    t = make(server, ns, alias)
    schema = server.sql(f"SELECT v FROM {t}")["results"][0]["schema"]
    assert schema == [{"name": "v", "data_type": dt, "index": 0}]


def test_one_row_all_types_literals(server, ns):
    cols = ", ".join(f"c{i} {t}" for i, (t, _) in enumerate(TYPE_NAMES))
    server.sql(f"CREATE TABLE {ns}.row (id INT PRIMARY KEY, {cols})")
    server.sql(
        f"INSERT INTO {ns}.row VALUES (1, TRUE, 12, 34, 9007199254740993, 1.5, 2.25, 200.75, 'hi', "
        "'hi', '{\"a\":1}', '2026-05-01T10:00:00Z', '2026-05-01T12:00:00+02:00', '2026-05-01', "
        "'12:34:56.5', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '[0.5,0.25,-1]', "
        "'{\"id\":\"f1\"}')")
    rows = server.rows(f"SELECT * FROM {ns}.row")
    assert len(rows) == 1
    assert rows[0][:-2] == [1, True, 12, 34, "9007199254740993", 1.5, 2.25, "200.75", "hi",
                            [104, 105], '{"a":1}', TS_2026, TS_2026, 20574, 45296500000,
                            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", [0.5, 0.25, -1.0], '{"id":"f1"}']
    assert isinstance(rows[0][-2], str) and rows[0][-1] is False


# (sql type, SQL literal, expected JSON value)
LITERALS = [
    ("BOOLEAN", "TRUE", True), ("BOOLEAN", "FALSE", False), ("BOOLEAN", "NULL", None),
    ("SMALLINT", "-32768", -32768), ("SMALLINT", "32767", 32767),
    ("INT", "2147483647", 2147483647), ("INT", "-2147483648", -2147483648),
    ("BIGINT", "9223372036854775807", "9223372036854775807"),
    ("BIGINT", "-9223372036854775808", "-9223372036854775808"),
    ("BIGINT", "'42'", "42"), ("BIGINT", "0", "0"),
    ("FLOAT", "1.5", 1.5), ("FLOAT", "-0.25", -0.25), ("FLOAT", "0.1", 0.1),
    ("DOUBLE", "0.1", 0.1), ("DOUBLE", "-1e300", -1e300), ("DOUBLE", "3", 3.0),
    ("DECIMAL(10,2)", "200.75", "200.75"), ("DECIMAL(10,2)", "5", "5.00"),
    ("DECIMAL(10,2)", "'-0.5'", "-0.50"), ("DECIMAL(10,2)", "12345678.99", "12345678.99"),
    ("DECIMAL(10,2)", "0", "0.00"), ("DECIMAL(5,0)", "99999", "99999"),
    ("DECIMAL(4,4)", "0.1234", "0.1234"),
    ("TEXT", "'héllo ✓'", "héllo ✓"), ("TEXT", "''", ""), ("TEXT", "'it''s'", "it's"),
    ("BYTES", "'hi'", [104, 105]), ("BYTES", "x'00ff'", [0, 255]), ("BYTES", "''", []),
    ("BYTES", "'é'", [195, 169]),
    ("JSON", "'{\"a\":1,\"b\":[true,null]}'", '{"a":1,"b":[true,null]}'),
    ("JSON", "'[1,2]'", "[1,2]"), ("JSON", "'\"s\"'", '"s"'), ("JSON", "'42'", "42"),
    ("TIMESTAMP", "'2026-05-01T10:00:00Z'", TS_2026),
    ("TIMESTAMP", "'2026-05-01T10:00:00.123456Z'", TS_2026 + 123456),
    ("TIMESTAMP", str(TS_2026), TS_2026),
    ("TIMESTAMP", "'1969-12-31T23:59:59Z'", -1000000),
    ("TIMESTAMP", "'2000-01-01T00:00:00Z'", 946684800000000),
    ("DATETIME", "'2026-05-01T12:00:00+02:00'", TS_2026),
    ("DATETIME", "'2026-05-01T05:30:00-04:30'", TS_2026),
    ("DATETIME", "'2026-05-01T10:00:00Z'", TS_2026),
    ("DATETIME", str(TS_2026 + 1), TS_2026 + 1),
    ("DATE", "'2026-05-01'", 20574), ("DATE", "'1970-01-01'", 0), ("DATE", "'1969-12-31'", -1),
    ("DATE", "'2024-02-29'", 19782), ("DATE", "'1900-01-01'", -25567),
    ("TIME", "'12:34:56'", 45296000000), ("TIME", "'00:00:00'", 0),
    ("TIME", "'23:59:59.999999'", 86399999999), ("TIME", "'12:34:56.5'", 45296500000),
    ("UUID", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ("UUID", "'00000000-0000-0000-0000-000000000000'", "00000000-0000-0000-0000-000000000000"),
    ("EMBEDDING(3)", "'[0.1,0.2,0.3]'", [0.1, 0.2, 0.3]),
    ("EMBEDDING(3)", "'[1,2,3]'", [1.0, 2.0, 3.0]),
    ("EMBEDDING(3)", "' [ -1.5 , 0 , 2 ] '", [-1.5, 0.0, 2.0]),
    ("FILE", "'{\"id\":\"f1\",\"name\":\"a.txt\",\"size\":3}'", '{"id":"f1","name":"a.txt","size":3}'),
]


@pytest.mark.parametrize("sql_type,literal,expected", LITERALS,
                         ids=[f"{t}-{lit}" for t, lit, _ in LITERALS])
def test_literal_roundtrip(server, ns, sql_type, literal, expected):
    t = make(server, ns, sql_type)
    server.sql(f"INSERT INTO {t} (id, v) VALUES (1, {literal})")
    res = server.sql(f"SELECT v FROM {t}")["results"][0]
    assert res["rows"] == [[expected]]
    assert type(res["rows"][0][0]) is type(expected)


# (sql type, JSON param, expected JSON value)
PARAMS = [
    ("BOOLEAN", True, True), ("BOOLEAN", False, False), ("BOOLEAN", None, None),
    ("SMALLINT", -7, -7), ("INT", 123456, 123456),
    ("BIGINT", 42, "42"), ("BIGINT", "42", "42"), ("BIGINT", 9007199254740993, "9007199254740993"),
    ("BIGINT", "-9223372036854775808", "-9223372036854775808"),
    ("FLOAT", 1.5, 1.5), ("DOUBLE", 2.25, 2.25), ("DOUBLE", 7, 7.0),
    ("DECIMAL(10,2)", "3.1", "3.10"), ("DECIMAL(10,2)", 7, "7.00"), ("DECIMAL(10,2)", 1.1, "1.10"),
    ("DECIMAL(10,2)", "-12345678.99", "-12345678.99"),
    ("TEXT", "x'); DROP TABLE y; --", "x'); DROP TABLE y; --"),
    ("BYTES", "hi", [104, 105]), ("BYTES", "é", [195, 169]),
    ("JSON", '{"k":[1,2]}', '{"k":[1,2]}'),
    ("TIMESTAMP", "2026-05-01T10:00:00Z", TS_2026), ("TIMESTAMP", TS_2026 + 7, TS_2026 + 7),
    ("DATETIME", "2026-05-01T10:00:00.000001+00:00", TS_2026 + 1),
    ("DATE", "2026-05-01", 20574), ("TIME", "00:00:01", 1000000),
    ("UUID", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    ("EMBEDDING(3)", "[0.5,1,2]", [0.5, 1.0, 2.0]),
    ("FILE", '{"id":"f2"}', '{"id":"f2"}'),
]


@pytest.mark.parametrize("sql_type,param,expected", PARAMS,
                         ids=[f"{t}-{p!r}" for t, p, _ in PARAMS])
def test_param_roundtrip(server, ns, sql_type, param, expected):
    t = make(server, ns, sql_type)
    server.sql(f"INSERT INTO {t} (id, v) VALUES ($1, $2)", params=[1, param])
    res = server.sql(f"SELECT v FROM {t} WHERE id = $1", params=[1])["results"][0]
    assert res["rows"] == [[expected]]
    assert type(res["rows"][0][0]) is type(expected)


def test_param_in_where_matches_typed_values(server, ns):
    t = make(server, ns, "BIGINT")
    server.sql(f"INSERT INTO {t} VALUES (1, 9007199254740993), (2, 5)")
    assert server.rows(f"SELECT id FROM {t} WHERE v = $1", params=["9007199254740993"]) == [[1]]
    assert server.rows(f"SELECT id FROM {t} WHERE v = $1", params=[5]) == [[2]]


# (sql type, bad SQL literal)
BAD = [
    ("INT", "'abc'"), ("INT", "1.5"), ("INT", "3000000000"), ("SMALLINT", "70000"),
    ("SMALLINT", "-40000"), ("BIGINT", "'x'"), ("BIGINT", "'99999999999999999999'"),
    ("BOOLEAN", "'yes'"), ("BOOLEAN", "2"), ("FLOAT", "'x'"), ("FLOAT", "3.4e39"),
    ("FLOAT", "9e999"), ("DOUBLE", "9e999"), ("DOUBLE", "'abc'"),
    ("DECIMAL(10,2)", "1.234"), ("DECIMAL(10,2)", "123456789.5"), ("DECIMAL(10,2)", "'abc'"),
    ("UUID", "'not-a-uuid'"), ("UUID", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1'"),
    ("UUID", "'g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"),
    ("JSON", "'{bad'"), ("JSON", "'{\"a\":1'"), ("FILE", "'nope'"),
    ("EMBEDDING(3)", "'[1,2]'"), ("EMBEDDING(3)", "'[1,2,3,4]'"), ("EMBEDDING(3)", "'abc'"),
    ("EMBEDDING(3)", "'[1,\"a\",3]'"),
    ("DATE", "'2026-13-01'"), ("DATE", "'2026-02-30'"), ("DATE", "'yesterday'"),
    ("TIME", "'25:00:00'"), ("TIME", "'12:61:00'"), ("TIMESTAMP", "'yesterday'"),
    ("TIMESTAMP", "'2026-05-01T25:00:00Z'"), ("DATETIME", "'garbage'"), ("TIMESTAMP", "1.5"),
]


@pytest.mark.parametrize("sql_type,literal", BAD, ids=[f"{t}-{lit}" for t, lit in BAD])
def test_bad_literal_rejected_naming_column(server, ns, sql_type, literal):
    t = make(server, ns, sql_type, name="target_col")
    err = server.sql_error(f"INSERT INTO {t} (id, target_col) VALUES (1, {literal})")
    assert err["code"] == "SQL_EXECUTION_ERROR", err
    assert "'target_col'" in err["message"], err
    assert server.rows(f"SELECT id FROM {t}") == []


def test_bad_value_on_update_rejected(server, ns):
    t = make(server, ns, "SMALLINT", name="target_col")
    server.sql(f"INSERT INTO {t} VALUES (1, 5)")
    err = server.sql_error(f"UPDATE {t} SET target_col = 70000")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert "'target_col'" in err["message"]
    err = server.sql_error(f"UPDATE {t} SET target_col = target_col * 10000")
    assert "'target_col'" in err["message"]
    assert server.rows(f"SELECT target_col FROM {t}") == [[5]]


# (sql type, bad JSON param)
BAD_PARAMS = [
    ("INT", "abc"), ("INT", 1.5), ("SMALLINT", 70000), ("BIGINT", 1.5), ("BIGINT", "1e3x"),
    ("DECIMAL(10,2)", "1.234"), ("DECIMAL(10,2)", "abc"), ("UUID", "x"), ("JSON", "{bad"),
    ("EMBEDDING(3)", "[1,2]"), ("DATE", "2026-02-30"), ("TIME", "24:00:01"),
    ("TIMESTAMP", "not a time"), ("BOOLEAN", 2),
]


@pytest.mark.parametrize("sql_type,param", BAD_PARAMS, ids=[f"{t}-{p!r}" for t, p in BAD_PARAMS])
def test_bad_param_rejected(server, ns, sql_type, param):
    t = make(server, ns, sql_type, name="target_col")
    err = server.sql_error(f"INSERT INTO {t} (id, target_col) VALUES (1, $1)", params=[param])
    assert err["code"] == "INVALID_PARAMETER", err
    assert "'target_col'" in err["message"], err
    assert server.rows(f"SELECT id FROM {t}") == []


def test_float_nan_inf_not_storable_by_expression(server, ns):
    t = make(server, ns, "DOUBLE", name="target_col")
    err = server.sql_error(f"INSERT INTO {t} VALUES (1, 1e308 * 10)")
    assert "'target_col'" in err["message"]


# ---- defaults -----------------------------------------------------------------------------------

def _now_us():
    return int(time.time() * 1_000_000)


def test_default_functions(server, ns):
    server.sql(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY, ts TIMESTAMP DEFAULT NOW(), "
               "ts2 TIMESTAMP DEFAULT CURRENT_TIMESTAMP, dt DATETIME DEFAULT NOW(), "
               "sf BIGINT DEFAULT SNOWFLAKE_ID(), u UUID DEFAULT UUID_V7(), ul TEXT DEFAULT ULID(), "
               "cu TEXT DEFAULT CURRENT_USER(), cu2 TEXT DEFAULT CURRENT_USER)")
    before = _now_us()
    server.sql(f"INSERT INTO {ns}.d (id) VALUES (1)")
    after = _now_us()
    (row,) = server.rows(f"SELECT ts, ts2, dt, sf, u, ul, cu, cu2 FROM {ns}.d")
    ts, ts2, dt, sf, u, ul, cu, cu2 = row
    for v in (ts, ts2, dt):
        assert isinstance(v, int) and before - 2000 <= v <= after + 2000, (v, before, after)
    assert isinstance(sf, str) and sf.isdigit()
    assert before // 1000 - 2 <= seq_time_ms(sf) <= after // 1000 + 2
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u), u
    assert before // 1000 - 2 <= int(u.replace("-", "")[:12], 16) <= after // 1000 + 2
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", ul), ul
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ul_ms = 0
    for ch in ul[:10]:
        ul_ms = ul_ms * 32 + crockford.index(ch)
    assert before // 1000 - 2 <= ul_ms <= after // 1000 + 2
    assert cu == "root" and cu2 == "root"


def test_default_generated_values_unique_per_row(server, ns):
    server.sql(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY, sf BIGINT DEFAULT SNOWFLAKE_ID(), "
               "u UUID DEFAULT UUID_V7(), ul TEXT DEFAULT ULID())")
    server.sql(f"INSERT INTO {ns}.d (id) VALUES (1), (2), (3)")
    server.sql(f"INSERT INTO {ns}.d (id) VALUES (4)")
    rows = server.rows(f"SELECT sf, u, ul FROM {ns}.d ORDER BY id")
    for i in range(3):
        assert len({r[i] for r in rows}) == 4, rows
    sfs = [int(r[0]) for r in rows]
    assert sfs == sorted(sfs)


def test_current_user_default_is_caller(server, ns):
    user = unique("cuser")
    server.create_user(user)
    server.sql(f"CREATE USER TABLE {ns}.d (id INT PRIMARY KEY, who TEXT DEFAULT CURRENT_USER())")
    server.sql(f"INSERT INTO {ns}.d (id) VALUES (1)", user=user, password="password123")
    assert server.rows(f"SELECT id, who FROM {ns}.d", user=user, password="password123") == [[1, user]]


def test_literal_defaults(server, ns):
    server.sql(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY, n INT DEFAULT 7, neg INT DEFAULT -3, "
               "s TEXT DEFAULT 'abc', b BOOLEAN DEFAULT TRUE, d DOUBLE DEFAULT 1.5, "
               "dec DECIMAL(6,2) DEFAULT 2.5, j JSON DEFAULT '{}', nul INT DEFAULT NULL, "
               "nn TEXT NOT NULL DEFAULT 'z')")
    server.sql(f"INSERT INTO {ns}.d (id) VALUES (1)")
    server.sql(f"INSERT INTO {ns}.d (id, n, s) VALUES (2, 8, 'given')")
    rows = server.rows(f"SELECT id, n, neg, s, b, d, dec, j, nul, nn FROM {ns}.d ORDER BY id")
    assert rows == [[1, 7, -3, "abc", True, 1.5, "2.50", "{}", None, "z"],
                    [2, 8, -3, "given", True, 1.5, "2.50", "{}", None, "z"]]
    desc = {r[0]: r[6] for r in server.rows(f"DESCRIBE TABLE {ns}.d")}
    assert desc["n"] == "7" and desc["s"] == "'abc'" and desc["id"] is None


def test_explicit_null_overrides_default(server, ns):
    server.sql(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY, n INT DEFAULT 7)")
    server.sql(f"INSERT INTO {ns}.d (id, n) VALUES (1, NULL)")
    assert server.rows(f"SELECT id, n FROM {ns}.d") == [[1, None]]


def test_invalid_default_rejected(server, ns):
    err = server.sql_error(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY, v INT DEFAULT 'abc')")
    assert "'v'" in err["message"]
    err = server.sql_error(f"CREATE TABLE {ns}.d (id INT PRIMARY KEY, v INT DEFAULT NOPE())")
    assert "'v'" in err["message"]


@pytest.mark.parametrize("decl", [
    "id BIGINT PRIMARY KEY AUTO_INCREMENT",
    "id SERIAL PRIMARY KEY",
    "id BIGSERIAL PRIMARY KEY",
    "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    "id BIGINT PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY",
])
def test_auto_increment_forms(server, ns, decl):
    server.sql(f"CREATE TABLE {ns}.a ({decl}, v TEXT)")
    before = int(time.time() * 1000)
    ids = []
    for v in ("a", "b"):
        res = server.sql(f"INSERT INTO {ns}.a (v) VALUES ('{v}') RETURNING id")["results"][0]
        assert res["schema"] == [{"name": "id", "data_type": "BigInt", "index": 0, "flags": PK}]
        ids.append(res["rows"][0][0])
    after = int(time.time() * 1000)
    assert all(isinstance(i, str) and i.isdigit() for i in ids)
    assert int(ids[0]) < int(ids[1])
    for i in ids:
        assert before - 2 <= seq_time_ms(i) <= after + 2
    desc = server.rows(f"DESCRIBE TABLE {ns}.a")
    assert desc[0][:7] == ["id", 1, 1, "BIGINT", False, True, "SNOWFLAKE_ID()"]
    assert server.rows(f"SELECT id, v FROM {ns}.a ORDER BY v") == [[ids[0], "a"], [ids[1], "b"]]


def test_not_null_violation_insert(server, ns):
    server.sql(f"CREATE TABLE {ns}.n (id INT PRIMARY KEY, v TEXT NOT NULL)")
    err = server.sql_error(f"INSERT INTO {ns}.n (id, v) VALUES (1, NULL)")
    assert err["code"] == "SQL_EXECUTION_ERROR"
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'v' cannot be NULL"
    err = server.sql_error(f"INSERT INTO {ns}.n (id) VALUES (2)")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'v' cannot be NULL"
    err = server.sql_error(f"INSERT INTO {ns}.n (id, v) VALUES ($1, $2)", params=[3, None])
    assert "'v'" in err["message"]
    assert server.rows(f"SELECT id FROM {ns}.n") == []


def test_not_null_violation_update(server, ns):
    server.sql(f"CREATE TABLE {ns}.n (id INT PRIMARY KEY, v TEXT NOT NULL)")
    server.sql(f"INSERT INTO {ns}.n VALUES (1, 'x')")
    err = server.sql_error(f"UPDATE {ns}.n SET v = NULL WHERE id = 1")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'v' cannot be NULL"
    assert server.rows(f"SELECT id, v FROM {ns}.n") == [[1, "x"]]


def test_primary_key_cannot_be_null(server, ns):
    server.sql(f"CREATE TABLE {ns}.n (id INT PRIMARY KEY, v TEXT)")
    err = server.sql_error(f"INSERT INTO {ns}.n (id, v) VALUES (NULL, 'a')")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'id' cannot be NULL"
    err = server.sql_error(f"INSERT INTO {ns}.n (v) VALUES ('a')")
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'id' cannot be NULL"


@pytest.mark.parametrize("pk_type,v1,v2,out", [
    ("TEXT", "'a'", "'b'", ["a", "b"]),
    ("BIGINT", "9007199254740993", "-1", ["-1", "9007199254740993"]),
    ("UUID", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'00000000-0000-0000-0000-000000000001'",
     ["00000000-0000-0000-0000-000000000001", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
])
def test_primary_key_types(server, ns, pk_type, v1, v2, out):
    server.sql(f"CREATE TABLE {ns}.k (id {pk_type} PRIMARY KEY, v INT)")
    server.sql(f"INSERT INTO {ns}.k VALUES ({v1}, 1), ({v2}, 2)")
    assert sorted(r[0] for r in server.rows(f"SELECT id FROM {ns}.k")) == out
    err = server.sql_error(f"INSERT INTO {ns}.k VALUES ({v1}, 3)")
    assert err["message"].startswith("Statement 1 failed: Already exists: Primary key violation: value '")


def test_uuid_pk_case_insensitive_duplicate(server, ns):
    server.sql(f"CREATE TABLE {ns}.k (id UUID PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.k VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')")
    err = server.sql_error(f"INSERT INTO {ns}.k VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')")
    assert err["message"] == ("Statement 1 failed: Already exists: Primary key violation: value 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' "
                              "already exists in column 'id'")


def test_computed_column_types(server):
    res = server.sql("SELECT 1 AS i, 1.5 AS r, 'x' AS t, x'01' AS b, NULL AS n")["results"][0]
    assert res["schema"] == [
        {"name": "i", "data_type": "BigInt", "index": 0},
        {"name": "r", "data_type": "Double", "index": 1},
        {"name": "t", "data_type": "Text", "index": 2},
        {"name": "b", "data_type": "Bytes", "index": 3},
        {"name": "n", "data_type": "Text", "index": 4},
    ]
    assert res["rows"] == [["1", 1.5, "x", [1], None]]
