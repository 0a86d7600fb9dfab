"""docs/reference/openapi.yaml is true: real requests to every documented operation (successes and
the main errors) are validated, status and body, against the document; the document lists
exactly the routes the server registers; the document itself is valid OpenAPI 3.0."""
import copy
import json
import re
import time

import pytest
import requests
import yaml
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from helpers import wait_job
from kalam_harness import REPO, Server

SPEC_PATH = REPO / "docs" / "reference" / "openapi.yaml"
CONFIG = ("[rate_limit]\nmax_auth_requests_per_ip_per_sec = 100000\n"
          "[limits]\nmax_body_bytes = 65536\n")


def load_spec():
    return yaml.safe_load(SPEC_PATH.read_text())


def resolve(node, spec):
    """`node` with every local $ref replaced by its target (the document has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return resolve(copy.deepcopy(target), spec)
        return {k: resolve(v, spec) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, spec) for v in node]
    return node


class Contract:
    def __init__(self, spec):
        self.spec = spec
        self.templates = [(p, re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"))
                          for p in spec["paths"]]
        self.seen = set()  # (path template, method, status)

    def operation(self, method, path):
        for template, rx in self.templates:
            if rx.match(path):
                op = self.spec["paths"][template].get(method.lower())
                assert op is not None, f"{method} {path} is not in the document"
                return template, op
        raise AssertionError(f"{path} is not in the document")

    def check(self, resp):
        """Validates one real response against the document; returns the response."""
        req = resp.request
        path = req.path_url.split("?")[0]
        template, op = self.operation(req.method, path)
        status = str(resp.status_code)
        where = f"{req.method} {path} → {status} {resp.text[:300]}"
        assert status in op["responses"], f"undocumented status: {where}"
        response = resolve(op["responses"][status], self.spec)
        content = response.get("content", {})
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if not content:  # e.g. 304: no body
            assert resp.content == b"", f"a body where none is documented: {where}"
            self.seen.add((template, req.method.lower(), status))
            return resp
        if ctype not in content and "*/*" in content:
            ctype = "*/*"
        assert ctype in content, f"undocumented content type {ctype!r}: {where}"
        schema = content[ctype]["schema"]
        body = resp.json() if ctype == "application/json" else (
            resp.text if ctype.startswith("text/") else "<binary>")
        errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
        assert not errors, f"off-schema: {where}\n" + "\n".join(e.message for e in errors[:5])
        self.seen.add((template, req.method.lower(), status))
        return resp


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    ui = tmp_path_factory.mktemp("openapi-ui")
    (ui / "index.html").write_text("<!doctype html><title>console</title>")
    (ui / "app.js").write_text("export {};\n")
    s = Server(tmp_path_factory.mktemp("openapi") / "data",
               config_toml=CONFIG + f"[server]\nui_path = {json.dumps(str(ui))}\n").start()
    s.sql("CREATE USER alice WITH PASSWORD 'alice-pass-1' ROLE user")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def contract():
    return Contract(load_spec())


def test_document_is_valid_openapi():
    validate_spec(load_spec())


def test_document_lists_exactly_the_registered_routes():
    """Every route the source registers is documented, and nothing else (WebSocket upgrades
    are described in websocket.md instead)."""
    registered = set()
    for f in (REPO / "src" / "api").glob("*.cc"):
        text = f.read_text()
        for method, path in re.findall(r'\bAdd\("(\w+)", "([^"]+)"', text):
            registered.add((method.lower(), path))
        # A prefix route is documented as the one templated path under its prefix.
        for method, const in re.findall(r'\bAddPrefix\("(\w+)", std::string\((\w+)\)', text):
            prefix = re.search(const + r' = "([^"]+)"', text).group(1)
            registered.add((method.lower(), prefix + "…"))
    documented = set()
    for p, ops in load_spec()["paths"].items():
        for m in ops:
            prefixed = [(mm, r) for mm, r in registered if r.endswith("…") and mm == m and
                        p.startswith(r[:-1]) and p != r[:-1]]
            documented.add(prefixed[0] if prefixed else (m, p))
    assert documented == registered


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_health_and_metrics(srv, contract):
    for path in ("/health", "/v1/api/healthcheck", "/v1/api/cluster/health", "/metrics"):
        r = contract.check(requests.get(srv.base + path))
        assert r.status_code == 200


def test_sql(srv, contract):
    root, alice = srv.token(), srv.token("alice", "alice-pass-1")
    for path in ("/v1/api/sql", "/api/sql"):
        url = srv.base + path
        r = contract.check(requests.post(url, json={"sql": "SELECT 1 AS one, 'x' AS t"},
                                         headers=bearer(root)))
        assert r.json()["results"][0]["rows"] == [["1", "x"]]
        r = contract.check(requests.post(url, headers={}, json={"sql": "SELECT 1"}))
        assert (r.status_code, r.json()["error"]["code"]) == (401, "MISSING_AUTHORIZATION")
    url = srv.base + "/v1/api/sql"
    ok = [
        {"sql": "CREATE NAMESPACE IF NOT EXISTS api; CREATE SHARED TABLE IF NOT EXISTS api.t "
                "(id BIGINT PRIMARY KEY, d DECIMAL(6,2), v EMBEDDING(2))"},
        {"sql": "INSERT INTO api.t (id, d, v) VALUES ($1, $2, $3)", "params": [1, "2.50", "[1,2]"]},
        {"sql": "SELECT * FROM t", "namespace_id": "api"},
        {"sql": "INSERT INTO api.t (id, d) VALUES (2, 3) RETURNING id, d"},
    ]
    for body in ok:
        r = contract.check(requests.post(url, json=body, headers=bearer(root)))
        assert r.status_code == 200, r.text
    errors = [
        (bearer(root), "{not json", 400, "INVALID_INPUT"),
        (bearer(root), json.dumps({"sql": 5}), 400, "INVALID_INPUT"),
        (bearer(root), json.dumps({"sql": "SELEC 1"}), 400, "INVALID_SQL"),
        (bearer(root), json.dumps({"sql": " ; "}), 400, "EMPTY_SQL"),
        (bearer(root), json.dumps({"sql": "SELECT $1", "params": 3}), 400, "INVALID_PARAMETER"),
        (bearer(root), json.dumps({"sql": "SELECT 1; SELECT $1", "params": [1]}), 400,
         "PARAMS_WITH_BATCH"),
        (bearer(root), json.dumps({"sql": "SELECT * FROM api.nope"}), 400, "TABLE_NOT_FOUND"),
        (bearer(root), json.dumps({"sql": "INSERT INTO api.t (id) VALUES (1)"}), 400,
         "SQL_EXECUTION_ERROR"),
        (bearer(alice), json.dumps({"sql": "SELECT * FROM system.users"}), 403,
         "PERMISSION_DENIED"),
        (bearer("not.a.jwt"), json.dumps({"sql": "SELECT 1"}), 401, "AUTHENTICATION_ERROR"),
        ({"Authorization": "Basic cm9vdDp4"}, json.dumps({"sql": "SELECT 1"}), 401,
         "AUTHENTICATION_ERROR"),
    ]
    for headers, data, status, code in errors:
        r = contract.check(requests.post(url, data=data, headers=headers))
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    r = contract.check(requests.post(url, data="x" * 70000, headers=bearer(root)))
    assert (r.status_code, r.json()["error"]) == (413, "BODY_TOO_LARGE")


def test_auth_routes(srv, contract):
    base = srv.base + "/v1/api/auth"
    r = contract.check(requests.post(base + "/login",
                                     json={"user": "alice", "password": "alice-pass-1"}))
    assert r.status_code == 200
    tokens = r.json()
    r = contract.check(requests.post(base + "/login",
                                     json={"username": "alice", "password": "alice-pass-1"}))
    assert r.status_code == 200
    for body, status, code in [({"user": "alice", "password": "wrong-pass"}, 401, "unauthorized"),
                               ({"user": "alice"}, 400, "bad_request"),
                               ({"user": "alice", "password": "x", "extra": 1}, 400,
                                "bad_request")]:
        r = contract.check(requests.post(base + "/login", json=body))
        assert (r.status_code, r.json()["error"]) == (status, code)
    r = contract.check(requests.post(base + "/login", data="[1"))
    assert (r.status_code, r.json()["error"]) == (400, "bad_request")

    r = contract.check(requests.post(base + "/refresh", headers=bearer(tokens["refresh_token"])))
    assert r.status_code == 200
    r = contract.check(requests.post(base + "/refresh",
                                     cookies={"kalamdb_refresh": tokens["refresh_token"]}))
    assert r.status_code == 200
    for headers, message in [
            ({}, "No refresh token: send the kalamdb_refresh cookie or "
                 "'Authorization: Bearer <refresh token>'"),
            (bearer(tokens["access_token"]), "Invalid token: not a refresh token")]:
        r = contract.check(requests.post(base + "/refresh", headers=headers))
        assert r.json() == {"error": "unauthorized", "message": message}
    r = contract.check(requests.get(base + "/me", headers=bearer(tokens["refresh_token"])))
    assert r.json() == {"error": "unauthorized", "message": "Invalid token: not an access token"}

    r = contract.check(requests.get(base + "/me", headers=bearer(tokens["access_token"])))
    assert r.json()["user"]["id"] == "alice" and r.json()["admin_ui_access"] is False
    r = contract.check(requests.get(base + "/me", cookies={"kalamdb_auth": tokens["access_token"]}))
    assert r.status_code == 200
    for headers in ({}, bearer("x.y.z")):
        r = contract.check(requests.get(base + "/me", headers=headers))
        assert (r.status_code, r.json()["error"]) == (401, "unauthorized")

    r = contract.check(requests.post(base + "/logout"))
    assert r.json() == {"message": "Logged out successfully"}

    r = contract.check(requests.get(base + "/status"))
    assert r.json() == {"needs_setup": False, "message": "Server is configured"}
    r = contract.check(requests.post(base + "/setup", json={"user": "admin", "password": "p" * 10,
                                                             "root_password": "r" * 10}))
    assert (r.status_code, r.json()["error"]) == (409, "already_configured")
    r = contract.check(requests.post(base + "/setup", data="nope"))
    assert (r.status_code, r.json()["error"]) == (400, "bad_request")


def test_first_run_setup(tmp_path, contract):
    s = Server(tmp_path / "data", config_toml=CONFIG + "[auth]\ngenerate_root_password = false\n",
               env={"KALAMDB_ROOT_PASSWORD": ""}).start()
    try:
        base = s.base + "/v1/api/auth"
        r = contract.check(requests.get(base + "/status"))
        assert r.json()["needs_setup"] is True
        r = contract.check(requests.post(base + "/setup", json={
            "user": "admin", "password": "short", "root_password": "root-pass-123"}))
        assert (r.status_code, r.json()["error"]) == (400, "weak_password")
        r = contract.check(requests.post(base + "/setup", json={
            "user": "admin", "password": "admin-pass-123", "root_password": "root-pass-123",
            "email": "admin@example.com"}))
        assert r.status_code == 200 and r.json()["user"]["role"] == "dba"
    finally:
        s.stop()


def test_topics(srv, contract):
    root, alice = srv.token(), srv.token("alice", "alice-pass-1")
    srv.sql("CREATE NAMESPACE IF NOT EXISTS tp; CREATE SHARED TABLE tp.src (id INT PRIMARY KEY, "
            "note TEXT); CREATE TOPIC tp.feed PARTITIONS 1; "
            "ALTER TOPIC tp.feed ADD SOURCE tp.src ON INSERT; "
            "INSERT INTO tp.src (id, note) VALUES (1, 'a'), (2, 'b')")
    url = srv.base + "/v1/api/topics"
    r = contract.check(requests.post(url + "/consume", headers=bearer(root), json={
        "topic_id": "tp.feed", "group_id": "g", "start": "Earliest", "limit": 10}))
    assert [m["offset"] for m in r.json()["messages"]] == [0, 1]
    assert r.json()["messages"][0]["op"] == "Insert"
    r = contract.check(requests.post(url + "/consume", headers=bearer(root), json={
        "topic_id": "tp.feed", "group_id": "g2", "start": {"Offset": 1}, "partition_id": 0}))
    assert [m["offset"] for m in r.json()["messages"]] == [1]
    r = contract.check(requests.post(url + "/ack", headers=bearer(root), json={
        "topic_id": "tp.feed", "group_id": "g", "partition_id": 0, "upto_offset": 1}))
    assert r.json() == {"success": True, "acknowledged_offset": 1}
    cases = [
        ("/consume", bearer(root), {"group_id": "g"}, 400, "BAD_REQUEST"),
        ("/consume", bearer(root), {"topic_id": "tp.feed", "group_id": "g", "start": 5}, 400,
         "BAD_REQUEST"),
        ("/consume", bearer(root), {"topic_id": "tp.none", "group_id": "g"}, 404, "NOT_FOUND"),
        ("/consume", bearer(alice), {"topic_id": "tp.feed", "group_id": "g"}, 403, "FORBIDDEN"),
        ("/ack", bearer(root), {"topic_id": "tp.feed", "group_id": "g"}, 400, "BAD_REQUEST"),
        ("/ack", bearer(root), {"topic_id": "tp.none", "group_id": "g", "upto_offset": 0}, 404,
         "NOT_FOUND"),
        ("/ack", bearer(alice), {"topic_id": "tp.feed", "group_id": "g", "upto_offset": 0}, 403,
         "FORBIDDEN"),
    ]
    for path, headers, body, status, code in cases:
        r = contract.check(requests.post(url + path, headers=headers, json=body))
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
    for path in ("/consume", "/ack"):
        r = contract.check(requests.post(url + path, data="{", headers=bearer(root)))
        assert (r.status_code, r.json()["code"]) == (400, "BAD_REQUEST")
        r = contract.check(requests.post(url + path, json={}))
        assert (r.status_code, r.json()["error"]["code"]) == (401, "MISSING_AUTHORIZATION")


def test_export_download(srv, contract):
    alice = srv.token("alice", "alice-pass-1")
    msg = srv.sql("EXPORT USER DATA", user="alice", password="alice-pass-1")
    job_id = re.search(r"Job ID: (UE-\d+)", msg["results"][0]["message"]).group(1)
    wait_job(srv, job_id)
    rows = srv.rows("SHOW EXPORT", user="alice", password="alice-pass-1")
    url = rows[0][4]
    path = url[url.index("/v1/exports/"):]
    r = contract.check(requests.get(srv.base + path, headers=bearer(alice)))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = contract.check(requests.get(srv.base + path, headers=bearer(srv.token())))
    assert r.status_code == 200
    cases = [
        ("/v1/exports/alice/export-none", bearer(alice), 404),
        ("/v1/exports/root/export-x", bearer(alice), 403),
        ("/v1/exports/alice/%2e%2e", bearer(alice), 400),
        (path, {}, 401),
    ]
    for p, headers, status in cases:
        r = contract.check(requests.get(srv.base + p, headers=headers))
        assert r.status_code == status, (p, r.text)


def test_file_upload_and_download(srv, contract):
    root, alice = srv.token(), srv.token("alice", "alice-pass-1")
    srv.sql("CREATE NAMESPACE IF NOT EXISTS oaf")
    srv.sql("CREATE USER TABLE oaf.docs (id INT PRIMARY KEY, doc FILE)")
    data = bytes(range(256)) * 40
    r = contract.check(requests.post(
        srv.base + "/v1/api/sql", headers=bearer(alice),
        data={"sql": "INSERT INTO oaf.docs (id, doc) VALUES (1, FILE(\"a\"))"},
        files={"file:a": ("a.bin", data, "application/octet-stream")}))
    assert r.status_code == 200, r.text
    ref = json.loads(srv.rows("SELECT doc FROM oaf.docs", user="alice",
                              password="alice-pass-1")[0][0])
    name = re.sub(r"[^a-z0-9]", "", "a") or "file"
    url = f"{srv.base}/v1/files/oaf/docs/{ref['sub']}/{ref['id']}-{name}.bin"
    got = contract.check(requests.get(url, headers=bearer(alice)))
    assert got.status_code == 200 and got.content == data
    part = contract.check(requests.get(url, headers={**bearer(alice), "Range": "bytes=0-9"}))
    assert (part.status_code, part.content) == (206, data[:10])
    same = contract.check(requests.get(url, headers={**bearer(alice),
                                                     "If-None-Match": got.headers["ETag"]}))
    assert same.status_code == 304
    bad = contract.check(requests.get(url, headers={**bearer(alice), "Range": "bytes=99999-"}))
    assert bad.status_code == 416
    assert contract.check(requests.get(url)).status_code == 401
    missing = contract.check(requests.get(url.replace(ref["id"], "1" + ref["id"]),
                                          headers=bearer(alice)))
    assert (missing.status_code, missing.json()) == (404, {"error": "File not found",
                                                           "code": "FILE_NOT_FOUND"})
    r = contract.check(requests.post(
        srv.base + "/v1/api/sql", headers=bearer(alice),
        data={"sql": "INSERT INTO oaf.docs (id, doc) VALUES (2, FILE(\"x\"))"},
        files={"file:y": ("y.bin", b"y", "application/octet-stream")}))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "MISSING_FILE")


def test_admin_console_routes(srv, contract):
    for path in ("/", "/ui"):
        r = contract.check(requests.get(srv.base + path, allow_redirects=False))
        assert (r.status_code, r.headers["Location"]) == (302, "/ui/")
    for path in ("/ui/", "/ui/sql"):
        r = contract.check(requests.get(srv.base + path))
        assert (r.status_code, r.text) == (200, "<!doctype html><title>console</title>")
    r = contract.check(requests.get(srv.base + "/ui/app.js"))
    assert (r.status_code, r.headers["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    r = contract.check(requests.get(srv.base + "/ui/nope.js"))
    assert (r.status_code, r.json()["error"]) == (404, "NOT_FOUND")
    r = contract.check(requests.get(srv.base + "/ui/a%5Cb"))
    assert (r.status_code, r.json()["error"]) == (400, "INVALID_PATH")


def test_cluster_snapshot_file_route(tmp_path, contract):
    """A one-member cluster takes shard snapshots; the route serves their files to members."""
    import socket
    from kalam_harness import free_port

    def free_range(n):
        while True:
            b = free_port()
            try:
                for p in range(b, b + n):
                    with socket.socket() as sock:
                        sock.bind(("127.0.0.1", p))
                return b
            except OSError:
                continue
    secret = "openapi-cluster-secret-0123"
    api = free_port()  # snapshots need the secret and the members' API addresses
    cfg = (CONFIG + "[server]\nnode_id = 1\n[cluster]\nnode_id = 1\n"
           f'peers = ["1=127.0.0.1:{free_range(3)}"]\nuser_shards = 1\nsnapshot_threshold = 8\n'
           f'snapshot_trailing = 4\nsecret = "{secret}"\napi_peers = ["1=127.0.0.1:{api}"]\n')
    s = Server(tmp_path / "data", port=api, config_toml=cfg).start()
    try:
        deadline = time.time() + 20
        while s.sql_raw("CREATE NAMESPACE snap").status_code != 200:
            assert time.time() < deadline, "no leader"
            time.sleep(0.1)
        s.sql("CREATE SHARED TABLE snap.t (id INT PRIMARY KEY)")
        for i in range(20):
            s.sql(f"INSERT INTO snap.t (id) VALUES ({i})")
        snaps = s.data_dir / "raft" / "snapshots" / "shared"
        while not (snaps.exists() and any(snaps.iterdir())):
            assert time.time() < deadline, "no snapshot"
            time.sleep(0.1)
        index = sorted(int(p.name) for p in snaps.iterdir())[-1]
        url = f"{s.base}/v1/api/cluster/snapshots/shared/{index}/keys.kv"
        r = contract.check(requests.get(url, headers=bearer(secret)))
        assert (r.status_code, r.content) == (200, (snaps / str(index) / "keys.kv").read_bytes())
        r = contract.check(requests.get(url))
        assert (r.status_code, r.json()["error"]) == (401, "UNAUTHORIZED")
        r = contract.check(requests.get(url.replace(f"/{index}/", "/999999/"), headers=bearer(secret)))
        assert (r.status_code, r.json()["error"]) == (404, "NOT_FOUND")
    finally:
        s.stop()


# Operations that only ever redirect: exercised with their 302 instead of a 200.
REDIRECT_ONLY = {("/", "get"), ("/ui", "get")}


def test_every_operation_was_exercised(contract):
    """Runs last in this module (pytest keeps file order): each documented operation answered
    at least one real request, and each its 200."""
    ops = {(p, m) for p, methods in load_spec()["paths"].items() for m in methods}
    exercised = {(p, m) for p, m, _ in contract.seen}
    assert ops - exercised == set()
    assert {(p, m) for p, m, s in contract.seen if s == "200"} == ops - REDIRECT_ONLY
    assert {(p, m) for p, m, s in contract.seen if s == "302"} == REDIRECT_ONLY
    assert len(contract.seen) >= 37, len(contract.seen)
