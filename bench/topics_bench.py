#!/usr/bin/env python3
"""Topics benchmark: insert→consume latency through a long poll (p50/p99), messages published per
second (inserts into a routed table, beside the same inserts into an unrouted table), and
messages consumed per second by 1 and by 10 consumers of one group (HTTP consume + ack).

Usage (server already running, e.g. KALAMDB_ROOT_PASSWORD=benchpass123 KALAMDB_DATA_DIR=/tmp/ktop
  KALAMDB_SERVER_PORT=18093 build/release/src/server/kalamdb-server &):
  .venv/bin/python bench/topics_bench.py --port 18093 --password benchpass123
"""
import argparse
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

PARTITIONS = 10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18093)
    ap.add_argument("--password", default="benchpass123")
    ap.add_argument("--latency-samples", type=int, default=300)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=100, help="rows per INSERT")
    ap.add_argument("--writers", type=int, default=4)
    a = ap.parse_args()
    base = f"http://127.0.0.1:{a.port}"
    tok = requests.post(base + "/v1/api/auth/login",
                        json={"user": "root", "password": a.password}).json()["access_token"]
    hdr = {"Authorization": f"Bearer {tok}"}
    local = threading.local()

    def session():
        if not hasattr(local, "s"):
            local.s = requests.Session()
        return local.s

    def sql(q):
        body = session().post(base + "/v1/api/sql", json={"sql": q}, headers=hdr,
                              timeout=600).json()
        assert body["status"] == "success", body
        return body

    def api(path, body):
        r = session().post(base + path, json=body, headers=hdr, timeout=120)
        assert r.status_code == 200, r.text
        return r.json()

    run = str(int(time.time()))
    ns = f"tb{run}"
    sql(f"CREATE NAMESPACE {ns}")
    sql(f"CREATE SHARED TABLE {ns}.lat (id BIGINT PRIMARY KEY, body TEXT)")
    sql(f"CREATE TOPIC {ns}.lat_t")
    sql(f"ALTER TOPIC {ns}.lat_t ADD SOURCE {ns}.lat ON INSERT")

    # 1. Latency: a long poll is waiting; one INSERT; time until the poll answers.
    from_send, from_ack = [], []
    for i in range(a.latency_samples):
        got = {}

        def poll():
            r = api("/v1/api/topics/consume", {"topic_id": f"{ns}.lat_t", "group_id": "lat",
                                               "start": "Latest", "timeout_seconds": 30})
            got["t"] = time.perf_counter()
            got["n"] = len(r["messages"])
            if r["messages"]:
                api("/v1/api/topics/ack", {"topic_id": f"{ns}.lat_t", "group_id": "lat",
                                           "upto_offset": r["messages"][-1]["offset"]})

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.02)
        t0 = time.perf_counter()
        sql(f"INSERT INTO {ns}.lat (id, body) VALUES ({i}, 'latency probe')")
        t1 = time.perf_counter()
        t.join()
        assert got["n"] == 1, got
        from_send.append((got["t"] - t0) * 1000)
        from_ack.append(max(0.0, got["t"] - t1) * 1000)

    def pct(v, p):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * p))]

    print(f"latency insert-sent→poll-answered: p50 {pct(from_send, .5):.2f} ms, "
          f"p99 {pct(from_send, .99):.2f} ms; insert-acked→poll-answered: "
          f"p50 {pct(from_ack, .5):.2f} ms, p99 {pct(from_ack, .99):.2f} ms "
          f"({a.latency_samples} samples)")

    # 2. Publish throughput: routed vs unrouted table, `writers` clients, `batch`-row INSERTs.
    sql(f"CREATE SHARED TABLE {ns}.plain (id BIGINT PRIMARY KEY, body TEXT, n INT)")
    sql(f"CREATE SHARED TABLE {ns}.routed (id BIGINT PRIMARY KEY, body TEXT, n INT)")
    sql(f"CREATE TOPIC {ns}.t PARTITIONS {PARTITIONS}")
    sql(f"ALTER TOPIC {ns}.t ADD SOURCE {ns}.routed ON INSERT")

    def load(table):
        def chunk(start):
            vals = ", ".join(f"({i}, 'message body {i} with some text', {i % 97})"
                             for i in range(start, min(a.rows, start + a.batch)))
            sql(f"INSERT INTO {ns}.{table} (id, body, n) VALUES {vals}")
        t0 = time.perf_counter()
        with ThreadPoolExecutor(a.writers) as ex:
            list(ex.map(chunk, range(0, a.rows, a.batch)))
        return a.rows / (time.perf_counter() - t0)

    plain = load("plain")
    routed = load("routed")
    print(f"insert rows/s ({a.writers} writers, {a.batch}-row INSERTs, {a.rows} rows): "
          f"unrouted {plain:,.0f}, routed to a {PARTITIONS}-partition topic {routed:,.0f} "
          f"(messages published/s)")

    # 3. Consume throughput: group consume (limit 1000) + ack, until every message is read.
    def drain(group, consumers):
        counts = [0] * PARTITIONS
        lock = threading.Lock()
        done = threading.Event()

        def consumer(cid):
            p = cid % PARTITIONS
            while not done.is_set():
                r = api("/v1/api/topics/consume", {"topic_id": f"{ns}.t", "group_id": group,
                                                   "start": "Earliest", "partition_id": p,
                                                   "limit": 1000})
                msgs = r["messages"]
                if msgs:
                    api("/v1/api/topics/ack", {"topic_id": f"{ns}.t", "group_id": group,
                                               "partition_id": p,
                                               "upto_offset": msgs[-1]["offset"]})
                with lock:
                    counts[p] += len(msgs)
                    if sum(counts) >= a.rows:
                        done.set()
                if consumers < PARTITIONS or not msgs:
                    p = (p + consumers) % PARTITIONS if consumers < PARTITIONS else p
                if not msgs and consumers >= PARTITIONS:
                    return  # this partition is drained

        t0 = time.perf_counter()
        with ThreadPoolExecutor(consumers) as ex:
            list(ex.map(consumer, range(consumers)))
        assert sum(counts) == a.rows, counts
        return a.rows / (time.perf_counter() - t0)

    one = drain("one", 1)
    ten = drain("ten", 10)
    print(f"consume messages/s (HTTP consume limit 1000 + ack): 1 consumer {one:,.0f}, "
          f"10 consumers {ten:,.0f}")


if __name__ == "__main__":
    main()
