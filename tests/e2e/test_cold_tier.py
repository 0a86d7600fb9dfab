"""Cold tier end to end: storages, flush (by hand, by rows, by interval, at shutdown), Parquet
segments that independent readers (pyarrow, DuckDB) read, one view over hot and cold rows
(queries, updates, deletes, PK checks), compaction, SHOW STATS, system.jobs and KILL JOB."""
import json
import re
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from helpers import flush, wait_job
from kalam_harness import Server

PW = "password123"


def segments(server, *parts):
    folder = Path(server.data_dir) / "storage" / Path(*parts)
    return sorted(folder.glob("batch-*.parquet"))


def stats(server, table):
    res = server.sql(f"SHOW STATS FOR TABLE {table}")["results"][0]
    return dict(zip([c["name"] for c in res["schema"]], res["rows"][0]))


# ---- storages ---------------------------------------------------------------------------------

def test_local_storage_is_built_in(server):
    rows = server.rows("SHOW STORAGES")
    assert rows[0][:5] == ["local", "Local storage", "Built-in storage under the data directory",
                           "filesystem", f"{server.data_dir}/storage"]
    err = server.sql_error("DROP STORAGE local", status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert "cannot be dropped" in err["message"]


def test_create_check_alter_drop_storage(server, tmp_path):
    base = tmp_path / "archive"
    body = server.sql(f"CREATE STORAGE archive TYPE 'filesystem' NAME 'Archive' "
                      f"DESCRIPTION 'old rows' BASE_DIRECTORY '{base}'")
    assert body["results"][0]["message"] == "Storage archive created successfully"
    err = server.sql_error(f"CREATE STORAGE archive TYPE 'filesystem' BASE_DIRECTORY '{base}'",
                           )
    assert err["message"] == "Statement 1 failed: Already exists: Storage 'archive' already exists"
    res = server.sql("STORAGE CHECK archive")["results"][0]
    assert [c["name"] for c in res["schema"]] == [
        "storage_id", "status", "readable", "writable", "listable", "deletable", "latency_ms",
        "total_bytes", "used_bytes", "error", "tested_at"]
    [check] = res["rows"]
    assert check[:6] == ["archive", "healthy", True, True, True, True], check
    assert int(check[6]) >= 0 and check[7:10] == [None, None, None] and check[10] > 0, check
    # EXTENDED adds the capacity of the storage's volume
    [ext] = server.rows("STORAGE CHECK archive EXTENDED")
    assert ext[:6] == ["archive", "healthy", True, True, True, True], ext
    assert 0 < int(ext[8]) <= int(ext[7]), ext
    probe = base / ".kalam-check"
    assert not probe.exists() or not any(probe.iterdir()), "STORAGE CHECK leaves no probe object"
    server.sql("ALTER STORAGE archive SET DESCRIPTION 'cold rows'")
    assert server.rows("SELECT description FROM system.storages WHERE storage_id = 'archive'") == [
        ["cold rows"]]
    server.sql("CREATE NAMESPACE arch")
    server.sql("CREATE SHARED TABLE arch.t (id INT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'archive')")
    err = server.sql_error("DROP STORAGE archive")
    assert "1 table(s) use it (arch.t)" in err["message"]
    server.sql("INSERT INTO arch.t VALUES (1, 'a'), (2, 'b')")
    flush(server, "arch.t")
    assert sorted(p.name for p in (base / "arch" / "t").iterdir()) == ["batch-1.parquet",
                                                                        "manifest.json"]
    assert server.rows("SELECT id, v FROM arch.t ORDER BY id") == [[1, "a"], [2, "b"]]
    server.sql("DROP TABLE arch.t")
    assert not list((base / "arch" / "t").glob("batch-*")), "DROP TABLE removes cold files"
    assert server.sql("DROP STORAGE archive")["results"][0]["message"] == \
        "Storage archive dropped successfully"
    assert server.sql_error("STORAGE CHECK archive")["message"] == "Statement 1 failed: Not found: Storage 'archive' not found"


@pytest.mark.parametrize("sql, fragment", [
    ("CREATE STORAGE s1 TYPE 'filesystem' BASE_DIRECTORY 'relative/dir'", "absolute path"),
    ("CREATE STORAGE s2 TYPE 'ftp' BASE_DIRECTORY '/tmp/x'", "Unknown storage type"),
    ("CREATE STORAGE s3x TYPE 'filesystem' BASE_DIRECTORY '/tmp/x' "
     "USER_TABLES_TEMPLATE '{namespace}/{tableName}'", "{userId}"),
    ("CREATE STORAGE s4 TYPE 'filesystem' BASE_DIRECTORY '/tmp/x' "
     "SHARED_TABLES_TEMPLATE '../{namespace}/{tableName}'", ""),
    ("CREATE STORAGE s5 TYPE 'filesystem' BASE_DIRECTORY '/tmp/x' "
     "SHARED_TABLES_TEMPLATE '/abs/{tableName}'", ""),
    ("CREATE STORAGE s6 TYPE 'filesystem' BASE_DIRECTORY '/tmp/x' "
     "SHARED_TABLES_TEMPLATE '{namespace}/{bogus}'", ""),
    ("CREATE STORAGE s7 TYPE 's3' BUCKET 'b'", "CREDENTIALS"),
    ("CREATE STORAGE s8 TYPE 's3' BUCKET 'b' CREDENTIALS 'not json'", "CREDENTIALS"),
    ("CREATE STORAGE 9bad TYPE 'filesystem' BASE_DIRECTORY '/tmp/x'", ""),
    ("CREATE STORAGE s9 BASE_DIRECTORY '/tmp/x'", "TYPE"),
])
def test_bad_storage_definitions_change_nothing(server, sql, fragment):
    before = server.rows("SELECT storage_id FROM system.storages ORDER BY storage_id")
    r = server.sql_raw(sql)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]["message"]
    assert server.rows("SELECT storage_id FROM system.storages ORDER BY storage_id") == before


def test_storage_statements_need_dba(server):
    server.create_user("svc_st", PW, "service")
    server.create_user("usr_st", PW, "user")
    for user in ("svc_st", "usr_st"):
        for sql in ("CREATE STORAGE x TYPE 'filesystem' BASE_DIRECTORY '/tmp/kx'",
                    "ALTER STORAGE local SET NAME 'pwned'", "DROP STORAGE local",
                    "STORAGE CHECK local", "KILL JOB 'FL-1'"):
            err = server.sql_error(sql, user=user, password=PW, status=403)
            assert err["code"] == "PERMISSION_DENIED", (user, sql)
    assert server.rows("SELECT storage_name FROM system.storages WHERE storage_id = 'local'") == [
        ["Local storage"]]
    assert server.rows("SELECT count(*) FROM system.storages WHERE storage_id = 'x'") == [["0"]]
    # Listing storages is open to every role, as in the original (no column holds credentials).
    for user in ("svc_st", "usr_st"):
        res = server.sql("SHOW STORAGES", user=user, password=PW)["results"][0]
        assert [c["name"] for c in res["schema"]] == [
            "storage_id", "storage_name", "description", "storage_type", "base_directory",
            "shared_tables_template", "user_tables_template", "created_at", "updated_at"]
        assert res["rows"][0][:2] == ["local", "Local storage"]


# ---- flush and the merged view ------------------------------------------------------------------

def test_flush_then_query_update_delete_pk_across_tiers(server, ns):
    t = f"{ns}.m"
    server.sql(f"CREATE SHARED TABLE {t} (id BIGINT PRIMARY KEY, room TEXT, body TEXT, "
               "ts TIMESTAMP, u UUID, price DECIMAL(10,2), ok BOOLEAN, n SMALLINT, f DOUBLE, "
               "b BYTES, j JSON, e EMBEDDING(2), d DATE)")
    server.sql(f"INSERT INTO {t} VALUES (1, 'r1', 'hello', '2026-01-02T03:04:05.123456Z', "
               "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 12.5, true, -3, 1.25, x'00ff', "
               "'{\"k\":1}', '[0.5,-1]', '2026-03-04'), "
               "(2, 'r2', 'world', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL), "
               "(3, 'r1', 'three', NULL, NULL, -0.25, false, 7, -2.5, NULL, NULL, NULL, NULL)")
    before = server.rows(f"SELECT * FROM {t} ORDER BY id")
    job, message = flush(server, t)
    assert message == f"Flushed 3 row(s) of table '{t}' into 1 segment(s), " + \
        message.split(", ")[-1]
    s = stats(server, t)
    assert (s["logical_rows"], s["hot_rows"], s["flushed_segments"], s["flushed_rows"]) == \
        ("3", "0", "1", "3")
    # Same answer from cold storage, with every type intact.
    assert server.rows(f"SELECT * FROM {t} ORDER BY id") == before
    assert server.rows(f"SELECT id FROM {t} WHERE room = 'r1' ORDER BY id") == [["1"], ["3"]]
    assert server.rows(f"SELECT id FROM {t} WHERE ts > '2026-01-01T00:00:00Z'") == [["1"]]
    assert server.rows(f"SELECT id FROM {t} WHERE u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'") == [["1"]]
    assert server.rows(f"SELECT count(*), sum(n) FROM {t}") == [["3", "4"]]
    # PK check against cold rows.
    err = server.sql_error(f"INSERT INTO {t} (id, body) VALUES (2, 'dup')")
    assert err["message"] == "Statement 1 failed: Already exists: Primary key violation: value '2' already exists in column 'id'"
    # Update and delete rows that live only in Parquet.
    assert server.sql(f"UPDATE {t} SET body = 'upd' WHERE id = 2")["results"][0]["row_count"] == 1
    assert server.sql(f"DELETE FROM {t} WHERE id = 3")["results"][0]["row_count"] == 1
    assert server.rows(f"SELECT id, body FROM {t} ORDER BY id") == [["1", "hello"], ["2", "upd"]]
    # Re-insert of a deleted cold key works; a second flush shadows the first segment.
    server.sql(f"INSERT INTO {t} (id, body) VALUES (3, 'again')")
    flush(server, t)
    assert server.rows(f"SELECT id, body FROM {t} ORDER BY id") == [
        ["1", "hello"], ["2", "upd"], ["3", "again"]]
    assert len(segments(server, ns, "m")) == 2
    s = stats(server, t)
    assert (s["logical_rows"], s["hot_rows"], s["flushed_segments"]) == ("3", "0", "2")


def test_segments_read_identically_by_pyarrow_and_duckdb(server, ns):
    t = f"{ns}.x"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, name TEXT, price DECIMAL(10,2), "
               "big BIGINT, ts TIMESTAMP, ok BOOLEAN)")
    values = ", ".join(f"({i}, 'n{i % 7}', {i}.25, {i * 1000000007}, "
                       f"'2026-05-0{1 + i % 9}T00:00:00Z', {'true' if i % 2 else 'false'})"
                       for i in range(1, 301))
    server.sql(f"INSERT INTO {t} VALUES {values}")
    flush(server, t)
    [seg] = segments(server, ns, "x")
    table = pq.read_table(seg)
    rows = table.to_pylist()
    assert len(rows) == 300
    assert rows[0]["id"] == 1 and rows[0]["name"] == "n1" and str(rows[0]["price"]) == "1.25"
    assert rows[299]["big"] == 300 * 1000000007 and rows[299]["_deleted"] is False
    con = duckdb.connect()
    got = con.execute(f"SELECT count(*), sum(id), sum(big), count(DISTINCT name), "
                      f"sum(CAST(ok AS INT)) FROM read_parquet('{seg}')").fetchone()
    assert got == (300, sum(range(1, 301)), sum(i * 1000000007 for i in range(1, 301)), 7, 150)
    ours = server.rows(f"SELECT count(*), sum(id), sum(big), count(DISTINCT name), sum(ok) FROM {t}")
    assert ours == [[str(v) for v in got]]


def test_user_table_paths_follow_template_one_folder_per_user(server, ns):
    for u in ("ann", "ben"):
        server.create_user(f"{ns}{u}", PW)
    t = f"{ns}.notes"
    server.sql(f"CREATE USER TABLE {t} (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {t} VALUES (1, 'ann1'), (2, 'ann2')", user=f"{ns}ann", password=PW)
    server.sql(f"INSERT INTO {t} VALUES (1, 'ben1')", user=f"{ns}ben", password=PW)
    flush(server, t)
    assert [p.name for p in segments(server, ns, "notes", f"{ns}ann")] == ["batch-1.parquet"]
    assert [p.name for p in segments(server, ns, "notes", f"{ns}ben")] == ["batch-1.parquet"]
    manifest = json.loads((Path(server.data_dir) / "storage" / ns / "notes" / f"{ns}ann" /
                           "manifest.json").read_text())
    assert [s["row_count"] for s in manifest["segments"]] == [2]
    # Isolation holds in cold storage too.
    assert server.rows(f"SELECT id, v FROM {t} ORDER BY id", user=f"{ns}ann", password=PW) == [
        [1, "ann1"], [2, "ann2"]]
    assert server.rows(f"SELECT id, v FROM {t}", user=f"{ns}ben", password=PW) == [[1, "ben1"]]
    assert server.rows(f"SELECT id, v FROM {t}") == []  # root's own scope is empty
    st = stats(server, t)
    assert st["logical_rows"] == "3" and st["flushed_segments"] == "2"
    own = server.sql(f"SHOW STATS FOR TABLE {t}", user=f"{ns}ben", password=PW)["results"][0]["rows"][0]
    assert own[3] == "1"


def test_flush_messages_skip_and_all(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.a (id INT PRIMARY KEY)")
    server.sql(f"CREATE SHARED TABLE {ns}.b (id INT PRIMARY KEY)")
    assert server.sql(f"FLUSH TABLE {ns}.a")["results"][0]["message"] == \
        f"Storage flush skipped: no pending writes for table '{ns}.a'"
    server.sql(f"INSERT INTO {ns}.a VALUES (1)")
    server.sql(f"INSERT INTO {ns}.b VALUES (1)")
    msg = server.sql(f"STORAGE FLUSH ALL IN NAMESPACE {ns}")["results"][0]["message"]
    m = re.fullmatch(rf"Storage flush started for 2 table\(s\) in namespace '{ns}'\. "
                     rf"Job IDs: \[(FL-\d+), (FL-\d+)\]", msg)
    assert m, msg
    for job in m.groups():
        assert wait_job(server, job)[0] == "completed"
    assert server.rows(f"SELECT id FROM {ns}.a") == [[1]]
    assert server.sql_error("FLUSH TABLE nope.nope")["code"] == "TABLE_NOT_FOUND"


def test_flush_permissions(server, ns):
    server.create_user(f"{ns}svc", PW, "service")
    server.create_user(f"{ns}usr", PW, "user")
    server.sql(f"CREATE SHARED TABLE {ns}.p (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.p VALUES (1)")
    err = server.sql_error(f"STORAGE FLUSH TABLE {ns}.p", user=f"{ns}usr", password=PW, status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert server.rows(f"SELECT count(*) FROM system.jobs WHERE parameters LIKE '%\"{ns}\"%'") == [["0"]]
    msg = server.sql(f"STORAGE FLUSH TABLE {ns}.p", user=f"{ns}svc", password=PW)["results"][0]["message"]
    assert msg.startswith(f"Storage flush started for table '{ns}.p'. Job ID: FL-")


def test_system_jobs_row_shape(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.j (id INT PRIMARY KEY)")
    server.sql(f"INSERT INTO {ns}.j VALUES (1), (2)")
    job, _ = flush(server, f"{ns}.j")
    res = server.sql(f"SELECT * FROM system.jobs WHERE job_id = '{job}'")["results"][0]
    row = dict(zip([c["name"] for c in res["schema"]], res["rows"][0]))
    assert row["job_type"] == "flush" and row["status"] == "completed"
    assert json.loads(row["parameters"])["table_name"] == "j"
    assert row["message"].startswith(f"Flushed 2 row(s) of table '{ns}.j'")
    assert row["exception_trace"] is None and row["retry_count"] == 0
    assert row["created_at"] <= row["started_at"] <= row["finished_at"]
    assert int(row["cpu_used"]) >= 0 and int(row["memory_used"]) >= 0
    err = server.sql_error("KILL JOB 'FL-404'")
    assert err["message"] == "Statement 1 failed: Not found: Job 'FL-404' does not exist"
    assert server.sql(f"KILL JOB '{job}'")["results"][0]["message"] == f"Job {job} killed: completed"


def test_compaction_merges_segments_and_keeps_answers(server, ns):
    t = f"{ns}.c"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, v INT)")
    for round_ in range(3):
        server.sql(f"INSERT INTO {t} VALUES " +
                   ", ".join(f"({round_ * 10 + i}, {i})" for i in range(5)))
        server.sql(f"UPDATE {t} SET v = v + 100 WHERE id = 0")
        flush(server, t)
    server.sql(f"DELETE FROM {t} WHERE id = 21")
    flush(server, t)
    before = server.rows(f"SELECT id, v FROM {t} ORDER BY id")
    assert len(before) == 14
    assert stats(server, t)["flushed_segments"] == "4"
    msg = server.sql(f"STORAGE COMPACT TABLE {t}")["results"][0]["message"]
    m = re.fullmatch(rf"Storage compaction started for table '{t}'\. Job ID: (CO-\d+)", msg)
    assert m, msg
    assert wait_job(server, m.group(1))[0] == "completed"
    [[message]] = server.rows(f"SELECT message FROM system.jobs WHERE job_id = '{m.group(1)}'")
    assert message == f"Compaction completed: merged 4 segment(s) of table '{t}' into 1 (15 row(s))", message  # 14 rows + 1 tombstone
    assert stats(server, t)["flushed_segments"] == "1"
    assert server.rows(f"SELECT id, v FROM {t} ORDER BY id") == before
    assert server.rows(f"SELECT id FROM {t} WHERE _deleted = true") == [[21]]  # retention 168 h


def test_compacting_a_table_without_segments_is_a_job_that_says_so(server, ns):
    t = f"{ns}.nothing"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY)")
    msg = server.sql(f"STORAGE COMPACT TABLE {t}")["results"][0]["message"]
    m = re.fullmatch(rf"Storage compaction started for table '{t}'\. Job ID: (CO-\d+)", msg)
    assert m, msg
    assert wait_job(server, m.group(1))[0] == "completed"
    assert server.rows(f"SELECT message FROM system.jobs WHERE job_id = '{m.group(1)}'") == [
        [f"Compaction completed: table '{t}' has no flushed segments"]]


def test_flush_policy_rows_and_interval(tmp_path):
    s = Server(tmp_path / "data", config_toml="[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"
               "[storage]\nflush_check_interval_ms = 100\n").start()
    try:
        s.sql("CREATE NAMESPACE p")
        s.sql("CREATE SHARED TABLE p.byrows (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:50')")
        s.sql("CREATE SHARED TABLE p.bytime (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'interval:1')")
        s.sql("INSERT INTO p.byrows VALUES " + ", ".join(f"({i})" for i in range(20)))
        s.sql("INSERT INTO p.bytime VALUES (1)")
        time.sleep(0.5)
        assert not list((Path(s.data_dir) / "storage" / "p" / "byrows").glob("batch-*")), \
            "20 rows < rows:50: no flush yet"
        s.sql("INSERT INTO p.byrows VALUES " + ", ".join(f"({i})" for i in range(20, 60)))
        deadline = time.time() + 10
        while time.time() < deadline:
            done = [len(list((Path(s.data_dir) / "storage" / "p" / t).glob("batch-*")))
                    for t in ("byrows", "bytime")]
            if done == [1, 1]:
                break
            time.sleep(0.1)
        assert done == [1, 1], s.log()
        assert s.rows("SELECT count(*) FROM p.byrows") == [["60"]]
        assert s.rows("SELECT count(*) FROM p.bytime") == [["1"]]
    finally:
        s.stop()


def test_graceful_shutdown_flushes_and_restart_reads_cold(tmp_path):
    s = Server(tmp_path / "data").start()
    s.sql("CREATE NAMESPACE g")
    s.sql("CREATE SHARED TABLE g.t (id INT PRIMARY KEY, v TEXT)")
    s.sql("INSERT INTO g.t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    s.sql("DELETE FROM g.t WHERE id = 2")
    assert s.stop() == 0
    assert len(segments(s, "g", "t")) == 1
    s.start()
    try:
        st = stats(s, "g.t")
        assert (st["hot_rows"], st["logical_rows"]) == ("0", "2")
        assert s.rows("SELECT id, v FROM g.t ORDER BY id") == [[1, "a"], [3, "c"]]
        jobs = s.rows("SELECT job_type, status FROM system.jobs")
        assert ["flush", "completed"] in jobs
    finally:
        s.stop()


# Where a flush pauses under KALAMDB_TEST_FLUSH_PAUSE_MS (a test-only knob): the job's message
# while it waits there, the state a kill -9 at that point leaves (segments in the manifest, row
# keys still hot), and the segment files once the next flush has run.
PAUSE_POINTS = {
    # The segment and manifest.json are written, the manifest is not yet visible: the segment is
    # an orphan no manifest names, every row is still hot, and the next flush reuses its name.
    "segment-written": ("Scope '': segment batch-1.parquet written (20000 rows); "
                        "publishing its manifest", "0", "20000", ["batch-1.parquet"]),
    # Visible, and the first 16384 flushed keys deleted from hot storage; the rest still hot.
    "first-chunk-deleted": ("Scope '': flushed hot rows deleted, chunk 1 of 2", "1", "3616",
                            ["batch-1.parquet", "batch-2.parquet"]),
}


PAUSE_MS = 3000


@pytest.mark.parametrize("point", sorted(PAUSE_POINTS))
def test_kill9_inside_a_flush_loses_and_duplicates_nothing(tmp_path, point):
    pause_message, segments_after, hot_after, files_at_end = PAUSE_POINTS[point]
    s = Server(tmp_path / "data", env={"KALAMDB_TEST_FLUSH_PAUSE_MS": str(PAUSE_MS)}).start()
    s.sql("CREATE NAMESPACE k")
    s.sql("CREATE SHARED TABLE k.t (id INT PRIMARY KEY, v TEXT)")
    n = 20000
    for start in range(0, n, 2000):
        s.sql("INSERT INTO k.t VALUES " +
              ", ".join(f"({i}, 'v{i}')" for i in range(start, start + 2000)))
    s.sql("UPDATE k.t SET v = 'updated' WHERE id < 100")
    s.sql("DELETE FROM k.t WHERE id >= 19900")
    not_yet = time.monotonic()  # no pause can begin before the flush is asked for
    msg = s.sql("STORAGE FLUSH TABLE k.t")["results"][0]["message"]
    job = re.fullmatch(r"Storage flush started for table 'k\.t'\. Job ID: (FL-\d+)", msg).group(1)
    # The flusher shows each pause point as the job's message and waits there PAUSE_MS. The pause
    # began after the last poll that did not show it was sent, so a kill sent less than PAUSE_MS
    # after that poll lands inside the pause.
    seen = []
    deadline = time.time() + 60
    while True:
        asked = time.monotonic()
        rows = s.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{job}'")
        if rows == [["running", pause_message]]:
            break
        if not seen or rows != seen[-1]:
            seen.append(rows)
        assert time.time() < deadline, f"the flush never paused at {point}: {seen}\n{s.log()}"
        time.sleep(0.02)
        not_yet = asked
    s.kill9()
    assert time.monotonic() - not_yet < PAUSE_MS / 1000, "too slow to land the kill in the pause"
    s.extra_env = {}
    s.start()
    try:
        # The crash interrupted the flush at a known step: nothing lost, nothing doubled.
        assert s.rows("SELECT count(*), count(DISTINCT id), min(id), max(id) FROM k.t") == [
            ["19900", "19900", "0", "19899"]]
        assert s.rows("SELECT count(*) FROM k.t WHERE v = 'updated'") == [["100"]]
        assert s.rows("SELECT count(*) FROM k.t WHERE _deleted = true") == [["100"]]
        st = stats(s, "k.t")
        assert (st["flushed_segments"], st["hot_rows"]) == (segments_after, hot_after), st
        assert [p.name for p in segments(s, "k", "t")] == ["batch-1.parquet"]
        # The interrupted job is failed, not left running.
        assert s.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{job}'") == [[
            "failed", "Interrupted by a server restart before it finished; no row was lost: "
                      "what it had not moved yet is still where it was, for the next run"]]
        # The next flush moves what is still hot; the answers stay the same.
        flush(s, "k.t")
        assert s.rows("SELECT count(*), count(DISTINCT id) FROM k.t") == [["19900", "19900"]]
        assert s.rows("SELECT count(*) FROM k.t WHERE v = 'updated'") == [["100"]]
        assert stats(s, "k.t")["hot_rows"] == "0"
        assert [p.name for p in segments(s, "k", "t")] == files_at_end
    finally:
        s.stop()


def test_alter_table_after_flush_reads_old_segments(server, ns):
    t = f"{ns}.al"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, a TEXT, gone TEXT)")
    server.sql(f"INSERT INTO {t} VALUES (1, 'x', 'g')")
    flush(server, t)
    server.sql(f"ALTER TABLE {t} ADD COLUMN extra INT DEFAULT 7")
    server.sql(f"ALTER TABLE {t} DROP COLUMN gone")
    server.sql(f"ALTER TABLE {t} RENAME COLUMN a TO b")
    assert server.rows(f"SELECT * FROM {t}")[0][:3] == [1, "x", 7]
    err = server.sql_error(f"ALTER TABLE {t} ADD COLUMN must INT NOT NULL")
    assert "NOT NULL" in err["message"]


def test_live_snapshot_and_resume_read_cold_rows(server, ns):
    from live_client import LiveClient
    t = f"{ns}.lv"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, room TEXT)")
    server.sql(f"INSERT INTO {t} VALUES (1, 'r1'), (2, 'r2'), (3, 'r1')")
    flush(server, t)
    c = LiveClient(server)
    try:
        _, rows = c.subscribe_ready("s", f"SELECT id FROM {t} WHERE room = 'r1'", {})
        assert [r["id"] for r in rows] == [1, 3]
        last = max(int(r["_seq"]) for r in rows)
    finally:
        c.close()
    # While disconnected: a cold row is deleted, another updated, and both changes are flushed.
    server.sql(f"DELETE FROM {t} WHERE id = 3")
    server.sql(f"UPDATE {t} SET room = 'r1' WHERE id = 2")
    flush(server, t)
    assert stats(server, t)["hot_rows"] == "0"
    c = LiveClient(server)
    try:
        _, msgs = c.subscribe_all("s", f"SELECT id FROM {t} WHERE room = 'r1'", {"from": last})
        # In `_seq` order (PROTOCOL §4): an empty first batch, the delete of 3, then row 2.
        seen = [("delete", m["old_values"][0]["id"]) if m["type"] == "change"
                else ("rows", [r["id"] for r in m["rows"]]) for m in msgs]
        assert seen == [("rows", []), ("delete", 3), ("rows", [2])], seen
        # Live changes keep flowing on top of cold rows.
        server.sql(f"UPDATE {t} SET room = 'r9' WHERE id = 1")
        ev = c.changes(1)[0]
        assert ev["change_type"] == "delete" and ev["old_values"][0]["id"] == 1
    finally:
        c.close()


def test_writes_continue_during_flush_and_nothing_is_lost(server, ns):
    import threading
    t = f"{ns}.busy"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, v INT)")
    for start in range(0, 30000, 3000):
        server.sql(f"INSERT INTO {t} VALUES " +
                   ", ".join(f"({i}, 0)" for i in range(start, start + 3000)))
    stop = threading.Event()
    written = []

    def writer():
        i = 100000
        while not stop.is_set():
            server.sql(f"INSERT INTO {t} VALUES ({i}, 1)")
            server.sql(f"UPDATE {t} SET v = v + 1 WHERE id = {i % 30000}")
            written.append(i)
            i += 1

    th = threading.Thread(target=writer)
    th.start()
    try:
        flush(server, t)
    finally:
        stop.set()
        th.join()
    assert len(written) > 0
    total = server.rows(f"SELECT count(*), sum(v) FROM {t}")
    assert total == [[str(30000 + len(written)), str(2 * len(written))]], total
    flush(server, t)
    assert server.rows(f"SELECT count(*), sum(v) FROM {t}") == total
    # A second flush request while one runs reports the running job.
    server.sql(f"UPDATE {t} SET v = 0")
    first = server.sql(f"FLUSH TABLE {t}")["results"][0]["message"]
    second = server.sql(f"FLUSH TABLE {t}")["results"][0]["message"]
    job = first.rsplit(" ", 1)[-1]
    assert second in (f"Storage flush already running for table '{t}'. Job ID: {job}",
                      f"Storage flush skipped: no pending writes for table '{t}'") or \
        second.startswith(f"Storage flush started for table '{t}'"), second
    wait_job(server, job)
