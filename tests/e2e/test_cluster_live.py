"""Live queries on a three-process cluster (docs/cluster.md, "Live queries"): subscriptions on
every node see the same changes with the same `_seq`s, a client resumes on another node with
`from` and loses and doubles nothing, and a shard leader killed (-9) under a write load loses no
acknowledged write and no live event."""
import time

import pytest

from cluster_live import (subscribe_everywhere, COLS, PW, Load, Subscriber, check_after, resume_dead, same_everywhere,
                          setup_lv, table_rows, until, wait_leader)
from test_cluster import SHARED_ORDINAL, USER_SHARDS, Cluster


@pytest.fixture
def fcluster(tmp_path):
    c = Cluster(tmp_path, forward=True).start()
    yield c
    c.stop()


def test_subscriptions_on_every_node_see_the_same_changes(fcluster):
    c = fcluster
    users = setup_lv(c, users=2)
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
    (name, _), = setup_lv(c, users=1)
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


def test_leader_killed_under_load_loses_no_acknowledged_write_or_event(fcluster, capsys):
    c = fcluster
    users = [n for n, _ in setup_lv(c, users=2)]
    victim = wait_leader(c, SHARED_ORDINAL)
    # Subscribers of the SHARED table and of a user's rows on every node.
    subs = subscribe_everywhere(c, users[0])
    load = Load(c, users).start()
    time.sleep(1.0)
    before = load.acked()
    got_victim, failover = load.kill_leader()
    assert got_victim == victim
    with capsys.disabled():
        print(f"\nfailover of the shared shard (kill -9 of node {victim + 1} -> first "
              f"acknowledged write): {failover * 1000:.0f} ms")
    assert failover < 15
    # The subscribers on the killed node died with it; they resume on a survivor.
    subs = resume_dead(c, subs, victim)
    assert sum(1 for _, i in subs if i == victim) == 0
    time.sleep(1.0)  # writes after the node came back
    assert before > 50 and load.acked() > before + 50, (before, load.acked())
    rows = check_after(c, load, [(s, c.nodes[i]) for s, i in subs])
    assert len(rows["lv.items"]) >= sum(len(w.acked) for w in load.writers if w.table == "lv.items")
    for s, _ in subs:
        s.stop()


def test_resume_on_a_node_still_catching_up_doubles_nothing(fcluster):
    """The client's position comes from a node ahead of the one it resumes on: a follower killed
    while 3000 rows were written, restarted, and subscribed to at once, while it still replays
    them. Before the fix every one of them was delivered a second time (the deterministic form is
    unit_live's ResumeFromASeqThisNodeHasNotAppliedYetSendsNothingTwice)."""
    c = fcluster
    setup_lv(c)
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
