#!/usr/bin/env python3
"""Namespace backup benchmark: BACKUP NAMESPACE and RESTORE NAMESPACE … AS of N rows — half in a
SHARED table, half in a USER table of one user; each table half flushed to cold, half hot — with
the backup's size and the time of each step (docs/backup.md, "Namespace backup and restore").

Usage (server already running with its backup root beside the data directory, e.g.
  KALAMDB_ROOT_PASSWORD=benchpass123 KALAMDB_DATA_DIR=/tmp/knsb/data KALAMDB_SERVER_PORT=18093 \
      build/release/src/server/kalamdb-server &):
  .venv/bin/python bench/namespace_backup_bench.py --port 18093 --password benchpass123 \
      --backup-dir /tmp/knsb/backups/b1 --rows 200000
"""
import argparse
import json
import os
import re
import time

import requests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18093)
    ap.add_argument("--password", default="benchpass123")
    ap.add_argument("--backup-dir", required=True)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=5000)
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    http = requests.Session()

    def token(user, password):
        return http.post(base + "/v1/api/auth/login",
                         json={"user": user, "password": password}).json()["access_token"]

    root = {"Authorization": f"Bearer {token('root', a.password)}"}

    def sql(q, hdr=root):
        r = http.post(base + "/v1/api/sql", json={"sql": q}, headers=hdr, timeout=3600)
        body = r.json()
        assert body["status"] == "success", body
        return body

    def wait_job(job_id):
        while True:
            rows = sql(f"SELECT status, message FROM system.jobs WHERE job_id = '{job_id}'")[
                "results"][0].get("rows", [])
            if rows and rows[0][0] not in ("queued", "running"):
                return rows[0]
            time.sleep(0.05)

    def flush(table):
        msg = sql(f"STORAGE FLUSH TABLE {table}")["results"][0]["message"]
        assert wait_job(re.search(r"Job ID: (\S+)", msg).group(1))[0] == "completed"

    sql("CREATE USER benchu WITH PASSWORD 'benchu-pass-1' ROLE user")
    user = {"Authorization": f"Bearer {token('benchu', 'benchu-pass-1')}"}
    sql("CREATE NAMESPACE nsb")
    sql("CREATE SHARED TABLE nsb.items (id BIGINT PRIMARY KEY, body TEXT, n INT)")
    sql("CREATE USER TABLE nsb.notes (id BIGINT PRIMARY KEY, body TEXT, n INT)")
    half = a.rows // 2
    for table, hdr in (("nsb.items", root), ("nsb.notes", user)):
        for start in range(0, half, a.batch):
            if start == half // 2:
                flush(table)
            end = min(half, start + a.batch)
            sql(f"INSERT INTO {table} VALUES " +
                ",".join(f"({i}, 'row body number {i} with some text', {i})" for i in range(start, end)),
                hdr)

    t0 = time.time()
    msg = sql(f"BACKUP NAMESPACE nsb TO '{a.backup_dir}'")["results"][0]["message"]
    status, message = wait_job(re.search(r"Job ID: (\S+)", msg).group(1))
    t_backup = time.time() - t0
    assert status == "completed", message
    manifest = json.load(open(os.path.join(a.backup_dir, "backup.json")))
    t0 = time.time()
    restored = sql(f"RESTORE NAMESPACE nsb FROM '{a.backup_dir}' AS nsb_copy")["results"][0]["message"]
    t_restore = time.time() - t0
    counts = [sql(f"SELECT count(*) FROM {t}", hdr)["results"][0]["rows"][0][0]
              for t, hdr in (("nsb_copy.items", root), ("nsb_copy.notes", user))]
    print(f"rows: {a.rows} (restored: {counts})")
    print(f"backup: {t_backup:.2f} s, {manifest['total_bytes'] / 1048576:.2f} MB in "
          f"{len(manifest['files'])} files ({message})")
    print(f"restore AS: {t_restore:.2f} s ({restored})")


if __name__ == "__main__":
    main()
