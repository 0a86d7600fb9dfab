"""Crash loop: kill -9 the server at random moments under concurrent multi-row INSERTs, UPDATEs,
DELETEs and transactions on a SHARED and a USER table, with flushes to Parquet both by hand and
by policy, some kills landing inside a flush; after each restart every table scope must hold
exactly the last acknowledged value of every row, with an operation that was in flight at the
kill either wholly applied or not at all, and nothing that was never sent. Subsumes the former
single-shot tests/e2e/test_crash.py (users, catalog and JWT secret survive too)."""
import random
import threading
import time

import requests

from fault_model import check_crash_state
from fault_server import create_tables, password_of, post_sql, start_flushes, start_server

# (table, user) scopes; two writers each, owning disjoint id ranges.
SCOPES = [("crash.s", "root"), ("crash.u", "alice"), ("crash.u", "bob")]
WRITERS_PER_SCOPE = 2
ID_RANGE = 1_000_000
INTERRUPTED = "Interrupted by a server restart"
# Every flush pauses this long at each of the flusher's test pause points (the test-only knob
# KALAMDB_TEST_FLUSH_PAUSE_MS), so a flush stays running long enough for an aimed kill to land
# inside it on a loaded machine too.
FLUSH_PAUSE_MS = 250


class Writer:
    """One client writing its own rows of one table scope, one request at a time, so it knows
    the exact state of its rows: `model` (acknowledged) and `pending` (the operation whose
    answer the kill cut off)."""

    def __init__(self, wid, table, user, token, seed):
        self.wid, self.table, self.user, self.token = wid, table, user, token
        self.rng = random.Random(seed)
        self.model = {}      # id -> (v, note)
        self.pending = None  # {id: (v, note) | None}
        self.next_id = wid * ID_RANGE + 1
        self.op = 0
        self.acked_ops = 0
        self.errors = []

    def _value(self):
        self.op += 1
        return self.op, f"w{self.wid}o{self.op}" + "x" * self.rng.randint(0, 120)

    def _insert_values(self, k, effects):
        rows = []
        for _ in range(k):
            pk, (v, note) = self.next_id, self._value()
            self.next_id += 1
            effects[pk] = (v, note)
            rows.append(f"({pk}, {v}, '{note}')")
        return f"INSERT INTO {self.table} (id, v, note) VALUES " + ", ".join(rows)

    def next_op(self):
        """(sql, effects {id: value | None}, expected (message verb, row count) or None)."""
        t, rng, effects = self.table, self.rng, {}
        ids = list(self.model)
        kind = rng.random() if ids else 0.0
        if kind < 0.35:
            k = rng.randint(1, 20)
            return self._insert_values(k, effects), effects, ("Inserted", k)
        if kind < 0.55:
            pk = rng.choice(ids)
            v, note = effects[pk] = self._value()
            return f"UPDATE {t} SET v = {v}, note = '{note}' WHERE id = {pk}", effects, ("Updated", 1)
        if kind < 0.65:
            a = rng.choice(ids)
            b = a + rng.randint(0, 20)
            v, note = self._value()
            effects.update({pk: (v, note) for pk in ids if a <= pk <= b})
            return (f"UPDATE {t} SET v = {v}, note = '{note}' WHERE id >= {a} AND id <= {b}",
                    effects, ("Updated", len(effects)))
        if kind < 0.80:
            pk = rng.choice(ids)
            effects[pk] = None
            return f"DELETE FROM {t} WHERE id = {pk}", effects, ("Deleted", 1)
        if kind < 0.85:
            a = rng.choice(ids)
            b = a + rng.randint(0, 10)
            effects.update({pk: None for pk in ids if a <= pk <= b})
            return f"DELETE FROM {t} WHERE id >= {a} AND id <= {b}", effects, ("Deleted", len(effects))
        # A transaction: all of it or none of it.
        stmts = ["BEGIN", self._insert_values(rng.randint(1, 3), effects)]
        up, gone = rng.choice(ids), rng.choice(ids)
        v, note = self._value()
        stmts.append(f"UPDATE {t} SET v = {v}, note = '{note}' WHERE id = {up}")
        effects[up] = (v, note)
        stmts.append(f"DELETE FROM {t} WHERE id = {gone}")
        effects[gone] = None
        stmts.append("COMMIT")
        return "; ".join(stmts), effects, None

    def run(self, base, stop):
        http = requests.Session()
        while not stop.is_set():
            sql, effects, expect = self.next_op()
            status, body = post_sql(http, base, self.token, sql)
            if status is None:
                self.pending = effects  # no answer: it may or may not have landed
                return
            if status != 200 or body.get("status") != "success":
                self.errors.append(f"{sql[:120]} -> {status} {body}")
                return
            if expect is not None:
                res = body["results"][0]
                if (res.get("row_count"), res.get("message")) != (
                        expect[1], f"{expect[0]} {expect[1]} row(s)"):
                    self.errors.append(f"{sql[:120]} -> {res}, expected {expect}")
            for pk, value in effects.items():
                if value is None:
                    self.model.pop(pk, None)
                else:
                    self.model[pk] = value
            self.acked_ops += 1


def read_scope(s, table, user):
    rows = s.rows(f"SELECT id, v, note FROM {table} ORDER BY id", user=user,
                  password=password_of(user))
    counts = s.rows(f"SELECT count(*), count(DISTINCT id) FROM {table}", user=user,
                    password=password_of(user))
    assert counts == [[str(len(rows)), str(len(rows))]], (table, user, counts, len(rows))
    return {pk: (v, note) for pk, v, note in rows}


def verify(s, writers, stats):
    """Checks every scope against its writers' models and settles their pending operations."""
    violations = []
    for table, user in SCOPES:
        mine = [w for w in writers if (w.table, w.user) == (table, user)]
        acked = {pk: v for w in mine for pk, v in w.model.items()}
        pending = [w.pending for w in mine if w.pending]
        observed = read_scope(s, table, user)
        v, resolved, applied, not_applied = check_crash_state(acked, pending, observed)
        violations += [f"{table} as {user}: {x}" for x in v]
        stats["unanswered_landed"] += applied
        stats["unanswered_not_landed"] += not_applied
        for w in mine:
            w.model = {pk: val for pk, val in resolved.items() if pk // ID_RANGE == w.wid}
            w.pending = None
    # root owns no row of the USER table: a crash never leaks a scope. The catalog survives.
    assert s.rows("SELECT count(*) FROM crash.u") == [["0"]]
    assert {"crash", "default"} <= {r[0] for r in s.rows("SHOW NAMESPACES")}
    return violations


def interrupted_jobs(s):
    return {r[0]: r[1] for r in s.rows(
        "SELECT job_id, started_at FROM system.jobs WHERE status = 'failed' AND message LIKE "
        f"'{INTERRUPTED}%'")}


def test_crash_loop_keeps_every_acknowledged_write_and_nothing_else(tmp_path, form, seed,
                                                                     summary):
    rng = random.Random(seed)
    s = start_server(tmp_path, env={"KALAMDB_TEST_FLUSH_PAUSE_MS": str(FLUSH_PAUSE_MS)})
    tokens = create_tables(s, "crash", "id INT PRIMARY KEY, v INT, note TEXT", "rows:100",
                           "interval:3", ["alice", "bob"])
    writers = [Writer(i * WRITERS_PER_SCOPE + k, table, user, tokens[user], rng.random())
               for i, (table, user) in enumerate(SCOPES) for k in range(WRITERS_PER_SCOPE)]
    stats = {"unanswered_landed": 0, "unanswered_not_landed": 0}
    violations, errors, seen_jobs = [], [], set()
    kills_in_flush = flush_kill_cycles = 0
    cycles = form["crash_cycles"]
    try:
        for cycle in range(cycles):
            stop = threading.Event()
            threads = [threading.Thread(target=w.run, args=(s.base, stop)) for w in writers]
            threads.append(threading.Thread(target=start_flushes, args=(
                requests.Session(), s.base, tokens["root"], ["crash.s", "crash.u"], stop,
                random.Random(rng.random()), errors)))
            for t in threads:
                t.start()
            if cycle % 2:
                # Kill 0-300 ms after starting a flush of the USER table, whose policy lets a
                # few seconds of writes (both users' scopes) wait in hot storage.
                flush_kill_cycles += 1
                time.sleep(rng.uniform(0.1, 0.6))
                s.sql_raw("STORAGE FLUSH TABLE crash.u")
                # Aim at the running flush: wait (bounded) until a flush job runs, then kill
                # within the pause it makes at its first pause point.
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and s.rows(
                        "SELECT count(*) FROM system.jobs WHERE status = 'running'") == [["0"]]:
                    time.sleep(0.02)
                time.sleep(rng.uniform(0.0, FLUSH_PAUSE_MS / 1000 / 2))
            else:
                time.sleep(rng.uniform(0.05, 1.2))
            s.kill9()
            stop.set()
            for t in threads:
                t.join(timeout=60)
                assert not t.is_alive(), "a writer did not stop"
            s.start()
            violations += [f"cycle {cycle}: {v}" for v in verify(s, writers, stats)]
            jobs = interrupted_jobs(s)
            fresh = {j for j, started in jobs.items() if j not in seen_jobs and started is not None}
            kills_in_flush += bool(fresh)
            seen_jobs |= jobs.keys()
            errors += [e for w in writers for e in w.errors]
            for w in writers:
                w.errors = []
            assert not violations and not errors, (seed, violations[:20], errors[:20])
        # A graceful restart flushes every hot row to Parquet: the same rows read from cold.
        assert s.stop() == 0
        s.start()
        assert verify(s, writers, stats) == []
    finally:
        s.stop()
    rows = sum(len(w.model) for w in writers)
    acked = sum(w.acked_ops for w in writers)
    assert acked > cycles * 10, "the writers should have been acknowledged many operations"
    assert kills_in_flush > 0, "no kill landed inside a running flush job"
    summary(f"seed={seed} cycles={cycles} acknowledged_ops={acked} rows_at_end={rows} "
            f"unanswered_at_kill landed={stats['unanswered_landed']} "
            f"not_landed={stats['unanswered_not_landed']} "
            f"kills_inside_running_flush={kills_in_flush} (of {cycles} cycles, "
            f"{flush_kill_cycles} aimed at a flush) interrupted_jobs={len(seen_jobs)}")
