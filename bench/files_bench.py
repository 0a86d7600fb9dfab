#!/usr/bin/env python3
"""FILE column benchmark: upload and download MB/s for files of the given sizes (multipart
POST /v1/api/sql into a SHARED table, then GET /v1/files/…), and the server's peak RSS during the
largest upload (read from /proc/<pid>/status when --pid is given).

Usage (server already running with limits that allow the sizes, e.g.
  printf '[files]\\nmax_size_bytes = 209715200\\nmax_request_bytes = 210763776\\n' > /tmp/kf.toml
  KALAMDB_ROOT_PASSWORD=benchpass123 KALAMDB_DATA_DIR=/tmp/kfiles KALAMDB_SERVER_PORT=18094 \\
    build/release/src/server/kalamdb-server /tmp/kf.toml &):
  .venv/bin/python bench/files_bench.py --port 18094 --password benchpass123 --sizes-mb 1 100 \\
    --pid $!
"""
import argparse
import hashlib
import json
import os
import threading
import time

import requests


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18094)
    ap.add_argument("--password", default="benchpass123")
    ap.add_argument("--sizes-mb", type=float, nargs="+", default=[1, 100])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pid", type=int, default=0, help="server pid, to sample its RSS")
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    tok = requests.post(base + "/v1/api/auth/login",
                        json={"user": "root", "password": a.password}).json()["access_token"]
    hdr = {"Authorization": f"Bearer {tok}"}
    s = requests.Session()
    ns = f"fb{int(time.time())}"
    s.post(base + "/v1/api/sql", headers=hdr, json={"sql": f"CREATE NAMESPACE {ns}"})
    s.post(base + "/v1/api/sql", headers=hdr,
           json={"sql": f"CREATE SHARED TABLE {ns}.f (id INT PRIMARY KEY, f FILE)"})
    next_id = [0]
    for mb in a.sizes_mb:
        data = os.urandom(int(mb * 1024 * 1024))
        digest = hashlib.sha256(data).hexdigest()
        up, down, peak = [], [], 0
        for _ in range(a.repeat):
            next_id[0] += 1
            stop = threading.Event()
            peaks = [0]

            def sample():
                while not stop.is_set():
                    peaks[0] = max(peaks[0], rss_kib(a.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample) if a.pid else None
            before = rss_kib(a.pid) if a.pid else 0
            if sampler:
                sampler.start()
            t0 = time.perf_counter()
            r = s.post(base + "/v1/api/sql", headers=hdr, files=[
                ("sql", (None, f"INSERT INTO {ns}.f VALUES ({next_id[0]}, FILE('a'))")),
                ("file:a", ("blob.bin", data))])
            up.append(time.perf_counter() - t0)
            stop.set()
            if sampler:
                sampler.join()
                peak = max(peak, peaks[0] - before)
            assert r.status_code == 200, r.text
            row = s.post(base + "/v1/api/sql", headers=hdr, json={
                "sql": f"SELECT f FROM {ns}.f WHERE id = {next_id[0]}"}).json()
            ref = json.loads(row["results"][0]["rows"][0][0])
            url = f"{base}/v1/files/{ns}/f/{ref['sub']}/{ref['id']}-blob.bin"
            t0 = time.perf_counter()
            d = s.get(url, headers=hdr)
            down.append(time.perf_counter() - t0)
            assert hashlib.sha256(d.content).hexdigest() == digest
        best_up, best_down = min(up), min(down)
        line = (f"{mb:g} MB: upload {mb / best_up:.1f} MB/s ({best_up * 1000:.0f} ms), "
                f"download {mb / best_down:.1f} MB/s ({best_down * 1000:.0f} ms)")
        if a.pid:
            line += f", server RSS growth during upload {peak / 1024:.0f} MiB"
        print(line)


if __name__ == "__main__":
    main()
