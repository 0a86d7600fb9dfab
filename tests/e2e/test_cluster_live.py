"""Live queries on a three-process cluster (docs/cluster.md, "Live queries"): subscriptions on
every node see the same changes with the same `_seq`s, a client resumes on another node with
`from` and loses and doubles nothing, and a shard leader killed (-9) under a write load loses no
acknowledged write and no live event."""
import threading
import time

import pytest

from cluster_live import (Subscriber, Writer, leader_of, same_everywhere, table_rows, until,
                          wait_leader)
from test_cluster import SHARED_ORDINAL, USER_SHARDS, Cluster, _fnv1a64

PW = "password123"
COLS = ["id", "v", "_seq"]


@pytest.fixture
def fcluster(tmp_path):
    c = Cluster(tmp_path, forward=True).start()
    yield c
    c.stop()


def _setup(c, users=0):
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


def test_subscriptions_on_every_node_see_the_same_changes(fcluster):
    c = fcluster
    users = _setup(c, users=2)
    assert {s for _, s in users} == set(range(1, 1 + USER_SHARDS))
    # One subscription of the SHARED table and one of each user's USER table rows on every node.
    subs = {}
    for i, node in enumerate(c.nodes):
        subs[(i, "root")] = Subscriber(node, "lv.items", COLS)
        for name, _ in users:
            subs[(i, name)] = Subscriber(node, "lv.notes", COLS, user=name, password=PW)
    for s in subs.values():
        s.start()
        assert s.ready.wait(10), s.errors
    # Writes on every node (followers forward): inserts, updates, deletes.
    for k in range(1, 31):
        node = c.nodes[k % 3]
        node.sql(f"INSERT INTO lv.items (id, v) VALUES ({k}, 'i{k}')")
        for name, _ in users:
            node.sql(f"INSERT INTO lv.notes (id, v) VALUES ({k}, '{name}-{k}')", user=name, password=PW)
    for k in range(1, 31, 3):
        node = c.nodes[(k + 1) % 3]
        node.sql(f"UPDATE lv.items SET v = 'u{k}' WHERE id = {k}")
        for name, _ in users:
            node.sql(f"UPDATE lv.notes SET v = '{name}-u{k}' WHERE id = {k}", user=name, password=PW)
    for k in range(2, 31, 5):
        node = c.nodes[(k + 2) % 3]
        node.sql(f"DELETE FROM lv.items WHERE id = {k}")
        for name, _ in users:
            node.sql(f"DELETE FROM lv.notes WHERE id = {k}", user=name, password=PW)

    items = same_everywhere(c, "lv.items", COLS)
    assert sorted(items) == [k for k in range(1, 31) if (k - 2) % 5 != 0]
    assert items[1][1] == "u1" and items[3][1] == "i3"
    notes = {name: same_everywhere(c, "lv.notes", COLS, user=name, password=PW)
             for name, _ in users}
    for name, _ in users:
        assert sorted(notes[name]) == sorted(items)
        assert notes[name][4][1] == f"{name}-u4"
    # Every subscriber's copy equals the table on its node; the events (kind, id, _seq) are the
    # same, in the same order, on every node: 30 inserts, 10 updates, 6 deletes.
    for (i, who), s in subs.items():
        s.wait_equal(c.nodes[i])
    for who in ["root"] + [n for n, _ in users]:
        per_node = [subs[(i, who)].events for i in range(3)]
        assert len(per_node[0]) == 46, per_node[0]
        assert [e[0] for e in per_node[0]].count("delete") == 6
        assert per_node[1] == per_node[0] and per_node[2] == per_node[0], who
    for s in subs.values():
        assert s.errors == [] and s.replica.violations == [], (s.errors, s.replica.violations[:5])
        s.stop()


def test_resume_on_another_node_gets_exactly_the_missed_changes(fcluster):
    c = fcluster
    (name, _), = _setup(c, users=1)
    for k in range(1, 21):
        c.nodes[k % 3].sql(f"INSERT INTO lv.items (id, v) VALUES ({k}, 'i{k}')")
        c.nodes[k % 3].sql(f"INSERT INTO lv.notes (id, v) VALUES ({k}, 'n{k}')", user=name, password=PW)
    same_everywhere(c, "lv.items", COLS)
    a, b = c.nodes[0], c.nodes[1]
    sa = Subscriber(a, "lv.items", COLS)
    na = Subscriber(a, "lv.notes", COLS, user=name, password=PW)
    for s in (sa, na):
        s.start()
        assert s.ready.wait(10), s.errors
    c.nodes[2].sql("INSERT INTO lv.items (id, v) VALUES (21, 'i21')")
    c.nodes[2].sql("INSERT INTO lv.notes (id, v) VALUES (21, 'n21')", user=name, password=PW)
    sa.wait_equal(a)
    na.wait_equal(a)
    last_items, last_notes = sa.position(), na.position()
    before_items, before_notes = sa.copy(), na.copy()
    sa.stop(cut=True)
    na.stop(cut=True)

    # Missed meanwhile: inserts, updates, deletes of rows the client had, through every node.
    for k in range(22, 32):
        c.nodes[k % 3].sql(f"INSERT INTO lv.items (id, v) VALUES ({k}, 'i{k}')")
        c.nodes[k % 3].sql(f"INSERT INTO lv.notes (id, v) VALUES ({k}, 'n{k}')", user=name, password=PW)
    for k in (3, 7, 21):
        c.nodes[k % 3].sql(f"UPDATE lv.items SET v = 'u{k}' WHERE id = {k}")
        c.nodes[k % 3].sql(f"UPDATE lv.notes SET v = 'u{k}' WHERE id = {k}", user=name, password=PW)
    for k in (5, 11):
        c.nodes[k % 3].sql(f"DELETE FROM lv.items WHERE id = {k}")
        c.nodes[k % 3].sql(f"DELETE FROM lv.notes WHERE id = {k}", user=name, password=PW)
    items = same_everywhere(c, "lv.items", COLS)
    same_everywhere(c, "lv.notes", COLS, user=name, password=PW)

    rb = sa.resume(b)
    nb = na.resume(b, sid="n")
    for s, last, before in ((rb, last_items, before_items), (nb, last_notes, before_notes)):
        assert s.ready.wait(10), s.errors
        want = s.wait_equal(b)
        # Exactly the missed changes: the rows whose latest version is newer than the position,
        # then the two deletes, each once, every `_seq` above the position.
        missed = sorted(r for r in want.values() if r[2] > last)
        assert sorted(s.resumed_rows) == missed
        assert [r[0] for r in missed] == [3, 7, 21] + list(range(22, 32))
        assert sorted((k, i) for k, i, _ in s.events) == [("delete", 5), ("delete", 11)]
        assert all(seq > last for _, _, seq in s.events)
        assert set(before) - set(want) == {5, 11}
        assert s.errors == [] and s.replica.violations == [], (s.errors, s.replica.violations[:5])
    # Live after the resume, still on B.
    c.nodes[2].sql("INSERT INTO lv.items (id, v) VALUES (40, 'i40')")
    want = rb.wait_equal(b)
    assert want[40][1] == "i40" and rb.events[-1][:2] == ("insert", 40)
    rb.stop()
    nb.stop()


def _digest_all(c, users, alive):
    """Every table's rows (with `_seq`) per node: lv.items, and lv.notes as each user."""
    out = []
    for i in alive:
        d = [table_rows(c.nodes[i], "lv.items", COLS)]
        for name in users:
            d.append(table_rows(c.nodes[i], "lv.notes", COLS, user=name, password=PW))
        out.append(d)
    return out


def kill_leader_under_load(c, users, writers_per_table=2, base=0):
    """One round: starts writers (SHARED lv.items and each user's lv.notes, through every live
    node), kills -9 the leader of the shared shard, measures the time from the kill to the first
    acknowledged write of that group sent after it, restarts the node. Returns
    (victim, failover seconds, writers)."""
    alive = [0, 1, 2]
    lock = threading.Lock()

    def targets():
        with lock:
            return list(alive)
    writers = []
    for w in range(writers_per_table):
        ids = range(base + w * 100000 + 1, base + (w + 1) * 100000)
        writers.append(Writer(c, "lv.items", ids, targets))
        for name in users:
            writers.append(Writer(c, "lv.notes", ids, targets, user=name, password=PW))
    victim = wait_leader(c, SHARED_ORDINAL)
    for w in writers:
        w.start()
    time.sleep(1.0)
    with lock:
        alive.remove(victim)
    killed_at = time.monotonic()
    c.nodes[victim].kill9()
    shared_writers = [w for w in writers if w.table == "lv.items"]

    def first_ack():
        acks = [t for w in shared_writers for _, t, sent in list(w.acked) if sent > killed_at]
        return min(acks) if acks else None
    acked_at = until(first_ack, timeout=30, what="a write acknowledged after the kill", every=0.01)
    failover = acked_at - killed_at
    time.sleep(0.5)
    c.nodes[victim].start()
    with lock:
        alive.append(victim)
    time.sleep(0.5)
    return victim, failover, writers


def check_after(c, users, writers, subs):
    """Every acknowledged write on all three, nothing never sent, every maybe-written row at most
    once, identical rows on every node, and each subscriber (resumed on a survivor if its node
    died) equal to the table."""
    for w in writers:
        w.stop()
    rows = {"lv.items": same_everywhere(c, "lv.items", COLS, timeout=60)}
    for name in users:
        rows[name] = same_everywhere(c, "lv.notes", COLS, user=name, password=PW, timeout=60)
    digests = until(lambda: (lambda d: d if all(x == d[0] for x in d) else None)(
        _digest_all(c, users, (0, 1, 2))), what="identical digests")
    assert len(digests) == 3
    lost = []
    for w in writers:
        got = rows["lv.items"] if w.table == "lv.items" else rows[w.user]
        acked = {rid for rid, _, _ in w.acked}
        assert not w.other, w.other[:3]
        lost += [(w.table, w.user, k) for k in sorted(acked - set(got))]
        # Every row of the writer's range was acknowledged or maybe-written, never invented.
        mine = {k for k in got if k in w.ids}
        assert mine <= acked | set(w.maybe), sorted(mine - acked - set(w.maybe))[:10]
    assert lost == [], (f"{len(lost)} acknowledged writes lost: {lost[:10]}; per writer "
                        f"(table, user, acked, maybe, rows): "
                        f"{[(w.table, w.user, len(w.acked), len(w.maybe)) for w in writers]} "
                        f"{[(k, len(v)) for k, v in rows.items()]}")
    for s, node in subs:
        s.wait_equal(node, timeout=60)
        assert s.errors == [] and s.replica.violations == [], (s.errors, s.replica.violations[:5])
    return rows


def test_leader_killed_under_load_loses_no_acknowledged_write_or_event(fcluster, capsys):
    c = fcluster
    users = [n for n, _ in _setup(c, users=2)]
    victim = wait_leader(c, SHARED_ORDINAL)
    # Subscribers of the SHARED table and of a user's rows on every node.
    subs = {}
    for i, node in enumerate(c.nodes):
        subs[(i, "items")] = Subscriber(node, "lv.items", COLS)
        subs[(i, "notes")] = Subscriber(node, "lv.notes", COLS, user=users[0], password=PW)
    for s in subs.values():
        s.start()
        assert s.ready.wait(10), s.errors
    got_victim, failover, writers = kill_leader_under_load(c, users)
    assert got_victim == victim
    with capsys.disabled():
        print(f"\nfailover of the shared shard (kill -9 of node {victim + 1} -> first "
              f"acknowledged write): {failover * 1000:.0f} ms")
    assert failover < 15
    # The subscribers on the killed node died with it; they resume on a survivor.
    survivor = (victim + 1) % 3
    final = []
    for (i, t), s in subs.items():
        if i == victim:
            until(lambda: s.died, timeout=10, what="the killed node's subscriber to notice")
            final.append((s.resume(c.nodes[survivor]), c.nodes[survivor]))
        else:
            assert not s.died
            final.append((s, c.nodes[i]))
    # Some writes went through before and after the kill.
    time.sleep(1.0)
    rows = check_after(c, users, writers, final)
    n_acked = sum(len(w.acked) for w in writers)
    assert n_acked > 50, n_acked
    assert len(rows["lv.items"]) >= sum(len(w.acked) for w in writers if w.table == "lv.items")
    # The new leader is another node, and the old one came back as a follower with the same rows.
    assert leader_of(c, SHARED_ORDINAL) is not None
    for s, _ in final:
        s.stop()


def test_resume_on_a_node_still_catching_up_doubles_nothing(fcluster):
    """The client's position comes from a node ahead of the one it resumes on: a follower killed
    while 3000 rows were written, restarted, and subscribed to at once, while it still replays
    them. Before the fix every one of them was delivered a second time (the deterministic form is
    unit_live's ResumeFromASeqThisNodeHasNotAppliedYetSendsNothingTwice)."""
    c = fcluster
    _setup(c)
    leader = wait_leader(c, SHARED_ORDINAL)
    behind = (leader + 1) % 3
    s = Subscriber(c.nodes[leader], "lv.items", COLS)
    s.start()
    assert s.ready.wait(10), s.errors
    c.nodes[behind].kill9()
    for base in range(0, 3000, 500):
        vals = ", ".join(f"({k}, 'v{k}')" for k in range(base, base + 500))
        c.nodes[leader].sql(f"INSERT INTO lv.items (id, v) VALUES {vals}")
    until(lambda: len(s.copy()) == 3000, what="3000 rows at the subscriber")
    s.stop(cut=True)
    c.nodes[behind].start()
    r = s.resume(c.nodes[behind])
    assert r.ready.wait(10), r.errors
    r.wait_equal(c.nodes[behind])
    c.nodes[leader].sql("INSERT INTO lv.items (id, v) VALUES (5000, 'last')")
    until(lambda: 5000 in table_rows(c.nodes[behind], "lv.items", COLS), what="row 5000 there")
    want = r.wait_equal(c.nodes[behind])
    assert len(want) == 3001
    assert r.events == [("insert", 5000, want[5000][2])]
    assert r.resumed_rows == []
    assert r.errors == [] and r.replica.violations == [], (r.errors, r.replica.violations[:3])
    r.stop()
