"""Error redaction (PROTOCOL §3 "Errors"): callers below dba never get `details`, internal names
(kt_*, ks_*), file paths or stack traces; validation messages stay readable for everyone."""
import pytest

from helpers import unique
from security_helpers import PW, assert_no_leak, assert_sql_error


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


# (sql, substring the message must keep so the caller can fix the request)
VALIDATION = [
    ("INSERT INTO red.t VALUES (1, 'dup', 1, '{}')",
     "Primary key violation: value '1' already exists in column 'id'"),
    ("SELECT nosuchcol FROM red.t", "nosuchcol"),
    ("SELECT x.nosuchcol FROM red.t x", "nosuchcol"),
    ("SELECT t.nosuchcol FROM red.t t JOIN red.t2 u ON t.id = u.id", "nosuchcol"),
    ("SELECT red.t.id FROM red.t", None),
    ("SELECT id FROM red.t, red.t2", "id"),   # ambiguous
    ("SELECT id FROM red.t JOIN red.t2 USING (nosuch)", None),
    ("INSERT INTO red.t (id, nosuchcol) VALUES (5, 1)", "nosuchcol"),
    ("UPDATE red.t SET nosuchcol = 1", "nosuchcol"),
    ("INSERT INTO red.t (id, v, n) VALUES (6, 'x', 70000)", "n"),
    ("INSERT INTO red.t (id, v, j) VALUES (7, 'x', '{bad json')", "j"),
    ("INSERT INTO red.t (id) VALUES (8)", "v"),                     # NOT NULL
    ("INSERT INTO red.t VALUES ('abc', 'x', 1, '{}')", "id"),
    ("SELECT * FROM red.nosuchtable", "nosuchtable"),
    ("SELECT * FROM nosuchns.t", "nosuchns"),
    ("SELECT * FROM red.p", "Permission denied"),
    ("CREATE NAMESPACE redx", "Permission denied"),
    ("SELECT * FROM red.t WHERE", None),
    ("SELEC 1", None),
    ("SELECT count(*) FROM red.t GROUP BY count(*)", None),
    ("SELECT * FROM red.t ORDER BY 99", None),
    ("SELECT json_extract(j, '$[') FROM red.t", None),
    ("SELECT * FROM red.t t1 JOIN red.t t1 ON 1", None),
    ("SELECT * FROM (SELECT * FROM red.t) WHERE nosuchcol = 1", "nosuchcol"),
    ("INSERT INTO red.t SELECT id, w, 1, '{}', 5 FROM red.t2", None),  # column count mismatch
    ("WITH c AS (SELECT * FROM red.t) SELECT nosuchcol FROM c", "nosuchcol"),
    ("SELECT id FROM red.t WHERE id = (SELECT id, v FROM red.t)", None),
    ("UPDATE red.t SET v = NULL WHERE id = 1", "v"),
    ("SELECT 1; SELECT nosuchcol FROM red.t", "Statement 2 failed: "),
]


@pytest.mark.parametrize("role", ["user", "service"])
@pytest.mark.parametrize("sql,keep", VALIDATION)
def test_errors_redacted_below_dba(server, red, role, sql, keep):
    r = server.sql_raw(sql, user=red[role], password=PW)
    assert r.status_code in (400, 403), (sql, r.text)
    err = assert_sql_error(r, r.status_code)
    assert set(err) == {"code", "message"}, err           # no details below dba
    assert_no_leak(err, typed=sql)
    assert err["message"] != "Internal server error" or keep is None, err
    if keep:
        assert keep.lower() in err["message"].lower(), (sql, err)


@pytest.mark.parametrize("sql,keep", VALIDATION[:6])
def test_dba_gets_details(server, red, sql, keep):
    r = server.sql_raw(sql, user=red["dba"], password=PW)
    err = assert_sql_error(r, r.status_code)
    assert "details" in err, err
    assert_no_leak(err["message"], typed=sql)


def test_generic_message_is_generic(server, red):
    """Whatever a user-role caller triggers, a non-validation failure says nothing specific."""
    bad = ["SELECT randomblob(-1) || zeroblob(2000000000)",            "SELECT abs(-9223372036854775808)", "SELECT char(1114112)",
           "SELECT * FROM red.t WHERE id = 1e999", "SELECT substr(zeroblob(1500000000), 1, 1)"]
    for sql in bad:
        r = server.sql_raw(sql, user=red["user"], password=PW)
        if r.status_code == 200:
            continue
        err = assert_sql_error(r, r.status_code)
        assert set(err) == {"code", "message"}, err
        assert_no_leak(err, typed=sql)
        assert r.status_code in (400, 500), r.text


def test_table_not_found_does_not_reveal_other_namespaces(server, red):
    """Asking for a table in a namespace the caller can't see gives the same answer shape as a
    truly missing one (existence of shared tables is not secret in the spec, so only the shape)."""
    a = server.sql_raw("SELECT * FROM red.absent", user=red["user"], password=PW)
    b = server.sql_raw("SELECT * FROM nosuchns_zz.absent", user=red["user"], password=PW)
    ea, eb = assert_sql_error(a, a.status_code), assert_sql_error(b, b.status_code)
    assert set(ea) == set(eb) == {"code", "message"}
