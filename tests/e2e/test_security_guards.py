"""Request guards and loopback rules (PROTOCOL §1 guards, §2 localhost_bypass, rate limits):
each test starts its own server with the configuration under attack."""
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from helpers import unique
from security_helpers import (LIFT_AUTH_LIMIT, PW, assert_sql_error, non_loopback_ip, parse_raw,
                              raw_http)
from kalam_harness import ROOT_PASSWORD, Server


def start(tmp_path, toml, env=None):
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Server(tmp_path / "data", config_toml=toml, env=env).start()


@pytest.fixture
def srv(request, tmp_path):
    servers = []

    def make(toml, env=None):
        s = start(tmp_path / str(len(servers)), toml, env)
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop()


def sql_noauth(s, sql, headers=None, base=None):
    return requests.post((base or s.base) + "/v1/api/sql", json={"sql": sql}, headers=headers or {})


# ---- localhost_bypass -----------------------------------------------------------------------------

def test_bypass_off_by_default(srv):
    s = srv(LIFT_AUTH_LIMIT)
    r = sql_noauth(s, "CREATE NAMESPACE bypassed")
    assert_sql_error(r, 401, "MISSING_AUTHORIZATION")
    assert s.rows("SELECT count(*) FROM system.namespaces WHERE namespace_id = 'bypassed'") == [["0"]]


def test_bypass_on(srv):
    s = srv("[auth]\nlocalhost_bypass = true\n" + LIFT_AUTH_LIMIT)
    r = sql_noauth(s, "SELECT CURRENT_USER(), CURRENT_ROLE()")
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["rows"] == [["root", "system"]]
    assert r.json()["results"][0]["as_user"] == "root"
    # a request WITH an Authorization header is authenticated normally, never bypassed
    for h in ("Bearer garbage", "Basic cm9vdDp4", "Bearer", "Token x", "bearer " + "x" * 50):
        r = sql_noauth(s, "CREATE NAMESPACE viaheader", headers={"Authorization": h})
        assert r.status_code == 401, (h, r.text)
    assert s.rows("SELECT count(*) FROM system.namespaces WHERE namespace_id = 'viaheader'") == [["0"]]
    # a user's own token still runs as that user, not as root
    u = unique("bp")
    s.create_user(u)
    r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT CURRENT_USER()"},
                      headers={"Authorization": f"Bearer {s.token(u, PW)}"})
    assert r.json()["results"][0]["rows"] == [[u]]


def test_bypass_empty_authorization_header_is_a_header(srv):
    """`Authorization:` present with an empty value is not 'without any Authorization header'."""
    s = srv("[auth]\nlocalhost_bypass = true\n" + LIFT_AUTH_LIMIT)
    body = json.dumps({"sql": "SELECT CURRENT_USER()"}).encode()
    raw = raw_http(s.port, b"POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: \r\n"
                           b"Content-Type: application/json\r\nContent-Length: "
                   + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    status, _, resp = parse_raw(raw)
    assert status == 401, raw[:300]


def test_bypass_does_not_apply_to_auth_endpoints(srv):
    s = srv("[auth]\nlocalhost_bypass = true\n" + LIFT_AUTH_LIMIT)
    assert requests.get(s.base + "/v1/api/auth/me").status_code == 401
    assert requests.post(s.base + "/v1/api/auth/refresh").status_code == 401


def test_bypass_custom_user_and_deleted_user(srv):
    s = srv("[auth]\nlocalhost_bypass = true\nlocalhost_user = \"local_svc\"\n" + LIFT_AUTH_LIMIT)
    s.sql("CREATE USER local_svc WITH PASSWORD 'password123' ROLE service")
    r = sql_noauth(s, "SELECT CURRENT_USER(), CURRENT_ROLE()")
    assert r.status_code == 200 and r.json()["results"][0]["rows"] == [["local_svc", "service"]], r.text
    # the bypass user has exactly its own role: no dba powers
    r = sql_noauth(s, "CREATE NAMESPACE via_bypass")
    assert_sql_error(r, 403, "PERMISSION_DENIED")
    s.sql("DROP USER local_svc")
    r = sql_noauth(s, "SELECT CURRENT_USER()")
    assert r.status_code == 401, r.text


def test_bypass_never_for_remote_peers(srv):
    ip = non_loopback_ip()
    if ip is None:
        pytest.skip("no non-loopback address")
    s = srv("[auth]\nlocalhost_bypass = true\n" + LIFT_AUTH_LIMIT, env={"KALAMDB_SERVER_HOST": "0.0.0.0"})
    remote = f"http://{ip}:{s.port}"
    for h in ({}, {"X-Forwarded-For": "127.0.0.1"}, {"X-Real-IP": "127.0.0.1"},
              {"Forwarded": "for=127.0.0.1"}, {"Host": "localhost"}):
        r = sql_noauth(s, "CREATE NAMESPACE remote_pwn", headers=h, base=remote)
        assert_sql_error(r, 401, "MISSING_AUTHORIZATION")
    assert s.rows("SELECT count(*) FROM system.namespaces WHERE namespace_id = 'remote_pwn'") == [["0"]]
    assert sql_noauth(s, "SELECT 1").status_code == 200  # loopback still bypasses


# ---- body size, malformed JSON -----------------------------------------------------------------------

def test_body_too_large(srv):
    s = srv("[limits]\nmax_body_bytes = 4096\n" + LIFT_AUTH_LIMIT)
    tok = s.token()
    big = json.dumps({"sql": "SELECT '" + "x" * 5000 + "'"})
    for path, headers in (("/v1/api/sql", {"Authorization": f"Bearer {tok}"}),
                          ("/v1/api/sql", {}),  # before auth
                          ("/v1/api/auth/login", {})):
        r = requests.post(s.base + path, data=big,
                          headers=dict(headers, **{"Content-Type": "application/json"}))
        assert r.status_code == 413, (path, r.status_code, r.text)
        body = r.json()
        assert list(body) == ["error", "message", "size_bytes", "max_bytes"], body
        assert body["error"] == "BODY_TOO_LARGE"
        assert body["size_bytes"] == len(big) and body["max_bytes"] == 4096, body
    # chunked upload (no Content-Length) over the limit is refused too
    def gen():
        for _ in range(10):
            yield b"x" * 1000
    r = requests.post(s.base + "/v1/api/sql", data=gen(),
                      headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "BODY_TOO_LARGE"
    assert s.rows("SELECT 1") == [["1"]]  # a computed integer is BIGINT: a string on the wire


@pytest.mark.parametrize("data", ["{", "[]", '"sql"', "null", '{"sql": 1}', '{"sql": null}',
                                  "{'sql': 'SELECT 1'}", '{"sql":"SELECT 1",}', "\xff\xfe"])
def test_malformed_json(server, data):
    r = requests.post(server.base + "/v1/api/sql", data=data.encode("latin-1"),
                      headers={"Authorization": f"Bearer {server.token()}",
                               "Content-Type": "application/json"})
    err = assert_sql_error(r, 400, "INVALID_INPUT")
    assert err["message"].startswith("Invalid JSON payload: "), err


# ---- connection cap ---------------------------------------------------------------------------------

def test_connection_cap(srv):
    """Connections beyond limits.max_connections get 503 TOO_MANY_CONNECTIONS and the server
    recovers when they close. The harness may still hold a socket of its own, so the test opens
    connections until the cap answers (at the latest on the 4th) rather than assuming none."""
    s = srv("[limits]\nmax_connections = 3\n" + LIFT_AUTH_LIMIT)
    tok = s.token()
    s.http.close()
    time.sleep(0.3)  # let the server see the session's connection close
    held, rejected = [], None
    try:
        for _ in range(4):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            resp = c.recv(4096)
            if resp.startswith(b"HTTP/1.1 200"):
                held.append(c)  # accepted and counted (keep-alive keeps it open)
                continue
            rejected = resp
            c.close()
            break
        assert rejected is not None, f"{len(held) + 1} connections open, none refused"
        assert len(held) <= 3
        assert rejected.startswith(b"HTTP/1.1 503"), rejected[:200]
        body = json.loads(rejected.split(b"\r\n\r\n", 1)[1])
        assert list(body) == ["error", "message", "current", "max"], body
        assert body["error"] == "TOO_MANY_CONNECTIONS" and body["max"] == 3 and body["current"] == 3
    finally:
        for c in held:
            c.close()
    time.sleep(0.3)
    r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                      headers={"Authorization": f"Bearer {tok}"}, timeout=5)
    assert r.status_code == 200, r.text


def test_slow_headers_are_cut_off(srv):
    s = srv("[limits]\nrequest_timeout_secs = 1\n" + LIFT_AUTH_LIMIT)
    c = socket.create_connection(("127.0.0.1", s.port), timeout=6)
    c.sendall(b"POST /v1/api/sql HTTP/1.1\r\nHost: x\r\n")
    t0 = time.time()
    try:
        data = c.recv(1000)
    except socket.timeout:
        data = None
    elapsed = time.time() - t0
    c.close()
    assert data is not None and elapsed < 5, (data, elapsed)


# ---- CORS ----------------------------------------------------------------------------------------------

def test_cors(srv):
    s = srv('[security]\ncors_allowed_origins = ["https://app.example"]\n' + LIFT_AUTH_LIMIT)
    pre = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type"}
    r = requests.options(s.base + "/v1/api/sql", headers=dict(pre, Origin="https://app.example"))
    assert r.status_code == 204 and r.content == b"", (r.status_code, r.text)
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example", r.headers
    for evil in ("https://evil.example", "https://app.example.evil.com", "http://app.example",
                 "https://app.example:444", "null", "https://APP.EXAMPLE.evil", "https://app.exampl",
                 "https://app.example\r\nX-Injected: 1".replace("\r\n", "")):
        r = requests.options(s.base + "/v1/api/sql", headers=dict(pre, Origin=evil))
        assert "Access-Control-Allow-Origin" not in r.headers, (evil, r.headers)
        assert r.headers.get("Access-Control-Allow-Credentials") is None, (evil, r.headers)
        r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                          headers={"Origin": evil, "Authorization": f"Bearer {s.token()}"})
        assert "Access-Control-Allow-Origin" not in r.headers, (evil, r.headers)
    r = requests.post(s.base + "/v1/api/auth/login", json={"user": "root", "password": ROOT_PASSWORD},
                      headers={"Origin": "https://app.example"})
    assert r.headers.get("Access-Control-Allow-Origin") == "https://app.example"


def test_no_cors_by_default(server):
    r = requests.options(server.base + "/v1/api/sql",
                         headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in r.headers, r.headers
    r = requests.post(server.base + "/v1/api/auth/login", json={"user": "root", "password": ROOT_PASSWORD},
                      headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


# ---- rate limits -----------------------------------------------------------------------------------

def test_auth_rate_limit_defaults(srv):
    s = srv("")  # built-in defaults: 20 auth requests per second per IP
    name = unique("rl")
    s.create_user(name)  # one login (root)

    def login(i):
        # rotating forwarding headers must not give each request its own bucket
        return requests.post(s.base + "/v1/api/auth/login", json={"user": name, "password": PW},
                             headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}",
                                      "X-Real-IP": f"10.1.0.{i % 250}"})

    t0 = time.time()
    with ThreadPoolExecutor(30) as pool:
        res = list(pool.map(login, range(60)))
    elapsed = time.time() - t0
    limited = [r for r in res if r.status_code == 429]
    assert limited, [r.status_code for r in res]
    # token bucket: a burst of 20 plus 20 per second of the run, with some slack
    assert sum(r.status_code == 200 for r in res) <= 20 + 20 * elapsed + 3, \
        ([r.status_code for r in res], elapsed)
    r = limited[0]
    body = r.json()
    assert set(body) == {"error", "message"} and body["error"] == "rate_limited", body
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert not r.raw.headers.getlist("Set-Cookie")
    # rate-limited attempts with a wrong password do not count as failed logins, and do not lock
    time.sleep(1.2)
    assert requests.post(s.base + "/v1/api/auth/login",
                         json={"user": name, "password": PW}).status_code == 200


def test_request_rate_limit(srv):
    s = srv("[rate_limit]\nmax_requests_per_ip_per_sec = 5\nmax_auth_requests_per_ip_per_sec = 100000\n")
    time.sleep(1.1)  # the start-up health polling used tokens
    tok = s.login()["access_token"]
    codes, limited = [], None
    for i in range(15):
        r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                          headers={"Authorization": f"Bearer {tok}", "X-Forwarded-For": f"10.9.9.{i}"})
        codes.append(r.status_code)
        if r.status_code == 429 and limited is None:
            limited = r
    assert limited is not None, codes
    body = limited.json()
    assert list(body) == ["error", "message", "retry_after_seconds"], body
    assert body["error"] == "RATE_LIMIT_EXCEEDED" and isinstance(body["retry_after_seconds"], int)
    assert limited.headers.get("Retry-After") == str(body["retry_after_seconds"])
    assert codes.count(200) <= 7, codes
    # unauthenticated garbage is limited too (guards run before auth)
    r = [requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"}).status_code for _ in range(10)]
    assert 429 in r, r
    time.sleep(1.5)
    r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                      headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 200, r.text


# ---- runaway queries ------------------------------------------------------------------------------

def test_runaway_query_does_not_pin_workers(srv):
    """A user-role caller sends as many never-ending queries as there are workers and hangs up.
    The server must stop running them (request timeout / interrupt) so others are served again;
    otherwise any authenticated user can take the whole server down."""
    s = srv("[server]\nworker_threads = 2\n[limits]\nrequest_timeout_secs = 2\n" + LIFT_AUTH_LIMIT)
    try:
        u = unique("dos")
        s.create_user(u)
        tok = s.token(u, PW)
        forever = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
        for _ in range(2):
            try:
                requests.post(s.base + "/v1/api/sql", json={"sql": forever},
                              headers={"Authorization": f"Bearer {tok}"}, timeout=0.5)
            except requests.RequestException:
                pass
        time.sleep(4)  # well past request_timeout_secs
        try:
            r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                              headers={"Authorization": f"Bearer {tok}"}, timeout=8)
            status = r.status_code
        except requests.RequestException as e:
            status = repr(e)[:120]
        assert status == 200, f"server still busy with abandoned queries: {status}"
    finally:
        s.kill9()


def test_single_expensive_function_call_is_bounded(srv):
    """One VM step can run for a long time (printf with a 2e9 width): the progress handler never
    gets a chance. The worker must still be free soon after request_timeout_secs."""
    s = srv("[server]\nworker_threads = 1\n[limits]\nrequest_timeout_secs = 2\n" + LIFT_AUTH_LIMIT)
    try:
        u = unique("dos")
        s.create_user(u)
        tok = s.token(u, PW)
        try:
            requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT printf('%.*c', 2000000000, 'x')"},
                          headers={"Authorization": f"Bearer {tok}"}, timeout=0.5)
        except requests.RequestException:
            pass
        time.sleep(3.5)
        try:
            r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT 1"},
                              headers={"Authorization": f"Bearer {tok}"}, timeout=5)
            status = r.status_code
        except requests.RequestException as e:
            status = repr(e)[:120]
        assert status == 200, f"worker still busy with an abandoned printf: {status}"
    finally:
        s.kill9()


def _peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


def test_one_request_cannot_balloon_memory(srv):
    """Hardening: a user-role `SELECT randomblob(150000000)` (150 MB value, ~4 bytes of JSON per
    byte) must not make the server's peak RSS grow by more than 1 GB. (Observed earlier:
    randomblob(1e9) grew the server to 10 GB in under a minute.)"""
    s = srv("[limits]\nrequest_timeout_secs = 5\n" + LIFT_AUTH_LIMIT)
    try:
        u = unique("mem")
        s.create_user(u)
        tok = s.token(u, PW)
        base = _peak_rss_mb(s.proc.pid)
        try:
            r = requests.post(s.base + "/v1/api/sql", json={"sql": "SELECT randomblob(150000000)"},
                              headers={"Authorization": f"Bearer {tok}"}, timeout=15)
            outcome = (r.status_code, r.text[:120])
        except requests.RequestException as e:
            outcome = repr(e)[:120]
        time.sleep(0.5)
        grew = _peak_rss_mb(s.proc.pid) - base
        assert grew < 1024, f"peak RSS grew by {grew} MB for one request ({outcome})"
    finally:
        s.kill9()
