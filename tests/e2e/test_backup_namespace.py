"""BACKUP NAMESPACE / RESTORE NAMESPACE (docs/backup.md, "Namespace backup and restore"): a
namespace backed up under concurrent writes is restored into the running server exactly as it was
at the backup's `_seq` — rows hot and cold per user, soft-deleted rows, schema history, flush
policies, STREAM tables without rows — under its own name after a DROP, beside the original with
AS, or over it with REPLACE; damaged backups, path attacks and callers below dba are refused and
change nothing."""
import json
import re
import shutil
import threading
import time

import pytest

from helpers import assert_sql_error, flush, wait_job
from kalam_harness import DEFAULT_TEST_CONFIG, Server
from live_client import LiveClient

PW = {"alice": "alice-secret-1", "bob": "bob-secret-22", "ops": "ops-secret-333",
      "svc": "svc-secret-4444"}
USERS = ("alice", "bob")


def config(root):
    return (DEFAULT_TEST_CONFIG + "[limits]\ndefault_query_limit = 100000\nmax_query_limit = 100000\n"
            f'[backup]\nallowed_dirs = ["{root}"]\n')


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "backups"
    root.mkdir()
    (tmp_path / "src").mkdir()
    s = Server(tmp_path / "src" / "data", config_toml=config(root)).start()
    for name, role in (("alice", "user"), ("bob", "user"), ("ops", "dba"), ("svc", "service")):
        s.sql(f"CREATE USER {name} WITH PASSWORD '{PW[name]}' ROLE {role}")
    yield s, root
    s.stop()


def as_user(s, who, sql):
    return s.rows(sql, user=who, password=PW[who])


def make_world(s, ns="shop"):
    """SHARED, USER (two users) and STREAM tables; an ALTER'd table; cold segments with hot rows,
    updates and deletes over them."""
    s.sql(f"CREATE NAMESPACE {ns}")
    s.sql(f"ALTER NAMESPACE {ns} SET OPTIONS (owner = 'shop-team', tier = 2)")
    s.sql(f"CREATE TABLE {ns}.items (id BIGINT PRIMARY KEY, body TEXT, n INT) "
          "WITH (TYPE='SHARED', FLUSH_POLICY='rows:100000', ACCESS_LEVEL='PUBLIC')")
    s.sql(f"CREATE USER TABLE {ns}.notes (id BIGINT PRIMARY KEY, body TEXT) "
          "WITH (FLUSH_POLICY='interval:3600')")
    s.sql(f"CREATE STREAM TABLE {ns}.ev (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS = 300)")
    s.sql(f"INSERT INTO {ns}.items VALUES " + ",".join(f"({i}, 'item {i}', {i * 3})" for i in range(1, 201)))
    for who in USERS:
        as_user(s, who, f"INSERT INTO {ns}.notes VALUES " +
                ",".join(f"({i}, '{who} note {i}')" for i in range(1, 51)))
        as_user(s, who, f"INSERT INTO {ns}.ev VALUES (1, '{who} event')")
    flush(s, f"{ns}.items")
    flush(s, f"{ns}.notes")
    s.sql(f"ALTER TABLE {ns}.items ADD COLUMN tag TEXT DEFAULT 'none'")
    s.sql(f"UPDATE {ns}.items SET body = 'updated', tag = 'u' WHERE id <= 20")
    s.sql(f"DELETE FROM {ns}.items WHERE id BETWEEN 21 AND 30")
    as_user(s, "alice", f"UPDATE {ns}.notes SET body = 'alice edited' WHERE id <= 5")
    as_user(s, "bob", f"DELETE FROM {ns}.notes WHERE id <= 5")
    s.sql(f"INSERT INTO {ns}.items VALUES " +
          ",".join(f"({i}, 'hot {i}', {i}, 't')" for i in range(201, 301)))
    as_user(s, "alice", f"INSERT INTO {ns}.notes VALUES (1000, 'hot alice')")


def digest(s, ns, max_seq=None):
    """Everything a namespace restore must give back, independent of the namespace's name and
    table ids: rows (live and soft-deleted) per table and per user, schema history, options."""
    keep = (lambda rows: rows) if max_seq is None else \
        (lambda rows: [r for r in rows if int(r[-1]) <= max_seq])
    d = {
        "items": keep(s.rows(f"SELECT id, body, n, tag, _seq FROM {ns}.items ORDER BY id")),
        "items_deleted": keep(s.rows(f"SELECT id, _seq FROM {ns}.items WHERE _deleted = true "
                                     "ORDER BY id")),
        "schemas": s.rows("SELECT table_name, table_type, schema_version, columns, options, "
                          f"is_latest FROM system.schemas WHERE namespace_id = '{ns}' "
                          "ORDER BY table_name, schema_version"),
        "tables": s.rows("SELECT table_name, table_type, options FROM system.tables "
                         f"WHERE namespace_id = '{ns}' ORDER BY table_name"),
        "namespace": s.rows("SELECT options, table_count, created_at FROM system.namespaces "
                            f"WHERE namespace_id = '{ns}'"),
    }
    for who in USERS:
        d["notes_" + who] = keep(as_user(s, who, f"SELECT id, body, _seq FROM {ns}.notes ORDER BY id"))
        d["notes_deleted_" + who] = keep(as_user(
            s, who, f"SELECT id, _seq FROM {ns}.notes WHERE _deleted = true ORDER BY id"))
    return d


def stats(s, table, who="root"):
    kw = {} if who == "root" else {"user": who, "password": PW[who]}
    res = s.sql(f"SHOW STATS FOR TABLE {table}", **kw)["results"][0]
    row = dict(zip([c["name"] for c in res["schema"]], res["rows"][0]))
    return (row["logical_rows"], row["hot_rows"], row["flushed_segments"], row["flushed_rows"])


def backup(s, ns, path):
    """BACKUP NAMESPACE as ops; waits for the job; returns backup.json as a dict."""
    msg = s.sql(f"BACKUP NAMESPACE {ns} TO '{path}'", user="ops", password=PW["ops"])
    msg = msg["results"][0]["message"]
    m = re.fullmatch(rf"Namespace backup started to '{re.escape(str(path))}'\. Job ID: (BK-\d+)", msg)
    assert m, msg
    status, message = wait_job(s, m.group(1))
    assert status == "completed", message
    assert re.fullmatch(rf"Backup completed: '{re.escape(str(path))}' \(\d+\.\d\d MB\)", message), message
    assert s.rows(f"SELECT job_type FROM system.jobs WHERE job_id = '{m.group(1)}'") == [["backup"]]
    return json.loads((path / "backup.json").read_text())


def restore(s, sql_tail, path, target, tables=3):
    """RESTORE NAMESPACE … as ops; checks the message and the `restore` job it names."""
    msg = s.sql(f"RESTORE NAMESPACE {sql_tail}", user="ops", password=PW["ops"])["results"][0]["message"]
    m = re.fullmatch(rf"Namespace {target} restored from '{re.escape(str(path))}' \({tables} "
                     rf"table\(s\), \d+\.\d\d MB\)\. Job ID: (RS-\d+)", msg)
    assert m, msg
    job = s.rows(f"SELECT job_type, status FROM system.jobs WHERE job_id = '{m.group(1)}'")
    assert job == [["restore", "completed"]]


def refused(s, sql, status, code, message, who="ops"):
    assert_sql_error(s.sql_raw(sql, user=who, password=PW[who]), status, code, message=message)


def test_backup_under_writes_then_drop_and_restore_gives_the_namespace_back(env):
    s, root = env
    make_world(s)
    stats_before = stats(s, "shop.items")
    stop = threading.Event()
    errors = []

    def writer():
        # Inserts only (new ids), into both tables: the state at any `_seq` is the rows ≤ it.
        i = 100000
        try:
            while not stop.is_set():
                s.sql(f"INSERT INTO shop.items VALUES ({i}, 'w', {i}, 'w')")
                as_user(s, "bob", f"INSERT INTO shop.notes VALUES ({i}, 'w')")
                i += 1
        except Exception as e:  # reported by the main thread
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.3)
    manifest = backup(s, "shop", root / "b1")
    time.sleep(0.3)
    stop.set()
    t.join()
    assert not errors, errors
    seq = manifest["seq"]
    assert (manifest["kind"], manifest["namespace"], manifest["format_version"]) == (
        "namespace", "shop", 1)
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in manifest["files"])
    paths = [f["path"] for f in manifest["files"]]
    assert "namespace.json" in paths
    assert sum(p.endswith(".parquet") for p in paths) == 3  # items, alice's and bob's notes
    assert sum(p.endswith("/hot.kv") for p in paths) == 2   # not for the STREAM table
    expected = digest(s, "shop", max_seq=seq)
    items_now = s.rows("SELECT id, _seq FROM shop.items WHERE id >= 100000")
    assert any(int(r[1]) <= seq for r in items_now) and any(int(r[1]) > seq for r in items_now), \
        "the writes did not straddle the backup point"
    assert [r[0] for r in expected["items_deleted"]] == [str(i) for i in range(21, 31)]
    assert [r[0] for r in expected["notes_deleted_bob"]] == ["1", "2", "3", "4", "5"]
    assert [r[1] for r in expected["notes_alice"][:5]] == ["alice edited"] * 5
    assert len(expected["schemas"]) == 4  # ev v1, items v1 and v2, notes v1

    s.sql("DROP NAMESPACE shop CASCADE")
    restore(s, f"shop FROM '{root / 'b1'}'", root / "b1", "shop")
    assert digest(s, "shop") == expected
    assert s.rows("SELECT count(*) FROM shop.ev") == [["0"]]
    for who in USERS:
        assert as_user(s, who, "SELECT count(*) FROM shop.ev") == [["0"]]
    # The same versions hot and cold as at the backup (the writer's rows aside: they were hot).
    restored_stats = stats(s, "shop.items")
    assert restored_stats[2:] == stats_before[2:]
    assert json.loads(expected["tables"][1][2])["flush_policy"] == "rows:100000"
    assert json.loads(expected["namespace"][0][0]) == {"owner": "shop-team", "tier": 2}

    # The restored tables take new writes, flushes and live subscriptions.
    c = LiveClient(s, user="alice", password=PW["alice"])
    try:
        c.subscribe_ready("n", "SELECT * FROM shop.notes")
        as_user(s, "alice", "INSERT INTO shop.notes VALUES (5000, 'after restore')")
        ev = c.changes(1)[0]
        assert ev["change_type"] == "insert" and ev["rows"][0]["id"] in (5000, "5000")
    finally:
        c.close()
    s.sql("INSERT INTO shop.items VALUES (7000, 'after', 1, 'a')")
    assert int(s.rows("SELECT _seq FROM shop.items WHERE id = 7000")[0][0]) > seq
    flush(s, "shop.items")
    flush(s, "shop.notes")
    assert stats(s, "shop.items")[1] == "0"
    after = digest(s, "shop")
    assert [r for r in after["items"] if r[0] != "7000"] == expected["items"]
    assert [r for r in after["notes_alice"] if r[0] != "5000"] == expected["notes_alice"]
    assert after["notes_bob"] == expected["notes_bob"]
    assert after["items_deleted"] == expected["items_deleted"]
    # And survive a restart.
    s.stop()
    s.start()
    assert digest(s, "shop") == after


def test_restore_as_another_namespace_beside_the_original_then_replace(env):
    s, root = env
    make_world(s)
    original = digest(s, "shop")
    original_stats = [stats(s, "shop.items")] + [stats(s, "shop.notes", who) for who in USERS]
    backup(s, "shop", root / "b")
    restore(s, f"shop FROM '{root / 'b'}' AS copy", root / "b", "copy")
    copy = digest(s, "copy")
    assert copy == original
    assert [stats(s, "copy.items")] + [stats(s, "copy.notes", w) for w in USERS] == original_stats
    assert s.rows("SELECT count(*) FROM copy.ev") == [["0"]]
    assert s.rows("SELECT namespace_id FROM system.namespaces WHERE namespace_id IN "
                  "('shop', 'copy') ORDER BY namespace_id") == [["copy"], ["shop"]]
    # Independent afterwards.
    s.sql("UPDATE copy.items SET body = 'copy only' WHERE id = 1")
    as_user(s, "bob", "DELETE FROM copy.notes WHERE id = 6")
    assert digest(s, "shop") == original
    s.sql("DELETE FROM shop.items WHERE id = 2")
    assert s.rows("SELECT id, body FROM copy.items WHERE id <= 2 ORDER BY id") == [
        ["1", "copy only"], ["2", "updated"]]
    flush(s, "copy.items")  # the copy's segments live in its own folder
    flush(s, "shop.items")
    assert s.rows("SELECT body FROM shop.items WHERE id = 1") == [["updated"]]

    # Over an existing namespace: refused without REPLACE, nothing changed.
    changed = digest(s, "shop")
    refused(s, f"RESTORE NAMESPACE shop FROM '{root / 'b'}'", 400, "SQL_EXECUTION_ERROR",
            "Statement 1 failed: Already exists: Namespace 'shop' already exists; add REPLACE to replace it")
    refused(s, f"RESTORE NAMESPACE shop FROM '{root / 'b'}' AS copy", 400, "SQL_EXECUTION_ERROR",
            "Statement 1 failed: Already exists: Namespace 'copy' already exists; add REPLACE to replace it")
    assert digest(s, "shop") == changed
    # With REPLACE: the backup's state, the changes since gone.
    restore(s, f"shop FROM '{root / 'b'}' REPLACE", root / "b", "shop")
    assert digest(s, "shop") == original
    assert [stats(s, "shop.items")] + [stats(s, "shop.notes", w) for w in USERS] == original_stats
    assert s.rows("SELECT count(*) FROM system.tables WHERE namespace_id = 'shop'") == [["3"]]
    s.sql("INSERT INTO shop.items VALUES (8000, 'x', 1, 'x')")
    flush(s, "shop.items")
    assert s.rows("SELECT count(*) FROM shop.items") == [["291"]]
    assert s.rows("SELECT body FROM copy.items WHERE id = 1") == [["copy only"]]
    rows = s.rows(f"SHOW BACKUPS FROM '{root}'", user="ops", password=PW["ops"])
    assert [(r[0], r[5], r[7], r[8], r[12]) for r in rows] == [
        (str(root / "b"), True, "namespace", "shop", '["shop"]')]


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ("hot.kv", ".parquet", "schema.json"))
def test_a_damaged_backup_is_refused_naming_the_file_and_nothing_changes(env, which):
    s, root = env
    make_world(s)
    manifest = backup(s, "shop", root / "good")
    damaged = root / "damaged"
    shutil.copytree(root / "good", damaged)
    rel = next(f["path"] for f in manifest["files"] if f["path"].endswith(which))
    flip_byte(damaged / rel)
    before = digest(s, "shop")
    namespaces = s.rows("SELECT namespace_id FROM system.namespaces ORDER BY namespace_id")
    for tail in ("", " AS other", " REPLACE"):
        refused(s, f"RESTORE NAMESPACE shop FROM '{damaged}'{tail}", 400, "SQL_EXECUTION_ERROR",
                f"Statement 1 failed: Invalid operation: Backup file '{rel}' is damaged: SHA-256 mismatch")
    assert s.rows("SELECT namespace_id FROM system.namespaces ORDER BY namespace_id") == namespaces
    assert digest(s, "shop") == before
    assert s.rows("SELECT count(*) FROM system.jobs WHERE job_type = 'restore'") == [["0"]]
    rows = s.rows(f"SHOW BACKUPS FROM '{root}'", user="ops", password=PW["ops"])
    assert [(r[0], r[5], r[6]) for r in rows] == [
        (str(damaged), False, f"Backup file '{rel}' is damaged: SHA-256 mismatch"),
        (str(root / "good"), True, None)]


def test_kinds_names_and_missing_things_are_refused(env):
    s, root = env
    make_world(s)
    s.sql("CREATE NAMESPACE other")
    refused(s, f"BACKUP NAMESPACE nope TO '{root}/x'", 400, "SQL_EXECUTION_ERROR",
            "Statement 1 failed: Not found: Namespace 'nope' does not exist")
    assert not (root / "x").exists()
    backup(s, "shop", root / "ns")
    refused(s, f"RESTORE NAMESPACE other FROM '{root}/ns'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Invalid operation: Backup '{root}/ns' holds namespace 'shop', not 'other'")
    refused(s, f"RESTORE DATABASE FROM '{root}/ns'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Invalid operation: Backup '{root}/ns' is a backup of namespace 'shop'; use RESTORE "
            f"NAMESPACE shop FROM '{root}/ns'")
    msg = s.sql(f"BACKUP DATABASE TO '{root}/db'", user="ops", password=PW["ops"])
    job = re.search(r"Job ID: (BK-\d+)", msg["results"][0]["message"]).group(1)
    assert wait_job(s, job)[0] == "completed"
    refused(s, f"RESTORE NAMESPACE shop FROM '{root}/db' AS x", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Invalid operation: Backup '{root}/db' is a database backup; use RESTORE DATABASE")
    refused(s, f"RESTORE NAMESPACE shop FROM '{root}/missing' AS x", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Not found: Backup directory '{root}/missing' not found")
    refused(s, f"RESTORE NAMESPACE shop FROM '{root}/ns' AS system", 403, "PERMISSION_DENIED",
            "Statement 1 failed: Permission denied: Namespace 'system' is reserved")
    refused(s, f"RESTORE NAMESPACE shop FROM '{root}/ns' AS default REPLACE", 403,
            "PERMISSION_DENIED", "Statement 1 failed: Permission denied: Namespace 'default' cannot be replaced")
    rows = s.rows(f"SHOW BACKUPS FROM '{root}'", user="ops", password=PW["ops"])
    assert [(r[0], r[7], r[8]) for r in rows] == [
        (str(root / "db"), "database", None), (str(root / "ns"), "namespace", "shop")]
    assert s.rows("SELECT count(*) FROM system.namespaces WHERE namespace_id = 'x'") == [["0"]]


def test_path_attacks_and_callers_below_dba_are_refused(env, tmp_path):
    s, root = env
    s.sql("CREATE NAMESPACE shop")
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    sibling = tmp_path / "backups-evil"
    for verb, word in (("BACKUP", "TO"), ("RESTORE", "FROM")):
        stmt = f"{verb} NAMESPACE shop {word}"
        refused(s, f"{stmt} '{root}/../outside/x'", 400, "INVALID_SQL",
                "Backup path cannot contain '..' (path traversal not allowed)")
        refused(s, f"{stmt} '{root}/a\x00b'", 400, "INVALID_SQL", "Backup path cannot contain null bytes")
        refused(s, f"{stmt} {root}", 400, "INVALID_SQL", "Backup path must be quoted")
        refused(s, f"{stmt} ''", 400, "INVALID_SQL", "Backup path cannot be empty")
        refused(s, f"{verb} NAMESPACE shop '/tmp/x'", 400, "INVALID_SQL",
                f"Expected {word} clause in {verb} NAMESPACE")
        for path in (outside / "x", root / "link" / "x", sibling / "x", tmp_path / "relative"):
            refused(s, f"{stmt} '{path}'", 400, "SQL_EXECUTION_ERROR",
                    f"Statement 1 failed: Invalid operation: Backup path '{path}' is outside the allowed backup "
                    f"directories (backup.allowed_dirs: '{root}')")
    refused(s, "BACKUP NAMESPACE shop TO '/etc/kalam'", 400, "INVALID_SQL",
            "Backup path cannot write to sensitive directory: /etc/kalam")
    (root / "full").mkdir()
    (root / "full" / "x").write_text("x")
    refused(s, f"BACKUP NAMESPACE shop TO '{root}/full'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Already exists: Backup directory '{root}/full' is not empty; back up into a new "
            "directory")
    for who in ("alice", "svc"):
        refused(s, f"BACKUP NAMESPACE shop TO '{root}/p'", 403, "PERMISSION_DENIED",
                "Statement 1 failed: Permission denied: Admin privileges (DBA or System role) required for backup operations", who=who)
        refused(s, f"RESTORE NAMESPACE shop FROM '{root}/p' AS q", 403, "PERMISSION_DENIED",
                "Statement 1 failed: Permission denied: Admin privileges (DBA or System role) required for restore operations", who=who)
    assert list(outside.iterdir()) == []
    assert not sibling.exists() and not (root / "p").exists()
    assert s.rows("SELECT count(*) FROM system.jobs WHERE job_type IN ('backup', 'restore')") == [["0"]]


def test_a_crash_mid_restore_leaves_no_namespace_and_a_retry_completes(tmp_path):
    root = tmp_path / "backups"
    root.mkdir()
    (tmp_path / "src").mkdir()
    # The restore pauses after writing its rows and segments, before publishing the namespace.
    s = Server(tmp_path / "src" / "data", env={"KALAMDB_TEST_RESTORE_PAUSE_MS": "2000"},
               config_toml=config(root)).start()
    try:
        for name, role in (("alice", "user"), ("bob", "user"), ("ops", "dba")):
            s.sql(f"CREATE USER {name} WITH PASSWORD '{PW[name]}' ROLE {role}")
        make_world(s)
        expected = digest(s, "shop")
        backup(s, "shop", root / "b")
        outcome = []

        def restore_in_background():
            try:
                outcome.append(s.sql_raw(f"RESTORE NAMESPACE shop FROM '{root / 'b'}' AS copy",
                                         user="ops", password=PW["ops"]).status_code)
            except Exception as e:  # the server is killed under it
                outcome.append(type(e).__name__)

        t = threading.Thread(target=restore_in_background)
        t.start()
        deadline = time.time() + 10
        while time.time() < deadline and s.rows(
                "SELECT count(*) FROM system.jobs WHERE job_type = 'restore' AND status = 'running'"
        ) != [["1"]]:
            time.sleep(0.05)
        time.sleep(0.7)  # the rows and segments are written; the publishing write is not
        s.kill9()
        t.join()
        assert outcome and outcome[0] != 200, outcome
        # It was killed in the middle: its segments were written into copy's folders.
        assert list((tmp_path / "src" / "data" / "storage" / "copy").rglob("*-t*.parquet"))
        s.start()
        assert s.rows("SELECT count(*) FROM system.namespaces WHERE namespace_id = 'copy'") == [["0"]]
        assert s.rows("SELECT count(*) FROM system.tables WHERE namespace_id = 'copy'") == [["0"]]
        assert s.rows("SELECT status, message FROM system.jobs WHERE job_type = 'restore'") == [
            ["failed", "Interrupted by a server restart before it finished; no row was lost: what "
                       "it had not moved yet is still where it was, for the next run"]]
        assert digest(s, "shop") == expected
        restore(s, f"shop FROM '{root / 'b'}' AS copy", root / "b", "copy")
        assert digest(s, "copy") == expected
        s.stop()
        s.start()
        assert digest(s, "copy") == expected
    finally:
        s.stop()
