"""Live queries over WebSocket (PROTOCOL §4): snapshot, changes, resume — nothing lost, nothing
doubled."""
import threading

import pytest
import requests

from live_client import LiveClient


@pytest.fixture
def table(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.msgs (id INT PRIMARY KEY, room TEXT, body TEXT)")
    return f"{ns}.msgs"


def test_auth_success_shape(server):
    c = LiveClient(server)
    assert c.hello == {"type": "auth_success", "user": "root", "role": "system",
                       "protocol": {"serialization": "json", "compression": "gzip"}}
    c.close()


def test_hundred_inserts_give_exactly_hundred_insert_events_in_order(server, table):
    c = LiveClient(server)
    c.subscribe_ready("m", f"SELECT * FROM {table}")
    for i in range(100):
        server.sql(f"INSERT INTO {table} (id, room, body) VALUES ({i}, 'r1', 'm{i}')")
    ev = c.changes(100)
    assert [e["change_type"] for e in ev] == ["insert"] * 100
    assert [e["rows"][0]["id"] for e in ev] == list(range(100))
    seqs = [int(e["rows"][0]["_seq"]) for e in ev]
    assert seqs == sorted(seqs) and len(set(seqs)) == 100
    c.expect_silence()
    c.close()


def test_updates_carry_old_and_new_values_and_deletes_the_deleted_row(server, table):
    server.sql(f"INSERT INTO {table} (id, room, body) VALUES (1, 'r1', 'v0')")
    c = LiveClient(server)
    c.subscribe_ready("m", f"SELECT * FROM {table}")
    for k in range(1, 51):
        server.sql(f"UPDATE {table} SET body = 'v{k}' WHERE id = 1")
    ev = c.changes(50)
    for k, e in enumerate(ev, start=1):
        assert e["change_type"] == "update"
        assert e["rows"][0]["body"] == f"v{k}" and e["rows"][0]["id"] == 1
        assert e["old_values"][0]["body"] == f"v{k - 1}"
        assert set(e["old_values"][0]) == {"id", "_seq", "body"}
    server.sql(f"DELETE FROM {table} WHERE id = 1")
    d = c.changes(1)[0]
    assert d["change_type"] == "delete"
    assert d["old_values"][0]["id"] == 1 and d["old_values"][0]["_deleted"] is True
    assert "rows" not in d
    c.close()


def test_insert_update_insert_delete_sequence_in_exact_order(server, table):
    c = LiveClient(server)
    c.subscribe_ready("m", f"SELECT * FROM {table}")
    server.sql(f"INSERT INTO {table} (id, room) VALUES (1, 'a')")
    server.sql(f"UPDATE {table} SET room = 'b' WHERE id = 1")
    server.sql(f"INSERT INTO {table} (id, room) VALUES (2, 'c')")
    server.sql(f"DELETE FROM {table} WHERE id = 1")
    ev = c.changes(4)
    assert [(e["change_type"], (e.get("rows") or e.get("old_values"))[0]["id"]) for e in ev] == [
        ("insert", 1), ("update", 1), ("insert", 2), ("delete", 1)]
    c.close()


def test_concurrent_writers_all_delivered_once(server, table):
    c = LiveClient(server)
    c.subscribe_ready("m", f"SELECT * FROM {table}")

    def writer(w):
        for i in range(20):
            server.sql(f"INSERT INTO {table} (id, room) VALUES ({w * 100 + i}, 'w{w}')")

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ev = c.changes(100)
    ids = [e["rows"][0]["id"] for e in ev]
    assert sorted(ids) == sorted(w * 100 + i for w in range(5) for i in range(20))
    seqs = [int(e["rows"][0]["_seq"]) for e in ev]
    assert seqs == sorted(seqs), "events must arrive in commit (_seq) order"
    c.expect_silence()
    c.close()


def test_three_listeners_each_get_everything(server, table):
    clients = [LiveClient(server) for _ in range(3)]
    for i, c in enumerate(clients):
        c.subscribe_ready(f"m{i}", f"SELECT * FROM {table}")
    for i in range(10):
        server.sql(f"INSERT INTO {table} (id) VALUES ({i})")
    for c in clients:
        assert [e["rows"][0]["id"] for e in c.changes(10)] == list(range(10))
        c.close()


def test_other_users_writes_never_reach_a_user_table_subscription(server, table):
    server.create_user("lq_a", "password123")
    server.create_user("lq_b", "password123")
    a = LiveClient(server, "lq_a", "password123")
    a.subscribe_ready("m", f"SELECT * FROM {table}")
    server.sql(f"INSERT INTO {table} (id, body) VALUES (1, 'from b')", user="lq_b",
               password="password123")
    server.sql(f"INSERT INTO {table} (id, body) VALUES (1, 'from a')", user="lq_a",
               password="password123")
    ev = a.changes(1)
    assert ev[0]["rows"][0]["body"] == "from a"
    a.expect_silence()
    a.close()


def test_filter_delivers_matching_rows_and_transitions(server, table):
    c = LiveClient(server)
    c.subscribe_ready("r1", f"SELECT * FROM {table} WHERE room = 'r1'")
    server.sql(f"INSERT INTO {table} (id, room) VALUES (1, 'r2')")
    server.sql(f"INSERT INTO {table} (id, room) VALUES (2, 'r1')")
    server.sql(f"UPDATE {table} SET room = 'r1' WHERE id = 1")
    server.sql(f"UPDATE {table} SET room = 'r9' WHERE id = 2")
    ev = c.changes(3)
    assert [(e["change_type"], (e.get("rows") or e.get("old_values"))[0]["id"]) for e in ev] == [
        ("insert", 2), ("insert", 1), ("delete", 2)]
    c.expect_silence()
    c.close()


def test_snapshot_batches_then_gap_free_handover(server, table):
    values = ", ".join(f"({i}, 'r', 'b{i}')" for i in range(25))
    server.sql(f"INSERT INTO {table} (id, room, body) VALUES {values}")
    c = LiveClient(server)
    c.subscribe("m", f"SELECT id, body FROM {table}", {"batch_size": 10})
    ack = c.recv()
    # 25 rows in batches of 10: counted at the snapshot's read point
    assert ack["type"] == "subscription_ack" and ack["total_rows"] == 25
    assert [s["name"] for s in ack["schema"]] == ["id", "body", "_seq"]
    b0 = c.recv()
    assert b0["batch_control"]["status"] == "loading" and b0["batch_control"]["has_more"] is True
    assert len(b0["rows"]) == 10
    # A change committed while the snapshot is still loading arrives after the last batch.
    server.sql(f"INSERT INTO {table} (id, room, body) VALUES (100, 'r', 'during')")
    got = list(b0["rows"])
    last = b0
    while last["batch_control"]["has_more"]:
        c.send({"type": "next_batch", "subscription_id": "m",
                "last_seq_id": last["batch_control"]["last_seq_id"]})
        last = c.recv()
        assert last["type"] == "initial_data_batch"
        got.extend(last["rows"])
    assert last["batch_control"]["status"] == "ready"
    assert [r["id"] for r in got] == list(range(25))
    ev = c.changes(1)
    assert ev[0]["rows"][0]["id"] == 100
    c.expect_silence()
    c.close()


def test_last_rows_gives_the_newest_rows_ascending(server, table):
    for i in range(10):
        server.sql(f"INSERT INTO {table} (id) VALUES ({i})")
    c = LiveClient(server)
    _, rows = c.subscribe_ready("m", f"SELECT id FROM {table}", {"last_rows": 3})
    assert [r["id"] for r in rows] == [7, 8, 9]
    c.close()


def test_reconnect_cycles_lose_and_duplicate_nothing(server, table):
    c = LiveClient(server)
    c.subscribe_ready("m", f"SELECT * FROM {table}")
    state, last_seq, next_id = {}, 0, 0

    def apply(e):
        nonlocal last_seq
        row = (e.get("rows") or e.get("old_values"))[0]
        if e["change_type"] == "delete":
            state.pop(row["id"], None)
        else:
            state[row["id"]] = row.get("body")
        last_seq = max(last_seq, int(row["_seq"]))

    for cycle in range(50):
        server.sql(f"INSERT INTO {table} (id, body) VALUES ({next_id}, 'c{cycle}')")
        next_id += 1
        for e in c.changes(1):
            apply(e)
        c.close()
        # While away: inserts, an update and a delete.
        server.sql(f"INSERT INTO {table} (id, body) VALUES ({next_id}, 'away{cycle}')")
        next_id += 1
        server.sql(f"UPDATE {table} SET body = 'upd{cycle}' WHERE id = {next_id - 2}")
        if cycle % 3 == 0:
            server.sql(f"DELETE FROM {table} WHERE id = {next_id - 1}")
        c = LiveClient(server)
        _, messages = c.subscribe_all("m", f"SELECT * FROM {table}", {"from": last_seq})
        # Rows changed and deletes made while away, in `_seq` order.
        for m in messages:
            if m["type"] == "change":
                apply(m)
                continue
            for r in m["rows"]:
                assert int(r["_seq"]) > last_seq
                state[r["id"]] = r.get("body")
                last_seq = int(r["_seq"])
        while True:
            try:
                m = c.recv(timeout=0.2)
            except TimeoutError:
                break
            assert m["type"] == "change", m
            apply(m)
    truth = {r[0]: r[1] for r in server.rows(f"SELECT id, body FROM {table} LIMIT 1000")}
    assert state == truth
    c.close()


def test_thousand_rapid_inserts_all_delivered_in_order(server, table):
    c = LiveClient(server)
    c.subscribe_ready("m", f"SELECT id FROM {table}")
    for base in range(0, 1000, 100):
        values = ", ".join(f"({i})" for i in range(base, base + 100))
        server.sql(f"INSERT INTO {table} (id) VALUES {values}")
    ev = c.changes(1000)
    assert [e["rows"][0]["id"] for e in ev] == list(range(1000))
    c.close()


def test_system_live_counts_delivered_events_and_kill(server, table):
    c = LiveClient(server)
    c.subscribe_ready("watch", f"SELECT * FROM {table}")
    for i in range(7):
        server.sql(f"INSERT INTO {table} (id) VALUES ({i})")
    c.changes(7)
    rows = server.rows("SELECT live_id, subscription_id, changes, status FROM system.live "
                       "WHERE subscription_id = 'watch'")
    assert len(rows) == 1 and rows[0][2] == "7" and rows[0][3] == "active", rows
    live_id = rows[0][0]
    err = server.sql_error(f"DROP TABLE {table}")
    assert err["message"].endswith("1 live subscription(s) are active on it")
    r = server.sql(f"KILL LIVE QUERY '{live_id}'")
    assert r["results"][0]["message"] == f"Live query killed: {live_id}"
    m = c.recv()
    assert m["type"] == "error" and m["subscription_id"] == "watch"
    server.sql(f"DROP TABLE {table}")
    c.close()


def test_rejected_subscriptions(server, table):
    c = LiveClient(server)
    for sid, sql, code in [("j", f"SELECT * FROM {table} a JOIN {table} b ON a.id = b.id", "UNSUPPORTED"),
                           ("o", f"SELECT * FROM {table} ORDER BY id", "UNSUPPORTED"),
                           ("g", f"SELECT room FROM {table} GROUP BY room", "UNSUPPORTED"),
                           ("n", "SELECT * FROM nope.nothing", "NOT_FOUND")]:
        c.subscribe(sid, sql)
        m = c.recv()
        assert m["type"] == "error" and m["subscription_id"] == sid and m["code"] == code, m
    c.close()


def test_subscribe_to_statement_returns_a_working_subscription(server, table):
    r = server.sql(f"SUBSCRIBE TO {table} WHERE room = 'r1' OPTIONS (last_rows = 5)")
    res = r["results"][0]
    assert [c["name"] for c in res["schema"]] == ["ws_url", "subscription"]
    ws_url, sub = res["rows"][0]
    assert ws_url == "/v1/ws"
    import json as _json
    sub = _json.loads(sub)
    assert sub["sql"] == f"SELECT * FROM {table} WHERE room = 'r1'"
    assert sub["options"] == {"last_rows": 5}
    server.sql(f"INSERT INTO {table} (id, room) VALUES (1, 'r1'), (2, 'r2')")
    c = LiveClient(server)
    _, rows = c.subscribe_ready(sub["id"], sub["sql"], sub["options"])
    assert [row["id"] for row in rows] == [1]
    c.close()
    err = server.sql_error("SUBSCRIBE TO nope.nothing")
    assert err["code"] == "TABLE_NOT_FOUND"


def test_in_band_authentication_and_its_timeout(server):
    c = LiveClient(server, header_auth=False)
    assert c.hello["type"] == "auth_success" and c.hello["user"] == "root"
    c.close()
    from websockets.sync.client import connect
    import json as _json
    with connect(f"ws://127.0.0.1:{server.port}/v1/ws", open_timeout=10) as ws:
        m = _json.loads(ws.recv(timeout=10))
        assert m == {"type": "auth_error",
                     "message": "Authentication timeout - no auth message received within 3 seconds"}
        from websockets.exceptions import ConnectionClosed
        try:
            ws.recv(timeout=5)
            raise AssertionError("the server must close after auth_error")
        except ConnectionClosed as e:
            assert e.rcvd is not None and e.rcvd.code == 1008, e


def test_per_user_subscription_limit(server, table):
    server.create_user("lq_lim", "password123")
    c = LiveClient(server, "lq_lim", "password123")
    for i in range(10):
        c.subscribe_ready(f"s{i}", f"SELECT * FROM {table}")
    c.subscribe("s10", f"SELECT * FROM {table}")
    m = c.recv()
    assert m["type"] == "error" and m["code"] == "SUBSCRIPTION_LIMIT_EXCEEDED", m
    c.send({"type": "unsubscribe", "subscription_id": "s0"})
    ack, _ = c.subscribe_ready("s11", f"SELECT * FROM {table}")
    assert ack["subscription_id"] == "s11"
    c.close()


def test_large_messages_arrive_gzip_compressed_unless_disabled(server, table):
    big = "x" * 2000
    for compress in (True, False):
        c = LiveClient(server, compress=compress)
        c.subscribe_ready("m", f"SELECT * FROM {table}")
        server.sql(f"INSERT INTO {table} (id, body) VALUES ({100 + int(compress)}, '{big}')")
        raw = c.ws.recv(timeout=10)
        assert isinstance(raw, bytes) == compress, type(raw)
        if compress:
            assert raw[:2] == b"\x1f\x8b"
        c.close()


def test_ack_total_rows_is_the_snapshot_row_count(server, table):
    values = ", ".join(f"({i}, '{'a' if i % 2 else 'b'}', 'x')" for i in range(7))
    server.sql(f"INSERT INTO {table} (id, room, body) VALUES {values}")
    c = LiveClient(server)
    cases = [("one_batch", f"SELECT * FROM {table}", {}, 7),
             ("filtered_batches", f"SELECT * FROM {table} WHERE room = 'a'", {"batch_size": 2}, 3),
             ("last_rows", f"SELECT * FROM {table}", {"last_rows": 4}, 4),
             ("empty", f"SELECT * FROM {table} WHERE room = 'zzz'", {}, 0)]
    for sid, sql, options, expected in cases:
        c.subscribe(sid, sql, options)
        ack = c.recv()
        assert (ack["type"], ack["subscription_id"], ack["total_rows"]) == (
            "subscription_ack", sid, expected)
        batch = c.recv()
        assert batch["type"] == "initial_data_batch"
    # Without options (changes only) there is no snapshot: 0.
    c.subscribe("changes", f"SELECT * FROM {table}")
    ack = c.recv()
    assert (ack["subscription_id"], ack["total_rows"]) == ("changes", 0)
    c.close()


def test_default_snapshot_of_more_than_max_query_limit_rows_is_complete(server, table):
    # 1,010 rows with the default batch_size (1000 = limits.max_query_limit): the batch's probe row
    # (LIMIT 1001) is cut by the query limit, which must still mean "more", not "ready".
    for base in range(0, 1010, 101):
        values = ", ".join(f"({i}, 'r', 'b')" for i in range(base, base + 101))
        server.sql(f"INSERT INTO {table} (id, room, body) VALUES {values}")
    c = LiveClient(server, compress=False)
    c.subscribe("big", f"SELECT id FROM {table}", {})
    ack = c.recv()
    assert (ack["type"], ack["total_rows"]) == ("subscription_ack", 1010)
    b0 = c.recv()
    assert (len(b0["rows"]), b0["batch_control"]["has_more"], b0["batch_control"]["status"]) == (
        1000, True, "loading")
    c.send({"type": "next_batch", "subscription_id": "big"})
    b1 = c.recv()
    assert (len(b1["rows"]), b1["batch_control"]["has_more"], b1["batch_control"]["status"]) == (
        10, False, "ready")
    assert [r["id"] for r in b0["rows"] + b1["rows"]] == list(range(1010))
    c.close()
