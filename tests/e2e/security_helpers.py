"""Helpers for the attack-minded security suite (test_security_*.py).

Everything here talks to the server over HTTP only (black box). JWTs are forged with the
standard library (hmac/hashlib/base64) so no extra packages are needed.
"""
import base64
import hashlib
import hmac
import json
import socket
import time

import requests

from helpers import SQL_ERROR_KEYS, assert_sql_error, login_raw, post_sql  # noqa: F401
from kalam_harness import ROOT_PASSWORD, Server

PW = "password123"
JWT_SECRET = "security-suite-fixed-jwt-secret-0123456789"

LEAK_MARKERS = ("kt_", "ks_", "sqlite_", "/tmp/", "/work/", ".cc:", ".h:", "#0 ", "0x7f",
                "Traceback", "std::", "boost::", "rocksdb")


# ---- JWT forging ---------------------------------------------------------------------------------

def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj) -> str:
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def b64url_decode_json(part: str):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sign(header: dict, claims: dict, secret: str = JWT_SECRET, alg: str = "sha256") -> str:
    signing_input = b64url_json(header) + "." + b64url_json(claims)
    mac = hmac.new(secret.encode(), signing_input.encode(), getattr(hashlib, alg)).digest()
    return signing_input + "." + b64url(mac)


def claims_for(user, role, token_type="access", iat=None, exp=None, email=None, **extra):
    now = int(time.time())
    c = {"sub": user, "iss": "kalamdb", "iat": now if iat is None else iat,
         "exp": now + 3600 if exp is None else exp, "email": email, "role": role,
         "token_type": token_type}
    c.update(extra)
    return c


def forge(user, role, secret=JWT_SECRET, header=None, **kw):
    return sign(header or {"alg": "HS256", "typ": "JWT"}, claims_for(user, role, **kw), secret)


# ---- HTTP helpers --------------------------------------------------------------------------------

def post_sql_tok(server, sql, token=None, headers=None, **body):
    h = headers if headers is not None else (
        {"Authorization": f"Bearer {token}"} if token is not None else {})
    payload = {"sql": sql}
    payload.update(body)
    return post_sql(server, payload, headers=h)


def login_ok(server, user, password=PW):
    r = login_raw(server, {"user": user, "password": password})
    assert r.status_code == 200, (user, r.status_code, r.text)
    return r.json()


def access(server, user, password=PW):
    return login_ok(server, user, password)["access_token"]


def assert_no_leak(err_or_text, extra=(), typed=""):
    """No internal name, path or trace in an error. Identifiers the caller typed itself (`typed`,
    the SQL text) are removed first: echoing them back is not a leak."""
    text = err_or_text if isinstance(err_or_text, str) else json.dumps(err_or_text)
    import re
    for word in sorted(set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", typed)), key=len, reverse=True):
        if len(word) > 2:
            text = re.sub(re.escape(word), "", text, flags=re.I)
    for m in tuple(LEAK_MARKERS) + tuple(extra):
        assert m.lower() not in text.lower(), f"leaked {m!r} in {text}"


def auth_error_body(resp, status, error):
    body = resp.json()
    assert resp.status_code == status, (resp.status_code, body)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == error, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def set_cookies(resp):
    return resp.raw.headers.getlist("Set-Cookie")


# ---- state snapshots (what root sees) --------------------------------------------------------------

def snapshot(server, tables=(), user_tables=()):
    """Everything a denied attack might have changed, as root sees it.

    `tables`: SHARED tables whose rows are captured (root reads them directly).
    `user_tables`: (table, user) pairs whose rows are captured through EXECUTE AS USER.
    """
    snap = {
        "users": server.rows("SELECT user_id, role, email, deleted_at, updated_at "
                             "FROM system.users ORDER BY user_id"),
        "namespaces": server.rows("SELECT namespace_id FROM system.namespaces "
                                  "ORDER BY namespace_id LIMIT 1000"),
        "tables": server.rows("SELECT namespace_id, table_name, table_type, version, options "
                              "FROM system.tables ORDER BY namespace_id, table_name LIMIT 1000"),
    }
    for t in tables:
        snap["rows:" + t] = server.rows(f"SELECT * FROM {t} ORDER BY 1 LIMIT 1000")
        snap["deleted:" + t] = server.rows(
            f"SELECT * FROM {t} WHERE _deleted = true ORDER BY 1 LIMIT 1000")
    for t, u in user_tables:
        if u == "root":
            snap[f"rows:{t}@{u}"] = server.rows(f"SELECT * FROM {t} ORDER BY 1 LIMIT 1000")
        else:
            snap[f"rows:{t}@{u}"] = server.rows(
                f"EXECUTE AS USER '{u}' (SELECT * FROM {t} ORDER BY 1 LIMIT 1000)")
    return snap


def assert_unchanged(server, before, tables=(), user_tables=()):
    after = snapshot(server, tables, user_tables)
    for k in before:
        assert after[k] == before[k], f"state changed after a denied request: {k}\n" \
                                      f"before={before[k]}\nafter={after[k]}"


# ---- servers with special configuration -------------------------------------------------------------

NEEDS_SETUP_ENV = {"KALAMDB_ROOT_PASSWORD": ""}
NEEDS_SETUP_TOML = ("[auth]\ngenerate_root_password = false\n"
                    "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n")
LIFT_AUTH_LIMIT = "[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"


def non_loopback_ip():
    """An address of this machine that is not loopback, or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            ip = s.getsockname()[0]
            if not ip.startswith("127."):
                return ip
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            ip = info[4][0]
            if not ip.startswith("127."):
                return ip
    except OSError:
        pass
    return None


def raw_http(port, request_bytes, host="127.0.0.1", timeout=5.0):
    """Sends raw bytes and returns the raw response (for header-injection style attacks)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(request_bytes)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
                data = b"".join(chunks)
                if b"\r\n\r\n" in data:
                    head, _, rest = data.partition(b"\r\n\r\n")
                    for line in head.split(b"\r\n"):
                        if line.lower().startswith(b"content-length:"):
                            if len(rest) >= int(line.split(b":")[1]):
                                return data
        except socket.timeout:
            pass
        return b"".join(chunks)


def parse_raw(resp_bytes):
    head, _, body = resp_bytes.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = [l.decode("latin-1") for l in lines[1:]]
    return status, headers, body


__all__ = [n for n in dir() if not n.startswith("_")] + ["ROOT_PASSWORD", "Server"]
