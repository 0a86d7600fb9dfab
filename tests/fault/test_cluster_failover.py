"""A three-process cluster under a steady write load (tests/e2e/cluster_live.py): the shared
shard's leader killed -9 again and again (3 times in the short form, 50 in the long one) and
brought back, with live subscribers on every node resuming on a survivor when theirs dies. Then
every acknowledged write is on all three, the replicas hold identical rows and `_seq`s, and every
subscriber's copy equals the table. Reports the failover time (kill -> first acknowledged write
of that group) and the replication lag (a row acknowledged by the leader -> visible on both
followers) as p50/p99; and the write throughput of the cluster against one node with
bench/kalam_load (docs/cluster.md, "Measured")."""
import re
import subprocess
import time
from pathlib import Path

import pytest

from cluster_live import (subscribe_everywhere, COLS, PW, Load, Subscriber, check_after, resume_dead, setup_lv, until,
                          wait_leader)
from kalam_harness import DEFAULT_TEST_CONFIG, REPO, ROOT_PASSWORD, Server
from test_cluster import SHARED_ORDINAL, Cluster


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def probe_lag(c, leader, k):
    """Inserts probe row k on the shared shard's leader; seconds until both followers have it."""
    c.nodes[leader].sql(f"INSERT INTO lv.probe (id, v) VALUES ({k}, 'p')")
    acked = time.monotonic()
    waiting = [i for i in range(3) if i != leader]
    while waiting:
        for i in list(waiting):
            r = c.nodes[i].sql_raw(f"SELECT id FROM lv.probe WHERE id = {k}")
            if r.status_code == 200 and r.json()["results"][0].get("rows"):
                waiting.remove(i)
        if time.monotonic() - acked > 10:
            raise AssertionError(f"probe {k} not on nodes {waiting} after 10 s")
    return time.monotonic() - acked


def test_leader_kills_under_load(tmp_path, form, summary):
    kills = form["cluster_kills"]
    c = Cluster(tmp_path, forward=True).start()
    try:
        users = [n for n, _ in setup_lv(c, users=2)]
        c.nodes[0].sql("CREATE SHARED TABLE lv.probe (id INT PRIMARY KEY, v TEXT)")
        for node in c.nodes:
            until(lambda: node.sql_raw("SELECT id FROM lv.probe").status_code == 200,
                  what="lv.probe on every node")
        subs = subscribe_everywhere(c, users[0])
        load = Load(c, users).start()
        failovers, lags, victims, probe = [], [], [], 0
        started = time.monotonic()
        for _ in range(kills):
            time.sleep(0.5)
            leader = wait_leader(c, SHARED_ORDINAL)
            for _ in range(3):
                probe += 1
                lags.append(probe_lag(c, leader, probe))
            victim, failover = load.kill_leader()
            victims.append(victim)
            failovers.append(failover)
            subs = resume_dead(c, subs, victim)
        elapsed = time.monotonic() - started
        acked = load.acked()
        maybe = sum(len(w.maybe) for w in load.writers)
        refused = sum(w.refused for w in load.writers)
        check_after(c, load, [(s, c.nodes[i]) for s, i in subs])
        for s, _ in subs:
            s.stop()
        assert len(set(victims)) > 1 or kills < 3, victims  # leadership moved around
        summary(f"{kills} leader kills in {elapsed:.0f} s: failover p50 {pct(failovers, 0.5) * 1000:.0f} ms "
                f"p99 {pct(failovers, 0.99) * 1000:.0f} ms max {max(failovers) * 1000:.0f} ms; "
                f"replication lag p50 {pct(lags, 0.5) * 1000:.1f} ms p99 {pct(lags, 0.99) * 1000:.1f} ms "
                f"({len(lags)} probes); {acked} writes acknowledged, {maybe} outcome unknown, "
                f"{refused} forwards refused by a dead leader and retried, "
                f"none lost; 6 subscribers equal to their tables")
    finally:
        c.stop()


def kalam_load(port, seconds):
    binary = REPO / "build" / "release" / "bench" / "kalam_load"
    out = subprocess.run([str(binary), "--port", str(port), "--password", ROOT_PASSWORD,
                          "--mode", "insert", "--clients", "16", "--seconds", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 120)
    assert out.returncode == 0, out.stderr
    m = re.search(r"ops/s=\s*(\d+).*p50=\s*([\d.]+) ms\s+p99=\s*([\d.]+) ms.*errors=(\d+)", out.stdout)
    assert m, out.stdout
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), int(m.group(4))


@pytest.mark.skipif(not (REPO / "build" / "release" / "bench" / "kalam_load").exists(),
                    reason="bench/kalam_load not built")
def test_cluster_write_throughput_against_one_node(tmp_path, form, summary):
    seconds = form["cluster_bench_seconds"]
    one = Server(tmp_path / "one" / "data", config_toml=DEFAULT_TEST_CONFIG)
    (tmp_path / "one").mkdir()
    one.start()
    try:
        single = kalam_load(one.port, seconds)
    finally:
        one.stop()
    (tmp_path / "c").mkdir()
    c = Cluster(tmp_path / "c", forward=True).start()
    try:
        for g in range(SHARED_ORDINAL + 1):
            wait_leader(c, g)
        # kalam_load's own CREATE ... IF NOT EXISTS would be followed at once by its inserts: a
        # follower applying a shard entry before the meta entry that created its table stops
        # applying that group (docs/cluster.md, Failures, "A data entry ahead of this node's
        # catalog", known bug). So the tables exist on every node first.
        c.nodes[0].sql("CREATE NAMESPACE bench")
        c.nodes[0].sql("CREATE SHARED TABLE bench.messages (id BIGINT PRIMARY KEY AUTO_INCREMENT, "
                       "room INT, body TEXT, created_at TIMESTAMP DEFAULT NOW())")
        c.nodes[0].sql("CREATE SHARED TABLE bench.points (id BIGINT PRIMARY KEY, name TEXT, "
                       "score DOUBLE)")
        for node in c.nodes:
            for t in ("messages", "points"):
                until(lambda: node.sql_raw(f"SELECT 1 FROM bench.{t} LIMIT 1").status_code == 200,
                      what=f"bench.{t} on every node")
        leader = wait_leader(c, SHARED_ORDINAL)
        on_leader = kalam_load(c.nodes[leader].port, seconds)
        follower = (leader + 1) % 3
        forwarded = kalam_load(c.nodes[follower].port, seconds)
        # Every node applied all of it: the same row count everywhere.
        counts = until(lambda: (lambda n: n if len(set(n)) == 1 else None)(
            [node.rows("SELECT count(*) FROM bench.messages")[0][0] for node in c.nodes]),
            what="the same bench.messages count on every node")
        assert int(counts[0]) > 0
    finally:
        c.stop()
    for name, r in (("one node", single), ("leader", on_leader), ("follower", forwarded)):
        assert r[3] == 0, f"{name}: {r[3]} errors"
    summary(f"kalam_load --mode insert --clients 16 --seconds {seconds}: one node {single[0]:.0f} "
            f"rows/s (p50 {single[1]:.1f} ms, p99 {single[2]:.1f} ms); 3-node cluster, on the "
            f"shared shard's leader {on_leader[0]:.0f} rows/s (p50 {on_leader[1]:.1f} ms, p99 "
            f"{on_leader[2]:.1f} ms), on a follower (forwarded) {forwarded[0]:.0f} rows/s (p50 "
            f"{forwarded[1]:.1f} ms, p99 {forwarded[2]:.1f} ms)")
