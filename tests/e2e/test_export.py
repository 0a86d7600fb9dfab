"""User data export (docs/export.md): EXPORT USER DATA / SHOW EXPORT and
GET /v1/exports/{user_id}/{export_id}. Each user's ZIP holds exactly that user's current rows of
every USER and STREAM table (hot and cold, updates applied, deletions gone), as JSON and Parquet,
plus README.json; the download route refuses other users and path attacks; old exports expire."""
import datetime
import http.client
import io
import json
import re
import time
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from helpers import assert_sql_error, col, wait_job
from kalam_harness import Server, serve

PW = "password123"
NS = "exp"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory, config_toml=(
        "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"
        "[storage]\nflush_check_interval_ms = 200\n"))


def flush(server, table):
    msg = server.sql(f"STORAGE FLUSH TABLE {table}")["results"][0]["message"]
    job = re.search(r"Job ID: (FL-\d+)", msg).group(1)
    assert wait_job(server, job)[0] == "completed"


def start_export(server, user, password=PW):
    body = server.sql("EXPORT USER DATA", user=user, password=password)
    msg = body["results"][0]["message"]
    m = re.fullmatch(r"User data export started\. Job ID: (UE-\d+)\. Use SHOW EXPORT to check "
                     r"status and get the download link\.", msg)
    assert m, msg
    return m.group(1)


def wait_export(server, user, job_id, password=PW, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = server.rows("SHOW EXPORT", user=user, password=password)
        mine = [r for r in rows if r[0] == job_id]
        assert mine, rows
        if mine[0][1] not in ("queued", "running"):
            return mine[0]
        time.sleep(0.05)
    raise AssertionError(f"export {job_id} did not finish")


def download(server, user, user_id, export_id, password=PW):
    return server.http.get(f"{server.base}/v1/exports/{user_id}/{export_id}",
                           headers={"Authorization": f"Bearer {server.token(user, password)}"})


def export_of(server, user):
    """Runs an export for `user`; returns (SHOW EXPORT row, export id, ZipFile)."""
    job = start_export(server, user)
    row = wait_export(server, user, job)
    assert row[1] == "completed", row
    url = row[4]
    m = re.fullmatch(re.escape(server.base) + rf"/v1/exports/{user}/(export-{user}-\d{{8}}-\d{{6}}(-\d+)?)",
                     url)
    assert m, url
    export_id = m.group(1)
    r = download(server, user, user, export_id)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/zip"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{export_id}.zip"'
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert z.testzip() is None  # every entry's CRC checks
    return row, export_id, z


@pytest.fixture(scope="module")
def data(server):
    """alice and bob with rows in two USER tables (some flushed to cold, then updated and
    deleted) and a STREAM table; a USER table neither wrote to; a SHARED table (not exported)."""
    for u in ("alice", "bob", "carol"):
        server.create_user(u)
    server.sql(f"CREATE NAMESPACE {NS}")
    server.sql(f"CREATE USER TABLE {NS}.notes (id INT PRIMARY KEY, body TEXT, n BIGINT)")
    server.sql(f"CREATE USER TABLE {NS}.prefs (k TEXT PRIMARY KEY, v TEXT)")
    server.sql(f"CREATE USER TABLE {NS}.unused (id INT PRIMARY KEY)")
    server.sql(f"CREATE STREAM TABLE {NS}.events (v TEXT) WITH (TTL_SECONDS = 3600)")
    server.sql(f"CREATE SHARED TABLE {NS}.shared (id INT PRIMARY KEY, v TEXT)")
    server.sql(f"INSERT INTO {NS}.shared VALUES (1, 'shared-row')")
    a = lambda sql: server.sql(sql, user="alice", password=PW)
    b = lambda sql: server.sql(sql, user="bob", password=PW)
    a(f"INSERT INTO {NS}.notes VALUES (1, 'a-one', 7), (2, 'a-two', NULL), (3, 'a-three', 9)")
    b(f"INSERT INTO {NS}.notes VALUES (1, 'b-one', 100), (10, 'b-ten', NULL)")
    flush(server, f"{NS}.notes")
    a(f"UPDATE {NS}.notes SET body = 'a-two-v2', n = 22 WHERE id = 2")
    a(f"DELETE FROM {NS}.notes WHERE id = 3")
    a(f"INSERT INTO {NS}.notes VALUES (4, 'a-four', 4)")
    b(f"UPDATE {NS}.notes SET body = 'b-one-v2' WHERE id = 1")
    a(f"INSERT INTO {NS}.prefs VALUES ('theme', 'dark'), ('lang', 'fr')")
    b(f"INSERT INTO {NS}.prefs VALUES ('theme', 'light')")
    b(f"DELETE FROM {NS}.prefs WHERE k = 'theme'")
    a(f"INSERT INTO {NS}.events (v) VALUES ('a-ev1'), ('a-ev2')")
    b(f"INSERT INTO {NS}.events (v) VALUES ('b-ev1')")
    a(f"DELETE FROM {NS}.events WHERE v = 'a-ev2'")
    return True


def expected_rows(server, user, table, order):
    """The user's current rows as a SELECT shows them, with `_seq`, as JSON objects."""
    res = server.sql(f"SELECT * FROM {NS}.{table} ORDER BY {order}", user=user,
                     password=PW)["results"][0]
    names = [c["name"] for c in res["schema"]]
    rows = [dict(zip(names, r)) for r in res.get("rows", [])]
    for r in rows:
        assert r.pop("_deleted") is False
    return rows


def check_user_zip(server, user, z, export_id):
    notes = expected_rows(server, user, "notes", "id")
    prefs = expected_rows(server, user, "prefs", "k")
    events = expected_rows(server, user, "events", "_seq")
    names = {"README.json", f"{NS}/notes.json", f"{NS}/notes.parquet", f"{NS}/events.json",
             f"{NS}/events.parquet"}
    if prefs:
        names |= {f"{NS}/prefs.json", f"{NS}/prefs.parquet"}
    assert set(z.namelist()) == names
    # JSON: row by row what the user's SELECT shows (PROTOCOL §5 encodings: BIGINT as a string).
    assert json.loads(z.read(f"{NS}/notes.json")) == notes
    assert json.loads(z.read(f"{NS}/events.json")) == events
    if prefs:
        assert json.loads(z.read(f"{NS}/prefs.json")) == prefs
    # Parquet: the same rows, native types.
    t = pq.read_table(io.BytesIO(z.read(f"{NS}/notes.parquet")))
    assert t.column_names == ["id", "body", "n", "_seq"]
    assert t.to_pylist() == [{"id": r["id"], "body": r["body"],
                              "n": None if r["n"] is None else int(r["n"]),
                              "_seq": int(r["_seq"])} for r in notes]
    t = pq.read_table(io.BytesIO(z.read(f"{NS}/events.parquet")))
    assert t.to_pylist() == [{"v": r["v"], "_seq": int(r["_seq"])} for r in events]
    readme = json.loads(z.read("README.json"))
    assert readme["user_id"] == user and readme["export_id"] == export_id
    assert readme["format"] == "kalamdb-user-export" and readme["format_version"] == 1
    assert int(readme["read_seq"]) >= max(int(r["_seq"]) for r in notes + events)
    tables = {(t["namespace"], t["table"]): t for t in readme["tables"]}
    mine = {k: v for k, v in tables.items() if k[0] == NS}
    assert set(mine) == {(NS, "notes"), (NS, "prefs"), (NS, "unused"), (NS, "events")}
    assert mine[(NS, "notes")]["table_type"] == "user"
    assert mine[(NS, "notes")]["row_count"] == len(notes)
    assert mine[(NS, "notes")]["files"] == [f"{NS}/notes.parquet", f"{NS}/notes.json"]
    assert [(c["name"], c["data_type"], c["primary_key"]) for c in mine[(NS, "notes")]["columns"]] == [
        ("id", "Int", True), ("body", "Text", False), ("n", "BigInt", False),
        ("_seq", "BigInt", False)]
    assert mine[(NS, "events")]["table_type"] == "stream"
    assert mine[(NS, "unused")]["row_count"] == 0 and mine[(NS, "unused")]["files"] == []
    assert mine[(NS, "prefs")]["row_count"] == len(prefs)
    return notes, prefs, events


def all_text(z):
    return b"".join(z.read(n) for n in z.namelist())


def test_each_user_gets_exactly_their_current_rows(server, data):
    row_a, id_a, za = export_of(server, "alice")
    notes, prefs, events = check_user_zip(server, "alice", za, id_a)
    assert [(r["id"], r["body"], r["n"]) for r in notes] == [
        (1, "a-one", "7"), (2, "a-two-v2", "22"), (4, "a-four", "4")]
    assert [r["k"] for r in prefs] == ["lang", "theme"]
    assert [r["v"] for r in events] == ["a-ev1"]
    assert row_a[3].startswith("Exported 6 row(s) from 3 of 4 table(s) (")
    assert row_a[3].endswith(f" to {id_a}.zip")

    row_b, id_b, zb = export_of(server, "bob")
    notes, prefs, events = check_user_zip(server, "bob", zb, id_b)
    assert [(r["id"], r["body"]) for r in notes] == [(1, "b-one-v2"), (10, "b-ten")]
    assert prefs == [] and [r["v"] for r in events] == ["b-ev1"]
    # Neither sees the other's rows, old versions, deleted rows or the shared table.
    text_a, text_b = all_text(za), all_text(zb)
    for s in (b"b-one", b"b-ten", b"b-ev1", b"light", b"a-two\"", b"a-three", b"a-ev2",
              b"shared-row"):
        assert s not in text_a, s
    for s in (b"a-one", b"a-two", b"a-four", b"a-ev1", b"dark", b"light", b"b-one\"",
              b"shared-row"):
        assert s not in text_b, s

    # SHOW EXPORT lists only the caller's own exports, with its exact columns.
    res = server.sql("SHOW EXPORT", user="bob", password=PW)["results"][0]
    assert res["schema"] == [col("job_id", "Text", 0), col("status", "Text", 1),
                             col("created_at", "Timestamp", 2), col("message", "Text", 3),
                             col("download_url", "Text", 4)]
    assert [r[0] for r in res["rows"]] == [row_b[0]]
    now_us = time.time() * 1e6
    assert abs(int(res["rows"][0][2]) - now_us) < 120e6  # µs
    assert row_a[0] not in [r[0] for r in server.rows("SHOW EXPORT")]  # root's own: none


def test_user_without_rows_gets_a_zip_with_only_readme(server, data):
    row, export_id, z = export_of(server, "carol")
    assert z.namelist() == ["README.json"]
    readme = json.loads(z.read("README.json"))
    assert all(t["row_count"] == 0 and t["files"] == [] for t in readme["tables"])
    assert row[3].startswith("Exported 0 row(s) from 0 of ")


def test_download_refusals_and_path_attacks(server, data):
    _, export_id, _ = export_of(server, "alice")
    # No token / a bad token: 401 in the SQL error envelope.
    r = server.http.get(f"{server.base}/v1/exports/alice/{export_id}")
    assert_sql_error(r, 401, r.json()["error"]["code"])
    # Another user's export: 403 with the SQL error shape.
    r = download(server, "bob", "alice", export_id)
    err = assert_sql_error(r, 403, "PERMISSION_DENIED", "You can only download your own exports")
    assert r.json()["took"] == 0.0
    # dba/system may download anyone's.
    r = server.http.get(f"{server.base}/v1/exports/alice/{export_id}",
                        headers={"Authorization": f"Bearer {server.token()}"})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    # Unknown export: 404.
    r = download(server, "alice", "alice", "export-alice-20000101-000000")
    assert r.status_code == 404
    assert r.json() == {"error": "Export not found", "code": "EXPORT_NOT_FOUND"}
    # Path attacks, sent raw (no client-side normalisation): 400 INVALID_INPUT.
    token = server.token("alice", PW)
    for path in ["/v1/exports/alice/..", "/v1/exports/alice/%2e%2e",
                 "/v1/exports/alice/..%2f..%2frocks%2fCURRENT", "/v1/exports/alice/a%2fb",
                 "/v1/exports/alice/a%5cb", "/v1/exports/alice/a%00b", "/v1/exports/%2e%2e/x",
                 "/v1/exports/alice/../../rocks/CURRENT", "/v1/exports/alice",
                 f"/v1/exports/alice/{export_id}/x", "/v1/exports/alice/bad%zz"]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status == 400, (path, resp.status, body)
        assert json.loads(body) == {"error": "Invalid export path", "code": "INVALID_INPUT"}, path
    # Another user's id as a plain user: 403, whatever the export.
    r = download(server, "alice", "bob", "export-bob-20000101-000000")
    assert_sql_error(r, 403, "PERMISSION_DENIED", "You can only download your own exports")


def test_statement_errors_and_execute_as(server, data):
    err = server.sql_error("EXPORT USER DATA now please")
    assert (err["code"], err["message"]) == (
        "INVALID_SQL", "Unexpected tokens after EXPORT USER DATA: 'now please'")
    err = server.sql_error("SHOW EXPORT x")
    assert err["message"] == "Unexpected tokens after SHOW EXPORT: 'x'"
    # A dba exports a user's data through EXECUTE AS; the export is that user's.
    body = server.sql("EXECUTE AS USER 'bob' (EXPORT USER DATA)")
    job = re.search(r"Job ID: (UE-\d+)", body["results"][0]["message"]).group(1)
    row = wait_export(server, "bob", job)
    assert row[1] == "completed" and "/v1/exports/bob/export-bob-" in row[4]
    assert job not in [r[0] for r in server.rows("SHOW EXPORT")]
    # A plain user cannot export someone else's data.
    err = server.sql_error("EXECUTE AS USER 'bob' (EXPORT USER DATA)", user="alice", password=PW,
                           status=403)
    assert err["code"] == "PERMISSION_DENIED"
    assert err["message"].startswith("Statement 1 failed: Permission denied: role 'user' cannot execute as user 'bob'")


def test_deleted_file_shows_expired_and_old_files_are_deleted(server, data):
    _, export_id, _ = export_of(server, "carol")
    path = Path(server.data_dir) / "exports" / "carol" / f"{export_id}.zip"
    assert path.is_file()
    path.unlink()
    rows = [r for r in server.rows("SHOW EXPORT", user="carol", password=PW)
            if r[4] == "" and r[1] == "expired"]
    assert rows, server.rows("SHOW EXPORT", user="carol", password=PW)
    # A file older than export.retention_hours (default 168) is deleted by the job scheduler.
    old = Path(server.data_dir) / "exports" / "carol" / "export-carol-20200101-000000.zip"
    old.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    fresh = Path(server.data_dir) / "exports" / "carol" / "export-carol-29990101-000000.zip"
    fresh.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    deadline = time.time() + 10
    while old.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not old.exists()
    assert fresh.exists()


def test_second_export_conflicts_while_the_first_is_queued(tmp_path):
    # Every flush pauses, so the one job thread is busy and the export stays queued.
    s = Server(tmp_path / "data", env={"KALAMDB_TEST_FLUSH_PAUSE_MS": "1500"}).start()
    try:
        s.create_user("dave")
        s.sql("CREATE NAMESPACE n")
        s.sql("CREATE USER TABLE n.t (id INT PRIMARY KEY)")
        s.sql("INSERT INTO n.t VALUES (1)", user="dave", password=PW)
        s.sql("STORAGE FLUSH TABLE n.t")
        job = start_export(s, "dave")
        day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")
        err = s.sql_error("EXPORT USER DATA", user="dave", password=PW)
        assert (err["code"], err["message"]) == (
            "SQL_EXECUTION_ERROR", f"Statement 1 failed: Idempotent conflict: Job with idempotency key "
                                   f"'user_export:dave:{day}' is already running or queued")
        row = wait_export(s, "dave", job, timeout=60)
        assert row[1] == "completed"
        # Finished jobs do not conflict.
        job2 = start_export(s, "dave")
        row2 = wait_export(s, "dave", job2, timeout=60)
        assert row2[1] == "completed" and row2[4] != row[4]
    finally:
        s.stop()
