"""One order per live subscription (PROTOCOL §4, "Ours"): every row and event a subscription
delivers — snapshot rows, resume rows, the deletes a resume replays, live changes — has a larger
`_seq` than everything delivered before it, and `batch_control.last_seq_id` never names a `_seq`
the client has not been sent. So a client that keeps only the largest `_seq` it received, and
resubscribes with `from` = that value after a cut at any message boundary, ends with exactly the
table's rows, with no event twice."""
import random
import threading
import time

import pytest
import requests

from kalam_harness import DEFAULT_TEST_CONFIG, serve
from live_client import LiveClient

PASSWORD = "password123"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # 0 = no per-user limit (also what test_zero_subscriptions_per_user_means_unlimited checks).
    config = DEFAULT_TEST_CONFIG + "max_subscriptions_per_user = 0\n"
    yield from serve(tmp_path_factory, config_toml=config)


def seq_of(message):
    """The `_seq` a change event delivers."""
    row = (message.get("rows") or message.get("old_values"))[0]
    return int(row["_seq"])


def read_resume(c, sid):
    """After a subscribe with options: every message up to the `ready` batch (next_batch sent
    after each batch with more), then whatever follows within 0.3 s. In arrival order."""
    out = [c.recv()]
    assert out[0]["type"] == "subscription_ack", out[0]
    while True:
        m = c.recv()
        out.append(m)
        if m["type"] == "initial_data_batch":
            if not m["batch_control"]["has_more"]:
                break
            c.send({"type": "next_batch", "subscription_id": sid,
                    "last_seq_id": m["batch_control"]["last_seq_id"]})
    while True:
        try:
            out.append(c.recv(timeout=0.3))
        except TimeoutError:
            return out


def test_resume_delivers_gap_deletes_at_their_place_in_seq_order(server, ns):
    t = f"{ns}.gap"
    server.sql(f"CREATE USER TABLE {t} (id INT PRIMARY KEY, v INT)")
    server.sql(f"INSERT INTO {t} (id, v) VALUES (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)")
    from_seq = max(int(r[0]) for r in server.rows(f"SELECT _seq FROM {t}"))
    server.sql(f"DELETE FROM {t} WHERE id = 2")
    server.sql(f"INSERT INTO {t} (id, v) VALUES (6, 6)")
    server.sql(f"UPDATE {t} SET v = 30 WHERE id = 3")
    server.sql(f"DELETE FROM {t} WHERE id = 4")
    server.sql(f"INSERT INTO {t} (id, v) VALUES (7, 7)")
    c = LiveClient(server)
    c.subscribe("m", f"SELECT * FROM {t}", {"from": from_seq, "batch_size": 100})
    messages = read_resume(c, "m")
    c.close()
    delivered, max_seq, order = [], from_seq, []
    for m in messages:
        if m["type"] == "subscription_ack":
            assert m["batch_control"]["last_seq_id"] is None, m  # nothing delivered yet
            continue
        if m["type"] == "initial_data_batch":
            for r in m["rows"]:
                delivered.append(int(r["_seq"]))
                order.append(("row", r["id"]))
                max_seq = max(max_seq, int(r["_seq"]))
            lsi = m["batch_control"]["last_seq_id"]
            assert lsi is None or lsi <= max_seq, (lsi, max_seq, m)
        else:
            assert m["type"] == "change" and m["change_type"] == "delete", m
            delivered.append(seq_of(m))
            order.append(("delete", m["old_values"][0]["id"]))
            max_seq = max(max_seq, seq_of(m))
    assert all(a < b for a, b in zip(delivered, delivered[1:])), (delivered, messages)
    assert order == [("delete", 2), ("row", 6), ("row", 3), ("delete", 4), ("row", 7)], order
    assert messages[-1]["type"] == "initial_data_batch"
    assert messages[-1]["batch_control"]["status"] == "ready"


def test_changes_only_ack_names_the_read_point_and_resumes_from_it(server, ns):
    t = f"{ns}.co"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, v INT)")
    server.sql(f"INSERT INTO {t} (id, v) VALUES (1, 1)")
    before = int(server.rows(f"SELECT _seq FROM {t} WHERE id = 1")[0][0])
    c = LiveClient(server)
    c.subscribe("m", f"SELECT * FROM {t}")
    ack = c.recv()
    assert ack["type"] == "subscription_ack", ack
    lsi = ack["batch_control"]["last_seq_id"]
    assert isinstance(lsi, int), ack
    assert ack["batch_control"]["status"] == "ready" and ack["batch_control"]["has_more"] is False
    c.cut()  # right after the ack
    server.sql(f"INSERT INTO {t} (id, v) VALUES (2, 2)")
    after = int(server.rows(f"SELECT _seq FROM {t} WHERE id = 2")[0][0])
    assert before <= lsi < after, (before, lsi, after)
    # Resuming from the ack's position gives exactly what was committed since.
    c = LiveClient(server)
    c.subscribe("m", f"SELECT * FROM {t}", {"from": lsi})
    got = read_resume(c, "m")
    c.close()
    rows = [r["id"] for m in got if m["type"] == "initial_data_batch" for r in m["rows"]]
    assert rows == [2] and [m["type"] for m in got][-1] == "initial_data_batch", got


def test_snapshot_and_last_rows_name_only_delivered_positions_then_changes_follow(server, ns):
    t = f"{ns}.snap"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, v INT)")
    server.sql(f"INSERT INTO {t} (id, v) VALUES " + ", ".join(f"({i}, {i})" for i in range(7)))
    server.sql(f"DELETE FROM {t} WHERE id = 3")
    # (Row 0's update in the first round makes it the newest row in the second.)
    for options, ids in [({"batch_size": 2}, [0, 1, 2, 4, 5, 6]), ({"last_rows": 3}, [5, 6, 0])]:
        c = LiveClient(server)
        c.subscribe("m", f"SELECT * FROM {t}", options)
        ack = c.recv()
        assert ack["type"] == "subscription_ack" and ack["batch_control"]["last_seq_id"] is None
        m = c.recv()
        # A change committed while the snapshot loads: after the ready batch, above every row.
        server.sql(f"UPDATE {t} SET v = v + 100 WHERE id = 0")
        messages = [m]
        while m["type"] != "initial_data_batch" or m["batch_control"]["has_more"]:
            if m["type"] == "initial_data_batch":
                c.send({"type": "next_batch", "subscription_id": "m",
                        "last_seq_id": m["batch_control"]["last_seq_id"]})
            m = c.recv()
            messages.append(m)
        messages.append(c.recv())
        c.close()
        seqs, got = [], []
        for m in messages[:-1]:
            assert m["type"] == "initial_data_batch", m
            seqs += [int(r["_seq"]) for r in m["rows"]]
            got += [r["id"] for r in m["rows"]]
            assert m["batch_control"]["last_seq_id"] == seqs[-1], (m, seqs)
        assert got == ids, (options, got)
        change = messages[-1]
        assert change["type"] == "change" and change["rows"][0]["id"] == 0, change
        seqs.append(seq_of(change))
        assert all(a < b for a, b in zip(seqs, seqs[1:])), (options, seqs)


def test_zero_subscriptions_per_user_means_unlimited(server, ns):
    t = f"{ns}.many"
    server.sql(f"CREATE USER TABLE {t} (id INT PRIMARY KEY)")
    server.create_user("lq_unl", PASSWORD)
    clients = [LiveClient(server, "lq_unl", PASSWORD) for _ in range(2)]
    for i in range(30):  # 15 per connection, 30 for the user
        ack, _ = clients[i % 2].subscribe_ready(f"s{i}", f"SELECT * FROM {t}")
        assert ack["subscription_id"] == f"s{i}", ack
    server.sql(f"INSERT INTO {t} (id) VALUES (1)", user="lq_unl", password=PASSWORD)
    for c in clients:
        assert len(c.changes(15)) == 15
        c.close()


class Writer(threading.Thread):
    """Inserts, updates and deletes its own keys over HTTP as `user` until stopped."""

    def __init__(self, server, token, table, keys, seed):
        super().__init__(daemon=True)
        self.url = server.base + "/v1/api/sql"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.table, self.keys, self.rng = table, keys, random.Random(seed)
        self.stop = threading.Event()
        self.present = set()
        self.ops = 0
        self.error = None

    def run(self):
        http = requests.Session()
        try:
            while not self.stop.is_set():
                k = self.rng.choice(self.keys)
                v = self.rng.randrange(100)
                if k not in self.present:
                    sql = f"INSERT INTO {self.table} (id, v, note) VALUES ({k}, {v}, 'n{v}')"
                    self.present.add(k)
                elif self.rng.random() < 0.65:
                    sql = f"UPDATE {self.table} SET v = {v}, note = 'u{v}' WHERE id = {k}"
                else:
                    sql = f"DELETE FROM {self.table} WHERE id = {k}"
                    self.present.discard(k)
                r = http.post(self.url, json={"sql": sql}, headers=self.headers, timeout=30)
                assert r.status_code == 200, (sql, r.text)
                self.ops += 1
                time.sleep(0.002)
        except Exception as e:  # reported by the test
            self.error = e


class Mirror:
    """The simplest correct client: a copy of the subscription's rows built from what it
    receives, and one position, the largest `_seq` received. Checks as it goes that every `_seq`
    is larger than the position (so none twice, none out of order), that no (pk, _seq) comes
    twice, and that last_seq_id names only what was delivered."""

    def __init__(self):
        self.rows = {}  # id → {"v":…, "note":…}
        self.position = None  # None until there is one
        self.applied = set()  # (id, _seq)
        self.cuts = {"ack": 0, "batch": 0, "change": 0}
        self.loading = False
        self.replayed_deletes = 0  # deletes a resume sent between its batches
        self.rows_after_replayed_delete = 0  # resume rows that came after one of those

    def take(self, pk, seq):
        assert self.position is None or seq > self.position, (pk, seq, self.position)
        assert (pk, seq) not in self.applied, (pk, seq)
        self.applied.add((pk, seq))
        self.position = seq

    def on_message(self, m, changes_only):
        kind = m["type"]
        if kind == "subscription_ack":
            lsi = m["batch_control"]["last_seq_id"]
            if changes_only:  # its position: the read point
                assert isinstance(lsi, int) and (self.position or 0) <= lsi, m
                self.position = lsi
            else:
                assert lsi is None, m
            self.loading = not changes_only
            return "ack"
        if kind == "initial_data_batch":
            for r in m["rows"]:
                self.take(r["id"], int(r["_seq"]))
                self.rows[r["id"]] = {"v": r["v"], "note": r["note"]}
            lsi = m["batch_control"]["last_seq_id"]
            if m["rows"] and self.replayed_deletes:
                self.rows_after_replayed_delete += len(m["rows"])
            if m["rows"]:
                assert lsi == self.position, (lsi, self.position)
            else:
                assert lsi is None or lsi <= self.position, (lsi, self.position)
            self.loading = m["batch_control"]["has_more"]
            return "batch"
        assert kind == "change", m
        pk = (m.get("rows") or m["old_values"])[0]["id"]
        self.take(pk, seq_of(m))
        if m["change_type"] == "insert":
            assert pk not in self.rows, ("insert of a row it has", m)
            r = m["rows"][0]
            self.rows[pk] = {"v": r["v"], "note": r["note"]}
        elif m["change_type"] == "update":
            assert pk in self.rows, ("update of a row it never got", m)
            self.rows[pk].update({k: m["rows"][0][k] for k in ("v", "note") if k in m["rows"][0]})
            for k in m["old_values"][0]:
                if k in ("v", "note") and k not in m["rows"][0]:
                    self.rows[pk][k] = None
        else:
            assert m["change_type"] == "delete", m
            assert self.loading or pk in self.rows, ("live delete of a row it never got", m)
            self.replayed_deletes += self.loading
            self.rows.pop(pk, None)
        return "change"


CUT_AFTER = {"ack": 0.15, "batch": 0.2, "change": 0.15}


def run_session(server, user, sql, mirror, rng, cut=True, changes_only=False):
    """One connection: subscribes (from the mirror's position when it has one), applies what
    arrives, and when `cut`, drops the TCP connection at a random message boundary. Without `cut`
    it reads up to the ready batch and then until 0.5 s of silence."""
    c = LiveClient(server, user, PASSWORD)
    if mirror.position is not None:
        options = {"from": mirror.position, "batch_size": 3}
    elif changes_only:
        options = None
    else:
        options = {"batch_size": 3}
    c.subscribe("m", sql, options)
    got = 0
    while True:
        try:
            m = c.recv(timeout=(10.0 if mirror.loading or got == 0 else 0.5))
        except TimeoutError:
            assert not (mirror.loading or got == 0), "a snapshot stalled"
            c.cut() if cut else c.close()  # idle: a cut, but not one that `cuts` counts
            return
        got += 1
        boundary = mirror.on_message(m, options is None)
        if m["type"] == "initial_data_batch" and m["batch_control"]["has_more"]:
            c.send({"type": "next_batch", "subscription_id": "m",
                    "last_seq_id": m["batch_control"]["last_seq_id"]})
        if cut and rng.random() < CUT_AFTER[boundary]:
            mirror.cuts[boundary] += 1
            c.cut()
            return


@pytest.mark.parametrize("kind,where", [("USER", ""), ("SHARED", ""),
                                        ("USER", " WHERE v < 50"), ("SHARED", " WHERE v < 50")])
def test_random_cuts_under_concurrent_writers_end_with_exactly_the_table(server, ns, kind, where):
    rng = random.Random(f"{kind}{where}")
    user = f"rc_{kind.lower()}{'_f' if where else ''}"
    server.create_user(user, PASSWORD, role="service" if kind == "SHARED" else "user")
    t = f"{ns}.rc"
    server.sql(f"CREATE {kind} TABLE {t} (id INT PRIMARY KEY, v INT, note TEXT)")
    token = server.token(user, PASSWORD)
    sql = f"SELECT id, v, note FROM {t}{where}"
    # Half start with a table that already has rows (full snapshot), half from an empty table
    # with a changes-only subscription (then its copy is the whole table too).
    changes_only = kind == "USER"
    if not changes_only:
        server.sql(f"INSERT INTO {t} (id, v, note) VALUES " +
                   ", ".join(f"({k}, {k * 7 % 100}, 'p')" for k in range(1000, 1010)),
                   user=user, password=PASSWORD)
    mirror = Mirror()
    run_session(server, user, sql, mirror, rng, cut=False, changes_only=changes_only)
    writers = [Writer(server, token, t, list(range(w * 20, w * 20 + 15)), seed=w)
               for w in range(3)]
    for w in writers:
        w.start()
    sessions = 0
    deadline = time.time() + 11
    try:
        while time.time() < deadline and sessions < 75:
            run_session(server, user, sql, mirror, rng)
            sessions += 1
            time.sleep(rng.random() * 0.03)  # away for a while: the next resume has a gap
            if sessions % 25 == 10:  # move what was written so far to the cold tier
                server.sql(f"STORAGE FLUSH TABLE {t}")
    finally:
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join()
    for w in writers:
        assert w.error is None, w.error
    run_session(server, user, sql, mirror, rng, cut=False)
    truth = {r[0]: {"v": r[1], "note": r[2]} for r in
             server.rows(f"SELECT id, v, note FROM {t}{where} LIMIT 1000", user=user,
                         password=PASSWORD)}
    assert mirror.rows == truth
    assert sessions >= 40, sessions
    assert sum(w.ops for w in writers) > 200
    for boundary, n in mirror.cuts.items():
        assert n >= 3, mirror.cuts  # cuts happened after every kind of message
    # Resumes did interleave replayed deletes with later rows (the case this file is about).
    assert mirror.replayed_deletes >= 5 and mirror.rows_after_replayed_delete >= 5, vars(mirror)
    print(f"{kind}{where}: {sessions} sessions, {sum(w.ops for w in writers)} writes, "
          f"cuts {mirror.cuts}, {mirror.replayed_deletes} replayed deletes")
