#!/usr/bin/env python3
"""Cold-tier benchmark: time to flush N rows to Parquet, and a cold scan with an aggregate through
the server beside DuckDB running the same aggregate on the same segment files.

Usage (server already running, e.g. KALAMDB_ROOT_PASSWORD=benchpass123 KALAMDB_DATA_DIR=/tmp/kcold
  KALAMDB_SERVER_PORT=18092 build/release/src/server/kalamdb-server &):
  .venv/bin/python bench/cold_bench.py --port 18092 --password benchpass123 --data-dir /tmp/kcold \
      --rows 1000000
"""
import argparse
import glob
import os
import statistics
import time

import duckdb
import requests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18092)
    ap.add_argument("--password", default="benchpass123")
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    http = requests.Session()
    tok = http.post(base + "/v1/api/auth/login",
                    json={"user": "root", "password": a.password}).json()["access_token"]
    hdr = {"Authorization": f"Bearer {tok}"}

    def sql(q):
        r = http.post(base + "/v1/api/sql", json={"sql": q}, headers=hdr, timeout=600)
        body = r.json()
        assert body["status"] == "success", body
        return body

    sql("CREATE NAMESPACE IF NOT EXISTS bench")
    sql("DROP TABLE IF EXISTS bench.cold")
    sql("CREATE SHARED TABLE bench.cold (id BIGINT PRIMARY KEY, room TEXT, body TEXT, "
        "ts TIMESTAMP, score DOUBLE, n INT)")
    t0 = time.time()
    for start in range(0, a.rows, a.batch):
        vals = ", ".join(
            f"({i}, 'room{i % 100}', 'message body number {i} with some text', "
            f"{1767225600000000 + i * 1000}, {i % 1000 / 7.0}, {i % 97})"
            for i in range(start, min(a.rows, start + a.batch)))
        sql(f"INSERT INTO bench.cold VALUES {vals}")
    load_s = time.time() - t0
    msg = sql("STORAGE FLUSH TABLE bench.cold")["results"][0]["message"]
    job = msg.rsplit(" ", 1)[-1]
    while True:
        rows = sql(f"SELECT status, started_at, finished_at, message FROM system.jobs "
                   f"WHERE job_id = '{job}'")["results"][0]["rows"]
        if rows and rows[0][0] not in ("queued", "running"):
            break
        time.sleep(0.05)
    status, started, finished, message = rows[0]
    assert status == "completed", message
    flush_s = (finished - started) / 1e6
    query = "SELECT count(*), sum(n), avg(score), max(ts) FROM {t}"
    ours = []
    for _ in range(a.runs):
        body = sql(query.format(t="bench.cold"))
        ours.append(body["took"] / 1000)
    files = sorted(glob.glob(os.path.join(a.data_dir, "storage", "bench", "cold", "*.parquet")))
    con = duckdb.connect()
    con.execute("SET threads TO 1")
    src = "read_parquet([" + ", ".join(f"'{f}'" for f in files) + "])"
    duck = []
    for _ in range(a.runs):
        t = time.time()
        con.execute(query.format(t=src) + " WHERE NOT _deleted").fetchall()
        duck.append(time.time() - t)
    size = sum(os.path.getsize(f) for f in files)
    print(f"rows                 {a.rows}")
    print(f"load (HTTP inserts)  {load_s:.2f} s  ({a.rows / load_s:,.0f} rows/s)")
    print(f"flush job            {flush_s:.2f} s  ({a.rows / flush_s:,.0f} rows/s), "
          f"{len(files)} file(s), {size / 1e6:.1f} MB  [{message}]")
    print(f"cold scan, first     {ours[0] * 1000:.1f} ms (decode + scan)")
    best = min(ours[1:]) if len(ours) > 1 else ours[0]
    print(f"cold scan, warm      median {statistics.median(ours[1:]) * 1000:.1f} ms, best "
          f"{best * 1000:.1f} ms  ({a.rows / best:,.0f} rows/s)")
    dbest = min(duck)
    print(f"DuckDB (1 thread)    median {statistics.median(duck) * 1000:.1f} ms, best "
          f"{dbest * 1000:.1f} ms  ({a.rows / dbest:,.0f} rows/s)")
    print(f"ratio ours/DuckDB    {best / dbest:.1f}x (warm best vs best)")


if __name__ == "__main__":
    main()
