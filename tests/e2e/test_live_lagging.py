"""SUBSCRIBER_LAGGING through a real slow socket (PROTOCOL §4): a subscriber that stops reading is
never silently gapped. Its events up to the overflow arrive as a gap-free prefix, then the exact
SUBSCRIBER_LAGGING error, and the subscription is closed (it resumes with `from`). The commit
pipeline is never slowed by it, and other subscribers still get everything."""
import json
import os
import socket
import statistics
import threading
import time

import pytest

from kalam_harness import DEFAULT_TEST_CONFIG, Server
from live_client import LiveClient

QUEUE = 64  # websocket.outbound_queue_messages: more than one row fans out to one connection
CONTROL_RESERVE = 16  # kWsControlReserveMessages
BODY = "x" * 16000  # large events fill the socket buffers after a few hundred rows
LAGGING = {
    "type": "error",
    "subscription_id": None,  # filled per subscription
    "code": "SUBSCRIBER_LAGGING",
    "message": "The subscriber fell behind and the subscription was closed; "
               "resubscribe with from = the last _seq received",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    config = (DEFAULT_TEST_CONFIG + "max_subscriptions_per_user = 100\n"
              f"[websocket]\noutbound_queue_messages = {QUEUE}\nclient_timeout_secs = 120\n")
    s = Server(tmp_path_factory.mktemp("kdb") / "data", config_toml=config).start()
    yield s
    s.stop()


class StalledClient:
    """A raw WebSocket client (text frames, `?compress=false`) with a small receive buffer, that
    reads only when told to: until then the server's writes to it back up."""

    def __init__(self, server, rcvbuf=4096):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", server.port))
        self.sock.settimeout(10)
        self.sock.sendall((
            f"GET /v1/ws?compress=false HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {server.token()}\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._read()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        hello = self.recv()
        assert hello["type"] == "auth_success", hello

    def _read(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed without a close frame")
        return chunk

    def send(self, obj):
        payload = json.dumps(obj).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def frame(self):
        """The next server frame: (opcode, payload bytes)."""
        while True:
            b = self.buf
            if len(b) >= 2:
                assert not b[1] & 0x80, "server frames are never masked"
                opcode, n, pos = b[0] & 0x0F, b[1] & 0x7F, 2
                if n == 126:
                    n, pos = (int.from_bytes(b[2:4], "big"), 4) if len(b) >= 4 else (None, 0)
                elif n == 127:
                    n, pos = (int.from_bytes(b[2:10], "big"), 10) if len(b) >= 10 else (None, 0)
                if n is not None and len(b) >= pos + n:
                    self.buf = b[pos + n:]
                    return opcode, b[pos:pos + n]
            self.buf += self._read()

    def recv(self):
        """The next message (text JSON); AssertionError on a close frame."""
        opcode, payload = self.frame()
        assert opcode == 1, (opcode, payload[:200])
        return json.loads(payload)

    def close(self):
        self.sock.close()


class Collector:
    """Reads a LiveClient in a thread so that it keeps up while the test writes."""

    def __init__(self, client):
        self.client, self.events, self.other = client, [], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                m = self.client.recv(timeout=0.2)
            except TimeoutError:
                continue
            (self.events if m["type"] == "change" else self.other).append(m)

    def wait_for(self, n, timeout=60):
        deadline = time.time() + timeout
        while len(self.events) < n and time.time() < deadline:
            time.sleep(0.05)
        self.stop.set()
        self.thread.join()
        return self.events


def live_subscriptions(server):
    return {r[0] for r in server.rows("SELECT subscription_id FROM system.live")}


def write_until_gone(server, table, watched, max_rows=3000):
    """Inserts large rows one at a time until none of `watched` is in system.live any more, then
    a few more. Returns (rows written, seconds each insert took)."""
    took = []
    i, stop_at = 0, None
    while i < max_rows and (stop_at is None or i < stop_at):
        t0 = time.monotonic()
        server.sql(f"INSERT INTO {table} (id, body) VALUES ($1, $2)", params=[i, BODY])
        took.append(time.monotonic() - t0)
        i += 1
        if stop_at is None and not (watched & live_subscriptions(server)):
            stop_at = i + 5  # events after the overflow must not reach the lagging subscriber
    assert stop_at is not None, f"no subscription lagged after {max_rows} rows"
    return i, took


def assert_writes_were_prompt(took):
    # A slow subscriber never holds up commits: every insert kept completing while its socket was
    # full (a blocked pipeline would stall here until the client read again).
    assert max(took) < 3.0, f"slowest insert took {max(took):.2f} s"
    assert statistics.median(took) < 0.25, f"median insert took {statistics.median(took):.3f} s"


def test_stalled_subscriber_gets_a_gap_free_prefix_then_subscriber_lagging(server, ns):
    table = f"{ns}.ev"
    server.sql(f"CREATE SHARED TABLE {table} (id INT PRIMARY KEY, body TEXT)")
    slow = StalledClient(server)
    slow.send({"type": "subscribe",
               "subscription": {"id": "slow", "sql": f"SELECT * FROM {table}"}})
    assert slow.recv()["type"] == "subscription_ack"
    fast_client = LiveClient(server)
    fast_client.subscribe_ready("fast", f"SELECT id FROM {table}")
    fast = Collector(fast_client)

    rows, took = write_until_gone(server, table, {"slow"})
    assert_writes_were_prompt(took)

    # The healthy subscriber on its own connection got every row, in order.
    assert [e["rows"][0]["id"] for e in fast.wait_for(rows)] == list(range(rows))
    assert fast.other == []
    assert "fast" in live_subscriptions(server)

    # The stalled one, reading again: a gap-free prefix of the rows, then exactly the notice.
    events = []
    m = slow.recv()
    while m["type"] == "change":
        events.append(m)
        m = slow.recv()
    assert m == dict(LAGGING, subscription_id="slow")
    ids = [e["rows"][0]["id"] for e in events]
    assert 0 < len(ids) < rows and ids == list(range(len(ids)))
    assert all(e["change_type"] == "insert" and e["subscription_id"] == "slow" for e in events)
    assert all(e["rows"][0]["body"] == BODY for e in events)
    seqs = [int(e["rows"][0]["_seq"]) for e in events]
    assert seqs == sorted(seqs)
    # Nothing follows the notice: the subscription is closed, the connection still works.
    slow.send({"type": "ping"})
    assert slow.recv() == {"type": "pong"}
    assert "slow" not in live_subscriptions(server)

    # Resuming from the last _seq received gives exactly the rows it missed.
    slow.send({"type": "subscribe", "subscription": {
        "id": "again", "sql": f"SELECT id FROM {table}", "options": {"from": seqs[-1]}}})
    ack = slow.recv()
    assert ack["type"] == "subscription_ack", ack
    batch = slow.recv()
    assert batch["type"] == "initial_data_batch" and batch["batch_control"]["has_more"] is False
    assert [r["id"] for r in batch["rows"]] == list(range(len(ids), rows))
    slow.close()
    fast_client.close()


def test_when_the_control_reserve_is_full_too_the_connection_is_closed(server, ns):
    table = f"{ns}.ev"
    server.sql(f"CREATE SHARED TABLE {table} (id INT PRIMARY KEY, body TEXT)")
    subs = [f"s{k}" for k in range(CONTROL_RESERVE + 4)]
    slow = StalledClient(server)
    for sid in subs:  # one at a time: a burst of acks could overflow the tiny queue
        slow.send({"type": "subscribe",
                   "subscription": {"id": sid, "sql": f"SELECT id, body FROM {table}"}})
        assert slow.recv()["type"] == "subscription_ack"
    fast_client = LiveClient(server)
    fast_client.subscribe_ready("fast", f"SELECT id FROM {table}")
    fast = Collector(fast_client)

    rows, took = write_until_gone(server, table, set(subs))
    assert_writes_were_prompt(took)

    # Reading again (before the server's 5 s closing deadline): per subscription a gap-free
    # prefix; as many notices as the reserve holds, each for another subscription; then close
    # 1011 SUBSCRIBER_LAGGING for the rest.
    got = {sid: [] for sid in subs}
    notices = []
    while True:
        opcode, payload = slow.frame()
        if opcode == 8:
            code = int.from_bytes(payload[:2], "big")
            assert (code, payload[2:].decode()) == (1011, "SUBSCRIBER_LAGGING")
            break
        assert opcode == 1, opcode
        m = json.loads(payload)
        if m["type"] == "change":
            assert m["subscription_id"] not in notices, "an event after the notice"
            got[m["subscription_id"]].append(m["rows"][0]["id"])
        else:
            assert m == dict(LAGGING, subscription_id=m["subscription_id"])
            notices.append(m["subscription_id"])
    assert len(notices) == CONTROL_RESERVE and len(set(notices)) == CONTROL_RESERVE
    for sid, ids in got.items():
        assert ids == list(range(len(ids))) and len(ids) < rows, sid
    assert not (set(subs) & live_subscriptions(server))
    assert [e["rows"][0]["id"] for e in fast.wait_for(rows)] == list(range(rows))
    assert "fast" in live_subscriptions(server)
    slow.close()
    fast_client.close()
