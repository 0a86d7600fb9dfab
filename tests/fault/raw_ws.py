"""A WebSocket live-query client written the way a third party would write one from PROTOCOL.md
§4 alone: a plain socket, the RFC 6455 handshake, masked text frames out, text or gzip binary
frames in, JSON `ping` keep-alive, and an abrupt cut (TCP close or reset, no close frame)."""
import base64
import gzip
import hashlib
import json
import os
import socket
import struct
import time

_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Closed(Exception):
    """The server closed the connection (close frame: code and reason; EOF: code None)."""

    def __init__(self, code=None, reason=""):
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class RawWs:
    """One connection to /v1/ws, authenticated with a Bearer header. Not thread-safe."""

    def __init__(self, port, token, compress=True, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        path = "/v1/ws" + ("" if compress else "?compress=false")
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        status = head.split("\r\n", 1)[0]
        if not status.startswith("HTTP/1.1 101"):
            raise ConnectionError(f"upgrade refused: {status}")
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest()).decode()
        fields = dict(line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line)
        fields = {k.strip().lower(): v.strip() for k, v in fields.items()}
        if fields.get("sec-websocket-accept") != accept:
            raise ConnectionError(f"bad Sec-WebSocket-Accept in {head!r}")
        self.hello = self.recv(timeout)
        if self.hello.get("type") != "auth_success":
            raise ConnectionError(f"auth failed: {self.hello}")

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise Closed()
        self.buf += chunk

    def send(self, obj):
        payload = json.dumps(obj).encode()
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        mask = os.urandom(4)
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")
        self.sock.sendall(header + mask + masked)

    def _send_control(self, opcode, payload=b""):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + mask + masked)

    def _frame(self):
        """(fin, opcode, payload) of the next frame; reads as needed."""
        while True:
            b = self.buf
            if len(b) >= 2:
                if b[1] & 0x80:
                    raise ConnectionError("server frames are never masked")
                fin, opcode, n, pos = b[0] & 0x80, b[0] & 0x0F, b[1] & 0x7F, 2
                if n == 126:
                    n, pos = (struct.unpack_from("!H", b, 2)[0], 4) if len(b) >= 4 else (None, 0)
                elif n == 127:
                    n, pos = (struct.unpack_from("!Q", b, 2)[0], 10) if len(b) >= 10 else (None, 0)
                if n is not None and len(b) >= pos + n:
                    payload = bytes(b[pos:pos + n])
                    del b[:pos + n]
                    return fin, opcode, payload
            self._fill()

    def recv(self, timeout):
        """The next server message as a dict. Raises TimeoutError when none arrives within
        `timeout` seconds, Closed when the server closes."""
        deadline = time.monotonic() + timeout
        parts, kind = [], None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.sock.settimeout(left)
            try:
                fin, opcode, payload = self._frame()
            except socket.timeout:
                raise TimeoutError from None
            except (ConnectionResetError, BrokenPipeError) as e:
                raise Closed(None, str(e)) from None
            if opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise Closed(code, payload[2:].decode(errors="replace"))
            if opcode == 0x9:
                self._send_control(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode in (0x1, 0x2):
                kind, parts = opcode, [payload]
            elif opcode == 0x0:
                parts.append(payload)
            else:
                raise ConnectionError(f"unknown opcode {opcode}")
            if fin:
                data = b"".join(parts)
                if kind == 0x2:
                    if data[:2] != b"\x1f\x8b":
                        raise ConnectionError(f"binary frame that is not gzip: {data[:8]!r}")
                    data = gzip.decompress(data)
                return json.loads(data)

    def cut(self, reset=False):
        """Drops the connection without a close frame: a FIN, or with `reset` a TCP RST."""
        try:
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass
