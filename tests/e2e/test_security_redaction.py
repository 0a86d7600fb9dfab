"""Error redaction (PROTOCOL §3 "Errors", docs/compatibility.md "Error messages"): callers below
dba never get `details`, internal names (kt_*, ks_*), file paths or stack traces; validation
messages stay readable for everyone; a missing table, a parse error and an internal failure are
each one fixed public text."""
import re
import time
from pathlib import Path

import pytest

from helpers import unique
from security_helpers import PW, assert_no_leak, assert_sql_error

# SQLite reports some failures only while the statement runs (a bad JSON path, an integer
# overflow, a value past the length limit). PROTOCOL §3 calls execution failures
# SQL_EXECUTION_ERROR; the server answers INVALID_SQL for every SQLite step error
# (src/sql/sqlite/statement_runner.cc, SqliteError). Reported; these cases flip when it is fixed.
STEP_ERROR_CODE = pytest.mark.xfail(
    strict=True, reason="SQLite step errors come back as INVALID_SQL, not SQL_EXECUTION_ERROR")


@pytest.fixture(scope="module")
def red(server):
    u, s, d = unique("ru"), unique("rs"), unique("rd")
    server.create_user(u)
    server.create_user(s, role="service")
    server.create_user(d, role="dba")
    server.sql("CREATE NAMESPACE red")
    server.sql("CREATE USER TABLE red.t (id INT PRIMARY KEY, v TEXT NOT NULL, n SMALLINT, j JSON)")
    server.sql("CREATE USER TABLE red.t2 (id INT PRIMARY KEY, w TEXT)")
    server.sql("CREATE SHARED TABLE red.p (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'DBA')")
    for who in (u, s, d):
        server.sql("INSERT INTO red.t VALUES (1, 'one', 1, '{}')", user=who, password=PW)
    return {"user": u, "service": s, "dba": d}


BAD = (400, "INVALID_SQL")
EXEC = (400, "SQL_EXECUTION_ERROR")
NO_TABLE = (400, "TABLE_NOT_FOUND")
DENIED = (403, "PERMISSION_DENIED")

# (sql, (status, code) PROTOCOL §3 gives it, substring the message must keep so the caller can
# fix the request). Validation errors keep their real message for every role; a missing table
# reads as the public text (it must not tell a caller which tables exist).
HIDDEN_TABLE = "Requested table is not available"
VALIDATION = [
    ("INSERT INTO red.t VALUES (1, 'dup', 1, '{}')", EXEC,
     "Primary key violation: value '1' already exists in column 'id'"),
    ("SELECT nosuchcol FROM red.t", BAD, "nosuchcol"),
    ("SELECT x.nosuchcol FROM red.t x", BAD, "nosuchcol"),
    ("SELECT t.nosuchcol FROM red.t t JOIN red.t2 u ON t.id = u.id", BAD, "nosuchcol"),
    ("SELECT red.t.id FROM red.t", BAD, None),
    ("SELECT id FROM red.t, red.t2", BAD, "id"),   # ambiguous
    ("SELECT id FROM red.t JOIN red.t2 USING (nosuch)", BAD, None),
    ("INSERT INTO red.t (id, nosuchcol) VALUES (5, 1)", EXEC, "nosuchcol"),
    ("UPDATE red.t SET nosuchcol = 1", BAD, "nosuchcol"),
    ("INSERT INTO red.t (id, v, n) VALUES (6, 'x', 70000)", EXEC, "n"),
    ("INSERT INTO red.t (id, v, j) VALUES (7, 'x', '{bad json')", EXEC, "j"),
    ("INSERT INTO red.t (id) VALUES (8)", EXEC, "v"),                     # NOT NULL
    ("INSERT INTO red.t VALUES ('abc', 'x', 1, '{}')", EXEC, "id"),
    ("SELECT * FROM red.nosuchtable", NO_TABLE, HIDDEN_TABLE),
    ("SELECT * FROM nosuchns.t", NO_TABLE, HIDDEN_TABLE),
    ("SELECT * FROM red.p", DENIED, "Permission denied"),
    ("CREATE NAMESPACE redx", DENIED, "Permission denied"),
    ("SELECT * FROM red.t WHERE", BAD, None),
    ("SELEC 1", BAD, None),
    ("SELECT count(*) FROM red.t GROUP BY count(*)", BAD, None),
    ("SELECT * FROM red.t ORDER BY 99", BAD, None),
    pytest.param("SELECT json_extract(j, '$[') FROM red.t", EXEC, None, marks=STEP_ERROR_CODE),
    ("SELECT * FROM red.t t1 JOIN red.t t1 ON 1", BAD, None),
    ("SELECT * FROM (SELECT * FROM red.t) WHERE nosuchcol = 1", BAD, "nosuchcol"),
    ("INSERT INTO red.t SELECT id, w, 1, '{}', 5 FROM red.t2", BAD, None),  # column count mismatch
    ("WITH c AS (SELECT * FROM red.t) SELECT nosuchcol FROM c", BAD, "nosuchcol"),
    ("SELECT id FROM red.t WHERE id = (SELECT id, v FROM red.t)", BAD, None),
    ("UPDATE red.t SET v = NULL WHERE id = 1", EXEC, "v"),
    ("SELECT 1; SELECT nosuchcol FROM red.t", BAD, "Statement 2 failed: "),
]


@pytest.mark.parametrize("role", ["user", "service"])
@pytest.mark.parametrize("sql,expected,keep", VALIDATION)
def test_errors_redacted_below_dba(server, red, role, sql, expected, keep):
    r = server.sql_raw(sql, user=red[role], password=PW)
    status, code = expected
    err = assert_sql_error(r, status, code=code)
    assert set(err) == {"code", "message"}, err           # no details below dba
    assert_no_leak(err, typed=sql)
    assert err["message"] != "SQL request failed", err
    if keep:
        assert keep.lower() in err["message"].lower(), (sql, err)


@pytest.mark.parametrize("sql,expected,keep", VALIDATION[:6])
def test_dba_gets_details(server, red, sql, expected, keep):
    r = server.sql_raw(sql, user=red["dba"], password=PW)
    status, code = expected
    err = assert_sql_error(r, status, code=code)
    assert err["details"] == sql, err
    assert_no_leak(err["message"], typed=sql)


@pytest.fixture(scope="module")
def broken_segment(server, red):
    """A PUBLIC shared table whose only cold segment was overwritten with garbage after the
    flush: reading it is an internal failure (corruption) that any caller can trigger."""
    server.sql("CREATE SHARED TABLE red.cold (id INT PRIMARY KEY, v TEXT) "
               "WITH (ACCESS_LEVEL = 'PUBLIC')")
    server.sql("INSERT INTO red.cold VALUES (1, 'a'), (2, 'b')")
    msg = server.sql("STORAGE FLUSH TABLE red.cold")["results"][0]["message"]
    job = re.fullmatch(r"Storage flush started for table 'red\.cold'\. Job ID: (FL-\d+)", msg)
    assert job, msg
    deadline = time.time() + 30
    while server.rows(f"SELECT status FROM system.jobs WHERE job_id = '{job.group(1)}'") != [
            ["completed"]]:
        assert time.time() < deadline, "flush did not complete"
        time.sleep(0.05)
    segments = sorted((Path(server.data_dir) / "storage" / "red" / "cold").glob("batch-*.parquet"))
    assert len(segments) == 1, segments
    segments[0].write_bytes(b"PAR1" + b"\xff" * 64 + b"PAR1")
    return "SELECT id, v FROM red.cold ORDER BY id"


def test_generic_message_is_generic(server, red, broken_segment):
    """An internal failure (here: a corrupt segment) reaches a caller below dba as one generic
    message with no details; a dba gets the real message and the statement."""
    for role in ("user", "service"):
        r = server.sql_raw(broken_segment, user=red[role], password=PW)
        err = assert_sql_error(r, 500, code="INTERNAL_ERROR")
        assert err == {"code": "INTERNAL_ERROR", "message": "SQL request failed"}, err
    r = server.sql_raw(broken_segment, user=red["dba"], password=PW)
    err = assert_sql_error(r, 500, code="INTERNAL_ERROR")
    assert err["message"] != "SQL request failed", err
    assert err["details"] == broken_segment, err


# Failures SQLite finds while the statement runs, and near-misses that must simply succeed.
RUNTIME = [
    pytest.param("SELECT randomblob(-1) || zeroblob(2000000000)", EXEC, marks=STEP_ERROR_CODE),
    pytest.param("SELECT abs(-9223372036854775808)", EXEC, marks=STEP_ERROR_CODE),
    pytest.param("SELECT substr(zeroblob(1500000000), 1, 1)", EXEC, marks=STEP_ERROR_CODE),
    ("SELECT char(1114112)", (200, None)),
    ("SELECT * FROM red.t WHERE id = 1e999", (200, None)),
]


@pytest.mark.parametrize("sql,expected", RUNTIME)
def test_runtime_failures_are_execution_errors(server, red, sql, expected):
    r = server.sql_raw(sql, user=red["user"], password=PW)
    status, code = expected
    if status == 200:
        assert r.status_code == 200 and r.json()["status"] == "success", r.text
        return
    err = assert_sql_error(r, status, code=code)
    assert set(err) == {"code", "message"}, err
    assert_no_leak(err, typed=sql)


def test_table_not_found_does_not_reveal_other_namespaces(server, red):
    """Asking for a table in a namespace the caller can't see gives the same answer shape as a
    truly missing one (existence of shared tables is not secret in the spec, so only the shape)."""
    a = server.sql_raw("SELECT * FROM red.absent", user=red["user"], password=PW)
    b = server.sql_raw("SELECT * FROM nosuchns_zz.absent", user=red["user"], password=PW)
    ea = assert_sql_error(a, 400, code="TABLE_NOT_FOUND")
    eb = assert_sql_error(b, 400, code="TABLE_NOT_FOUND")
    assert set(ea) == set(eb) == {"code", "message"}
