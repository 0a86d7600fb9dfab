"""FILE columns: multipart uploads through POST /v1/api/sql, downloads from /v1/files/…, every
upload error code, permissions per table type and role, and the file lifecycle (UPDATE replaces,
DROP TABLE, crash cleanup) — checked against the files on disk (docs/files.md)."""
import hashlib
import json
import os
import threading
import time

import pytest
import requests

from helpers import assert_sql_error, flush, stored_name, wait_job
from kalam_harness import DEFAULT_TEST_CONFIG, Server, serve

PW = "password123"
FILES_CONFIG = DEFAULT_TEST_CONFIG + """
[files]
max_size_bytes = 1048576
max_files_per_request = 3
max_request_bytes = 8388608
allowed_mime_types = ["image/*", "application/octet-stream", "text/plain", "application/pdf"]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory, config_toml=FILES_CONFIG)


@pytest.fixture(scope="module")
def users(server):
    server.create_user("alice", PW)
    server.create_user("bob", PW)
    server.create_user("svc", PW, role="service")
    server.create_user("admin", PW, role="dba")
    return server


_n = [0]


@pytest.fixture
def ns(server, users):
    _n[0] += 1
    name = f"f{_n[0]}"
    server.sql(f"CREATE NAMESPACE {name}")
    return name


def upload(server, sql, files=None, params=None, namespace_id=None, user="root", password=None,
           extra=None):
    """A multipart SQL request: `files` maps part name → (filename, bytes, mime or None)."""
    parts = [("sql", (None, sql))]
    if params is not None:
        parts.append(("params", (None, params if isinstance(params, str) else json.dumps(params))))
    if namespace_id is not None:
        parts.append(("namespace_id", (None, namespace_id)))
    for name, spec in (files or {}).items():
        filename, data, mime = spec
        parts.append((f"file:{name}", (filename, data, mime) if mime else (filename, data)))
    parts += extra or []
    pw = password or (PW if user != "root" else None)
    token = server.token(user, pw) if pw else server.token(user)
    return requests.post(server.base + "/v1/api/sql", files=parts,
                         headers={"Authorization": f"Bearer {token}"})


def ok(resp):
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", (resp.status_code, body)
    return body


def file_url(server, ns, table, ref, user_id=None):
    stored = stored_name(ref)
    url = f"{server.base}/v1/files/{ns}/{table}/{ref['sub']}/{stored}"
    return url + (f"?user_id={user_id}" if user_id else "")



def get(server, url, user="root", headers=None):
    pw = PW if user != "root" else None
    token = server.token(user, pw) if pw else server.token(user)
    h = {"Authorization": f"Bearer {token}"}
    h.update(headers or {})
    return requests.get(url, headers=h)


def stored_files(server, ns, table):
    root = server.data_dir / "storage" / ns / table
    out = []
    for dirpath, _, names in os.walk(root):
        for n in names:
            rel = os.path.relpath(os.path.join(dirpath, n), root)
            if "/f0" in "/" + rel:  # attachments only (not Parquet segments)
                out.append(rel)
    return sorted(out)


def spool_files(server):
    tmp = server.data_dir / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def wait_until(fn, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def ref_of(server, sql, user="root"):
    pw = PW if user != "root" else None
    rows = server.rows(sql, user=user, password=pw) if pw else server.rows(sql)
    return json.loads(rows[0][0])


# ---- round trips -------------------------------------------------------------------------------

def test_user_table_round_trip_is_binary_exact(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.docs (id INT PRIMARY KEY, doc FILE)")
    data = os.urandom(300_000) + b"\r\n--boundary-like\r\n" + bytes(range(256))
    r = upload(server, f"INSERT INTO {ns}.docs VALUES (1, FILE(\"a\"))",
               {"a": ("My Report_v2.PDF", data, "application/pdf")}, user="alice")
    assert ok(r)["results"][0]["row_count"] == 1
    raw = server.rows(f"SELECT doc FROM {ns}.docs WHERE id = 1", user="alice", password=PW)[0][0]
    ref = json.loads(raw)
    assert list(ref) == ["id", "sub", "name", "size", "mime", "sha256"]
    assert ref["sub"] == "f0001" and ref["name"] == "My Report_v2.PDF"
    assert ref["size"] == len(data) and ref["mime"] == "application/pdf"
    assert ref["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored_name(ref) == f"{ref['id']}-my-report-v2.pdf"
    assert stored_files(server, ns, "docs") == [f"alice/f0001/{stored_name(ref)}"]

    d = get(server, file_url(server, ns, "docs", ref), user="alice")
    assert d.status_code == 200, d.text
    assert hashlib.sha256(d.content).hexdigest() == ref["sha256"] and d.content == data
    assert d.headers["Content-Type"] == "application/pdf"
    assert d.headers["X-Content-Type-Options"] == "nosniff"
    assert d.headers["Content-Disposition"] == f'inline; filename="{stored_name(ref)}"'
    assert d.headers["ETag"] == f'"{ref["id"]}"'
    assert spool_files(server) == []


def test_shared_table_round_trip_params_and_sniffed_mime(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.pub (id INT PRIMARY KEY, title TEXT, img FILE) "
               f"WITH (ACCESS_LEVEL = 'PUBLIC')")
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(5000)
    r = upload(server, f"INSERT INTO pub (id, title, img) VALUES ($1, $2, file('p'))",
               {"p": ("logo.png", png, None)}, params=[7, "it's"], namespace_id=ns, user="svc")
    ok(r)
    row = server.rows(f"SELECT title, img FROM {ns}.pub WHERE id = 7")[0]
    assert row[0] == "it's"
    ref = json.loads(row[1])
    assert ref["mime"] == "image/png" and ref["size"] == len(png)
    assert stored_files(server, ns, "pub") == [f"f0001/{ref['id']}-logo.png"]
    for who in ("alice", "svc", "admin", "root"):  # PUBLIC: everyone reads
        d = get(server, file_url(server, ns, "pub", ref), user=who)
        assert d.status_code == 200 and d.content == png, (who, d.status_code)
        assert d.headers["Content-Type"] == "image/png"


def test_placeholder_text_inside_literals_stays_text(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.notes (id INT PRIMARY KEY, v TEXT, f FILE)")
    ok(upload(server, f"INSERT INTO {ns}.notes VALUES (1, 'FILE(\"x\") and PROFILE(''y'')', NULL)"))
    # JSON requests too: a placeholder only counts outside literals.
    server.sql(f"INSERT INTO {ns}.notes VALUES (2, 'FILE(\"x\")', '{{\"n\": \"file(''z'')\"}}')")
    assert server.rows(f"SELECT id, v, f FROM {ns}.notes ORDER BY id") == [
        [1, "FILE(\"x\") and PROFILE('y')", None], [2, "FILE(\"x\")", '{"n": "file(\'z\')"}']]
    assert stored_files(server, ns, "notes") == []


# ---- errors ------------------------------------------------------------------------------------

def test_every_upload_error_has_its_code_and_leaves_no_file(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.t (id INT PRIMARY KEY, f FILE, g FILE)")
    server.sql(f"CREATE STREAM TABLE {ns}.s (id INT PRIMARY KEY, f FILE) WITH (TTL_SECONDS = 30)")
    server.sql(f"CREATE SHARED TABLE {ns}.priv (id INT PRIMARY KEY, f FILE)")
    a = ("a.bin", b"x" * 10, "application/octet-stream")
    ins = f"INSERT INTO {ns}.t VALUES (1, FILE(\"a\"), NULL)"
    cases = [
        (upload(server, " ", {"a": a}), 400, "EMPTY_SQL", "SQL statement is required"),
        (upload(server, ins, {"a": a}, params="[1,"), 400, "INVALID_PARAMETER", None),
        (upload(server, ins, {"a": a}, params='{"x": 1}'), 400, "INVALID_PARAMETER",
         "Params must be a JSON array"),
        (upload(server, f"INSERT INTO {ns}.t VALUES (1, FILE(\"a\"), FILE('b'))", {"a": a}), 400,
         "MISSING_FILE", "FILE(\"b\") has no file part 'file:b'"),
        (upload(server, ins, {"a": a, "b": a}), 400, "EXTRA_FILE",
         "File part 'file:b' is not used by a FILE(\"b\") placeholder"),
        (upload(server, f"INSERT INTO {ns}.t VALUES (1, NULL, NULL)", {"a": a}), 400, "EXTRA_FILE",
         "File part 'file:a' is not used by a FILE(\"a\") placeholder"),
        (upload(server, ins, {"a": ("evil.exe", b"MZ", "application/x-msdownload")}), 400,
         "INVALID_MIME_TYPE", "MIME type 'application/x-msdownload' not allowed for file 'evil.exe'"),
        (upload(server, ins, {"a": ("big.bin", b"z" * (1048576 + 1), None)}), 400,
         "FILE_TOO_LARGE", "File 'big.bin' exceeds maximum size of 1048576 bytes"),
        (upload(server, ins, {k: a for k in "abcd"}), 400, "TOO_MANY_FILES",
         "Too many files: maximum 3 allowed"),
        (upload(server, ins + "; " + ins, {"a": a}), 400, "INVALID_INPUT",
         "File uploads require a single SQL statement"),
        (upload(server, "SELECT FILE('a')", {"a": a}), 400, "INVALID_INPUT",
         "Could not determine target table from SQL. Use fully qualified table name "
         "(namespace.table)."),
        (upload(server, f"INSERT INTO {ns}.nope VALUES (FILE('a'))", {"a": a}), 400,
         "TABLE_NOT_FOUND", f"Table '{ns}:nope' not found"),
        (upload(server, f"INSERT INTO {ns}.s VALUES (1, FILE('a'))", {"a": a}), 400,
         "INVALID_INPUT", "File uploads are not supported for stream or system tables"),
        (upload(server, f"INSERT INTO {ns}.priv VALUES (1, FILE('a'))", {"a": a}, user="alice"),
         403, "PERMISSION_DENIED", None),
    ]
    for resp, status, code, message in cases:
        err = assert_sql_error(resp, status, code, message)
        if code == "INVALID_PARAMETER" and message is None:
            assert err["message"].startswith("Invalid params JSON: "), err
    # JSON requests cannot carry placeholders.
    assert_sql_error(server.sql_raw(ins), 400, "INVALID_INPUT",
                     "FILE placeholders require multipart/form-data")
    # A malformed body.
    token = server.token()
    r = requests.post(server.base + "/v1/api/sql", data=b"--xx\r\nContent-Disposition: form-data; "
                      b"name=\"sql\"\r\n\r\nSELECT 1", headers={
                          "Authorization": f"Bearer {token}",
                          "Content-Type": "multipart/form-data; boundary=xx"})
    assert_sql_error(r, 400, "INVALID_INPUT", "Multipart parse error: missing closing boundary")
    # A statement that fails after its files were stored removes them.
    ok(upload(server, ins, {"a": a}))
    assert len(stored_files(server, ns, "t")) == 1
    dup = upload(server, ins, {"a": a})
    assert dup.status_code == 400 and dup.json()["error"]["code"] == "SQL_EXECUTION_ERROR", dup.text
    assert len(stored_files(server, ns, "t")) == 1
    for name in ("s", "priv"):
        assert stored_files(server, ns, name) == []
    assert spool_files(server) == []


def head_only(server, content_type, length):
    """Sends only a request head declaring `length` body bytes; returns (status, JSON body)."""
    import socket
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall((f"POST /v1/api/sql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token()}"
                      f"\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 10:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    return int(head.split()[1]), json.loads(body)


def test_multipart_bodies_have_their_own_limit(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.t (id INT PRIMARY KEY, a FILE, b FILE, c FILE)")
    # 3 × 900 KB: over limits.max_body_bytes (2 MiB), under files.max_request_bytes (8 MiB).
    parts = {k: (f"{k}.bin", os.urandom(900_000), None) for k in "abc"}
    ok(upload(server, f"INSERT INTO {ns}.t VALUES (1, FILE('a'), FILE('b'), FILE('c'))", parts))
    assert len(stored_files(server, ns, "t")) == 3
    status, body = head_only(server, "multipart/form-data; boundary=x", 8388609)
    assert status == 413 and body["error"] == "BODY_TOO_LARGE" and body["max_bytes"] == 8388608, body
    status, body = head_only(server, "application/json", 2097153)
    assert status == 413 and body["max_bytes"] == 2097152, body


# ---- permissions -------------------------------------------------------------------------------

def test_user_table_download_permissions(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.u (id INT PRIMARY KEY, f FILE)")
    data = os.urandom(1000)
    ok(upload(server, f"INSERT INTO {ns}.u VALUES (1, FILE('a'))",
              {"a": ("a.bin", data, None)}, user="alice"))
    ref = ref_of(server, f"SELECT f FROM {ns}.u", user="alice")
    url = file_url(server, ns, "u", ref)
    # Another user looks in their own scope: not found.
    r = get(server, url, user="bob")
    assert r.status_code == 404 and r.json() == {"error": "File not found", "code": "FILE_NOT_FOUND"}
    r = get(server, file_url(server, ns, "u", ref, user_id="alice"), user="bob")
    assert_sql_error(r, 403, "PERMISSION_DENIED", "Requested user is not allowed for the current role")
    for who in ("admin", "svc", "root"):
        r = get(server, file_url(server, ns, "u", ref, user_id="alice"), user=who)
        assert r.status_code == 200 and r.content == data, who
    r = get(server, file_url(server, ns, "u", ref, user_id="admin"), user="svc")  # service → dba: no
    assert r.status_code == 403
    assert requests.get(url).status_code == 401
    r = get(server, f"{server.base}/v1/files/{ns}/nope/f0001/1.bin")
    assert r.status_code == 404 and r.json() == {"error": f"Table '{ns}:nope' not found"}
    # dba uploads into alice's scope with EXECUTE AS USER.
    ok(upload(server, f"EXECUTE AS USER 'alice' (INSERT INTO {ns}.u VALUES (2, FILE('b')))",
              {"b": ("b.txt", b"hello", None)}, user="admin"))
    ref2 = ref_of(server, f"SELECT f FROM {ns}.u WHERE id = 2", user="alice")
    assert ref2["mime"] == "text/plain"
    assert get(server, file_url(server, ns, "u", ref2), user="alice").content == b"hello"


def test_shared_table_download_permissions(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.p (id INT PRIMARY KEY, f FILE) "
               f"WITH (ACCESS_LEVEL = 'PRIVATE')")
    server.sql(f"CREATE SHARED TABLE {ns}.d (id INT PRIMARY KEY, f FILE) WITH (ACCESS_LEVEL = 'DBA')")
    ok(upload(server, f"INSERT INTO {ns}.p VALUES (1, FILE('a'))", {"a": ("a.bin", b"p", None)},
              user="svc"))
    ok(upload(server, f"INSERT INTO {ns}.d VALUES (1, FILE('a'))", {"a": ("a.bin", b"d", None)}))
    p = ref_of(server, f"SELECT f FROM {ns}.p")
    d = ref_of(server, f"SELECT f FROM {ns}.d")
    assert_sql_error(get(server, file_url(server, ns, "p", p), user="alice"), 403,
                     "PERMISSION_DENIED", "Shared table access denied (access_level=Private)")
    assert get(server, file_url(server, ns, "p", p), user="svc").content == b"p"
    assert_sql_error(get(server, file_url(server, ns, "d", d), user="svc"), 403,
                     "PERMISSION_DENIED", "Shared table access denied (access_level=Dba)")
    assert get(server, file_url(server, ns, "d", d), user="admin").content == b"d"
    r = get(server, file_url(server, ns, "p", p, user_id="svc"), user="svc")
    assert r.status_code == 400 and r.json() == {"error": "user_id is only valid for user tables",
                                                 "code": "INVALID_INPUT"}


def test_path_tricks_are_refused(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.p (id INT PRIMARY KEY, f FILE) WITH (ACCESS_LEVEL = 'PUBLIC')")
    bad = ["f0001/..%2F..%2Fsecret.txt", "f0001/%2e%2e", "f0001/1.txt%00", "..%2Ff0001/1.txt",
           "f01/1.txt", "f0001/1.txt/x", "f0001/abc.txt", "f0001/1-A.txt", "f0001/1-a%5c.txt"]
    for tail in bad:
        r = get(server, f"{server.base}/v1/files/{ns}/p/{tail}")
        assert r.status_code == 400 and r.json() == {"error": "Invalid file path",
                                                     "code": "INVALID_INPUT"}, (tail, r.text)
    r = get(server, f"{server.base}/v1/files/{ns}/p/f0001/12345-x.txt")
    assert r.status_code == 404 and r.json()["code"] == "FILE_NOT_FOUND"


# ---- ranges and caching ------------------------------------------------------------------------

def test_ranges_etag_and_304(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.r (id INT PRIMARY KEY, f FILE)")
    data = bytes(range(256)) * 40
    ok(upload(server, f"INSERT INTO {ns}.r VALUES (1, FILE('a'))", {"a": ("r.bin", data, None)},
              user="alice"))
    ref = ref_of(server, f"SELECT f FROM {ns}.r", user="alice")
    url = file_url(server, ns, "r", ref)
    r = get(server, url, user="alice", headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    assert r.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    r = get(server, url, user="alice", headers={"Range": "bytes=-5"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = get(server, url, user="alice", headers={"Range": "bytes=10000-"})
    assert r.status_code == 206 and r.content == data[10000:]
    r = get(server, url, user="alice", headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416 and r.headers["Content-Range"] == f"bytes */{len(data)}"
    etag = get(server, url, user="alice").headers["ETag"]
    r = get(server, url, user="alice", headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    r = get(server, url, user="alice", headers={"If-None-Match": '"other"'})
    assert r.status_code == 200 and r.content == data


# ---- lifecycle ---------------------------------------------------------------------------------

def test_update_replace_null_and_soft_delete(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.l (id INT PRIMARY KEY, f FILE)")
    ok(upload(server, f"INSERT INTO {ns}.l VALUES (1, FILE('a'))", {"a": ("one.txt", b"1", None)},
              user="alice"))
    first = ref_of(server, f"SELECT f FROM {ns}.l", user="alice")
    ok(upload(server, f"UPDATE {ns}.l SET f = FILE('b') WHERE id = 1",
              {"b": ("two.txt", b"22", None)}, user="alice"))
    second = ref_of(server, f"SELECT f FROM {ns}.l", user="alice")
    assert wait_until(lambda: stored_files(server, ns, "l") == [f"alice/f0001/{stored_name(second)}"]), \
        stored_files(server, ns, "l")
    r = get(server, file_url(server, ns, "l", first), user="alice")
    assert r.status_code == 404
    # An UPDATE that does not touch the file keeps it.
    server.sql(f"ALTER TABLE {ns}.l ADD COLUMN note TEXT")
    server.sql(f"UPDATE {ns}.l SET note = 'n' WHERE id = 1", user="alice", password=PW)
    time.sleep(0.5)
    assert stored_files(server, ns, "l") == [f"alice/f0001/{stored_name(second)}"]
    # A soft delete keeps the file (the row is still readable with _deleted = true).
    server.sql(f"DELETE FROM {ns}.l WHERE id = 1", user="alice", password=PW)
    time.sleep(0.5)
    assert stored_files(server, ns, "l") == [f"alice/f0001/{stored_name(second)}"]
    # Setting the column to NULL removes the file.
    ok(upload(server, f"INSERT INTO {ns}.l (id, f) VALUES (2, FILE('c'))",
              {"c": ("three.txt", b"333", None)}, user="alice"))
    third = ref_of(server, f"SELECT f FROM {ns}.l WHERE id = 2", user="alice")
    server.sql(f"UPDATE {ns}.l SET f = NULL WHERE id = 2", user="alice", password=PW)
    assert wait_until(lambda: f"alice/f0001/{stored_name(third)}" not in stored_files(server, ns, "l"))
    assert stored_files(server, ns, "l") == [f"alice/f0001/{stored_name(second)}"]


def test_copied_fileref_keeps_the_file_alive(server, ns):
    server.sql(f"CREATE SHARED TABLE {ns}.c (id INT PRIMARY KEY, f FILE)")
    ok(upload(server, f"INSERT INTO {ns}.c VALUES (1, FILE('a'))", {"a": ("a.txt", b"aa", None)}))
    ref = ref_of(server, f"SELECT f FROM {ns}.c")
    server.sql(f"INSERT INTO {ns}.c SELECT 2, f FROM {ns}.c WHERE id = 1")
    server.sql(f"UPDATE {ns}.c SET f = NULL WHERE id = 1")
    time.sleep(0.5)
    assert stored_files(server, ns, "c") == [f"f0001/{stored_name(ref)}"]
    server.sql(f"UPDATE {ns}.c SET f = '{{\"not\": \"a FileRef\"}}' WHERE id = 2")
    assert wait_until(lambda: stored_files(server, ns, "c") == [])


def test_compaction_purging_a_tombstone_removes_its_file(server, ns):
    import re
    t = f"{ns}.pg"
    server.sql(f"CREATE SHARED TABLE {t} (id INT PRIMARY KEY, f FILE) WITH (DELETED_RETENTION_HOURS = 0)")
    for i in (1, 2):
        ok(upload(server, f"INSERT INTO {t} VALUES ({i}, FILE('a'))",
                  {"a": (f"{i}.txt", b"p" * i, None)}))
    keep = ref_of(server, f"SELECT f FROM {t} WHERE id = 2")
    server.sql(f"DELETE FROM {t} WHERE id = 1")
    flush(server, t)
    time.sleep(0.3)
    assert len(stored_files(server, ns, "pg")) == 2  # soft-deleted: still readable, file kept
    msg = server.sql(f"STORAGE COMPACT TABLE {t}")["results"][0]["message"]
    job = re.search(r"Job ID: (CO-\d+)", msg).group(1)
    assert wait_job(server, job)[0] == "completed"
    assert server.rows(f"SELECT id FROM {t} WHERE _deleted = true") == []
    assert wait_until(lambda: stored_files(server, ns, "pg") == [f"f0001/{stored_name(keep)}"]), \
        stored_files(server, ns, "pg")


def test_drop_table_removes_its_files(server, ns):
    server.sql(f"CREATE USER TABLE {ns}.gone (id INT PRIMARY KEY, f FILE)")
    for who in ("alice", "bob"):
        ok(upload(server, f"INSERT INTO {ns}.gone VALUES (1, FILE('a'))",
                  {"a": ("a.txt", b"x", None)}, user=who))
    assert len(stored_files(server, ns, "gone")) == 2
    server.sql(f"DROP TABLE {ns}.gone")
    assert wait_until(lambda: stored_files(server, ns, "gone") == []), stored_files(server, ns, "gone")


def test_kill9_during_uploads_leaves_no_orphan(tmp_path):
    config = DEFAULT_TEST_CONFIG + "[files]\nmax_size_bytes = 67108864\nmax_request_bytes = 70000000\n"
    server = Server(tmp_path / "data", config_toml=config).start()
    try:
        server.sql("CREATE NAMESPACE k")
        server.sql("CREATE SHARED TABLE k.t (id INT PRIMARY KEY, f FILE)")
        ok(upload(server, "INSERT INTO k.t VALUES (0, FILE('a'))", {"a": ("keep.bin", b"k" * 100, None)}))
        big = os.urandom(48 << 20)
        token = server.token()

        def send(i):
            try:
                requests.post(server.base + "/v1/api/sql", headers={"Authorization": f"Bearer {token}"},
                              files=[("sql", (None, f"INSERT INTO k.t VALUES ({i}, FILE('a'))")),
                                     ("file:a", ("big.bin", big))], timeout=60)
            except requests.RequestException:
                pass

        threads = [threading.Thread(target=send, args=(i,)) for i in range(1, 4)]
        for t in threads:
            t.start()
        # Kill while the bodies are being received, spooled and stored.
        wait_until(lambda: any(p.startswith("upload-") for p in spool_files(server)), timeout=20)
        time.sleep(0.2)
        server.kill9()
        for t in threads:
            t.join()
        server.start()
        rows = server.rows("SELECT id, f FROM k.t ORDER BY id")
        referenced = sorted(f"f0001/{stored_name(json.loads(f))}" for _, f in rows)
        assert stored_files(server, "k", "t") == referenced, rows
        assert spool_files(server) == []
        for _, f in rows:
            ref = json.loads(f)
            d = get(server, file_url(server, "k", "t", ref))
            assert hashlib.sha256(d.content).hexdigest() == ref["sha256"]
    finally:
        server.stop()


# ---- S3 storage --------------------------------------------------------------------------------

def _start_moto(log_dir, env=None):
    """A moto_server on a free port with the bucket kalam-files: (process, endpoint, boto3 client)."""
    import socket
    import subprocess
    import sys
    from pathlib import Path
    import boto3
    moto = Path(sys.executable).parent / "moto_server"
    assert moto.exists(), f"moto_server not found next to {sys.executable}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(log_dir / "moto.log", "wb")
    proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    endpoint = f"http://127.0.0.1:{port}"
    wait_until(lambda: _reachable(endpoint), timeout=30)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="kalamtest", aws_secret_access_key="kalamsecret")
    client.create_bucket(Bucket="kalam-files")
    return proc, endpoint, client


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    proc, endpoint, client = _start_moto(tmp_path_factory.mktemp("moto"))
    yield endpoint, client
    proc.terminate()
    proc.wait(timeout=10)


def _create_s3_storage(server, storage_id, endpoint, prefix):
    creds = json.dumps({"access_key_id": "kalamtest", "secret_access_key": "kalamsecret"})
    server.sql(f"CREATE STORAGE {storage_id} TYPE 's3' BUCKET 'kalam-files' REGION 'us-east-1' "
               f"ENDPOINT '{endpoint}' BASE_DIRECTORY 's3://kalam-files/{prefix}' "
               f"CREDENTIALS '{creds}'")


def _s3_keys(client, prefix=""):
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket="kalam-files", Prefix=prefix)
                  .get("Contents", []))


def _reachable(url):
    try:
        requests.get(url, timeout=0.5)
        return True
    except requests.RequestException:
        return False


def test_s3_storage_round_trip_and_replace(server, ns, s3):
    endpoint, client = s3
    _create_s3_storage(server, "s3files", endpoint, "p")
    server.sql(f"CREATE USER TABLE {ns}.s3t (id INT PRIMARY KEY, f FILE) WITH (STORAGE_ID = 's3files')")
    data = os.urandom(200_000)
    ok(upload(server, f"INSERT INTO {ns}.s3t VALUES (1, FILE('a'))", {"a": ("photo.jpg", data, None)},
              user="alice"))
    ref = ref_of(server, f"SELECT f FROM {ns}.s3t", user="alice")
    keys = lambda: _s3_keys(client, "p/")
    assert keys() == [f"p/{ns}/s3t/alice/f0001/{ref['id']}-photo.jpg"]
    d = get(server, file_url(server, ns, "s3t", ref), user="alice")
    assert d.status_code == 200 and d.content == data
    assert d.headers["Content-Type"] == "image/jpeg"  # no magic bytes: from the extension
    r = get(server, file_url(server, ns, "s3t", ref), user="alice", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == data[:10]
    ok(upload(server, f"UPDATE {ns}.s3t SET f = FILE('b') WHERE id = 1",
              {"b": ("next.txt", b"next", None)}, user="alice"))
    ref2 = ref_of(server, f"SELECT f FROM {ns}.s3t", user="alice")
    assert wait_until(lambda: keys() == [f"p/{ns}/s3t/alice/f0001/{ref2['id']}-next.txt"]), keys()


# ---- streaming ---------------------------------------------------------------------------------

def _rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


BIG_FILE_CONFIG = DEFAULT_TEST_CONFIG + ("[files]\nmax_size_bytes = 268435456\n"
                                         "max_request_bytes = 270000000\n"
                                         "[limits]\nrequest_timeout_secs = 120\n")


def _peak_rss_growth_mib(pid, action):
    """Runs action() while sampling the server's RSS every 5 ms: (action's result, peak growth)."""
    before = _rss_kib(pid)
    peak = [before]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_kib(pid))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = action()
    finally:
        stop.set()
        sampler.join()
    return result, (peak[0] - before) / 1024


def _big_round_trip_keeps_memory_flat(server, table, data, label):
    """Uploads `data` (200 MiB) into `table` (id INT PRIMARY KEY, f FILE) and downloads it slowly,
    asserting the server's RSS grows by less than 64 MiB each way and the bytes are exact (by
    SHA-256). Returns the FileRef."""
    pid = server.proc.pid
    r, growth_mib = _peak_rss_growth_mib(pid, lambda: upload(
        server, f"INSERT INTO {table} VALUES (1, FILE('a'))", {"a": ("big.bin", data, None)}))
    ok(r)
    print(f"{label}: peak server RSS growth during a 200 MiB upload {growth_mib:.1f} MiB")
    assert growth_mib < 64, growth_mib
    ref = ref_of(server, f"SELECT f FROM {table}")
    assert ref["size"] == len(data) and ref["sha256"] == hashlib.sha256(data).hexdigest()
    assert spool_files(server) == []
    ns, name = table.split(".")

    def download():
        # Read it in 1 MiB pieces, so a server that buffered would show it.
        digest = hashlib.sha256()
        with requests.get(file_url(server, ns, name, ref),
                          headers={"Authorization": f"Bearer {server.token()}"}, stream=True) as d:
            assert d.status_code == 200
            assert int(d.headers["Content-Length"]) == len(data)
            for chunk in d.iter_content(1 << 20):
                digest.update(chunk)
        return digest.hexdigest()

    digest, growth_mib = _peak_rss_growth_mib(pid, download)
    assert digest == ref["sha256"]
    print(f"{label}: peak server RSS growth during its 200 MiB download {growth_mib:.1f} MiB")
    assert growth_mib < 64, growth_mib
    return ref


def test_200mb_upload_and_download_keep_server_memory_flat(tmp_path):
    server = Server(tmp_path / "data", config_toml=BIG_FILE_CONFIG).start()
    try:
        server.sql("CREATE NAMESPACE big")
        server.sql("CREATE SHARED TABLE big.t (id INT PRIMARY KEY, f FILE)")
        data = os.urandom(200 << 20)
        ref = _big_round_trip_keeps_memory_flat(server, "big.t", data, "local")
        stored = server.data_dir / "storage" / "big" / "t" / "f0001" / stored_name(ref)
        assert stored.stat().st_size == len(data)
    finally:
        server.stop()


def test_200mb_s3_upload_and_download_keep_server_memory_flat(tmp_path, s3):
    endpoint, client = s3
    server = Server(tmp_path / "data", config_toml=BIG_FILE_CONFIG).start()
    try:
        _create_s3_storage(server, "bigs3", endpoint, "big")
        server.sql("CREATE NAMESPACE big")
        server.sql("CREATE SHARED TABLE big.t (id INT PRIMARY KEY, f FILE) "
                   "WITH (STORAGE_ID = 'bigs3')")
        data = os.urandom(200 << 20)
        ref = _big_round_trip_keeps_memory_flat(server, "big.t", data, "s3")
        # One object, stored whole by a multipart upload (its ETag says how many parts: 25 of 8 MiB),
        # and no unfinished upload left.
        key = f"big/big/t/f0001/{stored_name(ref)}"
        assert _s3_keys(client, "big/") == [key]
        head = client.head_object(Bucket="kalam-files", Key=key)
        assert head["ContentLength"] == len(data)
        assert head["ETag"].endswith('-25"'), head["ETag"]
        assert client.list_multipart_uploads(Bucket="kalam-files").get("Uploads", []) == []
        # Ranges are read from S3 with a Range request, across an 8 MiB part boundary.
        r = get(server, file_url(server, "big", "t", ref),
                headers={"Range": f"bytes={(8 << 20) - 5}-{(8 << 20) + 4}"})
        assert r.status_code == 206 and r.content == data[(8 << 20) - 5:(8 << 20) + 5]
        assert r.headers["Content-Range"] == f"bytes {(8 << 20) - 5}-{(8 << 20) + 4}/{len(data)}"
    finally:
        server.stop()


def test_s3_failed_multipart_upload_leaves_no_object_no_upload_and_no_row(tmp_path):
    # This moto refuses parts under 64 MiB when the upload is completed (S3 itself refuses parts
    # under 5 MiB the same way), so the multipart upload fails after all its parts were stored.
    proc, endpoint, client = _start_moto(tmp_path, {"S3_UPLOAD_PART_MIN_SIZE": str(64 << 20)})
    server = Server(tmp_path / "data", config_toml=BIG_FILE_CONFIG).start()
    try:
        _create_s3_storage(server, "stricts3", endpoint, "strict")
        server.sql("CREATE NAMESPACE big")
        server.sql("CREATE SHARED TABLE big.st (id INT PRIMARY KEY, f FILE) "
                   "WITH (STORAGE_ID = 'stricts3')")
        data = os.urandom(20 << 20)  # parts of 8, 8 and 4 MiB
        r = upload(server, "INSERT INTO big.st VALUES (1, FILE('a'))",
                   {"a": ("big.bin", data, None)})
        err = assert_sql_error(r, 500, "INTERNAL_ERROR", message_prefix=(
            f"Failed to stage file: S3 POST {endpoint}/kalam-files/strict/big/st/f0001/"))
        message = err["message"]
        assert "?uploadId=" in message and "failed: HTTP 400 EntityTooSmall" in message, message
        assert server.sql("SELECT id FROM big.st")["results"][0]["rows"] == []
        assert _s3_keys(client) == []
        assert client.list_multipart_uploads(Bucket="kalam-files").get("Uploads", []) == []
        assert spool_files(server) == []
    finally:
        server.stop()
        proc.terminate()
        proc.wait(timeout=10)
