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
from test_cluster import SHARED_ORDINAL, USER_SHARDS, _fnv1a64, _until as until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fault"))
from fault_model import Replica  # noqa: E402

PW = "password123"
COLS = ["id", "v", "_seq"]
GROUP_COLUMNS = [
    "group_id", "cluster_id", "node_id", "group_type", "current_term", "vote", "last_log_index",
    "last_applied", "snapshot", "purged", "committed", "state", "current_leader",
    "millis_since_quorum_ack"]


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
    state = {}

    def same():
        try:
            seen = [table_rows(cluster.nodes[i], table, columns, user, password) for i in alive]
        except AssertionError as e:  # not there yet on a node (the catalog change not applied)
            state["last"] = f"a node refused the read: {e}"
            return None
        if all(s == seen[0] for s in seen):
            return ("rows", seen[0])
        # What differs, for the failure message: per node, the rows count and the ids that are
        # missing or different against the first node.
        state["last"] = [(i, len(s), sorted(k for k in set(s) | set(seen[0])
                                            if s.get(k) != seen[0].get(k))[:10])
                         for i, s in zip(alive, seen)]
        return None
    try:
        return until(same, timeout=timeout, what=f"identical {table} on nodes {alive}")[1]
    except AssertionError as e:
        raise AssertionError(f"{e}; last difference (node, rows, ids differing from node "
                             f"{alive[0]}): {state.get('last')}") from None


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
REFUSED = "but it could not be reached ("  # the request did not run (a NOT_LEADER answer)


class Writer(threading.Thread):
    """Inserts rows (id, v) with ids from `ids` into `table` through the nodes in `targets()`
    (a callable: the nodes to try now, first preferred), the way a client of a failing cluster
    does: a `503 NOT_LEADER` wrote nothing, so the same row is retried (after 20 ms); an answer
    that never came or "outcome unknown" may have written it, so it is counted in `maybe` and the
    writer moves on; a forward the leader's node refused to connect never arrived: retried. `acked` holds (id, time acknowledged, time sent) of every acknowledged row."""

    def __init__(self, cluster, table, ids, targets, user="root", password=ROOT_PASSWORD):
        super().__init__(daemon=True)
        self.cluster, self.table, self.ids, self.targets = cluster, table, ids, targets
        self.user, self.password = user, password
        self.acked, self.maybe, self.other = [], [], []
        self.refused = 0  # forwards refused by a dead leader's node, retried
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
                if r.status_code == 503 and code == NOT_LEADER and \
                        REFUSED in body.get("error", {}).get("message", ""):
                    # Forwarded to a leader that is gone, through every retry of the node: the
                    # request never reached one (docs/cluster.md) and the same row is retried. A
                    # duplicate key on the retry would be a row written after all (`other`).
                    self.refused += 1
                    time.sleep(0.02)
                    continue
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


def setup_lv(c, users=0):
    """Namespace `lv`, SHARED lv.items and USER lv.notes through a meta follower or leader (the
    followers forward), and `users` users chosen so that they cover every user shard. Waits until
    every node can log them in. Returns [(user, shard ordinal)]."""
    n0 = c.nodes[0]
    for g in range(SHARED_ORDINAL + 1):  # every group has a leader every node knows
        wait_leader(c, g)
    n0.sql("CREATE NAMESPACE lv")
    n0.sql("CREATE SHARED TABLE lv.items (id INT PRIMARY KEY, v TEXT)")
    n0.sql("CREATE USER TABLE lv.notes (id INT PRIMARY KEY, v TEXT)")
    chosen, shards, k = [], set(), 0
    while len(chosen) < users:
        name = f"lu{k}"
        k += 1
        shard = 1 + _fnv1a64(name.encode()) % USER_SHARDS  # the user id is the name
        if shard in shards and len(shards) < USER_SHARDS:
            continue  # want every shard covered first
        n0.sql(f"CREATE USER {name} WITH PASSWORD '{PW}' ROLE user")
        shards.add(shard)
        chosen.append((name, shard))
    for node in c.nodes:
        for name, _ in chosen:
            until(lambda: node.http.post(node.base + "/v1/api/auth/login", json={
                "user": name, "password": PW}).status_code == 200,
                what=f"{name} able to log in on {node.port}")
        until(lambda: node.sql_raw("SELECT id FROM lv.items").status_code == 200,
              what="lv.items on every node")
    return chosen


class Load:
    """Writers inserting into SHARED lv.items and each user's lv.notes through every live node
    (`writers_per_table` each), for as long as it runs; `kill_leader` kills -9 the shared shard's
    leader under it and brings it back."""

    def __init__(self, cluster, users, writers_per_table=2):
        self.c, self.users = cluster, users
        self.alive = [0, 1, 2]
        self.lock = threading.Lock()
        self.writers = []
        for w in range(writers_per_table):
            ids = range(w * 10_000_000 + 1, (w + 1) * 10_000_000)
            self.writers.append(Writer(cluster, "lv.items", ids, self.targets))
            for name in users:
                self.writers.append(Writer(cluster, "lv.notes", ids, self.targets, user=name,
                                           password=PW))

    def targets(self):
        with self.lock:
            return list(self.alive)

    def start(self):
        for w in self.writers:
            w.start()
        return self

    def acked(self):
        return sum(len(w.acked) for w in self.writers)

    def kill_leader(self, down_seconds=0.5):
        """Kills -9 the leader of the shared shard, waits for the first acknowledged write of that
        group sent after the kill, restarts the node after `down_seconds`, and waits until every
        node names one leader of every group again. Returns (victim, failover seconds)."""
        victim = wait_leader(self.c, SHARED_ORDINAL)
        with self.lock:
            self.alive.remove(victim)
        killed_at = time.monotonic()
        self.c.nodes[victim].kill9()
        shared = [w for w in self.writers if w.table == "lv.items"]

        def first_ack():
            acks = [t for w in shared for _, t, sent in w.acked[-50:] if sent > killed_at]
            return min(acks) if acks else None
        acked_at = until(first_ack, timeout=30, what="a write acknowledged after the kill",
                         every=0.005)
        time.sleep(down_seconds)
        self.c.nodes[victim].start()
        for g in range(SHARED_ORDINAL + 1):
            wait_leader(self.c, g)
        with self.lock:
            self.alive.append(victim)
        return victim, acked_at - killed_at

    def stop(self):
        for w in self.writers:
            w.stop()


def digest_all(c, users, alive=(0, 1, 2)):
    """Every table's rows (with `_seq`) per node: lv.items, and lv.notes as each user."""
    out = []
    for i in alive:
        d = [table_rows(c.nodes[i], "lv.items", COLS)]
        for name in users:
            d.append(table_rows(c.nodes[i], "lv.notes", COLS, user=name, password=PW))
        out.append(d)
    return out


def check_after(c, load, subs):
    """Stops the load, then: identical rows (with `_seq`) of every table on all three nodes,
    every acknowledged write there, no row a writer never sent, and each subscriber equal to the
    table on its node. Returns the rows by table (lv.items) or user (lv.notes)."""
    load.stop()
    users = load.users
    rows = {"lv.items": same_everywhere(c, "lv.items", COLS, timeout=60)}
    for name in users:
        rows[name] = same_everywhere(c, "lv.notes", COLS, user=name, password=PW, timeout=60)
    digests = digest_all(c, users)
    assert digests[1] == digests[0] and digests[2] == digests[0]
    lost = []
    for w in load.writers:
        got = rows["lv.items"] if w.table == "lv.items" else rows[w.user]
        acked = {rid for rid, _, _ in w.acked}
        assert not w.other, w.other[:3]
        lost += [(w.table, w.user, k) for k in sorted(acked - set(got))]
        # Every row of the writer's range was acknowledged or maybe written, never invented.
        mine = {k for k in got if k in w.ids}
        assert mine <= acked | set(w.maybe), sorted(mine - acked - set(w.maybe))[:10]
    assert lost == [], (f"{len(lost)} acknowledged writes lost: {lost[:10]}; per writer "
                        f"(table, user, acked, maybe): "
                        f"{[(w.table, w.user, len(w.acked), len(w.maybe)) for w in load.writers]}")
    for s, node in subs:
        s.wait_equal(node, timeout=60)
        assert s.errors == [] and s.replica.violations == [], (s.errors, s.replica.violations[:5])
    return rows


def resume_dead(c, subs, victim):
    """[(subscriber, node index)] with each subscriber of the killed node `victim` (its connection
    dead) resumed from its position on the next node."""
    out = []
    for s, i in subs:
        if i != victim:
            assert not s.died, f"a subscriber on node {i} lost its connection"
            out.append((s, i))
            continue
        until(lambda: s.died, timeout=10, what="the killed node's subscriber to notice")
        j = (victim + 1) % 3
        out.append((s.resume(c.nodes[j]), j))
    return out


def subscribe_everywhere(c, user):
    """Subscribers of the SHARED lv.items (root) and of `user`'s lv.notes on every node, each
    started and past its initial data: [(subscriber, node index)]."""
    subs = []
    for i, node in enumerate(c.nodes):
        subs.append((Subscriber(node, "lv.items", COLS), i))
        subs.append((Subscriber(node, "lv.notes", COLS, user=user, password=PW), i))
    for s, _ in subs:
        s.start()
        assert s.ready.wait(10), s.errors
    return subs
