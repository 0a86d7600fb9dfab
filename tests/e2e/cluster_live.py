"""Helpers of the cluster live-query and failover tests (test_cluster_live.py, and the long form
in tests/fault/test_cluster_failover.py): a live subscriber in its own thread that keeps a copy
of its query's rows (fault_model.Replica: every `_seq` delivered once, in increasing order), a
writer that retries the way a client of a failing cluster must, the leader of a group, and the
rows of every node to compare."""
import sys
import threading
import time
from pathlib import Path

import requests
from websockets.exceptions import ConnectionClosed

from kalam_harness import ROOT_PASSWORD
from live_client import LiveClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fault"))
from fault_model import Replica  # noqa: E402

GROUP_COLUMNS = [
    "group_id", "cluster_id", "node_id", "group_type", "current_term", "vote", "last_log_index",
    "last_applied", "snapshot", "purged", "committed", "state", "current_leader",
    "millis_since_quorum_ack"]


def until(fn, timeout=20.0, what="condition", every=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def leader_of(cluster, ordinal, alive=(0, 1, 2)):
    """The index of the node all live nodes name as the leader of group `ordinal` in
    system.cluster_groups (a node leading it itself says so), or None while they disagree."""
    seen = set()
    for i in alive:
        r = cluster.nodes[i].sql_raw(f"SELECT state, current_leader FROM system.cluster_groups "
                                     f"WHERE group_id = {ordinal}")
        if r.status_code != 200:
            return None
        rows = r.json()["results"][0].get("rows", [])
        if len(rows) != 1 or rows[0][1] is None:
            return None
        seen.add(int(rows[0][1]) - 1)
    if len(seen) != 1:
        return None
    leader = seen.pop()
    return leader if leader in alive else None


def wait_leader(cluster, ordinal, alive=(0, 1, 2), timeout=30.0):
    def known():
        leader = leader_of(cluster, ordinal, alive)
        return None if leader is None else ("leader", leader)
    return until(known, timeout=timeout,
                 what=f"one leader of group {ordinal} named by nodes {alive}", every=0.05)[1]


def norm_row(row, columns):
    """A delivered (object) or HTTP (array) row as a tuple of the columns, ints as ints."""
    vals = [row.get(c) for c in columns] if isinstance(row, dict) else list(row)
    out = []
    for c, v in zip(columns, vals):
        out.append(int(v) if c in ("id", "_seq") and v is not None else v)
    return tuple(out)


def table_rows(node, table, columns, user="root", password=ROOT_PASSWORD):
    """{id: row tuple} of `table` on `node` as `user` (a USER table: that user's rows)."""
    out, after = {}, None
    while True:  # pages of 1000 (limits.max_query_limit), by primary key
        where = "" if after is None else f" WHERE id > {after}"
        r = node.sql_raw(f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY id LIMIT 1000",
                         user=user, password=password)
        assert r.status_code == 200, r.text
        rows = r.json()["results"][0].get("rows", [])
        out.update((int(row[0]), norm_row(row, columns)) for row in rows)
        if len(rows) < 1000:
            return out
        after = int(rows[-1][0])


def same_everywhere(cluster, table, columns, user="root", password=ROOT_PASSWORD,
                    alive=(0, 1, 2), timeout=30.0):
    """The rows of `table` once every live node holds exactly the same ones (with `_seq`)."""
    def same():
        try:
            seen = [table_rows(cluster.nodes[i], table, columns, user, password) for i in alive]
        except AssertionError:  # not there yet on a node (the catalog change not applied)
            return None
        return ("rows", seen[0]) if all(s == seen[0] for s in seen) else None
    return until(same, timeout=timeout, what=f"identical {table} on nodes {alive}")[1]


class Subscriber(threading.Thread):
    """A live subscription on one node, read in its own thread (pinging every second so the
    server's heartbeat timeout never closes it), feeding a Replica. `events` lists every change
    as (kind, id, _seq) in arrival order. Ends when stopped or when its node's connection dies
    (`died`); `resume(node)` starts a new one on another node from the replica's position."""

    def __init__(self, node, table, columns, user="root", password=ROOT_PASSWORD, sid="s",
                 replica=None, from_seq=None):
        super().__init__(daemon=True)
        self.node, self.table, self.columns = node, table, columns
        self.user, self.password, self.sid = user, password, sid
        self.replica = replica or Replica()
        self.from_seq = from_seq
        self.events = []
        self.resumed_rows = []  # rows of the initial batches (a resume's missed rows)
        self.errors = []
        self.died = False
        self.ready = threading.Event()
        self.stop_ev = threading.Event()
        self.lock = threading.Lock()
        self.client = LiveClient(node, user=user, password=password)
        options = {} if from_seq is None else {"from": from_seq, "batch_size": 100}
        self.replica.new_subscription()
        sql = f"SELECT {', '.join(c for c in columns if c != '_seq')} FROM {table}"
        self.client.subscribe(sid, sql, options)

    def _handle(self, m):
        t = m.get("type")
        with self.lock:
            if t == "subscription_ack":
                return
            if t == "initial_data_batch":
                self.replica.on_batch(m)
                self.resumed_rows.extend(norm_row(r, self.columns) for r in m["rows"])
                if m["batch_control"]["has_more"]:
                    self.client.send({"type": "next_batch", "subscription_id": self.sid,
                                      "last_seq_id": m["batch_control"]["last_seq_id"]})
                else:
                    self.ready.set()
                return
            if t == "change":
                self.replica.on_change(m)
                kind = m["change_type"]
                row = m["old_values"][0] if kind == "delete" else m["rows"][0]
                self.events.append((kind, int(row["id"]), int(row["_seq"])))
                return
            if t == "pong":
                return
            self.errors.append(m)

    def run(self):
        last_ping = time.monotonic()
        while not self.stop_ev.is_set():
            if time.monotonic() - last_ping > 1.0:
                try:
                    self.client.send({"type": "ping"})
                except (ConnectionClosed, OSError):
                    self.died = True
                    return
                last_ping = time.monotonic()
            try:
                m = self.client.recv(timeout=0.2)
            except TimeoutError:
                continue
            except (ConnectionClosed, OSError, EOFError):
                self.died = True
                return
            self._handle(m)

    def copy(self):
        """{id: row tuple} the subscriber holds."""
        with self.lock:
            return {int(pk): norm_row(r, self.columns) for pk, r in self.replica.rows.items()}

    def position(self):
        with self.lock:
            return self.replica.position

    def stop(self, cut=False):
        self.stop_ev.set()
        self.join(timeout=10)
        if cut:
            self.client.cut()
        else:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - the node may be dead already
                pass

    def resume(self, node, sid=None):
        """A new subscription on `node` from this one's position, sharing the replica."""
        s = Subscriber(node, self.table, self.columns, self.user, self.password,
                       sid or self.sid, replica=self.replica, from_seq=self.position() or 0)
        s.start()
        return s

    def wait_equal(self, node, timeout=30.0):
        """Waits until the copy equals the table on `node`; returns it."""
        def equal():
            want = table_rows(node, self.table, self.columns, self.user, self.password)
            return ("rows", want) if self.copy() == want else None
        try:
            return until(equal, timeout=timeout, what=f"subscriber of {self.table} equal to the table")[1]
        except AssertionError:
            want = table_rows(node, self.table, self.columns, self.user, self.password)
            raise AssertionError(f"{self.table} as {self.user}: " + "; ".join(self.replica.diff(
                {k: dict(zip(self.columns, v)) for k, v in want.items()}))) from None


NOT_LEADER = "NOT_LEADER"


class Writer(threading.Thread):
    """Inserts rows (id, v) with ids from `ids` into `table` through the nodes in `targets()`
    (a callable: the nodes to try now, first preferred), the way a client of a failing cluster
    does: a `503 NOT_LEADER` wrote nothing, so the same row is retried (after 20 ms); an answer
    that never came or "outcome unknown" may have written it, so it is counted in `maybe` and the
    writer moves on. `acked` holds (id, time acknowledged, time sent) of every acknowledged row."""

    def __init__(self, cluster, table, ids, targets, user="root", password=ROOT_PASSWORD):
        super().__init__(daemon=True)
        self.cluster, self.table, self.ids, self.targets = cluster, table, ids, targets
        self.user, self.password = user, password
        self.acked, self.maybe, self.other = [], [], []
        self.stop_ev = threading.Event()
        self.sessions = {}

    def _post(self, i, sql):
        node = self.cluster.nodes[i]
        s = self.sessions.setdefault(i, requests.Session())
        h = {"Authorization": f"Bearer {node.token(self.user, self.password)}"}
        return s.post(node.base + "/v1/api/sql", json={"sql": sql}, headers=h, timeout=30)

    def run(self):
        for rid in self.ids:
            if self.stop_ev.is_set():
                return
            sql = f"INSERT INTO {self.table} (id, v) VALUES ({rid}, 'w{rid}')"
            while not self.stop_ev.is_set():
                nodes = self.targets()
                if not nodes:
                    time.sleep(0.02)
                    continue
                i = nodes[rid % len(nodes)]
                sent = time.monotonic()
                try:
                    r = self._post(i, sql)
                except requests.RequestException as e:
                    self.sessions.pop(i, None)
                    if isinstance(e, requests.ConnectionError) and "refused" in str(e).lower():
                        time.sleep(0.02)  # never reached the node: nothing written
                        continue
                    self.maybe.append(rid)
                    break
                try:
                    body = r.json()
                except ValueError:
                    self.maybe.append(rid)
                    break
                if r.status_code == 200 and body.get("status") == "success":
                    self.acked.append((rid, time.monotonic(), sent))
                    break
                code = body.get("error", {}).get("code")
                if r.status_code == 503 and code == NOT_LEADER:
                    time.sleep(0.02)
                    continue
                if r.status_code == 503:
                    self.maybe.append(rid)  # outcome unknown, answer lost
                    break
                self.other.append((rid, r.status_code, body))
                break

    def stop(self):
        self.stop_ev.set()
        self.join(timeout=60)
