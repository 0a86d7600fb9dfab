"""docs/audit.md: system.audit_log records logins (success, failure, lockout), token refreshes,
user DDL, namespace DDL, EXECUTE AS, KILL JOB and BACKUP with who, when, from where, what and the
outcome; it is readable by dba and system only and refuses every write."""
import json
import re

import pytest

from helpers import unique, wait_job
from kalam_harness import DEFAULT_TEST_CONFIG, serve

COLUMNS = "actor_user_id, action, target, ip_address, subject_user_id, outcome, details"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    backups = tmp_path_factory.mktemp("backups")
    s_gen = serve(tmp_path_factory,
                  config_toml=DEFAULT_TEST_CONFIG + f'[backup]\nallowed_dirs = ["{backups}"]\n')
    s = next(s_gen)
    s.backups = backups
    yield s
    next(s_gen, None)


def audit(server, where):
    rows = server.rows(f"SELECT {COLUMNS} FROM system.audit_log WHERE {where} "
                       "ORDER BY timestamp, audit_id")
    return [r[:6] + [json.loads(r[6]) if r[6] is not None else None] for r in rows]


def login(server, user, password):
    return server.http.post(server.base + "/v1/api/auth/login",
                            json={"user": user, "password": password})


def test_login_success_failure_and_lockout(server):
    name = unique("aud")
    server.create_user(name)
    assert login(server, name, "password123").status_code == 200
    assert login(server, name, "wrong-password").status_code == 401
    assert audit(server, f"action = 'LOGIN' AND target = 'user:{name}'") == [
        [name, "LOGIN", f"user:{name}", "127.0.0.1", name, "success", None],
        [name, "LOGIN", f"user:{name}", "127.0.0.1", name, "failure", {"reason": "unauthorized"}],
    ]
    for _ in range(4):  # the 5th failure in a row locks the account
        assert login(server, name, "wrong-password").status_code == 401
    assert audit(server, f"action = 'LOCKOUT' AND target = 'user:{name}'") == [
        [name, "LOCKOUT", f"user:{name}", "127.0.0.1", name, "success",
         {"reason": "too_many_failed_logins"}]]
    assert login(server, name, "password123").json()["error"] == "account_locked"
    assert audit(server, f"action = 'LOGIN' AND target = 'user:{name}'")[-1] == [
        name, "LOGIN", f"user:{name}", "127.0.0.1", name, "failure", {"reason": "account_locked"}]
    # Passwords never reach the log.
    everything = server.sql_raw("SELECT * FROM system.audit_log").text
    assert "wrong-password" not in everything and "password123" not in everything


def test_token_refresh(server):
    name = unique("ref")
    server.create_user(name)
    tokens = login(server, name, "password123").json()
    r = server.http.post(server.base + "/v1/api/auth/refresh",
                         headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert r.status_code == 200
    assert audit(server, f"action = 'TOKEN_REFRESH' AND target = 'user:{name}'") == [
        [name, "TOKEN_REFRESH", f"user:{name}", "127.0.0.1", name, "success", None]]
    assert tokens["refresh_token"] not in server.sql_raw("SELECT * FROM system.audit_log").text


def test_create_user_and_alter_role(server):
    name = unique("usr")
    server.sql(f"CREATE USER {name} WITH PASSWORD 'Sup3r-secret' ROLE user")
    server.sql(f"ALTER USER {name} SET ROLE dba")
    server.sql(f"ALTER USER {name} SET PASSWORD 'An0ther-secret'")
    rows = audit(server, f"target = 'user:{name}' AND action LIKE '%_USER'")
    assert [r[:6] for r in rows] == [
        ["root", "CREATE_USER", f"user:{name}", "127.0.0.1", name, "success"],
        ["root", "ALTER_USER", f"user:{name}", "127.0.0.1", name, "success"],
        ["root", "ALTER_USER", f"user:{name}", "127.0.0.1", name, "success"],
    ]
    assert [{k: v for k, v in r[6].items() if k != "message"} for r in rows] == [
        {"role": "user", "statement": f"CREATE USER {name} WITH PASSWORD ? ROLE user"},
        {"change": "role", "role": "dba", "statement": f"ALTER USER {name} SET ROLE dba"},
        {"change": "password", "statement": f"ALTER USER {name} SET PASSWORD ?"},
    ]
    assert "secret" not in server.sql_raw("SELECT * FROM system.audit_log").text


def test_failed_statement_is_recorded_with_its_error(server):
    name = unique("dup")
    server.create_user(name)
    err = server.sql_error(f"CREATE USER {name} WITH PASSWORD 'password123' ROLE user")
    assert err["message"] == f"Statement 1 failed: Already exists: User '{name}' already exists"
    rows = audit(server, f"target = 'user:{name}' AND outcome = 'failure'")
    assert len(rows) == 1
    assert rows[0][:6] == ["root", "CREATE_USER", f"user:{name}", "127.0.0.1", name, "failure"]
    assert rows[0][6] == {"role": "user", "error": f"User '{name}' already exists",
                          "statement": f"CREATE USER {name} WITH PASSWORD ? ROLE user"}


def test_drop_namespace(server):
    ns = unique("audns")
    server.sql(f"CREATE NAMESPACE {ns}")
    server.sql(f"DROP NAMESPACE {ns}")
    rows = audit(server, f"target = 'namespace:{ns}'")
    assert [r[:6] for r in rows] == [
        ["root", "CREATE_NAMESPACE", f"namespace:{ns}", "127.0.0.1", None, "success"],
        ["root", "DROP_NAMESPACE", f"namespace:{ns}", "127.0.0.1", None, "success"],
    ]
    assert rows[1][6]["statement"] == f"DROP NAMESPACE {ns}"


def test_execute_as(server):
    target = server.create_user(unique("asu"))
    ns = unique("asns")
    server.sql(f"CREATE NAMESPACE {ns}")
    server.sql(f"CREATE USER TABLE {ns}.t (id INT PRIMARY KEY)")
    server.sql(f"EXECUTE AS USER '{target}' (INSERT INTO {ns}.t (id) VALUES (7))")
    rows = audit(server, f"action = 'EXECUTE_AS' AND subject_user_id = '{target}'")
    assert [r[:6] for r in rows] == [
        ["root", "EXECUTE_AS", f"user:{target}", "127.0.0.1", target, "success"]]
    assert rows[0][6]["statement"] == f"EXECUTE AS USER ? (INSERT INTO {ns}.t (id) VALUES (?))"


def test_kill_job(server):
    err = server.sql_error("KILL JOB 'FL-404'")
    assert err["message"] == "Statement 1 failed: Not found: Job 'FL-404' does not exist"
    rows = audit(server, "action = 'KILL_JOB' AND target = 'job:FL-404'")
    assert rows == [["root", "KILL_JOB", "job:FL-404", "127.0.0.1", None, "failure",
                     {"statement": "KILL JOB ?", "error": "Job 'FL-404' does not exist"}]]


def test_backup(server):
    path = server.backups / unique("b")
    msg = server.sql(f"BACKUP DATABASE TO '{path}'")["results"][0]["message"]
    job = re.fullmatch(r"Database backup started to '.*'\. Job ID: (BK-\d+)", msg).group(1)
    assert wait_job(server, job)[0] == "completed"
    rows = audit(server, f"action = 'BACKUP' AND target = 'path:{path}'")
    assert rows == [["root", "BACKUP", f"path:{path}", "127.0.0.1", None, "success",
                     {"statement": "BACKUP DATABASE TO ?", "message": msg}]]


def test_dml_refused_and_dba_only(server):
    for sql in ("INSERT INTO system.audit_log (audit_id) VALUES ('x')",
                "UPDATE system.audit_log SET outcome = 'success'",
                "DELETE FROM system.audit_log"):
        err = server.sql_error(sql, status=403)
        assert {k: err[k] for k in ("code", "message")} == {
            "code": "PERMISSION_DENIED", "message": "Statement 1 failed: Permission denied: System table 'system.audit_log' is read-only"}
    user = server.create_user(unique("nosee"))
    err = server.sql_error("SELECT * FROM system.audit_log", user=user, password="password123",
                           status=403)
    assert err["message"] == ("Statement 1 failed: Permission denied: system tables are readable by dba and system "
                              "roles only")
    dba = server.create_user(unique("see"), role="dba")
    [[n]] = server.rows("SELECT count(*) FROM system.audit_log WHERE action = 'CREATE_USER'",
                        user=dba, password="password123")
    assert int(n) >= 1
    # Nothing was deleted by the refused DELETE.
    [[before]] = server.rows("SELECT count(*) FROM system.audit_log WHERE action = 'LOGIN'")
    assert int(before) >= 1


def test_audit_entries_have_ids_and_microsecond_timestamps(server):
    rows = server.rows("SELECT audit_id, timestamp FROM system.audit_log LIMIT 5")
    assert rows
    for audit_id, ts in rows:
        ms = int(re.fullmatch(r"audit_(\d+)_[0-9a-f]{32}", audit_id).group(1))
        assert ts // 1000 == ms
