#!/usr/bin/env python3
"""Forwarded-write latency of a 3-node cluster on loopback (docs/cluster.md, "Forwarding"): starts
three kalamdb-server processes (every API in cluster.api_peers), then runs N sequential
single-row INSERTs into a SHARED table on the shared shard's leader and N on a follower (which
forwards each to the leader and answers once it applied it), and reports p50/p99/mean of each.
Also reports the idle CPU of each process over --idle-seconds (utime + stime from /proc/<pid>/stat)
before any write, and again after the writes.

Usage:
  .venv/bin/python bench/forward_bench.py [--writes 300] [--idle-seconds 10] \
      [--election-ms 1000] [--heartbeat-ms 100]
(uses build/release/src/server/kalamdb-server, or KALAMDB_SERVER_BIN)
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from kalam_harness import DEFAULT_TEST_CONFIG, Server, free_port  # noqa: E402
from test_cluster import GROUPS, SHARED_ORDINAL, USER_SHARDS, _cluster_bases  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def idle_cpu(nodes, seconds):
    before = [cpu_seconds(n.proc.pid) for n in nodes]
    time.sleep(seconds)
    return [100.0 * (cpu_seconds(n.proc.pid) - b) / seconds for n, b in zip(nodes, before)]


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def until(fn, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = fn()
        if r is not None:
            return r
        time.sleep(0.1)
    raise RuntimeError("timed out")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--writes", type=int, default=300)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    ap.add_argument("--election-ms", type=int, default=1000)
    ap.add_argument("--heartbeat-ms", type=int, default=100)
    ap.add_argument("--steps", action="store_true",
                    help="log at debug level and report the forwarder's steps (leader's answer, "
                         "then the local apply) from the follower's log")
    a = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="kforward."))
    bases = _cluster_bases(3)
    peers = ", ".join(f'"{i + 1}=127.0.0.1:{b}"' for i, b in enumerate(bases))
    api_ports = []
    while len(api_ports) < 3:
        p = free_port()
        if p not in api_ports and not any(b <= p < b + GROUPS for b in bases):
            api_ports.append(p)
    api_peers = ", ".join(f'"{i + 1}=127.0.0.1:{p}"' for i, p in enumerate(api_ports))
    nodes = []
    for i in range(3):
        cfg = (DEFAULT_TEST_CONFIG + f"[server]\nnode_id = {i + 1}\n"
               f"[cluster]\nnode_id = {i + 1}\npeers = [{peers}]\nuser_shards = {USER_SHARDS}\n"
               f"election_timeout_ms = {a.election_ms}\nheartbeat_timeout_ms = {a.heartbeat_ms}\n"
               f"api_peers = [{api_peers}]\n"
               '[auth]\njwt_secret = "forward-bench-secret-0123456789abcdef0123"\n')
        (root / f"n{i + 1}").mkdir()
        env = {"KALAMDB_LOG_LEVEL": "debug"} if a.steps else None
        nodes.append(Server(root / f"n{i + 1}" / "data", port=api_ports[i], config_toml=cfg, env=env))
    try:
        for n in nodes:
            n.start()

        def ok(node, sql, hop=False):
            headers = {"Authorization": f"Bearer {node.token()}"}
            if hop:
                headers["X-Kalam-Forwarded"] = "1"
            r = node.sql_raw(sql, headers=headers)
            return r.status_code == 200 and r.json()["status"] == "success"

        until(lambda: True if any(ok(n, "CREATE NAMESPACE IF NOT EXISTS fb") for n in nodes) else None)
        until(lambda: True if any(ok(n, "CREATE SHARED TABLE IF NOT EXISTS fb.t "
                                        "(id BIGINT PRIMARY KEY, v TEXT)") for n in nodes) else None)
        probe = [0]

        def leader():
            for i, n in enumerate(nodes):
                probe[0] += 1
                if ok(n, f"INSERT INTO fb.t (id, v) VALUES ({10_000_000 + probe[0]}, 'p')", hop=True):
                    return i
            return None
        lead = until(leader)
        follower = (lead + 1) % 3
        # The follower must know the leader before it can forward.
        def forwarded_once():
            r = nodes[follower].sql_raw("INSERT INTO fb.t (id, v) VALUES (-1, 'w')")
            if r.status_code == 200 and r.json()["status"] == "success":
                return True
            print("not yet:", r.status_code, r.text[:300])
            return None
        until(forwarded_once)
        time.sleep(1.0)
        idle_before = idle_cpu(nodes, a.idle_seconds)

        def run(node, first):
            headers = {"Authorization": f"Bearer {node.token()}"}
            lat = []
            for k in range(a.writes):
                t0 = time.perf_counter()
                r = node.sql_raw(f"INSERT INTO fb.t (id, v) VALUES ({first + k}, 'x')", headers=headers)
                lat.append((time.perf_counter() - t0) * 1000.0)
                body = r.json()
                assert r.status_code == 200 and body["status"] == "success", body
            return lat

        direct = run(nodes[lead], 1)
        forwarded = run(nodes[follower], 1_000_000)
        time.sleep(1.0)
        idle_after = idle_cpu(nodes, a.idle_seconds)
        print(f"leader node {lead + 1} of group {SHARED_ORDINAL} (shared), follower node {follower + 1};"
              f" election {a.election_ms} ms, heartbeat {a.heartbeat_ms} ms")
        for name, lat in (("direct on the leader", direct), ("forwarded from a follower", forwarded)):
            print(f"{name:26s} n={len(lat)} p50 {pct(lat, 50):7.2f} ms  p99 {pct(lat, 99):7.2f} ms"
                  f"  mean {statistics.mean(lat):7.2f} ms  max {max(lat):7.2f} ms")
        print("idle CPU % per node before writes: " + ", ".join(f"{c:.2f}" for c in idle_before)
              + f" (over {a.idle_seconds:g} s)")
        print("idle CPU % per node after writes:  " + ", ".join(f"{c:.2f}" for c in idle_after))
        if a.steps:
            steps = re.findall(r"leader answered after (\d+) us, applied here (\d+) us later",
                               nodes[follower].log_path.read_text(errors="replace"))
            steps = steps[-a.writes:]
            hop = [int(x) / 1000.0 for x, _ in steps]
            wait = [int(y) / 1000.0 for _, y in steps]
            print(f"steps (n={len(steps)}): leader's answer p50 {pct(hop, 50):.2f} ms"
                  f" p99 {pct(hop, 99):.2f} ms; then local apply p50 {pct(wait, 50):.2f} ms"
                  f" p99 {pct(wait, 99):.2f} ms")
    finally:
        for n in nodes:
            n.stop()


if __name__ == "__main__":
    main()
