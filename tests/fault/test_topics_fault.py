"""Topics under a crash: 3 writers insert into a table routed to a 4-partition topic while 10
HTTP consumers in 2 groups long-poll and acknowledge; the server is killed with -9 mid-stream and
restarted. Afterwards every committed source row must have been delivered to each group (none
lost), nothing that was not committed is delivered, an offset always names the same message,
offsets are dense and follow `_seq` order per partition, and a message is delivered again only
if it had not been acknowledged when it was fetched (duplicates counted and reported).

An ack covers the batch that holds its offset (docs/topics.md): a consumer's ack acknowledges the
offsets of the batch it fetched when fetch and ack reached the same server process; an ack of a
batch fetched before the kill (its claim died with the process), or acked after its claim may
have expired (the 2 s visibility timeout), is counted as acknowledging its last offset only: the
rest of that batch may come again."""
import base64
import json
import random
import threading
import time
from collections import defaultdict

import requests

from fault_server import start_server

PARTITIONS = 4
GROUPS = ("g1", "g2")
CONSUMERS_PER_GROUP = 5
WRITERS = 3
ID_RANGE = 1_000_000
VISIBILITY_SECS = 2


def post(http, base, token, path, body, timeout=30):
    try:
        r = http.post(base + path, json=body, headers={"Authorization": f"Bearer {token}"},
                      timeout=timeout)
        return r.status_code, r.json()
    except (requests.RequestException, ValueError) as e:
        return None, str(e)


class Writer(threading.Thread):
    def __init__(self, wid, base, token, stop):
        super().__init__(daemon=True)
        self.wid, self.base, self.token, self.stop = wid, base, token, stop
        self.acked, self.unknown = set(), set()
        self.http = requests.Session()

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            pk = self.wid * ID_RANGE + n
            status, body = post(self.http, self.base, self.token, "/v1/api/sql",
                                {"sql": f"INSERT INTO ft.s (id, w) VALUES ({pk}, {self.wid})"})
            if status == 200:
                self.acked.add(pk)
            else:
                self.unknown.add(pk)  # cut off by the kill: committed or not
                time.sleep(0.05)


class Group:
    """What one group received: deliveries per (partition, offset), acks the server confirmed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = defaultdict(list)  # (p, offset) -> [(key, seq)]
        self.acked = defaultdict(set)  # p -> offsets an ack that returned 200 acknowledged
        self.violations = []

    def keys(self):
        with self.lock:
            return {d[0][0] for d in self.deliveries.values()}


class Consumer(threading.Thread):
    def __init__(self, cid, group_id, group, base, token, stop, seed, server_generation):
        super().__init__(daemon=True)
        # [n]: bumped by the test before it kills the server (a fetch and an ack in different
        # generations may have reached different server processes).
        self.server_generation = server_generation
        self.cid, self.group_id, self.group, self.base, self.token = cid, group_id, group, base, token
        self.stop, self.rng = stop, random.Random(seed)
        self.http = requests.Session()

    def run(self):
        p = self.cid % PARTITIONS
        while not self.stop.is_set():
            p = (p + 1) % PARTITIONS
            with self.group.lock:
                acked_before = set(self.group.acked[p])
            generation = self.server_generation[0]
            fetched_at = time.monotonic()
            status, body = post(self.http, self.base, self.token, "/v1/api/topics/consume",
                                {"topic_id": "ft.t", "group_id": self.group_id,
                                 "start": "Earliest", "partition_id": p,
                                 "limit": self.rng.randint(1, 30), "timeout_seconds": 1})
            if status != 200:
                time.sleep(0.05)
                continue
            msgs = body["messages"]
            if not msgs:
                continue
            with self.group.lock:
                for m in msgs:
                    payload = json.loads(base64.b64decode(m["payload"]))
                    self.group.deliveries[(p, m["offset"])].append((m["key"],
                                                                     int(payload["_seq"])))
                    if m["offset"] in acked_before:
                        self.group.violations.append(
                            f"{self.group_id} p{p} offset {m['offset']} redelivered after its "
                            f"ack")
            if self.rng.random() < 0.1:
                continue  # leave this batch unacknowledged: its claim must expire and redeliver
            last = msgs[-1]["offset"]
            status, _ = post(self.http, self.base, self.token, "/v1/api/topics/ack",
                             {"topic_id": "ft.t", "group_id": self.group_id, "partition_id": p,
                              "upto_offset": last})
            if status == 200:
                same_claim = (generation == self.server_generation[0] and
                              time.monotonic() - fetched_at < VISIBILITY_SECS * 0.75)
                covered = [m["offset"] for m in msgs] if same_claim else [last]
                with self.group.lock:
                    self.group.acked[p].update(covered)


def test_topic_delivery_survives_kill9(tmp_path, form, summary):
    s = start_server(tmp_path, env={"KALAMDB_TOPIC_VISIBILITY_TIMEOUT_SECS": str(VISIBILITY_SECS)})
    try:
        s.sql("CREATE NAMESPACE ft")
        s.sql("CREATE SHARED TABLE ft.s (id BIGINT PRIMARY KEY, w INT)")
        s.sql(f"CREATE TOPIC ft.t PARTITIONS {PARTITIONS}")
        s.sql("ALTER TOPIC ft.t ADD SOURCE ft.s ON INSERT")
        token = s.token()
        stop_writers, stop_consumers = threading.Event(), threading.Event()
        writers = [Writer(w + 1, s.base, token, stop_writers) for w in range(WRITERS)]
        groups = {g: Group() for g in GROUPS}
        generation = [0]
        consumers = [Consumer(i, g, groups[g], s.base, token, stop_consumers, 1000 + i, generation)
                     for i, g in enumerate(g for g in GROUPS for _ in range(CONSUMERS_PER_GROUP))]
        for t in writers + consumers:
            t.start()
        time.sleep(6)
        generation[0] += 1
        s.kill9()
        time.sleep(0.5)
        s.start()
        time.sleep(4)
        stop_writers.set()
        for w in writers:
            w.join(30)
        rows = {r[0] for r in s.rows("SELECT id FROM ft.s")}
        rows = {int(r) for r in rows}
        acked = set().union(*(w.acked for w in writers))
        unknown = set().union(*(w.unknown for w in writers))
        assert acked <= rows, f"{len(acked - rows)} acknowledged rows lost"
        assert rows <= acked | unknown, "rows nobody wrote"
        want = {str(k) for k in rows}
        deadline = time.time() + 60
        while time.time() < deadline and any(groups[g].keys() != want for g in GROUPS):
            time.sleep(0.2)
        stop_consumers.set()
        for c in consumers:
            c.join(30)
        duplicates = 0
        for g, grp in groups.items():
            got = grp.keys()
            assert got == want, (g, f"missing {len(want - got)}", f"extra {len(got - want)}")
            assert grp.violations == [], grp.violations[:5]
            per_partition = defaultdict(list)
            for (p, offset), ds in grp.deliveries.items():
                assert len({d for d in ds}) == 1, (g, p, offset, ds)  # one message per offset
                duplicates += len(ds) - 1
                per_partition[p].append((offset, ds[0][1]))
            for p, items in per_partition.items():
                items.sort()
                assert [o for o, _ in items] == list(range(len(items))), (g, p, "offsets not dense")
                seqs = [q for _, q in items]
                assert seqs == sorted(seqs), (g, p, "offsets out of _seq order")
        summary(f"topics kill -9: {len(rows)} rows ({len(unknown)} in flight at the kill), "
                f"{len(GROUPS)} groups × {CONSUMERS_PER_GROUP} consumers, every row delivered to "
                f"each group, {duplicates} redeliveries of unacknowledged messages")
    finally:
        s.stop()
