"""A small synchronous live-query client for tests: connects to /v1/ws, authenticates, subscribes,
and reads server messages (text, or gzip binary frames)."""
import gzip
import json
import socket

from websockets.sync.client import connect


class LiveClient:
    def __init__(self, server, user="root", password=None, compress=True, header_auth=True):
        from kalam_harness import ROOT_PASSWORD
        token = server.token(user, password or ROOT_PASSWORD)
        url = f"ws://127.0.0.1:{server.port}/v1/ws" + ("" if compress else "?compress=false")
        headers = {"Authorization": f"Bearer {token}"} if header_auth else {}
        self.ws = connect(url, additional_headers=headers, open_timeout=10, max_size=64 << 20)
        if not header_auth:
            self.send({"type": "authenticate", "method": "jwt", "token": token})
        self.hello = self.recv()
        assert self.hello["type"] == "auth_success", self.hello

    def send(self, obj):
        self.ws.send(json.dumps(obj))

    def recv(self, timeout=10.0):
        raw = self.ws.recv(timeout=timeout)
        if isinstance(raw, bytes):
            assert raw[:2] == b"\x1f\x8b", raw[:10]
            raw = gzip.decompress(raw).decode()
        return json.loads(raw)

    def subscribe(self, sid, sql, options=None):
        sub = {"id": sid, "sql": sql}
        if options is not None:
            sub["options"] = options
        self.send({"type": "subscribe", "subscription": sub})

    def subscribe_ready(self, sid, sql, options=None):
        """Subscribes and reads the ack (and, with options, every initial batch). Returns
        (ack, rows of all batches)."""
        self.subscribe(sid, sql, options)
        ack = self.recv()
        assert ack["type"] == "subscription_ack", ack
        rows = []
        if options is not None:
            while True:
                batch = self.recv()
                assert batch["type"] == "initial_data_batch", batch
                rows.extend(batch["rows"])
                if not batch["batch_control"]["has_more"]:
                    break
                self.send({"type": "next_batch", "subscription_id": sid,
                           "last_seq_id": batch["batch_control"]["last_seq_id"]})
        return ack, rows

    def subscribe_all(self, sid, sql, options):
        """Subscribes with `options` and reads the ack and the whole snapshot, sending next_batch
        after each batch with more, up to the `ready` batch. Returns (ack, messages): the batches
        and the change events among them (the deletes a resume replays), in arrival order."""
        self.subscribe(sid, sql, options)
        ack = self.recv()
        assert ack["type"] == "subscription_ack", ack
        messages = []
        while True:
            m = self.recv()
            assert m["type"] in ("initial_data_batch", "change"), m
            messages.append(m)
            if m["type"] == "initial_data_batch":
                if not m["batch_control"]["has_more"]:
                    return ack, messages
                self.send({"type": "next_batch", "subscription_id": sid,
                           "last_seq_id": m["batch_control"]["last_seq_id"]})

    def cut(self):
        """Drops the connection abruptly: the TCP socket is closed, no close frame is sent."""
        sock = self.ws.socket
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone
        sock.close()

    def changes(self, n, timeout=15.0):
        out = []
        while len(out) < n:
            m = self.recv(timeout=timeout)
            assert m["type"] == "change", m
            out.append(m)
        return out

    def expect_silence(self, seconds=0.3):
        try:
            m = self.recv(timeout=seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {m}")

    def close(self):
        self.ws.close()
