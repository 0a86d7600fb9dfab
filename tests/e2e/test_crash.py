"""Durability: every acknowledged write survives kill -9 of the server and a restart."""
import threading
import time

import requests

from kalam_harness import ROOT_PASSWORD


def test_acknowledged_rows_survive_kill9_under_concurrent_inserts(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE crash")
    s.sql("CREATE SHARED TABLE crash.events (id BIGINT PRIMARY KEY, writer INT, body TEXT)")
    token = s.token()
    acked, attempted = set(), set()
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        http = requests.Session()
        n = 0
        while not stop.is_set():
            ids = [w * 1_000_000 + n + i for i in range(5)]
            n += 5
            values = ", ".join(f"({i}, {w}, 'payload {i}')" for i in ids)
            with lock:
                attempted.update(ids)
            try:
                r = http.post(s.base + "/v1/api/sql",
                              json={"sql": f"INSERT INTO crash.events (id, writer, body) VALUES {values}"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=5)
            except requests.RequestException:
                return  # the server died mid-request: not acknowledged
            if r.status_code == 200:
                with lock:
                    acked.update(ids)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    s.kill9()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) > 100, "the writers should have been acknowledged many rows before the kill"

    s.start()
    present = set()
    last = -1
    while True:
        rows = s.rows(f"SELECT id FROM crash.events WHERE id > {last} ORDER BY id LIMIT 1000")
        if not rows:
            break
        present.update(int(r[0]) for r in rows)
        last = int(rows[-1][0])
    missing = acked - present
    assert not missing, f"{len(missing)} acknowledged rows lost, e.g. {sorted(missing)[:5]}"
    assert present <= attempted, "rows that were never sent appeared"
    # A batch is atomic: each 5-row INSERT is entirely present or entirely absent.
    for base in {i - (i % 5) for i in present}:
        assert all(b in present for b in range(base, base + 5)), f"partial batch at {base}"
    count = s.rows("SELECT count(*) FROM crash.events")[0][0]
    assert int(count) == len(present)


def test_catalog_and_users_survive_kill9(fresh_server):
    s = fresh_server
    s.sql("CREATE NAMESPACE keep")
    s.sql("CREATE USER TABLE keep.notes (id INT PRIMARY KEY, body TEXT)")
    s.create_user("bob", "bobpassword1")
    s.sql("INSERT INTO keep.notes (id, body) VALUES (1, 'bob note')", user="bob",
          password="bobpassword1")
    s.kill9()
    s.start()
    assert s.rows("SELECT id, body FROM keep.notes", user="bob", password="bobpassword1") == [
        [1, "bob note"]]
    assert s.rows("SELECT count(*) FROM keep.notes") == [["0"]]  # root sees only root's rows
    names = [r[0] for r in s.rows("SHOW NAMESPACES")]
    assert "keep" in names and "default" in names
