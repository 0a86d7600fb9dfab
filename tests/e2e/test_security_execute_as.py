"""EXECUTE AS USER 'u' ( stmt ) attacked (SQL.md §2, §5): the target-role matrix, USER tables only,
one DML statement, no nesting, writes land in the target's scope."""
import itertools

import pytest

from helpers import unique
from security_helpers import PW, assert_no_leak, assert_sql_error, snapshot

ROLES = ("user", "service", "dba", "system")
ALLOWED = {"user": set(), "service": {"service", "user"}, "dba": {"dba", "service", "user"},
           "system": set(ROLES)}


@pytest.fixture(scope="module")
def people(server):
    """Two users per role: callers[role] and targets[role]."""
    callers = {r: unique(f"c{r}") for r in ROLES}
    targets = {r: unique(f"t{r}") for r in ROLES}
    for r in ROLES:
        server.create_user(callers[r], role=r)
        server.create_user(targets[r], role=r)
    server.sql("CREATE NAMESPACE ea")
    server.sql("CREATE USER TABLE ea.t (id INT PRIMARY KEY, v TEXT)")
    server.sql("CREATE SHARED TABLE ea.sh (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC')")
    server.sql("CREATE SHARED TABLE ea.dbash (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'DBA')")
    server.sql("INSERT INTO ea.dbash VALUES (1, 'dba-only')")
    return callers, targets


def rows_of(server, user):
    """A user's rows in ea.t, read through root's EXECUTE AS (root is system: may target anyone)."""
    if user == "root":
        return server.rows("SELECT id, v FROM ea.t ORDER BY id")
    return server.rows(f"EXECUTE AS USER '{user}' (SELECT id, v FROM ea.t ORDER BY id)")


def everything(server, people):
    callers, targets = people
    snap = snapshot(server, tables=["ea.sh", "ea.dbash"])
    for u in list(callers.values()) + list(targets.values()) + ["root"]:
        snap["t@" + u] = rows_of(server, u)
    return snap


_k = itertools.count(1)


@pytest.mark.parametrize("caller_role", ROLES)
@pytest.mark.parametrize("target_role", ROLES)
def test_target_matrix(server, people, caller_role, target_role):
    callers, targets = people
    caller, target = callers[caller_role], targets[target_role]
    k = next(_k)
    sql = f"EXECUTE AS USER '{target}' (INSERT INTO ea.t VALUES ({k}, '{caller}->{target}'))"
    if target_role in ALLOWED[caller_role]:
        body = server.sql(sql, user=caller, password=PW)
        assert body["results"] == [{"row_count": 1, "message": "Inserted 1 row(s)", "as_user": target}]
        assert [k, f"{caller}->{target}"] in rows_of(server, target)
        assert [k, f"{caller}->{target}"] not in rows_of(server, caller)
        res = server.sql(f"EXECUTE AS USER '{target}' (SELECT id, v, CURRENT_USER() FROM ea.t WHERE id = {k})",
                         user=caller, password=PW)["results"][0]
        assert res["as_user"] == target and res["rows"] == [[k, f"{caller}->{target}", target]], res
    else:
        before = everything(server, people)
        err = server.sql_error(sql, user=caller, password=PW, status=403)
        assert err["code"] == "PERMISSION_DENIED", err
        if caller_role in ("user", "service"):
            assert "details" not in err
        err = server.sql_error(f"EXECUTE AS USER '{target}' (SELECT * FROM ea.t)", user=caller,
                               password=PW, status=403)
        assert err["code"] == "PERMISSION_DENIED", err
        assert everything(server, people) == before


@pytest.mark.parametrize("role", ROLES)
def test_self_is_always_allowed(server, people, role):
    callers, _ = people
    me = callers[role]
    k = next(_k) + 10000
    body = server.sql(f"EXECUTE AS USER '{me}' (INSERT INTO ea.t VALUES ({k}, 'self'))", user=me, password=PW)
    assert body["results"][0]["as_user"] == me
    assert [k, "self"] in server.rows("SELECT id, v FROM ea.t", user=me, password=PW)


@pytest.mark.parametrize("caller_role", ("user", "dba"))
def test_root_is_not_a_target_below_system(server, people, caller_role):
    callers, _ = people
    before = everything(server, people)
    err = server.sql_error("EXECUTE AS USER 'root' (DELETE FROM ea.t)", user=callers[caller_role],
                           password=PW, status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert everything(server, people) == before


def test_shared_tables_refused_inside(server, people):
    callers, targets = people
    t = targets["user"]
    before = everything(server, people)
    shared_only = ("Statement 1 failed: Invalid operation: EXECUTE AS USER works on USER and STREAM "
                   "tables only; 'ea.{}' is a SHARED table")
    for sql, status, code, message in (
            (f"EXECUTE AS USER '{t}' (INSERT INTO ea.sh VALUES (1, 'x'))",
             400, "SQL_EXECUTION_ERROR", shared_only.format("sh")),
            (f"EXECUTE AS USER '{t}' (SELECT * FROM ea.sh)",
             400, "SQL_EXECUTION_ERROR", shared_only.format("sh")),
            (f"EXECUTE AS USER '{t}' (INSERT INTO ea.t SELECT id, v FROM ea.dbash)",
             400, "SQL_EXECUTION_ERROR", shared_only.format("dbash")),
            (f"EXECUTE AS USER '{t}' (SELECT * FROM ea.t WHERE id IN (SELECT id FROM ea.sh))",
             400, "SQL_EXECUTION_ERROR", shared_only.format("sh")),
            # The target is a user: system tables are the dba's.
            (f"EXECUTE AS USER '{t}' (SELECT * FROM system.users)", 403, "PERMISSION_DENIED",
             "Statement 1 failed: Permission denied: system tables are readable by dba and system "
             "roles only"),
            (f"EXECUTE AS USER '{t}' (UPDATE ea.t SET v = (SELECT v FROM ea.dbash))",
             400, "SQL_EXECUTION_ERROR", shared_only.format("dbash"))):
        r = server.sql_raw(sql)  # root (system) may target anyone: only the table is refused
        err = assert_sql_error(r, status, code=code)
        assert err["message"] == message, (sql, err)
        assert "dba-only" not in r.text
    assert everything(server, people) == before


def test_nonexistent_and_deleted_target(server, people):
    callers, _ = people
    gone = unique("gone")
    server.create_user(gone)
    server.sql(f"DROP USER {gone}")
    before = everything(server, people)
    # Callers of role dba and above may target any user below them, so they learn whether the
    # target exists (they can read system.users anyway); a name that is not a name is a syntax
    # error.
    for target, code in (("no_such_user_ea", "SQL_EXECUTION_ERROR"), (gone, "SQL_EXECUTION_ERROR"),
                         ("ROOT", "SQL_EXECUTION_ERROR"),  # user names are case-sensitive
                         ("", "INVALID_SQL"), ("root' OR '1'='1", "INVALID_SQL")):
        sql = f"EXECUTE AS USER '{target}' (INSERT INTO ea.t VALUES (77, 'x'))"
        for r in (server.sql_raw(sql), server.sql_raw(sql, user=callers["dba"], password=PW)):
            err = assert_sql_error(r, 400, code=code)
            if code == "SQL_EXECUTION_ERROR":
                assert err["message"] == f"Statement 1 failed: Not found: User '{target}' does not exist", err
    assert everything(server, people) == before


def test_user_role_cannot_probe_other_users_existence(server, people):
    """For a user-role caller, any other target is refused the same way, existing or not."""
    callers, targets = people
    a = server.sql_raw(f"EXECUTE AS USER '{targets['user']}' (SELECT 1)", user=callers["user"], password=PW)
    b = server.sql_raw("EXECUTE AS USER 'no_such_user_ea2' (SELECT 1)", user=callers["user"], password=PW)
    assert a.status_code == b.status_code == 403, (a.text, b.text)
    ea, eb = a.json()["error"], b.json()["error"]
    assert ea["code"] == eb["code"] == "PERMISSION_DENIED"
    assert ea["message"].replace(targets["user"], "X") == eb["message"].replace("no_such_user_ea2", "X")


def test_nested_and_non_dml_inner(server, people):
    callers, targets = people
    t = targets["user"]
    before = everything(server, people)
    for sql in (f"EXECUTE AS USER '{t}' (EXECUTE AS USER '{t}' (SELECT 1))",
                f"EXECUTE AS USER '{t}' (EXECUTE AS USER 'root' (DELETE FROM ea.t))",
                f"EXECUTE AS USER '{t}' (CREATE NAMESPACE evil_ea)",
                f"EXECUTE AS USER '{t}' (DROP TABLE ea.t)",
                f"EXECUTE AS USER '{t}' (CREATE USER evil_ea WITH PASSWORD 'password123' ROLE system)",
                f"EXECUTE AS USER '{t}' (ALTER USER root SET PASSWORD 'pwned-root-1')",
                f"EXECUTE AS USER '{t}' (BEGIN)",
                f"EXECUTE AS USER '{t}' (USE ea)",
                f"EXECUTE AS USER '{t}' (INSERT INTO ea.t VALUES (90, 'x'); DELETE FROM ea.t)",
                f"EXECUTE AS USER '{t}' ()",
                f"EXECUTE AS USER '{t}' INSERT INTO ea.t VALUES (91, 'x')",
                f"EXECUTE AS USER '{t}' (INSERT INTO ea.t VALUES (92, 'x'))) ; DROP TABLE ea.t --"):
        for r in (server.sql_raw(sql), server.sql_raw(sql, user=callers["dba"], password=PW)):
            assert_sql_error(r, 400, code="INVALID_SQL")
    assert everything(server, people) == before
    assert server.login("root")["user"]["id"] == "root"


def test_unquoted_target_name_behaves_like_the_quoted_one(server, people):
    callers, targets = people
    t = targets["user"]
    for caller, pw in (("root", None), (callers["dba"], PW)):
        body = (server.sql(f"EXECUTE AS USER {t} (INSERT INTO ea.t VALUES (93, 'x'))")
                if caller == "root" else
                server.sql(f"EXECUTE AS USER {t} (INSERT INTO ea.t VALUES (93, 'x'))",
                           user=caller, password=pw))
        assert body["results"] == [{"row_count": 1, "message": "Inserted 1 row(s)", "as_user": t}]
        assert [93, "x"] in rows_of(server, t)
        assert [93, "x"] not in rows_of(server, caller)
        server.sql(f"EXECUTE AS USER '{t}' (DELETE FROM ea.t WHERE id = 93)")


def test_context_restored_after_execute_as(server, people):
    callers, targets = people
    c, t = callers["service"], targets["user"]
    body = server.sql(f"EXECUTE AS USER '{t}' (SELECT CURRENT_USER(), CURRENT_ROLE()); "
                      f"SELECT CURRENT_USER(), CURRENT_ROLE(); INSERT INTO ea.t VALUES (5551, 'mine')",
                      user=c, password=PW)
    res = body["results"]
    assert res[0]["rows"] == [[t, "user"]] and res[0]["as_user"] == t, res
    assert res[1]["rows"] == [[c, "service"]] and res[1]["as_user"] == c, res
    assert res[2]["as_user"] == c
    assert [5551, "mine"] in rows_of(server, c)
    assert [5551, "mine"] not in rows_of(server, t)


def test_context_restored_after_failed_execute_as(server, people):
    """A failing inner statement inside a transaction must not leave the session as the target."""
    callers, targets = people
    c, t = callers["dba"], targets["user"]
    before = everything(server, people)
    r = server.sql_raw(f"BEGIN; EXECUTE AS USER '{t}' (INSERT INTO ea.t VALUES (1, 'x'), (1, 'dup')); "
                       f"INSERT INTO ea.t VALUES (5552, 'who'); COMMIT", user=c, password=PW)
    assert r.status_code == 400, r.text
    assert everything(server, people) == before


def test_execute_as_rolled_back(server, people):
    _, targets = people
    t = targets["user"]
    before = rows_of(server, t)
    r = server.sql_raw(f"BEGIN; EXECUTE AS USER '{t}' (INSERT INTO ea.t VALUES (4242, 'tx')); ROLLBACK")
    assert r.status_code == 200, r.text
    assert rows_of(server, t) == before


def test_execute_as_updates_and_deletes_only_target_scope(server, people):
    callers, targets = people
    c, t = callers["service"], targets["user"]
    server.sql("INSERT INTO ea.t VALUES (8001, 'caller-row')", user=c, password=PW)
    server.sql(f"EXECUTE AS USER '{t}' (INSERT INTO ea.t VALUES (8001, 'target-row'))", user=c, password=PW)
    body = server.sql(f"EXECUTE AS USER '{t}' (UPDATE ea.t SET v = 'changed' WHERE id = 8001)",
                      user=c, password=PW)
    assert body["results"][0]["row_count"] == 1 and body["results"][0]["as_user"] == t
    assert [8001, "caller-row"] in rows_of(server, c)
    assert [8001, "changed"] in rows_of(server, t)
    server.sql(f"EXECUTE AS USER '{t}' (DELETE FROM ea.t WHERE id = 8001)", user=c, password=PW)
    assert [8001, "caller-row"] in rows_of(server, c)
    assert all(r[0] != 8001 for r in rows_of(server, t))


def test_errors_inside_do_not_leak_internals(server, people):
    callers, targets = people
    r = server.sql_raw(f"EXECUTE AS USER '{targets['user']}' (SELECT nosuch FROM ea.t)",
                       user=callers["service"], password=PW)
    err = assert_sql_error(r, 400, code="INVALID_SQL")
    assert "details" not in err
    assert_no_leak(err, typed="nosuch ea t")
