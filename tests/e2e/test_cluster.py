"""Three kalamdb-server processes on 127.0.0.1 as one cluster (docs/cluster.md): DDL through the
meta group's leader, writes on each shard's leader, identical rows on every node, a follower
killed (-9) and brought back, and a minority that refuses writes."""
import http.client
import json
import pathlib
import random
import re
import shutil
import socket
import threading
import time

import pytest

from kalam_harness import DEFAULT_TEST_CONFIG, Server, free_port

USER_SHARDS = 2
GROUPS = USER_SHARDS + 2          # meta, user_0, user_1, shared
SHARED_ORDINAL = 1 + USER_SHARDS  # docs/cluster.md: meta = 0, user shard i = 1 + i, shared = 1 + user_shards
# A statement's failure reads "Statement 1 failed: Execution error: <status message>".
NOT_LEADER_HEAD = "Statement 1 failed: Execution error: Not leader for shard. "
LEADER_RE = re.compile(r"^" + re.escape(NOT_LEADER_HEAD) + r"Leader: 127\.0\.0\.1:(\d+)$")


def _ports_free(base):
    for p in range(base, base + GROUPS):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def _stable_port():
    """A free port above the kernel's ephemeral range (ip_local_port_range), when there is room:
    no outgoing connection can take it while its node is down, so a restarted node can bind it
    again (a kill loop otherwise fails now and then with "Cannot start Raft node …: I/O error")."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            hi = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return free_port()
    if hi + 1 > 65535 - 4 * GROUPS:
        return free_port()
    while True:
        p = random.randint(hi + 1, 65535 - GROUPS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue


def _cluster_bases(n):
    """n base ports, each followed by GROUPS - 1 free ports, the ranges GROUPS apart."""
    bases = []
    while len(bases) < n:
        b = _stable_port()
        if b + GROUPS > 65535 or any(abs(b - o) < GROUPS for o in bases) or not _ports_free(b):
            continue
        bases.append(b)
    return bases


CLUSTER_SECRET = "e2e-cluster-secret-0123456789"


class Cluster:
    def __init__(self, root, forward=False, snapshots=False, extra="", shared_storage=None):
        """forward: list every node's API in cluster.api_peers (followers forward writes) and
        share one JWT secret (a token of one node is valid on the others). snapshots: forward,
        plus cluster.secret, so members fetch each other's snapshot files. extra: more
        [cluster] keys. shared_storage: the directory all three use as
        cluster.shared_storage_dir (the `local` storage)."""
        self._args = (root, forward, snapshots, extra, shared_storage)
        forward = forward or snapshots
        self.bases = _cluster_bases(3)
        peers = ", ".join(f'"{i + 1}=127.0.0.1:{b}"' for i, b in enumerate(self.bases))
        api_ports = []
        while len(api_ports) < 3:  # never inside a node's Raft port range
            p = _stable_port()
            if p not in api_ports and not any(b <= p < b + GROUPS for b in self.bases):
                api_ports.append(p)
        api_peers = ", ".join(f'"{i + 1}=127.0.0.1:{p}"' for i, p in enumerate(api_ports))
        self.nodes = []
        for i in range(3):
            cfg = (DEFAULT_TEST_CONFIG + f"[server]\nnode_id = {i + 1}\n"
                   f"[cluster]\nnode_id = {i + 1}\npeers = [{peers}]\nuser_shards = {USER_SHARDS}\n"
                   "election_timeout_ms = 500\nheartbeat_timeout_ms = 50\n" + extra)
            if snapshots:
                cfg += f'secret = "{CLUSTER_SECRET}"\n'
            if shared_storage is not None:
                cfg += f'shared_storage_dir = "{shared_storage}"\n'
            if forward:
                cfg += (f"api_peers = [{api_peers}]\n"
                        '[auth]\njwt_secret = "cluster-forwarding-test-secret-0123456789abcdef"\n')
            (root / f"n{i + 1}").mkdir()
            self.nodes.append(Server(root / f"n{i + 1}" / "data", port=api_ports[i], config_toml=cfg))

    def node_of_raft_port(self, port, ordinal):
        return self.bases.index(port - ordinal)

    def start(self, attempts=3):
        """Starts the three nodes. The ports were free when picked, but another process on the
        machine may take one before a node binds it: then every node is stopped and the cluster
        is set up again on new ports (only for that bind failure, at most `attempts` times)."""
        for attempt in range(attempts):
            try:
                for n in self.nodes:
                    n.start()
                return self
            except RuntimeError as e:
                if "Cannot start Raft node" not in str(e) or attempt == attempts - 1:
                    raise
                self.stop()
                root = self._args[0]
                for i in range(3):
                    shutil.rmtree(root / f"n{i + 1}")
                self.__init__(*self._args)
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path).start()
    yield c
    c.stop()


def _until(fn, timeout=20.0, what="condition", every=0.1):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


_probes = [0]


def _leader_run(cluster, sql, ordinal, probe, alive=(0, 1, 2)):
    """Runs `sql` on whichever live node leads group `ordinal` (the first that accepts it; the
    others refuse it with nothing written), then checks that every other live node answers 503
    NOT_LEADER naming that node's Raft address of the group to `probe(n)`, a statement of the same
    group that would succeed on its leader. Returns the leader's index."""
    def attempt():
        for i in alive:
            r = cluster.nodes[i].sql_raw(sql)
            body = r.json()
            if r.status_code == 200 and body["status"] == "success":
                return ("leader", i)
            assert r.status_code == 503 and body["error"]["code"] == "NOT_LEADER", body
        return None
    leader = _until(attempt, what=f"a leader of group {ordinal} for {sql!r}")[1]

    def names_leader(i):
        _probes[0] += 1
        r = cluster.nodes[i].sql_raw(probe(_probes[0]))
        body = r.json()
        assert r.status_code == 503 and body["error"]["code"] == "NOT_LEADER", body
        msg = body["error"]["message"]
        if msg == NOT_LEADER_HEAD + "Leader unknown":  # has not heard from it yet
            return None
        m = LEADER_RE.match(msg)
        assert m, msg
        return cluster.node_of_raft_port(int(m.group(1)), ordinal) == leader or None
    for i in alive:
        if i != leader:
            _until(lambda: names_leader(i), what=f"node {i} naming the leader {leader}")
    return leader


def _fnv1a64(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def _rows_everywhere(cluster, sql, alive=(0, 1, 2), timeout=20.0):
    """The rows of `sql` once every live node returns the same ones."""
    def same():
        seen = []
        for i in alive:
            r = cluster.nodes[i].sql_raw(sql)
            if r.status_code != 200:
                return None
            seen.append(r.json()["results"][0].get("rows", []))
        return ("rows", seen[0]) if all(s == seen[0] for s in seen) else None
    return _until(same, timeout=timeout, what=f"identical rows of {sql!r}")[1]


def test_three_nodes_replicate_ddl_and_writes_survive_a_killed_follower(cluster):
    # DDL goes to the meta group's leader; the followers answer NOT_LEADER naming it.
    meta = _leader_run(cluster, "CREATE NAMESPACE c", 0, lambda n: f"CREATE NAMESPACE p{n}")
    for sql in ("CREATE SHARED TABLE c.items (id INT PRIMARY KEY, v TEXT)",
                "CREATE USER TABLE c.notes (id INT PRIMARY KEY, body TEXT)"):
        cluster.nodes[meta].sql(sql)
    # Every node applies the catalog change and serves the tables.
    assert _rows_everywhere(cluster, "SELECT id FROM c.items") == []
    assert _rows_everywhere(cluster, "SELECT id FROM c.notes") == []
    # The statements the followers refused created nothing anywhere.
    assert _rows_everywhere(cluster, "SELECT namespace_id FROM system.namespaces "
                                     "ORDER BY namespace_id") == [["c"], ["default"]]

    # SHARED rows commit on the shared shard's leader, root's USER rows on root's shard's.
    shared = _leader_run(cluster, "INSERT INTO c.items (id, v) VALUES (1, 'a')", SHARED_ORDINAL,
                         lambda n: f"INSERT INTO c.items (id, v) VALUES ({1000 + n}, 'p')")
    for i in range(2, 21):
        cluster.nodes[shared].sql(f"INSERT INTO c.items (id, v) VALUES ({i}, 'v{i}')")
    cluster.nodes[shared].sql("UPDATE c.items SET v = 'b' WHERE id = 1")
    cluster.nodes[shared].sql("DELETE FROM c.items WHERE id = 20")
    # root's rows live in user shard FNV-1a 64("root") % user_shards (ShardRouter::ForUser).
    root_shard = 1 + _fnv1a64(b"root") % USER_SHARDS
    user_leader = _leader_run(cluster, "INSERT INTO c.notes (id, body) VALUES (1, 'n1')", root_shard,
                              lambda n: f"INSERT INTO c.notes (id, body) VALUES ({1000 + n}, 'p')")
    cluster.nodes[user_leader].sql("INSERT INTO c.notes (id, body) VALUES (2, 'n2')")

    expected = [[1, "b"]] + [[i, f"v{i}"] for i in range(2, 20)]
    assert _rows_everywhere(cluster, "SELECT id, v FROM c.items ORDER BY id") == expected
    # The same `_seq`s on every node.
    seqs = _rows_everywhere(cluster, "SELECT id, _seq FROM c.items ORDER BY id")
    assert len(seqs) == 19
    assert _rows_everywhere(cluster, "SELECT id, body FROM c.notes ORDER BY id") == [[1, "n1"], [2, "n2"]]

    # kill -9 a follower of the shared shard: the majority keeps committing.
    follower = next(i for i in range(3) if i != shared)
    cluster.nodes[follower].kill9()
    alive = tuple(i for i in range(3) if i != follower)
    for i in range(21, 41):
        cluster.nodes[shared].sql(f"INSERT INTO c.items (id, v) VALUES ({i}, 'v{i}')")
    expected += [[i, f"v{i}"] for i in range(21, 41)]
    assert _rows_everywhere(cluster, "SELECT id, v FROM c.items ORDER BY id", alive=alive) == expected

    # Back from its data directory, it catches up from the leader's log.
    cluster.nodes[follower].start()
    assert _rows_everywhere(cluster, "SELECT id, v FROM c.items ORDER BY id") == expected
    assert _rows_everywhere(cluster, "SELECT id, _seq FROM c.items ORDER BY id")[:19] == seqs

    # A minority refuses writes: with both other nodes killed, the survivor's shared group steps
    # down and answers NOT_LEADER with no leader known; nothing is written.
    survivor = shared
    for i in range(3):
        if i != survivor:
            cluster.nodes[i].kill9()

    def refused():
        r = cluster.nodes[survivor].sql_raw("INSERT INTO c.items (id, v) VALUES (100, 'x')")
        body = r.json()
        assert r.status_code == 503, body  # never accepted
        if body["error"]["code"] == "NOT_LEADER":
            msg = body["error"]["message"]
            if msg == NOT_LEADER_HEAD + "Leader unknown":
                return msg
            # A follower still naming a (killed) leader until its election timeout; alone, it
            # then stays a candidate that knows no leader.
            assert LEADER_RE.match(msg), body
            return None
        # Before it steps down: the group's entry (or the new term's barrier, when it had just
        # won an election) cannot commit, so its outcome is unknown.
        msg = body["error"]["message"]
        assert (msg.startswith("Statement 1 failed: Execution error: The commit's outcome is unknown (")
                or msg == "Statement 1 failed: Execution error: The Raft barrier's outcome is unknown: "
                          "server has lost leadership"), body
        return None
    assert _until(refused, what="NOT_LEADER on the minority") == NOT_LEADER_HEAD + "Leader unknown"
    # It keeps refusing.
    assert refused() == NOT_LEADER_HEAD + "Leader unknown"
    assert cluster.nodes[survivor].rows("SELECT COUNT(*) FROM c.items WHERE id = 100") == [["0"]]


def _hop(node):
    """Headers of a request that was already forwarded once: never forwarded again."""
    return {"Authorization": f"Bearer {node.token()}", "X-Kalam-Forwarded": "1"}


def _leader_by_hop(cluster, sql, ordinal, alive=(0, 1, 2), idempotent=False):
    """Runs `sql` with the hop header on each live node until one (the leader of group
    `ordinal`) runs it; every other node must answer NOT_LEADER itself (not forward). Returns the
    leader's index. idempotent: `sql` may run twice, so an "outcome unknown" answer (a node that
    lost the leadership it had just won, as during the first elections) is tried again."""
    def attempt():
        for i in alive:
            r = cluster.nodes[i].sql_raw(sql, headers=_hop(cluster.nodes[i]))
            body = r.json()
            if r.status_code == 200 and body["status"] == "success":
                return ("leader", i)
            if idempotent and r.status_code == 503 and body["error"]["code"] == "INTERNAL_ERROR" \
                    and body["error"]["message"].endswith("Check for it before retrying"):
                return None
            assert r.status_code == 503 and body["error"]["code"] == "NOT_LEADER", body
        return None
    return _until(attempt, what=f"a leader of group {ordinal} for {sql!r}")[1]


def _knows_leader(cluster, i, leader, ordinal, probe):
    """Waits until node i names `leader` as the leader of group `ordinal` (a hop-header request:
    answered NOT_LEADER, never forwarded)."""
    def names():
        r = cluster.nodes[i].sql_raw(probe, headers=_hop(cluster.nodes[i]))
        body = r.json()
        assert r.status_code == 503 and body["error"]["code"] == "NOT_LEADER", body
        m = LEADER_RE.match(body["error"]["message"])
        return bool(m) and cluster.node_of_raft_port(int(m.group(1)), ordinal) == leader or None
    _until(names, what=f"node {i} naming the leader {leader} of group {ordinal}")


def _success(r):
    body = r.json()
    assert r.status_code == 200 and body["status"] == "success", body
    assert "X-Kalam-Applied" not in r.headers  # internal: stripped by the forwarding node
    return body


def test_followers_forward_writes_and_read_their_own_writes(tmp_path):
    cluster = Cluster(tmp_path, forward=True).start()
    try:
        # DDL sent to a meta follower runs on the meta leader; the follower answers once its
        # catalog has it, so the very next statement there sees it.
        meta = _leader_by_hop(cluster, "CREATE NAMESPACE warm", 0)
        f = (meta + 1) % 3
        _knows_leader(cluster, f, meta, 0, "CREATE NAMESPACE probe")
        fn = cluster.nodes[f]
        body = _success(fn.sql_raw("CREATE NAMESPACE fw"))
        assert body["results"] == [{"row_count": 0, "message": "Namespace fw created successfully",
                                    "as_user": "root"}], body
        body = _success(fn.sql_raw("CREATE SHARED TABLE fw.items (id INT PRIMARY KEY, v TEXT)"))
        assert body["results"] == [{"row_count": 0, "message": "shared table fw.items created successfully",
                                    "as_user": "root"}], body
        assert fn.rows("SELECT id FROM fw.items") == []
        # The probe (hop header) was refused, not forwarded: nothing created anywhere.
        assert _rows_everywhere(cluster, "SELECT namespace_id FROM system.namespaces "
                                         "ORDER BY namespace_id") == [["default"], ["fw"], ["warm"]]

        # INSERTs sent to a follower of the shared shard; each is visible there at once.
        shared = _leader_by_hop(cluster, "INSERT INTO fw.items (id, v) VALUES (0, 'l')", SHARED_ORDINAL)
        s = (shared + 1) % 3
        _knows_leader(cluster, s, shared, SHARED_ORDINAL,
                      "INSERT INTO fw.items (id, v) VALUES (999, 'p')")
        sn = cluster.nodes[s]
        for i in range(1, 11):
            body = _success(sn.sql_raw(f"INSERT INTO fw.items (id, v) VALUES ({i}, 'v{i}')"))
            assert body["results"] == [{"row_count": 1, "message": "Inserted 1 row(s)", "as_user": "root"}], body
            assert sn.rows("SELECT id FROM fw.items ORDER BY id") == [[k] for k in range(i + 1)]
        expected = [[k] for k in range(11)]
        assert _rows_everywhere(cluster, "SELECT id FROM fw.items ORDER BY id") == expected

        # The leader killed: the follower cannot reach it, so the request never ran there. The
        # follower waits for the new leader and the write succeeds, once, through it (or here).
        cluster.nodes[shared].kill9()
        alive = tuple(i for i in range(3) if i != shared)
        body = _success(sn.sql_raw("INSERT INTO fw.items (id, v) VALUES (100, 'rerouted')"))
        assert body["results"] == [{"row_count": 1, "message": "Inserted 1 row(s)", "as_user": "root"}], body
        assert sn.rows("SELECT id, v FROM fw.items WHERE id >= 100") == [[100, "rerouted"]]
        new = _leader_by_hop(cluster, "INSERT INTO fw.items (id, v) VALUES (101, 'n')",
                             SHARED_ORDINAL, alive=alive)
        assert new in alive
        assert _rows_everywhere(cluster, "SELECT id FROM fw.items WHERE id >= 100 ORDER BY id",
                                alive=alive) == [[100], [101]]

        # The old leader back (a follower now); the new one killed and its API port taken by a
        # listener that reads the request and closes without answering: the forwarded write
        # reached "the leader" but its answer never came, so the outcome is unknown (503, never
        # retried). That listener ran nothing: the row is nowhere.
        cluster.nodes[shared].start()
        f = next(i for i in alive if i != new)
        _knows_leader(cluster, f, new, SHARED_ORDINAL, "INSERT INTO fw.items (id, v) VALUES (999, 'p')")
        cluster.nodes[new].kill9()
        hole = socket.socket()
        hole.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        hole.bind(("127.0.0.1", cluster.nodes[new].port))
        hole.listen(8)

        def swallow():
            conn, _ = hole.accept()
            conn.recv(65536)
            conn.close()
        t = threading.Thread(target=swallow, daemon=True)
        t.start()
        try:
            r = cluster.nodes[f].sql_raw("INSERT INTO fw.items (id, v) VALUES (102, 'lost')")
        finally:
            t.join(timeout=10)
            hole.close()
        body = r.json()
        assert r.status_code == 503, body
        assert body["error"]["code"] == "INTERNAL_ERROR", body
        assert body["error"]["message"].startswith(
            f"Forwarded to the leader (node {new + 1} at 127.0.0.1:{cluster.nodes[new].port}), "
            "but its answer did not arrive (reading response: "), body
        assert body["error"]["message"].endswith("): the outcome of the request is unknown"), body
        survivors = tuple(i for i in range(3) if i != new)
        _leader_by_hop(cluster, "INSERT INTO fw.items (id, v) VALUES (103, 'n')",
                       SHARED_ORDINAL, alive=survivors)
        assert _rows_everywhere(cluster, "SELECT id FROM fw.items WHERE id >= 100 ORDER BY id",
                                alive=survivors) == [[100], [101], [103]]
    finally:
        cluster.stop()


CLUSTER_COLUMNS = [
    "cluster_id", "node_id", "role", "status", "rpc_addr", "api_addr", "is_self", "is_leader",
    "groups_leading", "total_groups", "current_term", "last_applied_log", "leader_last_log_index",
    "snapshot_index", "catchup_progress_pct", "replication_lag", "hostname", "version",
    "memory_mb", "memory_usage_mb", "cpu_usage_percent", "uptime_seconds", "uptime_human", "os",
    "arch"]
GROUP_COLUMNS = [
    "group_id", "cluster_id", "node_id", "group_type", "current_term", "vote", "last_log_index",
    "last_applied", "snapshot", "purged", "committed", "state", "current_leader",
    "millis_since_quorum_ack"]


def _view(node, table, columns):
    r = node.sql_raw(f"SELECT * FROM {table}")
    assert r.status_code == 200, r.text
    return [dict(zip(columns, row)) for row in r.json()["results"][0]["rows"]]


def test_cluster_views_show_every_member_and_every_group_replica(tmp_path):
    """system.cluster and system.cluster_groups on a cluster node come from its running groups:
    every member once, this node's replica of every group, and the same leaders on every node."""
    c = Cluster(tmp_path, forward=True).start()
    try:
        def leaders_agree():
            per_node = []
            for n in c.nodes:
                groups = _view(n, "system.cluster_groups", GROUP_COLUMNS)
                leaders = [g["current_leader"] for g in groups]
                if None in leaders:
                    return None
                per_node.append(leaders)
            return per_node[0] if all(p == per_node[0] for p in per_node) else None
        leaders = [int(x) for x in _until(leaders_agree, what="every node knowing every leader")]
        assert len(leaders) == GROUPS and all(1 <= x <= 3 for x in leaders)

        api = {i + 1: f"127.0.0.1:{n.port}" for i, n in enumerate(c.nodes)}
        for i, n in enumerate(c.nodes):
            me = i + 1
            groups = _view(n, "system.cluster_groups", GROUP_COLUMNS)
            assert [(int(g["group_id"]), g["group_type"]) for g in groups] == [
                (0, "meta"), (1, "user_data"), (2, "user_data"), (3, "shared_data")]
            for g, leader in zip(groups, leaders):
                assert g["cluster_id"] == "kalamdb" and int(g["node_id"]) == me
                assert g["state"] == ("Leader" if leader == me else "Follower"), g
                assert int(g["current_leader"]) == leader
                # Every group has committed at least its leader's first entry; applied never
                # passes committed, which never passes the log.
                assert int(g["current_term"]) >= 1
                assert 1 <= int(g["last_applied"]) <= int(g["committed"]) <= int(g["last_log_index"]), g
                assert (g["snapshot"], g["purged"], g["millis_since_quorum_ack"]) == (None, None, None)

            members = _view(n, "system.cluster", CLUSTER_COLUMNS)
            assert [int(m["node_id"]) for m in members] == [1, 2, 3]
            for m in members:
                nid = int(m["node_id"])
                assert m["cluster_id"] == "kalamdb"
                assert m["rpc_addr"] == f"127.0.0.1:{c.bases[nid - 1]}"
                assert m["api_addr"] == api[nid]
                assert m["is_self"] is (nid == me)
                assert m["is_leader"] is (nid == leaders[0])
                assert m["role"] == ("leader" if nid == leaders[0] else "follower")
                assert m["groups_leading"] == leaders.count(nid)
                assert m["total_groups"] == GROUPS
                if nid == me:
                    assert m["status"] == "active"
                    assert int(m["current_term"]) >= 1 and int(m["last_applied_log"]) >= 1
                    assert int(m["replication_lag"]) >= 0
                    assert m["hostname"] == socket.gethostname() and m["os"] == "linux"
                else:
                    # Known to be up while it leads a group this node follows, or answers a group
                    # this node leads.
                    assert m["status"] == ("active" if nid in leaders or me in leaders else "unknown")
                    assert (m["current_term"], m["last_applied_log"], m["hostname"], m["version"],
                            m["uptime_seconds"]) == (None,) * 5
                    # The per-member figures only the meta leader knows.
                    if me == leaders[0]:
                        last = int(m["leader_last_log_index"])
                        assert last >= 1 and 0 <= int(m["replication_lag"]) <= last, m
                        assert 0 <= int(m["catchup_progress_pct"]) <= 100, m
                    else:
                        assert (m["leader_last_log_index"], m["replication_lag"],
                                m["catchup_progress_pct"]) == (None, None, None), m
    finally:
        c.stop()


def _health(node):
    r = node.http.get(node.base + "/v1/api/cluster/health")
    return r.status_code, r.json()


def _every_leader(c, alive):
    """The leader of every group, once every live node names the same ones."""
    def agree():
        per_node = []
        for i in alive:
            leaders = [g["current_leader"] for g in _view(c.nodes[i], "system.cluster_groups", GROUP_COLUMNS)]
            if None in leaders or any(int(x) - 1 not in alive for x in leaders):
                return None
            per_node.append([int(x) for x in leaders])
        return per_node[0] if all(p == per_node[0] for p in per_node) else None
    return _until(agree, what="every live node knowing the same live leaders")


HEALTH_KEYS = ["status", "version", "build_date", "is_cluster_mode", "cluster_id", "node_id",
               "is_leader", "total_groups", "groups_leading", "current_term", "last_applied",
               "millis_since_quorum_ack", "nodes"]
HEALTH_NODE_KEYS = ["node_id", "role", "status", "api_addr", "is_self", "is_leader",
                    "replication_lag", "catchup_progress_pct"]
RAFT_SERIES = ["kalamdb_raft_applied_index", "kalamdb_raft_apply_failed", "kalamdb_raft_commit_index",
               "kalamdb_raft_is_leader", "kalamdb_raft_last_log_index", "kalamdb_raft_leader_id",
               "kalamdb_raft_proposals_total", "kalamdb_raft_term"]
GROUP_LABELS = ["meta", "user_0", "user_1", "shared"]


def test_cluster_health_and_per_group_metrics_from_the_running_groups(tmp_path):
    """GET /v1/api/cluster/health on every node in the original's shape (docs/reference/http.md:
    healthy / degraded / unhealthy from this node's view), per-group Raft series in /metrics, and
    a killed node shown offline by the nodes that lead a group (the cluster degraded there)."""
    c = Cluster(tmp_path, forward=True).start()
    try:
        leaders = _every_leader(c, (0, 1, 2))
        api = {i + 1: f"127.0.0.1:{n.port}" for i, n in enumerate(c.nodes)}
        for i, n in enumerate(c.nodes):
            me = i + 1
            build = n.http.get(n.base + "/health").json()
            expected = []
            for nid in (1, 2, 3):
                if nid == me:
                    lag, pct, status = 0, None, "active"
                else:
                    lag, pct = (0, 100) if leaders[0] == me else (None, None)
                    status = "active" if nid in leaders or me in leaders else "unknown"
                expected.append({"node_id": nid, "role": "leader" if nid == leaders[0] else "follower",
                                 "status": status, "api_addr": api[nid], "is_self": nid == me,
                                 "is_leader": nid == leaders[0], "replication_lag": lag,
                                 "catchup_progress_pct": pct})

            def settled():  # the start-up entries replicated: every lag 0
                code, h = _health(n)
                return (code, h) if h["nodes"] == expected else None
            code, h = _until(settled, timeout=10, what=f"node {me}'s health naming {expected}")
            assert code == 200, h
            assert list(h) == HEALTH_KEYS
            assert isinstance(h["current_term"], int) and h["current_term"] >= 1, h
            assert isinstance(h["last_applied"], int) and h["last_applied"] >= 1, h
            assert {k: v for k, v in h.items() if k not in ("current_term", "last_applied", "nodes")} == {
                "status": "healthy", "version": build["version"], "build_date": build["build_date"],
                "is_cluster_mode": True, "cluster_id": "kalamdb", "node_id": me,
                "is_leader": leaders[0] == me, "total_groups": GROUPS,
                "groups_leading": leaders.count(me), "millis_since_quorum_ack": None}
            assert [list(x) for x in h["nodes"]] == [HEALTH_NODE_KEYS] * 3
            assert h["nodes"] == expected, h

            # Per-group series, exactly these names, one sample per group.
            text = n.http.get(n.base + "/metrics").text
            samples = {}
            for line in text.splitlines():
                if line.startswith("kalamdb_raft_"):
                    key, value = line.rsplit(" ", 1)
                    samples[key] = float(value)
            assert sorted({k.split("{")[0] for k in samples}) == RAFT_SERIES
            assert sorted(samples) == sorted(f'{s}{{group="{g}"}}' for s in RAFT_SERIES for g in GROUP_LABELS)
            assert [samples[f'kalamdb_raft_is_leader{{group="{g}"}}'] for g in GROUP_LABELS] == \
                [1.0 if x == me else 0.0 for x in leaders]
            assert [samples[f'kalamdb_raft_leader_id{{group="{g}"}}'] for g in GROUP_LABELS] == \
                [float(x) for x in leaders]
            assert [samples[f'kalamdb_raft_apply_failed{{group="{g}"}}'] for g in GROUP_LABELS] == [0.0] * 4
            for g in GROUP_LABELS:
                assert 1 <= samples[f'kalamdb_raft_applied_index{{group="{g}"}}'] <= \
                    samples[f'kalamdb_raft_commit_index{{group="{g}"}}'] <= \
                    samples[f'kalamdb_raft_last_log_index{{group="{g}"}}']
                assert samples[f'kalamdb_raft_term{{group="{g}"}}'] >= 1

        # A DDL (forwarded to the meta leader when needed) counts a proposal on the meta leader.
        meta = leaders[0] - 1
        before = c.nodes[meta].http.get(c.nodes[meta].base + "/metrics").text
        _success(c.nodes[(meta + 1) % 3].sql_raw("CREATE NAMESPACE health_ns"))
        count = lambda t: float(re.search(r'^kalamdb_raft_proposals_total\{group="meta"\} (\S+)$', t, re.M).group(1))
        _until(lambda: count(c.nodes[meta].http.get(c.nodes[meta].base + "/metrics").text) >= count(before) + 1,
               timeout=5, what="the meta proposal counted (views refresh every 10 ms)")

        # Kill a node that does not lead the meta group: the meta leader sees it offline within
        # two election timeouts and answers degraded; a new meta entry leaves it behind.
        k = (meta + 1) % 3
        s = 3 - meta - k
        c.nodes[k].kill9()
        alive = (meta, s)
        leaders = _every_leader(c, alive)
        # Under load the meta leadership may have moved between the survivors meanwhile.
        meta = leaders[0] - 1
        s = 3 - meta - k
        alive = (meta, s)
        _success(c.nodes[meta].sql_raw("CREATE NAMESPACE after_kill"))

        def offline_on(i):
            code, h = _health(c.nodes[i])
            return (code, h) if h["nodes"][k]["status"] == "offline" else None

        def offline_and_behind(i):  # the views refresh every 10 ms: wait for the new entry
            got = offline_on(i)
            return got if got and (got[1]["nodes"][k]["replication_lag"] or 0) >= 1 else None
        code, h = _until(lambda: offline_and_behind(meta), timeout=10,
                         what="the meta leader seeing the killed node offline and behind")
        assert code == 200 and h["status"] == "degraded", h
        dead = h["nodes"][k]
        assert {x: dead[x] for x in ("node_id", "role", "api_addr", "is_self", "is_leader")} == {
            "node_id": k + 1, "role": "follower", "api_addr": api[k + 1], "is_self": False,
            "is_leader": False}
        assert dead["replication_lag"] >= 1 and 0 <= dead["catchup_progress_pct"] < 100, dead
        # The other survivor sees the killed node only through a group it leads.
        if leaders.count(s + 1) > 0:
            code, h = _until(lambda: offline_on(s), what="the other survivor seeing it offline")
            assert code == 200 and h["status"] == "degraded", h
        else:
            code, h = _health(c.nodes[s])
            assert code == 200 and h["status"] == "healthy", h
            assert h["nodes"][k]["status"] == "unknown", h
    finally:
        c.stop()


def test_a_write_without_a_known_leader_waits_one_election_timeout(tmp_path):
    """A write on a node whose groups have no leader (two of three nodes killed: no quorum) waits
    up to one election timeout (500 ms here) for a leader, then answers NOT_LEADER "Leader
    unknown"; its health is unhealthy (503)."""
    c = Cluster(tmp_path, forward=True).start()
    try:
        _every_leader(c, (0, 1, 2))
        meta = _leader_by_hop(c, "CREATE NAMESPACE lw", 0)
        _success(c.nodes[meta].sql_raw("CREATE SHARED TABLE lw.t (id INT PRIMARY KEY)"))
        survivor = (meta + 1) % 3
        _rows_everywhere(c, "SELECT id FROM lw.t")
        c.nodes[survivor].token()
        for i in range(3):
            if i != survivor:
                c.nodes[i].kill9()
        n = c.nodes[survivor]

        def leaderless():
            groups = _view(n, "system.cluster_groups", GROUP_COLUMNS)
            return all(g["current_leader"] is None for g in groups) or None
        _until(leaderless, what="the survivor knowing no leader")
        t0 = time.time()
        r = n.sql_raw("INSERT INTO lw.t (id) VALUES (1)")
        took = time.time() - t0
        body = r.json()
        assert r.status_code == 503, body
        assert body["error"]["code"] == "NOT_LEADER", body
        assert body["error"]["message"] == NOT_LEADER_HEAD + "Leader unknown", body
        assert 0.5 <= took < 3.0, took
        code, h = _health(n)
        assert code == 503 and h["status"] == "unhealthy", h
        assert n.rows("SELECT id FROM lw.t") == []
    finally:
        c.stop()


def _get_raw(node, path, secret=None):
    """GET `path` exactly as given (no client-side dot-segment removal): (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


SNAP = "/v1/api/cluster/snapshots/"


def test_a_node_whose_data_directory_is_lost_rejoins_from_a_snapshot(tmp_path):
    cluster = Cluster(tmp_path, snapshots=True,
                      extra="snapshot_threshold = 64\nsnapshot_trailing = 16\n").start()
    try:
        meta = _leader_by_hop(cluster, "CREATE NAMESPACE IF NOT EXISTS s", 0, idempotent=True)
        cluster.nodes[meta].sql("CREATE SHARED TABLE s.items (id INT PRIMARY KEY, v TEXT)")
        cluster.nodes[meta].sql("CREATE USER TABLE s.notes (id INT PRIMARY KEY, body TEXT)")
        assert _rows_everywhere(cluster, "SELECT id FROM s.items") == []
        assert _rows_everywhere(cluster, "SELECT id FROM s.notes") == []
        shared = _leader_by_hop(cluster, "INSERT INTO s.items (id, v) VALUES (1, 'v1')", SHARED_ORDINAL)
        root_shard = 1 + _fnv1a64(b"root") % USER_SHARDS
        user = _leader_by_hop(cluster, "INSERT INTO s.notes (id, body) VALUES (1, 'n1')", root_shard)
        # One commit (one log entry) per statement: far past the threshold of 64.
        for i in range(2, 201):
            cluster.nodes[shared].sql(f"INSERT INTO s.items (id, v) VALUES ({i}, 'v{i}')")
        for i in range(2, 101):
            cluster.nodes[user].sql(f"INSERT INTO s.notes (id, body) VALUES ({i}, 'n{i}')")
        cluster.nodes[shared].sql("UPDATE s.items SET v = 'changed' WHERE id = 5")
        cluster.nodes[shared].sql("DELETE FROM s.items WHERE id = 6")

        # The route: members only, snapshot file names only, 404 for what the node does not hold.
        leader = cluster.nodes[shared]
        unauth = (401, b'{"error":"UNAUTHORIZED","message":"Snapshot files are only served to '
                       b'cluster members (Authorization: Bearer <cluster.secret>)"}')
        snaps = leader.data_dir / "raft" / "snapshots" / "shared"
        index = _until(lambda: sorted(int(p.name) for p in snaps.iterdir()) if snaps.exists() else None,
                       what="a snapshot of the shared shard on its leader")[-1]
        good = f"{SNAP}shared/{index}/keys.kv"
        assert _get_raw(leader, good) == unauth
        assert _get_raw(leader, good, secret="wrong-secret-0123456789") == unauth
        status, body = _get_raw(leader, good, secret=CLUSTER_SECRET)
        assert status == 200 and body == (snaps / str(index) / "keys.kv").read_bytes()
        bad = (400, b'{"error":"BAD_REQUEST","message":"Invalid snapshot file path"}')
        for path in ("../../../etc/passwd", "shared/../../../../etc/passwd", "shared/%2e%2e/keys.kv",
                     "shared/1/../keys.kv", "/etc/passwd", "shared/1/other.file", "shared/1"):
            assert _get_raw(leader, SNAP + path, secret=CLUSTER_SECRET) == bad, path
        assert _get_raw(leader, f"{SNAP}shared/999999999/keys.kv", secret=CLUSTER_SECRET) == (
            404, b'{"error":"NOT_FOUND","message":"Snapshot file shared/999999999/keys.kv is not '
                 b'on this node"}')

        # A follower of the shared shard (and not root's user shard leader) loses everything.
        victim = next(i for i in range(3) if i not in (shared, user)) if shared != user else \
            next(i for i in range(3) if i != shared)
        alive = tuple(i for i in range(3) if i != victim)
        cluster.nodes[victim].kill9()
        shutil.rmtree(cluster.nodes[victim].data_dir)
        for i in range(201, 301):
            cluster.nodes[shared].sql(f"INSERT INTO s.items (id, v) VALUES ({i}, 'v{i}')")
        for i in range(101, 151):
            cluster.nodes[user].sql(f"INSERT INTO s.notes (id, body) VALUES ({i}, 'n{i}')")
        items = [[i, "changed" if i == 5 else f"v{i}"] for i in range(1, 301) if i != 6]
        notes = [[i, f"n{i}"] for i in range(1, 151)]
        q_items = "SELECT id, v FROM s.items ORDER BY id LIMIT 1000"
        q_notes = "SELECT id, body FROM s.notes ORDER BY id LIMIT 1000"
        assert _rows_everywhere(cluster, q_items, alive=alive) == items
        seqs = _rows_everywhere(cluster, "SELECT id, _seq FROM s.items ORDER BY id LIMIT 1000", alive=alive)

        started = time.time()
        cluster.nodes[victim].start()

        def victim_has_items():
            try:
                r = cluster.nodes[victim].sql_raw(q_items)
            except AssertionError as e:
                # Its login is refused until its meta group has replayed the root user: a node
                # that lost its data serves HTTP before its catalog has caught up.
                assert "Invalid credentials" in str(e), e
                return ("login refused", str(e)[:200])
            if r.status_code != 200:
                return (r.status_code, r.text[:300])
            got = r.json()["results"][0].get("rows", [])
            return got == items or ("missing", [x for x in items if x not in got][:20],
                                    "extra", [x for x in got if x not in items][:20])
        last = None
        deadline = time.time() + 60
        while time.time() < deadline:
            last = victim_has_items()
            if last is True:
                break
            time.sleep(0.2)
        assert last is True, last
        assert _rows_everywhere(cluster, q_items, timeout=60) == items
        assert _rows_everywhere(cluster, q_notes, timeout=60) == notes
        print(f"rejoined with identical rows {time.time() - started:.2f} s after start")
        # No group of the victim stopped applying (an entry ahead of its catalog is held, never
        # failed: docs/cluster.md, Apply path).
        groups = _view(cluster.nodes[victim], "system.cluster_groups", GROUP_COLUMNS)
        assert [(g["group_type"], g["state"]) for g in groups if g["state"] == "Failed"] == [], groups
        assert _rows_everywhere(cluster, "SELECT id, _seq FROM s.items ORDER BY id LIMIT 1000") == seqs
        log = cluster.nodes[victim].log()
        restored = re.search(r"Group shared restored a snapshot at index (\d+)", log)
        assert restored, log
        # Its data directory was deleted: the file it restored came over the route, byte for byte.
        rel = pathlib.Path("raft", "snapshots", "shared", restored.group(1), "keys.kv")
        assert (cluster.nodes[victim].data_dir / rel).read_bytes() == (leader.data_dir / rel).read_bytes()
        # And it keeps replicating.
        cluster.nodes[shared].sql("INSERT INTO s.items (id, v) VALUES (301, 'v301')")
        assert _rows_everywhere(cluster, q_items) == items + [[301, "v301"]]
    finally:
        cluster.stop()

def _job_on_any(cluster, job_id, timeout=30.0):
    """[node index, status, message] of `job_id` once finished on the node that runs it (job
    records are each node's own)."""
    def done():
        for i, n in enumerate(cluster.nodes):
            rows = n.rows(f"SELECT status, message FROM system.jobs WHERE job_id = '{job_id}'")
            if rows and rows[0][0] not in ("queued", "running"):
                return [i] + rows[0]
        return None
    return _until(done, timeout=timeout, what=f"job {job_id} to finish")


FLUSH_STARTED_RE = r"Storage flush started for table '{}'\. Job ID: (FL-\d+)"


def test_shard_leaders_flush_to_shared_storage_and_every_node_reads_the_same_segments(tmp_path):
    shared = tmp_path / "shared_storage"
    cluster = Cluster(tmp_path, forward=True, shared_storage=shared).start()
    try:
        _leader_by_hop(cluster, "CREATE NAMESPACE cold", 0)
        assert _rows_everywhere(cluster, "SELECT namespace_id FROM system.namespaces "
                                         "WHERE namespace_id = 'cold'") == [["cold"]]
        n0 = cluster.nodes[0]
        _success(n0.sql_raw("CREATE SHARED TABLE cold.s (id INT PRIMARY KEY, v TEXT)"))
        _success(n0.sql_raw("CREATE USER TABLE cold.u (id INT PRIMARY KEY, v TEXT)"))
        # Every node knows both tables before any row (a shard entry ahead of a node's catalog
        # stops that replica: docs/cluster.md, known limits).
        for t in ("cold.s", "cold.u"):
            assert _rows_everywhere(cluster, f"SELECT id FROM {t}") == []
        values = ", ".join(f"({i}, 'v{i}')" for i in range(1, 21))
        root_shard = 1 + _fnv1a64(b"root") % USER_SHARDS
        leaders = {"cold.s": _leader_by_hop(cluster, f"INSERT INTO cold.s (id, v) VALUES {values}",
                                            SHARED_ORDINAL),
                   "cold.u": _leader_by_hop(cluster, f"INSERT INTO cold.u (id, v) VALUES {values}",
                                            root_shard)}
        expected = [[i, f"v{i}"] for i in range(1, 21)]
        for t in ("cold.s", "cold.u"):
            assert _rows_everywhere(cluster, f"SELECT id, v FROM {t} ORDER BY id") == expected

        # SHARED: only the shared shard's leader flushes; a follower forwards the statement there
        # (NOT_LEADER), and the job runs on the leader.
        leader = leaders["cold.s"]
        follower = (leader + 1) % 3
        # Asked with the hop header (never forwarded): NOT_LEADER naming the leader.
        _knows_leader(cluster, follower, leader, SHARED_ORDINAL, "STORAGE FLUSH TABLE cold.s")
        msg = _success(cluster.nodes[follower].sql_raw("STORAGE FLUSH TABLE cold.s"))["results"][0]["message"]
        m = re.fullmatch(FLUSH_STARTED_RE.format(re.escape("cold.s")), msg)
        assert m, msg
        ran_on, status, message = _job_on_any(cluster, m.group(1))
        assert (ran_on, status) == (leader, "completed"), message
        assert re.fullmatch(r"Flushed 20 row\(s\) of table 'cold\.s' into 1 segment\(s\), \d+ bytes",
                            message), message

        # USER: every node flushes the scopes of the user shards it leads; root's scope is one
        # node's, the other two (asked first, while the rows are still hot) leave it to that node.
        messages = []
        order = [i for i in range(3) if i != leaders["cold.u"]] + [leaders["cold.u"]]
        for i in order:
            n = cluster.nodes[i]
            msg = n.sql("STORAGE FLUSH TABLE cold.u")["results"][0]["message"]
            m = re.fullmatch(FLUSH_STARTED_RE.format(re.escape("cold.u")), msg)
            assert m, msg
            ran_on, status, message = _job_on_any(cluster, m.group(1))
            assert (ran_on, status) == (i, "completed"), message
            if i == leaders["cold.u"]:
                assert message.startswith("Flushed 20 row(s)"), message
            messages.append(re.sub(r"\d+ bytes", "N bytes", message))
        assert sorted(messages) == [
            "Flushed 0 row(s) of table 'cold.u' into 0 segment(s), N bytes; 1 scope(s) left to "
            "the leaders of their shards"] * 2 + [
            "Flushed 20 row(s) of table 'cold.u' into 1 segment(s), N bytes"], messages

        # Every node installed the same manifests, naming segments in the shared directory.
        manifests = _rows_everywhere(cluster, "SELECT cache_key, manifest_json FROM system.manifest "
                                              "WHERE namespace_id = 'cold' ORDER BY cache_key")
        assert [k for k, _ in manifests] == ["cold:s:shared", "cold:u:root"], manifests
        # One segment each, numbered from the leader's Snowflake generator (unique per node).
        for (key, mj), folder in zip(manifests, (shared / "cold" / "s", shared / "cold" / "u" / "root")):
            segs = (mj if isinstance(mj, dict) else json.loads(mj))["segments"]
            assert len(segs) == 1 and re.fullmatch(r"batch-\d{15,}\.parquet", segs[0]["file"]), mj
            assert (folder / segs[0]["file"]).is_file(), key
        for t in ("cold.s", "cold.u"):
            assert _rows_everywhere(cluster, f"SELECT id, v FROM {t} ORDER BY id") == expected

        # Writes after the flush (an insert, an update and a delete of cold rows) merge with the
        # segments on every node.
        for t in ("cold.s", "cold.u"):
            ln = cluster.nodes[leaders[t]]
            for sql in (f"INSERT INTO {t} (id, v) VALUES (21, 'v21')",
                        f"UPDATE {t} SET v = 'new' WHERE id = 1", f"DELETE FROM {t} WHERE id = 2"):
                r = ln.sql_raw(sql, headers=_hop(ln))
                assert r.status_code == 200 and r.json()["status"] == "success", r.text
        after = [[1, "new"]] + [[i, f"v{i}"] for i in range(3, 22)]
        for t in ("cold.s", "cold.u"):
            assert _rows_everywhere(cluster, f"SELECT id, v FROM {t} ORDER BY id") == after
    finally:
        cluster.stop()


def test_a_cluster_node_refuses_to_flush_into_its_own_data_directory(cluster):
    meta = _leader_run(cluster, "CREATE NAMESPACE nl", 0, lambda k: f"CREATE NAMESPACE nlp{k}")
    cluster.nodes[meta].sql("CREATE SHARED TABLE nl.t (id INT PRIMARY KEY)")
    assert _rows_everywhere(cluster, "SELECT id FROM nl.t") == []
    leader = _leader_run(cluster, "INSERT INTO nl.t (id) VALUES (1)", SHARED_ORDINAL,
                         lambda k: f"INSERT INTO nl.t (id) VALUES ({1000 + k})")
    node = cluster.nodes[leader]
    r = node.sql_raw("STORAGE FLUSH TABLE nl.t")
    body = r.json()
    assert body["status"] == "error", body
    storage_dir = str((node.data_dir / "storage").absolute())
    assert body["error"]["message"] == (
        "Statement 1 failed: Invalid operation: Table 'nl.t' is not flushed: its storage 'local' "
        f"keeps its files in '{storage_dir}', inside this node's data directory, which the other "
        "cluster nodes cannot read. Set cluster.shared_storage_dir to a directory every node "
        "shares, or use an S3 storage (docs/cluster.md, \"Cold tier\")"), body
    assert node.rows("SELECT id FROM nl.t") == [[1]]
    r = node.sql_raw("BACKUP DATABASE TO '/tmp/nope'")
    body = r.json()
    assert body["status"] == "error", body
    assert body["error"]["message"] == (
        "Statement 1 failed: Invalid operation: BACKUP DATABASE does not run on a cluster node yet "
        "(docs/cluster.md, \"Jobs on a cluster node\")"), body
