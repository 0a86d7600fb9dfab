"""USER-table isolation attacks beyond test_user_isolation.py (SQL.md §1: every read and write is
scoped to the caller). User B's rows carry the marker BSECRET; nothing A runs may ever return it,
and nothing A runs may change B's rows."""
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import unique
from security_helpers import PW, assert_no_leak, assert_sql_error, assert_unchanged, snapshot

MARK = "BSECRET"


@pytest.fixture(scope="module")
def iso(server):
    a, b = unique("isa"), unique("isb")
    server.create_user(a)
    server.create_user(b)
    server.sql("CREATE NAMESPACE iso")
    t = "iso.notes"
    server.sql(f"CREATE USER TABLE {t} (id INT PRIMARY KEY, v TEXT, j JSON)")
    server.sql("CREATE USER TABLE iso.copy (id INT PRIMARY KEY, v TEXT, j JSON)")
    server.sql(f"INSERT INTO {t} VALUES (1, 'a1', '[\"a\"]'), (2, 'a2', '{{\"k\":\"a\"}}')", user=a, password=PW)
    server.sql(f"INSERT INTO {t} VALUES (1, '{MARK}-1', '[\"{MARK}\"]'), (3, '{MARK}-3', "
               f"'{{\"k\":\"{MARK}\"}}'), (4, '{MARK}-4', null)", user=b, password=PW)
    server.sql(f"DELETE FROM {t} WHERE id = 4", user=b, password=PW)
    b_seqs = [r[0] for r in server.rows(f"SELECT _seq FROM {t} WHERE _deleted = true OR _deleted = false",
                                        user=b, password=PW)]
    return {"t": t, "a": a, "b": b, "b_seqs": b_seqs}


def b_state(server, iso):
    return snapshot(server, user_tables=[(iso["t"], iso["b"]), ("iso.copy", iso["b"])])


def as_a(server, iso, sql):
    r = server.sql_raw(sql.format(t=iso["t"]), user=iso["a"], password=PW)
    assert MARK not in r.text, (sql, r.text)
    return r


def ok_rows(server, iso, sql):
    r = as_a(server, iso, sql)
    body = r.json()
    assert r.status_code == 200, (sql, body)
    res = body["results"][-1]
    assert res["as_user"] == iso["a"]
    return res.get("rows", [])


def refused(server, iso, sql, code, status=400):
    """A's `sql` fails with exactly `status` and `code`, redacted, and changes nothing of B's."""
    before = b_state(server, iso)
    r = as_a(server, iso, sql)
    err = assert_sql_error(r, status, code=code)
    assert "details" not in err, err
    assert_no_leak(err, typed=sql)
    assert_unchanged(server, before, user_tables=[(iso["t"], iso["b"]), ("iso.copy", iso["b"])])
    return err


# ---- queries that are valid SQL: must see only A's rows ---------------------------------------------

@pytest.mark.parametrize("sql,expected", [
    ("SELECT t1.id, (SELECT t2.v FROM {t} t2 WHERE t2.id = t1.id) FROM {t} t1 ORDER BY 1",
     [[1, "a1"], [2, "a2"]]),
    ("SELECT (SELECT v FROM {t} WHERE id = 3)", [[None]]),
    ("SELECT EXISTS (SELECT 1 FROM {t} WHERE v LIKE 'BSEC%')", [["0"]]),
    ("SELECT count(*) FROM {t} WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE x.id = 3)", [["2"]]),
    ("SELECT id, count(*) OVER (), sum(id) OVER (ORDER BY id) FROM {t} ORDER BY id",
     [[1, "2", "1"], [2, "2", "3"]]),
    ("SELECT id, lag(v) OVER (ORDER BY id), lead(v) OVER (ORDER BY id) FROM {t} ORDER BY id",
     [[1, None, "a2"], [2, "a1", None]]),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
     "SELECT r.n, t.v FROM r JOIN {t} t ON t.id = r.n ORDER BY 1", [["1", "a1"], ["2", "a2"]]),
    ("WITH RECURSIVE r(id, v) AS (SELECT id, v FROM {t} WHERE id = 1 UNION "
     "SELECT t.id, t.v FROM {t} t JOIN r ON t.id = r.id + 1) SELECT id, v FROM r ORDER BY 1",
     [[1, "a1"], [2, "a2"]]),
    ("SELECT t.id, je.value FROM {t} t, json_each(t.j) je ORDER BY 1", [[1, "a"], [2, "a"]]),
    ("SELECT je.value FROM json_each((SELECT json_group_array(v) FROM {t})) je ORDER BY 1",
     [["a1"], ["a2"]]),
    ("SELECT count(*) FROM json_tree((SELECT json_group_array(j) FROM {t}))", None),
    ("SELECT id FROM {t} WHERE _deleted = true", []),
    ("SELECT id FROM {t} WHERE _deleted = true OR _deleted = false ORDER BY 1", [[1], [2]]),
    ("SELECT id FROM {t} WHERE _seq > 0 ORDER BY 1", [[1], [2]]),
    ("SELECT id FROM {t} WHERE _seq BETWEEN 0 AND 9223372036854775807 AND "
     "(_deleted = true OR _deleted = false) ORDER BY 1", [[1], [2]]),
    ('SELECT id, v FROM "iso"."notes" ORDER BY 1', [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM ISO.NOTES ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM [iso].[Notes] ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM `iso`.`notes` ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM iso . notes ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM (iso.notes) ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM iso.notes AS kt_1 ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT id, v FROM iso.notes NOT INDEXED ORDER BY 1", [[1, "a1"], [2, "a2"]]),
    ("SELECT x.id FROM {t} x LEFT JOIN {t} y ON y.id = 3 WHERE y.v IS NOT NULL", []),
    ("SELECT id FROM {t} WHERE v IN ('BSECRET-1', 'BSECRET-3') OR id = 3", []),
    ("SELECT max(_seq) > 0, count(*) FROM {t} WHERE _deleted = true OR _deleted = false", [["1", "2"]]),
])
def test_valid_queries_only_see_own_rows(server, iso, sql, expected):
    rows = ok_rows(server, iso, sql)
    if expected is not None:
        assert rows == expected, (sql, rows)


def test_seq_ranges_of_other_user(server, iso):
    lo, hi = min(iso["b_seqs"]), max(iso["b_seqs"])
    for sql in (f"SELECT * FROM {{t}} WHERE _seq BETWEEN {lo} AND {hi}",
                f"SELECT * FROM {{t}} WHERE _seq = {lo}",
                f"SELECT * FROM {{t}} WHERE _seq IN ({', '.join(iso['b_seqs'])}) AND _deleted = true",
                f"SELECT * FROM {{t}} WHERE _seq >= {lo} AND (_deleted OR NOT _deleted)"):
        rows = ok_rows(server, iso, sql)
        assert all(r[1] in ("a1", "a2") for r in rows), rows


def test_insert_select_into_other_user_table(server, iso):
    before = b_state(server, iso)
    r = as_a(server, iso, "INSERT INTO iso.copy SELECT id + 100, v, j FROM {t} WHERE id = 3")
    assert r.status_code == 200 and r.json()["results"][0]["row_count"] == 0, r.text
    r = as_a(server, iso, "INSERT INTO iso.copy SELECT id + 200, v, j FROM {t}")
    assert r.status_code == 200 and r.json()["results"][0]["row_count"] == 2, r.text
    assert_unchanged(server, before, user_tables=[(iso["t"], iso["b"]), ("iso.copy", iso["b"])])
    assert ok_rows(server, iso, "SELECT id FROM iso.copy WHERE id > 200 ORDER BY 1") == [[201], [202]]


def test_update_from_and_delete_using_other_rows(server, iso):
    before = b_state(server, iso)
    # UPDATE … FROM cannot name the target table by its qualified name inside the statement.
    err = assert_sql_error(
        as_a(server, iso, "UPDATE {t} SET v = o.v FROM {t} AS o WHERE o.id = 3 AND {t}.id = 1"),
        400, code="INVALID_SQL")
    assert_no_leak(err, typed="UPDATE iso.notes SET v = o.v FROM iso.notes AS o")
    for sql, message in (
            ("UPDATE {t} SET v = (SELECT v FROM {t} x WHERE x.id = 3) WHERE id = 3", "Updated 0 row(s)"),
            ("DELETE FROM {t} WHERE id IN (SELECT id FROM {t} WHERE v LIKE 'BSEC%')",
             "Deleted 0 row(s)"),
            ("DELETE FROM {t} WHERE id = 3", "Deleted 0 row(s)"),
            ("UPDATE {t} SET v = 'pwned' WHERE id = 3 OR v LIKE 'BSEC%'", "Updated 0 row(s)")):
        r = as_a(server, iso, sql)
        assert r.status_code == 200, (sql, r.text)
        assert r.json()["results"] == [{"row_count": 0, "message": message, "as_user": iso["a"]}], \
            (sql, r.text)
    assert_unchanged(server, before, user_tables=[(iso["t"], iso["b"]), ("iso.copy", iso["b"])])
    assert ok_rows(server, iso, "SELECT id, v FROM {t} ORDER BY 1") == [[1, "a1"], [2, "a2"]]


def test_system_columns_cannot_be_written(server, iso):
    """_seq/_deleted are read-only: resurrecting a tombstone or forging a _seq is refused."""
    server.sql("INSERT INTO iso.notes VALUES (60, 'tomb', null); DELETE FROM iso.notes WHERE id = 60",
               user=iso["a"], password=PW)
    for sql in ("UPDATE {t} SET _deleted = false WHERE _deleted = true",
                "UPDATE {t} SET _deleted = false WHERE id = 60",
                "UPDATE {t} SET _deleted = true WHERE id = 1",
                "UPDATE {t} SET _seq = 1 WHERE id = 1",
                "INSERT INTO {t} (id, v, _seq) VALUES (50, 'x', 1)",
                "INSERT INTO {t} (id, v, _deleted) VALUES (51, 'x', true)"):
        err = refused(server, iso, sql, "SQL_EXECUTION_ERROR")
        column = "_seq" if "_seq" in sql else "_deleted"
        assert err["message"] == f"Statement 1 failed: Invalid operation: Column '{column}' is a system column and cannot be written", err
    assert ok_rows(server, iso, "SELECT id FROM {t} WHERE id IN (50, 51, 60)") == []
    assert ok_rows(server, iso, "SELECT id FROM {t} WHERE id IN (1, 60) AND _deleted = true") == [[60]]


def test_same_sql_text_alternating_users(server, iso):
    """The prepared-statement cache must not carry one user's scope into another's run."""
    sql = "SELECT id, v FROM iso.notes ORDER BY id"
    for _ in range(5):
        assert server.rows(sql, user=iso["a"], password=PW) == [[1, "a1"], [2, "a2"]]
        assert server.rows(sql, user=iso["b"], password=PW) == [[1, f"{MARK}-1"], [3, f"{MARK}-3"]]


def test_concurrent_users_same_query(server, iso):
    sql = "SELECT group_concat(v, ',') FROM (SELECT v FROM iso.notes ORDER BY id)"
    ta, tb = server.token(iso["a"], PW), server.token(iso["b"], PW)
    import requests

    def run(i):
        who, tok = (iso["a"], ta) if i % 2 == 0 else (iso["b"], tb)
        r = requests.post(server.base + "/v1/api/sql", json={"sql": sql},
                          headers={"Authorization": f"Bearer {tok}"})
        return who, r.json()["results"][0]["rows"][0][0]

    with ThreadPoolExecutor(16) as pool:
        for who, v in pool.map(run, range(200)):
            expect = "a1,a2" if who == iso["a"] else f"{MARK}-1,{MARK}-3"
            assert v == expect, (who, v)


# ---- internals, pragmas, DDL the engine must refuse --------------------------------------------------

# Names that are no KalamDB table (internal virtual-table names, look-alike characters):
# TABLE_NOT_FOUND, like any missing table.
NOT_TABLES = ["SELECT * FROM kt_1", "SELECT * FROM kt_2", "SELECT * FROM KT_3",
              "SELECT * FROM main.kt_1", "SELECT * FROM temp.kt_1", "SELECT * FROM ks_users",
              "SELECT * FROM ks_is_tables", 'SELECT * FROM "kt_1"', "SELECT * FROM iso.kt_1",
              "SELECT * FROM iso.nоtes",          # Cyrillic 'о'
              "SELECT * FROM іso.notes",          # Cyrillic 'і'
              "SELECT * FROM iso.notes\u200b",    # zero-width space
              "SELECT * FROM iso.ｎotes",          # full-width n
              "SELECT * FROM iso./**/notes x WHERE 1=1 UNION SELECT * FROM kt_1",
              ]

# SQLite internals, functions that reach outside, and statements KalamDB does not run:
# INVALID_SQL (an unsupported statement or name, the same for every role).
INTERNAL = ["SELECT * FROM sqlite_master", "SELECT * FROM sqlite_schema", "SELECT * FROM SQLITE_MASTER",
            "SELECT * FROM sqlite_temp_master", "SELECT * FROM main.sqlite_master",
            'SELECT * FROM "sqlite_master"', "SELECT * FROM [sqlite_schema]",
            "SELECT * FROM pragma_table_info('notes')", "SELECT * FROM pragma_table_list",
            "SELECT * FROM pragma_database_list", "SELECT * FROM pragma_function_list",
            "SELECT * FROM sqlite_stmt", "SELECT sql FROM sqlite_stmt", "SELECT * FROM dbstat",
            "SELECT * FROM sqlite_dbpage", "SELECT * FROM sqlite_sequence",
            "SELECT * FROM iso.notes WHERE id IN (SELECT rootpage FROM sqlite_master)",
            "SELECT * FROM iso.notes, pragma_table_info('kt_1')",
            "SELECT * FROM fsdir('/etc')", "SELECT readfile('/etc/passwd')",
            "SELECT writefile('/tmp/kalam_pwn.txt', 'x')", "SELECT edit('x')",
            "SELECT * FROM generate_series(1, 2) JOIN sqlite_master",
            "SELECT load_extension('/tmp/evil')", "SELECT load_extension('x', 'init')",
            "SELECT fts3_tokenizer('simple')",       # returns a native pointer (ASLR leak)
            "SELECT fts3_tokenizer('porter')",
            "SELECT fts3_tokenizer('simple', x'4141414141414141')",  # installs a pointer
            "SELECT hex(fts3_tokenizer('unicode61'))",
            "ATTACH DATABASE '/tmp/kalam_attach.db' AS x", "ATTACH ':memory:' AS m",
            "DETACH DATABASE main",
            "PRAGMA table_info(notes)", "PRAGMA writable_schema = 1", "PRAGMA database_list",
            "PRAGMA query_only = 0", "pragma trusted_schema = 1",
            "CREATE TEMP TABLE x AS SELECT * FROM iso.notes", "CREATE TEMPORARY TABLE x (a)",
            "CREATE TEMP VIEW notes AS SELECT 1", "CREATE VIEW iso.v AS SELECT * FROM iso.notes",
            "CREATE TRIGGER tr AFTER INSERT ON iso.notes BEGIN DELETE FROM iso.notes; END",
            "CREATE TEMP TRIGGER tr AFTER INSERT ON iso.notes BEGIN SELECT 1; END",
            "CREATE INDEX ix ON iso.notes (v)", "CREATE VIRTUAL TABLE x USING fts5(a)",
            "VACUUM", "VACUUM INTO '/tmp/kalam_vacuum.db'", "REINDEX", "ANALYZE",
            "SAVEPOINT s1", "RELEASE s1",
            "SELECT * FROM iso.notes -- \n UNION ALL SELECT * FROM sqlite_master",
            "SELECT * FROM iso.notes /* */ , sqlite_schema",
            ]

REFUSED = ([(sql, "TABLE_NOT_FOUND") for sql in NOT_TABLES] +
           [(sql, "INVALID_SQL") for sql in INTERNAL])


@pytest.mark.parametrize("sql,code", REFUSED)
def test_internals_refused(server, iso, sql, code):
    refused(server, iso, sql, code)
    for f in ("/tmp/kalam_pwn.txt", "/tmp/kalam_attach.db", "/tmp/kalam_vacuum.db"):
        assert not os.path.exists(f), f


@pytest.mark.parametrize("sql,code", [
    ("SELECT * FROM kt_1", "TABLE_NOT_FOUND"), ("SELECT * FROM sqlite_master", "INVALID_SQL"),
    ("SELECT * FROM sqlite_stmt", "INVALID_SQL"),
    ("ATTACH DATABASE '/tmp/kalam_attach_root.db' AS x", "INVALID_SQL"),
    ("PRAGMA writable_schema = 1", "INVALID_SQL"), ("CREATE TEMP TABLE x (a)", "INVALID_SQL"),
    ("SELECT load_extension('x')", "INVALID_SQL"),
])
def test_internals_refused_even_for_root(server, iso, sql, code):
    before = b_state(server, iso)
    r = server.sql_raw(sql)
    assert_sql_error(r, 400, code=code)
    assert MARK not in r.text
    assert_unchanged(server, before, user_tables=[(iso["t"], iso["b"]), ("iso.copy", iso["b"])])
    assert not os.path.exists("/tmp/kalam_attach_root.db")


def test_comment_inside_qualified_name(server, iso):
    """A comment is whitespace: `iso/**/.notes` and `iso./**/notes` name the same table, with the
    same isolation."""
    for sql in ("SELECT id, v FROM iso/**/.notes ORDER BY 1", "SELECT id, v FROM iso./* x */notes ORDER BY 1",
                "SELECT id, v FROM iso.--c\nnotes ORDER BY 1"):
        assert ok_rows(server, iso, sql) == [[1, "a1"], [2, "a2"]], sql


def test_stacked_statements_inside_literals(server, iso):
    """The statement splitter respects quotes: a ';' inside a string is not a statement break."""
    before = b_state(server, iso)
    r = as_a(server, iso, "SELECT 'x; DROP TABLE iso.notes; --' AS s")
    assert r.status_code == 200 and r.json()["results"][0]["rows"] == [["x; DROP TABLE iso.notes; --"]]
    r = as_a(server, iso, 'SELECT 1 AS "a;CREATE NAMESPACE evil;"')
    assert r.status_code == 200 and len(r.json()["results"]) == 1, r.text
    r = as_a(server, iso, "SELECT 1 /* ; CREATE NAMESPACE evil2; */")
    assert r.status_code == 200 and len(r.json()["results"]) == 1, r.text
    assert_unchanged(server, before, user_tables=[(iso["t"], iso["b"]), ("iso.copy", iso["b"])])
    assert not server.rows("SELECT namespace_id FROM system.namespaces WHERE namespace_id LIKE 'evil%'")


def test_params_are_not_sql(server, iso):
    r = server.sql_raw("SELECT id, v FROM iso.notes WHERE v = $1", params=["x' OR '1'='1"],
                       user=iso["a"], password=PW)
    assert r.status_code == 200 and r.json()["results"][0]["rows"] == [], r.text
    # A text value compared with an INT column matches nothing: it is data, never SQL.
    r = server.sql_raw("SELECT id FROM iso.notes WHERE id = $1", params=["3 OR 1=1"],
                       user=iso["a"], password=PW)
    assert MARK not in r.text
    assert r.status_code == 200 and r.json()["results"][0]["row_count"] == 0, r.text


def test_namespace_id_field_injection(server, iso):
    for ns in ("iso; DROP TABLE iso.notes", "iso.notes", "../iso", "system", "iso\u0000"):
        before = b_state(server, iso)
        r = server.http.post(server.base + "/v1/api/sql",
                             json={"sql": "SELECT * FROM notes", "namespace_id": ns},
                             headers={"Authorization": f"Bearer {server.token(iso['a'], PW)}"})
        assert MARK not in r.text
        # `system` is a real namespace (A may not read it); the others name no namespace.
        if ns == "system":
            assert_sql_error(r, 403, code="PERMISSION_DENIED")
        else:
            assert_sql_error(r, 400, code="TABLE_NOT_FOUND")
        assert b_state(server, iso) == before
