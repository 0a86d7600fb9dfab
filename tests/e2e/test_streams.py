"""STREAM tables (docs/streams.md): DDL and its messages, append-only INSERT, DELETE, per-user
scope, TTL visibility, stream_eviction jobs, MAX_ROWS_PER_USER, EPHEMERAL, live subscriptions and
durability across kill -9."""
import json
import re
import threading
import time

import pytest

from helpers import msg_result
from kalam_harness import serve
from live_client import LiveClient

PW = "password123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Evictions every second, so the eviction tests need not wait a minute.
    yield from serve(tmp_path_factory, config_toml=(
        "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"
        "[stream]\neviction_interval_seconds = 1\n"))


@pytest.fixture(scope="module")
def users(server):
    server.create_user("alice")
    server.create_user("bob")
    return {"alice": "alice", "bob": "bob"}


def as_user(server, who, sql):
    return server.sql(sql, user=who, password=PW)


def rows_of(server, who, sql):
    return server.rows(sql, user=who, password=PW)


def show_tables(server, ns):
    return [r[1] for r in server.rows(f"SHOW TABLES IN {ns}")]


# ---- DDL ----------------------------------------------------------------------------------------

def test_create_stream_table_in_both_forms(server, ns):
    body = server.sql(f"CREATE STREAM TABLE {ns}.ev (id INT PRIMARY KEY, v TEXT) "
                      f"WITH (TTL_SECONDS = 30)")
    assert body["results"] == [msg_result(f"stream table {ns}.ev created successfully")]
    body = server.sql(f"CREATE TABLE {ns}.ev2 (v TEXT) WITH (TYPE = 'STREAM', TTL_SECONDS = 5)")
    assert body["results"] == [msg_result(f"stream table {ns}.ev2 created successfully")]
    tables = server.rows(f"SELECT table_name, table_type, options FROM system.tables "
                         f"WHERE namespace_id = '{ns}' ORDER BY table_name")
    assert [t[:2] for t in tables] == [["ev", "STREAM"], ["ev2", "STREAM"]]
    assert json.loads(tables[0][2]) == {
        "table_type": "STREAM", "ttl_seconds": 30, "eviction_strategy": "time_based",
        "max_stream_size_bytes": 0, "compression": "snappy", "max_rows_per_user": 0,
        "ephemeral": False, "storage_id": "local"}
    assert json.loads(tables[1][2])["ttl_seconds"] == 5


def test_describe_lists_system_columns_and_the_ttl(server, ns):
    server.sql(f"CREATE STREAM TABLE {ns}.d (id INT PRIMARY KEY, v TEXT DEFAULT 'x') "
               f"WITH (TTL_SECONDS = 42, MAX_ROWS_PER_USER = 7)")
    body = server.sql(f"DESCRIBE TABLE {ns}.d")
    res = body["results"][0]
    assert res["message"] == f"STREAM table {ns}.d: TTL_SECONDS = 42, MAX_ROWS_PER_USER = 7"
    rows = [r[:8] for r in res["rows"]]
    assert rows == [
        ["id", 1, 1, "INT", False, True, None, None],
        ["v", 2, 2, "TEXT", True, False, "'x'", None],
        ["_seq", 3, 0, "BIGINT", False, False, None, "Version ID (MVCC) with embedded timestamp"],
        ["_deleted", 4, 0, "BOOLEAN", False, False, "FALSE", "Soft delete flag"],
    ]


@pytest.mark.parametrize("sql,code,message", [
    ("CREATE STREAM TABLE {ns}.bad (id INT PRIMARY KEY)", "INVALID_SQL",
     "Invalid CREATE TABLE statement: STREAM tables must specify 'TTL_SECONDS'"),
    ("CREATE TABLE {ns}.bad (id INT PRIMARY KEY) WITH (TYPE = 'STREAM')", "INVALID_SQL",
     "Invalid CREATE TABLE statement: STREAM tables must specify 'TTL_SECONDS'"),
    ("CREATE USER TABLE {ns}.bad (id INT PRIMARY KEY) WITH (TTL_SECONDS = 5)", "INVALID_SQL",
     "TTL_SECONDS is only supported for STREAM tables"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 0)", "INVALID_SQL",
     "Invalid TTL_SECONDS '0': a STREAM table with TTL 0 could never show a row; use at least "
     "1 second"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 'soon')", "INVALID_SQL",
     "Invalid TTL_SECONDS 'soon': use a whole number of seconds (at least 1)"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 1.5)", "INVALID_SQL",
     "Invalid TTL_SECONDS '1.5': use a whole number of seconds (at least 1)"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = -3)", "INVALID_SQL",
     "Invalid TTL_SECONDS: a negative value; use a whole number of seconds (at least 1)"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 5, ACCESS_LEVEL = 'PUBLIC')",
     "INVALID_SQL", "ACCESS_LEVEL is only supported for SHARED tables"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 5, USE_USER_STORAGE = TRUE)",
     "INVALID_SQL", "USE_USER_STORAGE is only supported for USER tables"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 5, TYPE = 'USER')",
     "INVALID_SQL", "Conflicting table type definitions: CREATE Stream TABLE vs TYPE option User"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 5, MAX_BUFFER = 9)",
     "INVALID_SQL", "Unknown table option 'MAX_BUFFER': valid options are TYPE, STORAGE_ID, "
     "USE_USER_STORAGE, FLUSH_POLICY, DELETED_RETENTION_HOURS, TTL_SECONDS, ACCESS_LEVEL, "
     "MAX_ROWS_PER_USER, EPHEMERAL"),
    ("CREATE USER TABLE {ns}.bad (id INT PRIMARY KEY) WITH (MAX_ROWS_PER_USER = 5)",
     "INVALID_SQL", "MAX_ROWS_PER_USER is only supported for STREAM tables"),
    ("CREATE SHARED TABLE {ns}.bad (id INT PRIMARY KEY) WITH (EPHEMERAL = TRUE)",
     "INVALID_SQL", "EPHEMERAL is only supported for STREAM tables"),
    ("CREATE STREAM TABLE {ns}.bad (id INT) WITH (TTL_SECONDS = 5, MAX_ROWS_PER_USER = 0)",
     "INVALID_SQL", "MAX_ROWS_PER_USER must be a whole number of at least 1, got '0'"),
])
def test_create_errors_create_nothing(server, ns, sql, code, message):
    err = server.sql_error(sql.format(ns=ns))
    assert (err["code"], err["message"]) == (code, message)
    assert "bad" not in show_tables(server, ns)


def test_drop_stream_table_removes_its_rows(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.gone (v TEXT) WITH (TTL_SECONDS = 60)")
    as_user(server, "alice", f"INSERT INTO {ns}.gone (v) VALUES ('a')")
    err = server.sql_error(f"DROP USER TABLE {ns}.gone")
    assert err["message"] == f"Statement 1 failed: Invalid operation: Table '{ns}.gone' is a STREAM table, not USER"
    server.sql(f"DROP STREAM TABLE {ns}.gone")
    assert "gone" not in show_tables(server, ns)
    server.sql(f"CREATE STREAM TABLE {ns}.gone (v TEXT) WITH (TTL_SECONDS = 60)")
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.gone") == []
    server.sql(f"DROP TABLE {ns}.gone")


def test_alter_is_refused(server, ns):
    server.sql(f"CREATE STREAM TABLE {ns}.al (v TEXT) WITH (TTL_SECONDS = 60)")
    err = server.sql_error(f"ALTER TABLE {ns}.al ADD COLUMN w INT")
    assert (err["code"], err["message"]) == (
        "SQL_EXECUTION_ERROR", "Statement 1 failed: Invalid operation: ALTER TABLE is not supported for STREAM "
        "tables; create a new stream table instead")


# ---- DML ----------------------------------------------------------------------------------------

def test_insert_appends_with_defaults_duplicates_and_returning(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.e (id INT PRIMARY KEY, v TEXT DEFAULT 'dflt', "
               f"n INT NOT NULL) WITH (TTL_SECONDS = 600)")
    body = as_user(server, "alice", f"INSERT INTO {ns}.e (id, n) VALUES (1, 10), (1, 11)")
    assert body["results"] == [msg_result("Inserted 2 row(s)", 2, "alice")]
    ret = as_user(server, "alice", f"INSERT INTO {ns}.e (id, v, n) VALUES (2, 'b', 12) "
                                   f"RETURNING _seq")["results"][0]["rows"]
    assert len(ret) == 1 and int(ret[0][0]) > 0
    star = as_user(server, "alice", f"INSERT INTO {ns}.e (id, n) VALUES (3, 13) RETURNING *")
    res = star["results"][0]
    assert [c["name"] for c in res["schema"]] == ["id", "v", "n", "_seq", "_deleted"]
    assert res["rows"][0][:3] == [3, "dflt", 13] and res["rows"][0][4] is False
    rows = rows_of(server, "alice", f"SELECT * FROM {ns}.e")
    assert [r[:3] for r in rows] == [[1, "dflt", 10], [1, "dflt", 11], [2, "b", 12],
                                     [3, "dflt", 13]]
    assert [r[4] for r in rows] == [False] * 4  # _deleted, always false
    seqs = [int(r[3]) for r in rows]
    assert seqs == sorted(seqs) and int(ret[0][0]) == seqs[2]
    err = server.sql_error(f"INSERT INTO {ns}.e (id) VALUES (9)", user="alice", password=PW)
    assert err["message"] == "Statement 1 failed: Invalid operation: Column 'n' cannot be NULL"
    assert len(rows_of(server, "alice", f"SELECT id FROM {ns}.e")) == 4


def test_each_user_sees_only_their_rows_and_execute_as_works(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.iso (v TEXT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.iso (v) VALUES ('a1'), ('a2')")
    as_user(server, "bob", f"INSERT INTO {ns}.iso (v) VALUES ('b1')")
    server.sql(f"EXECUTE AS USER 'bob' (INSERT INTO {ns}.iso (v) VALUES ('b2'))")
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.iso") == [["a1"], ["a2"]]
    assert rows_of(server, "bob", f"SELECT v FROM {ns}.iso") == [["b1"], ["b2"]]
    assert server.rows(f"SELECT v FROM {ns}.iso") == []
    assert server.rows(f"EXECUTE AS USER 'alice' (SELECT v FROM {ns}.iso WHERE v = 'a2')") == [["a2"]]
    # alice's DELETE cannot reach bob's rows, whatever it matches
    body = as_user(server, "alice", f"DELETE FROM {ns}.iso WHERE v LIKE 'b%' OR v = 'a1'")
    assert body["results"] == [msg_result("Deleted 1 row(s)", 1, "alice")]
    assert rows_of(server, "bob", f"SELECT v FROM {ns}.iso") == [["b1"], ["b2"]]


def test_delete_by_key_by_any_where_and_without_a_primary_key(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.pk (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 600)")
    server.sql(f"CREATE STREAM TABLE {ns}.nopk (v TEXT, n INT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.pk VALUES (1, 'a'), (2, 'b'), (2, 'c'), (3, 'd')")
    body = as_user(server, "alice", f"DELETE FROM {ns}.pk WHERE id = 2")
    assert body["results"] == [msg_result("Deleted 2 row(s)", 2, "alice")]
    as_user(server, "alice", f"DELETE FROM {ns}.pk WHERE v = 'd'")
    assert rows_of(server, "alice", f"SELECT id, v FROM {ns}.pk") == [[1, "a"]]
    as_user(server, "alice", f"INSERT INTO {ns}.nopk VALUES ('x', 1), ('y', 2), ('x', 3)")
    body = as_user(server, "alice", f"DELETE FROM {ns}.nopk WHERE v = 'x'")
    assert body["results"] == [msg_result("Deleted 2 row(s)", 2, "alice")]
    seq = rows_of(server, "alice", f"SELECT _seq FROM {ns}.nopk")[0][0]
    as_user(server, "alice", f"INSERT INTO {ns}.nopk VALUES ('z', 4)")
    body = as_user(server, "alice", f"DELETE FROM {ns}.nopk WHERE _seq = {seq}")
    assert body["results"] == [msg_result("Deleted 1 row(s)", 1, "alice")]
    assert rows_of(server, "alice", f"SELECT v, n, _deleted FROM {ns}.nopk") == [["z", 4, False]]
    # deleting again finds nothing
    body = as_user(server, "alice", f"DELETE FROM {ns}.nopk WHERE v = 'x'")
    assert body["results"] == [msg_result("Deleted 0 row(s)", 0, "alice")]


def test_seq_bounds_select_exactly_what_sqlite_compares(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.rng (n INT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.rng (n) VALUES (1), (2), (3), (4)")
    seqs = [int(r[0]) for r in rows_of(server, "alice", f"SELECT _seq FROM {ns}.rng")]
    a, b, c, d = seqs

    def ns_of(where):
        return [r[0] for r in rows_of(server, "alice", f"SELECT n FROM {ns}.rng WHERE {where}")]

    assert ns_of(f"_seq = {b}") == [2]
    assert ns_of(f"_seq = '{b}'") == [2]
    assert ns_of(f"_seq > {b}") == [3, 4]
    assert ns_of(f"_seq >= {b} AND _seq < {d}") == [2, 3]
    assert ns_of(f"_seq <= {c} AND n > 1") == [2, 3]
    assert ns_of(f"_seq > {d} OR n = 1") == [1]
    assert ns_of("_seq > 9223372036854775807") == []
    # Bounds the table takes (`_seq op x`) select what SQLite's own comparison does (`+_seq`
    # hides the column from the planner), for real and out-of-range operands too.
    for op in ("=", ">", ">=", "<", "<="):
        for x in (f"{b}", f"{b}.5", f"{b - 100}.25", f"{c}.0", "1e30", "-1e30", "NULL"):
            assert ns_of(f"_seq {op} {x}") == ns_of(f"+_seq {op} {x}"), (op, x)
    # A text operand compares after the column's INTEGER affinity: numbers as numbers, other
    # text above every integer.
    assert ns_of(f"_seq >= '{c}'") == [3, 4]
    assert ns_of("_seq > 'abc'") == []
    assert ns_of("_seq < 'abc'") == [1, 2, 3, 4]
    assert [r[0] for r in rows_of(server, "alice",
                                  f"SELECT n FROM {ns}.rng ORDER BY _seq DESC LIMIT 2")] == [4, 3]


def test_a_stream_key_is_not_flagged_unique(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.fl (id INT PRIMARY KEY, v TEXT NOT NULL) "
               f"WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.fl VALUES (1, 'a')")
    schema = as_user(server, "alice", f"SELECT id, v, _seq FROM {ns}.fl")["results"][0]["schema"]
    assert [(c["name"], c.get("flags")) for c in schema] == [
        ("id", ["pk", "nn"]), ("v", ["nn"]), ("_seq", None)]


def test_concurrent_deletes_of_the_same_rows_delete_and_notify_once(server, ns, users):
    # Several statements delete the same rows at once: each row is deleted (counted, notified)
    # exactly once; a statement that lost the race is retried and counts 0.
    n = 80
    server.sql(f"CREATE STREAM TABLE {ns}.race (n INT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.race (n) VALUES " +
            ", ".join(f"({i})" for i in range(n)))
    c = LiveClient(server, user="alice", password=PW)
    c.subscribe_ready("r", f"SELECT * FROM {ns}.race")
    deleted = []

    def deleter():
        for i in range(0, n, 2):
            body = as_user(server, "alice", f"DELETE FROM {ns}.race WHERE n = {i} OR n = {i + 1}")
            deleted.append(body["results"][0]["row_count"])

    threads = [threading.Thread(target=deleter) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(deleted) == n, deleted
    events = c.changes(n)
    assert sorted(e["old_values"][0]["n"] for e in events) == list(range(n))
    c.expect_silence()
    c.close()
    assert rows_of(server, "alice", f"SELECT n FROM {ns}.race") == []


def test_update_transactions_flush_and_compact_are_refused(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.ro (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.ro VALUES (1, 'a')")
    err = server.sql_error(f"UPDATE {ns}.ro SET v = 'b' WHERE id = 1", user="alice", password=PW)
    assert (err["code"], err["message"]) == ("SQL_EXECUTION_ERROR",
                                             "Statement 1 failed: Invalid operation: UPDATE is not supported for STREAM tables")
    err = server.sql_error(f"BEGIN; INSERT INTO {ns}.ro VALUES (2, 'b'); COMMIT",
                           user="alice", password=PW)
    assert (err["code"], err["message"]) == (
        "SQL_EXECUTION_ERROR", "Statement 2 failed: Invalid operation: stream tables are not "
        "supported inside explicit transactions")
    err = server.sql_error(f"BEGIN; DELETE FROM {ns}.ro WHERE id = 1; COMMIT",
                           user="alice", password=PW)
    assert err["message"].endswith("stream tables are not supported inside explicit transactions")
    # reading a stream inside a transaction is fine
    body = as_user(server, "alice", f"BEGIN; SELECT v FROM {ns}.ro; COMMIT")
    assert body["results"][0]["rows"] == [["a"]]
    assert rows_of(server, "alice", f"SELECT id, v FROM {ns}.ro") == [[1, "a"]]
    err = server.sql_error(f"STORAGE FLUSH TABLE {ns}.ro")
    assert (err["code"], err["message"]) == (
        "SQL_EXECUTION_ERROR",
        "Statement 1 failed: Invalid operation: STORAGE FLUSH TABLE is not supported for STREAM tables")
    err = server.sql_error(f"STORAGE COMPACT TABLE {ns}.ro")
    assert (err["code"], err["message"]) == (
        "SQL_EXECUTION_ERROR",
        "Statement 1 failed: Invalid operation: STORAGE COMPACT TABLE is not supported for STREAM tables")
    body = server.sql(f"STORAGE FLUSH ALL IN {ns}")  # skips streams
    assert body["results"][0]["message"].startswith(f"Storage flush started for 0 table(s) in "
                                                    f"namespace '{ns}'")


# ---- TTL and eviction -------------------------------------------------------------------------

def stream_jobs(server, ns, table):
    rows = server.rows("SELECT job_id, job_type, status, message, parameters FROM system.jobs "
                       "WHERE job_type = 'stream_eviction' ORDER BY created_at")
    return [r for r in rows if json.loads(r[4])["namespace_id"] == ns
            and json.loads(r[4])["table_name"] == table]


def test_rows_expire_at_their_ttl_and_are_evicted_by_a_job(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.short (v TEXT) WITH (TTL_SECONDS = 2)")
    as_user(server, "alice", f"INSERT INTO {ns}.short (v) VALUES ('a1'), ('a2')")
    as_user(server, "bob", f"INSERT INTO {ns}.short (v) VALUES ('b1')")
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.short") == [["a1"], ["a2"]]
    assert stream_jobs(server, ns, "short") == []  # nothing expired: no job
    time.sleep(2.2)
    # Hidden at once, evicted or not; tombstone queries do not bring them back either.
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.short") == []
    assert rows_of(server, "bob", f"SELECT v FROM {ns}.short WHERE _deleted >= 0") == []
    as_user(server, "alice", f"INSERT INTO {ns}.short (v) VALUES ('fresh')")
    # A pass every second evicts what has expired by then: alice's two rows and bob's one land
    # in one job, or in two when a pass falls between their expiries (a slow machine).
    pattern = re.compile(rf"Evicted (\d+) expired rows from {ns}:short \(ttl: 2s\)")

    def evicted(jobs):
        return sum(int(m.group(1)) for j in jobs if j[2] == "completed"
                   for m in [pattern.fullmatch(j[3] or "")] if m)

    deadline = time.time() + 20
    while evicted(stream_jobs(server, ns, "short")) < 3 and time.time() < deadline:
        time.sleep(0.2)
    jobs = stream_jobs(server, ns, "short")
    assert 1 <= len(jobs) <= 2, jobs
    for job_id, job_type, status, message, _ in jobs:
        assert job_id.startswith("SE-")
        assert (job_type, status) == ("stream_eviction", "completed")
        assert pattern.fullmatch(message), message
    assert evicted(jobs) == 3, jobs
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.short") == [["fresh"]]
    # Nothing expired is left: the next passes (every second) start no job for the table until
    # 'fresh' expires.
    time.sleep(1.2)
    assert len(stream_jobs(server, ns, "short")) == len(jobs)


# ---- Our options: MAX_ROWS_PER_USER and EPHEMERAL ---------------------------------------------

def test_max_rows_per_user_keeps_each_users_newest_rows(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.cap (n INT) WITH (TTL_SECONDS = 600, "
               f"MAX_ROWS_PER_USER = 3)")
    opts = json.loads(server.rows(f"SELECT options FROM system.tables WHERE namespace_id = '{ns}' "
                                  f"AND table_name = 'cap'")[0][0])
    assert opts["max_rows_per_user"] == 3
    for i in range(1, 6):
        as_user(server, "alice", f"INSERT INTO {ns}.cap (n) VALUES ({i})")
    as_user(server, "bob", f"INSERT INTO {ns}.cap (n) VALUES (100), (101)")
    assert rows_of(server, "alice", f"SELECT n FROM {ns}.cap") == [[3], [4], [5]]
    as_user(server, "alice", f"INSERT INTO {ns}.cap (n) VALUES (6), (7), (8), (9)")
    assert rows_of(server, "alice", f"SELECT n FROM {ns}.cap") == [[7], [8], [9]]
    assert rows_of(server, "bob", f"SELECT n FROM {ns}.cap") == [[100], [101]]


def test_ephemeral_rows_are_kept_only_while_someone_subscribes(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.eph (v TEXT) WITH (TTL_SECONDS = 600, EPHEMERAL = TRUE)")
    body = as_user(server, "alice", f"INSERT INTO {ns}.eph (v) VALUES ('nobody')")
    assert body["results"] == [msg_result("Inserted 1 row(s)", 1, "alice")]
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.eph") == []
    c = LiveClient(server, user="alice", password=PW)
    c.subscribe_ready("e", f"SELECT * FROM {ns}.eph")
    as_user(server, "bob", f"INSERT INTO {ns}.eph (v) VALUES ('bob, unwatched')")
    as_user(server, "alice", f"INSERT INTO {ns}.eph (v) VALUES ('watched')")
    ev = c.changes(1)[0]
    assert ev["change_type"] == "insert" and ev["rows"][0]["v"] == "watched"
    c.expect_silence()
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.eph") == [["watched"]]
    assert rows_of(server, "bob", f"SELECT v FROM {ns}.eph") == []
    c.send({"type": "unsubscribe", "subscription_id": "e"})
    time.sleep(0.3)
    as_user(server, "alice", f"INSERT INTO {ns}.eph (v) VALUES ('after')")
    assert rows_of(server, "alice", f"SELECT v FROM {ns}.eph") == [["watched"]]
    c.close()


# ---- Live subscriptions -----------------------------------------------------------------------

def test_live_snapshot_inserts_deletes_and_resume(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.live (v TEXT, n INT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.live VALUES ('s1', 1), ('s2', 2)")
    as_user(server, "bob", f"INSERT INTO {ns}.live VALUES ('bob', 0)")
    c = LiveClient(server, user="alice", password=PW)
    ack, rows = c.subscribe_ready("l", f"SELECT * FROM {ns}.live", {"batch_size": 10})
    assert [(r["v"], r["n"]) for r in rows] == [("s1", 1), ("s2", 2)]
    assert all(set(r) == {"v", "n", "_seq"} for r in rows)
    as_user(server, "alice", f"INSERT INTO {ns}.live VALUES ('i1', 3)")
    as_user(server, "bob", f"INSERT INTO {ns}.live VALUES ('bob2', 0)")
    ins = c.changes(1)[0]
    assert ins["change_type"] == "insert"
    assert (ins["rows"][0]["v"], ins["rows"][0]["n"]) == ("i1", 3)
    i1_seq = int(ins["rows"][0]["_seq"])
    as_user(server, "alice", f"DELETE FROM {ns}.live WHERE v = 's2'")
    d = c.changes(1)[0]
    assert d["change_type"] == "delete"
    old = d["old_values"][0]
    assert (old["v"], old["n"], old["_deleted"]) == ("s2", 2, True)
    delete_seq = int(old["_seq"])
    assert delete_seq > i1_seq  # the delete is at its own place in `_seq` order
    c.expect_silence()
    c.close()
    # Resume after the snapshot's first row: i1 as a row, then the delete of s2 at its place.
    first_seq = int(rows[0]["_seq"])
    r = LiveClient(server, user="alice", password=PW)
    ack, messages = r.subscribe_all("r", f"SELECT * FROM {ns}.live",
                                    {"from": first_seq, "batch_size": 10})
    got = []
    for m in messages:
        if m["type"] == "initial_data_batch":
            got += [("row", x["v"], int(x["_seq"])) for x in m["rows"]]
        else:
            got += [("delete", x["v"], int(x["_seq"])) for x in m["old_values"]]
    assert got == [("row", "i1", i1_seq), ("delete", "s2", delete_seq)]
    # Resuming from the last position delivers nothing old, then new changes.
    r2 = LiveClient(server, user="alice", password=PW)
    ack, messages = r2.subscribe_all("r2", f"SELECT * FROM {ns}.live",
                                     {"from": delete_seq, "batch_size": 10})
    assert [m["rows"] for m in messages if m["type"] == "initial_data_batch"] == [[]]
    as_user(server, "alice", f"INSERT INTO {ns}.live VALUES ('late', 9)")
    assert r2.changes(1)[0]["rows"][0]["v"] == "late"
    r.close()
    r2.close()


def test_live_last_rows(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.lr (n INT) WITH (TTL_SECONDS = 600)")
    as_user(server, "alice", f"INSERT INTO {ns}.lr (n) VALUES (1), (2), (3), (4)")
    c = LiveClient(server, user="alice", password=PW)
    ack, rows = c.subscribe_ready("l", f"SELECT n FROM {ns}.lr WHERE n < 4", {"last_rows": 2})
    assert [r["n"] for r in rows] == [2, 3]
    c.close()


def test_live_snapshot_never_shows_expired_rows(server, ns, users):
    server.sql(f"CREATE STREAM TABLE {ns}.lttl (v TEXT) WITH (TTL_SECONDS = 1)")
    as_user(server, "alice", f"INSERT INTO {ns}.lttl VALUES ('old')")
    time.sleep(1.1)
    as_user(server, "alice", f"INSERT INTO {ns}.lttl VALUES ('new')")
    c = LiveClient(server, user="alice", password=PW)
    ack, rows = c.subscribe_ready("t", f"SELECT * FROM {ns}.lttl", {"batch_size": 10})
    assert [r["v"] for r in rows] == ["new"]
    r = LiveClient(server, user="alice", password=PW)
    ack, messages = r.subscribe_all("t2", f"SELECT * FROM {ns}.lttl", {"from": 1, "batch_size": 10})
    assert [x["v"] for m in messages for x in m.get("rows", [])] == ["new"]
    c.close()
    r.close()


# ---- Durability -------------------------------------------------------------------------------

def test_rows_survive_kill9(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE k")
    s.sql("CREATE STREAM TABLE k.ev (v TEXT) WITH (TTL_SECONDS = 3600)")
    s.create_user("alice")
    for i in range(20):
        s.sql(f"INSERT INTO k.ev VALUES ('e{i}')", user="alice", password=PW)
    s.sql("DELETE FROM k.ev WHERE v = 'e3'", user="alice", password=PW)
    before = s.rows("SELECT v, _seq FROM k.ev", user="alice", password=PW)
    assert len(before) == 19
    s.kill9()
    s.start()
    assert s.rows("SELECT v, _seq FROM k.ev", user="alice", password=PW) == before
    seq = s.sql("INSERT INTO k.ev VALUES ('later') RETURNING _seq", user="alice",
                password=PW)["results"][0]["rows"][0][0]
    assert int(seq) > max(int(r[1]) for r in before)
    desc = s.sql("DESCRIBE TABLE k.ev")["results"][0]["message"]
    assert desc == "STREAM table k.ev: TTL_SECONDS = 3600"
