#!/usr/bin/env python3
"""Backup benchmark (docs/backup.md): a SHARED table of N rows, half flushed to cold segments,
half hot; time and size of a full backup, its offline restore, then after adding 10k rows (one
more segment) a second full backup beside an incremental one, and the incremental's restore.
Targets: a directory, and with --s3 an S3 storage (moto_server from the venv).

Usage (starts its own server; needs a release build):
  KALAMDB_SERVER_BIN=build/release/src/server/kalamdb-server \\
      .venv/bin/python bench/backup_bench.py --rows 1000000 --work /tmp/kbackup-bench [--s3]
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from kalam_harness import DEFAULT_TEST_CONFIG, Server, server_binary  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--work", default="/tmp/kbackup-bench")
    ap.add_argument("--s3", action="store_true")
    a = ap.parse_args()
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    root = work / "backups"
    root.mkdir(parents=True)
    cfg = DEFAULT_TEST_CONFIG + f'[backup]\nallowed_dirs = ["{root}"]\n'
    s = Server(work / "data", config_toml=cfg).start()
    moto = None
    try:
        def job(sql):
            msg = s.sql(sql)["results"][0]["message"]
            jid = [w for w in msg.replace(".", " ").split() if w[:3] in ("BK-", "RS-", "FL-")][0]
            t0 = time.time()
            while True:
                r = s.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{jid}'")
                if r and r[0][0] not in ("queued", "running"):
                    assert r[0][0] == "completed", r
                    return time.time() - t0, r[0][1]
                time.sleep(0.02)

        s.sql("CREATE NAMESPACE bench")
        s.sql("CREATE SHARED TABLE bench.t (id BIGINT PRIMARY KEY, room TEXT, body TEXT, "
              "score DOUBLE, n INT)")

        def insert(lo, hi):
            for start in range(lo, hi, a.batch):
                vals = ", ".join(f"({i}, 'room{i % 100}', 'message body number {i} with text', "
                                 f"{i % 1000 / 7.0}, {i % 97})"
                                 for i in range(start, min(hi, start + a.batch)))
                s.sql(f"INSERT INTO bench.t VALUES {vals}")

        t0 = time.time()
        insert(0, a.rows // 2)
        job("STORAGE FLUSH TABLE bench.t")
        insert(a.rows // 2, a.rows)
        print(f"loaded {a.rows} rows ({a.rows // 2} cold) in {time.time() - t0:.1f} s")

        def report(name, path, secs, msg):
            m = json.loads((path / "backup.json").read_text())
            copied = sum(f["size_bytes"] for f in m["files"] if not f["reused"])
            print(f"{name}: {secs:.2f} s, {m['total_bytes'] / 1e6:.1f} MB total, "
                  f"{copied / 1e6:.1f} MB copied, {m['copied_files']} files copied, "
                  f"{m['reused_files']} reused  [{msg}]")

        def restore(name, path):
            target = work / f"restored-{name}"
            t = time.time()
            r = subprocess.run([server_binary(), "restore", "--from", str(path), "--data-dir",
                                str(target)], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            print(f"restore {name}: {time.time() - t:.2f} s")
            shutil.rmtree(target)

        secs, msg = job(f"BACKUP DATABASE TO '{root}/full1'")
        report("full backup", root / "full1", secs, msg)
        restore("full", root / "full1")
        insert(a.rows, a.rows + 10_000)
        job("STORAGE FLUSH TABLE bench.t")
        secs, msg = job(f"BACKUP DATABASE TO '{root}/full2'")
        report("full backup after +10k rows", root / "full2", secs, msg)
        secs, msg = job(f"BACKUP DATABASE TO '{root}/inc2' INCREMENTAL FROM '{root}/full1'")
        report("incremental backup after +10k rows", root / "inc2", secs, msg)
        restore("incremental", root / "inc2")

        if a.s3:
            port = free_port()
            moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                                     "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(2)
            import boto3
            c = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                             aws_access_key_id="k", aws_secret_access_key="s")
            c.create_bucket(Bucket="kbench")
            creds = json.dumps({"access_key_id": "k", "secret_access_key": "s"})
            s.sql(f"CREATE STORAGE s3bk TYPE 's3' BUCKET 'kbench' REGION 'us-east-1' ENDPOINT "
                  f"'http://127.0.0.1:{port}' BASE_DIRECTORY 's3://kbench/b' CREDENTIALS '{creds}'")

            def s3report(name, prefix, secs, msg):
                m = json.loads(c.get_object(Bucket="kbench", Key=f"b/{prefix}backup.json")["Body"].read())
                objs = sum(1 for p in c.get_paginator("list_objects_v2").paginate(Bucket="kbench", Prefix=f"b/{prefix}")
                           for _ in p.get("Contents", []))
                print(f"{name}: {secs:.2f} s, {m['total_bytes'] / 1e6:.1f} MB total, "
                      f"{m['copied_files']} files copied, {m['reused_files']} reused, {objs} objects  [{msg}]")

            secs, msg = job("BACKUP DATABASE TO STORAGE s3bk PATH 'full/'")
            s3report("S3 full backup", "full/", secs, msg)
            insert(a.rows + 10_000, a.rows + 20_000)
            job("STORAGE FLUSH TABLE bench.t")
            secs, msg = job("BACKUP DATABASE TO STORAGE s3bk PATH 'inc/' INCREMENTAL FROM 'full/'")
            s3report("S3 incremental backup after +10k rows", "inc/", secs, msg)
            t = time.time()
            secs, msg = job("RESTORE DATABASE FROM STORAGE s3bk PATH 'inc/'")
            print(f"S3 restore (download + verify + stage): {time.time() - t:.2f} s")
    finally:
        s.stop()
        if moto:
            moto.terminate()


if __name__ == "__main__":
    main()
