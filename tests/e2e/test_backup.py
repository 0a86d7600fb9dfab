"""BACKUP DATABASE and `kalamdb-server restore` (docs/backup.md): a backup taken under concurrent
writes restores into a fresh data directory with every table exactly as it was at the backup's
`_seq`, users log in with their passwords; a damaged or incomplete backup is refused naming the
file and touches nothing; path attacks and callers below dba are refused."""
import json
import re
import shutil
import subprocess
import threading
import time

import pytest

from helpers import assert_sql_error, flush, wait_job
from kalam_harness import DEFAULT_TEST_CONFIG, Server, server_binary

PW = {"alice": "alice-secret-1", "bob": "bob-secret-22", "ops": "ops-secret-333",
      "svc": "svc-secret-4444"}


def config(root):
    return (DEFAULT_TEST_CONFIG + "[limits]\ndefault_query_limit = 100000\nmax_query_limit = 100000\n"
            f'[backup]\nallowed_dirs = ["{root}"]\n')


def start(data_dir, root):
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return Server(data_dir, config_toml=config(root)).start()


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "backups"
    root.mkdir()
    s = start(tmp_path / "src" / "data", root)
    for name, role in (("alice", "user"), ("bob", "user"), ("ops", "dba"), ("svc", "service")):
        s.sql(f"CREATE USER {name} WITH PASSWORD '{PW[name]}' ROLE {role}")
    yield s, root
    s.stop()


def backup(server, path, user="ops"):
    """Runs BACKUP DATABASE as `user`, waits for its job; returns backup.json as a dict."""
    msg = server.sql(f"BACKUP DATABASE TO '{path}'", user=user, password=PW[user])
    msg = msg["results"][0]["message"]
    m = re.fullmatch(rf"Database backup started to '{re.escape(str(path))}'\. Job ID: (BK-\d+)", msg)
    assert m, msg
    status, message = wait_job(server, m.group(1))
    assert status == "completed", message
    assert re.fullmatch(rf"Backup completed: '{re.escape(str(path))}' \(\d+\.\d\d MB\)\. \d+ file\(s\) copied, 0 reused",
                        message), message
    job = server.rows(f"SELECT job_type FROM system.jobs WHERE job_id = '{m.group(1)}'")
    assert job == [["backup"]]
    return json.loads((path / "backup.json").read_text())


def restore(source, target):
    return subprocess.run([server_binary(), "restore", "--from", str(source), "--data-dir",
                           str(target)], capture_output=True, text=True, timeout=120)


def make_world(s):
    """Shared and user tables with cold segments, hot rows over them, updates and deletes."""
    s.sql("CREATE NAMESPACE bk")
    s.sql("CREATE TABLE bk.items (id BIGINT PRIMARY KEY, body TEXT, n INT) WITH (TYPE='SHARED')")
    s.sql("CREATE USER TABLE bk.notes (id BIGINT PRIMARY KEY, body TEXT)")
    values = ",".join(f"({i}, 'item {i}', {i * 3})" for i in range(1, 201))
    s.sql(f"INSERT INTO bk.items VALUES {values}")
    for who in ("alice", "bob"):
        values = ",".join(f"({i}, '{who} note {i}')" for i in range(1, 51))
        s.sql(f"INSERT INTO bk.notes VALUES {values}", user=who, password=PW[who])
    flush(s, "bk.items")
    flush(s, "bk.notes")
    s.sql("UPDATE bk.items SET body = 'updated' WHERE id <= 20")
    s.sql("DELETE FROM bk.items WHERE id BETWEEN 21 AND 30")
    s.sql("UPDATE bk.notes SET body = 'alice edited' WHERE id <= 5", user="alice", password=PW["alice"])
    s.sql("DELETE FROM bk.notes WHERE id <= 5", user="bob", password=PW["bob"])
    values = ",".join(f"({i}, 'hot {i}', {i})" for i in range(201, 301))
    s.sql(f"INSERT INTO bk.items VALUES {values}")


def items(s):
    return s.rows("SELECT id, body, n, _seq FROM bk.items ORDER BY id")


def notes(s, who):
    return s.rows("SELECT id, body, _seq FROM bk.notes ORDER BY id", user=who, password=PW[who])


def test_backup_under_concurrent_writes_restores_the_state_at_its_seq(env, tmp_path):
    s, root = env
    make_world(s)
    before_writers = items(s)
    acked = []    # (id, acknowledged before the BACKUP statement was sent)
    updates = []  # (id, body, _seq) of each acknowledged update, in commit order
    backup_sent = threading.Event()
    stop = threading.Event()
    errors = []

    def inserter():
        i = 100000
        try:
            while not stop.is_set():
                before = not backup_sent.is_set()
                s.sql(f"INSERT INTO bk.items VALUES ({i}, 'w', {i})")
                s.sql(f"INSERT INTO bk.notes VALUES ({i}, 'w')", user="alice", password=PW["alice"])
                acked.append((i, before))
                i += 1
        except Exception as e:  # reported by the main thread
            errors.append(e)

    def updater():
        # The only writer of rows 31..200 (cold since the flush): each update's `_seq` is read
        # right after it, so the row's state at any `_seq` is known.
        c = 0
        try:
            while not stop.is_set():
                k = 31 + c % 170
                body = f"u{c}"
                s.sql(f"UPDATE bk.items SET body = '{body}' WHERE id = {k}")
                seq = s.rows(f"SELECT _seq FROM bk.items WHERE id = {k}")[0][0]
                updates.append((k, body, seq))
                c += 1
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=inserter), threading.Thread(target=updater)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    backup_sent.set()
    manifest = backup(s, root / "b1")
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert not errors, errors
    seq = manifest["seq"]
    assert manifest["format_version"] == 1 and manifest["server_version"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) for f in manifest["files"])
    assert any(f["path"].endswith(".parquet") for f in manifest["files"])
    assert any(f["path"].startswith("rocks/") for f in manifest["files"])

    # The expected state at the backup's `_seq`: the rows before the writers, with every update
    # whose `_seq` is at or below it applied, plus the inserted rows at or below it (never
    # changed afterwards). Writes ran on both sides of the point.
    assert any(int(u[2]) <= seq for u in updates) and any(int(u[2]) > seq for u in updates)
    state = {r[0]: r for r in before_writers}
    for k, body, useq in updates:
        if int(useq) <= seq:
            row = state[str(k)]
            state[str(k)] = [row[0], body, row[2], useq]
    all_items = items(s)
    inserted = [r for r in all_items if int(r[0]) >= 100000]
    assert any(int(r[3]) > seq for r in inserted), "no insert after the backup point"
    assert any(int(r[3]) <= seq for r in inserted), "no concurrent insert before it"
    state.update({r[0]: r for r in inserted if int(r[3]) <= seq})
    expected_items = sorted(state.values(), key=lambda r: int(r[0]))
    expected_notes = {who: [r for r in notes(s, who) if int(r[2]) <= seq] for who in ("alice", "bob")}
    acked_before = {i for i, before in acked if before}
    assert acked_before <= {int(r[0]) for r in expected_items}

    # The source goes away entirely: the restored server must need nothing of it.
    s.stop()
    shutil.rmtree(tmp_path / "src")

    target = tmp_path / "restored" / "data"
    r = restore(root / "b1", target)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"Restored backup '{root / 'b1'}' (_seq {seq}, "), r.stdout
    r2 = start(target, root)
    try:
        assert items(r2) == expected_items
        assert notes(r2, "alice") == expected_notes["alice"]
        assert notes(r2, "bob") == expected_notes["bob"]
        assert [row[1] for row in expected_notes["alice"][:5]] == ["alice edited"] * 5
        assert int(expected_notes["bob"][0][0]) == 6
        for who in PW:
            assert r2.login(who, PW[who])["access_token"]
        assert r2.rows("SELECT storage_id, base_directory FROM system.storages") == [
            ["local", str(target / "storage")]]
        segments = sorted((target / "storage").rglob("*.parquet"))
        assert segments
        # The restored cold segments are ordinary Parquet: DuckDB reads each one, with the row
        # count its manifest records.
        import duckdb
        for seg in segments:
            manifest_json = json.loads((seg.parent / "manifest.json").read_text())
            entry = next(e for e in manifest_json["segments"] if e["file"] == seg.name)
            [[n]] = duckdb.connect().execute(
                f"SELECT count(*) FROM read_parquet('{seg}')").fetchall()
            assert n == entry["row_count"], (seg, n, entry["row_count"])
        # New commits continue after the backup's `_seq`.
        r2.sql("INSERT INTO bk.items VALUES (999999, 'after restore', 1)")
        assert int(r2.rows("SELECT _seq FROM bk.items WHERE id = 999999")[0][0]) > seq
    finally:
        r2.stop()


@pytest.fixture
def made(env):
    s, root = env
    make_world(s)
    manifest = backup(s, root / "good")
    return s, root, manifest


def flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", ("parquet", "sst"))
def test_a_flipped_byte_is_refused_naming_the_file_and_nothing_is_written(made, tmp_path, which):
    s, root, manifest = made
    damaged = root / f"damaged-{which}"
    shutil.copytree(root / "good", damaged)
    suffix = ".parquet" if which == "parquet" else ".sst"
    rel = next(f["path"] for f in manifest["files"] if f["path"].endswith(suffix))
    flip_byte(damaged / rel)
    target = tmp_path / f"target-{which}"
    r = restore(damaged, target)
    assert r.returncode == 1
    assert r.stderr == f"kalamdb-server restore: Backup file '{rel}' is damaged: SHA-256 mismatch\n"
    assert not target.exists()
    assert not (tmp_path / f"target-{which}.restoring").exists()
    # The backup shares no file with the live data: damaging the original backup's copy in place
    # leaves the server's own data intact.
    flip_byte(root / "good" / rel)
    s.stop()
    s.start()
    assert len(items(s)) == 290


def test_incomplete_or_truncated_backups_and_non_empty_targets_are_refused(made, tmp_path):
    s, root, manifest = made
    truncated = root / "truncated"
    shutil.copytree(root / "good", truncated)
    rel = next(f for f in manifest["files"] if f["path"].endswith(".parquet"))
    (truncated / rel["path"]).write_bytes((truncated / rel["path"]).read_bytes()[:-1])
    r = restore(truncated, tmp_path / "t1")
    assert r.returncode == 1
    assert r.stderr == (f"kalamdb-server restore: Backup file '{rel['path']}' is damaged: "
                        f"{rel['size_bytes'] - 1} bytes, expected {rel['size_bytes']}\n")
    missing = root / "missing"
    shutil.copytree(root / "good", missing)
    (missing / rel["path"]).unlink()
    r = restore(missing, tmp_path / "t2")
    assert (r.returncode, r.stderr) == (
        1, f"kalamdb-server restore: Backup file '{rel['path']}' is missing\n")
    incomplete = root / "incomplete"
    shutil.copytree(root / "good", incomplete)
    (incomplete / "backup.json").unlink()
    r = restore(incomplete, tmp_path / "t3")
    assert (r.returncode, r.stderr) == (
        1, f"kalamdb-server restore: Backup directory '{incomplete}' is not a complete backup: "
           "backup.json is missing\n")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    r = restore(root / "good", occupied)
    assert (r.returncode, r.stderr) == (
        1, f"kalamdb-server restore: Data directory '{occupied}' is not empty; restore into a "
           "new directory\n")
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]
    assert not any((tmp_path / n).exists() for n in ("t1", "t2", "t3"))
    r = restore(root / "good", tmp_path / "ok")
    assert r.returncode == 0, r.stderr
    assert subprocess.run([server_binary(), "restore", "--from", str(root / "good")],
                          capture_output=True).returncode == 2


def test_path_attacks_are_refused(env, tmp_path):
    s, root = env
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    sibling = tmp_path / "backups-evil"

    def refused(sql, status, code, message):
        r = s.sql_raw(sql, user="ops", password=PW["ops"])
        assert_sql_error(r, status, code, message=message)

    refused(f"BACKUP DATABASE TO '{root}/../outside/x'", 400, "INVALID_SQL",
            "Backup path cannot contain '..' (path traversal not allowed)")
    refused(f"BACKUP DATABASE TO '{root}/a\x00b'", 400, "INVALID_SQL",
            "Backup path cannot contain null bytes")
    refused(f"BACKUP DATABASE TO {root}", 400, "INVALID_SQL", "Backup path must be quoted")
    refused("BACKUP DATABASE TO ''", 400, "INVALID_SQL", "Backup path cannot be empty")
    refused("BACKUP DATABASE '/tmp/x'", 400, "INVALID_SQL", "Expected TO clause in BACKUP DATABASE")
    refused("BACKUP DATABASE chat TO '/tmp/x'", 400, "INVALID_SQL",
            "Expected TO clause in BACKUP DATABASE")
    refused("RESTORE DATABASE '/tmp/x'", 400, "INVALID_SQL",
            "Expected FROM clause in RESTORE DATABASE")
    refused(f"SHOW BACKUPS FROM '{root}/../outside'", 400, "INVALID_SQL",
            "Backup path cannot contain '..' (path traversal not allowed)")
    refused(f"SHOW BACKUPS '{root}'", 400, "INVALID_SQL", "Expected FROM clause in SHOW BACKUPS")
    refused(f"SHOW BACKUPS FROM '{root}/link'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Invalid operation: Backup path '{root}/link' is outside the allowed backup "
            f"directories (backup.allowed_dirs: '{root}')")
    assert s.sql(f"SHOW BACKUPS FROM '{root}'", user="ops", password=PW["ops"])["results"][0].get(
        "rows", []) == []
    refused("BACKUP DATABASE TO '/etc/kalam'", 400, "INVALID_SQL",
            "Backup path cannot write to sensitive directory: /etc/kalam")
    for path in (outside / "x", root / "link" / "x", sibling / "x", tmp_path / "relative"):
        refused(f"BACKUP DATABASE TO '{path}'", 400, "SQL_EXECUTION_ERROR",
                f"Statement 1 failed: Invalid operation: Backup path '{path}' is outside the allowed backup "
                f"directories (backup.allowed_dirs: '{root}')")
    (root / "full").mkdir()
    (root / "full" / "x").write_text("x")
    refused(f"BACKUP DATABASE TO '{root}/full'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Already exists: Backup directory '{root}/full' is not empty; back up into a new "
            "directory")
    assert list(outside.iterdir()) == []
    assert not sibling.exists()
    assert s.rows("SELECT count(*) FROM system.jobs WHERE job_type = 'backup'") == [["0"]]


@pytest.mark.parametrize("who", ("alice", "svc"))
def test_below_dba_is_refused(env, who):
    s, root = env
    for sql, what in ((f"BACKUP DATABASE TO '{root}/p'", "backup"),
                      (f"RESTORE DATABASE FROM '{root}/p'", "restore"),
                      (f"SHOW BACKUPS FROM '{root}'", "backup")):
        r = s.sql_raw(sql, user=who, password=PW[who])
        assert_sql_error(r, 403, "PERMISSION_DENIED",
                         message=f"Statement 1 failed: Permission denied: Admin privileges (DBA or System role) required for {what} operations")
    assert not (root / "p").exists()


def test_dba_backs_up_and_the_default_root_is_beside_the_data_dir(tmp_path):
    data = tmp_path / "d" / "data"
    data.parent.mkdir()
    s = Server(data).start()
    try:
        s.sql(f"CREATE USER ops WITH PASSWORD '{PW['ops']}' ROLE dba")
        s.sql("CREATE NAMESPACE one")
        s.sql("CREATE TABLE one.t (id INT PRIMARY KEY) WITH (TYPE='SHARED')")
        s.sql("INSERT INTO one.t VALUES (1)")
        target = tmp_path / "d" / "backups" / "nightly"
        manifest = backup(s, target)
        assert manifest["seq"] == int(s.rows("SELECT _seq FROM one.t")[0][0])
        r = s.sql_raw(f"BACKUP DATABASE TO '{tmp_path}/elsewhere'", user="ops", password=PW["ops"])
        assert_sql_error(r, 400, "SQL_EXECUTION_ERROR",
                         message=f"Statement 1 failed: Invalid operation: Backup path '{tmp_path}/elsewhere' is outside "
                                 f"the allowed backup directories (backup.allowed_dirs: "
                                 f"'{tmp_path}/d/backups')")
    finally:
        s.stop()


def test_sql_restore_is_verified_staged_and_applied_at_the_next_start(made, tmp_path):
    s, root, manifest = made
    at_backup_items = items(s)
    at_backup_alice = notes(s, "alice")
    # Changes after the backup point, which the restore must undo.
    s.sql("INSERT INTO bk.items VALUES (5000, 'after', 1)")
    s.sql("CREATE USER carol WITH PASSWORD 'carol-secret-1' ROLE user")
    s.sql("ALTER USER alice SET PASSWORD 'alice-changed-9'")
    s.sql("DELETE FROM bk.notes WHERE id = 10", user="alice", password="alice-changed-9")

    damaged = root / "damaged"
    shutil.copytree(root / "good", damaged)
    rel = next(f["path"] for f in manifest["files"] if f["path"].endswith(".parquet"))
    flip_byte(damaged / rel)
    res = s.sql(f"SHOW BACKUPS FROM '{root}'", user="ops", password=PW["ops"])["results"][0]
    assert [c["name"] for c in res["schema"]] == ["path", "created_at", "seq", "size_bytes", "files",
                                                  "verified", "problem", "kind", "namespace",
                                                  "copied_files", "reused_files",
                                                  "incremental_from", "namespaces"]
    by_path = {r[0]: r for r in res["rows"]}
    assert sorted(by_path) == [str(root / "damaged"), str(root / "good")]
    good = by_path[str(root / "good")]
    assert good[2:] == [str(manifest["seq"]), str(sum(f["size_bytes"] for f in manifest["files"])),
                        str(len(manifest["files"])), True, None, "database", None,
                        str(len(manifest["files"])), "0", None, '["bk","default"]'], good
    assert manifest["namespaces"] == ["bk", "default"]
    assert by_path[str(root / "damaged")][5:9] == [False,
                                                   f"Backup file '{rel}' is damaged: SHA-256 mismatch",
                                                   "database", None]

    def refused(sql, message, status=400, code="SQL_EXECUTION_ERROR"):
        assert_sql_error(s.sql_raw(sql, user="ops", password=PW["ops"]), status, code, message=message)

    refused(f"RESTORE DATABASE FROM '{damaged}'",
            f"Statement 1 failed: Invalid operation: Backup file '{rel}' is damaged: SHA-256 mismatch")
    refused(f"RESTORE DATABASE FROM '{root}/nothing'",
            f"Statement 1 failed: Not found: Backup directory '{root}/nothing' not found")
    (root / "afile").write_text("x")
    refused(f"RESTORE DATABASE FROM '{root}/afile'",
            f"Statement 1 failed: Invalid operation: '{root}/afile' is not a directory. RESTORE DATABASE expects a "
            "backup directory, not a file.")
    refused(f"RESTORE DATABASE FROM '{tmp_path}/src'",
            f"Statement 1 failed: Invalid operation: Backup path '{tmp_path}/src' is outside the allowed backup "
            f"directories (backup.allowed_dirs: '{root}')")
    assert not (s.data_dir / "restore_pending").exists()

    msg = s.sql(f"RESTORE DATABASE FROM '{root}/good'", user="ops", password=PW["ops"])
    msg = msg["results"][0]["message"]
    m = re.fullmatch(rf"Database restore started from '{re.escape(str(root / 'good'))}'\. Job ID: "
                     r"(RS-\d+)\. Server restart required after completion\.", msg)
    assert m, msg
    assert wait_job(s, m.group(1)) == [
        "completed", f"Restore staged from '{root}/good'. Restart server to activate restored data."]
    assert s.rows(f"SELECT job_type FROM system.jobs WHERE job_id = '{m.group(1)}'") == [["restore"]]
    # Staged only: the live data is unchanged until the restart.
    assert (s.data_dir / "restore_pending" / "rocks").is_dir()
    assert s.rows("SELECT body FROM bk.items WHERE id = 5000") == [["after"]]

    s.stop()
    s.start()
    assert "Applied the restore staged by RESTORE DATABASE" in s.log_path.read_text()
    assert not (s.data_dir / "restore_pending").exists()
    assert not (s.data_dir / "restore_replaced").exists()
    assert items(s) == at_backup_items
    assert notes(s, "alice") == at_backup_alice
    assert s.login("alice", PW["alice"])["access_token"]
    r = s.http.post(s.base + "/v1/api/auth/login", json={"user": "carol", "password": "carol-secret-1"})
    assert r.status_code == 401, r.text


def test_a_storage_outside_the_data_dir_is_restored_into_the_new_data_dir(env, tmp_path):
    s, root = env
    archive = tmp_path / "archive-storage"
    s.sql(f"CREATE STORAGE archive TYPE 'filesystem' BASE_DIRECTORY '{archive}'")
    s.sql("CREATE NAMESPACE arch")
    s.sql("CREATE SHARED TABLE arch.t (id INT PRIMARY KEY, v TEXT) WITH (STORAGE_ID = 'archive')")
    s.sql("INSERT INTO arch.t VALUES (1, 'cold one'), (2, 'cold two')")
    flush(s, "arch.t")
    s.sql("UPDATE arch.t SET v = 'hot two' WHERE id = 2")
    expected = s.rows("SELECT id, v, _seq FROM arch.t ORDER BY id")
    manifest = backup(s, root / "arch")
    assert [st["storage_id"] for st in manifest["storages"]] == ["archive", "local"]
    assert any(f["path"].startswith("storages/archive/arch/t/batch-") for f in manifest["files"])
    s.stop()
    shutil.rmtree(archive)  # the original storage is gone: the restore must not need it
    shutil.rmtree(tmp_path / "src")

    target = tmp_path / "restored" / "data"
    r = restore(root / "arch", target)
    assert r.returncode == 0, r.stderr
    assert not archive.exists()
    r2 = start(target, root)
    try:
        assert r2.rows("SELECT storage_id, base_directory FROM system.storages ORDER BY storage_id") == [
            ["archive", str(target / "restored_storages" / "archive")],
            ["local", str(target / "storage")]]
        assert r2.rows("SELECT id, v, _seq FROM arch.t ORDER BY id") == expected
        assert list((target / "restored_storages" / "archive" / "arch" / "t").glob("batch-*.parquet"))
    finally:
        r2.stop()


def test_resuming_from_a_seq_the_restore_discarded_is_refused(made, tmp_path):
    from live_client import LiveClient
    s, root, manifest = made
    seq = manifest["seq"]
    s.sql("INSERT INTO bk.items VALUES (777777, 'after the backup', 1)")
    lost = int(s.rows("SELECT _seq FROM bk.items WHERE id = 777777")[0][0])
    assert lost > seq
    target = tmp_path / "restored" / "data"
    r = restore(root / "good", target)
    assert r.returncode == 0, r.stderr
    s.stop()
    r2 = Server(target, config_toml=config(root)).start()
    try:
        c = LiveClient(r2, user="ops", password=PW["ops"])
        # A position from the discarded history: refused, not silently continued.
        c.subscribe("gone", "SELECT id FROM bk.items", options={"from": lost})
        err = c.recv()
        assert err == {"type": "error", "subscription_id": "gone", "code": "SUBSCRIPTION_FAILED",
                       "message": f"Cannot resume from _seq {lost}: this server was restored from a "
                                  f"backup taken at _seq {seq}, and changes after that point are "
                                  "not part of its data. Subscribe again without 'from' to load a "
                                  "fresh snapshot"}, err
        # A position inside the restored history resumes; so does one from the new history.
        ack, rows = c.subscribe_ready("kept", "SELECT id FROM bk.items", options={"from": seq})
        assert rows == []
        r2.sql("INSERT INTO bk.items VALUES (888888, 'new', 1)")
        new = int(r2.rows("SELECT _seq FROM bk.items WHERE id = 888888")[0][0])
        assert new > lost
        assert [e["rows"][0]["id"] for e in c.changes(1)] == ["888888"]
        ack, rows = c.subscribe_ready("later", "SELECT id FROM bk.items", options={"from": new - 1})
        assert [r["id"] for r in rows] == ["888888"]
        c.close()
    finally:
        r2.stop()
    # The gap is remembered across restarts.
    r3 = Server(target, config_toml=config(root)).start()
    try:
        c = LiveClient(r3, user="ops", password=PW["ops"])
        c.subscribe("gone", "SELECT id FROM bk.items", options={"from": lost})
        assert c.recv()["code"] == "SUBSCRIPTION_FAILED"
        c.close()
    finally:
        r3.stop()
