"""Backups to a configured storage (BACKUP DATABASE TO STORAGE … PATH …), S3 storages' segments
inside backups, and incremental backups (docs/backup.md): restores give back every table exactly,
whichever storage its segments were on; a damaged object or a missing base is refused naming the
file; an incremental backup copies exactly the files that changed and reuses the others."""
import json
import os
import re
import shutil
import uuid

import pytest

from helpers import assert_sql_error, flush, wait_job
from test_backup import PW, config, items, make_world, notes, restore, start
from test_cold_s3 import CREDS, s3  # noqa: F401  (the moto fixture)

BUCKET = "kalam-backups"


@pytest.fixture
def world(s3, tmp_path):
    """A server with tables on the local storage and on an S3 storage, and an S3 storage for
    backups (each test its own prefixes)."""
    endpoint, client = s3
    client.create_bucket(Bucket=BUCKET)
    run = uuid.uuid4().hex[:8]
    root = tmp_path / "backups"
    root.mkdir()
    s = start(tmp_path / "src" / "data", root)
    for name, role in (("alice", "user"), ("bob", "user"), ("ops", "dba"), ("svc", "service")):
        s.sql(f"CREATE USER {name} WITH PASSWORD '{PW[name]}' ROLE {role}")
    for sid, bucket, prefix in (("s3cold", "kalam-cold", f"cold-{run}"), ("s3bk", BUCKET, f"bk-{run}")):
        s.sql(f"CREATE STORAGE {sid} TYPE 's3' BUCKET '{bucket}' REGION 'us-east-1' "
              f"ENDPOINT '{endpoint}' BASE_DIRECTORY 's3://{bucket}/{prefix}' "
              f"CREDENTIALS '{json.dumps(CREDS)}'")
    make_world(s)
    s.sql("CREATE TABLE bk.cloud (id BIGINT PRIMARY KEY, body TEXT) "
          "WITH (TYPE='SHARED', STORAGE_ID='s3cold')")
    s.sql("INSERT INTO bk.cloud VALUES " + ",".join(f"({i}, 'c{i}')" for i in range(1, 151)))
    flush(s, "bk.cloud")
    s.sql("UPDATE bk.cloud SET body = 'changed' WHERE id <= 10")
    yield s, root, client, f"bk-{run}", f"cold-{run}"
    s.stop()


def cloud(s):
    return s.rows("SELECT id, body, _seq FROM bk.cloud ORDER BY id")


def state(s):
    return items(s), notes(s, "alice"), notes(s, "bob"), cloud(s)


def ops(s, sql):
    return s.sql(sql, user="ops", password=PW["ops"])["results"][0]


def run_backup(s, sql, where, copied=None, reused=None):
    msg = ops(s, sql)["message"]
    m = re.fullmatch(rf"Database backup started to {re.escape(where)}\. Job ID: (BK-\d+)", msg)
    assert m, msg
    status, message = wait_job(s, m.group(1))
    assert status == "completed", message
    m2 = re.fullmatch(rf"Backup completed: {re.escape(where)} \(\d+\.\d\d MB\)\. (\d+) file\(s\) "
                      r"copied, (\d+) reused", message)
    assert m2, message
    return int(m2.group(1)), int(m2.group(2))


def keys(client, prefix):
    out = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return sorted(out)


def cold_keys(client, cold):
    listed = client.list_objects_v2(Bucket="kalam-cold", Prefix=cold + "/")
    return [o["Key"] for o in listed.get("Contents", [])]


def s3_manifest(client, key):
    return json.loads(client.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def refused(s, sql, status, code, message):
    assert_sql_error(s.sql_raw(sql, user="ops", password=PW["ops"]), status, code, message=message)


def test_backup_to_s3_holds_s3_segments_and_restores_every_table(world):
    s, root, client, bk, cold = world
    expected = state(s)
    copied, reused = run_backup(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'full/'",
                                "storage 's3bk' path 'full/'")
    m = s3_manifest(client, f"{bk}/full/backup.json")
    assert (copied, reused) == (len(m["files"]), 0)
    assert (m["copied_files"], m["reused_files"]) == (len(m["files"]), 0)
    assert not any(f["reused"] or "base" in f for f in m["files"])
    # Every file, and backup.json, is an object of its own under the prefix.
    assert keys(client, f"{bk}/full/") == sorted(
        [f"{bk}/full/{f['path']}" for f in m["files"]] + [f"{bk}/full/backup.json"])
    assert {st["storage_id"]: (st["storage_type"], st["included"]) for st in m["storages"]} == {
        "local": ("filesystem", True), "s3cold": ("s3", True), "s3bk": ("s3", True)}
    s3_segments = sorted(f["path"] for f in m["files"]
                         if f["path"].startswith("storages/s3cold/") and f["path"].endswith(".parquet"))
    source = sorted(k for k in cold_keys(client, cold) if k.endswith(".parquet"))
    assert s3_segments == ["storages/s3cold/" + k[len(cold) + 1:] for k in source] and s3_segments
    assert any(f["path"].startswith("storages/local/") and f["path"].endswith(".parquet")
               for f in m["files"])

    rows = ops(s, "SHOW BACKUPS FROM STORAGE s3bk")["rows"]
    assert rows == [[f"s3://{BUCKET}/{bk}/full/", rows[0][1], str(m["seq"]),
                     str(m["total_bytes"]), str(len(m["files"])), True, None, "database", None,
                     str(len(m["files"])), "0", None, json.dumps(m["namespaces"], separators=(",", ":"))]]

    # A flipped byte in one object: SHOW BACKUPS and RESTORE name the file; nothing is staged.
    victim = s3_segments[0]
    key = f"{bk}/full/{victim}"
    good = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 1
    client.put_object(Bucket=BUCKET, Key=key, Body=bytes(bad))
    refused(s, "RESTORE DATABASE FROM STORAGE s3bk PATH 'full/'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Invalid operation: Backup file '{victim}' is damaged: SHA-256 mismatch")
    assert ops(s, "SHOW BACKUPS FROM STORAGE s3bk PATH 'full'")["rows"][0][5:7] == [
        False, f"Backup file '{victim}' is damaged: SHA-256 mismatch"]
    assert not (s.data_dir / "restore_pending").exists()
    assert not list(s.data_dir.glob("restore_download*"))
    client.put_object(Bucket=BUCKET, Key=key, Body=good)

    # Changes after the backup, undone by the restore.
    s.sql("INSERT INTO bk.items VALUES (5000, 'after', 1)")
    s.sql("INSERT INTO bk.cloud VALUES (5000, 'after')")
    flush(s, "bk.cloud")
    msg = ops(s, "RESTORE DATABASE FROM STORAGE s3bk PATH 'full/'")["message"]
    mm = re.fullmatch(r"Database restore started from storage 's3bk' path 'full/'\. Job ID: "
                      r"(RS-\d+)\. Server restart required after completion\.", msg)
    assert mm, msg
    assert wait_job(s, mm.group(1)) == [
        "completed", "Restore staged from storage 's3bk' path 'full/'. Restart server to "
                     "activate restored data."]
    assert not list(s.data_dir.glob("restore_download*"))
    assert not list((s.data_dir / "backup_staging").iterdir())
    s.stop()
    # The source's S3 segments are gone: the restored server must not need them.
    for k in cold_keys(client, cold):
        client.delete_object(Bucket="kalam-cold", Key=k)
    s.start()
    assert state(s) == expected
    for who in PW:
        assert s.login(who, PW[who])["access_token"]
    assert s.rows("SELECT storage_id, storage_type, base_directory FROM system.storages "
                  "ORDER BY storage_id") == [
        ["local", "filesystem", str(s.data_dir / "storage")],
        ["s3bk", "s3", f"s3://{BUCKET}/{bk}"],  # no file of it in the backup: kept as it was
        ["s3cold", "filesystem", str(s.data_dir / "restored_storages" / "s3cold")]]
    # The restored server backs up to the storage it was restored from.
    run_backup(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'after-restore/'",
               "storage 's3bk' path 'after-restore/'")


def test_incremental_directory_backup_links_unchanged_files_and_outlives_its_base(world, tmp_path):
    s, root, client, bk, cold = world
    run_backup(s, f"BACKUP DATABASE TO '{root}/full'", f"'{root}/full'")
    full = json.loads((root / "full" / "backup.json").read_text())
    full_files = {f["path"]: f for f in full["files"]}
    s.sql("INSERT INTO bk.items VALUES " + ",".join(f"({i}, 'more {i}', 1)" for i in range(400, 410)))
    flush(s, "bk.items")
    s.sql("INSERT INTO bk.cloud VALUES (999, 'more')")
    flush(s, "bk.cloud")
    expected = state(s)
    copied, reused = run_backup(s, f"BACKUP DATABASE TO '{root}/inc' INCREMENTAL FROM '{root}/full'",
                                f"'{root}/inc'")
    inc = json.loads((root / "inc" / "backup.json").read_text())
    assert inc["incremental_from"] == str(root / "full")
    # Reused exactly when the base has the same path and content; counted exactly.
    for f in inc["files"]:
        same = f["path"] in full_files and full_files[f["path"]]["sha256"] == f["sha256"]
        assert f["reused"] == same, f
        a = os.stat(root / "inc" / f["path"])
        if same:
            assert a.st_ino == os.stat(root / "full" / f["path"]).st_ino, f
        else:
            assert a.st_nlink == 1, f
    assert (copied, reused) == (inc["copied_files"], inc["reused_files"])
    assert reused == sum(f["reused"] for f in inc["files"]) and copied == len(inc["files"]) - reused
    new_parquet = sorted(f["path"] for f in inc["files"] if not f["reused"] and f["path"].endswith(".parquet"))
    assert len(new_parquet) == 2 and all(p not in full_files for p in new_parquet), new_parquet
    assert {p.split("/")[1] for p in new_parquet} == {"local", "s3cold"}
    # Every segment of the full backup is still there and was reused, local and S3 alike.
    assert all(f["reused"] for f in inc["files"]
               if f["path"] in full_files and f["path"].endswith(".parquet"))
    changed_mirrors = sorted(f["path"] for f in inc["files"]
                             if not f["reused"] and f["path"].endswith("manifest.json"))
    assert len(changed_mirrors) == 2, changed_mirrors

    shutil.rmtree(root / "full")
    rows = ops(s, f"SHOW BACKUPS FROM '{root}'")["rows"]
    assert [(r[0], r[5], r[6]) + tuple(r[7:]) for r in rows] == [
        (str(root / "inc"), True, None, "database", None, str(copied), str(reused),
         str(root / "full"), '["bk","default"]')]
    assert json.loads((root / "inc" / "backup.json").read_text())["namespaces"] == ["bk", "default"]
    s.stop()
    r = restore(root / "inc", tmp_path / "restored" / "data")
    assert r.returncode == 0, r.stderr
    r2 = start(tmp_path / "restored" / "data", root)
    try:
        assert state(r2) == expected
    finally:
        r2.stop()
    s.start()


def test_incremental_backup_in_s3_references_its_base(world):
    s, root, client, bk, cold = world
    run_backup(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'f'", "storage 's3bk' path 'f/'")
    full = s3_manifest(client, f"{bk}/f/backup.json")
    full_files = {f["path"]: f for f in full["files"]}
    s.sql("INSERT INTO bk.cloud VALUES (999, 'more')")
    flush(s, "bk.cloud")
    expected = state(s)
    copied, reused = run_backup(
        s, "BACKUP DATABASE TO STORAGE s3bk PATH 'i/' INCREMENTAL FROM 'f/'",
        "storage 's3bk' path 'i/'")
    inc = s3_manifest(client, f"{bk}/i/backup.json")
    assert inc["incremental_from"] == "f/"
    for f in inc["files"]:
        same = f["path"] in full_files and full_files[f["path"]]["sha256"] == f["sha256"]
        assert f["reused"] == same and f.get("base") == ("f/" if same else None), f
    assert reused == inc["reused_files"] == sum(f["reused"] for f in inc["files"]) > 0
    # Only the copied files are objects of the incremental backup.
    assert keys(client, f"{bk}/i/") == sorted(
        [f"{bk}/i/{f['path']}" for f in inc["files"] if not f["reused"]] + [f"{bk}/i/backup.json"])
    assert copied == inc["copied_files"] == len(keys(client, f"{bk}/i/")) - 1
    new_parquet = [f["path"] for f in inc["files"] if not f["reused"] and f["path"].endswith(".parquet")]
    assert len(new_parquet) == 1 and new_parquet[0].startswith("storages/s3cold/")

    # A second incremental on top of the first names the backup that holds the bytes (no chain).
    run_backup(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'i2/' INCREMENTAL FROM 'i/'",
               "storage 's3bk' path 'i2/'")
    inc2 = s3_manifest(client, f"{bk}/i2/backup.json")
    assert {f["path"]: f.get("base") for f in inc2["files"] if f["path"].endswith(".parquet")} == {
        f["path"]: f.get("base") or "i/" for f in inc["files"] if f["path"].endswith(".parquet")}

    msg = ops(s, "RESTORE DATABASE FROM STORAGE s3bk PATH 'i/'")["message"]
    job = re.search(r"Job ID: (RS-\d+)", msg).group(1)
    assert wait_job(s, job)[0] == "completed"
    # A base object gone: verification names the file and its base.
    victim = next(f["path"] for f in inc["files"] if f["reused"] and f["path"].endswith(".parquet"))
    client.delete_object(Bucket=BUCKET, Key=f"{bk}/f/{victim}")
    refused(s, "RESTORE DATABASE FROM STORAGE s3bk PATH 'i/'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Invalid operation: Backup file '{victim}' is missing from its base backup 'f/'")
    rows = ops(s, "SHOW BACKUPS FROM STORAGE s3bk")["rows"]
    assert [(r[0], r[5], r[6]) for r in rows] == [
        (f"s3://{BUCKET}/{bk}/f/", False, f"Backup file '{victim}' is missing"),
        (f"s3://{BUCKET}/{bk}/i/", False,
         f"Backup file '{victim}' is missing from its base backup 'f/'"),
        (f"s3://{BUCKET}/{bk}/i2/", False,
         f"Backup file '{victim}' is missing from its base backup 'f/'")]
    s.stop()
    s.start()  # applies the restore staged from 'i/' before the base object was deleted
    assert state(s) == expected


def test_storage_backup_paths_and_bases_are_checked(world):
    s, root, client, bk, cold = world
    run_backup(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'full/'", "storage 's3bk' path 'full/'")
    for sql, message in (
            ("BACKUP DATABASE TO STORAGE s3bk PATH '../x/'",
             "Backup path cannot contain '..' (path traversal not allowed)"),
            ("BACKUP DATABASE TO STORAGE s3bk PATH 'a/../../x'",
             "Backup path cannot contain '..' (path traversal not allowed)"),
            ("BACKUP DATABASE TO STORAGE s3bk PATH '/abs/'",
             "Backup path in a storage must be relative to the storage's base directory: '/abs/'"),
            ("BACKUP DATABASE TO STORAGE s3bk PATH ''", "Backup path cannot be empty"),
            ("BACKUP DATABASE TO STORAGE s3bk PATH '/'",
             "Backup path in a storage must be relative to the storage's base directory: '/'"),
            ("BACKUP DATABASE TO STORAGE s3bk PATH 'a//b/'",
             "Backup path 'a//b/' is not a valid object key: object key 'a//b/backup.json' has an "
             "empty path segment"),
            ("BACKUP DATABASE TO STORAGE s3bk", "Expected PATH '<prefix>' after BACKUP DATABASE TO "
                                                "STORAGE s3bk"),
            ("RESTORE DATABASE FROM STORAGE s3bk PATH '../full/'",
             "Backup path cannot contain '..' (path traversal not allowed)"),
            ("SHOW BACKUPS FROM STORAGE s3bk PATH '/x'",
             "Backup path in a storage must be relative to the storage's base directory: '/x'"),
            ("BACKUP DATABASE TO STORAGE s3bk PATH 'n/' INCREMENTAL FROM '../full/'",
             "Backup path cannot contain '..' (path traversal not allowed)")):
        refused(s, sql, 400, "INVALID_SQL", message)
    r = s.sql_raw("BACKUP DATABASE TO STORAGE s3bk PATH 'a\u0000b/'", user="ops", password=PW["ops"])
    assert_sql_error(r, 400, "INVALID_SQL", message="Backup path cannot contain null bytes")
    refused(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'full/'", 400, "SQL_EXECUTION_ERROR",
            "Statement 1 failed: Already exists: Backup location storage 's3bk' path 'full/' is not empty; back up into "
            "a new path")
    refused(s, "BACKUP DATABASE TO STORAGE nope PATH 'x/'", 400, "SQL_EXECUTION_ERROR",
            "Statement 1 failed: Not found: Storage 'nope' does not exist")
    refused(s, "BACKUP DATABASE TO STORAGE s3bk PATH 'n/' INCREMENTAL FROM 'missing/'", 400,
            "SQL_EXECUTION_ERROR", f"Statement 1 failed: Not found: Base backup 's3://{BUCKET}/{bk}/missing/' is not a complete "
                         "backup: backup.json is missing")
    refused(s, f"BACKUP DATABASE TO '{root}/n' INCREMENTAL FROM '{root}/missing'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Not found: Base backup '{root}/missing' not found")
    refused(s, "RESTORE DATABASE FROM STORAGE s3bk PATH 'missing/'", 400, "SQL_EXECUTION_ERROR",
            f"Statement 1 failed: Not found: Backup 's3://{BUCKET}/{bk}/missing/' is not a complete backup: "
            "backup.json is missing")
    assert keys(client, f"{bk}/n/") == [] and keys(client, f"{bk}/x/") == []
    assert not (root / "n").exists()


def test_backup_to_a_filesystem_storage_is_a_backup_directory(world, tmp_path):
    s, root, client, bk, cold = world
    fsdir = tmp_path / "fsbk"
    s.sql(f"CREATE STORAGE fsbk TYPE 'filesystem' BASE_DIRECTORY '{fsdir}'")
    expected = state(s)
    copied, reused = run_backup(s, "BACKUP DATABASE TO STORAGE fsbk PATH 'nightly/one'",
                                "storage 'fsbk' path 'nightly/one/'")
    where = fsdir / "nightly" / "one"
    m = json.loads((where / "backup.json").read_text())
    assert (copied, reused) == (len(m["files"]), 0)
    assert sorted(p.relative_to(where).as_posix() for p in where.rglob("*") if p.is_file()) == sorted(
        [f["path"] for f in m["files"]] + ["backup.json"])
    rows = ops(s, "SHOW BACKUPS FROM STORAGE fsbk PATH 'nightly'")["rows"]
    assert [(r[0], r[5], r[6]) for r in rows] == [(f"{where}/", True, None)]
    # What a storage holds is a backup directory: the offline restore takes it as it is.
    s.stop()
    r = restore(where, tmp_path / "restored" / "data")
    assert r.returncode == 0, r.stderr
    r2 = start(tmp_path / "restored" / "data", root)
    try:
        assert state(r2) == expected
    finally:
        r2.stop()
    s.start()
