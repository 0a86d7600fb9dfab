"""PROTOCOL §1: health endpoints, unknown routes, wrong methods, the /api/sql alias."""
import re

import pytest
import requests

from helpers import assert_sql_error, post_sql

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.mark.parametrize("path", ["/health", "/v1/api/healthcheck"])
def test_health_body(server, path):
    r = requests.get(server.base + path)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["status", "version", "api_version", "build_date"], body
    assert body["status"] == "healthy"
    assert body["api_version"] == "v1"
    assert isinstance(body["version"], str) and re.match(r"^\d+\.\d+\.\d+", body["version"]), body
    assert isinstance(body["build_date"], str) and RFC3339.match(body["build_date"]), body


def test_health_and_healthcheck_identical(server):
    a = requests.get(server.base + "/health").json()
    b = requests.get(server.base + "/v1/api/healthcheck").json()
    assert a == b


def test_health_needs_no_auth_and_ignores_query_string(server):
    r = requests.get(server.base + "/health?probe=1", headers={"Authorization": "Bearer junk"})
    assert r.status_code == 200
    assert r.json()["status"] == "healthy"


@pytest.mark.parametrize("method,path", [
    ("GET", "/nope"),
    ("GET", "/v1/api/nope"),
    ("POST", "/v1/api/sql/extra"),
    ("GET", "/health/extra"),
    ("GET", "/api/healthcheck"),
    ("GET", "/uix"),  # `/` redirects to the admin console (test_ui_route.py); /uix is no route
])
def test_unknown_route_404(server, method, path):
    r = requests.request(method, server.base + path)
    assert r.status_code == 404, r.text
    body = r.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == "NOT_FOUND"
    assert isinstance(body["message"], str) and body["message"], body


@pytest.mark.parametrize("method,path,allowed", [
    ("POST", "/health", "GET"),
    ("DELETE", "/v1/api/healthcheck", "GET"),
    ("GET", "/v1/api/sql", "POST"),
    ("PUT", "/v1/api/sql", "POST"),
    ("GET", "/api/sql", "POST"),
    ("GET", "/v1/api/auth/login", "POST"),
])
def test_wrong_method_405(server, method, path, allowed):
    r = requests.request(method, server.base + path)
    assert r.status_code == 405, r.text
    # RFC 9110 §15.5.6: a 405 response MUST carry an Allow header.
    assert r.headers.get("Allow") == allowed, r.headers
    body = r.json()
    assert set(body) == {"error", "message"}, body
    assert body["error"] == "METHOD_NOT_ALLOWED"


def test_api_sql_alias(server):
    r = post_sql(server, {"sql": "SELECT 41 + 1 AS answer"}, path="/api/sql")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"status", "results", "took"}
    assert body["status"] == "success"
    assert body["results"] == [{
        "schema": [{"name": "answer", "data_type": "BigInt", "index": 0}],
        "rows": [["42"]], "row_count": 1, "as_user": "root"}]


def test_api_sql_alias_requires_auth(server):
    r = requests.post(server.base + "/api/sql", json={"sql": "SELECT 1"})
    assert_sql_error(r, 401, "MISSING_AUTHORIZATION")


def test_keep_alive_many_requests_one_connection(server):
    s = requests.Session()
    h = {"Authorization": f"Bearer {server.token()}"}
    for i in range(20):
        r = s.post(server.base + "/v1/api/sql", json={"sql": f"SELECT {i} AS i"}, headers=h)
        assert r.status_code == 200
        assert r.json()["results"][0]["rows"] == [[str(i)]]
    assert s.get(server.base + "/health").json()["status"] == "healthy"


def _raw(server, data, wait=1.0):
    import socket
    s = socket.create_connection(("127.0.0.1", server.port))
    s.settimeout(wait)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    return out


def test_pipelined_requests_answered_in_order(server):
    import json
    reqs = b""
    for i in range(3):
        body = json.dumps({"sql": f"SELECT {i} AS i"}).encode()
        reqs += (b"POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.token().encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode()
                 + b"\r\n\r\n" + body)
    out = _raw(server, reqs)
    assert out.count(b"HTTP/1.1 200 OK") == 3, out[:500]
    positions = [out.find(f'"rows":[["{i}"]]'.encode()) for i in range(3)]
    assert -1 not in positions and positions == sorted(positions)


def test_malformed_http_request_400(server):
    out = _raw(server, b"GARBAGE\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400"), out[:200]


def test_http10_health(server):
    out = _raw(server, b"GET /health HTTP/1.0\r\n\r\n")
    assert out.split(b"\r\n", 1)[0] in (b"HTTP/1.0 200 OK", b"HTTP/1.1 200 OK"), out[:200]
    assert b'"status":"healthy"' in out
