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

--storage s3 stores the files in an S3 storage instead of the server's local one: in the bucket
--s3-bucket at --s3-endpoint (credentials --s3-access-key/--s3-secret-key), or, without
--s3-endpoint, in a moto_server the script starts itself (from the venv next to this Python).
"""
import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_moto():
    """A moto_server on a free port: (process, endpoint)."""
    moto = Path(sys.executable).parent / "moto_server"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(endpoint, timeout=0.5)
            return proc, endpoint
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"moto_server did not start at {endpoint}")


def sql(s, base, hdr, text):
    r = s.post(base + "/v1/api/sql", headers=hdr, json={"sql": text})
    assert r.status_code == 200, f"{text}: {r.text}"
    return r.json()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18094)
    ap.add_argument("--password", default="benchpass123")
    ap.add_argument("--sizes-mb", type=float, nargs="+", default=[1, 100])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pid", type=int, default=0, help="server pid, to sample its RSS")
    ap.add_argument("--storage", choices=["local", "s3"], default="local")
    ap.add_argument("--s3-endpoint", default="", help="default: start a moto_server")
    ap.add_argument("--s3-bucket", default="kalam-bench")
    ap.add_argument("--s3-access-key", default="kalambench")
    ap.add_argument("--s3-secret-key", default="kalambench")
    a = ap.parse_args()
    moto = None
    if a.storage == "s3" and not a.s3_endpoint:
        moto, a.s3_endpoint = start_moto()
    try:
        run(a)
    finally:
        if moto:
            moto.terminate()
            moto.wait(timeout=10)


def run(a):
    base = f"http://127.0.0.1:{a.port}"
    tok = requests.post(base + "/v1/api/auth/login",
                        json={"user": "root", "password": a.password}).json()["access_token"]
    hdr = {"Authorization": f"Bearer {tok}"}
    s = requests.Session()
    ns = f"fb{int(time.time())}"
    sql(s, base, hdr, f"CREATE NAMESPACE {ns}")
    with_storage = ""
    if a.storage == "s3":
        import boto3
        client = boto3.client("s3", endpoint_url=a.s3_endpoint, region_name="us-east-1",
                              aws_access_key_id=a.s3_access_key,
                              aws_secret_access_key=a.s3_secret_key)
        try:
            client.create_bucket(Bucket=a.s3_bucket)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
        creds = json.dumps({"access_key_id": a.s3_access_key,
                            "secret_access_key": a.s3_secret_key})
        sql(s, base, hdr, f"CREATE STORAGE {ns}_s3 TYPE 's3' BUCKET '{a.s3_bucket}' "
                          f"REGION 'us-east-1' ENDPOINT '{a.s3_endpoint}' "
                          f"BASE_DIRECTORY 's3://{a.s3_bucket}/{ns}' CREDENTIALS '{creds}'")
        with_storage = f" WITH (STORAGE_ID = '{ns}_s3')"
    sql(s, base, hdr, f"CREATE SHARED TABLE {ns}.f (id INT PRIMARY KEY, f FILE){with_storage}")
    print(f"storage: {a.storage}" + (f" ({a.s3_endpoint})" if a.storage == "s3" else ""))
    next_id = [0]
    for mb in a.sizes_mb:
        data = os.urandom(int(mb * 1024 * 1024))
        digest = hashlib.sha256(data).hexdigest()
        up, down, peak, down_peak = [], [], 0, 0
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
            stop = threading.Event()
            peaks = [0]
            sampler = threading.Thread(target=sample) if a.pid else None
            before = rss_kib(a.pid) if a.pid else 0
            if sampler:
                sampler.start()
            t0 = time.perf_counter()
            h = hashlib.sha256()
            with s.get(url, headers=hdr, stream=True) as d:
                assert d.status_code == 200, d.text
                for chunk in d.iter_content(1 << 20):
                    h.update(chunk)
            down.append(time.perf_counter() - t0)
            stop.set()
            if sampler:
                sampler.join()
                down_peak = max(down_peak, peaks[0] - before)
            assert h.hexdigest() == digest
        best_up, best_down = min(up), min(down)
        line = (f"{mb:g} MB: upload {mb / best_up:.1f} MB/s ({best_up * 1000:.0f} ms), "
                f"download {mb / best_down:.1f} MB/s ({best_down * 1000:.0f} ms)")
        if a.pid:
            line += (f", server RSS growth during upload {peak / 1024:.0f} MiB, "
                     f"during download {down_peak / 1024:.0f} MiB")
        print(line)


if __name__ == "__main__":
    main()
