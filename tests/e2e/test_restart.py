"""Durability: namespaces, tables, users and rows survive a graceful restart and a kill -9."""
import pytest
import requests

from helpers import login_raw, post_sql

PW = "password123"


def populate(s):
    s.sql("CREATE NAMESPACE app")
    s.sql("CREATE NAMESPACE gone")
    s.sql("CREATE TABLE app.shared (id INT PRIMARY KEY, body TEXT, price DECIMAL(10,2), "
          "ts TIMESTAMP DEFAULT NOW(), e EMBEDDING(3)) WITH (FLUSH_POLICY = 'rows:1000')")
    s.sql("CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY AUTO_INCREMENT, v TEXT NOT NULL)")
    s.sql("CREATE TABLE app.dropped (id INT PRIMARY KEY)")
    s.sql("INSERT INTO app.dropped VALUES (1)")
    s.sql("DROP TABLE app.dropped")
    s.sql("DROP NAMESPACE gone")
    s.create_user("alice")
    s.create_user("bob", role="dba")
    s.sql("INSERT INTO app.shared (id, body, price, e) VALUES (1, 'one', 1.5, '[1,2,3]'), "
          "(2, 'two', 2, '[0.5,0.5,0.5]'), (3, 'three', 3.25, NULL)")
    s.sql("UPDATE app.shared SET body = 'TWO' WHERE id = 2")
    s.sql("DELETE FROM app.shared WHERE id = 3")
    s.sql("BEGIN; INSERT INTO app.shared (id, body) VALUES (4, 'tx'); COMMIT")
    s.sql("BEGIN; INSERT INTO app.shared (id, body) VALUES (5, 'rolled back'); ROLLBACK")
    s.sql("INSERT INTO app.notes (v) VALUES ('alice note')", user="alice", password=PW)
    s.sql("INSERT INTO app.notes (v) VALUES ('bob note 1'), ('bob note 2')", user="bob", password=PW)


def snapshot(s):
    """Everything a client can observe about the populated state."""
    return {
        "namespaces": [r[:4] for r in s.rows("SHOW NAMESPACES")],
        "tables": s.rows("SHOW TABLES IN app"),
        "describe_shared": s.rows("DESCRIBE TABLE app.shared"),
        "describe_notes": s.rows("DESCRIBE TABLE app.notes"),
        "shared": s.rows("SELECT * FROM app.shared ORDER BY id"),
        "shared_deleted": s.rows("SELECT * FROM app.shared WHERE _deleted = true"),
        "alice": s.rows("SELECT * FROM app.notes", user="alice", password=PW),
        "bob": s.rows("SELECT * FROM app.notes ORDER BY v", user="bob", password=PW),
        "root_notes": s.rows("SELECT * FROM app.notes"),
    }


def check_expected(snap):
    assert [n[0] for n in snap["namespaces"]] == ["app", "default"]
    assert [t[:3] for t in snap["tables"]] == [["app", "notes", "USER"], ["app", "shared", "SHARED"]]
    shared = [r[:3] + [r[4], r[6]] for r in snap["shared"]]
    assert shared == [[1, "one", "1.50", [1.0, 2.0, 3.0], False],
                      [2, "TWO", "2.00", [0.5, 0.5, 0.5], False],
                      [4, "tx", None, None, False]]
    assert [r[:3] for r in snap["shared_deleted"]] == [[3, "three", "3.25"]]
    assert [r[1] for r in snap["alice"]] == ["alice note"]
    assert [r[1] for r in snap["bob"]] == ["bob note 1", "bob note 2"]
    assert snap["root_notes"] == []


def check_after_restart(s, before):
    after = snapshot(s)
    assert after == before
    check_expected(after)
    # dropped objects stay dropped
    err = s.sql_error("SELECT * FROM app.dropped")
    assert err["code"] == "TABLE_NOT_FOUND"
    s.sql("CREATE TABLE app.dropped (id INT PRIMARY KEY)")
    assert s.rows("SELECT * FROM app.dropped") == []
    assert s.rows("SELECT id FROM app.dropped WHERE _deleted = true") == []
    # users can log in with their passwords and keep their roles
    body = login_raw(s, {"user": "alice", "password": PW}).json()
    assert body["user"]["role"] == "user" and body["admin_ui_access"] is False
    body = login_raw(s, {"user": "bob", "password": PW}).json()
    assert body["user"]["role"] == "dba" and body["admin_ui_access"] is True
    assert login_raw(s, {"user": "alice", "password": "wrong-password"}).status_code == 401
    # PK index survived: duplicates still rejected, deleted key reusable
    err = s.sql_error("INSERT INTO app.shared (id, body) VALUES (1, 'dup')")
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '1' already exists in column 'id'"
    s.sql("INSERT INTO app.shared (id, body) VALUES (3, 'reborn')")
    # _seq keeps increasing across the restart
    max_before = max(int(r[-2]) for r in before["shared"] + before["shared_deleted"])
    new_seq = s.sql("INSERT INTO app.shared (id) VALUES (6) RETURNING _seq")["results"][0]["rows"][0][0]
    assert int(new_seq) > max_before
    # generated ids keep increasing too
    old_ids = [int(r[0]) for r in before["bob"]]
    new_id = s.sql("INSERT INTO app.notes (v) VALUES ('later') RETURNING id", user="bob",
                   password=PW)["results"][0]["rows"][0][0]
    assert int(new_id) > max(old_ids)


def test_graceful_restart(fresh_server):
    s = fresh_server
    populate(s)
    before = snapshot(s)
    check_expected(before)
    rc = s.stop()
    assert rc == 0, s.log()
    s.start()
    check_after_restart(s, before)


def test_kill9_restart(fresh_server):
    s = fresh_server
    populate(s)
    before = snapshot(s)
    s.kill9()
    s.start()
    check_after_restart(s, before)


def test_kill9_right_after_acknowledged_writes(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE k")
    s.sql("CREATE TABLE k.t (id INT PRIMARY KEY, v TEXT)")
    tok = s.token()
    sess = requests.Session()
    for i in range(50):
        r = post_sql(s, {"sql": "INSERT INTO k.t VALUES ($1, $2)", "params": [i, f"v{i}"]}, token=tok)
        assert r.status_code == 200
    r = post_sql(s, {"sql": "UPDATE k.t SET v = 'last' WHERE id = 49"}, token=tok)
    assert r.status_code == 200
    s.kill9()
    s.start()
    assert s.rows("SELECT count(*) FROM k.t") == [["50"]]
    assert s.rows("SELECT v FROM k.t WHERE id = 49") == [["last"]]
    sess.close()


def test_double_restart_and_ddl_after_restart(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE d1")
    s.sql("CREATE TABLE d1.t (id INT PRIMARY KEY)")
    s.sql("INSERT INTO d1.t VALUES (1)")
    s.stop()
    s.start()
    s.sql("CREATE TABLE d1.u (id INT PRIMARY KEY)")
    s.sql("INSERT INTO d1.u VALUES (2)")
    s.sql("DROP TABLE d1.t")
    s.kill9()
    s.start()
    assert [r[1] for r in s.rows("SHOW TABLES IN d1")] == ["u"]
    assert s.rows("SELECT id FROM d1.u") == [[2]]
    assert s.sql_error("SELECT id FROM d1.t")["code"] == "TABLE_NOT_FOUND"
    s.sql("DROP NAMESPACE d1 CASCADE")
    s.stop()
    s.start()
    assert [r[0] for r in s.rows("SHOW NAMESPACES")] == ["default"]


def test_token_survives_restart(fresh_server):
    s = fresh_server
    tok = s.login()["access_token"]
    s.stop()
    s.start()
    r = post_sql(s, {"sql": "SELECT 1 AS one"}, token=tok)
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["rows"] == [["1"]]


def test_sigterm_exit_code_zero(fresh_server):
    s = fresh_server
    assert s.stop() == 0
